"""Operations are told who acts and when: support requests and customer imports, called without any
request, as a job or the command line would, leave the actor in their rows and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shared.actors import Actor
from shared.customers.imports import import_customers
from shared.customers.models import Customer
from shared.extensions import db
from shared.support import close_request, reopen_request, reply, submit_request
from shared.support.models import SupportReply, SupportStatus
from shared.tenancy import leave_tenant, tenant_scope

WHEN = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)


def audit(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "arportal.audit"]


def test_support_requests_carry_who_asked_and_who_answered(app, make_tenant, caplog):
    tenant, owner = make_tenant("acme")
    staff = Actor.staff(owner)
    tenant_id, owner_id = tenant.id, owner.id
    caplog.set_level("INFO", logger="arportal.audit")
    with app.test_request_context(), tenant_scope(tenant.id):
        ask = submit_request(
            tenant,
            Actor.guest(),
            name="Pat Jones",
            email="pat@harbor.test",
            message="Where is my receipt?",
            language="en",
        )
        assert ask.portal_user_id is None  # a guest has no account to link
        answer = reply(tenant, ask, staff, "We sent it again.", close=True, now=WHEN)
        assert answer.staff_user_id == owner.id
        assert (ask.status, ask.closed_at, ask.closed_by_id) == (
            SupportStatus.CLOSED,
            WHEN,
            owner.id,
        )
        reopen_request(ask, staff)
        close_request(ask, staff, now=WHEN)
        db.session.commit()
        assert db.session.scalars(select(SupportReply)).one().body == "We sent it again."
        ask_id = ask.id
    leave_tenant()
    lines = audit(caplog)
    assert f"tenant={tenant_id} actor=guest:- action=support.requested request={ask_id}" in lines[0]
    assert [line.split("action=")[1].split()[0] for line in lines] == [
        "support.requested",
        "support.replied",
        "support.closed",
        "support.reopened",
        "support.closed",
    ]
    assert all(f"actor=staff:{owner_id}" in line for line in lines[1:])


def test_a_customer_import_names_who_imported(app, make_tenant, caplog):
    tenant, owner = make_tenant("acme")
    staff = Actor.staff(owner)
    caplog.set_level("INFO", logger="arportal.audit")
    data = b"name,email\nHarbor View Dental,ap@harbor.test\nBlue Fin Cafe,ap@bluefin.test\n"
    with tenant_scope(tenant.id):
        result = import_customers(data, actor=staff)
        assert len(db.session.scalars(select(Customer)).all()) == 2
        db.session.rollback()
    leave_tenant()
    assert result is not None
    created = [line for line in audit(caplog) if "action=customer.created" in line]
    assert len(created) == 2
    assert all(f"actor=staff:{staff.id}" in line for line in created)
