"""`fengqiao eval` and `fengqiao cases ...`: score a bundle on labelled cases, and write such cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from router.bundle import BundleError, load_bundle

cases_app = typer.Typer(help="Labelled cases for `fengqiao eval`.", no_args_is_help=True)


def _bundle(directory: Path):
    try:
        return load_bundle(directory)
    except BundleError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def eval_command(
    files: Annotated[list[Path], typer.Argument(help="JSONL files of labelled cases (docs/evaluation.md).")],
    jurisdiction: Annotated[Path, typer.Option("--jurisdiction", "-j", help="Bundle directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON scorecard per file, one per line.")] = False,
    worst: Annotated[int, typer.Option(help="How many of the worst cases to show.", min=0)] = 10,
) -> None:
    """Score the bundle's routing on labelled cases: police recall, diverted, right/wrong/forced town."""
    from router.domain.routing import Router
    from router.evaluation import evaluate
    from workers.evaluation_report import CaseFileError, read_cases, render
    from workers.evaluation_report import as_json as scorecard_json

    router = Router(_bundle(jurisdiction))
    for number, path in enumerate(files):
        if not path.is_file():
            typer.echo(f"{path}: no such file", err=True)
            raise typer.Exit(2)
        try:
            card = evaluate(router, read_cases(path))
        except CaseFileError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(scorecard_json(card, str(path), worst), ensure_ascii=False))
        else:
            typer.echo(("\n" if number else "") + render(card, str(path), worst))


@cases_app.command("generate")
def cases_generate(
    jurisdiction: Annotated[Path, typer.Option("--jurisdiction", "-j", help="Bundle directory.")],
    count: Annotated[int, typer.Option("--count", "-n", help="How many cases.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option(help="The generator's seed: the same seed writes the same cases.")] = 1,
) -> None:
    """Write the synthetic feed's records with their ground truth as labelled cases (JSONL on stdout)."""
    from workers.feedgen.cases import generated_cases

    out = sys.stdout
    for case in generated_cases(_bundle(jurisdiction), count, seed):
        out.write(case.model_dump_json())
        out.write("\n")
