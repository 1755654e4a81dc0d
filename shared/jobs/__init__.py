"""The jobs process (issue 9): APScheduler only triggers sweeps; the rows carry "exactly once".

A job is a plain domain function `fn(tenant, now) -> int` (items done). `run_job` runs one for
every active tenant, with the tenant entered; the function makes its own short units of work and
claims its rows with leases (shared.leases, re-exported here for jobs of other packages: `claim`,
`record`, `new_owner`). `flask jobs run` starts the scheduler (shared.jobs.scheduler); `flask jobs
run-once NAME` runs one job once. Nothing here starts inside gunicorn.
"""

from __future__ import annotations

from shared.leases import Leased, claim, database_now, lease_free, new_owner, record

__all__ = ["Leased", "claim", "database_now", "lease_free", "new_owner", "record"]
