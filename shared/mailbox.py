"""Email addresses as people type them: checked and normalised once, at the edge."""

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from shared.errors import InputError


def normalize_email(raw: str, field: str = "email") -> str:
    # `.test` addresses (the demo's) are accepted outside production only.
    production = has_app_context() and current_app.config.get("APP_ENV") == "production"
    try:
        info = validate_email(
            (raw or "").strip(), check_deliverability=False, test_environment=not production
        )
    except EmailNotValidError:
        raise InputError(field, str(_l("Enter a valid email address."))) from None
    return info.normalized.lower()
