"""One mailer: every email is rendered from templates in the recipient's language, kept as an outbox
row in the same transaction as the change that caused it, and delivered once that transaction commits.

The outbox backend (the default) only keeps the rows, readable in the console in development. The
SMTP backend delivers them right after the commit; a row that fails stays `pending` for a retry.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask import current_app, render_template
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shared.extensions import db
from shared.i18n import locale_for
from shared.mail.backends import backend_for
from shared.mail.models import MailStatus, OutboxAttachment, OutboxMessage
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work

_PENDING = "mail_pending_ids"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


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
    message = OutboxMessage(
        to_address=to,
        from_address=current_app.config["MAIL_FROM"],
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
        query = select(OutboxMessage).where(OutboxMessage.status == MailStatus.PENDING)
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        messages = session.scalars(query.execution_options(all_tenants=True)).all()
        for message in messages:
            with tenant_scope(message.tenant_id, session), unit_of_work(session):
                try:
                    backend.send(message)
                except Exception as exc:  # noqa: BLE001 - any failure leaves the row for a retry
                    message.attempts += 1
                    message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    current_app.logger.warning("mail %s not delivered: %s", message.id, exc)
                else:
                    message.mark_sent()
                    sent += 1
    return sent


@click.group("mail", help="Email.")
def mail_cli() -> None:
    pass


@mail_cli.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Deliver every pending email (those whose first delivery failed)."""
    click.echo(f"delivered {deliver()} pending email(s)")
