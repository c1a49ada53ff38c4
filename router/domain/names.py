"""A set of names or words to look for in text: whether a text contains any, whole (router.domain.terms)."""

from __future__ import annotations

from collections.abc import Iterable

from router.domain.terms import Terms, match_form


class NameSet:
    """Build once (the country has ~45,000 place names), ask many times; case- and width-insensitive."""

    def __init__(self, names: Iterable[str]) -> None:
        self._terms = Terms({match_form(name): name for name in names})

    def in_text(self, text: str) -> bool:
        """Whether `text` contains one of the names, whole ("Oak" is not in "Oakland")."""
        return self._terms.in_text(text)
