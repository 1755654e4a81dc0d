"""The "Need assistance?" form reaches the vendor's inbox and email; staff reply and close; the FAQ shows the
seeds' questions until the vendor edits them."""

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from shared.faq.models import FaqEntry
from shared.support.models import SupportRequest, SupportStatus
from shared.tenancy import tenant_scope
from tests.conftest import PASSWORD, csrf_token, host_client, submit
from tests.portal.factories import open_as_guest, outbox, sign_up

HELP = {
    "name": "Pat Jones",
    "email": "pat@harbor.test",
    "phone": "+1 (305) 555-0100",
    "invoice_number": "400001",
    "message": "I was charged twice for invoice 400001.",
}


def requests_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(SupportRequest).execution_options(all_tenants=True)
    )


def console_for(app, email):
    client = host_client(app, "localhost:8000")
    assert submit(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_every_portal_page_offers_help(app, make_shop):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    for path in (
        "/",
        "/invoices",
        f"/invoices/{shop.invoice_ids[0]}",
        "/faq",
        "/sign-in",
        "/lookup",
    ):
        body = browser.get(path).get_data(as_text=True)
        assert 'href="/help"' in body, path
        assert "Need assistance?" in body


def test_a_request_reaches_the_inbox_and_the_vendors_email(app, make_shop):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    response = submit(browser, "/help", HELP)
    assert response.status_code == 200
    assert "our team will contact you within 1–2 business days" in response.get_data(as_text=True)
    with tenant_scope(shop.tenant.id):
        ask = db.session.scalars(select(SupportRequest)).one()
        assert ask.customer_id == shop.customer_id
        assert ask.status is SupportStatus.OPEN
        assert (ask.name, ask.email, ask.invoice_number) == (
            "Pat Jones",
            "pat@harbor.test",
            "400001",
        )
    # No support address configured: the owner's email gets it.
    [mail] = outbox("owner@acme.test", "support_request")
    assert "I was charged twice" in mail.text_body
    assert f"http://localhost:8000/support/{ask.id}" in mail.text_body


def test_the_vendors_support_address_wins_when_set(app, make_shop):
    from shared.extensions import db

    shop = make_shop()
    shop.tenant.support_email = "help@acme.test"  # set in the console's branding settings
    db.session.commit()
    submit(shop.browser(app), "/help", HELP)
    assert outbox("help@acme.test", "support_request")
    assert outbox("owner@acme.test", "support_request") == []


def test_a_signed_in_payers_details_are_filled_in(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop, email="pat@harbor.test")
    page = browser.get("/help?invoice=400002").get_data(as_text=True)
    assert 'value="pat@harbor.test"' in page
    assert 'value="400002"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required"),
        ("name", "N" * 121, "at most 120 characters"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("phone", "5" * 41, "at most 40 characters"),
        ("invoice_number", "4" * 21, "at most 20 characters"),
        ("message", "", "This field is required"),
        ("message", "x" * 5001, "at most 5000 characters"),
    ],
)
def test_bad_input_is_refused_and_kept(app, make_shop, field, value, message):
    shop = make_shop()
    response = submit(shop.browser(app), "/help", {**HELP, field: value})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert requests_count() == 0
    if field != "message":
        assert "I was charged twice" in body


def test_hostile_input_is_shown_escaped_everywhere(app, make_shop):
    shop = make_shop()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    submit(shop.browser(app), "/help", {**HELP, "name": hostile[:120], "message": hostile})
    console = console_for(app, "owner@acme.test")
    for path in ("/support", f"/support/{_only_request_id(shop)}"):
        body = console.get(path).get_data(as_text=True)
        assert "<script>alert" not in body
        assert "&lt;script&gt;" in body
    [mail] = outbox("owner@acme.test", "support_request")
    assert "<script>alert" not in mail.html_body


def _only_request_id(shop) -> int:
    with tenant_scope(shop.tenant.id):
        return db.session.scalars(select(SupportRequest.id)).one()


