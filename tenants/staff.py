"""Operations on vendor businesses and their staff: sign-up, sign-in, password reset, invitations.

Operations take the tenant and the acting user as arguments, flush and queue mail, and never commit:
the caller (a view, the CLI, a test) commits once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from shared.clock import DEFAULT_TIME_ZONE, utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.mail import send_email
from shared.mailbox import normalize_email
from shared.passwords import hash_password, password_problem, verify_password
from shared.tenancy import enter_tenant, scoped_get, tenant_scope
from shared.tokens import password_fingerprint, token_hash
from tenants.models import StaffInvitation, StaffRole, StaffUser, Tenant, TenantStatus
from tenants.routing import console_url
from tenants.slugs import normalize_slug, slug_problem
from tenants.time_zone import checked_time_zone

RESET_MAX_AGE = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)


def _check_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise InputError(field, problem)


def _new_staff(email: str, password: str, role: StaffRole, name: str, language: str) -> StaffUser:
    return StaffUser(
        email=email,
        name=name.strip()[:120],
        password_hash=hash_password(password),
        role=role,
        language=language,
        session_token=secrets.token_hex(16),
    )


def sign_up_vendor(
    *,
    business_name: str,
    slug: str,
    owner_email: str,
    owner_password: str,
    language: str = "en",
    time_zone: str = DEFAULT_TIME_ZONE,
) -> tuple[Tenant, StaffUser]:
    """A new vendor business with its owner; puts the new tenant in scope."""
    business_name = " ".join((business_name or "").split())
    if not business_name:
        raise InputError("business_name", str(_l("Enter your business name.")))
    if len(business_name) > 120:
        raise InputError("business_name", str(_l("Use at most %(n)d characters.", n=120)))
    slug = normalize_slug(slug)
    problem = slug_problem(slug)
    if problem:
        raise InputError("slug", problem)
    email = normalize_email(owner_email, "owner_email")
    _check_password(owner_password, "owner_password")
    time_zone = checked_time_zone(time_zone)
    tenant = Tenant(slug=slug, name=business_name, default_language=language, time_zone=time_zone)
    db.session.add(tenant)
    db.session.flush()
    enter_tenant(tenant.id)
    owner = _new_staff(email, owner_password, StaffRole.OWNER, "", language)
    db.session.add(owner)
    db.session.flush()
    send_email(
        email,
        "vendor_welcome",
        language,
        tenant=tenant,
        console_link=console_url(current_app, "console.home"),
    )
    return tenant, owner


def authenticate_staff(email: str, password: str) -> StaffUser | None:
    """The staff user with this email and password, or None; an unknown email costs the same time.

    Looks across tenants: the console has one sign-in for every vendor. An email that is staff at
    several vendors signs in to the one where the password matches, the most recent first.
    """
    try:
        email = normalize_email(email)
    except InputError:
        verify_password(None, password)
        return None
    candidates = db.session.scalars(
        select(StaffUser)
        .join(Tenant, Tenant.id == StaffUser.tenant_id)
        .where(StaffUser.email == email, Tenant.status == TenantStatus.ACTIVE)
        .order_by(StaffUser.last_sign_in_at.desc().nulls_last(), StaffUser.id.desc())
        .execution_options(all_tenants=True)
    ).all()
    if not candidates:
        verify_password(None, password)
    for user in candidates:
        if verify_password(user.password_hash, password):
            return user
    return None


def load_staff(user_id: int, session_token: str) -> StaffUser | None:
    """The staff user behind a session, if the session is still valid (no password change since)."""
    user = db.session.scalars(
        select(StaffUser)
        .join(Tenant, Tenant.id == StaffUser.tenant_id)
        .where(StaffUser.id == user_id, Tenant.status == TenantStatus.ACTIVE)
        .execution_options(all_tenants=True)
    ).one_or_none()
    if user is None or not secrets.compare_digest(user.session_token, session_token):
        return None
    return user


def record_sign_in(user: StaffUser) -> None:
    """Note the sign-in; from here on this session serves the user's tenant."""
    enter_tenant(user.tenant_id)
    user.last_sign_in_at = utcnow()


