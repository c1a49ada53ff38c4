"""A bundle's words (place names, street names, keywords) found in free text the same way for every script.

Words and text are compared in one form, `plain_text.folded` (NFKC, full-width to half-width, case-folded):
"BEAT 523", "Beat 523" and "ｂｅａｔ ５２３" are one alias. A word whose first (last) character is a letter or
digit of an alphabetic script matches only where the text has no such character before (after) it: "shots" is
not in "snapshots", "Beat 52" not in "Beat 523". Chinese has no spaces between words, so a word starting or
ending in an ideograph has no such boundary there; there a short name inside a longer one is the caller's
business (the resolver's place-suffix rule, the classifier's longest-word rule). Positions are in the folded
form; `plain_text.folded` gives each folded character's index in the original.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

from router.domain.plain_text import folded

V = TypeVar("V")


def match_form(text: str) -> str:
    """`text` as it is matched: the folded form, without the index back to the original."""
    return folded(text)[0]


def is_word_character(c: str) -> bool:
    """A letter or digit of a script that separates words by spaces (Latin, Cyrillic, Greek, digits...): not a
    CJK ideograph, kana or hangul, which are written without spaces."""
    return c.isalnum() and not (
        "\u2e80" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff" or c >= "\U00020000"
    )


@dataclass(frozen=True, slots=True)
class Found(Generic[V]):
    """A word found at `start`..`end` (exclusive) of the folded text; `whole` unless it lies inside a longer
    word of the text ("shots" in "snapshots")."""

    start: int
    end: int
    value: V
    whole: bool


class Terms(Generic[V]):
    """Words, each with a value, looked for in one Aho–Corasick pass; build once, search many times.

    `entries` maps each word, already in its match form (`match_form`), to its value.
    """

    def __init__(self, entries: Mapping[str, V]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word, value in entries.items():
            if word:
                self._automaton.add_word(word, (len(word), is_word_character(word[0]),
                                                is_word_character(word[-1]), value))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return not self._empty

    def every(self, form: str) -> Iterator[Found[V]]:
        """Every occurrence of every word in the folded text `form`, whole or not, overlapping ones too."""
        if self._empty:
            return
        for last, (size, open_start, open_end, value) in self._automaton.iter(form):
            start, end = last + 1 - size, last + 1
            inside = ((open_start and start > 0 and is_word_character(form[start - 1]))
                      or (open_end and end < len(form) and is_word_character(form[end])))
            yield Found(start, end, value, not inside)

    def longest(self, form: str) -> list[Found[V]]:
        """The whole words of `form`, leftmost-longest and not overlapping: where two start together the longer
        counts, and one starting inside a counted word does not."""
        found = sorted((f for f in self.every(form) if f.whole), key=lambda f: (f.start, -f.end))
        kept: list[Found[V]] = []
        reach = 0
        for f in found:
            if f.start >= reach:
                kept.append(f)
                reach = f.end
        return kept

    def in_text(self, text: str) -> bool:
        """Whether `text` (as written: it is folded here) holds one of the words, whole."""
        return not self._empty and any(f.whole for f in self.every(match_form(text)))
