"""Column types every model shares (the dates' UTCDateTime lives with the clock)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A Python enum stored as its value (not the member's name) in a VARCHAR, checked by a named
    constraint on every database; an unknown string is refused before it reaches the database."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
