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
import threading
import time
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


def _reuse_url_builders() -> None:
    """Every test builds an app, and two thirds of that time goes to werkzeug writing and compiling
    the same URL-building function for each of its rules again (`Rule._compile_builder`, twice a
    rule, for three maps). The function depends only on the rule's parsed parts (its `_trace`) and
    takes the rule as its first argument, so one compiled for the same parts is reused; rules with
    defaults (folded into the code through their converters) are compiled as usual."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple[Any, ...], Any] = {}

    def reused(self: Rule, append_unknown: bool = True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = reused  # type: ignore[method-assign]


_reuse_url_builders()


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

    Copying the template for every test and dropping the copy after it costs the server a few
    hundred milliseconds a test (11 MB copied through the WAL), more on a busy machine; so a thread
    does that work between tests instead: it keeps a few databases ready, and after each test it
    empties that test's database to be used again (`_recycle`: every backend on it ended, every
    table that has rows truncated, every sequence used restarted), or drops it when anything else
    differs from the template (the schema, owners, grants, policies, settings: `_FINGERPRINT`;
    a backend that would not end, a prepared transaction, a large object).
    Every connection commits without waiting for the WAL to reach the disk
    (`synchronous_commit=off`): what it commits is visible to every other connection at once, as
    before; only a crash of the server could lose the last commits, which tests never survive.
    """

    AHEAD = 3  # copies kept ready

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.url = self.url.update_query_dict({"options": "-csynchronous_commit=off"})
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
        self._lock = threading.Condition()
        self._ready: list[str] = []
        self._used: list[str] = []
        self._error: BaseException | None = None
        self._closing = False
        self._worker: threading.Thread | None = None

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

    def _work(self) -> None:
        """Between tests: recycles (or drops) the used databases and keeps `AHEAD` ready."""
        try:
            with self._psycopg.connect(self._admin_dsn, autocommit=True) as admin:
                while True:
                    with self._lock:
                        while (
                            not self._closing and not self._used and len(self._ready) >= self.AHEAD
                        ):
                            self._lock.wait()
                        if self._closing:
                            return
                        used = self._used.pop(0) if self._used else None
                    name = self._recycle(admin, used) if used else None
                    if name is None:
                        name = f"{self.base}_{os.getpid()}_{next(_counter)}"
                        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
                    with self._lock:
                        self._ready.append(name)
                        self._lock.notify_all()
        except BaseException as error:
            with self._lock:
                self._error = error
                self._lock.notify_all()

    def _connect(self, name: str):
        dsn = self.url.set(drivername="postgresql", database=name)
        return self._psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True)

    def _recycle(self, admin, name: str) -> str | None:
        """`name` emptied back to the template's state, or None once it is dropped instead."""
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        for _ in range(100):  # a terminated backend takes a moment to go
            busy = admin.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = %s)"
                " + (SELECT count(*) FROM pg_prepared_xacts WHERE database = %s)",
                [name, name],
            ).fetchone()[0]
            if not busy:
                break
            time.sleep(0.02)
        reusable = not busy
        if reusable:
            with self._connect(name) as conn:
                reusable = conn.execute(_FINGERPRINT).fetchone()[0] == self._fingerprint
                if reusable:
                    _empty(conn)
        if not reusable:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return None
        return name

    def fresh(self) -> dict[str, str]:
        with self._lock:
            if self._worker is None:
                with self._connect(self.template_name) as conn:
                    self._fingerprint = conn.execute(_FINGERPRINT).fetchone()[0]
                self._worker = threading.Thread(target=self._work, name="test-databases")
                self._worker.daemon = True
                self._worker.start()
            self._lock.notify_all()
            while not self._ready and self._error is None:
                self._lock.wait()
            if self._error is not None:
                raise RuntimeError("could not prepare a test database") from self._error
            name = self._ready.pop(0)
            self._lock.notify_all()
        return self._env(name)

    def drop(self, env: dict[str, str]) -> None:
        with self._lock:
            self._used.append(make_url(env["DATABASE_URL"]).database)
            self._lock.notify_all()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        if self._worker is not None:
            self._worker.join()
        for name in [*self._ready, *self._used, self.template_name]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What a recycled database must share with the template, besides its rows: every object of the
# schema, its columns, constraints, indexes, owners and grants, row-level security and its policies,
# functions, triggers, types, extensions, the database's own grants and settings, the migrations'
# version. A database whose fingerprint differs is dropped, never used again.
_FINGERPRINT = """
SELECT md5(string_agg(item, '|' ORDER BY item)) FROM (
  SELECT 'rel:' || n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || c.relowner::regrole
         || ':' || coalesce(c.relacl::text, '') || ':' || c.relrowsecurity || c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT 'col:' || a.attrelid::regclass || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
         || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
         || ':' || coalesce(a.attacl::text, '') || ':' || a.attidentity::text || a.attgenerated::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'con:' || conrelid::regclass || ':' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'idx:' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'pol:' || polrelid::regclass || ':' || polname || ':' || polcmd::text || ':' || polpermissive
         || ':' || polroles::text || ':' || coalesce(pg_get_expr(polqual, polrelid), '')
         || ':' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
    FROM pg_policy
  UNION ALL
  SELECT 'fn:' || p.oid::regprocedure || ':' || md5(p.prosrc) || ':' || coalesce(p.proacl::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'trg:' || tgrelid::regclass || ':' || tgname || ':' || tgenabled::text
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'type:' || t.oid::regtype || ':' || coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
    FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
   WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.oid
  UNION ALL
  SELECT 'rule:' || ev_class::regclass || ':' || rulename FROM pg_rewrite r
    JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'ns:' || nspname || ':' || nspowner::regrole || ':' || coalesce(nspacl::text, '')
    FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT 'defacl:' || defaclrole::regrole || ':' || defaclnamespace || ':' || defaclobjtype::text
         || ':' || defaclacl::text FROM pg_default_acl
  UNION ALL
  SELECT 'ext:' || extname || ':' || extversion FROM pg_extension
  UNION ALL
  SELECT 'db:' || coalesce(datacl::text, '') || ':' || datallowconn || ':' || datconnlimit
    FROM pg_database WHERE datname = current_database()
  UNION ALL
  SELECT 'set:' || setrole || ':' || setconfig::text FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT 'lo:' || count(*) FROM pg_largeobject_metadata
  UNION ALL
  SELECT 'version:' || version_num FROM alembic_version
) AS fingerprint(item)
"""


def _empty(conn) -> None:
    """Delete the rows of every table of the public schema that has any (the migrations' version
    kept), and set every sequence used back to its start, as in the template (none used there).

    DELETE, not TRUNCATE: a TRUNCATE gives each table and index new files, and its commit waits
    for the disk (about a second here for the tables one test fills). Foreign keys and triggers
    are off while the rows go (`session_replication_role`), so the order does not matter: every
    table ends empty.
    """
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
    ]
    exists = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT FROM {name})"  # noqa: S608 - catalog names
        for name in tables
    )
    full = [name for (name,) in conn.execute(exists).fetchall()] if tables else []
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for name in full:
            conn.execute(f"DELETE FROM {name}")  # noqa: S608 - catalog names
        conn.execute(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
            " FROM pg_sequences WHERE last_value IS NOT NULL"
        )


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
