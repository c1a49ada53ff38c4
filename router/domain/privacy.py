"""Personal data (个人信息) of callers: who may see it, and how it is masked for everyone else.

Town operators and integration accounts handle the matter and call the citizen back; the
district dispatcher does the callback (回访). Leaders, supervisors and admins see figures and
timelines, never a caller: for them names and phone numbers are masked, also inside free text.
"""

from __future__ import annotations

import re

from router.domain.lifecycle import Role

SEES_CALLERS: frozenset[Role] = frozenset({Role.TOWN_OPERATOR, Role.INTEGRATION, Role.DISTRICT_DISPATCHER})

PHONE = re.compile(
    r"(?<!\d)(?P<head>(?:(?:\+|00)?86)?1[3-9]\d)\d{4}(?P<tail>\d{4})(?!\d)"  # mobile, optional +86
    r"|(?<!\d)(?P<area>0\d{2,3}-?)\d{4}(?P<line>\d{3,4})(?!\d)"  # landline with area code
)


def mask_phones(text: str) -> str:
    """Every mainland phone number in `text` with its middle digits starred: 138****5678."""
    return PHONE.sub(lambda m: f"{m['head'] or m['area']}****{m['tail'] or m['line']}", text)


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
