"""A set of names or words to look for in text: whether a text contains any, by one Aho–Corasick pass."""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick


class NameSet:
    """Build once (the country has ~45,000 place names), ask many times."""

    def __init__(self, names: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for name in names:
            self._automaton.add_word(name, name)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def in_text(self, text: str) -> bool:
        """Whether `text` contains one of the names."""
        return not self._empty and next(self._automaton.iter(text), None) is not None
