"""Where mail goes, chosen by `MAIL_URL`: `outbox:` (keep only), `smtp://user:pass@host:port`, `ses://region`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from shared.mail.models import OutboxMessage


class MailBackend(Protocol):
    delivers: bool

    def send(self, message: OutboxMessage) -> None: ...


class OutboxBackend:
    delivers = False

    def send(self, message: OutboxMessage) -> None:  # pragma: no cover - never called
        raise RuntimeError("the outbox backend keeps messages; it does not send them")


def as_mime(message: OutboxMessage) -> EmailMessage:
    mime = EmailMessage()
    mime["Subject"] = message.subject
    mime["From"] = message.from_address
    mime["To"] = message.to_address
    if message.reply_to:
        mime["Reply-To"] = message.reply_to  # answers reach the vendor, not our no-reply address
    mime["Message-ID"] = make_msgid(domain="arportal")
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mime


class SmtpBackend:
    delivers = True

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        options = parse_qs(parts.query)
        self.host = parts.hostname or "localhost"
        self.ssl = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = options.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.timeout = 10

    def send(self, message: OutboxMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(as_mime(message))


class SesBackend:
    """Amazon SES through boto3: `ses://us-east-1` (credentials from the usual AWS variables);
    `?endpoint_url=http://127.0.0.1:PORT` points it at a local SES (tests use moto's server)."""

    delivers = True

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        options = parse_qs(parts.query)
        self.region = parts.hostname or "us-east-1"
        self.endpoint_url = options.get("endpoint_url", [None])[0]
        self._client = None

    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "ses", region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._client

    def send(self, message: OutboxMessage) -> None:
        mime = as_mime(message)
        self.client().send_raw_email(
            Source=message.from_address,
            Destinations=[message.to_address],
            RawMessage={"Data": mime.as_bytes()},
        )


@cache
def backend_for(url: str) -> MailBackend:
    scheme = urlsplit(url).scheme
    if scheme == "outbox":
        return OutboxBackend()
    if scheme in ("smtp", "smtps"):
        return SmtpBackend(url)
    if scheme == "ses":
        return SesBackend(url)
    raise ValueError(f"MAIL_URL {url!r}: use outbox:, smtp://host:port or ses://region")
