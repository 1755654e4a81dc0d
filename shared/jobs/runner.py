"""Running a job: once for every active tenant, the tenant entered, the errors of one tenant kept
from stopping the others."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from shared.clock import utcnow
from shared.extensions import db
from shared.jobs.registry import JOBS
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work
from tenants.models import Tenant, TenantStatus

log = logging.getLogger("arportal.jobs")


class UnknownJob(KeyError):
    pass


def job_function(job_id: str) -> Callable[[Tenant, datetime], int]:
    spec = JOBS.get(job_id)
    if spec is None:
        raise UnknownJob(job_id)
    module, _, name = spec.path.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(job_id: str, now: datetime | None = None) -> dict[str, int]:
    """Run a job once for every active tenant; returns items done per tenant slug. A tenant whose
    run raised is logged and counted as -1; the next tenant still runs."""
    function = job_function(job_id)
    now = now or utcnow()
    tenant_ids = db.session.scalars(
        select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.id)
    ).all()
    db.session.rollback()
    done: dict[str, int] = {}
    for tenant_id in tenant_ids:
        with tenant_scope(tenant_id):
            tenant = db.session.scalars(select(Tenant).where(Tenant.id == tenant_id)).one()
            slug = tenant.slug
            try:
                if JOBS[job_id].one_unit:
                    with unit_of_work():
                        done[slug] = function(tenant, now)
                else:
                    done[slug] = function(tenant, now)
            except Exception:
                db.session.rollback()
                log.exception("job %s failed for tenant %s", job_id, slug)
                done[slug] = -1
            finally:
                db.session.rollback()
        if done[slug]:
            log.info("job %s: tenant %s: %d done", job_id, slug, done[slug])
    return done
