"""One mailer: every email is rendered from templates in the recipient's language, kept as an outbox
row in the same transaction as the change that caused it, and delivered once that transaction commits.

The outbox backend (the default) only keeps the rows, readable in the console in development. The
SMTP backend delivers them right after the commit; a row that fails stays `pending` for a retry.
Once a row is delivered, its stored copy keeps no usable capability link (see `shared.mail.masking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

import click
from flask import current_app, render_template
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shared.extensions import db
from shared.i18n import locale_for
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
    with force_locale(locale_for(language)):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    tenant = context.get("tenant")
    message = OutboxMessage(
        to_address=to,
        from_address=sender(current_app.config["MAIL_FROM"], getattr(tenant, "name", None)),
        reply_to=getattr(tenant, "support_email", "") or "",
        subject=" ".join(subject.split()),
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


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        deliver(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def deliver(ids: list[int] | None = None) -> int:
    """Deliver pending messages (these ids, or all pending); returns how many were sent."""
    backend = backend_for(current_app.config["MAIL_URL"])
    if not backend.delivers:
        return 0
    sent = 0
    with Session(db.engine) as session:
        query = select(OutboxMessage.id, OutboxMessage.tenant_id).where(
            OutboxMessage.status == MailStatus.PENDING
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        # Ids first, each row loaded inside its tenant's scope: a row loaded before an earlier
        # message's commit would expire there and could not reload with no tenant in scope.
        targets = session.execute(
            query.order_by(OutboxMessage.id).execution_options(all_tenants=True)
        )
        for message_id, tenant_id in targets.all():
            with tenant_scope(tenant_id, session), unit_of_work(session):
                message = session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.PENDING
                    )
                ).one_or_none()
                if message is None:  # delivered meanwhile by another process
                    continue
                try:
                    backend.send(message)
                except Exception as exc:  # noqa: BLE001 - any failure leaves the row for a retry
                    message.attempts += 1
                    message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    current_app.logger.warning("mail %s not delivered: %s", message.id, exc)
                else:
                    message.mark_sent()
                    forget_secrets(message)
                    sent += 1
    return sent


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
    """Deliver every pending email (those whose first delivery failed)."""
    click.echo(f"delivered {deliver()} pending email(s)")
