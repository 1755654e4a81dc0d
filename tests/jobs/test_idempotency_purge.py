"""The `idempotency` job: API Idempotency-Key records older than 24 hours are deleted, per tenant,
once; younger ones (still answering replays) and other tenants' rows stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.extensions import db
from shared.idempotency import KEPT_FOR, IdempotencyRecord, purge
from shared.jobs.registry import JOBS
from shared.jobs.runner import run_job
from shared.tenancy import tenant_scope

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def _record(tenant, key: str, age: timedelta) -> None:
    with tenant_scope(tenant.id):
        db.session.add(
            IdempotencyRecord(
                tenant_id=tenant.id,
                api_key_id=1,
                key=key,
                fingerprint="f" * 64,
                status_code=201,
                response_body="{}",
                created_at=NOW - age,
            )
        )
        db.session.commit()


def _keys(tenant) -> list[str]:
    with tenant_scope(tenant.id):
        return sorted(db.session.scalars(select(IdempotencyRecord.key)))


def test_the_job_is_a_one_unit_sweep():
    spec = JOBS["idempotency"]
    assert spec.path == "shared.idempotency:purge"
    assert spec.one_unit is True


def test_expired_records_go_and_young_ones_stay_for_every_tenant(app, make_tenant):
    acme, _ = make_tenant("acme")
    bolt, _ = make_tenant("bolt")
    for tenant in (acme, bolt):
        _record(tenant, "old", KEPT_FOR + timedelta(minutes=1))
        _record(tenant, "much-older", timedelta(days=30))
        _record(tenant, "young", KEPT_FOR - timedelta(minutes=1))
    assert run_job("idempotency", NOW) == {"acme": 2, "bolt": 2}
    assert _keys(acme) == _keys(bolt) == ["young"]
    assert run_job("idempotency", NOW) == {"acme": 0, "bolt": 0}  # again: nothing more
    assert run_job("idempotency", NOW + timedelta(minutes=2)) == {"acme": 1, "bolt": 1}
    assert _keys(acme) == _keys(bolt) == []


def test_one_tenants_purge_leaves_the_others_rows(app, make_tenant):
    acme, _ = make_tenant("acme")
    bolt, _ = make_tenant("bolt")
    _record(acme, "old", timedelta(days=2))
    _record(bolt, "old", timedelta(days=2))
    with tenant_scope(acme.id):
        assert purge(acme, NOW) == 1
        db.session.commit()
    assert _keys(acme) == []
    assert _keys(bolt) == ["old"]
