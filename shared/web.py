"""Small pieces both sides' views share: showing a domain error on its form field, safe redirects."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

from markupsafe import Markup

from shared.forms import CleanForm

_LINK = re.compile(r'<a href="([^"]*)"')


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


def mark_current(nav_html: str, path: str) -> Markup:
    """A navigation's links with the current page marked for everyone (`aria-current`): "page" on
    the link to this very page, "true" on the link to its section (same first path segment: an
    invoice's page marks Invoices). Done on the rendered links so that every link a side adds to
    its navigation is marked, without each template repeating the rule."""
    section = path.strip("/").split("/", 1)[0]
    links = [urlsplit(unescape(href)).path for href in _LINK.findall(str(nav_html))]
    exact = path in links

    def mark(match: re.Match) -> str:
        target = urlsplit(unescape(match.group(1))).path
        if target == path:
            return f'{match.group(0)} aria-current="page"'
        if not exact and section and target.strip("/").split("/", 1)[0] == section:
            return f'{match.group(0)} aria-current="true"'
        return match.group(0)

    return Markup(_LINK.sub(mark, str(nav_html)))  # noqa: S704 - our own rendered template
