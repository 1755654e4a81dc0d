"""Reading a call: its JSON body and its query string, checked against a schema."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from vendor_console.api.errors import ApiError, flatten


def body(schema: Schema) -> dict[str, Any]:
    """The JSON object in the request body, loaded by `schema` (422 with per-field messages)."""
    if not request.is_json:
        raise UnsupportedMediaType()
    try:
        data = request.get_json()  # malformed JSON: 400; larger than MAX_CONTENT_LENGTH: 413
    except RecursionError:  # nested deeper than the parser follows: no body of ours is
        raise ApiError(400, "bad_request", _("The request could not be understood.")) from None
    if not isinstance(data, dict):
        message = _("The request body must be a JSON object: {…}.")
        raise ApiError(400, "bad_request", message, {"body": [message]})
    return schema.load(data)


def query(schema: Schema) -> dict[str, Any]:
    """The query string, loaded by `schema`; a bad parameter is a 400 error naming it."""
    args = request.args
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        message = _("Send this parameter once.")
        raise ApiError(400, "bad_request", message, {name: [message] for name in repeated})
    try:
        return schema.load(args.to_dict())
    except ValidationError as error:
        fields = flatten(error.messages)
        message = _("Some parameters are not valid: see fields.")
        raise ApiError(400, "bad_request", message, fields) from None
