"""Tenant scoping that a query cannot forget.

Every tenant-owned model inherits `TenantOwned`. A listener on the ORM session adds
`tenant_id = <tenant in scope>` to every SELECT, UPDATE and DELETE that touches such a model, and a
flush refuses to write a row of another tenant. With no tenant in scope the query raises
`TenantScopeError` instead of returning everything: scoping fails closed. Code that truly works
across tenants (sign-in lookup on the console host, the job runner, the mail deliverer) says so
with `.execution_options(all_tenants=True)`, which is rare and greppable.

No statement goes around it (issue 7): Core `insert`/`update`/`delete` on a model or on its
`__table__` are scoped (an UPDATE or DELETE gets the tenant's WHERE, an INSERT gets the tenant's
`tenant_id` and is refused for another's); a Core SELECT on a bare tenant table is refused, since
loader criteria only reach mapped entities; bulk UPDATE by primary key is refused when an id is not
the tenant's; the legacy `bulk_*` session methods are refused on tenant models; raw SQL (`text()`,
`from_statement`, `literal_column`) that names a tenant-owned table is refused, even in scope,
because what it reads cannot be filtered; reloads of expired objects and lazy loads carry the
tenant in scope, so another tenant's object does not reload; `session.get` runs the filtered query
instead of answering from the identity map; `tenant_scope` refuses to switch tenants. What runs on
a bare `Connection` (migrations, `exec_driver_sql`) is outside the session: on PostgreSQL
row-level security is the wall there.

On PostgreSQL the database holds the line too (migrations/rls.py): every tenant table has a
row-level security policy, and the application connects as a role that does not own the tables.
The end of this module tells the database, per transaction, which tenant the session serves.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnClause,
    Connection,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Table,
    TextClause,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import (
    BindParameter,
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
)

from shared.extensions import db

TENANT_KEY = "tenant_id"
T = TypeVar("T", bound="TenantOwned")


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried or written with no tenant, or the wrong one, in scope."""


class TenantOwned:
    """Mixin for models whose rows belong to one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(
            ForeignKey("tenants.id", ondelete="CASCADE"),
            index=True,
            comment="The vendor business this row belongs to.",
        )


def tenant_foreign_key(column: str, table: str, *, ondelete: str) -> ForeignKeyConstraint:
    """`(tenant_id, column)` → `table (tenant_id, id)`: the database refuses a reference to a row of
    another tenant (and the data can later be distributed by tenant_id)."""
    return ForeignKeyConstraint(
        [TENANT_KEY, column],
        [f"{table}.{TENANT_KEY}", f"{table}.id"],
        ondelete=ondelete,
    )


def same_tenant_key(table: str, column: str, referred: str) -> ForeignKeyConstraint:
    """For a reference that is set to NULL when its row goes (a single-column `ON DELETE SET NULL`
    key does that): `(tenant_id, column)` must still name a row of the same tenant. It is checked at
    the end of the statement (NO ACTION), when the column is already NULL, so the delete goes
    through on both databases, while a reference to another tenant's row is refused."""
    return ForeignKeyConstraint(
        [TENANT_KEY, column],
        [f"{referred}.{TENANT_KEY}", f"{referred}.id"],
        name=f"fk_{table}_{column}_same_tenant",
    )


def current_tenant_id(session: Session | None = None) -> int | None:
    return (session or db.session()).info.get(TENANT_KEY)


def enter_tenant(tenant_id: int, session: Session | None = None) -> None:
    """Put a tenant in scope for the rest of this session (a request, a CLI command, a job)."""
    session = session or db.session()
    held = session.info.get(TENANT_KEY)
    if held is not None and held != tenant_id:
        # One request or job serves one tenant; switching silently would mix their data.
        raise TenantScopeError(f"session already serves tenant {held}, not {tenant_id}")
    session.info[TENANT_KEY] = tenant_id


def leave_tenant(session: Session | None = None) -> None:
    (session or db.session()).info.pop(TENANT_KEY, None)


