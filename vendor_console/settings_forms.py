"""Forms of the console's settings pages: they parse and check shape; the rules live in
tenants.branding, tenants.addresses, tenants.fees, tenants.ach_terms, tenants.time_zone and
shared.invoices.reminders."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from shared.forms import CleanForm, NameField
from tenants.fees import US_STATES

_required = DataRequired(message=_l("This field is required."))


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("Use at most %(max)d characters."))


class BrandingForm(CleanForm):
    name = NameField(_l("Display name"), validators=[_required, _at_most(120)])
    brand_color = StringField(_l("Brand colour"), validators=[_required, _at_most(20)])
    support_email = EmailField(_l("Support email"), validators=[Optional(), _at_most(254)])
    support_phone = StringField(_l("Support phone"), validators=[Optional(), _at_most(40)])
    logo = FileField(_l("Logo"), render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_logo = BooleanField(_l("Remove the current logo"))


class AddressForm(CleanForm):
    slug = StringField(_l("New portal address"), validators=[_required, _at_most(63)])


class DomainForm(CleanForm):
    hostname = StringField(_l("Your domain"), validators=[_required, _at_most(253)])


class FeesForm(CleanForm):
    card_fee_percent = StringField(_l("Credit card fee (%)"), validators=[_required, _at_most(10)])
    business_state = SelectField(
        _l("State where your business is based"),
        choices=[SelectChoice("", _l("Not set, or outside the United States"))]
        + [SelectChoice(code, name) for code, name in US_STATES.items()],
        default="",
        validate_choice=False,  # tenants.fees says which states exist, in the page's language
    )
    late_fee_kind = SelectField(
        _l("Late fees"),
        choices=[
            SelectChoice("none", _l("No late fees")),
            SelectChoice("flat", _l("A flat amount per month overdue")),
            SelectChoice("percent", _l("A percentage of the balance per month overdue")),
        ],
        default="none",
        validate_choice=False,  # the domain says which kinds exist, in the page's language
    )
    late_fee_amount = StringField(_l("Flat late fee ($)"), validators=[Optional(), _at_most(20)])
    late_fee_percent = StringField(
        _l("Late fee per month (%)"), validators=[Optional(), _at_most(10)]
    )
    late_fee_grace_days = StringField(
        _l("Grace period (days after the due date)"), validators=[Optional(), _at_most(10)]
    )


class RemindersForm(CleanForm):
    """Which payment reminders go out (shared.invoices.reminders checks the numbers)."""

    before_enabled = BooleanField(_l("Remind customers before the due date"))
    before_days = StringField(
        _l("How many days before the due date"), validators=[Optional(), _at_most(10)]
    )
    due_enabled = BooleanField(_l("Remind customers on the due date"))
    overdue_enabled = BooleanField(_l("Remind customers while an invoice is overdue"))
    overdue_every_days = StringField(
        _l("Every how many days while overdue"), validators=[Optional(), _at_most(10)]
    )
    overdue_max = StringField(
        _l("At most how many overdue reminders per invoice"),
        validators=[Optional(), _at_most(10)],
    )


class AchTermsForm(CleanForm):
    """The Terms of Service payers accept when adding a bank account (tenants.ach_terms)."""

    ach_terms_en = TextAreaField(
        _l("Terms of Service in English"), validators=[_at_most(10_000)], render_kw={"rows": 8}
    )
    ach_terms_es = TextAreaField(
        _l("Terms of Service in Spanish"), validators=[_at_most(10_000)], render_kw={"rows": 8}
    )


class TimeZoneForm(CleanForm):
    time_zone = SelectField(
        _l("Time zone"),
        validate_choice=False,  # the domain checks the name against every zone it knows
    )
