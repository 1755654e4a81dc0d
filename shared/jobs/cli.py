"""`flask jobs …`: run the scheduler, run one job once, list the jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from shared.jobs.registry import JOBS


@click.group("jobs", help="Scheduled jobs (the jobs process).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("run")
@with_appcontext
def run_command() -> None:
    """Start the scheduler and run until stopped (Ctrl-C or SIGTERM)."""
    from shared.jobs.scheduler import run_forever

    click.echo(f"jobs: {', '.join(JOBS)} (Ctrl-C stops)")
    run_forever(current_app._get_current_object())


@jobs_cli.command("run-once")
@click.argument("name")
@with_appcontext
def run_once_command(name: str) -> None:
    """Run the job NAME once for every tenant and print what it did."""
    from shared.jobs.runner import run_job

    if name not in JOBS:
        raise click.BadParameter(
            f"no job {name!r}; the jobs are: {', '.join(JOBS)}", param_hint="NAME"
        )
    done = run_job(name)
    failed = [slug for slug, count in done.items() if count < 0]
    total = sum(count for count in done.values() if count > 0)
    for slug, count in done.items():
        if count:
            click.echo(f"{name}: {slug}: {'failed (see the log)' if count < 0 else count}")
    click.echo(f"{name}: {total} done for {len(done)} tenant(s)")
    if failed:
        raise SystemExit(1)


@jobs_cli.command("list")
def list_command() -> None:
    """The jobs, their interval and what they do."""
    for job_id, spec in JOBS.items():
        click.echo(f"{job_id}\tevery {spec.seconds}s\t{spec.what}")
