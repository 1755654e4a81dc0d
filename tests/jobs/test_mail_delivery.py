"""The outbox delivered by the jobs process with the same leases: two deliverers never send one
email twice (on PostgreSQL, two OS processes against one SMTP server), and a message whose
delivery failed waits a growing pause before the next try (no retry storm)."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select, update

from bench.jobs import flask, job_env
from shared.clock import utcnow
from shared.extensions import db
from shared.jobs.runner import run_job
from shared.mail import retry_after
from shared.mail.models import MailStatus, OutboxMessage
from shared.tenancy import tenant_scope
from tests.test_mail import Inbox, free_port, smtp_server  # noqa: F401 - fixture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _pending(tenant, count: int) -> None:
    with tenant_scope(tenant.id):
        db.session.execute(
            insert(OutboxMessage),
            [
                {
                    "tenant_id": tenant.id,
                    "to_address": f"payer{i}@harbor.test",
                    "from_address": "no-reply@localhost",
                    "subject": f"message {i}",
                    "text_body": f"body {i}",
                    "html_body": f"<p>body {i}</p>",
                    "template": "test",
                    "language": "en",
                    "status": MailStatus.PENDING,
                }
                for i in range(count)
            ],
        )
        db.session.commit()


def _rows(tenant):
    with tenant_scope(tenant.id):
        rows = db.session.scalars(
            select(OutboxMessage)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).all()
        db.session.expunge_all()
        return rows


def test_the_pause_after_a_failure_grows_to_an_hour():
    assert [retry_after(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_after(7) == retry_after(50) == 3600


def test_a_failed_message_is_tried_again_by_the_jobs_after_its_pause(make_app, make_tenant):
    port = free_port()  # nothing listens here yet
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{port}")
    with app.app_context():
        tenant, _owner = make_tenant("acme")  # its welcome email fails to go out
        [row] = _rows(tenant)
        assert (row.status, row.attempts, row.lease_owner) == (MailStatus.PENDING, 1, None)
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert run_job("deliver_mail") == {"acme": 0}  # still within its pause
            assert inbox.messages == []
            assert row.lease_expires_at > utcnow() + timedelta(seconds=50)
            # The pause runs out (by the database's clock, so it is moved there).
            with tenant_scope(tenant.id):
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(lease_expires_at=utcnow() - timedelta(seconds=1))
                )
                db.session.commit()
            assert run_job("deliver_mail") == {"acme": 1}
        finally:
            controller.stop()
        assert len(inbox.messages) == 1
        [row] = _rows(tenant)
        assert (row.status, row.attempts) == (MailStatus.SENT, 2)
        assert run_job("deliver_mail") == {"acme": 0}
        assert len(inbox.messages) == 1


def test_the_outbox_backend_leaves_the_job_nothing_to_do(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    assert run_job("deliver_mail") == {"acme": 0}
    assert {row.status for row in _rows(tenant)} == {MailStatus.KEPT}


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite has no row locks (FOR UPDATE SKIP LOCKED): run with TEST_DATABASE_URL",
)
def test_two_deliverers_at_once_send_each_email_once(app, make_tenant, smtp_server):  # noqa: F811
    import subprocess

    controller, inbox = smtp_server
    tenant, _owner = make_tenant("acme")
    _pending(tenant, 300)
    env = job_env(app)
    env["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
    env["JOBS_BATCH_SIZE"] = "10"
    workers = [
        subprocess.Popen(  # noqa: S603 - our own command
            flask("jobs", "run-once", "deliver_mail"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
    subjects = Counter(message["Subject"] for _to, message in inbox.messages)
    assert subjects == Counter({f"message {i}": 1 for i in range(300)})
    pending = [row for row in _rows(tenant) if row.subject.startswith("message ")]
    assert {row.status for row in pending} == {MailStatus.SENT}
