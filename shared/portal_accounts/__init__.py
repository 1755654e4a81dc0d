"""Portal accounts: payers sign up for a customer, sign in, reset passwords, confirm their email and
invite colleagues to a business account.

A payer's identity is per tenant (the same email at two vendors is two users). Operations act on the
tenant in scope, take the acting payer as an argument, flush and queue mail, and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from shared.accounts import credentials, sessions
from shared.accounts.credentials import ResetLinks, SignedLinks
from shared.accounts.sessions import SessionKind
from shared.clock import utcnow
from shared.customers.models import Customer, CustomerKind
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import supported
from shared.mail import send_email
from shared.mailbox import normalize_email
from shared.passwords import hash_password, verify_password
from shared.portal_accounts.models import PortalAccount, PortalInvitation, PortalRole, PortalUser
from shared.tenancy import current_tenant_id, scoped_get
from tenants.hosts import portal_host
from tenants.models import Tenant
from tenants.routing import portal_url

VERIFY_LINKS = SignedLinks("payer-email-confirm", timedelta(days=3))
RESET_LINKS = ResetLinks("payer-password-reset", credentials.RESET_MAX_AGE)
MAX_PENDING_INVITATIONS = 50


class AccountExists(InputError):
    """The customer already has a portal account: sign in, or be invited to it."""


def _link(tenant: Tenant, endpoint: str, **values: object) -> str:
    host = portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    return portal_url(current_app, host, endpoint, **values)


def _name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if len(name) > 120:
        raise InputError("name", str(_l("Use at most %(n)d characters.", n=120)))
    return name


def _email_taken(email: str, except_id: int | None = None) -> bool:
    query = select(PortalUser.id).where(PortalUser.email == email)
    if except_id is not None:
        query = query.where(PortalUser.id != except_id)
    return db.session.scalar(query) is not None


def account_of(customer_id: int) -> PortalAccount | None:
    return db.session.scalar(select(PortalAccount).where(PortalAccount.customer_id == customer_id))


def _new_user(
    customer_id: int, email: str, password: str, role: PortalRole, name: str, language: str
) -> PortalUser:
    return PortalUser(
        customer_id=customer_id,
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        language=supported(language) or "en",
    )


# --- claiming: the customer's own billing address creates the account ---------------------------

CLAIM_LINKS = SignedLinks("payer-claim", timedelta(days=3))


def mask_address(email: str) -> str:
    """`p•••@harbor.test`: enough to recognise one's own address, not to learn someone else's."""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}\u2022\u2022\u2022@{domain}"


def billing_addresses(customer: Customer) -> list[str]:
    """Where the vendor sends this customer's invoices: the addresses that may claim its account."""
    seen: list[str] = []
    for raw in customer.recipients:
        try:
            address = normalize_email(raw)
        except InputError:
            continue  # an address the vendor typed badly cannot prove anything
        if address not in seen:
            seen.append(address)
    return seen


def _already_has_account(customer: Customer) -> AccountExists:
    return AccountExists(
        "",
        str(
            _l(
                "%(customer)s already has a portal account. Sign in, or reset your password if "
                "you forgot it.",
                customer=customer.name,
            )
        ),
    )


@dataclass(frozen=True)
class Claim:
    """What a claim link, once followed, will do: create the account, or add an admin to it."""

    customer: Customer
    email: str
    kind: CustomerKind
    account: PortalAccount | None  # None: the link creates the customer's account


@dataclass(frozen=True)
class ClaimLink:
    sent_to: str  # masked, for the page that says where to look
    link: str


