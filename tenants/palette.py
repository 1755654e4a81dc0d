"""Colour tokens for a vendor's pages, derived from its brand colour so that text stays readable.

The brand colour fills the header and primary buttons; everything else a person must read in that
colour (links, focus rings, the outline of secondary buttons, the selected tab) is computed from it
until it reaches WCAG AA (4.5:1) against the background it sits on. A light brand (yellow) gets
darker links; a dark brand keeps its own. The console's defaults in app.css are this palette for the
product's own blue (a test holds them equal).
"""

from __future__ import annotations

from dataclasses import dataclass

WHITE = "#ffffff"
NEAR_BLACK = "#111111"
BLACK = "#000000"
PAGE_BACKGROUND = "#f7f8fa"  # app.css --bg: links sit on it and on white cards
AA = 4.5
_SOFT_TINT = 0.88  # how much white a soft brand tint mixes in


def rgb(color: str) -> tuple[int, int, int]:
    """`#rrggbb` as three integers (0–255)."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def hex_color(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in (red, green, blue))


def luminance(color: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""
    channels = []
    for c in rgb(color):
        c = c / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two `#rrggbb` colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(color: str, other: str, amount: float) -> str:
    """`color` moved `amount` (0–1) of the way towards `other`, in sRGB."""
    return hex_color(*(a + (b - a) * amount for a, b in zip(rgb(color), rgb(other), strict=True)))


def text_on(background: str) -> str:
    """White or near-black, whichever reads better on `background`."""
    return max((WHITE, NEAR_BLACK), key=lambda text: contrast(background, text))


def readable_on(color: str, backgrounds: tuple[str, ...], minimum: float = AA) -> str:
    """`color` itself when it reaches `minimum` against every background; otherwise the nearest
    shade of it that does, darker on light backgrounds and lighter on dark ones."""
    target = BLACK if max(luminance(b) for b in backgrounds) > 0.18 else WHITE
    for step in range(0, 101):
        shade = mix(color, target, step / 100)
        if all(contrast(shade, b) >= minimum for b in backgrounds):
            return shade
    return target if target == BLACK else WHITE


@dataclass(frozen=True)
class Palette:
    brand: str  # header and primary buttons
    brand_text: str  # text on the brand colour
    link: str  # links, secondary buttons' text and outline, on white and the page background
    focus: str  # focus rings on the page (the header uses brand_text)
    soft: str  # a light tint of the brand, for a selected or highlighted area
    on_soft: str  # text on the soft tint

    def css_variables(self) -> dict[str, str]:
        return {
            "--brand": self.brand,
            "--brand-text": self.brand_text,
            "--link": self.link,
            "--focus": self.focus,
            "--brand-soft": self.soft,
            "--on-soft": self.on_soft,
        }

    def css(self, selector: str = ":root") -> str:
        body = "; ".join(f"{name}: {value}" for name, value in self.css_variables().items())
        return f"{selector} {{ {body}; }}\n"


def palette_for(brand: str) -> Palette:
    """The tokens for a valid `#rrggbb` brand colour."""
    text = text_on(brand)
    if contrast(brand, text) < AA:
        # An old colour chosen before the check: the header keeps its hue, darkened until white
        # text reads on it.
        brand = readable_on(brand, (WHITE,))
        text = WHITE
    link = readable_on(brand, (WHITE, PAGE_BACKGROUND))
    soft = mix(brand, WHITE, _SOFT_TINT)
    return Palette(
        brand=brand,
        brand_text=text,
        link=link,
        focus=link,
        soft=soft,
        on_soft=readable_on(link, (soft,)),
    )
