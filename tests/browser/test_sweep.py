"""The sweep: every page of both sides, at 390 × 844 and 1280 × 800, in English and in Spanish.

It fails where the document is wider than the window (the page scrolls sideways), where axe-core
reports a serious or critical violation, or where a visible string of a Spanish page is the very
string of the English one (names, numbers, emails and the brand allowed). A picture of every page
is kept in test-results/sweep/ (git-ignored; CI keeps it as an artefact).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select, update

from shared.clock import business_today, utcnow
from shared.customers.models import Customer
from shared.demo import CUSTOMERS, DEMO_NAME, DEMO_OWNER, DEMO_SLUG, INVOICES, PAYERS
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from shared.portal_accounts.models import PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from shared.unit_of_work import unit_of_work
from tenants.models import StaffUser, Tenant
from tests.browser import demo_site
from tests.browser.conftest import SCREENSHOTS

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
LOCALES = {"en": "en-US", "es": "es-US"}
HARBOR = next(p for p in PAYERS if p[1] == "billing@harborview.test")

# Strings that are the same in both languages on purpose: the language switch's own names, words
# Spanish borrows as they are, and the product's marks.
SAME_IN_BOTH = {
    "English",
    "Español",
    "Email",
    "Personal",
    "Total",
    "Subtotal",
    "CSV",
    "PDF",
    "ACH",
    "API",
    "DNS",
    "CNAME",
    "No",
    "Error",
}


def data_strings() -> set[str]:
    """What the demo itself says (names, emails, descriptions): the same in any language."""
    strings = {DEMO_NAME, "Acme", DEMO_SLUG, DEMO_OWNER[0]}
    for customer in CUSTOMERS:
        strings |= {customer.name, customer.email, customer.client_number}
    for number, _client, _age, _net, _electronic, lines in INVOICES:
        strings.add(number)
        strings |= {description for description, _q, _p in lines}
    strings |= {p[1] for p in PAYERS}
    return strings


def is_data(text: str, allowed: set[str]) -> bool:
    if text in allowed or text in SAME_IN_BOTH:
        return True
    if not re.search(r"[A-Za-zÀ-ÿ]{2}", text):
        return True  # numbers, amounts, dates in digits, punctuation
    bare = text.strip("()[]«»“”\"'.,:;")
    if re.fullmatch(r"\S+@\S+|https?://\S+|[\w.-]+\.(test|localhost)(:\d+)?/?\S*", bare):
        return True
    if re.fullmatch(r"\d[Xx]+", bare):
        return True  # the shape of a number ("2XXXXXXX"), shown as an example
    stripped = text
    for value in sorted(allowed, key=len, reverse=True):
        stripped = stripped.replace(value, "")
    return not re.search(r"[A-Za-zÀ-ÿ]{3}", stripped)  # only data, joined by signs or digits


VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const element = node.parentElement;
    // What people wrote (form values, emails kept in the outbox, content marked translate=no) is
    // theirs, in whichever language they wrote it.
    if (!text || !element || element.closest("script, style, option, code, textarea, .mail-text, [translate=no]")) continue;
    if (!element.checkVisibility()) continue;
    out.push(text);
  }
  document.querySelectorAll("input[placeholder], input[type=submit]").forEach(i => {
    if (i.checkVisibility()) out.push((i.placeholder || i.value).trim());
  });
  return out.filter(Boolean);
}"""


@pytest.fixture
def demo(live_server):
    demo_site.load(live_server)
    app = live_server.app
    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).one()
        tenant_id = tenant.id
        with tenant_scope(tenant_id):
            with unit_of_work():
                harbor = db.session.scalars(
                    select(Customer).where(Customer.email == HARBOR[1])
                ).one()
                # A draft, so that the edit page is swept too.
                draft = create_invoice(
                    customer_id=harbor.id,
                    number="400199",
                    issue_date=business_today(tenant, utcnow()),
                    due_date=business_today(tenant, utcnow()) + timedelta(days=30),
                    terms="net_30",
                    lines=[LineInput("Dental supplies, quarterly order", Decimal(1), 12500)],
                )
                ids = {
                    "harbor": harbor.id,
                    "overdue": db.session.scalar(
                        select(Invoice.id).where(Invoice.number == "400101")
                    ),
                    "draft": draft.id,
                    "mail": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id)),
                }
        leave_tenant()
        db.session.remove()
    live_server.ids = ids
    live_server.tenant_id = tenant_id
    return live_server


def speak(server, language: str) -> None:
    """The demo's staff and payers save `language` (a signed-in person's choice wins)."""
    with server.app.app_context():
        with tenant_scope(server.tenant_id), unit_of_work():
            db.session.execute(update(StaffUser).values(language=language))
            db.session.execute(update(PortalUser).values(language=language))
        leave_tenant()
        db.session.remove()


