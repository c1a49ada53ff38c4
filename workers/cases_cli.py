"""`fengqiao eval` and `fengqiao cases ...`: score a bundle on labelled cases, and write such cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from workers.bundles import bundle_or_exit

# `cases generate`'s exit code when the generator has no texts in the bundle's language: `make eval` tells it
# from a failure and evaluates the bundle's own cases alone.
NO_TEXTS_FOR_BUNDLE = 3

cases_app = typer.Typer(help="Labelled cases for `fengqiao eval`.", no_args_is_help=True)


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

    router = Router(bundle_or_exit(jurisdiction))
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


@cases_app.command("export")
def cases_export(
    since: Annotated[str | None, typer.Option(help="Corrections from this local date on (YYYY-MM-DD).")] = None,
) -> None:
    """Write the loop's corrections (改派 for 非本镇街辖区, 转派, 撤单 for 属警务事项) and the district's review
    decisions (定位派单, 并单, 转警务) as labelled cases (JSONL)."""
    from datetime import date, datetime

    from router.store.corrections import POLICE, corrections, reviews_decided
    from router.store.database import make_engine
    from workers.settings import Settings

    settings = Settings()
    jurisdiction = bundle_or_exit(settings.jurisdiction)
    zone = jurisdiction.loop.calendar.timezone if jurisdiction.loop else None
    try:
        start = datetime.combine(date.fromisoformat(since), datetime.min.time(), zone) if since else None
    except ValueError:
        raise typer.BadParameter(f"not a date: {since!r} (YYYY-MM-DD)", param_hint="--since") from None
    misroutes = jurisdiction.loop.lifecycle.misroutes if jurisdiction.loop else {}
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            found, decided = corrections(conn, misroutes, start), reviews_decided(conn, start)
    finally:
        engine.dispose()
    cases = [_case(f"{c.order_id}-{c.action}-{c.corrected_at:%Y%m%d%H%M%S}", c.summary, c.address,
                   None if c.misroute == POLICE else c.to_town, f"loop/{c.rule_id}", c.decision) for c in found]
    cases += [_case(f"{d.review_id}-{d.outcome}", d.summary, d.address, None if d.outcome == "police" else d.town_code,
                    f"review/{d.reason}", d.decision) for d in decided]
    for case in cases:
        sys.stdout.write(case.model_dump_json())
        sys.stdout.write("\n")


def _case(case_id: str, summary: str, address: str, town: str | None, kind: str, decided: object):
    """A labelled case: police when no town is given, else a work order of `town` (phones masked)."""
    from router.domain.privacy import mask_phones
    from schemas.case import LabelledCaseV1

    police = town is None
    return LabelledCaseV1(case_id=case_id, summary=mask_phones(summary), address=mask_phones(address),
                          expect_class="police" if police else "non_police", expect_town_code=town,
                          expect_where="police" if police else "work_order", kind=kind, decided=decided)


@cases_app.command("generate")
def cases_generate(
    jurisdiction: Annotated[Path, typer.Option("--jurisdiction", "-j", help="Bundle directory.")],
    count: Annotated[int, typer.Option("--count", "-n", help="How many cases.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option(help="The generator's seed: the same seed writes the same cases.")] = 1,
) -> None:
    """Write the synthetic feed's records with their ground truth as labelled cases (JSONL on stdout); exit 3,
    writing nothing, for a bundle in a language the generator has no texts in."""
    from workers.feedgen import UnsupportedBundle
    from workers.feedgen.cases import generated_cases

    out = sys.stdout
    try:
        for case in generated_cases(bundle_or_exit(jurisdiction), count, seed):
            out.write(case.model_dump_json())
            out.write("\n")
    except UnsupportedBundle as error:
        typer.echo(f"fengqiao: {error}", err=True)
        raise typer.Exit(NO_TEXTS_FOR_BUNDLE) from None
