"""Console forms: they parse and check shape; the rules live in the domain operations."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from shared.clock import DEFAULT_TIME_ZONE
from shared.forms import CleanForm, CleanSubForm, NameField
from shared.passwords import MAX_LENGTH
from tenants.time_zone import time_zone_choices

_required = DataRequired(message=_l("This field is required."))
_present = InputRequired(message=_l("This field is required."))


class SignUpForm(CleanForm):
    business_name = NameField(
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
    # Left out of the post (an old page), the default; any other name is checked by the domain.
    time_zone = SelectField(_l("Time zone"), default=DEFAULT_TIME_ZONE, validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = time_zone_choices()


class SignInForm(CleanForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(CleanForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])


class NewPasswordForm(CleanForm):
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
    name = NameField(_l("Your name"), validators=[_required, Length(max=120)])


class InviteStaffForm(CleanForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("staff", _l("Staff")), SelectChoice("owner", _l("Owner"))],
        default="staff",
    )


_length = lambda n: Length(max=n, message=_l("Use at most %(max)d characters."))  # noqa: E731


class CustomerForm(CleanForm):
    name = NameField(_l("Name"), validators=[_required, _length(200)])
    email = EmailField(_l("Email"), validators=[_required, _length(254)])
    cc_emails = StringField(_l("More email addresses (optional)"), validators=[_length(1300)])
    phone = StringField(_l("Phone"), validators=[_length(40)])
    client_number = StringField(_l("Client number"), validators=[_length(8)])
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("en", "English"), SelectChoice("es", "Español")],
        default="en",
    )
    kind = SelectField(
        _l("Account type"),
        choices=[
            SelectChoice("business", _l("Business")),
            SelectChoice("personal", _l("Personal")),
        ],
        default="business",
    )


class LineForm(CleanSubForm):
    # A sub-form of InvoiceForm: CSRF is the parent's.
    description = StringField(_l("Description"), validators=[_length(500)])
    quantity = StringField(_l("Quantity"), validators=[_length(20)], default="1")
    unit_price = StringField(_l("Unit price"), validators=[_length(20)])
    tax_rate = StringField(_l("Tax %"), validators=[_length(10)], default="0")


class InvoiceForm(CleanForm):
    customer_id = SelectField(_l("Customer"), coerce=str, validators=[_required])
    number = StringField(_l("Invoice number"), validators=[_length(20)])
    # InputRequired, not DataRequired: a badly written date keeps its own "not a valid date" message.
    issue_date = DateField(_l("Invoice date"), validators=[_present])
    due_date = DateField(_l("Due date"), validators=[_present])
    terms = StringField(_l("Terms"), validators=[_length(60)], render_kw={"list": "terms-choices"})
    electronic = BooleanField(
        _l("Electronic invoice (customers can download the PDF)"), default=True
    )
    notes = TextAreaField(_l("Notes"), validators=[_length(5000)])
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=200)


class VoidForm(CleanForm):
    reason = StringField(_l("Reason"), validators=[_required, _length(500)])
    # Ticked, the box sends the invoice's number: voiding needs "yes" for this very invoice, so a
    # stray or replayed post (or a box ticked on another invoice's page) voids nothing.
    confirm = BooleanField(_l("Yes, void this invoice"))

    def confirmed(self, number: str) -> bool:
        return self.confirm.raw_data == [number]


class ImportForm(CleanForm):
    file = FileField(_l("CSV file"), validators=[_required])


class ApiKeyForm(CleanForm):
    name = NameField(
        _l("Name"),
        validators=[_required, Length(max=100, message=_l("Use at most %(max)d characters."))],
    )


class RevokeApiKeyForm(CleanForm):
    """Only its CSRF token: the key is named by the URL."""


class CancelPaymentForm(CleanForm):
    # Ticked, the box sends the payment's id: a stray or replayed post cancels nothing.
    confirm = BooleanField(_l("Yes, cancel this payment"))

    def confirmed(self, payment_id: int) -> bool:
        return self.confirm.raw_data == [str(payment_id)]


class RefundForm(CleanForm):
    """How much to refund; the amounts per invoice are the fields `amount-<invoice id>`, read by the
    view. The key, made when the form is shown, makes a double click or a retry the same refund."""

    kind = RadioField(
        _l("Refund"),
        choices=[
            SelectChoice("full", _l("Everything not yet refunded")),
            SelectChoice("partial", _l("Part, per invoice")),
        ],
        default="full",
        validators=[_required],
    )
    reason = StringField(_l("Reason"), validators=[_length(500)])
    idempotency_key = HiddenField(validators=[_required, _length(64)])


class FailPaymentForm(CleanForm):
    """Marking a scheduled or processing payment failed (the bank said so): the payer is told."""

    reason = StringField(_l("Reason"), validators=[_required, _length(500)])
    confirm = BooleanField(_l("Yes, mark this payment failed"))

    def confirmed(self, payment_id: int) -> bool:
        return self.confirm.raw_data == [str(payment_id)]
