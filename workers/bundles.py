"""The jurisdiction bundle a command names: loaded, or its problems on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path

import typer

from router.bundle import BundleError, read_bundle
from router.domain.jurisdiction import Jurisdiction


def bundle_or_exit(directory: Path) -> Jurisdiction:
    """Warnings go to stderr too; `fengqiao config check` also checks the calendars against the clock."""
    jurisdiction, problems = read_bundle(directory)
    if jurisdiction is None:
        typer.echo(str(BundleError(directory, problems)), err=True)
        raise typer.Exit(2)
    for problem in problems:
        typer.echo(str(problem), err=True)
    return jurisdiction
