"""The `fengqiao` command line: worker, embedded run, offline routing, replay, schemas, bundles."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from router.bundle import read_bundle
from workers.audit_cli import audit_app, record_admin
from workers.bundles import bundle_or_exit
from workers.cases_cli import cases_app, eval_command
from workers.orders_cli import orders_app

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="Fengqiao (枫桥): routes non-police incidents to town command centres.", no_args_is_help=True,
                  pretty_exceptions_enable=False)  # main() says what went wrong; --debug for the traceback
schema_app = typer.Typer(help="Wire contracts.", no_args_is_help=True)
config_app = typer.Typer(help="Jurisdiction bundles.", no_args_is_help=True)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(config_app, name="config")
users_app = typer.Typer(help="Accounts of the API and console.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(orders_app, name="orders")
app.add_typer(cases_app, name="cases")
app.add_typer(audit_app, name="audit")
app.command("eval")(eval_command)


def _settings(**overrides: object):
    from workers.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _now(settings) -> datetime:
    """The configured clock (accelerated in tests and demos), read once per command."""
    from workers.clock import configured_clock

    return configured_clock(settings)()


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write the JSON Schema of every contract into DIRECTORY."""
    from schemas.export import export_schemas

    for path in export_schemas(directory):
        typer.echo(path)


@schema_app.command("openapi")
def schema_openapi(path: Path) -> None:
    """Write the HTTP API's OpenAPI document to PATH (docs/openapi.json in the repository)."""
    from api.openapi import export

    typer.echo(export(path))


@config_app.command("check")
def config_check(directory: Path) -> None:
    """Validate a jurisdiction bundle: file:line: field: message per problem; exit 1 on an error, not a warning."""
    j, problems = read_bundle(directory, year=_now(_settings()).year)
    for problem in problems:
        typer.echo(str(problem), err=True)
    errors = sum(not p.warning for p in problems)
    if j is None:
        typer.echo(f"{errors} errors, {len(problems) - errors} warnings in {directory}", err=True)
        raise typer.Exit(1)
    onboarded = sum(t.onboarded for t in j.towns)
    typer.echo(
        f"ok: {j.name} {j.version}: {len(j.towns)} towns ({onboarded} onboarded), {len(j.villages)} villages, "
        f"{len(j.rules.keywords)} keyword rules, {len(j.rules.categories)} categories, {len(j.outside)} outside "
        f"places, {len(j.streets)} streets" + (f"; {len(problems)} warnings" if problems else "")
    )
    if j.loop is not None:
        years = ", ".join(str(y) for y in sorted(j.loop.calendar.years))
        loop = j.loop
        typer.echo(f"    {len(loop.sla.policies)} SLA policies, {len(loop.lifecycle.return_reasons)} return reasons, "
                   f"calendar years {years}")


@db_app.command("upgrade")
def db_upgrade(
    runtime_role: Annotated[str | None, typer.Option(
        "--grant-runtime", metavar="ROLE",
        help="Then grant ROLE what the worker and the API need (as `db grant-runtime`): the deployment's "
             "migration job runs both as the owner in one step.")] = None,
) -> None:
    """Apply database migrations (FENGQIAO_DATABASE_URL, default SQLite under the data directory)."""
    from router.store.database import make_engine
    from router.store.migrate import upgrade

    settings = _settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    typer.echo(f"database at head: {settings.db_url.split('@')[-1]}")
    if runtime_role is not None:
        _grant_runtime(engine, runtime_role)


@db_app.command("grant-runtime")
def db_grant_runtime(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the worker and the API connect as.")],
    sql: Annotated[bool, typer.Option("--sql", help="Print the statements instead of applying them.")] = False,
) -> None:
    """Grant ROLE what the worker and the API need and no more (audit tables: SELECT and INSERT only); run as the
    owner after every `db upgrade` (docs/security.md)."""
    from router.store.database import make_engine
    from router.store.roles import runtime_grants

    if sql:
        typer.echo(";\n".join(runtime_grants(role)) + ";")
        return
    _grant_runtime(make_engine(_settings().db_url), role)


def _grant_runtime(engine: Engine, role: str) -> None:
    from router.store.roles import UnfitRuntimeRole, grant_runtime

    try:
        with engine.begin() as conn:
            statements = grant_runtime(conn, role)
    except UnfitRuntimeRole as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"granted {role}: {len(statements)} statements")


