"""Languages: which one a request speaks, and remembering a person's choice."""

from __future__ import annotations

from flask import g, request, session
from flask_login import current_user

LANGUAGES = {"en": "English", "es": "Español"}
# Our vendors bill in US dollars: Spanish speakers there write $45,441.76, as the seeds do.
LOCALES = {"en": "en_US", "es": "es_US"}
SESSION_KEY = "lang"


def locale_for(language: str | None) -> str:
    """The formatting locale of a language code (`es` → `es_US`); catalogues fall back to `es`."""
    return LOCALES.get(supported(language) or "en", "en_US")


def supported(code: str | None) -> str | None:
    code = (code or "").strip().lower()[:5]
    return code if code in LANGUAGES else None


def select_locale() -> str:
    return locale_for(_select_language())


def _select_language() -> str:
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


def current_language() -> str:
    """`en` or `es`: the language this request speaks (what we save on users and customers)."""
    from flask_babel import get_locale

    locale = get_locale()
    return supported(locale.language if locale else None) or "en"
