"""Languages: which one a request speaks, and remembering a person's choice."""

from __future__ import annotations

from flask import g, request, session
from flask_login import current_user

LANGUAGES = {"en": "English", "es": "Español"}
SESSION_KEY = "lang"


def supported(code: str | None) -> str | None:
    code = (code or "").strip().lower()[:5]
    return code if code in LANGUAGES else None


def select_locale() -> str:
    """The person's saved choice, then `?lang=`, then this browser's earlier choice, then
    Accept-Language, then the tenant's default."""
    user = current_user if request else None
    if user is not None and user.is_authenticated and supported(getattr(user, "language", None)):
        return user.language
    if request:
        chosen = supported(request.args.get("lang")) or supported(session.get(SESSION_KEY))
        if chosen:
            return chosen
        best = request.accept_languages.best_match(list(LANGUAGES))
        if best:
            return best
    tenant = g.get("tenant")
    return supported(getattr(tenant, "default_language", None)) or "en"