def request_claim(
    tenant: Tenant, customer: Customer, *, email: str, kind: CustomerKind | str, language: str
) -> ClaimLink:
    """Email one of the customer's billing addresses a link that creates its portal account (or,
    when the business already has one, makes the address's owner one of its admins).

    Holding a pay link or passing a guest lookup proves only that one has seen an invoice; the
    account goes to whoever reads the customer's own billing mail.
    """
    email = normalize_email(email)
    if email not in billing_addresses(customer):
        raise InputError(
            "email",
            str(
                _l(
                    "Use the email address %(vendor)s sends your invoices to. To join a "
                    "colleague's account, ask one of its admins to invite you.",
                    vendor=tenant.name,
                )
            ),
        )
    account = account_of(customer.id)
    if account is not None and not account.is_business:
        raise _already_has_account(customer)
    if account is not None:
        kind = account.kind
    try:
        kind = CustomerKind(kind)
    except ValueError:
        raise InputError("kind", str(_l("Choose Personal or Business."))) from None
    if _email_taken(email):
        raise InputError(
            "email",
            str(
                _l(
                    "An account with this email already exists. Sign in, or reset your password "
                    "if you forgot it."
                )
            ),
        )
    token = CLAIM_LINKS.make(t=tenant.id, c=customer.id, e=email, k=kind.value)
    link = _link(tenant, "portal.claim", token=token)
    send_email(
        email,
        "payer_claim",
        language,
        tenant=tenant,
        customer=customer,
        claim_link=link,
        days=CLAIM_LINKS.max_age.days,
        joining=account is not None,
    )
    return ClaimLink(mask_address(email), link)


def open_claim(tenant: Tenant, token: str) -> Claim | None:
    """The claim a link stands for, while it can still be completed; None otherwise."""
    data = CLAIM_LINKS.read(token)
    if data is None or data.get("t") != tenant.id or not isinstance(data.get("c"), int):
        return None
    customer = scoped_get(Customer, data["c"])
    email, kind = data.get("e"), data.get("k")
    if customer is None or customer.archived_at is not None or not isinstance(email, str):
        return None
    # The address must still be on file, and not yet have an account (which also makes it single use).
    if email not in billing_addresses(customer) or _email_taken(email):
        return None
    try:
        kind = CustomerKind(kind)
    except ValueError:
        return None
    account = account_of(customer.id)
    if account is not None and not account.is_business:
        return None
    return Claim(customer, email, account.kind if account else kind, account)


def complete_claim(
    tenant: Tenant, token: str, *, name: str, password: str, language: str
) -> PortalUser:
    """Follow a claim link: the account (or a new admin of it) for the address the link reached."""
    claim = open_claim(tenant, token)
    if claim is None:
        raise InputError("", str(_l("This link has expired or was already used.")))
    credentials.check_new_password(password)
    customer = claim.customer
    account = claim.account
    if account is None:
        account = PortalAccount(customer_id=customer.id, kind=claim.kind)
        db.session.add(account)
    user = _new_user(customer.id, claim.email, password, PortalRole.ADMIN, _name(name), language)
    user.email_verified_at = utcnow()  # the link reached this address
    db.session.add(user)
    db.session.flush()
    _tell_billing_addresses(tenant, customer, user, new_account=claim.account is None)
    return user


def _tell_billing_addresses(
    tenant: Tenant, customer: Customer, user: PortalUser, *, new_account: bool
) -> None:
    """Every new account and every new admin is told to the customer's billing addresses (and, for
    an admin, to the account's other admins): an unexpected one does not go unseen."""
    addresses = billing_addresses(customer)
    if not new_account:
        admins = db.session.scalars(
            select(PortalUser.email).where(
                PortalUser.customer_id == customer.id,
                PortalUser.role == PortalRole.ADMIN,
                PortalUser.id != user.id,
            )
        )
        addresses += [a for a in admins if a not in addresses]
    for address in addresses:
        if address == user.email:
            continue
        send_email(
            address,
            "payer_account_created" if new_account else "payer_new_admin",
            customer.language,
            tenant=tenant,
            customer=customer,
            user_email=user.email,
            help_link=_link(tenant, "portal.assistance"),
        )


# --- email confirmation -----------------------------------------------------------------------


