"""Test fixtures: a fresh app per test on its own database, built by running the migrations.

The schema is migrated once per run into a template database; each test gets a copy of it (a file
copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL). Tests therefore commit for real, as
requests do, and live-server and concurrency tests need nothing special.

`TEST_DATABASE_URL` (PostgreSQL) selects the server; SQLite is used otherwise. On PostgreSQL the
migrations run as that URL's user (the owner) and the app as `TEST_DATABASE_APP_ROLE`
(`arportal_app`, made if missing), which row-level security applies to.
`TEST_RATELIMIT_STORAGE_URI` (e.g. redis://127.0.0.1:6379/15) puts rate limits on a real Redis.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import make_url

from shared.clock import DEFAULT_TIME_ZONE, today_in, utcnow
from shared.extensions import db, limiter

# The test vendors' today: they keep the default time zone, and their days are what invoices are
# dated by (the server's own day may already be tomorrow, or still yesterday).
TODAY = today_in(DEFAULT_TIME_ZONE, utcnow())
CONSOLE = "localhost:8000"
PORTAL_DOMAIN = "localhost:8000"
_counter = itertools.count()


# --- databases --------------------------------------------------------------------------------


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.sqlite"

    def template_env(self) -> dict[str, str]:
        return {"DATABASE_URL": f"sqlite:///{self.template}"}

    def fresh(self) -> dict[str, str]:
        path = self.root / f"test-{next(_counter)}.sqlite"
        shutil.copyfile(self.template, path)
        return {"DATABASE_URL": f"sqlite:///{path}"}

    def drop(self, env: dict[str, str]) -> None:
        Path(make_url(env["DATABASE_URL"]).database).unlink(missing_ok=True)


class PostgresDatabases:
    """Databases on the server of `TEST_DATABASE_URL`, whose user (postgres) owns the tables and
    runs the migrations; the app connects as `TEST_DATABASE_APP_ROLE` (arportal_app), a role
    that owns nothing and that row-level security applies to, as in production.

    The role is made here if the server lacks it (roles are the cluster's, databases inherit
    nothing about them); the copies of the template keep its owners, grants and policies.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.app_role = os.environ.get("TEST_DATABASE_APP_ROLE", "arportal_app")
        self.base = re.sub(r"\W", "_", self.url.database or "arportal_test")
        self.template_name = f"{self.base}_tmpl_{os.getpid()}"
        self._psycopg = psycopg
        self._admin_dsn = self.url.set(
            drivername="postgresql", database="postgres"
        ).render_as_string(hide_password=False)
        self._ensure_app_role()
        self._execute(f'DROP DATABASE IF EXISTS "{self.template_name}"')
        self._execute(f'CREATE DATABASE "{self.template_name}"')

    def _execute(self, sql: str) -> None:
        with self._psycopg.connect(self._admin_dsn, autocommit=True) as conn:
            conn.execute(sql)

    def _ensure_app_role(self) -> None:
        from psycopg import sql

        role = sql.Identifier(self.app_role)
        # Same password as the owner's URL, if it has one; none with trust authentication.
        password = (
            sql.SQL(" PASSWORD {}").format(self.url.password) if self.url.password else sql.SQL("")
        )
        attributes = sql.SQL("LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        with self._psycopg.connect(self._admin_dsn, autocommit=True) as conn:
            try:
                conn.execute(sql.SQL("CREATE ROLE {} {}{}").format(role, attributes, password))
            except (self._psycopg.errors.DuplicateObject, self._psycopg.errors.UniqueViolation):
                pass  # made by an earlier run (or a parallel one); its attributes are set below
            conn.execute(sql.SQL("ALTER ROLE {} {}{}").format(role, attributes, password))

    def _env(self, name: str) -> dict[str, str]:
        owner = self.url.set(database=name)
        app = owner.set(username=self.app_role)
        return {
            "DATABASE_URL": app.render_as_string(hide_password=False),
            "MIGRATION_DATABASE_URL": owner.render_as_string(hide_password=False),
        }

    def template_env(self) -> dict[str, str]:
        return self._env(self.template_name)

    def fresh(self) -> dict[str, str]:
        name = f"{self.base}_{os.getpid()}_{next(_counter)}"
        self._execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
        return self._env(name)

    def drop(self, env: dict[str, str]) -> None:
        name = make_url(env["DATABASE_URL"]).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.template_name}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context.

    Flask reuses an app context that is already pushed, so without this every request of a test
    would share one `g` and one database session (and its tenant scope) with the test and with each
    other, unlike real requests.
    """

    host = "localhost"

    def open(self, *args: Any, **kwargs: Any):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", f"http://{self.host}")
        return contextvars.Context().run(super().open, *args, **kwargs)

    def session_transaction(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().session_transaction(*args, **kwargs)


def _environ(database_url: str, instance: Path, **extra: str | None) -> dict[str, str]:
    """The test app's environment; an `extra` of None leaves that variable unset (its default)."""
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "CONSOLE_HOST": CONSOLE,
        "PORTAL_DOMAIN": PORTAL_DOMAIN,
        "MAIL_URL": "outbox:",
        "RATELIMIT_STORAGE_URI": os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://"),
        "WEB_CONCURRENCY": "1",  # a test's app is one process, so in-memory limits hold
        **extra,
    }
    return {name: value for name, value in env.items() if value is not None}