def console_pages(ids) -> list[str]:
    return [
        "/",
        "/customers",
        "/customers/new",
        f"/customers/{ids['harbor']}",
        "/customers/import",
        "/invoices",
        "/invoices/new",
        f"/invoices/{ids['overdue']}",
        f"/invoices/{ids['draft']}/edit",
        "/invoices/import",
        "/team",
        "/settings/branding",
        "/settings/preview",
        "/settings/address",
        "/settings/fees",
        "/settings/time-zone",
        "/api-keys",
        "/support",
        "/faq",
        "/outbox",
        f"/outbox/{ids['mail']}",
        "/account/password",
    ]


ANONYMOUS_CONSOLE = ["/sign-in", "/sign-up", "/forgot-password"]
ANONYMOUS_PORTAL = ["/", "/sign-in", "/forgot-password", "/faq", "/help", "/no-such-page"]


def portal_pages(ids) -> list[str]:
    return [
        "/",
        "/invoices",
        f"/invoices/{ids['overdue']}",
        "/invoices/paid",
        "/profile",
        "/colleagues",
        "/faq",
        "/help",
    ]


class Sweep:
    def __init__(self, server, browser) -> None:
        self.server = server
        self.browser = browser
        self.problems: list[str] = []
        self.texts: dict[str, dict[str, list[str]]] = {"en": {}, "es": {}}

    def visit(self, page, url: str, key: str, language: str, viewport: str) -> None:
        page.goto(url)
        name = f"{language}-{viewport}-{re.sub(r'[^a-z0-9]+', '_', key.lower()).strip('_')}"
        width = page.evaluate("document.documentElement.scrollWidth")
        window = page.evaluate("window.innerWidth")
        if width > window:
            self.problems.append(f"{name}: the document is {width} px wide in a {window} px window")
        results = Axe().run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in violation["nodes"]][:3]
                self.problems.append(
                    f"{name}: axe {violation['id']} ({violation['impact']}) {targets}"
                )
        if viewport == "laptop":
            self.texts[language][key] = page.evaluate(VISIBLE_TEXT)
        (SCREENSHOTS / "sweep").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "sweep" / f"{name}.png"), full_page=True)

    def run(self, language: str, viewport: str) -> None:
        server, ids = self.server, self.server.ids
        context = self.browser.new_context(viewport=VIEWPORTS[viewport], locale=LOCALES[language])
        page = context.new_page()
        page.set_default_timeout(10_000)
        for path in ANONYMOUS_CONSOLE:
            self.visit(page, server.console(path), f"console {path}", language, viewport)
        for path in ANONYMOUS_PORTAL:
            self.visit(page, server.portal(DEMO_SLUG, path), f"portal {path}", language, viewport)
        self.visit(page, server.portal("nobody", "/"), "unknown host", language, viewport)
        demo_site.sign_in_console(server, page)
        for path in console_pages(ids):
            self.visit(page, server.console(path), f"console {path} signed in", language, viewport)
        demo_site.sign_in_portal(server, page)
        for path in portal_pages(ids):
            self.visit(
                page, server.portal(DEMO_SLUG, path), f"portal {path} signed in", language, viewport
            )
        context.close()

    def english_left_in_spanish(self) -> list[str]:
        allowed = data_strings()
        leftovers = []
        for key, spanish in self.texts["es"].items():
            english = set(self.texts["en"].get(key, []))
            for text in sorted(set(spanish) & english):
                if not is_data(text, allowed):
                    leftovers.append(f"{key}: {text!r}")
        return leftovers


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="the sweep looks at pages, not at the database: .ci/run runs it once, on SQLite",
)
def test_every_page_fits_is_accessible_and_speaks_spanish(demo, browser):
    sweep = Sweep(demo, browser)
    for language in ("en", "es"):
        speak(demo, language)
        for viewport in VIEWPORTS:
            sweep.run(language, viewport)
    assert len(sweep.texts["es"]) >= 40  # the sweep really saw the pages
    problems = sweep.problems + [
        f"English on a Spanish page: {s}" for s in sweep.english_left_in_spanish()
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("language", "overdue"), [("en", "Overdue"), ("es", "Vencida")])
def test_the_demos_overdue_invoice_says_so_on_home_list_and_its_page(
    demo, browser, language, overdue
):
    speak(demo, language)
    context = browser.new_context(viewport=VIEWPORTS["laptop"], locale=LOCALES[language])
    page = context.new_page()
    demo_site.sign_in_portal(demo, page)
    for path in ("/", "/invoices"):
        page.goto(demo.portal(DEMO_SLUG, path))
        row = page.locator("tr", has=page.get_by_role("link", name="400101", exact=True))
        badge = row.locator(".badge-overdue")
        assert badge.inner_text() == overdue, path
    page.goto(demo.portal(DEMO_SLUG, f"/invoices/{demo.ids['overdue']}"))
    assert page.locator("h1 .badge-overdue").inner_text() == overdue
    context.close()
