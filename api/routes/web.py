"""The web page: one self-contained HTML file that calls the API with the visitor's key."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

INDEX = Path(__file__).resolve().parent.parent / "static" / "index.html"


def _hashes(page: str, tag: str) -> str:
    """CSP source list of the page's own ``<tag>`` blocks: those run, nothing injected does."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)
    digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks)
    return " ".join(f"'sha256-{d}'" for d in digests)


_PAGE = INDEX.read_bytes()
#: No inline script or style but the page's own (by hash), no outside sources, calls only to
#: this server, no framing, no form posts, no <base> tricks.
CSP = (
    f"default-src 'none'; script-src {_hashes(_PAGE.decode(), 'script')}; "
    f"style-src {_hashes(_PAGE.decode(), 'style')}; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@router.get("/")
def index() -> Response:
    # no-cache: the page is tiny and a stale copy after an upgrade would call old routes.
    return Response(
        _PAGE,
        media_type="text/html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP},
    )
