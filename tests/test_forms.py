"""Every form of the code base gets the text checks of shared.forms without asking for them.

The test walks every form class the packages define: one that does not derive from CleanForm or
CleanSubForm, or whose text field lets a NUL through, or a name field that is not a NameField,
fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Field, FieldList, FormField, SelectFieldBase, StringField
from wtforms.fields.core import UnboundField
from wtforms.form import BaseForm

import customer_portal
import shared
import tenants
import vendor_console
from shared.forms import CleanForm, CleanSubForm, NameField

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (shared, tenants, vendor_console, customer_portal)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _our_forms() -> list[type]:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    ours = [
        cls
        for cls in _subclasses(BaseForm)
        if cls.__module__.split(".")[0] in {p.__name__ for p in PACKAGES}
        and cls not in (CleanForm, CleanSubForm)
    ]
    return sorted(ours, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


FORMS = _our_forms()


def test_the_walk_finds_the_forms():
    names = {cls.__qualname__ for cls in FORMS}
    assert {"CustomerForm", "InvoiceForm", "LineForm", "AssistanceForm", "FaqForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_form_derives_from_a_clean_base(form_class):
    assert issubclass(form_class, (CleanForm, CleanSubForm))


def test_no_module_builds_a_form_on_another_base():
    # `FlaskForm()` used directly for a CSRF-only post would escape the walk above.
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in Path(package.__path__[0]).glob("**/*.py")
        if path != ROOT / "shared" / "forms.py"
        and re.search(r"\bFlaskForm\b|\bwtforms\.Form\b|import (.*, )?Form\b", path.read_text())
    ]
    assert offenders == []


def _unbound(form_class: type) -> dict[str, UnboundField]:
    return {
        name: value
        for name in dir(form_class)
        if isinstance(value := getattr(form_class, name, None), UnboundField)
    }


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_names_are_name_fields(form_class):
    for name, field in _unbound(form_class).items():
        if name == "name" or name.endswith("_name"):
            assert issubclass(field.field_class, NameField), f"{form_class.__name__}.{name}"


def _leaves(fields) -> list[Field]:
    found = []
    for field in fields:
        if isinstance(field, FieldList):
            found += _leaves(field.entries)
        elif isinstance(field, FormField):
            found += _leaves(field.form)
        else:
            found.append(field)
    return found


def _text_fields(form) -> list[Field]:
    return [f for f in _leaves(form) if isinstance(f, StringField | SelectFieldBase)]


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_a_nul_in_any_text_field_of_any_form_is_refused(app, form_class):
    bad = "a\x00b"
    kwargs = {"meta": {"csrf": False}} if issubclass(form_class, CleanForm) else {}
    with app.test_request_context():
        empty = form_class(formdata=None, **kwargs)
        fields = _text_fields(empty)
        if not fields:
            pytest.skip("no text field")
        data = MultiDict({field.name: bad for field in fields})
        form = form_class(formdata=data, **kwargs)
        for field in _text_fields(form):
            if isinstance(field, SelectFieldBase):
                field.choices = [(bad, "bad")]  # a valid choice: only the text check can refuse
        form.validate()
        for field in _text_fields(form):
            assert field.errors == ["Remove the NUL character (U+0000) from this text."], field.name


def test_text_areas_keep_their_line_breaks_normalised(app):
    from vendor_console.support import ReplyForm

    with app.test_request_context():
        form = ReplyForm(
            formdata=MultiDict({"body": "one\r\ntwo\rthree\tend"}), meta={"csrf": False}
        )
        assert form.validate()
        assert form.body.data == "one\ntwo\nthree\tend"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\nb", "Remove the line breaks from this text: it takes a single line."),
        ("a\tb", "Remove the tab characters from this text."),
        ("a\x1bb", "Remove the control character U+001B from this text."),
        ("a\x7fb", "Remove the control character U+007F from this text."),
        ("a\x85b", "Remove the control character U+0085 from this text."),
        ("a\x9bb", "Remove the control character U+009B from this text."),
    ],
)
def test_single_line_fields_refuse_breaks_tabs_and_controls(app, value, message):
    from vendor_console.forms import VoidForm

    with app.test_request_context():
        form = VoidForm(formdata=MultiDict({"reason": value}), meta={"csrf": False})
        assert not form.validate()
        assert form.reason.errors == [message]


@pytest.mark.parametrize(
    "char",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_names_refuse_text_direction_controls_and_other_text_does_not(app, char):
    from customer_portal.forms import AssistanceForm

    data = {"name": f"Ann{char}e", "email": "a@b.test", "message": f"Hi {char}there"}
    with app.test_request_context():
        form = AssistanceForm(formdata=MultiDict(data), meta={"csrf": False})
        assert not form.validate()
        code = f"U+{ord(char):04X}"
        assert form.name.errors == [
            f"Remove the text-direction control character {code}: a name cannot hold it."
        ]
        assert form.message.errors == []
