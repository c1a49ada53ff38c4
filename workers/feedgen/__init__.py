"""Synthetic 110 feed records with their ground truth, for the demo feed, integration tests and the benchmark.

Deterministic from a seed and district-neutral: every place comes from the Jurisdiction. Its texts are in one
language (`texts.LANGUAGE`); a bundle whose rules are in another is refused with `UnsupportedBundle`.
"""

from workers.feedgen.generator import FeedGenerator, UnsupportedBundle
from workers.feedgen.sample import (
    DEAD_LETTER,
    MAX_RECORD_BYTES,
    OUTSIDE_JURISDICTION,
    POLICE,
    REVIEW,
    TOWN_AMBIGUOUS,
    TOWN_UNRESOLVED,
    WORK_ORDER,
    Expected,
    Sample,
)

__all__ = [
    "DEAD_LETTER",
    "MAX_RECORD_BYTES",
    "OUTSIDE_JURISDICTION",
    "POLICE",
    "REVIEW",
    "TOWN_AMBIGUOUS",
    "TOWN_UNRESOLVED",
    "WORK_ORDER",
    "Expected",
    "FeedGenerator",
    "Sample",
    "UnsupportedBundle",
]
