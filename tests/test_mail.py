"""The mailer: an outbox row per email, delivered through a real SMTP server on loopback."""

import email
import re
import socket
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from shared.extensions import db
from shared.mail import send_email
from shared.mail.models import MailStatus, OutboxMessage
from tests.conftest import PASSWORD, host_client, submit
from tests.test_vendor_accounts import SIGN_UP


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"

    def text_of(self, index: int = -1) -> str:
        message = self.messages[index][1]
        part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()


def free_port() -> int:
    # aiosmtpd's Controller cannot take port 0: ask the kernel for a free port first.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).execution_options(all_tenants=True)))


def test_sign_up_email_arrives_over_smtp(make_app, smtp_server):
    controller, inbox = smtp_server
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{controller.port}")
    with app.app_context():
        console = host_client(app, "localhost:8000")
        assert submit(console, "/sign-up", SIGN_UP).status_code == 302
        [(recipients, message)] = inbox.messages
        assert recipients == ["hank@globex.test"]
        assert "Globex Corporation" in message["Subject"]
        assert message.is_multipart()
        assert "http://localhost:8000/" in inbox.text_of()
        [row] = rows()
        assert row.status is MailStatus.SENT
        assert row.sent_at is not None


def test_a_reset_link_received_by_smtp_works(make_app, smtp_server, make_tenant):
    controller, inbox = smtp_server
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{controller.port}")
    with app.app_context():
        from tests.conftest import PASSWORD

        console = host_client(app, "localhost:8000")
        submit(console, "/sign-up", {**SIGN_UP, "owner_password": PASSWORD})
        fresh = host_client(app, "localhost:8000")
        submit(fresh, "/forgot-password", {"email": "hank@globex.test"})
        path = re.search(r"http://localhost:8000(/reset-password/\S+)", inbox.text_of()).group(1)
        response = submit(
            fresh, path, {"password": "via-smtp-password", "confirm": "via-smtp-password"}
        )
        assert response.status_code == 302
        assert fresh.get("/").status_code == 200


def test_mail_is_kept_for_a_retry_when_the_server_is_down(make_app):
    port = free_port()  # nothing listens here
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{port}")
    with app.app_context():
        console = host_client(app, "localhost:8000")
        # The sign-up itself succeeds: mail goes out after the commit and may fail on its own.
        assert submit(console, "/sign-up", SIGN_UP).status_code == 302
        [row] = rows()
        assert row.status is MailStatus.PENDING
        assert row.attempts == 1
        assert "Connection" in row.last_error or "refused" in row.last_error.lower()
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            result = app.test_cli_runner().invoke(args=["mail", "deliver"])
        finally:
            controller.stop()
        assert "delivered 1 pending email(s)" in result.output
        assert len(inbox.messages) == 1
        db.session.expire_all()
        assert rows()[0].status is MailStatus.SENT


def test_no_mail_leaves_when_the_transaction_rolls_back(make_app, smtp_server):
    controller, inbox = smtp_server
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{controller.port}")
    with app.app_context():
        from shared.mail import send_email
        from shared.tenancy import tenant_scope
        from tenants.models import Tenant

        tenant = Tenant(slug="acme", name="Acme")
        db.session.add(tenant)
        db.session.commit()
        with tenant_scope(tenant.id):
            send_email("x@acme.test", "vendor_welcome", "en", tenant=tenant, console_link="/")
            db.session.rollback()
        assert inbox.messages == []
        assert rows() == []


def test_the_outbox_is_readable_in_the_console_in_development(app, signed_in_console):
    page = signed_in_console.get("/outbox").get_data(as_text=True)
    assert "owner@acme.test" in page
    [row] = rows()
    detail = signed_in_console.get(f"/outbox/{row.id}").get_data(as_text=True)
    assert "Your payment portal for Acme Supply Co. is ready" in detail


def test_another_tenants_outbox_message_is_404(app, signed_in_console, make_tenant):
    make_tenant("globex")
    theirs = [r for r in rows() if r.to_address == "owner@globex.test"][0]
    assert signed_in_console.get(f"/outbox/{theirs.id}").status_code == 404
    assert "owner@globex.test" not in signed_in_console.get("/outbox").get_data(as_text=True)


def test_the_outbox_is_hidden_in_production(make_app):
    app = make_app(
        APP_ENV="production",
        SECRET_KEY="p" * 40,
        ENCRYPTION_KEY="K" * 43 + "=",
        CARD_GATEWAY="sandbox",
    )
    assert app.config["SHOW_OUTBOX"] is False


