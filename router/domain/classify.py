"""Classifier: police / non_police / unclear, with matter type, priority and the rules that fired.

Police is the default. The evidence order (docs/classification.md):
1. a police feed category, or any police term in the text, keeps the incident with the police:
   a weak non-police word ("租金", "纠纷") never outweighs crime, violence, fraud, danger or a
   crowd;
   — unless the text is a petition to the administration (信访 / 12345 留言: "尊敬的王市长",
   "恳请政府") naming a civil matter, and none of its police rules is acute (danger to life,
   body or liberty, a mass incident): a letter asking the government to regulate 传销 is not a
   call for the police to attend; the police terms are reported as outweighed;
2. otherwise non-police terms divert it, the matter type taken from the strongest rule;
3. otherwise a non-police feed category diverts it;
4. otherwise it is unclear, and unclear goes to the police.

One Aho–Corasick pass finds every rule term, context word, exclusion, negation cue and neutral
word (words that contain a term but mean something else, and the jurisdiction's place names), in
the text's folded form (router.domain.terms: NFKC, half-width, case-folded: "loud party" is
"LOUD PARTY"). A word of an alphabetic script counts only whole ("shots" is not in "snapshots"),
and then the longest word wins: a match lying inside a longer match counts for nothing, so "撞"
inside "撞击声" or "偷" inside "偷税漏税" fires no rule. The rest is set arithmetic.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from router.domain.incident import Incident
from router.domain.jurisdiction import (
    PRIORITY_RANK,
    CategoryRule,
    ClassificationRules,
    KeywordRule,
    PetitionRegister,
    Priority,
    Verdict,
)
from router.domain.names import NameSet
from router.domain.plain_text import folded
from router.domain.terms import Terms, match_form


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
    shielded_terms: tuple[str, ...] = ()  # rule terms found only inside a longer word, so not counted
    outweighed_terms: tuple[str, ...] = ()  # police terms of a petition that asks for regulation, not help


@dataclass(frozen=True, slots=True)
class _Word:
    """Everything a matched word can mean, resolved once when the automaton is built."""

    word: str  # as the bundle first spells it
    size: int  # the length of its folded form
    as_term: tuple[KeywordRule, ...]
    as_context: tuple[str, ...]  # rule ids this word is context for
    as_exclusion: tuple[str, ...]  # rule ids this word vetoes
    is_cue: bool  # a negation or hypothesis cue before a term ("未", "一旦")
    is_after_cue: bool  # a cue after a term: a comparison or a frequency ("……有什么区别", "……频发")
    negatable: bool


_CLAUSE_BREAKS = frozenset("，。！？；：,.!?;:\n")

# Confidence by the kind of evidence: it is reported, and never used to divert on weak evidence.
_POLICE_TERMS, _CATEGORY = 0.9, 0.95
_ONE_TYPE, _SEVERAL_TYPES, _WEAK_ONLY = 0.85, 0.7, 0.6
_PETITION = 0.65


class Classifier:
    """Classifies incidents by one jurisdiction's rules; build once, call many times.

    `place_names` are neutral words too: a place is not a keyword ("火烧桥村" names no fire).
    """

    def __init__(self, rules: ClassificationRules, place_names: Iterable[str] = ()) -> None:
        self._categories: dict[str, CategoryRule] = {c.code: c for c in rules.categories}
        self._rank = {r.rule_id: (r.weak, PRIORITY_RANK[r.priority], i) for i, r in enumerate(rules.keywords)}
        self._needs_context = frozenset(r.rule_id for r in rules.keywords if r.context)
        # Every word by its folded form, and the bundle's first spelling of it for the evidence.
        spelling: dict[str, str] = {}

        def key(word: str) -> str:
            form = match_form(word)
            spelling.setdefault(form, word)
            return form

        as_term: dict[str, list[KeywordRule]] = defaultdict(list)
        as_context: dict[str, list[str]] = defaultdict(list)
        as_exclusion: dict[str, list[str]] = defaultdict(list)
        for rule in rules.keywords:
            for term in rule.terms:
                as_term[key(term)].append(rule)
            for term in rule.context:
                as_context[key(term)].append(rule.rule_id)
            for term in rule.exclusions:
                as_exclusion[key(term)].append(rule.rule_id)
        cues, after_cues = set(map(key, rules.negation_cues)), set(map(key, rules.negation_after_cues))
        words = {*as_term, *as_context, *as_exclusion, *cues, *after_cues}
        # Only the place names that contain a rule word can shield anything (of ~45,000, a few hundred).
        holding = NameSet(words)
        words |= {*map(key, rules.neutral), *(key(name) for name in place_names if holding.in_text(name))}
        entries = {}
        for word in words:
            term_rules = tuple(as_term.get(word, ()))
            entries[word] = _Word(spelling[word], len(word), term_rules, tuple(as_context.get(word, ())),
                                  tuple(as_exclusion.get(word, ())), word in cues, word in after_cues,
                                  any(r.negatable for r in term_rules))
        self._terms = Terms(entries)
        self._empty = not (as_term or as_exclusion or cues or after_cues)
        self._window = rules.negation_window
        self._fillers = frozenset(rules.negation_fillers)
        self._petition = _petition_pattern(rules.petition) if rules.petition else None

    def classify(self, incident: Incident) -> Classification:
        category = self._categories.get(incident.category_code or "")
        text = f"{_category_text(incident.category_name, category)}\n{incident.summary}"
        form, origin = folded(text)
        scan = self._scan(form)
        police = [(r, w) for r, w in scan.fired if r.verdict is Verdict.POLICE]

        non_police = [(r, w) for r, w in scan.fired if r.verdict is Verdict.NON_POLICE]
        if police:
            petition = self._petition_about(text, form, origin, police, non_police)
            if petition is not None:
                found = self._verdict(Verdict.NON_POLICE, non_police, scan, "petition", _PETITION)
                return replace(found, rule_ids=("register:petition", *found.rule_ids),
                               matched_terms=(petition, *found.matched_terms),
                               outweighed_terms=tuple(dict.fromkeys(w for _, w in police)))
            return self._verdict(Verdict.POLICE, police, scan, "police_keywords", _POLICE_TERMS)
        if category is not None and category.verdict is Verdict.POLICE:
            return self._from_category(category, scan)
        if non_police:
            types = {r.matter_type for r, _ in non_police if not r.weak}
            confidence = _WEAK_ONLY if not types else _ONE_TYPE if len(types) == 1 else _SEVERAL_TYPES
            found = self._verdict(Verdict.NON_POLICE, non_police, scan, "keywords", confidence)
            if category is not None and category.verdict is Verdict.NON_POLICE:
                return replace(found, reason="feed_category_and_keywords", confidence=_CATEGORY,
                               rule_ids=(f"category:{category.code}", *found.rule_ids))
            return found
        if category is not None and category.verdict is Verdict.NON_POLICE:
            return self._from_category(category, scan)
        reason = "no_text" if not incident.summary.strip() and category is None else "no_rule_matched"
        return Classification(verdict=Verdict.UNCLEAR, matter_type=None, priority=Priority.HIGH, reason=reason,
                              negated_terms=scan.negated, shielded_terms=scan.shielded)

    @staticmethod
    def _from_category(category: CategoryRule, scan: _Scan) -> Classification:
        return Classification(
            verdict=category.verdict,
            matter_type=category.matter_type,
            priority=category.priority,
            reason="feed_category",
            rule_ids=(f"category:{category.code}",),
            matched_terms=tuple(dict.fromkeys(w for _, w in scan.fired)),
            negated_terms=scan.negated,
            confidence=_CATEGORY,
            shielded_terms=scan.shielded,
        )

    def _scan(self, text: str) -> _Scan:
        """The rules that fire in the folded `text` (with the first term that fired each), the terms negated
        and shielded."""
        if self._empty:
            return _NOTHING
        # Longest word wins: sorted by start, longer first, a match ending inside the reach of an
        # earlier (or same-start, longer) match lies within it. Two words never share a span, so the
        # sort never compares entries. A term inside a longer word of the text ("shots" in "snapshots")
        # is shielded by it.
        found = []
        shielded: dict[str, None] = {}
        for f in self._terms.every(text):
            if f.whole:
                found.append((f.start, 1 - f.end, f.value))
            elif f.value.as_term:
                shielded[f.value.word] = None
        if len(found) > 1:
            found.sort()
        kept: list[tuple[int, _Word]] = []
        cue_ends: list[int] = []
        after_starts: list[int] = []
        vetoed: set[str] = set()
        in_context: set[str] = set()
        reach = -1
        for start, minus_end, entry in found:
            end = -minus_end
            if end <= reach:
                if entry.as_term:
                    shielded[entry.word] = None
                continue
            reach = end
            if entry.as_term:
                kept.append((start, entry))
            if entry.is_cue:
                cue_ends.append(start + entry.size)
            if entry.is_after_cue:
                after_starts.append(start)
            if entry.as_exclusion:
                vetoed.update(entry.as_exclusion)
            if entry.as_context:
                in_context.update(entry.as_context)
        fired: dict[str, tuple[KeywordRule, str]] = {}
        terms: dict[str, set[str]] = defaultdict(set)
        negated: dict[str, None] = {}
        for start, entry in kept:
            if entry.negatable and (cue_ends or after_starts) and self._negated(start, start + entry.size,
                                                                                cue_ends, after_starts, text):
                negated[entry.word] = None
                continue
            for rule in entry.as_term:
                rule_id = rule.rule_id
                if rule_id in vetoed or (rule_id in self._needs_context and rule_id not in in_context):
                    continue
                fired.setdefault(rule_id, (rule, entry.word))
                terms[rule_id].add(entry.word)
        if shielded:  # a word hidden once but counted elsewhere in the text was counted
            counted = {e.word for _, e in kept}
            shielded = {w: None for w in shielded if w not in counted}
        return _Scan(list(fired.values()), {k: len(v) for k, v in terms.items()}, tuple(negated), tuple(shielded))

    def _petition_about(self, text: str, form: str, origin: list[int], police: list[tuple[KeywordRule, str]],
                        non_police: list[tuple[KeywordRule, str]]) -> str | None:
        """The words of `text` (as written; `form` is its folded form, `origin` the way back) that make it a
        petition about a civil matter, when its police words may be outweighed: none of them acute, and a
        matter named beside them by a strong rule (who is involved, "母亲", or how, "纠纷", names no matter)."""
        if (self._petition is None or all(rule.weak for rule, _ in non_police)
                or any(rule.acute for rule, _ in police)):
            return None
        found = self._petition.search(form)
        return text[origin[found.start()]:origin[found.end() - 1] + 1] if found else None

    def _negated(self, start: int, end: int, cue_ends: list[int], after_starts: list[int], text: str) -> bool:
        """A cue ends shortly before the term with only filler characters between ("没有人受伤"), or an
        after-cue starts shortly after it within the same clause ("敲诈勒索有什么区别", "打人事件频发")."""
        for cue_end in cue_ends:
            if 0 <= start - cue_end <= self._window and self._fillers.issuperset(text[cue_end:start]):
                return True
        for cue_start in after_starts:
            if 0 <= cue_start - end <= self._window and not _CLAUSE_BREAKS.intersection(text[end:cue_start]):
                return True
        return False

    def _verdict(self, verdict: Verdict, hits: list[tuple[KeywordRule, str]], scan: _Scan, reason: str,
                 confidence: float) -> Classification:
        """The verdict with its rules, strongest first: a strong rule before a weak one, then the rule
        with more distinct terms in the text, then the bundle's priority and file order."""
        if len(hits) > 1:
            rank, terms = self._rank, scan.terms
            hits = sorted(hits, key=lambda h: (rank[h[0].rule_id][0], -terms[h[0].rule_id], rank[h[0].rule_id][1:]))
        best = hits[0][0]
        return Classification(
            verdict=verdict,
            matter_type=best.matter_type,
            priority=best.priority,
            reason=reason,
            rule_ids=tuple(r.rule_id for r, _ in hits),
            matched_terms=tuple(dict.fromkeys(w for _, w in hits)),
            negated_terms=scan.negated,
            confidence=confidence,
            shielded_terms=scan.shielded,
        )


