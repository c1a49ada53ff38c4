"""Personal data (个人信息) of callers: who may see it, and how it is masked for everyone else.

Town operators and integration accounts handle the matter and call the citizen back; the
district dispatcher does the callback (回访). Leaders, supervisors and admins see figures and
timelines, never a caller: for them names and phone numbers are masked, also inside free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from router.domain.lifecycle import Role

# Those who call citizens back: the towns' operators and systems, the dispatcher, and the district operator
# who works the orders of towns not onboarded as a town's operator would.
SEES_CALLERS: frozenset[Role] = frozenset({Role.TOWN_OPERATOR, Role.INTEGRATION, Role.DISTRICT_DISPATCHER,
                                           Role.DISTRICT_OPERATOR})

# People write numbers grouped: 138-1234-5678, 138 1234 5678, 0571 8234 5678.
PHONE = re.compile(
    r"(?<!\d)(?P<head>(?:(?:\+|00)?86[-\s]?)?1[3-9]\d)[-\s]?\d{4}[-\s]?(?P<tail>\d{4})(?!\d)"  # mobile, +86
    r"|(?<!\d)(?P<area>0\d{2,3}[-\s]?)\d{4}[-\s]?(?P<line>\d{3,4})(?!\d)"  # landline with area code
)
# 居民身份证号: 18 characters, the last may be X; region and birth date are personal too.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?P<region>\d{6})\d{8}(?P<tail>\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_phones(text: str) -> str:
    """Every mainland phone number in `text` with its middle digits starred (138****5678), and every
    resident ID number with its birth date (330109********123X)."""
    text = ID_NUMBER.sub(lambda m: f"{m['region']}********{m['tail']}", text)
    return PHONE.sub(lambda m: f"{m['head'] or m['area']}****{m['tail'] or m['line']}", text)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text for a role that sees no callers: numbers masked, and each caller's name (王小明 → 王**)."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return mask_phones(text)


def mask_phone(phone: str) -> str:
    """A phone field, whatever its shape: only the last four digits stay (****5678)."""
    digits = [c for c in phone if c.isdigit()]
    return "****" + "".join(digits[-4:]) if len(digits) > 4 else "****"


def mask_name(name: str) -> str:
    """A Chinese name keeps its surname: 张三丰 → 张**; a Latin one its initial."""
    name = name.strip()
    return f"{name[0]}{'*' * max(len(name) - 1, 1)}" if name else name


def sees_callers(role: Role) -> bool:
    return role in SEES_CALLERS
