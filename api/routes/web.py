"""The web pages: the dashboard (one self-contained HTML file) and the fleet and asset app
(an HTML file with its script, style and the vendored chart library as files from this
server). Both call the API with the visitor's key."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
INDEX = STATIC / "index.html"
APP = STATIC / "app.html"


def _hashes(page: str, tag: str) -> str:
    """CSP source list of the page's own ``<tag>`` blocks: those run, nothing injected does."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)
    digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks)
    return " ".join(f"'sha256-{d}'" for d in digests)


_PAGE = INDEX.read_bytes()
_TAIL = (
    "connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
#: No inline script or style but the page's own (by hash), no outside sources, calls only to
#: this server, no framing, no form posts, no <base> tricks.
CSP = (
    f"default-src 'none'; script-src {_hashes(_PAGE.decode(), 'script')}; "
    f"style-src {_hashes(_PAGE.decode(), 'style')}; " + _TAIL
)
#: The app loads its script and styles as files from this server and has no inline ones.
#: (uPlot sizes its elements through element.style, which CSP does not govern.)
APP_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " + _TAIL

#: Every file under /static: a fixed table, so no request can name any other file.
ASSETS: dict[str, tuple[bytes, str]] = {
    name: ((STATIC / name).read_bytes(), media)
    for name, media in {
        "app.js": "text/javascript",
        "app.css": "text/css",
        "vendor/uPlot.iife.min.js": "text/javascript",
        "vendor/uPlot.min.css": "text/css",
    }.items()
}


def _page(body: bytes, csp: str) -> Response:
    # no-cache: a stale copy after an upgrade would call old routes.
    return Response(
        body,
        media_type="text/html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp},
    )


@router.get("/")
def index() -> Response:
    return _page(_PAGE, CSP)


@router.get("/app")
def app_page() -> Response:
    return _page(APP.read_bytes(), APP_CSP)


@router.get("/static/{name:path}")
def static_file(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(status_code=404, detail="not found")
    body, media = found
    # (nosniff comes with every answer: api/security.py)
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})
