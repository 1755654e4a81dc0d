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
    # TODO(lead): the other helpers' jobs, one line each, e.g.
    # "ach_files": JobSpec("shared.ach.jobs:build_files", 300, "ACH files at the cut-off"),
    # "ach_settlement": JobSpec("shared.ach.jobs:settle", 3600, "settle submitted ACH debits"),
    # "autopay": JobSpec("shared.autopay.jobs:sweep", 900, "AutoPay: schedule payments"),
    # "autopay_notices": JobSpec("shared.autopay.jobs:notices", 900, "pre-debit notices"),
    # "late_fees": JobSpec("shared.late_fees.jobs:assess", 3600, "late fees per period"),
    # "reminders": JobSpec("shared.reminders.jobs:send", 3600, "invoice reminders"),
}