@pytest.fixture(scope="session")
def databases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SqliteDatabases | PostgresDatabases]:
    from flask_migrate import upgrade

    from wsgi import create_app

    url = os.environ.get("TEST_DATABASE_URL")
    dbs: SqliteDatabases | PostgresDatabases
    dbs = PostgresDatabases(url) if url else SqliteDatabases(tmp_path_factory.mktemp("db"))
    instance = tmp_path_factory.mktemp("template-instance")
    template = dbs.template_env()
    app = create_app(environ=_environ(template.pop("DATABASE_URL"), instance, **template))
    with app.app_context():
        upgrade()  # the schema exists only as the migrations make it (as the owner, on PostgreSQL)
        db.engine.dispose()
    yield dbs
    if isinstance(dbs, PostgresDatabases):
        dbs.close()


@pytest.fixture
def make_app(databases, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build an app on a fresh copy of the migrated database; keyword arguments are env settings."""
    from wsgi import create_app

    made: list[tuple[Any, dict[str, str]]] = []

    def build(**env: str | None):
        database = databases.fresh()
        settings = {**database, **env}
        if "DATABASE_URL" in env and "MIGRATION_DATABASE_URL" not in env:
            settings.pop("MIGRATION_DATABASE_URL", None)  # a database of the test's own
        instance = tmp_path / f"instance-{len(made)}"
        app = create_app(environ=_environ(settings.pop("DATABASE_URL"), instance, **settings))
        app.test_client_class = IsolatedClient
        with app.app_context():
            limiter.reset()  # no counts carried over from an earlier test (Redis keeps them)
        made.append((app, database))
        return app

    yield build
    for app, database in made:
        with app.app_context():
            db.engine.dispose()
        databases.drop(database)


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def console(app):
    """A browser on the vendor console host."""
    return host_client(app, CONSOLE)


@pytest.fixture
def portal_client(app):
    """A browser on a portal host: `portal_client("acme")`."""
    return lambda slug: host_client(app, f"{slug}.{PORTAL_DOMAIN}")


def host_client(app, host: str):
    client = app.test_client()
    client.host = host
    return client


# --- forms ------------------------------------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def submit(client, path: str, data: dict[str, Any], *, form_path: str | None = None, **kwargs):
    """Post a form the way a browser does: fetch the page for its CSRF token first."""
    token = csrf_token(client, form_path or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


# --- factories --------------------------------------------------------------------------------

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_tenant(app):
    """`make_tenant("acme")` → (tenant, owner), committed, with no tenant left in scope."""
    from shared.tenancy import leave_tenant
    from tenants.staff import sign_up_vendor

    def make(
        slug: str,
        name: str | None = None,
        email: str | None = None,
        language: str = "en",
        time_zone: str = DEFAULT_TIME_ZONE,
    ):
        tenant, owner = sign_up_vendor(
            business_name=name or f"{slug.title()} Inc.",
            slug=slug,
            owner_email=email or f"owner@{slug}.test",
            owner_password=PASSWORD,
            language=language,
            time_zone=time_zone,
        )
        db.session.commit()
        db.session.refresh(owner)  # loaded while its tenant is in scope
        leave_tenant()
        return tenant, owner

    return make


@pytest.fixture
def signed_in_console(app, make_tenant, console):
    """A console client signed in as the owner of a new tenant `acme`."""
    tenant, owner = make_tenant("acme", "Acme Supply Co.")
    response = submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return console


# --- query counting ---------------------------------------------------------------------------


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter: ...; counter.count` — SQL statements run in the block."""
    from contextlib import contextmanager

    class Counter:
        count = 0

    @contextmanager
    def counting():
        counter = Counter()

        def before(*_args: Any) -> None:
            counter.count += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
