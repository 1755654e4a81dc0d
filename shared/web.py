"""Small pieces both sides' views share: showing a domain error on its form field, safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.forms import CleanForm


def show_input_error(form: CleanForm, error: Exception, default_field: str | None = None) -> None:
    """Attach a domain InputError to the form field it names (or to `default_field`)."""
    name = getattr(error, "field", None)
    field = form._fields.get(name) or form._fields.get(default_field or "")
    message = getattr(error, "message", str(error))
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this host only: a path, never another site (open redirect)."""
    if not target or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target
