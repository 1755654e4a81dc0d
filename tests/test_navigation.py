"""The header on both sides: one navigation that collapses into a menu on a phone without
JavaScript (a labelled checkbox), and the current page marked with aria-current."""

from __future__ import annotations

import re

from shared.web import mark_current
from tests.conftest import submit

NAV = '<a href="/">Dashboard</a> <a href="/invoices">Invoices</a> <a href="/settings/branding">Settings</a>'


def marked(html: str) -> dict[str, str]:
    return dict(re.findall(r'<a href="([^"]*)" aria-current="(\w+)"', str(html)))


def test_the_link_to_this_page_is_the_page():
    assert marked(mark_current(NAV, "/invoices")) == {"/invoices": "page"}
    assert marked(mark_current(NAV, "/")) == {"/": "page"}


def test_a_page_inside_a_section_marks_the_section():
    assert marked(mark_current(NAV, "/invoices/12")) == {"/invoices": "true"}
    assert marked(mark_current(NAV, "/settings/fees")) == {"/settings/branding": "true"}


def test_a_page_outside_every_section_marks_nothing_and_home_is_no_section():
    assert marked(mark_current(NAV, "/account/password")) == {}
    assert marked(mark_current(NAV, "/outbox")) == {}


def test_query_strings_and_escaped_hrefs_are_compared_by_path():
    nav = '<a href="/invoices?status=open&amp;page=2">Open</a>'
    assert marked(mark_current(nav, "/invoices")) == {"/invoices?status=open&amp;page=2": "page"}


def test_the_console_header_is_a_menu_and_marks_the_current_page(signed_in_console):
    body = signed_in_console.get("/invoices").get_data(as_text=True)
    header = body.split("<main", 1)[0]
    # The menu button is a label for a checkbox: it opens without a script, and no script is sent.
    assert (
        '<input type="checkbox" id="menu-toggle" class="menu-toggle" aria-controls="site-menu">'
        in header
    )
    assert '<label for="menu-toggle" class="menu-button">' in header
    assert "<script" not in header
    assert '<a href="/invoices" aria-current="page">Invoices</a>' in header
    assert header.count('aria-current="page"') == 1
    body = signed_in_console.get("/settings/fees").get_data(as_text=True)
    assert '<a href="/settings/branding" aria-current="true">Settings</a>' in body
    body = signed_in_console.get("/account/password").get_data(as_text=True)
    assert 'href="/account/password" aria-current="page"' in body


def test_the_menu_button_speaks_spanish(signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    body = signed_in_console.get("/").get_data(as_text=True)
    assert "Menú</label>" in body
    assert "Menu</label>" not in body


def test_every_portal_page_shows_the_logo_with_the_vendors_name(app):
    from shared.clock import utcnow
    from shared.demo import load_demo
    from shared.tenancy import leave_tenant
    from shared.unit_of_work import unit_of_work
    from tests.conftest import host_client

    with unit_of_work():
        load_demo(utcnow())
    leave_tenant()
    portal = host_client(app, "acme.localhost:8000")
    for path in ["/", "/sign-in", "/faq", "/help", "/forgot-password", "/no-such-page"]:
        header = portal.get(path).get_data(as_text=True).split("<main", 1)[0]
        assert 'class="brand-logo"' in header, path
        assert 'alt="Acme Supply Co."' in header, path
        assert '<span class="brand-title" aria-hidden="true">Acme Supply Co.</span>' in header, path
