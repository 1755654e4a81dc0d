"""Images for tests, made on the spot: real ones with Pillow, hostile ones byte by byte."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image, PngImagePlugin

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_bytes(
    fmt: str = "PNG",
    size: tuple[int, int] = (120, 60),
    color: tuple[int, ...] = (15, 118, 110),
    mode: str = "RGB",
    **save: object,
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def png_with_text(text: str) -> bytes:
    """A real PNG carrying `text` in a tEXt chunk (metadata that must not survive)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return image_bytes("PNG", pnginfo=info)


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 × side² bytes."""
    import os

    return image_bytes_from(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)))


def image_bytes_from(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header says width × height (its pixel data is a stub)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _chunk(b"IEND", b"")
    )


@cache
def bomb_png(side: int = 20000) -> bytes:
    """A genuine all-black side × side PNG (1 bit per pixel): a few dozen KB that inflate to
    hundreds of MB once decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 100) for _ in range(side // 100)]
    parts.append(compressor.compress(row * (side % 100)))
    parts.append(compressor.flush())
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    data = image_bytes("PNG", size=(64, 64))
    return data[: len(data) // 2]


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)

# Valid as a GIF header and as JavaScript: `GIF89a=…` is an assignment, the rest a comment trick.
GIF_JS_POLYGLOT = (
    b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;*/"
    b"=1;alert(document.domain);//"
)
