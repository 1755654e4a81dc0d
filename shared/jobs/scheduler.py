"""`flask jobs run`: APScheduler 3.x triggering each job's sweep on its interval.

One BlockingScheduler with its own memory job store (two schedulers must never share a job store),
fixed job ids, `coalesce=True` (a backlog of triggers runs once), `max_instances=1` (a sweep never
overlaps itself in this process) and a generous misfire grace. Any number of such processes may
run: the claimed rows, not the scheduler, make each item run once.
"""

from __future__ import annotations

import logging
import signal

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from shared.clock import utcnow
from shared.jobs.registry import JOBS
from shared.jobs.runner import run_job

log = logging.getLogger("arportal.jobs")
MISFIRE_GRACE_SECONDS = 3600


def _trigger(app: Flask, job_id: str) -> None:
    with app.app_context():
        run_job(job_id)


def make_scheduler(app: Flask, job_ids: list[str] | None = None) -> BlockingScheduler:
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}
    scheduler = BlockingScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults=defaults,
        timezone="UTC",
    )
    for job_id in job_ids or list(JOBS):
        spec = JOBS[job_id]
        scheduler.add_job(
            _trigger,
            "interval",
            seconds=spec.seconds,
            id=job_id,
            name=spec.what,
            args=[app, job_id],
            next_run_time=utcnow(),  # a sweep at start: what fell due while no process ran
            replace_existing=True,
            **defaults,
        )
    return scheduler


def run_forever(app: Flask) -> None:
    scheduler = make_scheduler(app)

    def stop(signum, _frame) -> None:
        log.info("jobs: signal %s, stopping", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("jobs: %s", ", ".join(f"{j} every {s.seconds}s" for j, s in JOBS.items()))
    scheduler.start()