def test_help_requests_are_rate_limited(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    statuses = [submit(browser, "/help", HELP).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert requests_count() == 5


def test_a_spanish_payer_reads_spanish(app, make_shop):
    shop = make_shop(language="es")
    browser = open_as_guest(app, shop)
    page = browser.get("/help").get_data(as_text=True)
    assert "¿Necesita ayuda?" in page
    assert "nuestro equipo se pondrá en contacto con usted dentro de 1 a 2 días hábiles" in page
    bad = submit(browser, "/help", {**HELP, "email": "nope"}).get_data(as_text=True)
    assert "Ingrese una dirección de email válida" in bad or "email válid" in bad


# --- the console inbox ------------------------------------------------------------------------


def test_staff_list_open_reply_and_close(app, make_shop):
    shop = make_shop()
    submit(shop.browser(app), "/help", {**HELP, "message": "Where is my receipt?"})
    ask_id = _only_request_id(shop)
    console = console_for(app, "owner@acme.test")
    inbox = console.get("/support").get_data(as_text=True)
    assert "Pat Jones" in inbox
    assert "Where is my receipt?" in inbox
    page = console.get(f"/support/{ask_id}").get_data(as_text=True)
    assert "+1 (305) 555-0100" in page
    response = submit(console, f"/support/{ask_id}", {"body": "We sent it again.", "close": "y"})
    assert response.status_code == 302
    [reply] = outbox("pat@harbor.test", "support_reply")
    assert "We sent it again." in reply.text_body
    with tenant_scope(shop.tenant.id):
        assert db.session.get(SupportRequest, ask_id).status is SupportStatus.CLOSED
    assert "Pat Jones" not in console.get("/support").get_data(as_text=True)
    assert "Pat Jones" in console.get("/support?status=closed").get_data(as_text=True)
    response = submit(console, f"/support/{ask_id}/reopen", {}, form_path=f"/support/{ask_id}")
    assert response.status_code == 302
    assert "Pat Jones" in console.get("/support").get_data(as_text=True)
    response = submit(console, f"/support/{ask_id}/close", {}, form_path=f"/support/{ask_id}")
    assert "Pat Jones" not in console.get("/support").get_data(as_text=True)


def test_a_reply_goes_out_in_the_askers_language(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    submit(browser, "/help", HELP)
    console = console_for(app, "owner@acme.test")
    submit(console, f"/support/{_only_request_id(shop)}", {"body": "Ya está."})
    [reply] = outbox("pat@harbor.test", "support_reply")
    assert reply.language == "es"
    assert "Hola" in reply.text_body


def test_an_empty_or_oversized_reply_is_refused(app, make_shop):
    shop = make_shop()
    submit(shop.browser(app), "/help", HELP)
    ask_id = _only_request_id(shop)
    console = console_for(app, "owner@acme.test")
    for body, message in (("", "This field is required"), ("x" * 10_001, "at most 10000")):
        response = submit(console, f"/support/{ask_id}", {"body": body})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert outbox("pat@harbor.test", "support_reply") == []


def test_another_tenants_request_answers_404_in_the_console(app, make_shop):
    acme = make_shop("acme")
    globex = make_shop("globex")
    submit(globex.browser(app), "/help", HELP)
    foreign = _only_request_id(globex)
    console = console_for(app, "owner@acme.test")
    assert "Pat Jones" not in console.get("/support?status=all").get_data(as_text=True)
    assert console.get(f"/support/{foreign}").status_code == 404
    token = csrf_token(console, "/support")
    for action in ("close", "reopen"):
        assert (
            console.post(f"/support/{foreign}/{action}", data={"csrf_token": token}).status_code
            == 404
        )
    assert (
        console.post(f"/support/{foreign}", data={"csrf_token": token, "body": "hi"}).status_code
        == 404
    )
    assert acme  # acme's owner saw none of globex's requests


def test_the_inbox_runs_the_same_queries_for_5_or_50_requests(app, make_shop, count_queries):
    shop = make_shop()
    console = console_for(app, "owner@acme.test")

    def add(n):
        with tenant_scope(shop.tenant.id):
            for i in range(n):
                db.session.add(
                    SupportRequest(name=f"P{i}", email="p@x.test", message="m", language="en")
                )
            db.session.commit()

    def queries():
        with count_queries() as counter:
            assert console.get("/support").status_code == 200
        return counter.count

    add(5)
    few = queries()
    add(45)
    assert queries() == few


# --- FAQ --------------------------------------------------------------------------------------


def test_the_default_faq_in_both_languages(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    page = browser.get("/faq").get_data(as_text=True)
    assert "What payment methods are accepted?" in page
    assert "Can I set up an account?" in page
    assert "Yes. Open the link" in page
    assert "No, currently" not in page
    assert "3% processing fee" in page
    spanish = browser.get("/faq?lang=es").get_data(as_text=True)
    assert "¿Qué formas de pago aceptan?" in spanish
    assert "¿Puedo abrir una cuenta?" in spanish


def test_the_fee_in_the_faq_follows_the_vendors_setting(app, make_shop):
    from shared.extensions import db

    shop = make_shop()
    shop.tenant.card_fee_bp = 250  # set in the console's fee settings
    db.session.commit()
    assert "2.5% processing fee" in shop.browser(app).get("/faq").get_data(as_text=True)
    shop.tenant.card_fee_bp = 0
    db.session.commit()
    assert "There is no fee" in shop.browser(app).get("/faq").get_data(as_text=True)


def test_the_vendor_edits_the_faq_per_language(app, make_shop):
    shop = make_shop()
    console = console_for(app, "owner@acme.test")
    editor = console.get("/faq?lang=es").get_data(as_text=True)
    assert "¿Qué formas de pago aceptan?" in editor  # the defaults, ready to edit
    data = {
        "entries-0-position": "2",
        "entries-0-question": "¿Aceptan cheques?",
        "entries-0-answer": "No.\nSolo pagos en línea.",
        "entries-1-position": "1",
        "entries-1-question": "¿Quiénes somos?",
        "entries-1-answer": "<b>Acme</b>",
        "entries-2-position": "",
        "entries-2-question": "",
        "entries-2-answer": "",
    }
    response = submit(console, "/faq?lang=es", data)
    assert response.status_code == 302
    portal = shop.browser(app)
    spanish = portal.get("/faq?lang=es").get_data(as_text=True)
    assert spanish.index("¿Quiénes somos?") < spanish.index("¿Aceptan cheques?")
    assert "&lt;b&gt;Acme&lt;/b&gt;" in spanish
    assert "¿Qué formas de pago aceptan?" not in spanish
    # English is untouched: still the defaults.
    assert "What payment methods are accepted?" in portal.get("/faq?lang=en").get_data(as_text=True)
    # Restoring brings the defaults back.
    submit(console, "/faq/restore?lang=es", {}, form_path="/faq?lang=es")
    assert "¿Qué formas de pago aceptan?" in portal.get("/faq?lang=es").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"entries-0-question": "Q?", "entries-0-answer": ""}, "Write the answer"),
        ({"entries-0-question": "", "entries-0-answer": "A."}, "Write the question"),
        ({"entries-0-question": "Q" * 301, "entries-0-answer": "A."}, "at most 300"),
        ({"entries-0-question": "Q?", "entries-0-answer": "A" * 5001}, "at most 5000"),
        ({"entries-0-question": "", "entries-0-answer": ""}, "Keep at least one question"),
        (
            {"entries-0-position": "abc", "entries-0-question": "Q?", "entries-0-answer": "A."},
            "Not a valid integer",
        ),
    ],
)
def test_the_faq_editor_refuses_bad_input(app, make_shop, data, message):
    make_shop()
    console = console_for(app, "owner@acme.test")
    response = submit(console, "/faq?lang=en", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    count = db.session.scalar(
        select(func.count()).select_from(FaqEntry).execution_options(all_tenants=True)
    )
    assert count == 0


def test_one_vendors_faq_is_not_anothers(app, make_shop):
    make_shop("acme")
    globex = make_shop("globex")
    console = console_for(app, "owner@acme.test")
    submit(
        console, "/faq?lang=en", {"entries-0-question": "Acme only?", "entries-0-answer": "Yes."}
    )
    assert "Acme only?" not in globex.browser(app).get("/faq").get_data(as_text=True)
    assert "Acme only?" in host_client(app, "acme.localhost:8000").get("/faq").get_data(
        as_text=True
    )


def test_a_lang_link_keeps_the_portal_in_that_language(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "¿Necesita ayuda?" in browser.get("/help?lang=es").get_data(as_text=True)
    submit(browser, "/help", HELP)
    with tenant_scope(shop.tenant.id):
        assert db.session.scalars(select(SupportRequest.language)).one() == "es"
