"""One mailer: every email is rendered from templates in the recipient's language, kept as an outbox
row in the same transaction as the change that caused it, and delivered once that transaction commits.

The outbox backend (the default) only keeps the rows, readable in the console in development. The
SMTP backend delivers them right after the commit; a row that fails stays `pending` and the jobs
process (`deliver_mail`, every 15 s) tries it again after a growing pause. Every deliverer claims
a row with a lease before sending it (shared.leases), so the web worker and any number of job
processes never send one email twice. (SMTP has no idempotency key: a deliverer that dies after
the server accepted a message and before recording it leaves it to be sent again once its lease
runs out — at least once, never twice from two live deliverers.)
Once a row is delivered, its stored copy keeps no usable capability link (see `shared.mail.masking`).

A job that sends mail about thousands of rows at once (the receipts of a batch of payments) queues
each message with `send_later`: a row naming its renderer and what to render, rendered by the mail
job (`render_waiting`, before it delivers) rather than inside the job's batch. Renderers are
registered by the domain packages (`register_renderer`), so this package imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

import click
from flask import current_app, render_template
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shared.bulk import insert_rows
from shared.clock import utcnow
from shared.extensions import db
from shared.i18n import locale_for
from shared.leases import claim, lease_until, new_owner, record
from shared.mail.backends import backend_for
from shared.mail.masking import mask_links
from shared.mail.models import MailStatus, OutboxAttachment, OutboxMessage
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work

_PENDING = "mail_pending_ids"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def sender(mail_from: str, vendor_name: str | None) -> str:
    """Mail goes out as the vendor: its name, our sending address (only ours passes SPF/DKIM)."""
    _name, address = parseaddr(mail_from)
    if not vendor_name or not address:
        return mail_from
    return formataddr((vendor_name, address))


def send_email(
    to: str,
    template: str,
    language: str,
    *,
    attachments: list[Attachment] | None = None,
    **context: object,
) -> OutboxMessage:
    """Render `mail/<template>.{subject,txt,html}` for one recipient and queue it with this transaction."""
    backend = backend_for(current_app.config["MAIL_URL"])
    subject, text, html = render_email(template, language, **context)
    tenant = context.get("tenant")
    message = OutboxMessage(
        to_address=to,
        from_address=sender(current_app.config["MAIL_FROM"], getattr(tenant, "name", None)),
        reply_to=getattr(tenant, "support_email", "") or "",
        subject=subject,
        text_body=text,
        html_body=html,
        template=template,
        language=language,
        status=MailStatus.PENDING if backend.delivers else MailStatus.KEPT,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in attachments or []
        ],
    )
    db.session.add(message)
    # Flushed now, while the tenant that sends it is in scope (the CLI and jobs scope in blocks).
    db.session.flush()
    if backend.delivers:
        db.session.info.setdefault(_PENDING, []).append(message.id)
    return message


def render_email(template: str, language: str, **context: object) -> tuple[str, str, str]:
    """`mail/<template>.{subject,txt,html}` in `language`: (subject on one line, text, html)."""
    with force_locale(locale_for(language)):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return " ".join(subject.split()), text, html


# A renderer: (tenant, ref) -> (template, language, subject, text, html), or None when what it
# renders is gone (the message is then dropped: there is nothing true left to say).
Renderer = Callable[[object, int], "tuple[str, str, str, str, str] | None"]
RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    RENDERERS[name] = renderer


def send_later(tenant, messages: list[tuple[str, str, int]]) -> int:
    """Queue (to, renderer, ref) messages with this transaction in one statement, each to be
    rendered by the mail job (`render_waiting`), then delivered. Returns how many."""
    if not messages:
        return 0
    unknown = {renderer for _to, renderer, _ref in messages} - RENDERERS.keys()
    if unknown:
        raise KeyError(f"no mail renderer {sorted(unknown)} (see register_renderer)")
    backend = backend_for(current_app.config["MAIL_URL"])
    status = MailStatus.PENDING if backend.delivers else MailStatus.KEPT
    from_address = sender(current_app.config["MAIL_FROM"], getattr(tenant, "name", None))
    reply_to = getattr(tenant, "support_email", "") or ""
    now = utcnow()
    insert_rows(
        OutboxMessage,
        [
            {
                "tenant_id": tenant.id,
                "to_address": to,
                "from_address": from_address,
                "reply_to": reply_to,
                "subject": "",
                "text_body": "",
                "html_body": "",
                "template": renderer,
                "language": "",
                "status": status,
                "render_later": renderer,
                "render_ref": ref,
                "attempts": 0,
                "created_at": now,
            }
            for to, renderer, ref in messages
        ],
    )
    return len(messages)


def render_waiting(tenant, session: Session | None = None, batch: int = 200) -> int:
    """Render the tenant's messages queued with `send_later` (the tenant in scope), a batch per
    unit of work; returns how many. Rendering is idempotent: two mail jobs at once write the
    same text, and only the first write of a row counts (guarded on `render_later`)."""
    session = session or db.session()
    done = 0
    last_id = 0
    while True:
        with unit_of_work(session):
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.render_later.is_not(None), OutboxMessage.id > last_id)
                .order_by(OutboxMessage.id)
                .limit(batch)
            ).all()
            if not rows:
                return done
            for message in rows:
                last_id = message.id
                renderer = RENDERERS.get(message.render_later or "")
                if renderer is None:
                    current_app.logger.error(
                        "mail %s: no renderer %r", message.id, message.render_later
                    )
                    continue
                try:
                    with session.begin_nested():  # one message that fails to render stops no other
                        rendered = renderer(tenant, message.render_ref or 0)
                except Exception:
                    current_app.logger.exception("mail %s: not rendered", message.id)
                    continue
                guard = (OutboxMessage.id == message.id, OutboxMessage.render_later.is_not(None))
                if rendered is None:
                    session.execute(
                        update(OutboxMessage)
                        .where(*guard)
                        .values(render_later=None, status=MailStatus.KEPT, last_error="gone")
                        .execution_options(synchronize_session=False)
                    )
                    continue
                template, language, subject, text, html = rendered
                done += session.execute(
                    update(OutboxMessage)
                    .where(*guard)
                    .values(
                        template=template,
                        language=language,
                        subject=subject[:300],
                        text_body=text,
                        html_body=html,
                        render_later=None,
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        deliver(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def deliver(ids: list[int] | None = None, *, retry_now: bool = False) -> int:
    """Deliver pending messages (these ids, or all pending and due for a try; with `retry_now`,
    also those waiting out their pause after a failure); returns how many were sent. Each is
    claimed first (shared.leases), so another deliverer never sends it too."""
    backend = backend_for(current_app.config["MAIL_URL"])
    if not backend.delivers:
        return 0
    sent = 0
    with Session(db.engine) as session:
        query = select(OutboxMessage.tenant_id).where(OutboxMessage.status == MailStatus.PENDING)
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        tenant_ids = session.scalars(
            query.distinct().order_by(OutboxMessage.tenant_id).execution_options(all_tenants=True)
        ).all()
        session.rollback()
        for tenant_id in tenant_ids:
            with tenant_scope(tenant_id, session):
                if retry_now:
                    with unit_of_work(session):
                        session.execute(
                            update(OutboxMessage)
                            .where(
                                OutboxMessage.status == MailStatus.PENDING,
                                OutboxMessage.lease_owner.is_(None),  # not being sent now
                            )
                            .values(lease_expires_at=None)
                        )
                sent += deliver_claimed(session, backend, ids)
    return sent


def deliver_for_tenant(tenant, now) -> int:
    """The jobs process's mail job (`fn(tenant, now)`): the tenant's mail queued to render,
    rendered; then its pending mail, claimed and sent. Returns how many were rendered or sent."""
    rendered = render_waiting(tenant)
    backend = backend_for(current_app.config["MAIL_URL"])
    if not backend.delivers:
        return rendered
    return rendered + deliver_claimed(db.session(), backend, None)


def retry_after(attempts: int) -> int:
    """Seconds before the next try of a message that failed `attempts` times: 1, 2, 4 … minutes,
    at most an hour (no retry storm against a server that is down)."""
    return min(3600, 60 * 2 ** max(0, attempts - 1))


def deliver_claimed(session: Session, backend, ids: list[int] | None, batch: int = 50) -> int:
    """Claim the pending messages of the tenant in scope (these ids, or all that are due) and
    send them, one unit of work each; returns how many were sent."""
    owner = new_owner()
    lease = int(current_app.config.get("JOBS_LEASE_SECONDS", 300))  # whole seconds
    conditions = [OutboxMessage.status == MailStatus.PENDING, OutboxMessage.render_later.is_(None)]
    if ids is not None:
        conditions.append(OutboxMessage.id.in_(ids))
    sent = 0
    while True:
        with unit_of_work(session):
            claimed = claim(
                OutboxMessage, *conditions, owner=owner, seconds=lease, limit=batch, session=session
            )
        if not claimed:
            return sent
        for message_id, attempt in claimed:
            with unit_of_work(session):
                message = session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id == message_id)
                ).one()
                try:
                    backend.send(message)
                except Exception as exc:  # noqa: BLE001 - any failure leaves the row for a retry
                    tries = message.attempts + 1
                    record(
                        OutboxMessage,
                        message_id,
                        owner=owner,
                        attempt=attempt,
                        session=session,
                        release=False,
                        lease_owner=None,
                        lease_expires_at=lease_until(retry_after(tries), session),
                        attempts=tries,
                        last_error=f"{type(exc).__name__}: {exc}"[:500],
                    )
                    current_app.logger.warning("mail %s not delivered: %s", message_id, exc)
                    continue
                if not record(
                    OutboxMessage,
                    message_id,
                    owner=owner,
                    attempt=attempt,
                    session=session,
                    status=MailStatus.SENT,
                    attempts=message.attempts + 1,
                    sent_at=utcnow(),
                    last_error=None,
                ):
                    # Our lease ran out during the send (a very slow server): another deliverer
                    # may send it again; say so rather than hide it.
                    current_app.logger.error("mail %s: lease lost while sending", message_id)
                    continue
                forget_secrets(message)
                sent += 1


def forget_secrets(message: OutboxMessage) -> None:
    """After delivery: the recipient has the links; the stored copy keeps them masked.

    Only delivering backends call this: in `outbox:` mode the stored copy is how mail is read, so
    its links must still open. Attachments lose their bytes (their name and type stay): an invoice
    PDF carries the pay link in compressed streams that cannot be masked in place, nothing reads a
    delivered attachment, and the invoice can render its PDF again.
    """
    message.text_body = mask_links(message.text_body)
    message.html_body = mask_links(message.html_body)
    for attachment in message.attachments:
        attachment.content = b""


@click.group("mail", help="Email.")
def mail_cli() -> None:
    pass


@mail_cli.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Deliver every pending email now (those whose delivery failed, without waiting)."""
    click.echo(f"delivered {deliver(retry_now=True)} pending email(s)")
