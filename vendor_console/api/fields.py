"""The API's field types: strict JSON in, exact values out, and every message translatable.

JSON has no decimal type, so money, quantities and rates travel as decimal strings ("1234.56"); a
JSON number is refused there rather than passed through a float. Integers and booleans must be real
JSON integers and booleans (no "5", no 1 for true). Text is checked by shared.text, as every form
field is: no control characters (a NUL cannot even be stored on PostgreSQL), no lone surrogates, and
in names no text-direction controls. Each field also describes
itself to the OpenAPI document (metadata), so the document and the checks say the same thing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from shared import money, text
from shared.money import NumberError, cents_to_decimal

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
_AMOUNT = re.compile(r"^[0-9]{1,11}(\.[0-9]{1,2})?$")
_QUANTITY = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,3})?$")
_PERCENT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INSTANT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)

# Messages shared by every field.
BASE_MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field cannot be null."),
    "validator_failed": _l("This value is not valid."),
}


class ApiField(fields.Field):
    """Marshmallow field whose messages are translated when the error is raised."""

    default_error_messages = BASE_MESSAGES

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        return ValidationError(str(self.error_messages[key]))


def _fail(message: Any) -> ValidationError:
    return ValidationError(str(message))


class Text(ApiField, fields.String):
    """A JSON string of at most `max_length` characters; `blank=False` needs a visible character;
    `multiline` lets tab and line feed in (a `\\r\\n` becomes `\\n`); `name` refuses text-direction
    controls."""

    def __init__(
        self,
        *,
        max_length: int,
        blank: bool = True,
        multiline: bool = False,
        name: bool = False,
        pattern: tuple[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """`pattern` is (regex, message): the value must match the regex, or the message is shown."""
        self.max_length, self.blank, self.multiline = max_length, blank, multiline
        self.is_name = name
        self.regex = (re.compile(pattern[0]), pattern[1]) if pattern else None
        control = text.CONTROL_CLASS_MULTILINE if multiline else text.CONTROL_CLASS
        if name:
            control += text.BIDI_CLASS
        described = f"^[^{control}]*$" if blank else f"^[^{control}]*[^\\s{control}][^{control}]*$"
        if pattern:
            described = pattern[0]
        metadata = {"maxLength": max_length, "pattern": described, **kwargs.pop("metadata", {})}
        if not blank:
            metadata["minLength"] = 1
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise _fail(_l("Send text (a JSON string)."))
        try:
            value = text.clean(value, multiline=self.multiline, name=self.is_name)
        except text.TextError as error:
            raise _fail(error.message) from None
        if len(value) > self.max_length:
            raise _fail(_l("Use at most %(n)d characters.", n=self.max_length))
        if not self.blank and not value.strip():
            raise _fail(_l("This field cannot be empty."))
        if self.regex and not self.regex[0].fullmatch(value):
            raise _fail(self.regex[1])
        return value


class Choice(ApiField, fields.String):
    """One of a few fixed strings."""

    def __init__(self, choices: list[str], **kwargs: Any) -> None:
        self.choices = choices
        super().__init__(metadata={"enum": choices, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise _fail(_l("Use one of: %(choices)s.", choices=", ".join(self.choices)))
        return value


class Id(ApiField, fields.Integer):
    """The id of an object: a JSON integer from 1 to 2³¹ − 1."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"minimum": 1, "maximum": MAX_ID, **kwargs.pop("metadata", {})}
        super().__init__(strict=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise _fail(_l("Send an id: a whole number (a JSON integer), at least 1."))
        return value


class Flag(ApiField, fields.Boolean):
    """A JSON true or false, nothing that merely looks like one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise _fail(_l("Send true or false."))
        return value


def _number(value: Any, pattern: re.Pattern[str], parse: Any, message: Any) -> Any:
    """`value` read by shared.money's grammar in its strict form (`parse`); `pattern` is what the
    OpenAPI document says, and also bounds the digits."""
    if not isinstance(value, str):
        raise _fail(message)
    negative = value.startswith("-")
    try:
        number = parse(value[1:] if negative else value, strict=True)
    except NumberError:
        # Not the grammar's own messages: they speak of commas, which the strict form never takes.
        raise _fail(message) from None
    if negative:
        raise _fail(_l("This cannot be negative."))
    if not pattern.fullmatch(value):
        raise _fail(message)
    return number


class Amount(ApiField, fields.String):
    """Money as a decimal string with at most two decimals ("1234.56"); in Python, integer cents."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "pattern": _AMOUNT.pattern,
            "example": "1234.56",
            "description": "A decimal string in the invoice's currency, at most 2 decimals.",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(cents_to_decimal(value))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        message = _l('Send an amount as a string like "1234.56" (at most 2 decimals).')
        return _number(value, _AMOUNT, money.parse_amount, message)


class Quantity(ApiField, fields.String):
    """A positive decimal string with at most three decimals ("1.5")."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": _QUANTITY.pattern, "example": "1.5", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        # Stored in thousandths: 1500 → "1.5", 2000 → "2".
        return format((Decimal(value) / 1000).normalize(), "f")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        message = _l('Send a quantity as a string like "1.5" (at most 3 decimals).')
        quantity = _number(value, _QUANTITY, money.parse_quantity, message)
        if quantity <= 0:
            raise _fail(_l("A quantity must be more than zero."))
        return quantity


class Percent(ApiField, fields.String):
    """A rate in percent as a decimal string ("8.25"), 0 to 100; in Python, basis points."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": _PERCENT.pattern, "example": "8.25", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str((Decimal(value) / 100).quantize(Decimal("0.01")))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        message = _l('Send a rate in percent as a string like "8.25", from 0 to 100.')
        rate_bp = _number(value, _PERCENT, money.parse_percent_bp, message)
        if rate_bp > 10000:
            raise _fail(message)
        return rate_bp


class Day(ApiField, fields.Date):
    """An ISO 8601 calendar date ("2026-11-30") in 2000–2099."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        message = _l('Send a date as a string like "2026-11-30".')
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise _fail(message)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _fail(message) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise _fail(_l("Use a date from 2000 to 2099."))
        return day


class Instant(ApiField, fields.DateTime):
    """An ISO 8601 date and time with its offset ("2026-11-30T14:00:00Z"); in Python, aware UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        message = _l('Send a date and time with its offset, like "2026-11-30T14:00:00Z".')
        if not isinstance(value, str) or not _INSTANT.fullmatch(value):
            raise _fail(message)
        text = value.upper().replace("Z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:  # Python reads at most 6 decimals of a second: drop the rest
            digits = re.match(r"[0-9]+", rest).group(0)  # type: ignore[union-attr]
            text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError):
            raise _fail(message) from None


class List(ApiField, fields.List):
    """A JSON array of at most `max_items` items."""

    def __init__(self, inner: fields.Field, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        metadata = {"maxItems": max_items, **kwargs.pop("metadata", {})}
        super().__init__(inner, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _fail(_l("Send a list (a JSON array)."))
        if len(value) > self.max_items:
            raise _fail(_l("Send at most %(n)d items.", n=self.max_items))
        return super()._deserialize(value, attr, data, **kwargs)


class Nested(ApiField, fields.Nested):
    """An object inside the body (an invoice line)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail(_l("Send an object (a JSON object)."))
        return super()._deserialize(value, attr, data, **kwargs)


class QueryInteger(ApiField, fields.Integer):
    """A whole number written in the query string, within bounds."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any) -> None:
        self.minimum, self.maximum = minimum, maximum
        metadata = {"minimum": minimum, "maximum": maximum, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,10}", value):
            raise _fail(
                _l("Send a whole number from %(lo)d to %(hi)d.", lo=self.minimum, hi=self.maximum)
            )
        number = int(value)
        if not self.minimum <= number <= self.maximum:
            raise _fail(
                _l("Send a whole number from %(lo)d to %(hi)d.", lo=self.minimum, hi=self.maximum)
            )
        return number


class QueryFlag(ApiField, fields.Boolean):
    """`true` or `false` in the query string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value not in ("true", "false"):
            raise _fail(_l("Send true or false."))
        return value == "true"
