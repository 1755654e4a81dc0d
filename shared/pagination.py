"""Pages of a long list: one COUNT and one SELECT, however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from shared.extensions import db

T = TypeVar("T")
PER_PAGE = 25


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(raw: Any) -> int:
    """A page number from a query string: anything odd is page 1."""
    text = str(raw or "")
    return int(text) if text.isdigit() and 0 < len(text) < 7 and int(text) > 0 else 1


def paginate(query: Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Rows of page `number` of an ORM SELECT (the last page when `number` is past the end)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = int(total or 0)
    last = max(1, -(-total // per_page))
    number = min(max(1, number), last)
    items = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(list(items), total, number, per_page)