def change_password(user: StaffUser, new_password: str) -> None:
    """Set a new password and end every other session of this user."""
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_token = secrets.token_hex(16)


# --- password reset ---------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-password-reset")


def _hash_fingerprint(user: StaffUser) -> str:
    return password_fingerprint(user.password_hash)


def request_password_reset(email: str, language: str) -> None:
    """Email a reset link to each staff account with this address; silent when there is none."""
    try:
        email = normalize_email(email)
    except InputError:
        return
    users = db.session.scalars(
        select(StaffUser).where(StaffUser.email == email).execution_options(all_tenants=True)
    ).all()
    for user in users:
        with tenant_scope(user.tenant_id):
            token = _reset_serializer().dumps({"u": user.id, "h": _hash_fingerprint(user)})
            tenant = db.session.scalars(select(Tenant).where(Tenant.id == user.tenant_id)).one()
            send_email(
                user.email,
                "staff_password_reset",
                user.language or language,
                tenant=tenant,
                reset_link=console_url(current_app, "console.reset_password", token=token),
                minutes=int(RESET_MAX_AGE.total_seconds() // 60),
            )


def user_for_reset_token(token: str) -> StaffUser | None:
    try:
        data = _reset_serializer().loads(token, max_age=int(RESET_MAX_AGE.total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.scalars(
        select(StaffUser).where(StaffUser.id == data["u"]).execution_options(all_tenants=True)
    ).one_or_none()
    if user is None or not secrets.compare_digest(_hash_fingerprint(user), str(data.get("h"))):
        return None
    return user


def reset_password(token: str, new_password: str) -> StaffUser:
    user = user_for_reset_token(token)
    if user is None:
        raise InputError("token", str(_l("This reset link has expired or was already used.")))
    enter_tenant(user.tenant_id)
    change_password(user, new_password)
    return user


# --- invitations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    record: StaffInvitation
    link: str


def invite_staff(tenant: Tenant, actor: StaffUser, email: str, role: StaffRole) -> Invitation:
    if not actor.is_owner:
        raise InputError("", str(_l("Only the owner can invite staff.")))
    email = normalize_email(email)
    exists = db.session.scalar(
        select(func.count()).select_from(StaffUser).where(StaffUser.email == email)
    )
    if exists:
        raise InputError("email", str(_l("This person is already on your team.")))
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        tenant_id=tenant.id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    link = console_url(current_app, "console.accept_invitation", token=token)
    send_email(
        email,
        "staff_invitation",
        actor.language or tenant.default_language,
        tenant=tenant,
        inviter=actor,
        invitation_link=link,
        days=INVITATION_LIFETIME.days,
    )
    return Invitation(invitation, link)


def open_invitation(token: str) -> StaffInvitation | None:
    """The unused, unexpired invitation this token opens; puts its tenant in scope."""
    invitation = db.session.scalars(
        select(StaffInvitation)
        .where(StaffInvitation.token_hash == token_hash(token or ""))
        .execution_options(all_tenants=True)
    ).one_or_none()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        return None
    enter_tenant(invitation.tenant_id)
    return invitation


def accept_invitation(token: str, name: str, password: str, language: str) -> StaffUser:
    invitation = open_invitation(token)
    if invitation is None:
        raise InputError("token", str(_l("This invitation has expired or was already used.")))
    _check_password(password)
    exists = db.session.scalar(select(StaffUser.id).where(StaffUser.email == invitation.email))
    if exists:
        raise InputError("token", str(_l("This invitation has expired or was already used.")))
    user = _new_staff(invitation.email, password, invitation.role, name, language)
    db.session.add(user)
    db.session.flush()
    invitation.accepted_at = utcnow()
    invitation.accepted_user_id = user.id
    return user


def team(tenant: Tenant) -> tuple[list[StaffUser], list[StaffInvitation]]:
    """Staff and pending invitations of the tenant in scope."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
    pending = db.session.scalars(
        select(StaffInvitation)
        .where(StaffInvitation.accepted_at.is_(None), StaffInvitation.expires_at > utcnow())
        .order_by(StaffInvitation.id)
    ).all()
    return list(users), list(pending)


def staff_member(user_id: int) -> StaffUser | None:
    return scoped_get(StaffUser, user_id)
