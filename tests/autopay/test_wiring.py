"""AutoPay connected to the rest, as create_app connects it (wsgi.register_domain_hooks): the jobs
process runs its sweep as one unit of work, a returned debit that disables the account stops it,
an invoice it will pay gets no reminder, and the ACH file builder checks its maximum again."""

from __future__ import annotations

from sqlalchemy import select

from shared import autopay
from shared.ach import hooks as ach_hooks
from shared.autopay.models import AutoPaySetting
from shared.bank_accounts.models import BankAccount
from shared.extensions import db
from shared.invoices import reminders
from shared.invoices.models import Invoice
from shared.jobs.registry import JOBS
from shared.jobs.runner import job_function, run_job
from shared.tenancy import tenant_scope
from tests.autopay.world import at, mails, payments_of


def test_every_registered_job_is_a_function_of_tenant_and_now(app):
    for job_id in JOBS:
        assert callable(job_function(job_id)), job_id
    assert {"ach_files", "ach_settlement", "autopay", "autopay_notices", "late_fees"} <= set(JOBS)


def test_the_jobs_runner_commits_the_sweep(world, time_machine):
    world.enrol(days=2)  # (enrolling schedules what is open then: the invoice comes after)
    invoice = world.invoice("2026-07-07", 12_000)
    time_machine.move_to(at("2026-06-20"), tick=False)
    with world.app.app_context():
        done = run_job("autopay", at("2026-06-20"))
    assert done == {"acme": 1}
    db.session.remove()  # a fresh session sees only what was committed
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.pay_on.isoformat() == "2026-07-03"


def test_a_return_that_disables_the_account_stops_autopay(world):
    world.enrol()
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        account = db.session.get(BankAccount, world.account_id)
        ach_hooks.account_disabled(world.tenant(), account, "R02")
        db.session.commit()
    with tenant_scope(world.tenant_id):
        db.session.expire_all()
        setting = db.session.scalars(select(AutoPaySetting)).one()
        assert setting.enabled is False
    assert mails("autopay_stopped")  # both sides are told


def test_an_invoice_autopay_will_pay_gets_no_reminder_one_above_its_maximum_does(world):
    assert reminders.covered_by_autopay is autopay.covers
    within = world.invoice("2026-07-07", 12_000)
    above = world.invoice("2026-07-08", 900_000)
    world.enrol(max_amount="5000.00")
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        tenant = world.tenant()
        assert autopay.covers(tenant, db.session.get(Invoice, within)) is True
        assert autopay.covers(tenant, db.session.get(Invoice, above)) is False
