"""Classifier: police / non_police / unclear, with matter type, priority and the rules that fired.

One Aho–Corasick pass over the text finds every rule term, exclusion and negation cue;
the rest is set arithmetic over those matches. Police evidence always wins: a wage
dispute with a knife in it is a police matter, and anything unclear goes to police.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import ahocorasick

from router.domain.incident import Incident
from router.domain.jurisdiction import (
    PRIORITY_RANK,
    CategoryRule,
    ClassificationRules,
    KeywordRule,
    Priority,
    Verdict,
)


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict and the evidence for it."""

    verdict: Verdict
    matter_type: str | None
    priority: Priority
    reason: str
    rule_ids: tuple[str, ...] = ()
    matched_terms: tuple[str, ...] = ()
    negated_terms: tuple[str, ...] = ()
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class _Word:
    """Everything a matched word can mean, resolved once when the automaton is built."""

    word: str
    as_term: tuple[KeywordRule, ...]
    as_exclusion: tuple[KeywordRule, ...]
    is_cue: bool
    negatable: bool


class Classifier:
    """Classifies incidents by one jurisdiction's rules; build once, call many times."""

    def __init__(self, rules: ClassificationRules) -> None:
        self._rules = rules
        self._categories: dict[str, CategoryRule] = {c.code: c for c in rules.categories}
        self._rank = {r.rule_id: (PRIORITY_RANK[r.priority], i) for i, r in enumerate(rules.keywords)}
        as_term: dict[str, list[KeywordRule]] = defaultdict(list)
        as_exclusion: dict[str, list[KeywordRule]] = defaultdict(list)
        for rule in rules.keywords:
            for term in rule.terms:
                as_term[term].append(rule)
            for term in rule.exclusions:
                as_exclusion[term].append(rule)
        cues = set(rules.negation_cues)
        self._automaton = ahocorasick.Automaton()
        for word in {*as_term, *as_exclusion, *cues}:
            term_rules = tuple(as_term.get(word, ()))
            entry = _Word(word, term_rules, tuple(as_exclusion.get(word, ())), word in cues,
                          any(r.negatable for r in term_rules))
            self._automaton.add_word(word, entry)
        self._empty = not (as_term or as_exclusion or cues)
        if not self._empty:
            self._automaton.make_automaton()
        self._window = rules.negation_window
        self._fillers = frozenset(rules.negation_fillers)

    def classify(self, incident: Incident) -> Classification:
        category = self._categories.get(incident.category_code or "")
        # A known code already says what it means (an `unclear` code must let the summary
        # decide, so "纠纷类警情" must not count as "纠纷"); an unknown code's name is text.
        name = incident.category_name if category is None else None
        text = f"{name or ''}\n{incident.summary}"
        fired, negated_words = self._scan(text)
        police = [(r, w) for r, w in fired if r.verdict is Verdict.POLICE]

        if police:
            return self._verdict(Verdict.POLICE, police, negated_words, "police_keywords", 0.9)
        if category is not None and category.verdict is Verdict.POLICE:
            return self._from_category(category, fired, negated_words)
        non_police = [(r, w) for r, w in fired if r.verdict is Verdict.NON_POLICE]
        if non_police:
            # The text names the matter more precisely than a generic non-police category.
            types = {r.matter_type for r, _ in non_police}
            found = self._verdict(Verdict.NON_POLICE, non_police, negated_words, "keywords",
                                  0.85 if len(types) == 1 else 0.6)
            if category is not None and category.verdict is Verdict.NON_POLICE:
                return replace(found, reason="feed_category_and_keywords", confidence=0.95,
                               rule_ids=(f"category:{category.code}", *found.rule_ids))
            return found
        if category is not None and category.verdict is Verdict.NON_POLICE:
            return self._from_category(category, fired, negated_words)
        reason = "no_text" if not incident.summary.strip() and category is None else "no_rule_matched"
        return Classification(
            verdict=Verdict.UNCLEAR,
            matter_type=None,
            priority=Priority.HIGH,
            reason=reason,
            negated_terms=negated_words,
        )

    @staticmethod
    def _from_category(
        category: CategoryRule, fired: list[tuple[KeywordRule, str]], negated: tuple[str, ...]
    ) -> Classification:
        return Classification(
            verdict=category.verdict,
            matter_type=category.matter_type,
            priority=category.priority,
            reason="feed_category",
            rule_ids=(f"category:{category.code}",),
            matched_terms=tuple(dict.fromkeys(w for _, w in fired)),
            negated_terms=negated,
            confidence=0.95,
        )

    def _scan(self, text: str) -> tuple[list[tuple[KeywordRule, str]], tuple[str, ...]]:
        """The rules that fire (with the term that fired each) and the terms negated."""
        if self._empty:
            return [], ()
        matches: list[tuple[int, _Word]] = []
        cue_ends: list[int] = []
        vetoed: set[str] = set()
        for end, entry in self._automaton.iter(text):
            start = end + 1 - len(entry.word)
            if entry.is_cue:
                cue_ends.append(end + 1)
            if entry.as_exclusion:
                vetoed.update(r.rule_id for r in entry.as_exclusion)
            if entry.as_term:
                matches.append((start, entry))
        fired: dict[str, tuple[KeywordRule, str]] = {}
        negated: dict[str, None] = {}
        for start, entry in matches:
            if entry.negatable and cue_ends and self._negated(start, cue_ends, text):
                negated[entry.word] = None
                continue
            for rule in entry.as_term:
                if rule.rule_id not in vetoed and rule.rule_id not in fired:
                    fired[rule.rule_id] = (rule, entry.word)
        return list(fired.values()), tuple(negated)

    def _negated(self, start: int, cue_ends: list[int], text: str) -> bool:
        """A cue ends shortly before the term, with only filler characters between ("没有人受伤")."""
        for cue_end in cue_ends:
            if 0 <= start - cue_end <= self._window and self._fillers.issuperset(text[cue_end:start]):
                return True
        return False

    def _verdict(
        self,
        verdict: Verdict,
        hits: list[tuple[KeywordRule, str]],
        negated: tuple[str, ...],
        reason: str,
        confidence: float,
    ) -> Classification:
        if len(hits) > 1:
            rank = self._rank
            hits = sorted(hits, key=lambda h: rank[h[0].rule_id])
        best = hits[0][0]
        return Classification(
            verdict=verdict,
            matter_type=best.matter_type,
            priority=best.priority,
            reason=reason,
            rule_ids=tuple(r.rule_id for r, _ in hits),
            matched_terms=tuple(dict.fromkeys(w for _, w in hits)),
            negated_terms=negated,
            confidence=confidence,
        )
