"""One implementation of emailed links and passwords for staff and payers (issue 7, point 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from shared.accounts.credentials import (
    ResetLinks,
    SignedLinks,
    invitation_hash,
    new_invitation_token,
)
from shared.clock import utcnow
from shared.passwords import hash_password
from shared.tokens import token_hash


@dataclass
class Person:
    id: int
    password_hash: str


def test_a_link_of_one_purpose_opens_nothing_of_another(app):
    with app.app_context():
        claim = SignedLinks("payer-claim", timedelta(days=3))
        confirm = SignedLinks("payer-email-confirm", timedelta(days=3))
        token = claim.make(t=1, c=2)
        assert claim.read(token) == {"t": 1, "c": 2}
        assert confirm.read(token) is None
        for junk in (None, "", "abc", token[:-2] + "xx", "x" * 501):
            assert claim.read(junk) is None


def test_signed_links_expire(app, time_machine):
    with app.app_context():
        links = SignedLinks("payer-claim", timedelta(days=3))
        token = links.make(c=2)
        time_machine.move_to(utcnow() + timedelta(days=3, minutes=1))
        assert links.read(token) is None


def test_a_reset_link_dies_once_the_password_changes(app):
    with app.app_context():
        links = ResetLinks("staff-password-reset", timedelta(hours=1))
        person = Person(7, hash_password("first-password-1"))
        token = links.make_for(person)
        user_id, data = links.user_id(token)
        assert user_id == 7
        assert links.still_valid(person, data)
        person.password_hash = hash_password("second-password-2")
        assert not links.still_valid(person, data)
        assert not links.still_valid(None, data)


@pytest.mark.parametrize("token", [None, "", "x" * 101])
def test_no_invitation_is_looked_up_for_a_token_no_link_carries(token):
    assert invitation_hash(token) is None


def test_an_invitation_token_is_kept_only_as_its_hash():
    now = utcnow()
    token, hashed, expires_at = new_invitation_token(now)
    assert hashed == token_hash(token) != token
    assert invitation_hash(token) == hashed
    assert expires_at - now == timedelta(days=7)
