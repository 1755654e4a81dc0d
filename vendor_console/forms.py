"""Console forms: they parse and check shape; the rules live in the domain operations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from shared.passwords import MAX_LENGTH

_required = DataRequired(message=_l("This field is required."))


class SignUpForm(FlaskForm):
    business_name = StringField(
        _l("Business name"),
        validators=[_required, Length(max=120, message=_l("Use at most %(max)d characters."))],
    )
    slug = StringField(
        _l("Portal address"),
        validators=[_required, Length(max=63, message=_l("Use at most %(max)d characters."))],
    )
    owner_email = EmailField(
        _l("Your email"),
        validators=[_required, Length(max=254, message=_l("Use at most %(max)d characters."))],
    )
    owner_password = PasswordField(
        _l("Password"),
        validators=[
            _required,
            Length(max=MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            _required,
            Length(max=MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Type the new password again"),
        validators=[_required, EqualTo("password", message=_l("The two passwords do not match."))],
    )


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[_required, Length(max=120)])


class InviteStaffForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("staff", _l("Staff")), SelectChoice("owner", _l("Owner"))],
        default="staff",
    )


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[_required, Length(max=100, message=_l("Use at most %(max)d characters."))],
    )


class RevokeApiKeyForm(FlaskForm):
    """Only its CSRF token: the key is named by the URL."""
