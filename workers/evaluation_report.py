"""`fengqiao eval`'s output: labelled cases read from JSONL, the scorecard as text tables or JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from router.evaluation import POLICE_COLUMN, Miss, Scorecard, Tally
from schemas.case import LabelledCaseV1
from workers.text_table import aligned

EXCERPT_CHARS = 80
CONFUSION_COLUMNS = 4  # decided matter types shown per label, most frequent first


class CaseFileError(ValueError):
    """A case file that cannot be read: `file:line: field: message`."""


def read_cases(path: Path) -> Iterator[LabelledCaseV1]:
    """The cases of a JSONL file, in order; the first bad line stops it with its place and field."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield LabelledCaseV1.model_validate_json(line)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "(record)"
                raise CaseFileError(f"{path}:{number}: {where}: {first['msg']}") from None


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f} %" if whole else "—"


def _row(name: str, t: Tally) -> list[str]:
    return [name, str(t.cases), _pct(t.police_kept, t.police), _pct(t.diverted, t.non_police),
            _pct(t.right_town, t.with_town), str(t.wrong_town), str(t.to_review), _pct(t.forced_town, t.without_town)]


_HEADER = ["", "cases", "police kept (recall)", "non-police diverted", "right town", "wrong town", "to review",
           "placed without a known town"]


def render(card: Scorecard, source: str, worst: int) -> str:
    """The scorecard as a reader wants it: totals, per source, per label with its matter types, worst cases."""
    lines = [f"{source} — bundle {card.bundle} {card.bundle_version}, {card.total.cases} cases", ""]
    rows = [_HEADER, _row("all", card.total)]
    rows += [_row(f"  {name}", tally) for name, tally in sorted(card.by_source.items())]
    lines += aligned(rows)
    lines += ["", "by label (decided as: 警务 = kept with the police, else the matter type a town would see)"]
    confusion = [["label", "cases", "decided as"]]
    for kind, decided in sorted(card.confusion.items()):
        top = ", ".join(f"{name} {count}" for name, count in decided.most_common(CONFUSION_COLUMNS))
        rest = sum(decided.values()) - sum(c for _, c in decided.most_common(CONFUSION_COLUMNS))
        confusion.append([kind, str(card.by_kind[kind].cases), top + (f", other {rest}" if rest else "")])
    lines += aligned(confusion)
    misses = card.worst(worst)
    lines += ["", f"worst cases ({len(misses)} of {sum(len(m) for m in card.misses.values())} wrong)"]
    lines += [line for miss in misses for line in _miss(miss)]
    return "\n".join(lines)


def _miss(miss: Miss) -> list[str]:
    d, c = miss.decision, miss.case
    text = c.summary.replace("\n", " ")
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
    where = d.town_code or d.review_reason or POLICE_COLUMN
    evidence = ", ".join(f"{e.kind}:{e.text}" for e in d.resolution.evidence) if d.resolution else ""
    return [
        f"- [{miss.harm}] {c.case_id} {c.kind}: {d.outcome.value} {where}",
        f"    {excerpt}",
        f"    reason {d.classification.reason}; rules {', '.join(d.classification.rule_ids) or '—'}; "
        f"terms {', '.join(d.classification.matched_terms) or '—'}"
        + (f"; negated {', '.join(d.classification.negated_terms)}" if d.classification.negated_terms else "")
        + (f"; inside longer words {', '.join(d.classification.shielded_terms)}"
           if d.classification.shielded_terms else "")
        + (f"; outweighed {', '.join(d.classification.outweighed_terms)}"
           if d.classification.outweighed_terms else "")
        + (f"; places {evidence}" if evidence else ""),
    ]


def as_json(card: Scorecard, source: str, worst: int) -> dict[str, object]:
    """The same figures for machines."""
    return {
        "file": source,
        "bundle": card.bundle,
        "bundle_version": card.bundle_version,
        "total": card.total.figures(),
        "by_source": {k: t.figures() for k, t in sorted(card.by_source.items())},
        "by_kind": {k: t.figures() for k, t in sorted(card.by_kind.items())},
        "confusion": {k: dict(v.most_common()) for k, v in sorted(card.confusion.items())},
        "worst": [{"harm": m.harm, "case_id": m.case.case_id, "kind": m.case.kind, "outcome": m.decision.outcome.value,
                   "town_code": m.decision.town_code, "review_reason": m.decision.review_reason,
                   "reason": m.decision.classification.reason, "rule_ids": m.decision.classification.rule_ids,
                   "matched_terms": m.decision.classification.matched_terms,
                   "negated_terms": m.decision.classification.negated_terms,
                   "shielded_terms": m.decision.classification.shielded_terms,
                   "outweighed_terms": m.decision.classification.outweighed_terms,
                   "evidence": [e.text for e in m.decision.resolution.evidence] if m.decision.resolution else []}
                  for m in card.worst(worst)],
    }
