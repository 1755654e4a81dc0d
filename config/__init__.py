"""Settings, read from the environment in one place and nowhere else.

Every setting is documented in the README's configuration table; `load_settings` is the only reader
of `os.environ` for the application (gunicorn's own file reads `PORT`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up so a bad deploy fails fast."""


def _instance_path(env: dict[str, str]) -> Path:
    return Path(env.get("INSTANCE_PATH") or PROJECT_ROOT / "instance")


def _secret_key(app_env: str, env: dict[str, str], instance: Path) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if app_env == "production" and len(key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
        return key
    if app_env == "production":
        raise ConfigError("SECRET_KEY is required in production.")
    # Development: made once and kept, so sessions survive a restart; never a guessable constant.
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _encryption_key(app_env: str, env: dict[str, str], instance: Path) -> str:
    """Fernet keys, comma-separated (first encrypts, all decrypt): required in production, made once
    and kept under instance/ in development, like the secret key."""
    from cryptography.fernet import Fernet

    keys = env.get("ENCRYPTION_KEY", "")
    if keys:
        try:
            for part in keys.split(","):
                Fernet(part.strip().encode())
        except ValueError as error:
            raise ConfigError(
                "ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated."
            ) from error
        return keys
    if app_env == "production":
        raise ConfigError("ENCRYPTION_KEY is required in production.")
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "encryption_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def _card_gateway(app_env: str, env: dict[str, str]) -> dict[str, str]:
    """CARD_GATEWAY ("sandbox" by default in development and tests; production must name it) and
    the Stripe settings it needs."""
    name = env.get("CARD_GATEWAY", "")
    if not name:
        if app_env == "production":
            raise ConfigError('CARD_GATEWAY is required in production: "stripe" (or "sandbox").')
        name = "sandbox"
    if name not in ("sandbox", "stripe"):
        raise ConfigError(f'CARD_GATEWAY must be "sandbox" or "stripe", not {name!r}.')
    stripe_key = env.get("STRIPE_SECRET_KEY", "")
    webhook_secret = env.get("STRIPE_WEBHOOK_SECRET", "")
    if name == "stripe":
        if not stripe_key:
            raise ConfigError("STRIPE_SECRET_KEY is required when CARD_GATEWAY is stripe.")
        if app_env == "production" and not webhook_secret:
            raise ConfigError("STRIPE_WEBHOOK_SECRET is required with Stripe in production.")
    return {
        "CARD_GATEWAY": name,
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        # Another Stripe-compatible server (localstripe in tests); unset for Stripe itself.
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
    }


def _jobs(env: dict[str, str]) -> dict[str, int]:
    """The jobs process: how long a claimed row is held (seconds), how many rows a claim takes, and
    how old a card payment due today must be before the jobs run it (the portal charges its own)."""
    settings = {}
    for name, default in (
        ("JOBS_LEASE_SECONDS", 300),
        ("JOBS_BATCH_SIZE", 100),
        ("JOBS_FRESH_SECONDS", 900),
    ):
        raw = env.get(name) or str(default)
        if not raw.isdigit() or (name != "JOBS_FRESH_SECONDS" and int(raw) < 1):
            raise ConfigError(f"{name} must be a whole number of seconds or rows, not {raw!r}.")
        settings[name] = int(raw)
    return settings


def _port(env: dict[str, str]) -> int:
    """The port gunicorn binds (`config/gunicorn.conf.py` reads the same variable, same default)."""
    raw = env.get("PORT") or "8000"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a number from 1 to 65535, not {raw!r}.")
    return int(raw)


def _workers(env: dict[str, str]) -> int:
    """gunicorn's worker count, read as `config/gunicorn.conf.py` reads it (default 2)."""
    raw = env.get("WEB_CONCURRENCY") or "2"
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"WEB_CONCURRENCY must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


def _check_rate_limit_store(storage_uri: str, env: dict[str, str]) -> None:
    """In memory, each worker counts apart: with N workers a limit lets N times as many through."""
    workers = _workers(env)
    if storage_uri.startswith("memory://") and workers > 1:
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI is memory:// but WEB_CONCURRENCY is {workers}: each worker would "
            "keep its own rate-limit counters. Set RATELIMIT_STORAGE_URI to a shared store "
            "(redis://host:6379/0), or run one worker (WEB_CONCURRENCY=1)."
        )


def _database_url(url: str) -> str:
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; plain postgresql:// would ask for psycopg2.
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _app_role(env: dict[str, str], database_url: str, migration_url: str) -> str | None:
    """The role the migrations grant row access to: DATABASE_APP_ROLE, or else the user of
    DATABASE_URL when the migrations connect as someone else; None grants nothing (one role)."""
    if "DATABASE_APP_ROLE" in env:
        return env["DATABASE_APP_ROLE"] or None
    app_user = make_url(database_url).username
    if app_user and app_user != make_url(migration_url).username:
        return app_user
    return None


def load_settings(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Flask config values from the environment (or from `environ`, for tests)."""
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("APP_ENV", "development")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}.")
    instance = _instance_path(env)
    database_url = _database_url(env.get("DATABASE_URL") or f"sqlite:///{instance / 'app.sqlite'}")
    # Migrations run as the tables' owner, the application as a role that only reads and writes
    # rows, so that row-level security applies to it (README, "Two walls").
    migration_url = _database_url(env.get("MIGRATION_DATABASE_URL") or database_url)
    production = app_env == "production"
    secret_key = _secret_key(app_env, env, instance)
    encryption_key = _encryption_key(app_env, env, instance)
    port = _port(env)
    ratelimit_storage = env.get("RATELIMIT_STORAGE_URI", "memory://")
    if production:
        _check_rate_limit_store(ratelimit_storage, env)
    return {
        "APP_ENV": app_env,
        "TESTING": app_env == "test",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEY": encryption_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The defaults carry the port gunicorn binds, so `PORT=9000 make run` emails links that open.
        "CONSOLE_HOST": (env.get("CONSOLE_HOST") or f"localhost:{port}").lower(),
        "PORTAL_DOMAIN": (env.get("PORTAL_DOMAIN") or f"localhost:{port}").lower(),
        "MIGRATION_DATABASE_URI": migration_url,
        "DATABASE_APP_ROLE": _app_role(env, database_url, migration_url),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "STORAGE_URL": env.get("STORAGE_URL") or f"file://{instance / 'files'}",
        # S3-compatible servers other than AWS (MinIO, a test server); unset for AWS itself.
        "STORAGE_S3_ENDPOINT_URL": env.get("STORAGE_S3_ENDPOINT_URL") or None,
        "AWS_REGION": env.get("AWS_REGION") or "us-east-1",
        "MAIL_URL": env.get("MAIL_URL", "outbox:"),
        "MAIL_FROM": env.get("MAIL_FROM", "AR Portal <no-reply@localhost>"),
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "arportal"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A moving window: no burst of twice the limit across a minute's edge.
        "RATELIMIT_STRATEGY": "moving-window",
        # Calls per API key (Flask-Limiter notation); shared by every endpoint of the REST API.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "120/minute"),
        # Host-only cookies: no SESSION_COOKIE_DOMAIN, so the console and each portal keep their own.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # A logo (2 MB) plus its form fits; anything bigger is refused before it is read.
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "shared" / "translations"),
        "SHOW_OUTBOX": not production,
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        **_card_gateway(app_env, env),
        **_jobs(env),
    }
