"""Branding: the logo (checked, re-encoded, stored, served), the brand colour and its readable text
colour, display name and support contacts — on every portal page, in emails and in PDFs."""

from __future__ import annotations

import io
import re
import struct
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image, ImageFile
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from shared.clock import utcnow
from shared.extensions import db
from shared.mail.models import OutboxMessage
from shared.passwords import hash_password
from shared.storage import storage, tenant_key
from shared.tenancy import leave_tenant, tenant_scope
from tenants import branding
from tenants.branding import LogoUpload, contrast, process_logo, text_color_for
from tenants.models import StaffRole, StaffUser, Tenant
from tests.conftest import PASSWORD, TODAY, csrf_token, host_client, submit
from tests.imaging import (
    GIF_JS_POLYGLOT,
    SVG_WITH_SCRIPT,
    bomb_png,
    image_bytes,
    image_bytes_from,
    noise_png,
    png_claiming,
    png_with_text,
    truncated_png,
)

TEAL = "#0f766e"
FORM = {
    "name": "Acme Supply Co.",
    "brand_color": TEAL,
    "support_email": "help@acme.test",
    "support_phone": "+1 (305) 555-0100",
}


# --- helpers ----------------------------------------------------------------------------------


def tenant_named(slug: str) -> Tenant:
    db.session.expire_all()
    return db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def stored_files(tenant_id: int) -> list[str]:
    root = storage().root / "tenants" / str(tenant_id)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def multipart_post(client, path: str, data: dict, *, form_path: str | None = None):
    """POST a multipart form as a browser does, its body built in memory (the test client would
    spool a large one to a temporary file it never closes)."""
    token = csrf_token(client, form_path or path)
    boundary, body = encode_multipart({"csrf_token": token, **data})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def save_branding(console, *, logo: tuple[bytes, str] | None = None, **fields):
    data = {**FORM, **fields}
    if logo is not None:
        data["logo"] = FileStorage(io.BytesIO(logo[0]), filename=logo[1])
    return multipart_post(console, "/settings/branding", data)


