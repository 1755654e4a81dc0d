"""The design system's colours: tokens computed from any brand colour reach WCAG AA (4.5:1) where
text or a focus ring sits on them, the console's defaults in app.css are the palette of the
product's own blue, and each shown status has one badge that reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.invoices.status import ShownStatus
from tenants.models import DEFAULT_BRAND_COLOR
from tenants.palette import (
    AA,
    PAGE_BACKGROUND,
    WHITE,
    contrast,
    luminance,
    mix,
    palette_for,
    readable_on,
)

APP_CSS = (Path(__file__).parent.parent / "shared" / "static" / "app.css").read_text()
BRANDS = [
    DEFAULT_BRAND_COLOR,
    "#0f766e",  # the demo's teal
    "#facc15",  # yellow: light, needs darker links
    "#ffffff",
    "#f0f0f0",
    "#777777",  # mid grey: neither white nor black text reaches 4.5 on it
    "#000000",
    "#e11d48",
    "#22c55e",
    "#7c2d12",
]


def root_variables() -> dict[str, str]:
    block = re.search(r":root \{(.*?)\}", APP_CSS, re.S).group(1)
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", block))


def rule(selector: str) -> dict[str, str]:
    match = re.search(re.escape(selector) + r" \{([^}]*)\}", APP_CSS)
    assert match, f"{selector} is missing from app.css"
    return dict(re.findall(r"([\w-]+):\s*([^;]+);", match.group(1)))


def test_contrast_follows_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # WCAG's own example
    assert luminance("#ffffff") == pytest.approx(1)
    assert mix("#000000", "#ffffff", 0.5) == "#808080"


@pytest.mark.parametrize("brand", BRANDS)
def test_every_token_reads_on_what_it_sits_on(brand):
    tokens = palette_for(brand)
    assert contrast(tokens.brand, tokens.brand_text) >= AA
    for background in (WHITE, PAGE_BACKGROUND):
        assert contrast(tokens.link, background) >= AA
        assert contrast(tokens.focus, background) >= AA
    assert contrast(tokens.on_soft, tokens.soft) >= AA


def test_a_readable_brand_is_kept_and_a_light_one_gets_darker_links():
    teal = palette_for("#0f766e")
    assert (teal.brand, teal.link) == ("#0f766e", "#0f766e")
    yellow = palette_for("#facc15")
    assert yellow.brand == "#facc15"  # the header keeps the vendor's colour, with dark text
    assert yellow.brand_text == "#111111"
    assert luminance(yellow.link) < luminance("#facc15")
    assert contrast("#facc15", WHITE) < AA <= contrast(yellow.link, WHITE)


def test_an_unreadable_old_brand_is_darkened_until_white_reads():
    grey = palette_for("#777777")
    assert grey.brand != "#777777"
    assert contrast(grey.brand, grey.brand_text) >= AA


def test_readable_on_a_dark_background_lightens():
    shade = readable_on("#1d4ed8", ("#111111",))
    assert contrast(shade, "#111111") >= AA
    assert luminance(shade) > luminance("#1d4ed8")


def test_the_console_defaults_are_the_palette_of_the_product_blue():
    defaults = root_variables()
    for name, value in palette_for(DEFAULT_BRAND_COLOR).css_variables().items():
        assert defaults[name] == value, name


def test_the_fixed_colours_of_app_css_read():
    tokens = root_variables()
    for text in ("--text", "--muted", "--error"):
        for background in ("--bg", "--surface"):
            assert contrast(tokens[text], tokens[background]) >= AA, (text, background)
    assert contrast(tokens["--danger"], tokens["--danger-text"]) >= AA


@pytest.mark.parametrize("status", list(ShownStatus))
def test_each_status_has_one_readable_badge(status):
    colours = rule(f".badge-{status.value}")
    assert contrast(colours["color"], colours["background"]) >= AA
    assert len(re.findall(rf"\.badge-{status.value}\b", APP_CSS)) == 1  # one meaning, one rule


def test_the_brand_stylesheet_carries_the_tokens(app, make_tenant):
    from tests.conftest import host_client

    make_tenant("acme", "Acme Supply Co.")
    css = host_client(app, "acme.localhost:8000").get("/brand.css").get_data(as_text=True)
    assert css == palette_for(DEFAULT_BRAND_COLOR).css()
    assert "--link: #1d4ed8" in css