@contextmanager
def tenant_scope(tenant_id: int, session: Session | None = None) -> Iterator[None]:
    """Serve one tenant inside the block, then none (the CLI and jobs walk tenants this way).

    Inside a session that already serves this tenant the block changes nothing; inside one that
    serves another tenant it raises: a job walking tenants leaves one before entering the next.
    """
    session = session or db.session()
    held = session.info.get(TENANT_KEY)
    if held is not None:
        if held != tenant_id:
            raise TenantScopeError(f"session already serves tenant {held}, not {tenant_id}")
        yield
        return
    enter_tenant(tenant_id, session)
    try:
        yield
    finally:
        leave_tenant(session)


def scoped_get(model: type[T], id_: object) -> T | None:
    """`session.get` for tenant-owned models that always runs the filtered query."""
    if not isinstance(id_, int) or isinstance(id_, bool):
        return None
    return db.session.scalars(select(model).where(model.id == id_)).one_or_none()  # type: ignore[attr-defined]


# --- the session's own shortcuts (called by shared.extensions.Session) -------------------------


def _is_tenant_model(entity: Any) -> bool:
    mapper = inspect(entity, raiseerr=False)
    return mapper is not None and issubclass(getattr(mapper, "class_", object), TenantOwned)


def session_get(session: Session, base_get: Any, entity: Any, ident: Any, **kwargs: Any) -> Any:
    """`Session.get` that runs the scoped query for tenant models: the identity map may hold
    another tenant's object, and it answers without asking the database."""
    options = dict(kwargs.get("execution_options") or {})
    if not _is_tenant_model(entity) or options.get("all_tenants"):
        return base_get(entity, ident, **kwargs)
    mapper = inspect(entity)
    (key,) = mapper.primary_key
    value = ident
    if isinstance(ident, tuple | list) and len(ident) == 1:
        value = ident[0]
    elif isinstance(ident, dict):
        value = ident.get(key.key)
    query = select(mapper).where(key == value)
    if kwargs.get("populate_existing"):
        options["populate_existing"] = True
    if kwargs.get("with_for_update"):
        query = query.with_for_update()
    if kwargs.get("options"):
        query = query.options(*kwargs["options"])
    return session.scalars(query.execution_options(**options)).one_or_none()


def refuse_bulk(what: str, entities: list[Any]) -> None:
    """The legacy bulk methods write by primary key below every hook: not on tenant models."""
    if any(_is_tenant_model(e if isinstance(e, type) else type(e)) for e in entities):
        raise TenantScopeError(
            f"session.{what} on a tenant-owned model; use session.execute(insert/update(Model), "
            "rows), which is scoped"
        )


# --- statements --------------------------------------------------------------------------------


@cache
def _tenant_tables() -> frozenset[Table]:
    return frozenset(
        mapper.local_table
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )


@cache
def _tenant_table_names() -> re.Pattern[str]:
    names = sorted((t.name for t in _tenant_tables()), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)


def _raw_sql_names_tenant_table(statement: Any) -> bool:
    # Raw SQL cannot be given a WHERE clause; a mention of a tenant table is enough to refuse it
    # (false positives cost an explicit all_tenants=True, a miss would cost a leak).
    pattern = _tenant_table_names()
    for element in visitors.iterate(statement):
        if isinstance(element, TextClause) and pattern.search(element.text):
            return True
        if (
            isinstance(element, ColumnClause)
            and element.is_literal
            and pattern.search(element.name)
        ):
            return True
    return False


def _tables(statement: Any) -> tuple[bool, set[Table]]:
    """(names a tenant model through the ORM, tenant tables it names only bare, as Core)."""
    tables = _tenant_tables()
    seen: set[Table] = set()
    covered: set[Table] = set()
    for element in visitors.iterate(statement):
        entity = getattr(element, "_annotations", {}).get("parententity")
        if entity is not None and issubclass(entity.mapper.class_, TenantOwned):
            covered.add(entity.mapper.local_table)
        if isinstance(element, Table) and element._deannotate() in tables:
            seen.add(element._deannotate())
    return bool(covered), seen - covered


def _tenant_value(value: Any, tenant_id: int) -> None:
    if isinstance(value, BindParameter):
        value = value.effective_value
    if value != tenant_id:
        raise TenantScopeError(f"write of a row for tenant {value!r} while serving {tenant_id}")


