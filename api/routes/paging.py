"""Pages of catalog rows ordered by id, as the list routes answer them: the cursor carries the
id of a page's last row."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from api.params import decode_cursor, split_page
from api.schemas.common import Page

M = TypeVar("M", bound=BaseModel)


def after_id(cursor: str | None, id_type: type[int] | type[str]) -> Any:
    """The id the page ``cursor`` continues after (None for the first page); 422 if the
    cursor is malformed."""
    after = decode_cursor(cursor, (id_type,))
    return after[0] if after else None


def page_by_id(model: type[M], rows: list[Any], limit: int) -> Page[M]:
    """``rows``, read with ``LIMIT limit + 1``, as one page of ``model`` and the cursor of the
    next page if there is one."""
    rows, next_cursor = split_page(rows, limit, lambda r: [r.id])
    return Page(items=[model.model_validate(r) for r in rows], next_cursor=next_cursor)
