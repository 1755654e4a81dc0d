"""The composition root: `create_app()` wires settings, extensions, tenancy and both sides together.

gunicorn serves `wsgi:app`; the `flask` command finds `create_app`. The factory never runs migrations
and never starts a scheduler: those are separate commands, so gunicorn workers never race on them.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_datetime_format
from flask import Response, g, redirect, render_template, request, session
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, select, text
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import PROJECT_ROOT, load_settings
from config.logging import configure_logging, log_request
from migrations.render import render_item
from shared import cards, unit_of_work
from shared.accounts import sessions
from shared.accounts.sessions import SessionKind
from shared.cards import guard as card_guard
from shared.clock import business_today, local_time, utcnow
from shared.extensions import babel, csrf, db, limiter, login_manager, migrate
from shared.i18n import (
    LANGUAGES,
    SESSION_KEY,
    end_sentences_once,
    language_name,
    select_locale,
    supported,
)
from shared.invoices.models import Invoice
from shared.invoices.status import shown_status
from shared.invoices.terms import terms_choices, terms_label
from shared.money import format_money
from shared.passwords import use_cheap_hashing
from shared.tenancy import enter_tenant
from shared.web import mark_current, safe_next
from tenants.branding import logo_url
from tenants.hosts import BadHost, Side, moved_portal_host, parse_host, portal_tenant, side_of
from tenants.models import Tenant
from tenants.routing import SidedFlask, split_url_maps


def create_app(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None):
    app = SidedFlask(
        __name__,
        root_path=str(PROJECT_ROOT),
        template_folder="shared/templates",
        static_folder="shared/static",
        instance_path=load_settings(environ)["INSTANCE_PATH"],
    )
    app.config.from_mapping(load_settings(environ))
    app.config.update(overrides or {})
    configure_logging(app)
    unit_of_work.init_app(app)  # first, so that its after_request handler runs last
    register_extensions(app)
    register_database_events(app)
    register_blueprints(app)
    register_request_log(app)  # before tenancy, so the tenant lookup's time is counted
    register_tenancy(app)
    card_guard.init_app(app)  # after tenancy (its refusal wears the portal's shell), before views
    register_security(app)
    register_errorhandlers(app)
    register_templates(app)
    register_commands(app)
    register_domain_hooks()
    return app


def register_extensions(app: SidedFlask) -> None:
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["TRUSTED_PROXIES"]), x_proto=1)
    import shared.schema  # noqa: F401 - every model registered before the metadata is used

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        compare_type=True,
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_item,
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.sign_in"
    # Portal users who need to sign in go to their vendor's portal sign-in, not the console's.
    login_manager.blueprint_login_views = {"portal": "portal.sign_in"}
    login_manager.login_message = ""
    login_manager.session_protection = "strong"
    limiter.init_app(app)
    cards.init_app(app)
    if app.config["TESTING"]:
        use_cheap_hashing()

    @login_manager.user_loader
    def load_user(sign_in_id: str):
        # The id is a session kept on the server ("staff:<key>", "payer:<key>"), not a user id.
        parsed = sessions.parse(sign_in_id)
        if parsed is None:
            return None
        kind, key = parsed
        if kind is SessionKind.STAFF and g.get("side") == Side.CONSOLE:
            from tenants.staff import load_staff

            return load_staff(key, utcnow())
        if (
            kind is SessionKind.PAYER
            and g.get("side") == Side.PORTAL
            and g.get("tenant") is not None
        ):
            # Only on a portal host, only for the tenant of that host (the query is scoped to it).
            from shared.portal_accounts import load_payer

            return load_payer(key, utcnow())
        return None


def register_database_events(app: SidedFlask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()


def register_blueprints(app: SidedFlask) -> None:
    from customer_portal import bp as portal_bp
    from vendor_console import bp as console_bp
    from vendor_console.api import bp as api_bp

    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)  # on the console host, like every blueprint but the portal's
    app.register_blueprint(portal_bp)
    portal_blueprints = {"portal"}
    if app.config["CARD_GATEWAY"] == "sandbox":
        # The sandbox's tokeniser stands for the processor: only in test mode, on portal hosts.
        from shared.cards.tokenizer import bp as card_sandbox_bp

        app.register_blueprint(card_sandbox_bp)
        portal_blueprints.add(card_sandbox_bp.name)
    from shared.cards.webhooks import bp as stripe_webhooks_bp

    app.register_blueprint(stripe_webhooks_bp)  # console host; 404 without STRIPE_WEBHOOK_SECRET

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means not ready
            return Response("database unreachable\n", mimetype="text/plain"), 503
        return Response("ready\n", mimetype="text/plain"), 200

    @app.post("/language", endpoint="set_language")
    def set_language():
        code = supported(request.form.get("lang"))
        if code:
            session[SESSION_KEY] = code
            if current_user.is_authenticated:
                current_user.language = code
        return redirect(safe_next(request.form.get("next"), "/"))

    split_url_maps(app, portal_blueprints=portal_blueprints)


_HOSTLESS = {"static", "healthz", "readyz"}


def register_tenancy(app: SidedFlask) -> None:
    @app.before_request
    def pick_side_and_tenant() -> None:
        """The request's host picks the side and the tenant once, before any view."""
        g.tenant = None
        raw_host = request.environ.get("HTTP_HOST")
        if request.endpoint in _HOSTLESS:
            g.side = side_of(raw_host, app.config["CONSOLE_HOST"])
            return
        try:
            host = parse_host(raw_host)
        except BadHost:
            g.side = None
            return render_template("errors/bad_host.html"), 400
        g.side = side_of(raw_host, app.config["CONSOLE_HOST"])
        if g.side is Side.CONSOLE:
            if request.blueprint == "api":
                return None  # the API's key names the tenant, never a session cookie
            # The console host names no tenant; the signed-in staff user does.
            if current_user.is_authenticated:
                enter_tenant(current_user.tenant_id)
                g.tenant = db.session.scalars(
                    select(Tenant).where(Tenant.id == current_user.tenant_id)
                ).one_or_none()
            return None
        if g.side is Side.PORTAL:
            tenant = portal_tenant(host, app.config["PORTAL_DOMAIN"])
            if tenant is None:
                moved = moved_portal_host(host, app.config["PORTAL_DOMAIN"], utcnow())
                if moved:
                    # 302, not 301: the old name is freed after 90 days and must not stay cached.
                    query = (
                        "?" + request.query_string.decode("latin-1") if request.query_string else ""
                    )
                    return redirect(f"{request.scheme}://{moved}{request.path}{query}", 302)
                # Better than revealing anything: the same neutral page for every unknown host.
                g.side = None
                return render_template("errors/unknown_host.html"), 404
            g.tenant = tenant
            enter_tenant(tenant.id)
        return None


