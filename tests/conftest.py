"""Test fixtures: a fresh app per test on its own database, built by running the migrations.

The schema is migrated once per run into a template database; each test gets a copy of it (a file
copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL). Tests therefore commit for real, as
requests do, and live-server and concurrency tests need nothing special.

`TEST_DATABASE_URL` (PostgreSQL) selects the server; SQLite is used otherwise.
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

    def template_url(self) -> str:
        return f"sqlite:///{self.template}"

    def fresh(self) -> str:
        path = self.root / f"test-{next(_counter)}.sqlite"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        Path(make_url(url).database).unlink(missing_ok=True)


class PostgresDatabases:
    def __init__(self, url: str) -> None:
        import psycopg

        self.url = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.base = re.sub(r"\W", "_", self.url.database or "arportal_test")
        self.template_name = f"{self.base}_tmpl_{os.getpid()}"
        self._psycopg = psycopg
        self._admin_dsn = self.url.set(
            drivername="postgresql", database="postgres"
        ).render_as_string(hide_password=False)
        self._execute(f'DROP DATABASE IF EXISTS "{self.template_name}"')
        self._execute(f'CREATE DATABASE "{self.template_name}"')

    def _execute(self, sql: str) -> None:
        with self._psycopg.connect(self._admin_dsn, autocommit=True) as conn:
            conn.execute(sql)

    def _url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def template_url(self) -> str:
        return self._url(self.template_name)

    def fresh(self) -> str:
        name = f"{self.base}_{os.getpid()}_{next(_counter)}"
        self._execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
        return self._url(name)

    def drop(self, url: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

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


def _environ(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "CONSOLE_HOST": CONSOLE,
        "PORTAL_DOMAIN": PORTAL_DOMAIN,
        "MAIL_URL": "outbox:",
        "RATELIMIT_STORAGE_URI": os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://"),
        **extra,
    }


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
    app = create_app(environ=_environ(dbs.template_url(), instance))
    with app.app_context():
        upgrade()  # the schema exists only as the migrations make it
        db.engine.dispose()
    yield dbs
    if isinstance(dbs, PostgresDatabases):
        dbs.close()


@pytest.fixture
def make_app(databases, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build an app on a fresh copy of the migrated database; keyword arguments are env settings."""
    from wsgi import create_app

    made: list[tuple[Any, str]] = []

    def build(**env: str):
        url = databases.fresh()
        instance = tmp_path / f"instance-{len(made)}"
        app = create_app(environ=_environ(url, instance, **env))
        app.test_client_class = IsolatedClient
        with app.app_context():
            limiter.reset()  # no counts carried over from an earlier test (Redis keeps them)
        made.append((app, url))
        return app

    yield build
    for app, url in made:
        with app.app_context():
            db.engine.dispose()
        databases.drop(url)


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
