"""The FAQ editor: the vendor's own questions and answers per language; until edited, the defaults."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import FieldList, FormField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from shared.errors import InputError
from shared.faq import (
    MAX_ANSWER,
    MAX_ENTRIES,
    MAX_QUESTION,
    FaqItem,
    faq_for,
    restore_default_faq,
    save_faq,
)
from shared.forms import CleanForm, CleanSubForm
from shared.i18n import LANGUAGES
from shared.unit_of_work import discard
from vendor_console import bp

BLANK_ROWS = 2


class EntryForm(CleanSubForm):
    position = IntegerField(
        _l("Position"),
        validators=[
            Optional(),
            NumberRange(min=1, max=999, message=_l("Use a number from 1 to 999.")),
        ],
    )
    question = StringField(
        _l("Question"),
        validators=[Length(max=MAX_QUESTION, message=_l("Use at most %(max)d characters."))],
    )
    answer = TextAreaField(
        _l("Answer"),
        validators=[Length(max=MAX_ANSWER, message=_l("Use at most %(max)d characters."))],
    )


class FaqForm(CleanForm):
    entries = FieldList(FormField(EntryForm), min_entries=0, max_entries=MAX_ENTRIES + BLANK_ROWS)


def _language() -> str:
    language = request.args.get("lang", "en")
    return language if language in LANGUAGES else "en"


def _ordered(form: FaqForm) -> tuple[list[FaqItem], list[int]]:
    """The rows in the order their positions say, and which form row each came from."""
    rows = sorted(
        (entry.position.data or index + 1, index) for index, entry in enumerate(form.entries)
    )
    order = [index for _position, index in rows]
    entries = list(form.entries)
    items = [FaqItem(entries[i].question.data or "", entries[i].answer.data or "") for i in order]
    return items, order


def _show_error(form: FaqForm, error: InputError, order: list[int]) -> None:
    """Put a domain error on the row and field it names (`entries-<n>-answer`), or on the form."""
    _prefix, _sep, rest = error.field.partition("-")
    index_text, _sep, name = rest.partition("-")
    if _prefix == "entries" and index_text.isdigit() and int(index_text) < len(order):
        row = list(form.entries)[order[int(index_text)]]
        subfield = row.form._fields.get(name)
        if subfield is not None:
            subfield.errors = [*subfield.errors, error.message]
            return
    form.form_errors.append(error.message)


@bp.route("/faq", methods=["GET", "POST"])
@login_required
def faq_editor():
    language = _language()
    form = FaqForm()
    refused = False
    if form.validate_on_submit():
        items, order = _ordered(form)
        try:
            save_faq(language, items)
        except InputError as error:
            discard()  # the page shows the FAQ as saved, not half of the new one
            _show_error(form, error, order)
            refused = True
        else:
            flash(_("The FAQ is saved."), "success")
            return redirect(url_for("console.faq_editor", lang=language))
    items, own = faq_for(g.tenant, language)
    if request.method == "GET":
        for index, item in enumerate(items):
            form.entries.append_entry(
                {"position": index + 1, "question": item.question, "answer": item.answer}
            )
        for _blank in range(BLANK_ROWS):
            form.entries.append_entry()
    status = 422 if refused or form.errors or form.form_errors else 200
    return render_template(
        "console/faq.html", form=form, language=language, own=own, languages=LANGUAGES
    ), status


@bp.route("/faq/restore", methods=["POST"])
@login_required
def restore_faq():
    language = _language()
    if CleanForm().validate_on_submit():
        restore_default_faq(language)
        flash(_("The default FAQ is back."), "success")
    return redirect(url_for("console.faq_editor", lang=language))
