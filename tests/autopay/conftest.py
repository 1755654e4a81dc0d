"""Fixtures of the AutoPay tests (factories live in tests/autopay/world.py)."""

from tests.autopay.world import world  # noqa: F401 - a fixture, offered to these tests
from tests.portal.factories import make_shop  # noqa: F401 - a fixture, offered to these tests