@app.command()
def route(
    jurisdiction: Annotated[Path, typer.Option("--jurisdiction", "-j", help="Bundle directory.")],
    file: Annotated[str, typer.Argument(help="JSONL incident file, or - for standard input.")] = "-",
    with_deadlines: Annotated[bool, typer.Option(
        "--with-deadlines", help="Add to each decision that opens a work order the SLA deadlines it would get "
                                 "(签收, 反馈, 办结) from its received_at on the bundle's calendar.")] = False,
) -> None:
    """Route incidents offline: one JSON decision line out per JSON line in."""
    from router.domain.routing import Router
    from workers.offline import route_lines

    router = Router(bundle_or_exit(jurisdiction))
    settings = _settings()
    source = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - closed below
    out = sys.stdout
    try:
        for line in route_lines(source, router, _now(settings), settings.max_record_bytes, with_deadlines):
            out.write(line)
            out.write("\n")
    finally:
        if source is not sys.stdin.buffer:
            source.close()


@app.command("route-diff")
def route_diff(
    old: Annotated[Path, typer.Argument(help="The bundle in use.")],
    new: Annotated[Path, typer.Argument(help="The changed bundle.")],
    file: Annotated[Path, typer.Argument(help="JSONL incident file, e.g. last month's feed.")],
) -> None:
    """Which records NEW routes differently from OLD (verdict, outcome, town, matter type, priority): one line
    per changed record, then the count. Run it before switching a rule change on."""
    from router.domain.routing import Router
    from workers.offline import diff_lines

    before, after = Router(bundle_or_exit(old)), Router(bundle_or_exit(new))
    lines = file.read_bytes().splitlines()
    for line in diff_lines(lines, before, after, _settings().max_record_bytes):
        typer.echo(line)


@app.command()
def replay(
    file: Path,
    rate: Annotated[float, typer.Option(help="Records per second; 0 sends as fast as possible.")] = 0.0,
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap; default FENGQIAO_BOOTSTRAP_SERVERS.")] = None,
) -> None:
    """Publish a JSONL or CSV incident file to the feed topic."""
    from workers.kafka_security import client_kwargs
    from workers.replay import replay as send_file

    settings = _settings(bootstrap_servers=bootstrap)
    sent = send_file(file, settings.kafka_servers, settings.topics.incidents, rate,
                     security=client_kwargs(settings))
    typer.echo(f"sent {sent} records to {settings.topics.incidents}")


@app.command()
def worker() -> None:
    """Run the routing worker against FENGQIAO_BOOTSTRAP_SERVERS."""
    from workers.run import run_worker

    run_worker(_settings())


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Feed realistic Xiaoshan demo incidents.")] = True,
) -> None:
    """The embedded default: Tansu broker (unless one is configured), SQLite, worker and demo feed."""
    from workers.run import run_embedded

    run_embedded(_settings(), demo=demo)


@app.command()
def api() -> None:
    """Serve the HTTP API and web console on FENGQIAO_API_HOST:FENGQIAO_API_PORT against the database."""
    from router.store.database import make_engine
    from workers import logs
    from workers.api_server import run_api
    from workers.waiting import upgrade_when_reachable

    settings = _settings()
    logs.configure(settings.log_level)
    engine = make_engine(settings.db_url)
    upgrade_when_reachable(engine)
    run_api(settings, bundle_or_exit(settings.jurisdiction), engine)


def _identity(settings):
    from api.identity import Identity, LoginPolicy
    from router.store.database import make_engine
    from router.store.migrate import upgrade

    engine = make_engine(settings.db_url)
    upgrade(engine)
    return engine, Identity(engine.begin, LoginPolicy())


def _new_password(prompt: str, user_id: str, accept) -> object:
    """Ask for a password twice and hand it to `accept`; a weak one is refused with the policy's reasons."""
    from api.identity import WeakPassword

    try:
        return accept(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))
    except WeakPassword as weak:
        typer.echo(f"password refused for {user_id}: " + "；".join(weak.problems), err=True)
        raise typer.Exit(1) from None