def _values_of(statement: Any) -> list[dict[str, Any]]:
    rows = [dict(getattr(statement, "_values", None) or {})]
    rows += [
        dict(zip(statement.table.c.keys(), r, strict=False))
        if isinstance(r, tuple | list)
        else dict(r)
        for many in getattr(statement, "_multi_values", None) or ()
        for r in many
    ]
    return [{(k if isinstance(k, str) else k.key): v for k, v in row.items()} for row in rows]


def _check_parameters(state: ORMExecuteState, tenant_id: int, *, stamp: bool) -> None:
    params = state.parameters
    if not params:
        return
    many = params if isinstance(params, list) else [params]
    for row in many:
        if TENANT_KEY in row:
            _tenant_value(row[TENANT_KEY], tenant_id)
    if stamp:
        stamped = [{TENANT_KEY: tenant_id, **row} for row in many]
        state.parameters = stamped if isinstance(params, list) else stamped[0]


def _scope_insert(state: ORMExecuteState, tenant_id: int) -> None:
    statement = state.statement
    if getattr(statement, "select", None) is not None:
        # Allowed only for rows built from parameters (shared.bulk's arrays), never copied from a
        # table, that say whose they are: the tenant in scope (row-level security checks again).
        through_orm, bare = _tables(statement.select)
        if state.execution_options.get("rows_of_tenant") != tenant_id or through_orm or bare:
            raise TenantScopeError(
                "INSERT … SELECT into a tenant-owned table; use all_tenants=True"
            )
        return
    values = _values_of(statement)
    in_values = [row for row in values if TENANT_KEY in row]
    for row in in_values:
        _tenant_value(row[TENANT_KEY], tenant_id)
    if state.parameters:
        _check_parameters(state, tenant_id, stamp=not in_values)
    elif not in_values:
        state.statement = statement.values({TENANT_KEY: tenant_id})


def _scope_update_or_delete(state: ORMExecuteState, tenant_id: int, bare: set[Table]) -> None:
    statement = state.statement
    target = statement.table._deannotate()
    if bare - {target}:
        raise TenantScopeError("a bare tenant table in an UPDATE or DELETE; use the model")
    if state.is_update:
        for row in _values_of(statement):
            if TENANT_KEY in row:
                _tenant_value(row[TENANT_KEY], tenant_id)
        _check_parameters(state, tenant_id, stamp=False)
    if target in bare:
        state.statement = statement.where(target.c.tenant_id == tenant_id)
        return
    if state.is_executemany:
        # ORM bulk UPDATE by primary key: each id must be one of the tenant's rows.
        mapper = state.bind_mapper
        (key,) = mapper.primary_key
        ids = {row[key.key] for row in state.parameters}  # type: ignore[union-attr]
        # Scoped like any query (which row-level security agrees with): another's id is not found.
        column = getattr(mapper.class_, key.key)
        found = set(state.session.scalars(select(column).where(column.in_(ids))))
        if found != ids:
            raise TenantScopeError(f"bulk update of rows that are not tenant {tenant_id}'s")
        return  # ids cannot change tenant (refused above), so the check holds for the UPDATE
    state.statement = statement.options(_criteria(tenant_id))


