"""Settings of the vendor's portal: branding (with a preview), its address and custom domains, fees,
payment reminders, the Terms of Service for bank accounts, and the business's time zone.

Everyone on the team can read the settings; only the owner can change them (a POST from anyone
else is a 403, and the pages show them read-only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shared import bank_accounts
from shared.clock import utcnow
from shared.errors import InputError
from shared.invoices import reminders
from shared.money import cents_to_decimal
from shared.unit_of_work import discard
from shared.web import show_input_error
from tenants import ach_terms, addresses, branding, fees, time_zone
from tenants.hosts import host_name, on_port_of, portal_host
from tenants.routing import portal_url
from vendor_console import bp
from vendor_console.context import actor
from vendor_console.first_steps import continue_first_steps
from vendor_console.settings_forms import (
    AchTermsForm,
    AddressForm,
    BrandingForm,
    DomainForm,
    FeesForm,
    RemindersForm,
    TimeZoneForm,
)


def _owner_only() -> None:
    if request.method == "POST" and not current_user.is_owner:
        abort(403)


def _portal_link(endpoint: str = "portal.home") -> str:
    return portal_url(
        current_app, portal_host(g.tenant, current_app.config["PORTAL_DOMAIN"]), endpoint
    )


def _save(form, change: Callable[[], object], saved: str, endpoint: str) -> Response | None:
    """Make the change and redirect with `saved`; on a refusal, keep nothing of it (None) and
    show the error on the form."""
    try:
        change()
    except InputError as error:
        discard()
        show_input_error(form, error)
        return None
    flash(saved, "success")
    return redirect(url_for(endpoint))


def _settings_page(template: str, form, **values: object):
    """A settings page, read-only for everyone but the owner; 422 when the form was refused."""
    status = 422 if form.errors or form.form_errors else 200
    return render_template(template, form=form, can_edit=current_user.is_owner, **values), status


# --- branding ---------------------------------------------------------------------------------


@bp.route("/settings")
@login_required
def settings():
    return redirect(url_for("console.settings_branding"))


@bp.route("/settings/branding", methods=["GET", "POST"])
@login_required
def settings_branding():
    _owner_only()
    form = BrandingForm(obj=g.tenant)
    if form.validate_on_submit():
        upload = None
        if form.logo.data is not None:
            # Reading one byte past the limit is enough to know the file is too large.
            data = form.logo.data.stream.read(branding.MAX_LOGO_BYTES + 1)
            upload = branding.LogoUpload(form.logo.data.filename or "", data)
        done = _save(
            form,
            lambda: branding.update_branding(
                g.tenant,
                actor(),
                branding.BrandingInput(
                    name=form.name.data,
                    brand_color=form.brand_color.data,
                    support_email=form.support_email.data or "",
                    support_phone=form.support_phone.data or "",
                    logo=upload,
                    remove_logo=form.remove_logo.data,
                ),
            ),
            _("Branding saved. Your portal and emails show it now."),
            "console.settings_branding",
        )
        if done is not None:
            following = continue_first_steps(g.tenant, after="brand")
            return redirect(following) if following else done
    return _settings_page("console/settings_branding.html", form, portal_link=_portal_link())


@bp.route("/settings/preview")
@login_required
def settings_preview():
    return render_template("console/settings_preview.html", portal_link=_portal_link())


@bp.get("/settings/preview.css")
@login_required
def settings_preview_css():
    css = branding.preview_css(g.tenant)
    response = Response(css, mimetype="text/css")
    response.set_etag(hashlib.sha256(css.encode()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/settings/logo/<name>")
@login_required
def settings_logo(name: str):
    if not g.tenant.logo_name or name != g.tenant.logo_name:
        abort(404)
    data = branding.logo_bytes(g.tenant)
    if data is None:
        abort(404)
    response = Response(data, mimetype=branding.logo_content_type(name))
    response.set_etag(name)
    return response.make_conditional(request)


# --- portal address and custom domains --------------------------------------------------------


def _domain_link(hostname: str) -> str:
    """A custom domain's portal, on the port the portals are served on (none in production)."""
    domain = current_app.config["PORTAL_DOMAIN"]
    return portal_url(current_app, on_port_of(hostname, domain), "portal.home")


