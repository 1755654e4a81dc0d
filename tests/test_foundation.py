"""The skeleton: migrations, configuration, health checks."""

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from config import PROJECT_ROOT, ConfigError, load_settings
from tests.conftest import host_client


def test_single_migration_head():
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_models_match_migrations(app):
    """The migrated schema is exactly what the models describe (nothing left to autogenerate)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shared.extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_production_requires_a_secret_key(tmp_path: Path):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_settings({"APP_ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(
            {"APP_ENV": "production", "SECRET_KEY": "short", "INSTANCE_PATH": str(tmp_path)}
        )


def test_development_secret_key_is_generated_once_and_kept(tmp_path: Path):
    first = load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    second = load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 48
    assert first != load_settings({"INSTANCE_PATH": str(tmp_path / "other")})["SECRET_KEY"]


def test_defaults_and_unknown_environment(tmp_path: Path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'app.sqlite'}"
    assert settings["CONSOLE_HOST"] == "localhost:8000"
    assert settings["PORTAL_DOMAIN"] == "localhost:8000"
    assert settings["MAIL_URL"] == "outbox:"
    assert settings["SESSION_COOKIE_SECURE"] is False
    production = load_settings(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 40,
            "ENCRYPTION_KEY": "K" * 43 + "=",
            "CARD_GATEWAY": "sandbox",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgresql://db/app",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",  # gunicorn runs 2 workers
        }
    )
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["REMEMBER_COOKIE_SECURE"] is True
    assert production["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/app"
    with pytest.raises(ConfigError):
        load_settings({"APP_ENV": "staging", "INSTANCE_PATH": str(tmp_path)})


def test_health_checks_answer_on_any_host(app):
    for host in ("localhost:8000", "acme.localhost:8000", "10.0.0.5"):
        client = host_client(app, host)
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").get_data(as_text=True) == "ready\n"


def test_readyz_fails_when_the_database_is_unreachable(make_app, tmp_path: Path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    client = host_client(app, "localhost:8000")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_the_factory_runs_no_migrations(make_app, tmp_path: Path):
    """Creating an app must not touch the schema: gunicorn workers would race on it."""
    import sqlalchemy as sa

    from shared.extensions import db

    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite")
    with app.app_context():
        assert sa.inspect(db.engine).get_table_names() == []


def test_migrations_go_down_and_up_again(make_app, tmp_path: Path):
    """Every migration's downgrade works, so a bad deploy can be rolled back."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from shared.extensions import db

    app = make_app()
    with app.app_context():
        before = sorted(sa.inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert sorted(sa.inspect(db.engine).get_table_names()) == before


def test_migrations_may_connect_as_the_owner_and_grant_the_app_role(tmp_path: Path):
    base = {"INSTANCE_PATH": str(tmp_path)}
    alone = load_settings({**base, "DATABASE_URL": "postgresql://app@db/ar"})
    assert alone["MIGRATION_DATABASE_URI"] == "postgresql+psycopg://app@db/ar"
    assert alone["DATABASE_APP_ROLE"] is None  # one role: nothing to grant
    split = load_settings(
        {
            **base,
            "DATABASE_URL": "postgresql://arportal_app@db/ar",
            "MIGRATION_DATABASE_URL": "postgresql://arportal_owner@db/ar",
        }
    )
    assert split["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://arportal_app@db/ar"
    assert split["MIGRATION_DATABASE_URI"] == "postgresql+psycopg://arportal_owner@db/ar"
    assert split["DATABASE_APP_ROLE"] == "arportal_app"
    named = load_settings(
        {**base, "DATABASE_URL": "postgresql://x@db/ar", "DATABASE_APP_ROLE": "web"}
    )
    assert named["DATABASE_APP_ROLE"] == "web"
    assert load_settings(base)["DATABASE_APP_ROLE"] is None  # SQLite


def test_encryption_key_is_required_in_production_and_kept_in_development(tmp_path: Path):
    production = {"APP_ENV": "production", "SECRET_KEY": "k" * 40, "INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY is required"):
        load_settings(production)
    with pytest.raises(ConfigError, match="Fernet keys"):
        load_settings({**production, "ENCRYPTION_KEY": "not-a-key"})
    first = load_settings({"INSTANCE_PATH": str(tmp_path)})["ENCRYPTION_KEY"]
    assert first == load_settings({"INSTANCE_PATH": str(tmp_path)})["ENCRYPTION_KEY"]
    assert first != load_settings({"INSTANCE_PATH": str(tmp_path / "b")})["ENCRYPTION_KEY"]
