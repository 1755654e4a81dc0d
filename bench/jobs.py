"""Benchmark: 100,000 due card payments executed by two job processes on PostgreSQL.

`python -m bench.jobs` (and `make bench`) creates its own database on the server of
`BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432), migrates it, seeds one vendor with
a payer, a saved sandbox card and N scheduled card payments due today (bulk inserts, not the web:
one invoice of one allocation per payment), then starts two `flask jobs run-once due_payments`
processes side by side and times them until both end. Prints payments/s beside the target and
checks that each payment ran exactly once (one execution, succeeded, one charge per idempotency
key in the sandbox's books, the journal balanced). Drops the database at the end.

`BENCH_JOBS_PAYMENTS` changes N (default 10,000; the issue's target is stated on 100,000, which
takes a quarter of an hour at the rate measured on 2026-12-06); `BENCH_JOBS_BATCH` sets the
processes' JOBS_BATCH_SIZE (default: the app's, 100). `BENCH_JOBS_PROFILE=DIR` runs each process
under cProfile and writes DIR/worker-<n>.prof (read with `python -m pstats`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 2000
CHUNK = 5000


def seed_due_payments(
    tenant_id: int,
    customer_id: int,
    user_id: int,
    card_id: int,
    count: int,
    pay_on: date,
    *,
    amount_cents: int = 10000,
    prefix: str = "J",
) -> list[int]:
    """`count` scheduled card payments due on `pay_on`, each paying one invoice of its own, as
    `create_payment` leaves them (allocation, journal, status history), written in bulk. Call it
    inside an app context with the tenant in scope; the caller commits. Returns the payment ids."""
    from sqlalchemy import insert

    from shared.clock import utcnow
    from shared.extensions import db
    from shared.invoices.models import Invoice, InvoiceStatus
    from shared.payments.models import (
        Account,
        CardFunding,
        JournalEntry,
        MadeBy,
        Payment,
        PaymentAllocation,
        PaymentMethod,
        PaymentStatus,
        PaymentStatusChange,
    )

    created = utcnow() - timedelta(days=3)
    payment_ids: list[int] = []
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        invoice_ids = db.session.scalars(
            insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
            [
                {
                    "tenant_id": tenant_id,
                    "number": f"{prefix}{start + i:08d}",
                    "customer_id": customer_id,
                    "issue_date": pay_on - timedelta(days=30),
                    "due_date": pay_on,
                    "status": InvoiceStatus.PAYMENT_SCHEDULED,
                    "total_cents": amount_cents,
                    "scheduled_cents": amount_cents,
                    "created_at": created,
                    "updated_at": created,
                }
                for i in range(size)
            ],
        ).all()
        ids = db.session.scalars(
            insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
            [
                {
                    "tenant_id": tenant_id,
                    "customer_id": customer_id,
                    "method": PaymentMethod.CARD,
                    "card_brand": "visa",
                    "card_funding": CardFunding.CREDIT,
                    "card_last4": "4242",
                    "saved_card_id": card_id,
                    "amount_cents": amount_cents,
                    "fee_cents": 0,
                    "total_cents": amount_cents,
                    "pay_on": pay_on,
                    "status": PaymentStatus.SCHEDULED,
                    "idempotency_key": uuid.uuid4().hex,
                    "made_by_kind": MadeBy.PAYER,
                    "made_by_id": user_id,
                    "made_by_label": "bench@payer.test",
                    "receipt_email": "bench@payer.test",
                    "gateway_reference": "",
                    "created_at": created,
                }
                for _ in range(size)
            ],
        ).all()
        db.session.execute(
            insert(PaymentAllocation),
            [
                {
                    "tenant_id": tenant_id,
                    "payment_id": payment_id,
                    "invoice_id": invoice_id,
                    "amount_cents": amount_cents,
                    "refunded_cents": 0,
                }
                for payment_id, invoice_id in zip(ids, invoice_ids, strict=True)
            ],
        )
        entries = []
        for payment_id, invoice_id in zip(ids, invoice_ids, strict=True):
            transaction = uuid.uuid4().hex
            for account, cents, invoice in (
                (Account.RECEIVABLE, -amount_cents, invoice_id),
                (Account.PAYER_FUNDS, amount_cents, None),
            ):
                entries.append(
                    {
                        "tenant_id": tenant_id,
                        "transaction_id": transaction,
                        "account": account,
                        "amount_cents": cents,
                        "payment_id": payment_id,
                        "invoice_id": invoice,
                        "memo": "",
                        "created_at": created,
                    }
                )
        db.session.execute(insert(JournalEntry), entries)
        db.session.execute(
            insert(PaymentStatusChange),
            [
                {
                    "tenant_id": tenant_id,
                    "payment_id": payment_id,
                    "from_status": None,
                    "to_status": PaymentStatus.SCHEDULED,
                    "actor_kind": "payer",
                    "actor_id": user_id,
                    "actor_label": "bench@payer.test",
                    "cause": "",
                    "at": created,
                }
                for payment_id in ids
            ],
        )
        payment_ids.extend(ids)
    return payment_ids


def make_payer(tenant_id: int, number: str = "4242424242424242") -> tuple[int, int, int]:
    """A customer, its portal user and a saved sandbox card (inside an app and request context,
    the tenant in scope); returns (customer id, user id, card id)."""
    from shared.cards import gateway
    from shared.cards.models import SavedCard
    from shared.clock import utcnow
    from shared.customers import create_customer
    from shared.extensions import db
    from shared.portal_accounts.models import PortalRole, PortalUser

    customer = create_customer(name="Bench Payer LLC", email="bench@payer.test")
    user = PortalUser(
        customer_id=customer.id,
        email="bench@payer.test",
        password_hash="x",  # noqa: S106 - never signs in
        role=PortalRole.PAYER,
    )
    db.session.add(user)
    db.session.flush()
    token, card = gateway().tokenise(number, "12", str(utcnow().year + 3), "123", "10001")
    saved = SavedCard(
        tenant_id=tenant_id,
        customer_id=customer.id,
        portal_user_id=user.id,
        brand=card.brand,
        funding=card.funding,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        gateway=gateway().name,
        gateway_reference=gateway().save(token, idempotency_key=uuid.uuid4().hex),
    )
    db.session.add(saved)
    db.session.flush()
    return customer.id, user.id, saved.id


def job_env(app) -> dict[str, str]:
    """The environment a `flask jobs …` subprocess needs to serve the same app and database."""
    config = app.config
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JOBS_", "DATABASE_", "FLASK_"))
    }
    env.update(
        {
            "FLASK_APP": "wsgi",
            "APP_ENV": config.get("APP_ENV", "test") or "test",
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": config["SECRET_KEY"],
            "ENCRYPTION_KEY": config["ENCRYPTION_KEY"],
            "INSTANCE_PATH": app.instance_path,
            "MAIL_URL": config["MAIL_URL"],
            "CONSOLE_HOST": config["CONSOLE_HOST"],
            "PORTAL_DOMAIN": config["PORTAL_DOMAIN"],
            "CARD_GATEWAY": config["CARD_GATEWAY"],
            "RATELIMIT_STORAGE_URI": "memory://",
            "WEB_CONCURRENCY": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def flask(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "flask"), *args]


def _main() -> int:
    import psycopg
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    count = int(os.environ.get("BENCH_JOBS_PAYMENTS", "10000"))
    base = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"arportal_bench_jobs_{os.getpid()}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    instance = tempfile.mkdtemp(prefix="bench-jobs-")
    try:
        from shared.cards.models import SandboxCharge
        from shared.extensions import db
        from shared.payments.execution import ExecutionState, PaymentExecution
        from shared.payments.models import JournalEntry, Payment, PaymentStatus
        from shared.tenancy import tenant_scope
        from shared.unit_of_work import separate_unit, unit_of_work
        from tenants.models import Tenant
        from tenants.staff import sign_up_vendor
        from wsgi import create_app

        environ = {
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": instance,
            "MAIL_URL": "outbox:",
            "RATELIMIT_STORAGE_URI": "memory://",
            "WEB_CONCURRENCY": "1",
        }
        app = create_app(environ=environ)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with unit_of_work():
                tenant, _owner = sign_up_vendor(
                    business_name="Bench Supply Co.",
                    slug="bench",
                    owner_email="owner@bench.test",
                    owner_password="bench-password-2026",  # noqa: S106 - a throwaway database
                    language="en",
                    time_zone="America/New_York",
                )
                tenant_id = tenant.id
            tenant = db.session.scalars(select(Tenant).where(Tenant.id == tenant_id)).one()
            started = time.perf_counter()
            with app.test_request_context(), tenant_scope(tenant_id), unit_of_work():
                from shared.clock import business_today, utcnow

                customer_id, user_id, card_id = make_payer(tenant_id)
                seed_due_payments(
                    tenant_id,
                    customer_id,
                    user_id,
                    card_id,
                    count,
                    business_today(tenant, utcnow()),
                )
            print(f"seeded {count:,} due card payments in {time.perf_counter() - started:.1f} s")
            env = job_env(app)
            env["APP_ENV"] = "development"
            if os.environ.get("BENCH_JOBS_BATCH"):
                env["JOBS_BATCH_SIZE"] = os.environ["BENCH_JOBS_BATCH"]
            db.engine.dispose()
        started = time.perf_counter()
        profile = os.environ.get("BENCH_JOBS_PROFILE", "")
        workers = [
            subprocess.Popen(  # noqa: S603 - our own command
                _profiled(flask("jobs", "run-once", "due_payments"), profile, n),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for n in range(2)
        ]
        outputs = [worker.communicate()[0] for worker in workers]
        elapsed = time.perf_counter() - started
        said = sum(_done(out) for out in outputs)
        with app.app_context(), tenant_scope(tenant_id):
            payments = db.session.scalar(select(func.count()).select_from(Payment))
            succeeded = db.session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.status == PaymentStatus.SUCCEEDED)
            )
            executions = db.session.scalar(
                select(func.count())
                .select_from(PaymentExecution)
                .where(PaymentExecution.state == ExecutionState.SUCCEEDED)
            )
            journal = db.session.scalar(select(func.sum(JournalEntry.amount_cents)))
            with separate_unit() as books:
                charged = books.scalar(select(func.count()).select_from(SandboxCharge))
                keys = books.scalar(
                    select(func.count(func.distinct(SandboxCharge.idempotency_key)))
                )
            db.engine.dispose()
        rate = count / elapsed
        once = payments == succeeded == executions == charged == keys == said == count
        once = once and journal == 0
        print(
            f"due payments, 2 job processes: {count:,} in {elapsed:.1f} s = {rate:,.0f} payments/s "
            f"(target >= {TARGET_PER_SECOND:,}/s) {'OK' if rate >= TARGET_PER_SECOND else 'BELOW'}"
        )
        print(
            f"exactly once: {succeeded:,} succeeded, {executions:,} executions, {charged:,} charges "
            f"for {keys:,} keys, processes reported {said:,}, journal sum {journal}: "
            f"{'OK' if once else 'FAILED'}"
        )
        return 0 if once else 1
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _profiled(command: list[str], directory: str, n: int) -> list[str]:
    """The command, run under cProfile into `directory` when one is given."""
    if not directory:
        return command
    Path(directory).mkdir(parents=True, exist_ok=True)
    out = str(Path(directory) / f"worker-{n}.prof")
    return [sys.executable, "-m", "cProfile", "-o", out, *command]


def _done(output: str) -> int:
    """What a `run-once` process said it did (its last line: "<job>: N done for …")."""
    for line in reversed(output.splitlines()):
        if " done for " in line:
            return int(line.split(":")[1].split()[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