def _criteria(tenant_id: int) -> Any:
    return with_loader_criteria(
        TenantOwned,
        lambda cls: cls.tenant_id == tenant_id,
        include_aliases=True,
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.execution_options.get("all_tenants", False):
        return
    statement = state.statement
    if _raw_sql_names_tenant_table(statement):
        raise TenantScopeError(
            "raw SQL naming a tenant-owned table cannot be scoped; "
            "write it with the models, or pass all_tenants=True deliberately"
        )
    through_orm, bare = _tables(statement)
    if not (
        through_orm or bare or any(issubclass(m.class_, TenantOwned) for m in state.all_mappers)
    ):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantScopeError(
            "statement on a tenant-owned model with no tenant in scope; "
            "enter_tenant() first, or pass all_tenants=True deliberately"
        )
    if state.is_insert:
        _scope_insert(state, tenant_id)
    elif state.is_update or state.is_delete:
        _scope_update_or_delete(state, tenant_id, bare)
    elif bare:
        raise TenantScopeError(
            "a bare tenant table in a SELECT is not scoped; select the model, or all_tenants=True"
        )
    elif state.is_column_load:
        # A reload of expired attributes ignores loader criteria (SQLAlchemy skips them for
        # refreshes), so another tenant's object would reload silently: filter it by hand.
        refreshing = state.load_options._refresh_state
        held = refreshing.dict.get(TENANT_KEY) if refreshing is not None else None
        if held is not None and held != tenant_id:
            raise TenantScopeError(f"reload of a row of tenant {held} while serving {tenant_id}")
        for mapper in state.all_mappers:
            if issubclass(mapper.class_, TenantOwned):
                statement = statement.where(mapper.local_table.c.tenant_id == tenant_id)
        state.statement = statement
    elif state.is_select:
        # Lazy loads get the tenant in scope too: criteria carried from the parent query name
        # the tenant that loaded it, which may not be this one.
        state.statement = statement.options(_criteria(tenant_id))


@event.listens_for(Session, "before_flush")
def _stamp_and_check_writes(session: Session, _context: object, _instances: object) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"write of {type(obj).__name__} with no tenant in scope")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantScopeError(
                f"write of {type(obj).__name__} of tenant {obj.tenant_id} while serving {tenant_id}"
            )


# --- the database's wall: the tenant named per transaction (PostgreSQL) ------------------------
#
# The policies of migrations/rls.py read two settings; they follow the session that holds the
# connection: `app.tenant_id` is the tenant in scope (it changes when a request enters one, e.g.
# at staff sign-in) and `app.all_tenants` is 'on' for the statements that said all_tenants=True,
# and only for them. Both are set transaction-locally (set_config(…, true)), so a connection back
# in the pool names no tenant, and only when they differ from what this transaction last set: one
# extra round trip when the tenant or the opt-out changes, none for the statements in between.
# A hook on the connection covers everything the session runs, flushes and Core statements too.

_SESSION_INFO: weakref.WeakKeyDictionary[Connection, dict[Any, Any]] = weakref.WeakKeyDictionary()
_SETTINGS = "tenancy_settings"  # key in the DBAPI connection's info: what this transaction set
_NOTHING_SET = (None, False)  # a new transaction: neither setting holds a value
_UNKNOWN = (object(), None)  # after a rollback to a savepoint: set again before the next statement
_SAVEPOINT_CLAUSES = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)
_SET_CONFIG = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('app.all_tenants', %s, true)"
)


@event.listens_for(Session, "after_begin")
def _connection_serves(session: Session, _transaction: object, connection: Connection) -> None:
    _SESSION_INFO[connection] = session.info


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_boundary(connection: Connection) -> None:
    connection.info[_SETTINGS] = _NOTHING_SET


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_rolled_back(connection: Connection, _name: object, _context: object) -> None:
    connection.info[_SETTINGS] = _UNKNOWN  # it undid whatever was set since the savepoint


def _set_config(cursor: Any, tenant_id: int | None, all_tenants: bool) -> None:
    with cursor.connection.cursor() as setter:
        setter.execute(
            _SET_CONFIG,
            ("" if tenant_id is None else str(tenant_id), "on" if all_tenants else "off"),
        )


@event.listens_for(Engine, "before_cursor_execute")
def _name_the_tenant(
    connection: Connection,
    cursor: Any,
    _statement: str,
    _parameters: object,
    context: Any,
    _executemany: bool,
) -> None:
    if connection.dialect.name != "postgresql" or isinstance(
        getattr(getattr(context, "compiled", None), "statement", None), _SAVEPOINT_CLAUSES
    ):
        # SAVEPOINT statements read no rows; naming the tenant just before ROLLBACK TO SAVEPOINT
        # would be undone by it.
        return
    info = _SESSION_INFO.get(connection)
    tenant_id = info.get(TENANT_KEY) if info is not None else None
    options = context.execution_options if context is not None else {}
    wanted = (tenant_id, bool(options.get("all_tenants", False)))
    if connection.info.get(_SETTINGS, _UNKNOWN) != wanted:
        _set_config(cursor, *wanted)
        connection.info[_SETTINGS] = wanted