def _category_text(name: str | None, category: CategoryRule | None) -> str:
    """The feed's category name, read as text like the summary ("纠纷类警情-邻里纠纷" names 邻里纠纷),
    less the bundle's own name for a known code: that name says no more than the code, and an
    `unclear` code must let the summary decide ("纠纷类警情" alone must not count as "纠纷")."""
    if not name:
        return ""
    return name.replace(category.name, " ") if category is not None else name


def _petition_pattern(register: PetitionRegister) -> re.Pattern[str]:
    """An opener before a title in the same clause ("尊敬的王市长"), a title addressed ("李书记：",
    "领导您好"), or a request to one ("恳请政府")."""
    def alternatives(words: tuple[str, ...]) -> str:
        return "|".join(map(re.escape, sorted({match_form(w) for w in words}, key=len, reverse=True)))
    titles = f"(?:{alternatives(register.titles)})"
    forms = [rf"{titles}们?\s*[：:]", rf"{titles}们?[，,\s]*[您你]好"]
    if register.openers:
        forms.append(rf"(?:{alternatives(register.openers)})[^，。！？；,.!?;\n]{{0,12}}?{titles}")
    if register.requests:
        forms.append(rf"(?:{alternatives(register.requests)})[省市县区镇乡]?{titles}")
    return re.compile("|".join(forms))


@dataclass(frozen=True, slots=True)
class _Scan:
    fired: list[tuple[KeywordRule, str]]  # each rule that fired, with the first of its terms found
    terms: dict[str, int]  # distinct terms found per rule that fired
    negated: tuple[str, ...]
    shielded: tuple[str, ...]


_NOTHING = _Scan([], {}, (), ())