def _render_address(address_form=None, domain_form=None, verify_error: str | None = None):
    now = utcnow()
    portal_domain = current_app.config["PORTAL_DOMAIN"]
    address_form = address_form or AddressForm(formdata=None)
    domain_form = domain_form or DomainForm(formdata=None)
    failed = address_form.errors or address_form.form_errors or domain_form.errors
    failed = failed or domain_form.form_errors or verify_error
    return render_template(
        "console/settings_address.html",
        address_form=address_form,
        domain_form=domain_form,
        verify_error=verify_error,
        redirects=addresses.active_redirects(now),
        domains=addresses.tenant_domains(),
        txt_record_name=addresses.txt_record_name,
        slug_host=f"{g.tenant.slug}.{portal_domain}",
        # A CNAME names a host, never a port; the port shows in the address the domain answers at.
        cname_target=f"{g.tenant.slug}.{host_name(portal_domain)}",
        domain_link=_domain_link,
        portal_link=_portal_link(),
        can_edit=current_user.is_owner,
        redirect_days=addresses.REDIRECT_LIFETIME.days,
    ), (422 if failed else 200)


@bp.route("/settings/address", methods=["GET", "POST"])
@login_required
def settings_address():
    _owner_only()
    if request.method == "GET":
        return _render_address()
    form = AddressForm()
    if form.validate_on_submit():
        try:
            addresses.change_slug(g.tenant, actor(), form.slug.data, now=utcnow())
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            flash(
                _(
                    "Your portal moved to %(host)s. The old address redirects there for %(days)d days.",
                    host=_portal_link(),
                    days=addresses.REDIRECT_LIFETIME.days,
                ),
                "success",
            )
            return redirect(url_for("console.settings_address"))
    return _render_address(address_form=form)


@bp.post("/settings/domains")
@login_required
def settings_add_domain():
    _owner_only()
    form = DomainForm()
    if form.validate_on_submit():
        try:
            domain = addresses.add_domain(
                g.tenant,
                actor(),
                form.hostname.data,
                portal_domain=current_app.config["PORTAL_DOMAIN"],
                console_host=current_app.config["CONSOLE_HOST"],
                now=utcnow(),
            )
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            hostname = domain.hostname
            flash(
                _(
                    "%(domain)s added. Publish the TXT record below, then press Verify.",
                    domain=hostname,
                ),
                "success",
            )
            return redirect(url_for("console.settings_address"))
    return _render_address(domain_form=form)


@bp.post("/settings/domains/<int:domain_id>/verify")
@login_required
def settings_verify_domain(domain_id: int):
    _owner_only()
    try:
        addresses.verify_domain(g.tenant, actor(), domain_id, now=utcnow())
    except LookupError:
        abort(404)
    except InputError as error:
        discard()
        return _render_address(verify_error=error.message)
    flash(_("Domain verified: your portal answers there now."), "success")
    return redirect(url_for("console.settings_address"))


@bp.post("/settings/domains/<int:domain_id>/remove")
@login_required
def settings_remove_domain(domain_id: int):
    _owner_only()
    try:
        hostname = addresses.remove_domain(g.tenant, actor(), domain_id)
    except LookupError:
        abort(404)
    flash(_("%(domain)s removed: your portal no longer answers there.", domain=hostname), "info")
    return redirect(url_for("console.settings_address"))


# --- fees -------------------------------------------------------------------------------------


