"""`flask jobs run-once NAME`, `flask jobs list` and the scheduler `flask jobs run` starts: fixed
job ids, coalesced triggers, one instance at a time, a generous misfire grace."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shared.clock import business_today, utcnow
from shared.extensions import db
from shared.jobs import registry
from shared.jobs.registry import JOBS, JobSpec
from shared.payments.models import PaymentStatus
from tenants.models import Tenant, TenantStatus
from tests.jobs.factories import make_payer, payment, schedule


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["jobs", *args])


def test_run_once_runs_the_job_for_every_tenant_and_says_what_it_did(app, make_tenant):
    acme, _ = make_tenant("acme", "Acme Supply Co.")
    bolt, _ = make_tenant("bolt", "Bolt Parts")
    ids = []
    for tenant in (acme, bolt):
        payer = make_payer(app, tenant)
        ids.append(schedule(app, payer, [5000], business_today(tenant, utcnow())))
    result = _run(app, "run-once", "due_payments")
    assert result.exit_code == 0, result.output
    assert "due_payments: acme: 1" in result.output
    assert "due_payments: bolt: 1" in result.output
    assert "due_payments: 2 done for 2 tenant(s)" in result.output
    assert payment(acme, ids[0]).status is PaymentStatus.SUCCEEDED
    assert payment(bolt, ids[1]).status is PaymentStatus.SUCCEEDED
    again = _run(app, "run-once", "due_payments")
    assert again.exit_code == 0
    assert "due_payments: 0 done for 2 tenant(s)" in again.output


def test_a_suspended_vendors_payments_are_not_run(app, make_tenant):
    acme, _ = make_tenant("acme", "Acme Supply Co.")
    payer = make_payer(app, acme)
    payment_id = schedule(app, payer, [5000], business_today(acme, utcnow()))
    db.session.execute(
        update(Tenant).where(Tenant.id == acme.id).values(status=TenantStatus.SUSPENDED)
    )
    db.session.commit()
    result = _run(app, "run-once", "due_payments")
    assert result.exit_code == 0
    assert "0 done for 0 tenant(s)" in result.output
    assert payment(acme, payment_id).status is PaymentStatus.SCHEDULED


@pytest.mark.parametrize(
    "name", ["nope", "", "due_payments; rm -rf /", "x" * 10000, "../../etc/passwd", "DUE_PAYMENTS"]
)
def test_run_once_refuses_a_job_that_does_not_exist(app, make_tenant, name):
    make_tenant("acme")
    result = _run(app, "run-once", name)
    assert result.exit_code == 2
    assert "the jobs are: due_payments, reconcile_payments" in result.output


def test_run_once_without_a_name_is_refused(app):
    result = _run(app, "run-once")
    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


def _explodes_for_acme(tenant, now):
    if tenant.slug == "acme":
        raise RuntimeError("boom")
    return 3


def test_one_tenant_failing_does_not_stop_the_others_and_the_exit_code_says_so(
    app, make_tenant, monkeypatch
):
    make_tenant("acme")
    make_tenant("bolt")
    spec = JobSpec("tests.jobs.test_jobs_cli:_explodes_for_acme", 60, "test")
    monkeypatch.setitem(registry.JOBS, "exploding", spec)
    result = _run(app, "run-once", "exploding")
    assert result.exit_code == 1
    assert "exploding: acme: failed (see the log)" in result.output
    assert "exploding: bolt: 3" in result.output


def test_list_names_every_job_with_its_interval(app):
    result = _run(app, "list")
    assert result.exit_code == 0
    for job_id, spec in JOBS.items():
        assert f"{job_id}\tevery {spec.seconds}s" in result.output


def test_every_registered_job_is_importable():
    from shared.jobs.runner import job_function

    for job_id in JOBS:
        assert callable(job_function(job_id))


def test_the_scheduler_has_fixed_ids_coalesces_runs_one_at_a_time_and_forgives_misfires(app):
    from apscheduler.jobstores.memory import MemoryJobStore

    from shared.jobs.scheduler import MISFIRE_GRACE_SECONDS, make_scheduler

    scheduler = make_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    for job_id, job in jobs.items():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 600
        assert job.trigger.interval.total_seconds() == JOBS[job_id].seconds
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)


def test_jobs_run_starts_the_scheduler_and_never_the_web_app_does(app, monkeypatch):
    from apscheduler.schedulers.blocking import BlockingScheduler

    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: started.append(self.get_jobs()))
    result = _run(app, "run")
    assert result.exit_code == 0, result.output
    [jobs] = started
    assert {job.id for job in jobs} == set(JOBS)
