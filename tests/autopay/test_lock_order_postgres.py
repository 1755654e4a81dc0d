"""On PostgreSQL (skipped on SQLite: it has no row locks): the paths that take several of AutoPay's
locks take them in the one order of shared.autopay's docstring, so two of them at once wait for
each other instead of deadlocking. Each test lets the first path take its first lock, starts the
second, and lets the first go on only once the second waits for a lock: in the wrong order that
is a deadlock (PostgreSQL aborts one of them); in the right one both finish."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine
from sqlalchemy import event, select

from shared import autopay
from shared.ach.imports import import_ach_return_file
from shared.ach.models import AchEntry
from shared.actors import SYSTEM, Actor
from shared.autopay.models import AutoPayItem
from shared.bank_accounts.models import BankAccount
from shared.errors import InputError
from shared.extensions import db
from shared.payments.models import PaymentStatus
from shared.tenancy import leave_tenant, tenant_scope
from tests.ach.conftest import at as local
from tests.ach.returnfiles import Item, return_file
from tests.autopay.test_failures import _ach_ready, _build
from tests.autopay.world import at, item_of, payments_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks (FOR UPDATE is dropped): run with TEST_DATABASE_URL",
    ),
]


def _someone_waits_for_a_lock(database: str, timeout: float = 15.0) -> bool:
    import psycopg

    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as watcher:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND wait_event_type = 'Lock'",
                (database,),
            ).fetchone()[0]
            if waiting:
                return True
            time.sleep(0.05)
    return False


@contextmanager
def _first_waits_for_second(first: str, locked: threading.Event):
    """In the thread named `first`: right after its first `FOR UPDATE`, set `locked` and go on
    only when another transaction waits for a lock (the second path, started by `locked`)."""
    engine = db.engine
    saw: list[bool] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name != first or "FOR UPDATE" not in statement:
            return
        if locked.is_set():
            return
        locked.set()
        saw.append(_someone_waits_for_a_lock(engine.url.database))

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield saw
    finally:
        event.remove(engine, "after_cursor_execute", after)


def _side_by_side(app, first: Callable[[], object], second: Callable[[], object]):
    """`first`, then `second` once `first` holds its first lock; each in its own thread, app
    context, session and connection, committing its own unit of work. Returns what each
    returned or raised."""
    locked = threading.Event()
    outcome: dict[str, object] = {}

    def run(name: str, job: Callable[[], object]) -> None:
        try:
            with app.app_context(), app.test_request_context():
                if name == "second":
                    assert locked.wait(30), "the first path took no lock"
                try:
                    outcome[name] = job()
                    db.session.commit()
                finally:
                    db.session.rollback()
                    leave_tenant()
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported in the test's thread
            outcome[name] = error

    with _first_waits_for_second("first", locked) as saw:
        threads = [
            threading.Thread(target=run, args=("first", first), name="first"),
            threading.Thread(target=run, args=("second", second), name="second"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert saw == [True], "the second path never waited for the first: the test proves nothing"
    return outcome["first"], outcome["second"]


def _deadlocked(*outcomes) -> list[BaseException]:
    return [o for o in outcomes if isinstance(o, BaseException) and "deadlock" in str(o).lower()]


def test_removing_the_bank_account_while_the_payer_skips_its_autopay_payment(app, world):
    """Skip: item → invoice → payment. Removal used to cancel the account's payments (invoice,
    payment) before stopping AutoPay (setting, items): the skip waited for the invoice, the
    removal for the item. Now the removal locks AutoPay's rows before the payments'."""
    world.enrol()
    invoice = world.invoice("2026-07-07", 2500)
    assert world.run(autopay.schedule_autopay, at("2026-06-20")) == 1
    [payment] = payments_of(world.tenant_id, invoice)

    def skip():
        with tenant_scope(world.tenant_id):
            item = db.session.scalars(
                select(AutoPayItem).where(AutoPayItem.invoice_id == invoice)
            ).one()
            return autopay.skip_payment(world.tenant(), Actor.payer(world.user()), item).id

    def remove():
        with tenant_scope(world.tenant_id):
            account = db.session.scalars(
                select(BankAccount).where(BankAccount.id == world.account_id)
            ).one()
            return autopay.remove_bank_account(
                world.tenant(),
                Actor.payer(world.user()),
                account,
                cancel_payment_ids=[payment.id],
            )

    skipped, removed = _side_by_side(app, skip, remove)
    assert _deadlocked(skipped, removed) == []
    assert skipped == payment.id
    # The removal waited, then found its confirmed payment cancelled by the skip: asked again.
    assert isinstance(removed, InputError)
    assert [p.status for p in payments_of(world.tenant_id, invoice)] == [PaymentStatus.CANCELLED]
    assert item_of(world.tenant_id, invoice).status is autopay.ItemStatus.SKIPPED


def test_a_return_that_stops_autopay_while_the_payer_turns_it_off(app, world):
    """Turning AutoPay off used to lock the setting, then its bank account; an R02 return locks
    the entry and the account, returns the payment, disables the account and stops AutoPay (its
    setting). Now the form locks the account first, and the importer takes its locks up front."""
    _ach_ready(world)
    world.enrol()
    invoice = world.invoice("2026-07-07", 2500)
    later = world.invoice("2026-08-04", 1500)
    assert world.run(autopay.schedule_autopay, at("2026-06-20")) == 2
    assert _build(world, date(2026, 7, 3)) == 1
    [debited] = payments_of(world.tenant_id, invoice)
    [waiting] = payments_of(world.tenant_id, later)
    with tenant_scope(world.tenant_id):
        trace = db.session.scalar(
            select(AchEntry.trace_number).where(AchEntry.payment_id == debited.id)
        )
    leave_tenant()
    returns = return_file([Item(trace, "R02", routing="021000021", amount=2500)]).encode()

    def turn_off():
        with tenant_scope(world.tenant_id):
            return autopay.save_autopay(
                world.tenant(),
                Actor.payer(world.user()),
                world.user(),
                world.customer(),
                enabled=False,
                now=at("2026-07-06"),
            ).enabled

    def import_returns():
        with tenant_scope(world.tenant_id):
            return import_ach_return_file(world.tenant(), SYSTEM, returns).returns

    with time_machine.travel(local(date(2026, 7, 6), 10), tick=False):
        turned_off, imported = _side_by_side(app, turn_off, import_returns)
    assert _deadlocked(turned_off, imported) == []
    assert (turned_off, imported) == (False, 1)
    assert payments_of(world.tenant_id, invoice)[0].status is PaymentStatus.RETURNED
    assert payments_of(world.tenant_id, later)[0].status is PaymentStatus.CANCELLED
    assert waiting.id == payments_of(world.tenant_id, later)[0].id
