"""Portal forms: they parse and check shape; the rules live in the domain operations."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from shared.forms import CleanForm, NameField
from shared.i18n import LANGUAGES
from shared.passwords import MAX_LENGTH

_required = DataRequired(message=_l("This field is required."))


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("Use at most %(max)d characters."))


def _password(label):
    return PasswordField(label, validators=[_required, _at_most(MAX_LENGTH)])


def _confirm(label, other: str = "password"):
    return PasswordField(
        label,
        validators=[_required, EqualTo(other, message=_l("The two passwords do not match."))],
    )


class LookupForm(CleanForm):
    invoice_number = StringField(_l("Invoice number"), validators=[_required, _at_most(40)])
    invoice_total = StringField(_l("Invoice total"), validators=[_required, _at_most(40)])


class SignUpForm(CleanForm):
    """The first step: which billing address to send the claim link to, and the account's kind."""

    email = EmailField(_l("Email"), validators=[_required, _at_most(254)])
    kind = RadioField(
        _l("Account type"),
        choices=[
            SelectChoice("personal", _l("Personal")),
            SelectChoice("business", _l("Business")),
        ],
        validators=[DataRequired(message=_l("Choose Personal or Business."))],
    )


class JoinAsAdminForm(CleanForm):
    """A business that already has an account: a billing address may still join it as an admin."""

    email = EmailField(_l("Email"), validators=[_required, _at_most(254)])


class SignInForm(CleanForm):
    email = EmailField(_l("Email"), validators=[_required, _at_most(254)])
    password = PasswordField(_l("Password"), validators=[_required, _at_most(1024)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(CleanForm):
    email = EmailField(_l("Email"), validators=[_required, _at_most(254)])


class NewPasswordForm(CleanForm):
    password = _password(_l("New password"))
    confirm = _confirm(_l("Type the new password again"))


class AcceptInvitationForm(NewPasswordForm):
    name = NameField(_l("Your name"), validators=[_required, _at_most(120)])


ROLE_CHOICES = [
    SelectChoice("viewer", _l("Viewer: sees invoices")),
    SelectChoice("payer", _l("Payer: sees and pays invoices")),
    SelectChoice("admin", _l("Admin: also manages colleagues and AutoPay")),
]


class InviteForm(CleanForm):
    email = EmailField(_l("Colleague's email"), validators=[_required, _at_most(254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="payer")


class RoleForm(CleanForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ProfileForm(CleanForm):
    name = NameField(_l("Your name"), validators=[_at_most(120)])
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()]
    )


class EmailChangeForm(CleanForm):
    new_email = EmailField(_l("New email"), validators=[_required, _at_most(254)])
    current_password = PasswordField(
        _l("Your current password"), validators=[_required, _at_most(1024)]
    )


class PasswordChangeForm(CleanForm):
    current_password = PasswordField(
        _l("Your current password"), validators=[_required, _at_most(1024)]
    )
    password = _password(_l("New password"))
    confirm = _confirm(_l("Type the new password again"))


class AssistanceForm(CleanForm):
    name = NameField(_l("Name"), validators=[_required, _at_most(120)])
    email = EmailField(_l("Email"), validators=[_required, _at_most(254)])
    phone = TelField(_l("Phone (optional)"), validators=[_at_most(40)])
    invoice_number = StringField(_l("Invoice number (optional)"), validators=[_at_most(20)])
    message = TextAreaField(_l("How can we help?"), validators=[_required, _at_most(5000)])


class ClaimForm(CleanForm):
    """The page the claim link opens: the new account's password (and, if they like, a name)."""

    name = NameField(_l("Your name"), validators=[Optional(), _at_most(120)])
    password = _password(_l("Create a password"))
    confirm = _confirm(_l("Type the password again"))


class BankAccountForm(CleanForm):
    """ "Add Bank Account": the bank account page's form, and the pay flow's new-account step (with a
    prefix there). It checks shape and size; shared.bank_accounts checks the numbers and the Terms.
    Render it with portal/_bank_account_fields.html; customer_portal.bank_accounts.add_from_form
    saves it."""

    holder_name = NameField(_l("Account holder's name"), validators=[_required, _at_most(120)])
    routing_number = StringField(_l("Routing number"), validators=[_required, _at_most(40)])
    account_number = StringField(_l("Account number"), validators=[_required, _at_most(40)])
    account_number_again = StringField(
        _l("Type the account number again"), validators=[_required, _at_most(40)]
    )
    kind = RadioField(
        _l("Account type"),
        choices=[
            SelectChoice("checking", _l("Checking")),
            SelectChoice("savings", _l("Savings")),
        ],
        validators=[DataRequired(message=_l("Choose checking or savings."))],
    )
    nickname = StringField(_l("Nickname (optional)"), validators=[_at_most(60)])
    private = BooleanField(_l("Private"))
    accept_terms = BooleanField(
        _l("I accept the Terms of Service above"),
        validators=[DataRequired(message=_l("Accept the Terms of Service to add a bank account."))],
    )
    # Which text the page showed: if the vendor changed it before the post, the payer reads again.
    terms_version = HiddenField(validators=[_at_most(80)])


class RemoveBankAccountForm(CleanForm):
    """The removal's confirmation: the scheduled payments the page named, and the payer's yes."""

    payment_ids = HiddenField(validators=[_at_most(2000)])
    confirm = BooleanField(_l("Yes, cancel these scheduled payments and remove the account"))