def send_email_confirmation(tenant: Tenant, user: PortalUser, address: str) -> None:
    """Email `address` a link that confirms it belongs to this user (their email, or a new one)."""
    token = VERIFY_LINKS.make(t=tenant.id, u=user.id, e=address)
    send_email(
        address,
        "payer_confirm_email",
        user.language or tenant.default_language,
        tenant=tenant,
        confirm_link=_link(tenant, "portal.confirm_email", token=token),
        days=VERIFY_LINKS.max_age.days,
        changing=address != user.email,
    )


def confirm_email(tenant: Tenant, token: str) -> PortalUser:
    """Mark the address in the token confirmed; a pending new address becomes the user's email."""
    invalid = InputError("token", str(_l("This link has expired or is not valid.")))
    data = VERIFY_LINKS.read(token)
    if data is None or data.get("t") != tenant.id or not isinstance(data.get("u"), int):
        raise invalid
    user = scoped_get(PortalUser, data["u"])
    address = data.get("e")
    if user is None or not isinstance(address, str):
        raise invalid
    if address == user.email:
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        return user
    if address != user.pending_email:
        raise invalid  # superseded by a later change, or already applied
    if _email_taken(address, except_id=user.id):
        raise InputError(
            "token", str(_l("Another account uses this email now. Choose another address."))
        )
    old = user.email
    user.email = address
    user.pending_email = None
    user.email_verified_at = utcnow()
    send_email(
        old,
        "payer_email_changed",
        user.language or tenant.default_language,
        tenant=tenant,
        new_email=address,
        help_link=_link(tenant, "portal.assistance"),
    )
    return user


# --- sign-in and sessions ---------------------------------------------------------------------


