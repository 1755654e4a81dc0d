"""Cursor pages for the API's lists: `{"data": [...], "next_cursor": "..."}`.

A cursor is opaque to callers: the base64 of the list's name and the last id of the page, so pages
stay stable while rows are added and a cursor of one list cannot be replayed on another.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask_babel import gettext as _

from vendor_console.api.errors import ApiError
from vendor_console.api.fields import MAX_ID
from vendor_console.api.schemas import PAGE_SIZE

T = TypeVar("T")


def encode_cursor(kind: str, last_id: int) -> str:
    raw = json.dumps([kind, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The last id a cursor names (0 for the first page); a 400 error for anything else."""
    if cursor is None:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (ValueError, UnicodeError, binascii.Error):
        data = None
    if (
        isinstance(data, list)
        and len(data) == 2
        and data[0] == kind
        and isinstance(data[1], int)
        and not isinstance(data[1], bool)
        and 0 < data[1] <= MAX_ID
    ):
        return data[1]
    message = _("This cursor is not valid: pass the next_cursor of the previous page.")
    raise ApiError(400, "bad_request", message, {"cursor": [message]})


def page(
    kind: str,
    fetch: Callable[[int, int], Sequence[T]],
    query: dict[str, Any],
    dump: Callable[[Sequence[T]], list[Any]],
) -> dict[str, Any]:
    """One page: `fetch(after_id, limit)` asks for one row more than the page to know if more follow."""
    limit = query.get("limit", PAGE_SIZE)
    rows = fetch(decode_cursor(kind, query.get("cursor")), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": dump(rows),
        "next_cursor": encode_cursor(kind, rows[-1].id) if more else None,  # type: ignore[attr-defined]
    }
