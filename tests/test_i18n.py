"""Every string a person reads has its Spanish translation; the locale follows the person."""

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from config import PROJECT_ROOT
from tests.conftest import PASSWORD, host_client, submit

CATALOGUE = PROJECT_ROOT / "shared/translations/es/LC_MESSAGES/messages.po"
SOURCES = ["config", "tenants", "shared", "vendor_console", "customer_portal"]


def source_messages() -> set[str]:
    """Every translatable string in the code and templates, as `make translations` extracts them."""
    with open(PROJECT_ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = set()
    for directory in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / directory, method_map, options_map, keywords=keywords
        ):
            msgid = message if isinstance(message, str) else message[0]
            found.add((_context, msgid) if _context else msgid)
    return found


def untranslated(po_path: Path, wanted: set[str]) -> list[str]:
    """Messages that are missing from the catalogue, empty or fuzzy there."""
    with open(po_path, "rb") as fh:
        catalogue = read_po(fh)
    missing = []
    # A message with a context (pgettext) is a (context, msgid) pair, translated apart.
    for wanted_message in sorted(wanted, key=lambda m: m if isinstance(m, str) else m[1]):
        context, msgid = (
            wanted_message if isinstance(wanted_message, tuple) else (None, wanted_message)
        )
        entry = catalogue.get(msgid, context=context)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(wanted_message)
        elif isinstance(entry.string, tuple) and not all(entry.string):
            missing.append(wanted_message)
    return missing


def test_every_message_has_its_spanish_translation():
    wanted = source_messages()
    assert len(wanted) > 100  # the extraction really found the code's strings
    assert untranslated(CATALOGUE, wanted) == []


def test_the_check_fails_for_a_missing_or_fuzzy_translation(tmp_path: Path):
    catalogue = Catalog(locale="es")
    catalogue.add("Sign in", "Iniciar sesión")
    catalogue.add("Sign out", "Cerrar sesión", flags=["fuzzy"])
    path = tmp_path / "messages.po"
    with open(path, "wb") as fh:
        write_po(fh, catalogue)
    assert untranslated(path, {"Sign in", "Sign out", "Team"}) == ["Sign out", "Team"]


def test_spanish_from_accept_language(app):
    client = host_client(app, "localhost:8000")
    page = client.get("/sign-in", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    body = page.get_data(as_text=True)
    assert '<html lang="es">' in body
    assert "Inicie sesión en su consola" in body


def test_lang_parameter_beats_accept_language(app):
    client = host_client(app, "localhost:8000")
    body = client.get("/sign-in?lang=es", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Inicie sesión en su consola" in body
    body = client.get("/sign-in?lang=xx", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in to your console" in body


def test_the_language_switch_is_remembered(app):
    client = host_client(app, "localhost:8000")
    response = submit(client, "/language", {"lang": "es", "next": "/sign-in"}, form_path="/sign-in")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "Inicie sesión en su consola" in client.get("/sign-in").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.com/", "//evil.com", "javascript:alert(1)"])
def test_the_language_switch_never_redirects_away(app, target):
    client = host_client(app, "localhost:8000")
    response = submit(client, "/language", {"lang": "es", "next": target}, form_path="/sign-in")
    assert response.headers["Location"] == "/"


def test_a_signed_in_users_saved_choice_wins(app, make_tenant):
    make_tenant("acme")
    client = host_client(app, "localhost:8000")
    submit(client, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    submit(client, "/language", {"lang": "es", "next": "/"}, form_path="/")
    # Another browser, same user: the saved choice beats the browser's English.
    other = host_client(app, "localhost:8000")
    submit(other, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    body = other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in body


def test_the_tenants_default_language_comes_last(app, make_tenant):
    make_tenant("acme", language="es")
    portal = host_client(app, "acme.localhost:8000")
    assert '<html lang="es">' in portal.get("/").get_data(as_text=True)
    assert '<html lang="en">' in portal.get("/", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_emails_are_in_the_recipients_language(app, make_tenant):
    from sqlalchemy import select

    from shared.extensions import db
    from shared.mail.models import OutboxMessage

    make_tenant("acme", "Acme", language="es")
    welcome = db.session.scalars(select(OutboxMessage).execution_options(all_tenants=True)).one()
    assert welcome.language == "es"
    assert "está listo" in welcome.subject
    assert "¡Bienvenido!" in welcome.text_body
    assert '<html lang="es">' in welcome.html_body
