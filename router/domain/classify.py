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

_TERM, _EXCLUSION, _CUE = "term", "exclusion", "cue"


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
class _Match:
    start: int
    end: int
    word: str


class Classifier:
    """Classifies incidents by one jurisdiction's rules; build once, call many times."""

    def __init__(self, rules: ClassificationRules) -> None:
        self._rules = rules
        self._categories: dict[str, CategoryRule] = {c.code: c for c in rules.categories}
        self._order = {r.rule_id: i for i, r in enumerate(rules.keywords)}
        self._rules_by_term: dict[str, list[KeywordRule]] = defaultdict(list)
        self._rules_by_exclusion: dict[str, list[KeywordRule]] = defaultdict(list)
        roles: dict[str, set[str]] = defaultdict(set)
        for rule in rules.keywords:
            for term in rule.terms:
                self._rules_by_term[term].append(rule)
                roles[term].add(_TERM)
            for term in rule.exclusions:
                self._rules_by_exclusion[term].append(rule)
                roles[term].add(_EXCLUSION)
        for cue in rules.negation_cues:
            roles[cue].add(_CUE)
        self._automaton = ahocorasick.Automaton()
        for word, word_roles in roles.items():
            self._automaton.add_word(word, (word, frozenset(word_roles)))
        if roles:
            self._automaton.make_automaton()
        self._breaks = frozenset(rules.clause_breaks)
        self._fillers = frozenset(rules.negation_fillers)

    def classify(self, incident: Incident) -> Classification:
        category = self._categories.get(incident.category_code or "")
        # A known code already says what it means (an `unclear` code must let the summary
        # decide, so "纠纷类警情" must not count as "纠纷"); an unknown code's name is text.
        name = incident.category_name if category is None else None
        text = f"{name or ''}\n{incident.summary}"
        terms, exclusions, cues = self._scan(text)
        negated = [m for m in terms if self._is_negated(m, cues, text)]
        live = [m for m in terms if m not in negated]
        fired = self._fired(live, {m.word for m in exclusions})
        negated_words = tuple(dict.fromkeys(m.word for m in negated))
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

    def _scan(self, text: str) -> tuple[list[_Match], list[_Match], list[_Match]]:
        terms: list[_Match] = []
        exclusions: list[_Match] = []
        cues: list[_Match] = []
        if not self._rules_by_term and not self._rules.negation_cues:
            return terms, exclusions, cues
        for end, (word, roles) in self._automaton.iter(text):
            match = _Match(end + 1 - len(word), end + 1, word)
            if _TERM in roles:
                terms.append(match)
            if _EXCLUSION in roles:
                exclusions.append(match)
            if _CUE in roles:
                cues.append(match)
        return terms, exclusions, cues

    def _is_negated(self, term: _Match, cues: list[_Match], text: str) -> bool:
        if not any(r.negatable for r in self._rules_by_term[term.word]):
            return False
        window = self._rules.negation_window
        for cue in cues:
            gap = term.start - cue.end
            between = text[cue.end : term.start]
            if 0 <= gap <= window and not self._breaks.intersection(between) and self._fillers.issuperset(between):
                return True
        return False

    def _fired(self, live: list[_Match], excluded: set[str]) -> list[tuple[KeywordRule, str]]:
        vetoed = {r.rule_id for word in excluded for r in self._rules_by_exclusion[word]}
        fired: dict[str, tuple[KeywordRule, str]] = {}
        for match in live:
            for rule in self._rules_by_term[match.word]:
                if rule.rule_id not in vetoed and rule.rule_id not in fired:
                    fired[rule.rule_id] = (rule, match.word)
        return list(fired.values())

    def _verdict(
        self,
        verdict: Verdict,
        hits: list[tuple[KeywordRule, str]],
        negated: tuple[str, ...],
        reason: str,
        confidence: float,
    ) -> Classification:
        hits = sorted(hits, key=lambda h: (PRIORITY_RANK[h[0].priority], self._order[h[0].rule_id]))
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