def authenticate(email: str, password: str) -> PortalUser | None:
    """The payer of the tenant in scope with this email and password, or None (same time either way)."""
    try:
        email = normalize_email(email)
    except InputError:
        verify_password(None, password)
        return None
    user = db.session.scalar(select(PortalUser).where(PortalUser.email == email))
    if user is None:
        verify_password(None, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def load_payer(key: str, now: datetime) -> PortalUser | None:
    """The payer behind a portal session key on the tenant in scope, while the session lives."""
    if current_tenant_id() is None:
        return None
    row = sessions.find(SessionKind.PAYER, key, now=now)
    user = scoped_get(PortalUser, row.portal_user_id) if row is not None else None
    if user is not None:
        user.sign_in_id = f"{SessionKind.PAYER.value}:{key}"
    return user


def start_session(user: PortalUser, *, now: datetime, user_agent: str = "") -> str:
    """Note the sign-in and open a session kept on the server."""
    user.last_sign_in_at = now
    return sessions.start(SessionKind.PAYER, user, now=now, user_agent=user_agent)


def end_session(sign_in_id: str | None) -> None:
    sessions.end(sign_in_id)


def _set_password(user: PortalUser, new_password: str) -> None:
    # Every session ends, the one changing it too: that browser starts a new one.
    credentials.set_password(user, SessionKind.PAYER, new_password)


def change_password(user: PortalUser, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password or ""):
        raise InputError("current_password", str(_l("This is not your current password.")))
    _set_password(user, new_password)


# --- password reset ---------------------------------------------------------------------------


def request_password_reset(tenant: Tenant, email: str, language: str) -> None:
    """Email a reset link if this tenant has a payer with this email; silent otherwise."""
    try:
        email = normalize_email(email)
    except InputError:
        return
    user = db.session.scalar(select(PortalUser).where(PortalUser.email == email))
    if user is None:
        return
    token = RESET_LINKS.make_for(user, t=tenant.id)
    send_email(
        user.email,
        "payer_password_reset",
        user.language or language,
        tenant=tenant,
        reset_link=_link(tenant, "portal.reset_password", token=token),
        minutes=int(RESET_LINKS.max_age.total_seconds() // 60),
    )


def user_for_reset_token(tenant: Tenant, token: str) -> PortalUser | None:
    found = RESET_LINKS.user_id(token)
    if found is None or found[1].get("t") != tenant.id:
        return None
    user = scoped_get(PortalUser, found[0])
    return user if RESET_LINKS.still_valid(user, found[1]) else None


def reset_password(tenant: Tenant, token: str, new_password: str) -> PortalUser:
    user = user_for_reset_token(tenant, token)
    if user is None:
        raise InputError("token", str(_l("This reset link has expired or was already used.")))
    _set_password(user, new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this address
    return user


# --- profile ----------------------------------------------------------------------------------


def update_profile(user: PortalUser, *, name: str, language: str) -> None:
    user.name = _name(name)
    chosen = supported(language)
    if chosen is None:
        raise InputError("language", str(_l("Choose English or Spanish.")))
    user.language = chosen


def request_email_change(
    tenant: Tenant, user: PortalUser, new_email: str, current_password: str
) -> str:
    """Send a confirmation link to the new address; the change applies when it is opened."""
    if not verify_password(user.password_hash, current_password or ""):
        raise InputError("current_password", str(_l("This is not your current password.")))
    email = normalize_email(new_email, "new_email")
    if email == user.email:
        raise InputError("new_email", str(_l("This is already your email.")))
    if _email_taken(email, except_id=user.id):
        raise InputError("new_email", str(_l("Another account uses this email.")))
    user.pending_email = email
    send_email_confirmation(tenant, user, email)
    return email


# --- colleagues -------------------------------------------------------------------------------


def _require_admin_of_business(actor: PortalUser) -> PortalAccount:
    account = account_of(actor.customer_id)
    if account is None or not account.is_business or not actor.is_admin:
        raise PermissionError("only an admin of a business account manages colleagues")
    return account


def _role(raw: PortalRole | str) -> PortalRole:
    try:
        return PortalRole(raw)
    except ValueError:
        raise InputError("role", str(_l("Choose admin, payer or viewer."))) from None


@dataclass(frozen=True)
class Invitation:
    record: PortalInvitation
    link: str


def invite_colleague(
    tenant: Tenant, actor: PortalUser, email: str, role: PortalRole | str
) -> Invitation:
    """Invite someone to the actor's business account. PermissionError unless the actor is its admin."""
    _require_admin_of_business(actor)
    if not actor.email_verified:
        raise InputError(
            "", str(_l("Confirm your own email address first: open the link we sent you."))
        )
    role = _role(role)
    email = normalize_email(email)
    colleague = db.session.scalar(
        select(PortalUser.id).where(
            PortalUser.email == email, PortalUser.customer_id == actor.customer_id
        )
    )
    if colleague is not None:
        raise InputError("email", str(_l("This person is already a colleague on this account.")))
    pending = db.session.scalar(
        select(func.count())
        .select_from(PortalInvitation)
        .where(
            PortalInvitation.customer_id == actor.customer_id,
            PortalInvitation.accepted_at.is_(None),
            PortalInvitation.expires_at > utcnow(),
        )
    )
    if (pending or 0) >= MAX_PENDING_INVITATIONS:
        raise InputError("email", str(_l("Too many open invitations. Cancel some first.")))
    token, hashed, expires_at = credentials.new_invitation_token(utcnow())
    invitation = PortalInvitation(
        customer_id=actor.customer_id,
        email=email,
        role=role,
        token_hash=hashed,
        invited_by_id=actor.id,
        expires_at=expires_at,
    )
    db.session.add(invitation)
    db.session.flush()
    customer = scoped_get(Customer, actor.customer_id)
    link = _link(tenant, "portal.accept_invitation", token=token)
    send_email(
        email,
        "payer_invitation",
        actor.language or tenant.default_language,
        tenant=tenant,
        customer=customer,
        inviter=actor,
        invitation_link=link,
        days=credentials.INVITATION_LIFETIME.days,
    )
    return Invitation(invitation, link)


def find_invitation(token: str) -> PortalInvitation | None:
    """The invitation of the tenant in scope this token opens, used or not."""
    hashed = credentials.invitation_hash(token)
    if hashed is None:
        return None
    return db.session.scalar(select(PortalInvitation).where(PortalInvitation.token_hash == hashed))


def invitation_usable(invitation: PortalInvitation | None) -> bool:
    return (
        invitation is not None
        and invitation.accepted_at is None
        and invitation.expires_at > utcnow()
    )


def accept_invitation(
    tenant: Tenant, token: str, *, name: str, password: str, language: str
) -> PortalUser:
    invitation = find_invitation(token)
    if not invitation_usable(invitation):
        raise InputError("", str(_l("This invitation has expired or was already used.")))
    assert invitation is not None
    if _email_taken(invitation.email):
        raise InputError(
            "",
            str(
                _l(
                    "There is already a portal account with this email here. Sign in with it, or "
                    "ask the person who invited you to use another address."
                )
            ),
        )
    if account_of(invitation.customer_id) is None:
        raise InputError("", str(_l("This invitation has expired or was already used.")))
    credentials.check_new_password(password)
    user = _new_user(
        invitation.customer_id, invitation.email, password, invitation.role, _name(name), language
    )
    user.email_verified_at = utcnow()  # the invitation link reached this address
    db.session.add(user)
    db.session.flush()
    invitation.accepted_at = utcnow()
    invitation.accepted_user_id = user.id
    if user.is_admin:
        _tell_billing_addresses(
            tenant, scoped_get(Customer, user.customer_id), user, new_account=False
        )
    return user


@dataclass(frozen=True)
class Colleagues:
    users: list[PortalUser]
    pending: list[PortalInvitation]


def colleagues(customer_id: int) -> Colleagues:
    users = db.session.scalars(
        select(PortalUser).where(PortalUser.customer_id == customer_id).order_by(PortalUser.id)
    ).all()
    pending = db.session.scalars(
        select(PortalInvitation)
        .where(
            PortalInvitation.customer_id == customer_id,
            PortalInvitation.accepted_at.is_(None),
            PortalInvitation.expires_at > utcnow(),
        )
        .order_by(PortalInvitation.id)
    ).all()
    return Colleagues(list(users), list(pending))


def colleague_of(actor: PortalUser, user_id: int) -> PortalUser | None:
    """Another user of the actor's account, or None (another customer's or tenant's is None)."""
    user = scoped_get(PortalUser, user_id)
    return user if user is not None and user.customer_id == actor.customer_id else None


def _admins(customer_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(PortalUser)
            .where(PortalUser.customer_id == customer_id, PortalUser.role == PortalRole.ADMIN)
        )
        or 0
    )


def change_role(
    tenant: Tenant, actor: PortalUser, user: PortalUser, role: PortalRole | str
) -> None:
    _require_admin_of_business(actor)
    role = _role(role)
    if user.is_admin and role is not PortalRole.ADMIN and _admins(user.customer_id) <= 1:
        raise InputError("role", str(_l("The account needs at least one admin.")))
    became_admin = role is PortalRole.ADMIN and not user.is_admin
    user.role = role
    if became_admin:
        _tell_billing_addresses(
            tenant, scoped_get(Customer, user.customer_id), user, new_account=False
        )


def remove_colleague(actor: PortalUser, user: PortalUser) -> None:
    """Take a colleague off the account: their sign-in stops working at once."""
    _require_admin_of_business(actor)
    if user.id == actor.id:
        raise InputError("", str(_l("You cannot remove yourself.")))
    if user.is_admin and _admins(user.customer_id) <= 1:
        raise InputError("", str(_l("The account needs at least one admin.")))
    sessions.end_all(SessionKind.PAYER, user.id)  # the foreign key would too; say it here
    db.session.delete(user)
    db.session.flush()


def cancel_invitation(actor: PortalUser, invitation_id: int) -> bool:
    _require_admin_of_business(actor)
    invitation = scoped_get(PortalInvitation, invitation_id)
    if invitation is None or invitation.customer_id != actor.customer_id:
        return False
    if invitation.accepted_at is None:
        db.session.delete(invitation)
        db.session.flush()
    return True