@pytest.fixture
def moto_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_mail_through_ses_on_a_loopback_server(make_app, moto_server):
    import boto3

    endpoint = moto_server
    ses = boto3.client("ses", region_name="us-east-1", endpoint_url=endpoint)
    ses.verify_email_identity(EmailAddress="no-reply@arportal.test")
    app = make_app(
        MAIL_URL=f"ses://us-east-1?endpoint_url={endpoint}",
        MAIL_FROM="AR Portal <no-reply@arportal.test>",
    )
    with app.app_context():
        console = host_client(app, "localhost:8000")
        assert submit(console, "/sign-up", SIGN_UP).status_code == 302
        [row] = rows()
        assert row.status is MailStatus.SENT
    # What SES accepted, read back from the server's own state.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1
    assert set(sent[0].destinations) == {"hank@globex.test"}  # moto lists the To header too
    assert sent[0].source == "Globex Corporation <no-reply@arportal.test>"  # as the vendor
    assert "Globex Corporation" in email.message_from_string(sent[0].raw_data)["Subject"]


def test_ses_refusal_leaves_the_mail_pending(make_app, moto_server):
    # The sender was never verified: SES refuses, the row stays for a retry.
    app = make_app(MAIL_URL=f"ses://us-east-1?endpoint_url={moto_server}")
    with app.app_context():
        console = host_client(app, "localhost:8000")
        assert submit(console, "/sign-up", SIGN_UP).status_code == 302
        [row] = rows()
        assert row.status is MailStatus.PENDING
        assert "MessageRejected" in row.last_error


# --- capability links are not kept once delivered -----------------------------------------------

CAPABILITY_PATHS = ("/pay/", "/claim/", "/invitations/", "/reset-password/")
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def capability_links(text: str) -> list[str]:
    return [u for u in _LINK.findall(text) if any(p in u for p in CAPABILITY_PATHS)]


def test_masking_keeps_where_a_link_pointed_and_drops_its_token():
    from shared.mail.masking import mask_links, mask_url

    pay = "http://acme.localhost:8000/pay/WzEsMSw3Mzk2MDBd.Xo3mU5dF2v0Y5H8lJ6rYt1mJZk4"
    assert mask_url(pay) == "http://acme.localhost:8000/pay/…"
    timed = "https://pay.acme.com/confirm-email/eyJ0IjoxfQ.axAfgw.2_RXWfTuFY5CYXMCgbP0TGoxC3c"
    assert mask_url(timed) == "https://pay.acme.com/confirm-email/…"
    invitation = "http://localhost:8000/invitations/GD0jJXAGFrP0M6T8fFad2HuGXA7rQAqHBzcgFI8jTQE"
    assert mask_url(invitation) == "http://localhost:8000/invitations/…"
    assert mask_url("http://x.test/a?token=0123456789abcdef0123&next=/b") == (
        "http://x.test/a?token=…&next=/b"
    )
    for plain in (
        "http://localhost:8000/",
        "http://acme.localhost:8000/assistance",
        "http://localhost:8000/support/12345",
        "http://localhost:8000/settings/notifications-and-reminders",
    ):
        assert mask_url(plain) == plain
    html = (
        f'<img src="http://acme.localhost:8000/logo/logo-0123456789abcdef.png">'
        f'<a href="{pay}">Pay</a> {pay}'
    )
    assert mask_links(html) == (
        '<img src="http://acme.localhost:8000/logo/logo-0123456789abcdef.png">'
        '<a href="http://acme.localhost:8000/pay/…">Pay</a> http://acme.localhost:8000/pay/…'
    )


def test_delivered_mail_keeps_no_usable_capability_link(make_app, smtp_server):
    from sqlalchemy import select as select_

    from shared.invoices.models import Invoice

    controller, inbox = smtp_server
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{controller.port}")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "load"])  # claims, invitation
        assert result.exit_code == 0, result.output
        console = host_client(app, "localhost:8000")
        submit(console, "/sign-in", {"email": "owner@acme.test", "password": "demo-password-1"})
        invoice_id = db.session.scalar(
            select_(Invoice.id)
            .where(Invoice.number == "400102")
            .execution_options(all_tenants=True)
        )
        path = f"/invoices/{invoice_id}/send"
        assert submit(console, path, {}, form_path=f"/invoices/{invoice_id}").status_code == 302
        fresh = host_client(app, "localhost:8000")
        submit(fresh, "/forgot-password", {"email": "owner@acme.test"})

        received = "\n".join(inbox.text_of(i) for i in range(len(inbox.messages)))
        links = capability_links(received)
        assert {p for p in CAPABILITY_PATHS for u in links if p in u} == set(CAPABILITY_PATHS)
        db.session.expire_all()
        stored = rows()
        assert {r.status for r in stored} == {MailStatus.SENT}
        kept = "\n".join(r.text_body + r.html_body for r in stored)
        for link in links:
            token = link.rsplit("/", 1)[1]
            assert token not in kept, link
            assert link.rsplit("/", 1)[0] + "/…" in kept  # where it pointed is still shown

        # What the recipient got still works: the pay link opens the invoices, the reset resets.
        [pay] = [u for u in links if "/pay/" in u]
        guest = host_client(app, "acme.localhost:8000")
        opened = guest.get(pay.removeprefix("http://acme.localhost:8000"), follow_redirects=True)
        assert "400102" in opened.get_data(as_text=True)
        [reset] = [u for u in links if "/reset-password/" in u]
        reset_path = reset.removeprefix("http://localhost:8000")
        new_password = {"password": "after-delivery-1", "confirm": "after-delivery-1"}
        assert submit(fresh, reset_path, new_password).status_code == 302

        # The invoice PDF (it prints the pay link) went out, and its stored bytes are gone.
        [invoice_row] = [r for r in stored if r.template == "invoice"]
        [attachment] = invoice_row.attachments
        assert attachment.filename.endswith(".pdf")
        assert attachment.content == b""
        [mime] = [m for _to, m in inbox.messages if m.get_content_type() == "multipart/mixed"]
        pdf = next(p for p in mime.walk() if p.get_content_type() == "application/pdf")
        assert pdf.get_payload(decode=True).startswith(b"%PDF")

        # The console's outbox shows the masked copy and says why (the reset ended the session).
        submit(console, "/sign-in", {"email": "owner@acme.test", "password": "after-delivery-1"})
        detail = console.get(f"/outbox/{invoice_row.id}").get_data(as_text=True)
        assert "http://acme.localhost:8000/pay/…" in detail
        assert "masked after delivery" in detail


