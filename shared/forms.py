"""The base of every form: each text field is checked by shared.text without having to ask for it.

`CleanForm` (a page's form, with CSRF) and `CleanSubForm` (a row inside FormField/FieldList) run
the check on every field whose value is text: StringField and all its kinds (email, password,
search, hidden, text area…) and the choice fields. Text areas are multi-line: their line breaks are
normalised to `\\n` before the other validators run. A `NameField` also refuses text-direction
controls. tests/test_forms.py fails if a form of the code base does not derive from one of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, StringField, TextAreaField

from shared.text import normalise_newlines, problem


class NameField(StringField):
    """The name of a person or a business: also refuses bidirectional override characters."""


def _leaves(fields: Iterable[Field]) -> Iterable[Field]:
    # A FormField's form is a CleanSubForm that checks itself; FieldList entries are walked here.
    for field in fields:
        if isinstance(field, FieldList):
            yield from _leaves(field.entries)
        elif not isinstance(field, FormField):
            yield field


def _normalise(form: Form) -> None:
    for field in _leaves(form):
        if isinstance(field, TextAreaField) and isinstance(field.data, str):
            field.data = normalise_newlines(field.data)


def _check(form: Form) -> bool:
    clean = True
    for field in _leaves(form):
        if not isinstance(field.data, str):
            continue
        message = problem(
            field.data,
            multiline=isinstance(field, TextAreaField),
            name=isinstance(field, NameField),
        )
        if message is not None:
            field.errors = [message]  # what is wrong first and alone: the rest follows from it
            clean = False
    return clean


class CleanForm(FlaskForm):
    """A page's form (CSRF-protected) whose text fields hold no control characters."""

    def validate(self, extra_validators: Any = None) -> bool:
        _normalise(self)
        valid = super().validate(extra_validators=extra_validators)
        return _check(self) and valid


class CleanSubForm(Form):
    """A form inside a CleanForm (FormField, FieldList of FormField): CSRF is the parent's."""

    def validate(self, extra_validators: Any = None) -> bool:
        _normalise(self)
        valid = super().validate(extra_validators=extra_validators)
        return _check(self) and valid
