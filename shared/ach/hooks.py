"""What else must happen when a return disables a bank account (AutoPay stops on it).

The ACH code does not know AutoPay; AutoPay registers here (`on_account_disabled(fn)`), and
`account_disabled` calls every registered function, inside the importer's unit of work.
"""

from __future__ import annotations

from collections.abc import Callable

AccountDisabled = Callable[[object, object, str], None]
_listeners: list[AccountDisabled] = []


def on_account_disabled(listener: AccountDisabled) -> AccountDisabled:
    """Register `listener(tenant, bank_account, reason)`; usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def account_disabled(tenant, bank_account, reason: str) -> None:
    for listener in list(_listeners):
        listener(tenant, bank_account, reason)
