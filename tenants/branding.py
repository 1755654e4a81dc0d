"""A tenant's branding: logo, brand colour, display name and support contacts.

The logo is checked before anything decodes it (size, type from its first bytes, dimensions from its
header), then decoded and re-encoded with Pillow so only its pixels survive (no metadata, no
scripts, no second file hidden behind the first), and stored under a name the server makes. The
brand colour must leave a readable text colour (WCAG contrast of at least 4.5 with white or with
near-black), which is computed, not chosen.

Operations take the tenant and the acting staff user, validate everything before changing anything,
flush, and never commit.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.actors import Actor, record
from shared.errors import InputError
from shared.extensions import db
from shared.mailbox import normalize_email
from shared.storage import (
    FileMissing,
    StorageError,
    delete_after_commit,
    discard_on_rollback,
    storage,
    tenant_key,
)
from tenants.hosts import portal_host
from tenants.models import BRAND_COLOR_RE, DEFAULT_BRAND_COLOR, Tenant
from tenants.palette import AA as MIN_CONTRAST
from tenants.palette import Palette, contrast, palette_for, text_on
from tenants.routing import portal_url

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_SIDE = 4096
# What is kept: large enough for a sharp header on any screen and a 300 dpi PDF, small to serve.
STORED_LOGO_SIDE = 1024

_PHONE_RE = re.compile(r"^[0-9+().\- x]{3,40}$")
_LOGO_NAME_RE = re.compile(r"^logo-[0-9a-f]{16}\.(png|jpg)$")
_EXTENSIONS = {"png", "jpg", "jpeg", "webp"}
_SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


# --- colour -----------------------------------------------------------------------------------


def text_color_for(color: str | None) -> str:
    """White or near-black, whichever reads better on `color` (the default brand when unusable)."""
    if not isinstance(color, str) or not BRAND_COLOR_RE.match(color):
        color = DEFAULT_BRAND_COLOR
    return text_on(color)


def normalize_color(raw: str) -> str:
    """`#rrggbb` in lower case, readable with white or near-black text; InputError otherwise."""
    color = (raw or "").strip().lower()
    if not BRAND_COLOR_RE.match(color):
        raise InputError(
            "brand_color", str(_l("Enter a colour as # and six hexadecimal digits, like #1d4ed8."))
        )
    if contrast(color, text_color_for(color)) < MIN_CONTRAST:
        raise InputError(
            "brand_color",
            str(
                _l(
                    "Text would be hard to read on this colour, in white or in black. "
                    "Choose a darker or a lighter shade."
                )
            ),
        )
    return color


def tenant_palette(tenant: Tenant) -> Palette:
    color = tenant.brand_color if BRAND_COLOR_RE.match(tenant.brand_color or "") else None
    return palette_for(color or DEFAULT_BRAND_COLOR)


def brand_css(tenant: Tenant) -> str:
    """The per-tenant stylesheet: the colour tokens app.css uses (no inline styles under our CSP),
    computed from the brand colour with readable contrast (tenants.palette)."""
    return tenant_palette(tenant).css()


def preview_css(tenant: Tenant) -> str:
    """The same variables, scoped to the console's preview box."""
    return tenant_palette(tenant).css(".brand-preview")


# --- the logo ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogoUpload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Logo:
    """A logo ready to store: re-encoded pixels only."""

    data: bytes
    extension: str  # png or jpg
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def _refuse(message) -> InputError:
    return InputError("logo", str(message))


def _not_an_image() -> InputError:
    return _refuse(_l("Upload a PNG, JPEG or WebP image."))


def _looks_like_svg(data: bytes) -> bool:
    return b"<svg" in data[:4096].lower()


def _sniff(data: bytes) -> str | None:
    """The format the first bytes announce (never the name or the browser's content type)."""
    for kind, signature in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _extension(filename: str) -> str:
    name = (filename or "").strip().lower()
    return name.rpartition(".")[2] if "." in name else ""