@users_app.command("add")
def users_add(
    user_id: str,
    role: Annotated[str, typer.Option(help="town_operator, town_leader, district_dispatcher, district_supervisor, "
                                           "district_operator (区中心值班员: works towns not onboarded), admin or "
                                           "integration.")],
    unit: Annotated[str, typer.Option(help="Town code, or the district centre's code for district roles and for "
                                           "the district's own integration (its 110 feed over HTTP).")],
    name: Annotated[str, typer.Option(help="Display name (姓名/岗位).")],
) -> None:
    """Create an account under its normalised name (NFKC, case-folded, trimmed); people are asked for a
    password (at least 12 characters, not containing the name, not a common one), integration accounts get
    tokens instead."""
    from api.identity import NameTaken
    from router.domain.lifecycle import TOWN_ROLES, Role
    from router.store import accounts

    try:
        role_ = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}", param_hint="--role") from None
    settings = _settings()
    jurisdiction = bundle_or_exit(settings.jurisdiction)
    towns = jurisdiction.town_by_code
    district_feed = role_ is Role.INTEGRATION and unit == jurisdiction.district_centre.code  # incidents.submit
    if role_ in TOWN_ROLES and unit not in towns and not district_feed:
        raise typer.BadParameter(f"{role} needs a town code of {jurisdiction.name}, not {unit!r}", param_hint="--unit")
    if role_ not in TOWN_ROLES and unit != jurisdiction.district_centre.code:
        raise typer.BadParameter(f"{role} belongs to the district centre {jurisdiction.district_centre.code}",
                                 param_hint="--unit")
    engine, identity = _identity(settings)
    now = _now(settings)

    def taken() -> typer.Exit:
        typer.echo(f"user {user_id} exists already (names are compared normalised)", err=True)
        return typer.Exit(1)

    def create(password: str | None) -> str:
        try:
            return identity.add_user(user_id, name, role_, unit, password, now)
        except NameTaken:
            raise taken() from None

    with engine.connect() as conn:
        if accounts.user(conn, user_id) is not None:  # before asking for a password in vain
            raise taken()
    created = create(None) if role_ is Role.INTEGRATION else _new_password("password", user_id, create)
    with engine.begin() as conn:
        record_admin(conn, "users.add", created, now)
    typer.echo(f"created {created} ({role}, {unit})")


def _issue(user_id: str, name: str, days: int | None, rotate: bool) -> None:
    from datetime import timedelta

    settings = _settings()
    engine, identity = _identity(settings)
    try:
        token = identity.issue_token(user_id, name, _now(settings), timedelta(days=days or settings.token_days),
                                     rotate=rotate)
    except KeyError:
        typer.echo(f"no user {user_id}", err=True)
        raise typer.Exit(1) from None
    with engine.begin() as conn:
        record_admin(conn, "users.rotate_token" if rotate else "users.issue_token", user_id, _now(settings))
    typer.echo(token)


_TOKEN_NAME = Annotated[str, typer.Option(help="What the token is for; rotation replaces the tokens of this name.")]
_TOKEN_DAYS = Annotated[int | None, typer.Option(min=1, max=3650, help="Days it is valid (FENGQIAO_TOKEN_DAYS, 90).")]


@users_app.command("issue-token")
def users_issue_token(user_id: str, name: _TOKEN_NAME = "cli", days: _TOKEN_DAYS = None) -> None:
    """Issue a bearer token for USER_ID that expires after --days; printed once, stored only as a hash."""
    _issue(user_id, name, days, rotate=False)


@users_app.command("rotate-token")
def users_rotate_token(user_id: str, name: _TOKEN_NAME = "cli", days: _TOKEN_DAYS = None) -> None:
    """Issue a new token for USER_ID and revoke its other live tokens of the same --name, at once."""
    _issue(user_id, name, days, rotate=True)


@users_app.command("list")
def users_list() -> None:
    """Every account with its role, unit, whether it must change its password and whether it is disabled."""
    from router.store import accounts
    from workers.text_table import aligned

    engine, _ = _identity(_settings())
    with engine.connect() as conn:
        rows = [["user", "name", "role", "unit", "must change password", "disabled"]]
        rows += [[u["user_id"], u["display_name"], u["role"], u["unit_code"],
                  "yes" if u["password_change_required"] else "", "yes" if u["disabled"] else ""]
                 for u in accounts.all_users(conn)]
    typer.echo("\n".join(aligned(rows)))


def _existing_user(conn, user_id: str):
    """The account row USER_ID names (in any form that normalises to its name); unknown → a message and exit 1."""
    from router.store import accounts

    row = accounts.user(conn, user_id)
    if row is None:
        typer.echo(f"no user {user_id}", err=True)
        raise typer.Exit(1)
    return row


@users_app.command("disable")
def users_disable(user_id: str) -> None:
    """Disable USER_ID: no more logins, its open sessions closed; its tokens stop working while disabled."""
    from router.store import accounts

    settings = _settings()
    engine, _ = _identity(settings)
    with engine.begin() as conn:
        stored = _existing_user(conn, user_id)["user_id"]
        accounts.set_disabled(conn, stored, True)
        closed = accounts.close_user_sessions(conn, stored)
        record_admin(conn, "users.disable", stored, _now(settings))
    typer.echo(f"disabled {stored}; closed {closed} session(s)")


