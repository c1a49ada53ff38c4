"""The runtime role on PostgreSQL: what the worker and the API may do to a schema the owner migrated.

The owner runs `fengqiao db upgrade`; the worker and the API connect as a role that owns nothing (so it
cannot DISABLE TRIGGER or ALTER), is not superuser (so it cannot SET session_replication_role), and may only
read and append the audit tables (no UPDATE, DELETE or TRUNCATE).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from router.store.tables import audit_chain_heads, metadata

AUDIT_TABLES = ("access_log", "order_events")


class UnfitRuntimeRole(Exception):
    """The named role could undo the audit: it is superuser, or owns the tables."""


def runtime_grants(role: str) -> list[str]:
    """The statements that give `role` what the worker and the API need, and no more."""
    quoted = '"' + role.replace('"', '""') + '"'
    statements = [f"GRANT USAGE ON SCHEMA public TO {quoted}",
                  f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
                  f"GRANT SELECT ON alembic_version TO {quoted}",  # the worker's start checks it is at head
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"]
    for table in sorted(metadata.tables):
        if table in AUDIT_TABLES:
            privileges = "SELECT, INSERT"
        elif table == audit_chain_heads.name:
            privileges = "SELECT, UPDATE (last_id, row_hash)"  # appends move the head; nothing else may
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON {table} TO {quoted}")
    return statements


def grant_runtime(conn: Connection, role: str) -> list[str]:
    """Apply `runtime_grants(role)` as the owner; refuses a role that is superuser or owns the tables."""
    fit = conn.execute(text("SELECT r.rolsuper, pg_has_role(r.rolname, t.tableowner, 'USAGE') "
                            "FROM pg_roles r, pg_tables t WHERE r.rolname = :role AND t.tablename = 'access_log' "
                            "AND t.schemaname = 'public'"), {"role": role}).one_or_none()
    if fit is None:
        raise UnfitRuntimeRole(f"no role {role!r}, or no migrated schema (run `fengqiao db upgrade` as the owner)")
    superuser, owner = fit
    if superuser or owner:
        raise UnfitRuntimeRole(f"{role} is superuser or a member of the tables' owner: it could undo the audit")
    statements = runtime_grants(role)
    for statement in statements:
        conn.execute(text(statement))
    return statements