def process_logo(upload: LogoUpload) -> Logo:
    """Check an uploaded logo and re-encode it; InputError (field `logo`) when it is refused."""
    data = upload.data
    if not data:
        raise _refuse(_l("The file is empty. Choose a PNG, JPEG or WebP image."))
    if len(data) > MAX_LOGO_BYTES:
        raise _refuse(_l("The logo is larger than 2 MB. Upload a smaller image."))
    extension = _extension(upload.filename)
    if extension in {"svg", "svgz"} or _looks_like_svg(data):
        raise _refuse(
            _l("SVG images are not accepted (they can carry scripts). Upload a PNG, JPEG or WebP.")
        )
    if extension and extension not in _EXTENSIONS:
        # `logo.png.html`: whatever is inside, a name like this is meant to fool something.
        raise _refuse(_l("The file name must end in .png, .jpg, .jpeg or .webp."))
    kind = _sniff(data)
    if kind is None:
        raise _not_an_image()

    # Opening reads only the header. Its size decides, before a single pixel is decoded, so a
    # 50000×50000 image or a small file that inflates to gigabytes is refused at once.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise _unreadable() from None
    if image.width > MAX_LOGO_SIDE or image.height > MAX_LOGO_SIDE:
        raise _too_many_pixels()
    if image.width < 1 or image.height < 1:
        raise _unreadable()

    try:
        image.seek(0)  # animated images: the first frame only
        image.load()
        image = ImageOps.exif_transpose(image)  # keep what the camera meant, then drop the EXIF
        alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
        keep_jpeg = kind == "JPEG" and not alpha
        image = image.convert("RGB" if keep_jpeg or not alpha else "RGBA")
        image.thumbnail((STORED_LOGO_SIDE, STORED_LOGO_SIDE), Image.Resampling.LANCZOS)
        # A new image from the pixels alone: no metadata, ICC profile or trailing bytes survive.
        clean = Image.frombytes(image.mode, image.size, image.tobytes())
        out = io.BytesIO()
        if keep_jpeg:
            clean.save(out, "JPEG", quality=90, optimize=True)
        else:
            clean.save(out, "PNG", optimize=True)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise _unreadable() from None
    return Logo(out.getvalue(), "jpg" if keep_jpeg else "png", clean.width, clean.height)


def _too_many_pixels() -> InputError:
    return _refuse(
        _l(
            "The image is too large: at most %(side)d × %(side)d pixels.",
            side=MAX_LOGO_SIDE,
        )
    )


def _unreadable() -> InputError:
    return _refuse(_l("This image could not be read. It may be damaged: try saving it again."))


def logo_key(tenant_id: int, name: str) -> str:
    return tenant_key(tenant_id, "branding", name)


def is_logo_name(name: str) -> bool:
    return bool(_LOGO_NAME_RE.match(name or ""))


def logo_bytes(tenant: Tenant) -> bytes | None:
    """The tenant's logo as stored, or None (no logo, or storage cannot give it now)."""
    if not tenant.logo_name:
        return None
    try:
        return storage().get(logo_key(tenant.id, tenant.logo_name))
    except FileMissing:
        return None
    except StorageError as exc:
        # The portal and PDFs fall back to the name; a storage outage must not break them.
        current_app.logger.warning("logo of tenant %s unavailable: %s", tenant.id, exc)
        return None


def logo_url(tenant: Tenant | None) -> str | None:
    """The logo's absolute address on the tenant's portal host (for emails), or None."""
    if tenant is None or not tenant.logo_name:
        return None
    host = portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    return portal_url(current_app, host, "portal.logo", name=tenant.logo_name)


def logo_content_type(name: str) -> str:
    return CONTENT_TYPES[name.rpartition(".")[2]]


# --- the branding form ------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandingInput:
    name: str
    brand_color: str
    support_email: str = ""
    support_phone: str = ""
    logo: LogoUpload | None = None
    remove_logo: bool = False


def require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise InputError("", str(_l("Only the owner can change the settings.")))


def _display_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InputError("name", str(_l("Enter the name your customers know you by.")))
    if len(name) > 120:
        raise InputError("name", str(_l("Use at most %(n)d characters.", n=120)))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in name):
        raise InputError("name", str(_l("Remove the invisible or control characters.")))
    return name


def _support_email(raw: str) -> str:
    raw = (raw or "").strip()
    return normalize_email(raw, "support_email") if raw else ""


def _support_phone(raw: str) -> str:
    phone = " ".join((raw or "").split())
    if phone and not _PHONE_RE.match(phone):
        raise InputError(
            "support_phone", str(_l("Enter a phone number with digits, spaces and + ( ) -."))
        )
    return phone


def update_branding(tenant: Tenant, actor: Actor, data: BrandingInput) -> None:
    """Check every field first; then apply them all (a refused field changes nothing)."""
    require_owner(actor)
    name = _display_name(data.name)
    color = normalize_color(data.brand_color)
    support_email = _support_email(data.support_email)
    support_phone = _support_phone(data.support_phone)
    logo = process_logo(data.logo) if data.logo is not None else None

    tenant.name = name
    tenant.brand_color = color
    tenant.support_email = support_email
    tenant.support_phone = support_phone
    if logo is not None:
        store_logo(tenant, logo)
    elif data.remove_logo and tenant.logo_name:
        delete_after_commit(db.session(), logo_key(tenant.id, tenant.logo_name))
        tenant.logo_name = None
    record(tenant.id, actor, "tenant.branding_changed")
    db.session.flush()


def store_logo(tenant: Tenant, logo: Logo) -> str:
    """Store a processed logo under a new name and make it the tenant's; returns the name.

    The old file is removed once the change is committed; the new one if it is rolled back.
    """
    name = f"logo-{secrets.token_hex(8)}.{logo.extension}"
    key = logo_key(tenant.id, name)
    storage().put(key, logo.data, logo.content_type)
    discard_on_rollback(db.session(), key)
    if tenant.logo_name:
        delete_after_commit(db.session(), logo_key(tenant.id, tenant.logo_name))
    tenant.logo_name = name
    return name
