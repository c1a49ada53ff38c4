"""A problem found in a bundle, located by file, line and field.

An error refuses the bundle (the worker does not start, `config check` exits 1); a warning is
printed and the bundle loads (docs/jurisdiction.md lists which is which).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a bundle, located as precisely as the format allows."""

    file: str
    line: int | None
    field: str | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        message = f"warning: {self.message}" if self.warning else self.message
        return f"{where}: {self.field}: {message}" if self.field else f"{where}: {message}"


def warning(file: str, line: int | None, field: str | None, message: str) -> Problem:
    return Problem(file, line, field, message, warning=True)
