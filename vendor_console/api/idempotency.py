"""The `Idempotency-Key` header on every creating call (POST), with Stripe's semantics.

The same key with the same request (method, path and JSON body) answers the first answer again,
status and body, with `Idempotent-Replayed: true`; the same key with another request answers 409.
Keys belong to the tenant and the API key that sent them and are kept 24 hours (shared.idempotency).

Once: the key's row is inserted, in the request's own transaction, before the view runs. A second
request with the key blocks on the unique index until the first commits, then finds the stored
answer. Successes are stored in that same transaction, so the work and its answer commit together;
refusals (4xx) roll the work back and are stored on their own. Server errors (5xx), conflicts (409)
and rate limits (429) are not stored: a retry runs again, as with Stripe.
"""

from __future__ import annotations

import hashlib
import json

from flask import Response, g, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from shared.clock import utcnow
from shared.extensions import db
from shared.idempotency import MAX_KEY_LENGTH, IdempotencyRecord, expired_before
from shared.tenancy import tenant_scope
from shared.unit_of_work import discard, separate_unit
from vendor_console.api import bp
from vendor_console.api.errors import error_response

HEADER = "Idempotency-Key"
_NOT_STORED = (409, 429)


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("utf-8", "replace")
    text = f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _bad_key() -> Response:
    message = _("The Idempotency-Key header must be 1 to 255 visible characters.")
    return error_response(400, "bad_request", message, {HEADER: [message]})


def _replay(record: IdempotencyRecord) -> Response:
    stored = json.loads(record.response_body)
    response = Response(stored["body"], status=record.status_code, mimetype="application/json")
    for name, value in stored.get("headers", {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _conflict() -> Response:
    message = _(
        "This Idempotency-Key was already used for another request. "
        "Use a new key for a new request."
    )
    return error_response(409, "idempotency_key_reused", message, {HEADER: [message]})


@bp.before_request
def claim_key() -> Response | None:
    g.idempotency_record = None
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or g.get("api_key") is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable() or key != key.strip():
        return _bad_key()
    try:
        fingerprint = _fingerprint()
    except HTTPException:
        return None  # a body too large: the view answers it
    tenant_id, api_key_id = g.api_key.tenant_id, g.api_key.id
    now = utcnow()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < expired_before(now),
        )
    )
    record = IdempotencyRecord(
        tenant_id=tenant_id,
        api_key_id=api_key_id,
        key=key,
        fingerprint=fingerprint,
        status_code=None,
        response_body="",
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        existing = db.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
            )
        ).first()
        if existing is None or existing.fingerprint != fingerprint:
            return _conflict()
        if existing.status_code is None:
            return _conflict()  # not expected: rows are committed with their answer
        return _replay(existing)
    g.idempotency_record = record
    return None


def _stored(response: Response) -> str:
    headers = {"Location": response.headers["Location"]} if "Location" in response.headers else {}
    return json.dumps({"headers": headers, "body": response.get_data(as_text=True)})


@bp.after_request
def store_answer(response: Response) -> Response:
    record = g.get("idempotency_record")
    if record is None:
        return response
    status = response.status_code
    if status < 400:
        record.status_code = status
        record.response_body = _stored(response)
        db.session.flush()
    elif status < 500 and status not in _NOT_STORED:
        # The refusal rolls the request's work (and the claimed row) back: store it on its own.
        discard()
        values = {
            "tenant_id": record.tenant_id,
            "api_key_id": record.api_key_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "status_code": status,
            "response_body": _stored(response),
            "created_at": record.created_at,
        }
        try:
            with separate_unit() as session, tenant_scope(values["tenant_id"], session):
                session.add(IdempotencyRecord(**values))
                session.flush()  # while the tenant is in scope
        except IntegrityError:
            pass  # a retry with the key already ran again in between: its answer stands
    return response