def make_staff(tenant: Tenant, email: str = "clerk@acme.test") -> StaffUser:
    with tenant_scope(tenant.id):
        user = StaffUser(
            email=email,
            password_hash=hash_password(PASSWORD),
            role=StaffRole.STAFF,
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
    leave_tenant()
    return user


def signed_in(app, email: str):
    client = host_client(app, "localhost:8000")
    response = submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def logo_src(body: str) -> str:
    match = re.search(r'<img class="brand-logo" src="([^"]+)" alt="([^"]*)"', body)
    assert match, body
    return match.group(1)


@pytest.fixture
def acme(app, signed_in_console):
    return tenant_named("acme")


# --- the logo: accepted and re-encoded --------------------------------------------------------


def test_a_png_logo_is_stored_under_a_server_made_name_and_shown_on_the_portal(
    app, signed_in_console, acme
):
    response = save_branding(signed_in_console, logo=(image_bytes(), "my logo.png"))
    assert response.status_code == 302, response.get_data(as_text=True)
    tenant = tenant_named("acme")
    assert re.fullmatch(r"logo-[0-9a-f]{16}\.png", tenant.logo_name)
    assert stored_files(tenant.id) == [tenant.logo_name]
    assert tenant.logo_bytes() == storage().get(tenant_key(tenant.id, "branding", tenant.logo_name))

    portal = host_client(app, "acme.localhost:8000")
    page = portal.get("/")
    body = page.get_data(as_text=True)
    assert logo_src(body) == f"/logo/{tenant.logo_name}"
    assert 'alt="Acme Supply Co."' in body
    assert f'<link rel="icon" href="/logo/{tenant.logo_name}">' in body
    # Error pages on the portal wear the brand too.
    missing = portal.get("/some-page-that-does-not-exist")
    assert missing.status_code == 404
    assert logo_src(missing.get_data(as_text=True)) == f"/logo/{tenant.logo_name}"
    assert "/brand.css?v=0f766e" in missing.get_data(as_text=True)
    served = portal.get(f"/logo/{tenant.logo_name}")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "PNG"
    assert image.size == (120, 60)
    assert image.getpixel((5, 5)) == (15, 118, 110)
    again = portal.get(
        f"/logo/{tenant.logo_name}", headers={"If-None-Match": served.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_only_pixels_survive_the_re_encoding(app, signed_in_console):
    hostile = png_with_text("<script>alert(1)</script>") + b"<html><script>alert(2)</script>"
    assert save_branding(signed_in_console, logo=(hostile, "logo.png")).status_code == 302
    stored = tenant_named("acme").logo_bytes()
    assert b"script" not in stored
    assert b"tEXt" not in stored
    assert stored.endswith(b"IEND\xaeB`\x82")  # nothing after the image's own end
    assert Image.open(io.BytesIO(stored)).getpixel((0, 0)) == (15, 118, 110)


def test_a_jpeg_keeps_its_orientation_and_loses_its_exif(app, signed_in_console):
    image = Image.new("RGB", (80, 40), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° to display
    data = image_bytes_from(image, "JPEG", exif=exif.tobytes())
    assert save_branding(signed_in_console, logo=(data, "photo.JPG")).status_code == 302
    tenant = tenant_named("acme")
    assert tenant.logo_name.endswith(".jpg")
    stored = Image.open(io.BytesIO(tenant.logo_bytes()))
    assert stored.format == "JPEG"
    assert stored.size == (40, 80)  # turned the way the camera meant
    assert not stored.getexif()
    assert b"Secret Camera" not in tenant.logo_bytes()
    served = host_client(app, "acme.localhost:8000").get(f"/logo/{tenant.logo_name}")
    assert served.mimetype == "image/jpeg"


def test_a_webp_with_transparency_becomes_a_png_that_keeps_it(app, signed_in_console):
    data = image_bytes("WEBP", mode="RGBA", color=(10, 20, 30, 0), lossless=True)
    assert save_branding(signed_in_console, logo=(data, "logo.webp")).status_code == 302
    stored = Image.open(io.BytesIO(tenant_named("acme").logo_bytes()))
    assert stored.format == "PNG"
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0


def test_a_large_logo_is_kept_at_most_1024_pixels_wide(app, signed_in_console):
    data = image_bytes("PNG", size=(4096, 1024))
    assert save_branding(signed_in_console, logo=(data, "big.png")).status_code == 302
    assert Image.open(io.BytesIO(tenant_named("acme").logo_bytes())).size == (1024, 256)


def test_replacing_and_removing_the_logo_removes_the_old_file(app, signed_in_console):
    save_branding(signed_in_console, logo=(image_bytes(), "one.png"))
    first = tenant_named("acme").logo_name
    save_branding(signed_in_console, logo=(image_bytes(color=(1, 2, 3)), "two.png"))
    tenant = tenant_named("acme")
    second = tenant.logo_name
    assert second != first
    assert stored_files(tenant.id) == [second]
    portal = host_client(app, "acme.localhost:8000")
    assert portal.get(f"/logo/{first}").status_code == 404

    response = save_branding(signed_in_console, remove_logo="y")
    assert response.status_code == 302
    tenant = tenant_named("acme")
    assert tenant.logo_name is None
    assert tenant.logo_bytes() is None
    assert stored_files(tenant.id) == []
    body = portal.get("/").get_data(as_text=True)
    assert "brand-logo" not in body
    assert '<a class="brand-name" href="/">Acme Supply Co.</a>' in body
    assert portal.get(f"/logo/{second}").status_code == 404


# --- the logo: refused, with a clear message, changing nothing --------------------------------

BAD_LOGOS = [
    ("svg-with-script", SVG_WITH_SCRIPT, "logo.svg", "SVG images are not accepted"),
    ("svg-named-png", SVG_WITH_SCRIPT, "logo.png", "SVG images are not accepted"),
    ("gif-js-polyglot", GIF_JS_POLYGLOT, "logo.gif", "must end in .png, .jpg, .jpeg or .webp"),
    ("gif-js-polyglot-named-png", GIF_JS_POLYGLOT, "logo.png", "Upload a PNG, JPEG or WebP"),
    ("double-extension", image_bytes(), "logo.png.html", "must end in .png, .jpg, .jpeg or .webp"),
    ("html-named-png", b"<html><script>alert(1)</script></html>", "logo.png", "Upload a PNG"),
    ("javascript", b"alert(document.cookie)", "logo.js", "must end in .png"),
    ("empty", b"", "logo.png", "The file is empty"),
    ("truncated", truncated_png(), "logo.png", "could not be read"),
    ("too-wide", image_bytes(size=(5000, 10)), "logo.png", "at most 4096 × 4096 pixels"),
    ("header-says-50000", png_claiming(50000, 50000), "logo.png", "at most 4096 × 4096 pixels"),
]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [case[1:] for case in BAD_LOGOS],
    ids=[case[0] for case in BAD_LOGOS],
)
def test_bad_logos_are_refused_clearly_and_change_nothing(
    app, signed_in_console, acme, data, filename, message
):
    response = save_branding(
        signed_in_console, logo=(data, filename), name="Renamed", brand_color="#7c2d12"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'id="logo-error"' in body  # tied to the field for screen readers
    assert 'value="Renamed"' in body  # what was typed is kept
    tenant = tenant_named("acme")
    assert (tenant.name, tenant.brand_color, tenant.logo_name) == (
        "Acme Supply Co.",
        "#1d4ed8",
        None,
    )
    assert stored_files(tenant.id) == []


def test_a_3_mb_file_passes_the_request_limit_but_not_the_2_mb_rule(app, signed_in_console):
    data = noise_png(1000)
    assert 2 * 1024 * 1024 < len(data) < 4 * 1024 * 1024
    response = save_branding(signed_in_console, logo=(data, "logo.png"))
    assert response.status_code == 422
    assert "larger than 2 MB" in response.get_data(as_text=True)
    assert tenant_named("acme").logo_name is None


def test_a_20_mb_file_is_refused_before_it_is_read(app, signed_in_console):
    response = save_branding(signed_in_console, logo=(b"\x89PNG" + b"\x00" * (20 << 20), "l.png"))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert tenant_named("acme").logo_name is None


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(app, monkeypatch):
    bomb = bomb_png(20000)
    assert len(bomb) < 2 * 1024 * 1024  # small enough to pass the size rule
    assert struct.unpack(">II", bomb[16:24]) == (20000, 20000)  # IHDR: width, height

    def no_decoding(*_args, **_kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    for data in (bomb, png_claiming(50000, 50000), png_claiming(4097, 10)):
        started = time.perf_counter()
        with pytest.raises(branding.InputError, match="at most 4096"):
            process_logo(LogoUpload("logo.png", data))
        assert time.perf_counter() - started < 0.5


def test_the_bomb_through_the_console_changes_nothing(app, signed_in_console):
    started = time.perf_counter()
    response = save_branding(signed_in_console, logo=(bomb_png(20000), "logo.png"))
    assert response.status_code == 422
    assert "at most 4096 × 4096 pixels" in response.get_data(as_text=True)
    assert time.perf_counter() - started < 2
    assert tenant_named("acme").logo_name is None


def test_logo_errors_are_in_spanish_for_a_spanish_speaker(app, signed_in_console):
    signed_in_console.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    response = save_branding(signed_in_console, logo=(SVG_WITH_SCRIPT, "logo.svg"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No se aceptan imágenes SVG" in body
    response = save_branding(signed_in_console, brand_color="red;}body{")
    assert "seis dígitos hexadecimales" in response.get_data(as_text=True)


# --- colour, name and contacts ----------------------------------------------------------------


def test_wcag_contrast_and_the_text_colour():
    assert round(contrast("#ffffff", "#000000"), 2) == 21.0
    assert round(contrast("#1d4ed8", "#ffffff"), 2) == 6.70
    assert text_color_for("#1d4ed8") == "#ffffff"
    assert text_color_for("#0f766e") == "#ffffff"
    assert text_color_for("#facc15") == "#111111"  # yellow takes dark text
    assert text_color_for("#ffffff") == "#111111"
    assert text_color_for("not a colour") == "#ffffff"  # the default brand's


@pytest.mark.parametrize("color", ["#777777", "#797979", "#7b7b7b", "#d53f8c"])
def test_a_colour_no_text_reads_well_on_is_refused(color):
    best = max(contrast(color, "#ffffff"), contrast(color, "#111111"))
    assert best < 4.5
    with pytest.raises(branding.InputError, match="hard to read"):
        branding.normalize_color(color)


def test_a_colour_is_saved_lower_case_and_served_as_a_stylesheet(app, signed_in_console):
    assert save_branding(signed_in_console, brand_color=" #0F766E ").status_code == 302
    assert tenant_named("acme").brand_color == TEAL
    portal = host_client(app, "acme.localhost:8000")
    body = portal.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/brand.css?v=0f766e">' in body
    assert "style=" not in body  # the CSP forbids inline styles: none are needed
    css = portal.get("/brand.css?v=0f766e")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert css.get_data(as_text=True).startswith(
        ":root { --brand: #0f766e; --brand-text: #ffffff; --link: #0f766e; --focus: #0f766e;"
    )
    assert "max-age" in css.headers["Cache-Control"]
    assert (
        portal.get("/brand.css", headers={"If-None-Match": css.headers["ETag"]}).status_code == 304
    )

    assert save_branding(signed_in_console, brand_color="#FACC15").status_code == 302
    css = portal.get("/brand.css").get_data(as_text=True)
    # Yellow keeps its header; its links are a darker shade that reads on white (tenants.palette).
    assert css.startswith(":root { --brand: #facc15; --brand-text: #111111; --link: #876e0b;")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_color", "red;}body{", "six hexadecimal digits"),
        ("brand_color", "red", "six hexadecimal digits"),
        ("brand_color", "#fff", "six hexadecimal digits"),
        ("brand_color", "#12345g", "six hexadecimal digits"),
        ("brand_color", "</style>", "six hexadecimal digits"),
        ("brand_color", "#" + "0" * 30, "at most 20 characters"),
        ("brand_color", "1d4ed8", "six hexadecimal digits"),
        ("brand_color", "", "This field is required"),
        ("brand_color", "#797979", "hard to read"),
        ("name", "", "This field is required"),
        ("name", "N" * 121, "at most 120 characters"),
        ("name", "Acme\u202eoC", "text-direction control character U+202E"),
        ("name", "Acme\x00", "NUL character (U+0000)"),
        ("support_email", "not-an-email", "Enter a valid email address"),
        ("support_email", "a@b", "Enter a valid email address"),
        ("support_phone", "call me maybe", "Enter a phone number"),
        ("support_phone", "1" * 41, "at most 40 characters"),
    ],
)
def test_bad_branding_fields_are_refused_clearly_and_change_nothing(
    app, signed_in_console, acme, field, value, message
):
    response = save_branding(signed_in_console, **{field: value}, logo=(image_bytes(), "l.png"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    tenant = tenant_named("acme")
    assert (tenant.name, tenant.brand_color, tenant.support_email, tenant.logo_name) == (
        "Acme Supply Co.",
        "#1d4ed8",
        "",
        None,
    )
    assert stored_files(tenant.id) == []  # the valid logo sent along was not stored either


def test_a_hostile_display_name_is_shown_as_text(app, signed_in_console):
    name = '<script>alert("x")</script> & Co'
    assert save_branding(signed_in_console, name=name).status_code == 302
    body = host_client(app, "acme.localhost:8000").get("/").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in body


def test_name_and_support_contacts_show_on_the_portal(app, signed_in_console):
    assert save_branding(signed_in_console, name="  Acme   Payments ").status_code == 302
    tenant = tenant_named("acme")
    assert tenant.name == "Acme Payments"
    assert (tenant.support_email, tenant.support_phone) == ("help@acme.test", "+1 (305) 555-0100")
    body = host_client(app, "acme.localhost:8000").get("/").get_data(as_text=True)
    assert "Acme Payments" in body
    assert '<a href="mailto:help@acme.test">help@acme.test</a>' in body
    assert '<a href="tel:+1(305)555-0100">+1 (305) 555-0100</a>' in body


def test_the_model_refuses_a_bad_colour_whoever_writes_it(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    with pytest.raises(ValueError, match="rrggbb"):
        tenant.brand_color = "red;}body{"
    with pytest.raises(ValueError, match="rrggbb"):
        tenant.brand_color = "#ABCDEF"


# --- who may change it, CSRF, isolation -------------------------------------------------------


def test_staff_see_the_settings_read_only_and_cannot_change_them(app, make_tenant):
    tenant, _owner = make_tenant("acme", "Acme Supply Co.")
    make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    for path in ("/settings/branding", "/settings/address", "/settings/fees"):
        page = clerk.get(path)
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Only the owner can change the settings" in body
        assert '<fieldset class="plain" disabled>' in body
        assert 'type="submit" class="primary"' not in body
    response = save_branding(clerk, name="Hijacked", logo=(image_bytes(), "l.png"))
    assert response.status_code == 403
    tenant = tenant_named("acme")
    assert tenant.name == "Acme Supply Co."
    assert tenant.logo_name is None
    with tenant_scope(tenant.id):
        clerk_user = db.session.scalars(
            select(StaffUser).where(StaffUser.role == StaffRole.STAFF)
        ).one()
        with pytest.raises(branding.InputError, match="Only the owner"):
            branding.update_branding(tenant, clerk_user, branding.BrandingInput("X", TEAL))
    leave_tenant()


def test_a_post_without_a_csrf_token_changes_nothing(app, signed_in_console):
    signed_in_console.get("/settings/branding")
    for token in ("", "forged"):
        response = signed_in_console.post(
            "/settings/branding",
            data={**FORM, "csrf_token": token, "name": "Forged"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert "Nothing was changed" in response.get_data(as_text=True)
    assert tenant_named("acme").name == "Acme Supply Co."


def test_settings_change_only_the_signed_in_tenant(app, make_tenant, signed_in_console):
    make_tenant("globex", "Globex Corporation")
    assert (
        save_branding(signed_in_console, name="Acme Renamed", brand_color=TEAL).status_code == 302
    )
    globex = tenant_named("globex")
    assert (globex.name, globex.brand_color) == ("Globex Corporation", "#1d4ed8")
    assert tenant_named("acme").name == "Acme Renamed"


def test_another_tenants_logo_is_a_404_here(app, make_tenant, signed_in_console):
    globex, _owner = make_tenant("globex", "Globex Corporation")
    save_branding(signed_in_console, logo=(image_bytes(), "acme.png"))
    acme_logo = tenant_named("acme").logo_name
    globex_client = signed_in(app, "owner@globex.test")
    save_branding(globex_client, name="Globex Corporation", logo=(image_bytes(), "globex.png"))
    globex_logo = tenant_named("globex").logo_name
    assert acme_logo != globex_logo

    acme_portal = host_client(app, "acme.localhost:8000")
    globex_portal = host_client(app, "globex.localhost:8000")
    assert acme_portal.get(f"/logo/{acme_logo}").status_code == 200
    assert acme_portal.get(f"/logo/{globex_logo}").status_code == 404
    assert globex_portal.get(f"/logo/{acme_logo}").status_code == 404
    assert globex_portal.get(f"/logo/{globex_logo}").status_code == 200
    for hostile in ("..%2F..%2Fsecret_key", "logo-0000000000000000.png", "%00", "x" * 300):
        assert acme_portal.get(f"/logo/{hostile}").status_code == 404
    # The console serves only the signed-in tenant's logo too.
    assert signed_in_console.get(f"/settings/logo/{globex_logo}").status_code == 404
    assert signed_in_console.get(f"/settings/logo/{acme_logo}").status_code == 200


def test_a_missing_logo_file_falls_back_to_the_name(app, signed_in_console):
    save_branding(signed_in_console, logo=(image_bytes(), "l.png"))
    tenant = tenant_named("acme")
    storage().delete(tenant_key(tenant.id, "branding", tenant.logo_name))
    assert tenant.logo_bytes() is None
    portal = host_client(app, "acme.localhost:8000")
    assert portal.get(f"/logo/{tenant.logo_name}").status_code == 404


# --- console pages: settings, preview ---------------------------------------------------------


def test_the_console_has_a_settings_link_and_a_preview(app, signed_in_console):
    home = signed_in_console.get("/").get_data(as_text=True)
    assert '<a href="/settings/branding">Settings</a>' in home
    assert signed_in_console.get("/settings").headers["Location"] == "/settings/branding"
    save_branding(signed_in_console, logo=(image_bytes(), "l.png"))
    tenant = tenant_named("acme")
    preview = signed_in_console.get("/settings/preview")
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'class="brand-preview"' in body
    assert f'src="/settings/logo/{tenant.logo_name}" alt="Acme Supply Co."' in body
    assert "Welcome to the Acme Supply Co. payment portal" in body
    assert "help@acme.test" in body
    assert 'href="http://acme.localhost:8000/"' in body  # and a link to the portal itself
    assert "style=" not in body
    css = signed_in_console.get("/settings/preview.css").get_data(as_text=True)
    assert css.startswith(
        ".brand-preview { --brand: #0f766e; --brand-text: #ffffff; --link: #0f766e;"
    )
    settings_page = signed_in_console.get("/settings/branding").get_data(as_text=True)
    assert 'value="#0f766e"' in settings_page
    assert 'accept="image/png,image/jpeg,image/webp"' in settings_page
    assert 'enctype="multipart/form-data"' in settings_page


def test_settings_need_a_sign_in(app, make_tenant, console):
    make_tenant("acme")
    for path in ("/settings/branding", "/settings/preview", "/settings/preview.css"):
        response = console.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]
    assert host_client(app, "acme.localhost:8000").get("/settings/branding").status_code == 404


# --- emails and PDFs --------------------------------------------------------------------------


def test_emails_show_the_logo_on_the_portal_host_and_the_brand_colour(app, signed_in_console):
    save_branding(signed_in_console, logo=(image_bytes(), "l.png"))
    tenant = tenant_named("acme")
    submit(signed_in_console, "/team", {"email": "new@acme.test", "role": "staff"})
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == "new@acme.test")
        .execution_options(all_tenants=True)
    ).one()
    logo = f"http://acme.localhost:8000/logo/{tenant.logo_name}"
    assert f'<img src="{logo}" alt="Acme Supply Co."' in message.html_body
    assert "border-top: 6px solid #0f766e" in message.html_body
    assert "help@acme.test" in message.html_body
    # The address in the email really serves the logo.
    assert (
        host_client(app, "acme.localhost:8000").get(f"/logo/{tenant.logo_name}").status_code == 200
    )


def test_the_invoice_email_button_and_pdf_carry_the_brand(app, signed_in_console):
    from pypdf import PdfReader

    from shared.customers import create_customer
    from shared.invoices import LineInput, create_invoice
    from shared.invoices.sending import invoice_pdf, send_invoice

    save_branding(signed_in_console, brand_color="#facc15", logo=(image_bytes(), "l.png"))
    tenant = tenant_named("acme")
    with tenant_scope(tenant.id):
        customer = create_customer(name="Harbor View Dental", email="ap@harbor.test")
        invoice = create_invoice(
            customer_id=customer.id,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=30),
            electronic=True,
            lines=[LineInput("Supplies", Decimal("1"), 10000)],
        )
        send_invoice(tenant, invoice, now=utcnow())
        db.session.commit()
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "invoice")
        ).one()
        assert "background: #facc15; color: #111111;" in message.html_body
        pdf = PdfReader(io.BytesIO(invoice_pdf(tenant, invoice)))
        assert len(pdf.pages[0].images) == 1  # the logo
        content = pdf.pages[0].get_contents().get_data()
        assert b"0.9804 0.8 0.0824 rg" in content  # the yellow brand fills the table header
        assert b"0.0667 0.0667 0.0667 rg" in content  # with near-black text on it
        assert b"1 1 1 rg" not in content  # never white text on yellow
    leave_tenant()
