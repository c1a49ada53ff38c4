"""Text as a reader sees it: one form for every way of writing the same digits, and nothing that steers a
display (bidi overrides, terminal escapes) left in what is shown.
"""

from __future__ import annotations

import unicodedata

# Invisible, yet they split a number (139\u200b1234…) or reorder what a screen shows (U+202E).
ZERO_WIDTH = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = {ord(c): None for c in ZERO_WIDTH + BIDI_CONTROLS}


def visible(text: str) -> str:
    """`text` without zero-width characters and bidi controls."""
    return text.translate(_INVISIBLE)


def folded(text: str) -> tuple[str, list[int]]:
    """`text` in the one form it is searched in: each character in NFKC (full-width １３９ → 139, Ａ → A),
    case-folded (BEAT → beat, Straße → strasse) and every decimal digit as ASCII (Arabic-Indic ١٣٩ → 139), and
    for each folded character the index of the one it came from. Numbers are found in the folded form and masked
    in the original, whose full-width punctuation stays as written; place names and keywords are matched in it
    (router.domain.terms), and what they report points back at the original through the same indices."""
    chars: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        digit = unicodedata.decimal(c, None)
        # Case folding can undo NFKC (a folded ligature), hence NFKC again after it.
        form = str(digit) if digit is not None else unicodedata.normalize(
            "NFKC", unicodedata.normalize("NFKC", c).casefold())
        for f in form:
            chars.append(f)
            origin.append(i)
    return "".join(chars), origin


def printable(text: str) -> str:
    """`text` for a terminal cell: C0 and C1 control characters (escape sequences' lead-in included) become a
    space, zero-width and bidi controls are removed."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in visible(text))
