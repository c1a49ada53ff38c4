"""Aligned plain-text tables for the terminal, where a CJK character takes two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from router.domain.plain_text import printable


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Each row as one line, columns padded to their widest cell and two spaces apart; control and bidi
    characters in a cell neutralised (`printable`), so a cell cannot move the cursor or reorder the line."""
    if not rows:
        return []
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(width(row[c]) for row in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
