"""The API's one error body, `{"error": {"code", "message", "fields"}}`, for every failure.

Messages are in the caller's language (Accept-Language); `fields` maps a field's path in the body
or query string (`lines.0.quantity`) to its messages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from shared.errors import InputError
from shared.unit_of_work import discard

Fields = dict[str, list[str]]


class ApiError(Exception):
    """A failure with its status, code, message and per-field messages."""

    def __init__(self, status: int, code: str, message: str, fields: Fields | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def not_found() -> ApiError:
    """Unknown ids and other vendors' ids answer alike."""
    return ApiError(404, "not_found", _messages()[404])


def error_response(status: int, code: str, message: str, fields: Fields | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _(
            "Send a valid API key in the Authorization header: "
            "“Authorization: Bearer arp_…”. Keys are made in the console, under API keys."
        ),
        403: _("You are not allowed to do that."),
        404: _("There is nothing here, or it belongs to another account."),
        405: _("This page does not accept that kind of request."),
        409: _("Someone else changed this at the same moment. Nothing was saved: try again."),
        413: _("The request body is too large: it can be at most 4 MB."),
        415: _("Send the request body as JSON, with the header Content-Type: application/json."),
        422: _("Some fields are not valid: see fields."),
        429: _("Too many requests with this API key. Wait a little and try again."),
        500: _("Something went wrong on our side. Please try again later."),
    }


def flatten(messages: Any, path: str = "") -> Fields:
    """Marshmallow's nested messages as `{"lines.0.quantity": [...]}`."""
    flat: Fields = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "body" if key == "_schema" else str(key)
            for sub, texts in flatten(value, f"{path}.{name}" if path else name).items():
                flat.setdefault(sub, []).extend(texts)
    elif isinstance(messages, list):
        for item in messages:
            for sub, texts in flatten(item, path).items():
                flat.setdefault(sub, []).extend(texts)
    else:
        flat[path or "body"] = [str(messages)]
    return flat


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.fields)

    @bp.errorhandler(ValidationError)
    def invalid(error: ValidationError) -> Response:
        return error_response(
            422, "unprocessable_entity", _messages()[422], flatten(error.messages)
        )

    @bp.errorhandler(InputError)
    def rule_broken(error: InputError) -> Response:
        discard()
        return error_response(
            422, "unprocessable_entity", _messages()[422], {error.field: [error.message]}
        )

    @bp.errorhandler(IntegrityError)
    def conflict(error: IntegrityError) -> Response:
        # The domain checks uniqueness first; this is two requests racing for the same number.
        discard()
        return error_response(409, "conflict", _messages()[409])

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = error.name.lower().replace(" ", "_")
        response = error_response(status, code, _messages().get(status, error.name))
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