def test_the_outbox_mode_keeps_links_that_open(app, make_tenant):
    make_tenant("acme")
    browser = host_client(app, "localhost:8000")
    submit(browser, "/forgot-password", {"email": "owner@acme.test"})
    [row] = [r for r in rows() if r.template == "staff_password_reset"]
    assert row.status is MailStatus.KEPT
    [link] = capability_links(row.text_body)
    assert "…" not in link
    assert link in row.html_body
    path = link.removeprefix("http://localhost:8000")
    new_password = {"password": "from-the-outbox-1", "confirm": "from-the-outbox-1"}
    assert submit(browser, path, new_password).status_code == 302


def test_mail_goes_out_as_the_vendor_with_replies_to_its_support_address(make_app, smtp_server):  # noqa: F811
    """The white label holds in the inbox: 'Acme Supply Co.' <our address>, Reply-To the vendor."""
    from types import SimpleNamespace

    ask = SimpleNamespace(name="Pat")  # stands in for the support request the template names
    controller, inbox = smtp_server
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{controller.port}",
        MAIL_FROM="AR Portal <billing@arportal.example>",
    )
    with app.app_context():
        from tenants.staff import sign_up_vendor

        tenant, _owner = sign_up_vendor(
            business_name="Acme Supply Co.",
            slug="acme",
            owner_email="owner@acme.test",
            owner_password=PASSWORD,
        )
        tenant.support_email = "help@acme.test"
        send_email("ap@harbor.test", "support_reply", "en", tenant=tenant, body="Hello", ask=ask)
        db.session.commit()
        _recipients, received = inbox.messages[-1]
        assert received["From"] == '"Acme Supply Co." <billing@arportal.example>'
        assert received["Reply-To"] == "help@acme.test"
        text = inbox.text_of(len(inbox.messages) - 1)
        assert "Co.." not in text
        # Without a support address there is no Reply-To (replies would reach no one).
        tenant.support_email = ""
        send_email("ap@harbor.test", "support_reply", "en", tenant=tenant, body="Hi", ask=ask)
        db.session.commit()
        assert inbox.messages[-1][1]["Reply-To"] is None


def test_a_message_that_fails_to_render_stops_no_other(app, make_tenant, monkeypatch, caplog):
    """`send_later` rows are rendered by the mail job; one whose renderer raises stays waiting
    (logged, tried again on the next run) and the others are rendered."""
    from shared import mail
    from shared.tenancy import tenant_scope

    tenant, _owner = make_tenant("acme", "Acme Supply Co.")

    def render(_tenant, ref):
        if ref == 2:
            raise RuntimeError("a bug")
        return ("note", "en", f"Note {ref}", f"text {ref}", f"<p>{ref}</p>")

    monkeypatch.setitem(mail.RENDERERS, "test_note", render)
    with app.test_request_context(), tenant_scope(tenant.id):
        mail.send_later(tenant, [(f"n{i}@payer.test", "test_note", i) for i in (1, 2, 3)])
        db.session.commit()
        assert mail.render_waiting(tenant) == 2
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address.like("n_@payer.test"))
            .order_by(OutboxMessage.id)
        ).all()
        assert [(r.subject, r.render_later) for r in rows] == [
            ("Note 1", None),
            ("", "test_note"),
            ("Note 3", None),
        ]
        assert rows[2].text_body == "text 3"
        assert any("not rendered" in r.getMessage() for r in caplog.records)