@users_app.command("enable")
def users_enable(user_id: str) -> None:
    """Enable USER_ID again (its password and unrevoked tokens work again)."""
    from router.store import accounts

    settings = _settings()
    engine, _ = _identity(settings)
    with engine.begin() as conn:
        stored = _existing_user(conn, user_id)["user_id"]
        accounts.set_disabled(conn, stored, False)
        record_admin(conn, "users.enable", stored, _now(settings))
    typer.echo(f"enabled {stored}")


@users_app.command("reset-password")
def users_reset_password(user_id: str) -> None:
    """Set a new password for USER_ID (asked twice): it must be changed at the next sign-in, and every
    session of the account ends now."""
    from router.domain.lifecycle import Role

    settings = _settings()
    engine, identity = _identity(settings)
    with engine.connect() as conn:
        row = _existing_user(conn, user_id)
    stored = row["user_id"]
    if row["role"] == Role.INTEGRATION.value:
        typer.echo(f"{stored} is an integration account: it signs in with tokens, never a password", err=True)
        raise typer.Exit(1)
    closed = _new_password("new password", stored, lambda password: identity.reset_password(stored, password))
    with engine.begin() as conn:
        record_admin(conn, "users.reset_password", stored, _now(settings))
    typer.echo(f"password of {stored} reset; it must be changed at the next sign-in; closed {closed} session(s)")


@users_app.command("revoke-tokens")
def users_revoke_tokens(user_id: str) -> None:
    """Revoke every bearer token of USER_ID."""
    from router.store import accounts

    settings = _settings()
    engine, _ = _identity(settings)
    with engine.begin() as conn:
        stored = _existing_user(conn, user_id)["user_id"]
        revoked = accounts.revoke_tokens(conn, stored, _now(settings))
        record_admin(conn, "users.revoke_tokens", stored, _now(settings))
    typer.echo(f"revoked {revoked} token(s) of {stored}")


@app.command()
def status() -> None:
    """Totals from the database: incidents per outcome, dead letters, outbox backlog."""
    from router.store import ledger
    from router.store.database import make_engine

    with make_engine(_settings().db_url).connect() as conn:
        counts = ledger.outcome_counts(conn)
        backlog = ledger.outbox_backlog(conn)
    for outcome in ("police", "work_order", "review", "dead_letter"):
        typer.echo(f"{outcome:12} {counts.get(outcome, 0)}")
    typer.echo(f"{'outbox':12} {backlog} pending")


report_app = typer.Typer(help="Reports from the database.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option(help="The local month, YYYY-MM.")],
    database: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default FENGQIAO_DATABASE_URL.")] = None,
    output: Annotated[str, typer.Option("--format", help="table or csv.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the month's full report (月度通报) here, as HTML and PDF.",
                                             file_okay=False)] = None,
) -> None:
    """The 红黄黑榜 of a month: each town's indicators, score, rank and grade, with 同比 changes; with --out,
    the district's 月度通报 (the ranking, key disputes, high-incidence areas, safety index, trends) as HTML and PDF."""
    from router.store.database import make_engine
    from router.store.statistics import MonthOutOfRange, monthly_ranking
    from workers.monthly_report import render_csv, render_table

    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise typer.BadParameter(f"{month!r} is not YYYY-MM", param_hint="--month") from None
    if output not in ("table", "csv"):
        raise typer.BadParameter(f"{output!r} is neither table nor csv", param_hint="--format")
    settings = _settings(database_url=database)
    jurisdiction = bundle_or_exit(settings.jurisdiction)
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            if out is not None:
                from workers.clock import configured_clock
                from workers.monthly_report import write_report

                for path in write_report(conn, jurisdiction, first, configured_clock(settings)(), out):
                    typer.echo(str(path))
                return
            report = monthly_ranking(conn, jurisdiction, first)
    except MonthOutOfRange as error:
        raise typer.BadParameter(str(error), param_hint="--month") from None
    finally:
        engine.dispose()
    typer.echo((render_csv if output == "csv" else render_table)(report, jurisdiction), nl=False)


def main() -> None:
    """`fengqiao`: an ordinary failure is one or two lines and an exit code; `--debug` shows the traceback."""
    from workers.cli_errors import explain

    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv.remove("--debug")
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        raise SystemExit(1) from None
    except typer.TyperException as error:  # a usage error: click's own message and exit code
        error.show()
        raise SystemExit(error.exit_code) from None
    except Exception as error:
        failure = explain(error)
        if failure is None or debug:
            raise
        typer.echo(f"fengqiao: {failure.message}", err=True)
        if failure.hint:
            typer.echo(f"  {failure.hint} (--debug shows the traceback)", err=True)
        raise SystemExit(failure.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)
