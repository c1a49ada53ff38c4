"""The jurisdiction bundle a command names: loaded, or its problems on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path

import typer

from router.bundle import BundleError, load_bundle
from router.domain.jurisdiction import Jurisdiction


def bundle_or_exit(directory: Path) -> Jurisdiction:
    try:
        return load_bundle(directory)
    except BundleError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
