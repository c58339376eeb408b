"""The web pages: the market dashboard and the fleet and asset app, each an HTML file with
its script and style (and the vendored chart library) as files from this server. Both call
the API with the visitor's key."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
INDEX = STATIC / "index.html"
_INDEX_PAGE = INDEX.read_bytes()
APP = STATIC / "app.html"


_TAIL = (
    "connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
#: Both pages load their script and styles as files from this server and have no inline
#: ones: no injected markup can run, no outside sources, calls only to this server, no
#: framing, no form posts, no <base> tricks. (uPlot sizes its elements through
#: element.style, which CSP does not govern.)
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " + _TAIL
APP_CSP = CSP

#: Every file under /static: a fixed table, so no request can name any other file.
ASSETS: dict[str, tuple[bytes, str]] = {
    name: ((STATIC / name).read_bytes(), media)
    for name, media in {
        "common.js": "text/javascript",
        "dashboard.js": "text/javascript",
        "dashboard.css": "text/css",
        "charts.js": "text/javascript",
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
    return _page(_INDEX_PAGE, CSP)


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
