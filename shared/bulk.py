"""Writing many rows in a constant number of statements (a job's batch), tenant-scoped as any
statement (shared.tenancy adds the tenant to each).

On PostgreSQL an executemany is still one statement per row on the server, and a `VALUES` list
is compiled again for every batch (its parameters are part of the statement). These take one
array per column instead (`unnest`): one statement per batch, compiled once and cached by
SQLAlchemy like any other. SQLite, which has no arrays, gets the executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.extensions import db
from shared.tenancy import TENANT_KEY, TenantOwned, TenantScopeError, current_tenant_id


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _given(table: Table, keys: Sequence[str]):
    """SELECT unnest(:a_id), unnest(:a_x), … — the arrays as rows, typed like the columns."""
    return select(
        *(
            func.unnest(bindparam(f"a_{key}", type_=postgresql.ARRAY(table.c[key].type))).label(key)
            for key in keys
        )
    ).subquery("given")


def update_by_id(
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    match: Sequence[str] = ("id",),
    where: Sequence = (),
    returning: Sequence = (),
) -> list:
    """UPDATE each row's columns where the table's `match` columns equal the row's (every row
    gives the same keys), and the extra conditions `where` hold, in one statement. With
    `returning`, the rows it names of those updated (a guarded write tells which rows it won)."""
    if not rows:
        return []
    keys = [key for key in rows[0] if key not in match]
    if _postgresql():
        given = _given(table, [*match, *keys])
        statement = (
            table.update()
            .where(*(table.c[key] == given.c[key] for key in match), *where)
            .values({key: given.c[key] for key in keys})
        )
        parameters = {f"a_{key}": [row[key] for row in rows] for key in [*match, *keys]}
        if returning:
            return list(db.session.execute(statement.returning(*returning), parameters))
        db.session.execute(statement, parameters)
        return []
    statement = (
        table.update()
        .where(*(table.c[key] == bindparam(f"b_{key}") for key in match), *where)
        .values({key: bindparam(f"b_{key}") for key in keys})
    )
    parameters = [{f"b_{key}": value for key, value in row.items()} for row in rows]
    if not returning:
        db.session.execute(statement, parameters)
        return []
    # SQLite has no RETURNING for an executemany; it has one writer, so a row at a time.
    statement = statement.returning(*returning)
    return [row for one in parameters for row in db.session.execute(statement, one)]


def insert_rows(
    model,
    rows: Sequence[dict[str, Any]],
    *,
    session: Session | None = None,
    skip_conflicts_on: Sequence[str] = (),
) -> None:
    """INSERT rows (every row gives the same keys) in one statement: on PostgreSQL
    `INSERT … SELECT unnest(:a_x), …`. Rows of a tenant-owned model are the tenant in scope's (a
    "tenant_id" given must be its). `skip_conflicts_on`: ON CONFLICT (those columns) DO NOTHING."""
    if not rows:
        return
    session = session or db.session()
    keys = [key for key in rows[0] if key != TENANT_KEY]
    stamp: dict[str, Any] = {}
    if issubclass(model, TenantOwned):
        tenant_id = current_tenant_id(session)
        if tenant_id is None:
            raise TenantScopeError(f"insert of {model.__name__} rows with no tenant in scope")
        if any(row.get(TENANT_KEY, tenant_id) != tenant_id for row in rows):
            raise TenantScopeError(f"insert of {model.__name__} rows of another tenant")
        stamp = {TENANT_KEY: tenant_id}
    table = model.__table__
    if session.get_bind().dialect.name != "postgresql":
        statement = sqlite_insert(table)
        if skip_conflicts_on:
            statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        session.execute(statement, [{**row, **stamp} for row in rows])
        return
    given = _given(table, keys)
    constants = [literal(value, table.c[key].type) for key, value in stamp.items()]
    # The table, not the model: the ORM would take the arrays for rows.
    statement = postgresql.insert(table).from_select(
        [*stamp, *keys], select(*constants, *(given.c[key] for key in keys))
    )
    if skip_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    if stamp:
        statement = statement.execution_options(rows_of_tenant=stamp[TENANT_KEY])
    session.execute(statement, {f"a_{key}": [row[key] for row in rows] for key in keys})
