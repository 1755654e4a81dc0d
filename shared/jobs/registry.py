"""Every job the jobs process runs: a fixed id, the dotted path of its function
(`fn(tenant, now) -> int`), and how often the scheduler triggers its sweep.

A job of another package is one line here. The function is imported when the job runs, so this
module depends on no domain package.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    path: str  # "package.module:function"
    seconds: int  # the scheduler's interval
    what: str  # one line for `flask jobs list` and the log
    # True: the function flushes and never commits, and the runner makes each tenant's run one unit
    # of work (the sweeps whose unique keys make them once). False: it commits in its own short
    # units (the claimed work: a card charge must be recorded before the next one starts).
    one_unit: bool = False


JOBS: dict[str, JobSpec] = {
    "due_payments": JobSpec(
        "shared.payments.due:run_due_payments", 60, "charge scheduled card payments due today"
    ),
    "reconcile_payments": JobSpec(
        "shared.payments.due:reconcile_payments",
        120,
        "ask the gateway about card charges whose outcome is unknown",
    ),
    "deliver_mail": JobSpec(
        "shared.mail:deliver_for_tenant", 15, "deliver pending email (retries, after a pause)"
    ),
    "ach_files": JobSpec(
        "shared.ach:build_ach_files",
        300,
        "put due ACH debits in the vendor's next file (after its cut-off: the next banking day)",
        one_unit=True,
    ),
    "ach_settlement": JobSpec(
        "shared.ach:settle_ach",
        3600,
        "mark ACH debits paid two banking days after their effective date",
        one_unit=True,
    ),
    "autopay": JobSpec(
        "shared.autopay:schedule_autopay",
        900,
        "AutoPay: schedule each open invoice of an enrolled customer",
        one_unit=True,
    ),
    "autopay_notices": JobSpec(
        "shared.autopay:send_autopay_notices",
        900,
        "AutoPay: tell the payer of each withdrawal ahead of it",
        one_unit=True,
    ),
    "late_fees": JobSpec(
        "shared.invoices.late_fees:assess_late_fees",
        3600,
        "late fees, once per invoice and period",
        one_unit=False,  # commits each batch of invoices (shared.invoices.late_fees.BATCH)
    ),
    "reminders": JobSpec(
        "shared.invoices.reminders:send_reminders",
        3600,
        "invoice reminders before, on and after the due date",
        one_unit=True,
    ),
    "idempotency": JobSpec("shared.idempotency:purge", 3600, "old Idempotency-Keys", one_unit=True),
}