@bp.route("/settings/fees", methods=["GET", "POST"])
@login_required
def settings_fees():
    _owner_only()
    tenant = g.tenant
    form = FeesForm(
        data=None
        if request.method == "POST"
        else {
            "card_fee_percent": fees.percent_text(tenant.card_fee_bp),
            "business_state": tenant.business_state,
            "late_fee_kind": tenant.late_fee_kind.value,
            "late_fee_amount": str(cents_to_decimal(tenant.late_fee_flat_cents))
            if tenant.late_fee_flat_cents
            else "",
            "late_fee_percent": fees.percent_text(tenant.late_fee_percent_bp)
            if tenant.late_fee_percent_bp
            else "",
            "late_fee_grace_days": str(tenant.late_fee_grace_days),
        }
    )
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: fees.update_fees(
                tenant,
                actor(),
                fees.FeesInput(
                    card_fee_percent=form.card_fee_percent.data,
                    late_fee_kind=form.late_fee_kind.data,
                    late_fee_amount=form.late_fee_amount.data or "",
                    late_fee_percent=form.late_fee_percent.data or "",
                    late_fee_grace_days=form.late_fee_grace_days.data or "",
                    business_state=form.business_state.data or "",
                ),
            ),
            _("Fee settings saved."),
            "console.settings_fees",
        )
        if done is not None:
            return done
    return _settings_page("console/settings_fees.html", form)


# --- payment reminders ------------------------------------------------------------------------


@bp.route("/settings/reminders", methods=["GET", "POST"])
@login_required
def settings_reminders():
    _owner_only()
    schedule = reminders.schedule_of(g.tenant)
    form = RemindersForm(
        data=None
        if request.method == "POST"
        else {
            "before_enabled": schedule.before_enabled,
            "before_days": str(schedule.before_days),
            "due_enabled": schedule.due_enabled,
            "overdue_enabled": schedule.overdue_enabled,
            "overdue_every_days": str(schedule.overdue_every_days),
            "overdue_max": str(schedule.overdue_max),
        }
    )
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: reminders.update_reminders(
                g.tenant,
                actor(),
                reminders.ReminderInput(
                    before_enabled=bool(form.before_enabled.data),
                    before_days=form.before_days.data or "",
                    due_enabled=bool(form.due_enabled.data),
                    overdue_enabled=bool(form.overdue_enabled.data),
                    overdue_every_days=form.overdue_every_days.data or "",
                    overdue_max=form.overdue_max.data or "",
                ),
            ),
            _("Reminder settings saved."),
            "console.settings_reminders",
        )
        if done is not None:
            return done
    return _settings_page("console/settings_reminders.html", form)


# --- Terms of Service (the ACH debit authorisation) ---------------------------------------------


@bp.route("/settings/terms", methods=["GET", "POST"])
@login_required
def settings_terms():
    _owner_only()
    tenant = g.tenant
    form = AchTermsForm(
        data=None
        if request.method == "POST"
        else {"ach_terms_en": tenant.ach_terms_en, "ach_terms_es": tenant.ach_terms_es}
    )
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: ach_terms.update_ach_terms(
                tenant,
                actor(),
                english=form.ach_terms_en.data or "",
                spanish=form.ach_terms_es.data or "",
            ),
            _("Terms of Service saved. Payers adding a bank account accept this text from now on."),
            "console.settings_terms",
        )
        if done is not None:
            return done
    return _settings_page(
        "console/settings_terms.html",
        form,
        defaults={
            "en": bank_accounts.default_terms("en", tenant.name),
            "es": bank_accounts.default_terms("es", tenant.name),
        },
    )


# --- time zone --------------------------------------------------------------------------------


@bp.route("/settings/time-zone", methods=["GET", "POST"])
@login_required
def settings_time_zone():
    _owner_only()
    form = TimeZoneForm(
        data=None if request.method == "POST" else {"time_zone": g.tenant.time_zone}
    )
    form.time_zone.choices = time_zone.time_zone_choices()
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: time_zone.change_time_zone(g.tenant, actor(), form.time_zone.data),
            _("Time zone saved. Due dates and times follow it now."),
            "console.settings_time_zone",
        )
        if done is not None:
            return done
    return _settings_page("console/settings_time_zone.html", form, now=utcnow())
