"""`/api/v1/ach-files` (the vendor's NACHA files: list, download) and `/api/v1/ach-returns`
(import the bank's return/NOC file, applied once)."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from sqlalchemy import select

from shared.ach import file_bytes, get_file
from shared.ach.imports import import_ach_return_file
from shared.ach.models import AchFile as AchFileModel
from shared.errors import InputError
from shared.extensions import db
from vendor_console.api import actor, bp, key_required, parsing
from vendor_console.api.errors import not_found
from vendor_console.api.fields import MAX_ID
from vendor_console.api.paging import page
from vendor_console.api.schemas import AchFile, AchFileQuery, AchImport, AchReturnUpload


@bp.get("/ach-files")
@key_required
def list_ach_files():
    args = parsing.query(AchFileQuery())

    def fetch(after_id: int, limit: int):
        return list(
            db.session.scalars(
                select(AchFileModel)
                .where(AchFileModel.id > after_id)
                .order_by(AchFileModel.id)
                .limit(limit)
            )
        )

    return page("ach-files", fetch, args, AchFile(many=True).dump)


@bp.get("/ach-files/<int:file_id>/download")
@key_required
def download_ach_file(file_id: int):
    found = get_file(None, file_id) if file_id <= MAX_ID else None
    if found is None:
        raise not_found()
    return Response(
        file_bytes(found),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{found.file_name}"'},
    )


@bp.post("/ach-returns")
@key_required
def import_ach_returns() -> tuple[dict[str, Any], int]:
    data = parsing.body(AchReturnUpload())
    try:
        done = import_ach_return_file(g.tenant, actor(), data["content"].encode("ascii", "replace"))
    except InputError as error:
        raise InputError("content", error.message) from None  # the API's 422, nothing kept
    body = AchImport().dump(
        {
            "id": done.id,
            "returns": done.returns,
            "changes": done.changes,
            "unmatched": done.unmatched,
            "already_imported": not done.newly_applied,
            "created_at": done.created_at,
        }
    )
    return body, 201 if done.newly_applied else 200
