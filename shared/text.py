"""Text as people and programs send it: the characters no field of ours takes, found in one place.

Control characters (C0, DEL, C1) are refused everywhere, except tab and line feed in multi-line
text, whose line breaks are first normalised to `\\n` (browsers send `\\r\\n`). A NUL would even be a
500 on PostgreSQL, which cannot store it. Names also refuse the bidirectional override and isolate
characters, which make a name read differently on screen from what it is ("Trojan Source").
Lone surrogates (possible in JSON) are refused too: they cannot be encoded to UTF-8 at all.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# C0 controls, DEL and the C1 controls; tab and line feed are told apart where text is multi-line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Character classes for patterns that describe a field (the OpenAPI document, HTML `pattern`).
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
CONTROL_CLASS_MULTILINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # \r passes: it is normalised
BIDI_CLASS = r"\u202a-\u202e\u2066-\u2069"


class TextError(ValueError):
    """Text holding a character it may not; `message` names it, in the current language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise_newlines(value: str) -> str:
    """`\\r\\n` and a lone `\\r` become `\\n`."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def problem(value: str, *, multiline: bool = False, name: bool = False) -> str | None:
    """What is wrong with `value`, translated, or None when it is clean (newlines not normalised)."""
    if _SURROGATE.search(value):
        return str(_l("This text has characters that are not valid."))
    control = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if control:
        char = control.group(0)
        if char == "\x00":
            return str(_l("Remove the NUL character (U+0000) from this text."))
        if char in "\n\r":
            return str(_l("Remove the line breaks from this text: it takes a single line."))
        if char == "\t":
            return str(_l("Remove the tab characters from this text."))
        return str(_l("Remove the control character %(code)s from this text.", code=_code(char)))
    if name:
        bidi = _BIDI.search(value)
        if bidi:
            return str(
                _l(
                    "Remove the text-direction control character %(code)s: a name cannot hold it.",
                    code=_code(bidi.group(0)),
                )
            )
    return None


def clean(value: str, *, multiline: bool = False, name: bool = False) -> str:
    """`value` with its line breaks normalised (multi-line text); TextError if it holds a
    character it may not."""
    if multiline:
        value = normalise_newlines(value)
    message = problem(value, multiline=multiline, name=name)
    if message is not None:
        raise TextError(message)
    return value


def searchable(value: str) -> str:
    """A search query with the characters no stored text holds taken out, so that searching for
    them finds nothing instead of failing."""
    value = _SURROGATE.sub("", _CONTROL.sub(" ", value or ""))
    return _BIDI.sub("", value)
