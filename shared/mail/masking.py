"""What is kept of an email once it is delivered: its links with their secrets masked.

Pay links, confirmation, reset and invitation links are capabilities: whoever holds the URL gets in.
After delivery the recipient has them; the stored copy only has to show where they pointed, so each
token in a URL becomes "…" while the scheme, host and the rest of the path stay.

Why by the shape of the URL and not by a list of the links the sender passed: delivery is retried
from another process (`flask mail deliver`) long after `send_email`'s arguments are gone, so a list
would need a column of its own; and the shape is what makes a link a capability whatever template,
argument or future email put it there. A token is a run of at least 20 URL-safe characters with a
digit or a capital in a path segment, query value or fragment (every token we make is longer:
itsdangerous' signatures and `secrets.token_urlsafe`); route words are lower-case and hyphenated,
and ids are short, so they stay. Images (`src="…"`) are kept: they are loaded, not followed, and the
logo's name is long and random but not a secret.
"""

from __future__ import annotations

import re

MASK = "…"

_URL = re.compile(r"""https?://[^\s"'<>()]+""", re.IGNORECASE)
# The host part: everything up to the first path, query or fragment character.
_ORIGIN = re.compile(r"^https?://[^/?#]*", re.IGNORECASE)
_RUN = re.compile(r"[A-Za-z0-9_.~%-]{20,}")
_SECRET_LOOKING = re.compile(r"[0-9A-Z]")


def _mask_token(match: re.Match[str]) -> str:
    run = match.group(0)
    return MASK if _SECRET_LOOKING.search(run) else run


def mask_url(url: str) -> str:
    """The URL with every token in its path, query and fragment replaced by "…"."""
    origin = _ORIGIN.match(url)
    cut = origin.end() if origin else 0
    return url[:cut] + _RUN.sub(_mask_token, url[cut:])


def mask_links(body: str) -> str:
    """`body` (text or HTML) with the tokens of its links masked; image sources are left alone."""

    def replace(match: re.Match[str]) -> str:
        if body[max(0, match.start() - 5) : match.start()].lower() == 'src="':
            return match.group(0)
        return mask_url(match.group(0))

    return _URL.sub(replace, body)
