from flask_babel import force_locale

from shared.invoices.terms import terms_code, terms_label


def test_known_terms_are_stored_as_codes():
    assert terms_code("Net 30") == "net_30"
    assert terms_code(" net  15 ") == "net_15"
    assert terms_code("Pago a 30 días") == "net_30"
    assert terms_code("net_45") == "net_45"
    assert terms_code("Due on receipt") == "due_on_receipt"
    assert terms_code("") == ""


def test_other_text_is_kept_as_written():
    assert terms_code("Half now, half on delivery") == "Half now, half on delivery"
    assert terms_code("Net 31") == "Net 31"


def test_a_code_is_shown_in_the_readers_language(app):
    with app.test_request_context():
        with force_locale("en"):
            assert terms_label("net_30") == "Net 30"
        with force_locale("es"):
            assert terms_label("net_30") == "Pago a 30 días"
            assert terms_label("due_on_receipt") == "Pago al recibir"
            assert terms_label("Half now") == "Half now"
