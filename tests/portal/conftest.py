"""Fixtures of the customer-portal tests (factories live in tests/portal/factories.py)."""

from tests.portal.factories import make_shop  # noqa: F401 - a fixture, offered to these tests
