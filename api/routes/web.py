"""The web page: one self-contained HTML file that calls the API with the visitor's key."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

INDEX = Path(__file__).resolve().parent.parent / "static" / "index.html"


@router.get("/")
def index() -> FileResponse:
    # no-cache: the page is tiny and a stale copy after an upgrade would call old routes.
    return FileResponse(INDEX, media_type="text/html", headers={"Cache-Control": "no-cache"})
