"""Languages: which one a request speaks, and remembering a person's choice."""

from __future__ import annotations

import re

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


def language_name(code: str) -> str:
    """A language's name in the language the page speaks, as it reads inside a sentence ("in
    English", "en inglés"); LANGUAGES keeps each language's own name for the switch."""
    from babel import Locale
    from flask_babel import get_locale

    return Locale.parse(code).get_language_name(get_locale() or Locale.parse("en")) or code


# "Acme Supply Co." ends a sentence with its own period: "… from Acme Supply Co.." reads wrong. A
# period right after a word's period is dropped; an ellipsis ("...") is left as it is.
_SECOND_PERIOD = re.compile(r"(?<=\w\.)\.(?!\.)")


def one_period(text: str) -> str:
    """`text` with no sentence ending in two periods (a name ending in "." then the full stop)."""
    return _SECOND_PERIOD.sub("", text)


def end_sentences_once(env) -> None:
    """Make the templates' gettext callables (`_`, `gettext`, `ngettext`, `pgettext`, `npgettext`)
    drop the second period of a translated sentence that ends on a name like "Co."."""
    from jinja2 import pass_context
    from markupsafe import Markup

    def wrap(func):
        @pass_context
        def translated(context, *args, **kwargs):
            value = func(context, *args, **kwargs)
            text = one_period(str(value))
            return Markup(text) if isinstance(value, Markup) else text  # noqa: S704 - only a "." removed

        return translated

    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        if name in env.globals:
            env.globals[name] = wrap(env.globals[name])
