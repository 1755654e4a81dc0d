"""Files (logos, PDFs, ACH files): one small interface, a local folder by default, S3 in production.

`STORAGE_URL` picks the backend: `file:///path` (the default, `instance/files`) or
`s3://bucket/prefix`. Keys are relative paths made of plain segments; every backend checks each key,
so `..`, absolute paths and backslashes never reach a disk or a bucket. Tenant files live under
`tenants/<tenant_id>/`, built by `tenant_key`.

Writes are not part of the database transaction, so operations pair them with it:
`discard_on_rollback(key)` removes a file written for a change that was rolled back, and
`delete_after_commit(key)` removes a file only once the change that stopped using it is committed.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DELETE_AFTER_COMMIT = "storage_delete_after_commit"
_DISCARD_ON_ROLLBACK = "storage_discard_on_rollback"


class StorageError(RuntimeError):
    """The backend could not do what was asked (unreachable, misconfigured)."""


class BadKey(ValueError):
    """A key that could escape its folder or is not a plain relative path."""


class FileMissing(LookupError):
    """No file is stored under this key."""


def check_key(key: str) -> str:
    """The key itself if it is a plain relative path (`a/b/c.png`); BadKey otherwise."""
    if not isinstance(key, str) or not key or len(key) > 512:
        raise BadKey("empty or overlong key")
    if "\\" in key or key.startswith("/") or "\x00" in key:
        raise BadKey(f"not a relative path: {key!r}")
    for segment in key.split("/"):
        # A leading letter or digit excludes `.`, `..` and hidden files; empty segments are `//`.
        if not _SEGMENT_RE.match(segment) or ".." in segment:
            raise BadKey(f"bad segment in key {key!r}")
    return key


def tenant_key(tenant_id: int, *parts: str) -> str:
    """`tenants/<tenant_id>/<parts…>`: where a tenant's files live."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or tenant_id <= 0:
        raise BadKey("tenant id must be a positive integer")
    return check_key("/".join(("tenants", str(tenant_id), *parts)))


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The stored bytes; FileMissing when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; nothing happens when there is none."""
        ...

    def exists(self, key: str) -> bool: ...


def storage_for(url: str, *, s3_endpoint_url: str | None = None, region: str = "us-east-1"):
    """The backend a `STORAGE_URL` names."""
    parts = urlsplit(url or "")
    if parts.scheme == "file":
        from shared.storage.local import LocalStorage

        # `file:///abs/path`, or `file://instance/files` read as a path relative to the cwd.
        return LocalStorage(parts.netloc + parts.path)
    if parts.scheme == "s3":
        from shared.storage.s3 import S3Storage

        if not parts.netloc:
            raise StorageError("STORAGE_URL s3://bucket/prefix needs a bucket")
        return S3Storage(
            parts.netloc, parts.path.strip("/"), endpoint_url=s3_endpoint_url, region=region
        )
    raise StorageError("STORAGE_URL must start with file:// or s3://")


def storage() -> Storage:
    """The app's storage backend, made once per app."""
    backend = current_app.extensions.get("storage")
    if backend is None:
        backend = storage_for(
            current_app.config["STORAGE_URL"],
            s3_endpoint_url=current_app.config.get("STORAGE_S3_ENDPOINT_URL") or None,
            region=current_app.config.get("AWS_REGION") or "us-east-1",
        )
        current_app.extensions["storage"] = backend
    return backend


# --- pairing files with the database transaction ------------------------------------------------


def delete_after_commit(session: Session, key: str) -> None:
    """Remove `key` once this transaction commits (and never if it rolls back)."""
    session.connection()  # a real transaction, so that its commit or rollback is seen
    session.info.setdefault(_DELETE_AFTER_COMMIT, []).append(check_key(key))


def discard_on_rollback(session: Session, key: str) -> None:
    """Remove `key` (just written) if this transaction rolls back instead of committing."""
    session.connection()
    session.info.setdefault(_DISCARD_ON_ROLLBACK, []).append(check_key(key))


def _remove_quietly(keys: list[str]) -> None:
    backend = storage()
    for key in keys:
        try:
            backend.delete(key)
        except Exception as exc:  # noqa: BLE001 - a leftover file is harmless; a failed request is not
            current_app.logger.warning("could not remove stored file %s: %s", key, exc)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_DISCARD_ON_ROLLBACK, None)
    keys = session.info.pop(_DELETE_AFTER_COMMIT, None)
    if keys:
        _remove_quietly(keys)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DELETE_AFTER_COMMIT, None)
    keys = session.info.pop(_DISCARD_ON_ROLLBACK, None)
    if keys:
        _remove_quietly(keys)
