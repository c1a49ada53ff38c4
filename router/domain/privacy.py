"""Personal data (个人信息) of callers: who may see it, and how it is masked for everyone else.

Town operators and integration accounts handle the matter and call the citizen back; the
district dispatcher does the callback (回访). Leaders, supervisors and admins see figures and
timelines, never a caller: for them names and phone numbers are masked, also inside free text.
Zero-width and bidi controls are removed, and numbers are looked for in the NFKC, ASCII-digit form
(`plain_text.folded`), so one written in full-width, Arabic-Indic or zero-width-split digits is masked
like one in ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from router.domain.lifecycle import Role
from router.domain.plain_text import folded, visible

# Those who call citizens back: the towns' operators and systems, the dispatcher, and the district operator
# who works the orders of towns not onboarded as a town's operator would.
SEES_CALLERS: frozenset[Role] = frozenset({Role.TOWN_OPERATOR, Role.INTEGRATION, Role.DISTRICT_DISPATCHER,
                                           Role.DISTRICT_OPERATOR})

# People write numbers grouped: 138-1234-5678, 138 1234 5678, 139.1234.5678, (0571)8765 4321.
_SEP = r"[-\s.]?"
PHONE = re.compile(
    rf"(?<!\d)(?P<head>(?:(?:\+|00)?86{_SEP})?1[3-9]\d){_SEP}\d{{4}}{_SEP}(?P<tail>\d{{4}})(?!\d)"  # mobile, +86
    rf"|(?<!\d)(?P<area>\(0\d{{2,3}}\)\s?|0\d{{2,3}}{_SEP})\d{{4}}{_SEP}(?P<line>\d{{3,4}})(?!\d)"  # landline
)
# 居民身份证号: 18 characters, the last may be X, or the 15 digits of the first generation, grouped or not
# (330109 19900101 123X); region and birth date are personal too.
ID_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])(?P<region>\d{{6}}){_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}(?P<tail>\d{{3}}[0-9Xx])(?![0-9A-Za-z])"
    rf"|(?<![0-9A-Za-z])(?P<region15>\d{{6}}){_SEP}\d{{6}}{_SEP}(?P<tail15>\d{{3}})(?![0-9A-Za-z])"
)


def mask_phones(text: str) -> str:
    """Every mainland phone number in `text` with its middle digits starred (138****5678), and every
    resident ID number with its birth date (330109********123X, 330109******123; the folded form is
    case-folded, so a check character x is shown as the X it stands for)."""
    text = _substituted(ID_NUMBER, visible(text), lambda m: f"{m['region']}********{m['tail'].upper()}" if m["region"]
                        else f"{m['region15']}******{m['tail15']}")
    return _substituted(PHONE, text, lambda m: f"{m['head'] or m['area']}****{m['tail'] or m['line']}")


def _substituted(pattern: re.Pattern[str], text: str, masked: Callable[[re.Match[str]], str]) -> str:
    """`pattern` matched in the folded form of `text`, each match's original characters replaced."""
    form, origin = folded(text)
    pieces, last = [], 0
    for match in pattern.finditer(form):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        pieces += [text[last:start], masked(match)]
        last = end
    return "".join(pieces) + text[last:]


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text for a role that sees no callers, zero-width and bidi controls removed: numbers masked, and each
    caller's name (王小明 → 王**)."""
    text = visible(text)
    for name in sorted({visible(n).strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return mask_phones(text)


def mask_phone(phone: str) -> str:
    """A phone field, whatever its shape: only the last four digits stay (****5678)."""
    digits = [c for c in folded(phone)[0] if c.isascii() and c.isdigit()]
    return "****" + "".join(digits[-4:]) if len(digits) > 4 else "****"


def mask_name(name: str) -> str:
    """A Chinese name keeps its surname: 张三丰 → 张**; a Latin one its initial."""
    name = name.strip()
    return f"{name[0]}{'*' * max(len(name) - 1, 1)}" if name else name


def sees_callers(role: Role) -> bool:
    return role in SEES_CALLERS
