"""Tenant scoping that a query cannot forget.

Every tenant-owned model inherits `TenantOwned`. A listener on the ORM session adds
`tenant_id = <tenant in scope>` to every SELECT, UPDATE and DELETE that touches such a model, and a
flush refuses to write a row of another tenant. With no tenant in scope the query raises
`TenantScopeError` instead of returning everything: scoping fails closed. Code that truly works
across tenants (sign-in lookup on the console host, the job runner, the mail deliverer) says so
with `.execution_options(all_tenants=True)`, which is rare and greppable.

Beware `session.get(Model, id)`: it may answer from the identity map without running a query. Use
`scoped_get` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from sqlalchemy import ForeignKey, Table, event, select
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors

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
    """Serve one tenant inside the block, then none (the CLI and jobs walk tenants this way)."""
    session = session or db.session()
    previous = session.info.get(TENANT_KEY)
    session.info[TENANT_KEY] = tenant_id
    try:
        yield
    finally:
        if previous is None:
            session.info.pop(TENANT_KEY, None)
        else:
            session.info[TENANT_KEY] = previous


def scoped_get(model: type[T], id_: object) -> T | None:
    """`session.get` for tenant-owned models that always runs the filtered query."""
    if not isinstance(id_, int) or isinstance(id_, bool):
        return None
    return db.session.scalars(select(model).where(model.id == id_)).one_or_none()  # type: ignore[attr-defined]


@cache
def _tenant_tables() -> frozenset[Table]:
    return frozenset(
        mapper.local_table
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )


def _touches_tenant_owned(state: ORMExecuteState) -> bool:
    # Walk the whole statement (FROMs, joins, subqueries), not just its top-level entities:
    # `select(func.count()).select_from(Customer)` names no entity in its columns.
    if any(issubclass(m.class_, TenantOwned) for m in state.all_mappers):
        return True
    tables = _tenant_tables()
    return any(isinstance(e, Table) and e in tables for e in visitors.iterate(state.statement))


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants", False):
        return
    if state.is_column_load or state.is_relationship_load:
        # Criteria added to the parent query travel with it (propagate_to_loaders).
        if state.session.info.get(TENANT_KEY) is None and _touches_tenant_owned(state):
            raise TenantScopeError("lazy load of a tenant-owned row with no tenant in scope")
        return
    if not _touches_tenant_owned(state):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantScopeError(
            "query on a tenant-owned model with no tenant in scope; "
            "enter_tenant() first, or pass all_tenants=True deliberately"
        )
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


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
