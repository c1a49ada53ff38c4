"""`fengqiao audit ...`: the access log's hash chain checked end to end, and CLI administration audited."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy import Connection

audit_app = typer.Typer(help="The audit log (access_log, order_events).", no_args_is_help=True)


def record_admin(conn: Connection, action: str, user_id: str, at: datetime) -> None:
    """One access-log row for an administration command run from a terminal, as `cli:<os user>`."""
    from router.store import accounts

    accounts.audit(conn, at=at, user_id=f"cli:{getpass.getuser()}"[:64], role=None, unit_code=None, action=action,
                   order_id=None, outcome="allowed", status=0, detail=f"user={user_id}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the access log's hash chain; the first gap, edit or cut end with its row id, and exit 1."""
    from router.domain.audit_chain import first_break
    from router.store import audit_log
    from router.store.database import make_engine
    from workers.settings import Settings

    engine = make_engine(Settings().db_url)
    try:
        with engine.connect() as conn:
            head = audit_log.chain_head(conn)
            broken = first_break(audit_log.chained_rows(conn, head), head)
            events, last_event = audit_log.order_events_checkpoint(conn)
    finally:
        engine.dispose()
    if broken is not None:
        typer.echo(f"audit chain broken at row {broken.row_id} ({broken.kind}): {broken.message}", err=True)
        raise typer.Exit(1)
    typer.echo(f"access_log: chain intact up to row {head.last_id}, head {head.row_hash}")
    typer.echo(f"order_events: {events} rows, last id {last_event}")