def register_security(app: SidedFlask) -> None:
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Portal links carry capabilities in their path: never send them to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user and getattr(current_user, "is_authenticated", False):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_request_log(app: SidedFlask) -> None:
    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        ok = 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if ok else uuid.uuid4().hex

    @app.after_request
    def log_it(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log_request(response)
        return response


def register_errorhandlers(app: SidedFlask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You are not allowed to do that."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This page does not accept that kind of request."),
        410: lambda: _("This link has expired."),
        413: lambda: _("What you sent is too large. Files can be at most 4 MB."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = _(
            "This form has expired or did not come from this site. "
            "Nothing was changed: please go back, reload the page and try again."
        )
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = messages.get(code, lambda: error.name)()
        # Keep what the error says in its own headers (Allow on a 405, Retry-After on a 429).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/api/"):
            return (
                {
                    "error": {
                        "code": error.name.lower().replace(" ", "_"),
                        "message": message,
                        "fields": {},
                    }
                },
                code,
                headers,
            )
        return render_template("errors/error.html", code=code, message=message), code, headers


def register_templates(app: SidedFlask) -> None:
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_name"] = language_name
    end_sentences_once(app.jinja_env)
    app.jinja_env.globals["logo_url"] = logo_url  # absolute, on the tenant's portal host (emails)
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["mark_current"] = mark_current
    app.jinja_env.filters["vendor_time"] = vendor_time
    app.jinja_env.filters["shown_status"] = shown_status_today
    app.jinja_env.filters["terms"] = terms_label
    app.jinja_env.globals["terms_choices"] = terms_choices
    app.jinja_env.filters["datelong"] = lambda value: format_date(value, "long")
    app.jinja_env.filters["datemedium"] = lambda value: format_date(value, "medium")
    app.jinja_env.filters["quantity"] = lambda milli: format_decimal(Decimal(milli) / 1000)
    app.jinja_env.filters["percent_bp"] = lambda bp: format_percent(
        Decimal(bp) / 10000, "#,##0.##%"
    )

    @app.context_processor
    def layout_values() -> dict[str, Any]:
        return {
            "languages": LANGUAGES,
            "side": g.get("side"),
            "tenant": g.get("tenant"),
            "show_outbox": app.config["SHOW_OUTBOX"],
        }


def vendor_time(value: datetime | None) -> str:
    """An instant on the vendor's clock, in the page's language, with the zone and no seconds."""
    if value is None:
        return ""
    tenant = g.get("tenant")
    local = local_time(tenant, value) if tenant is not None else value
    locale = get_locale()
    pattern = get_datetime_format("medium", locale=locale)
    day = babel_format_date(local.date(), "medium", locale=locale)
    clock = babel_format_time(local.timetz(), "short", locale=locale)
    return f"{pattern.format(clock, day)} {local.tzname()}"


def shown_status_today(invoice: Invoice) -> str:
    """The invoice's shown status on the vendor's today (Overdue when it is), once a request."""
    tenant = g.get("tenant")
    if tenant is None:
        return invoice.status.value  # no vendor, no business day: the stored status
    if "business_today" not in g:
        g.business_today = business_today(tenant, utcnow())
    return shown_status(invoice, g.business_today).value


def register_domain_hooks() -> None:
    """Connect the domain packages that must not import each other: a returned ACH debit that
    disables a bank account stops the AutoPay paying from it, and an invoice AutoPay will pay gets
    no reminder. Idempotent (create_app runs many times in the tests)."""
    from shared import autopay
    from shared.ach import hooks as ach_hooks
    from shared.invoices import reminders
    from shared.mail import register_renderer
    from shared.payments import receipts

    ach_hooks.on_account_disabled(autopay.stop_autopay_for_bank_account)
    reminders.covered_by_autopay = autopay.covers
    register_renderer(receipts.RECEIPT_LATER, receipts.render_receipt_later)


def register_commands(app: SidedFlask) -> None:
    from shared.ach.cli import ach_cli
    from shared.bank_accounts import encryption_cli
    from shared.demo import demo_cli
    from shared.jobs.cli import jobs_cli
    from shared.mail import mail_cli
    from tenants.cli import tenants_cli

    app.cli.add_command(tenants_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(encryption_cli)
    app.cli.add_command(ach_cli)
    app.cli.add_command(jobs_cli)
