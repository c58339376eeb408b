"""Query parameter types shared by the routes: instants, page size and opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator, WithJsonSchema

from idleshare.assets import KINDS

T = TypeVar("T")

#: Asset kinds as an enum, so /docs lists them and a typo is a 422 naming the choices.
KindName = StrEnum("KindName", {k.name: k.name for k in KINDS})  # type: ignore[misc]

#: Largest instant a datetime can hold; a bigger "epoch" is almost surely milliseconds.
_MAX_EPOCH = 253402300799.0


def to_epoch(value: Any) -> float:
    """ISO 8601 (naive means UTC) or epoch seconds -> epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("expected an ISO 8601 time or epoch seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                dt = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"expected an ISO 8601 time (2024-05-01T10:00:00Z) or epoch seconds: "
                    f"got {text!r}"
                ) from None
            seconds = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(seconds) or not 0 <= seconds <= _MAX_EPOCH:
        raise ValueError(f"epoch seconds must be between 0 and {_MAX_EPOCH:.0f}: got {seconds}")
    return seconds


#: An instant given as ISO 8601 or epoch seconds; the route sees epoch seconds.
Instant = Annotated[
    float,
    BeforeValidator(to_epoch),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 (UTC if no offset) or seconds since the Unix epoch",
            "examples": ["2024-05-01T10:00:00Z", "1714557600"],
        }
    ),
]

Limit = Annotated[int, Query(ge=1, le=1000, description="items per page")]
CursorParam = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page")
]


def encode_cursor(key: list[Any]) -> str:
    """The sort key of a page's last item, as an opaque token."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> list[Any] | None:
    """The sort key a cursor carries, checked against the types the route sorts by; a malformed
    cursor is a 422 like any other bad query parameter."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(_is(v, t) for v, t in zip(key, types, strict=True))
    ):
        raise query_error(
            "cursor", "invalid cursor: pass the next_cursor of a previous page unchanged", cursor
        )
    return [float(v) if t is float else v for v, t in zip(key, types, strict=True)]


def _is(value: Any, typ: type) -> bool:
    if isinstance(value, bool):
        return False
    if typ is float:
        return isinstance(value, int | float) and math.isfinite(value)
    return isinstance(value, typ)


def query_error(name: str, msg: str, value: Any) -> RequestValidationError:
    """A 422 naming a query parameter, shaped like FastAPI's own."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": msg, "input": value}]
    )


def split_page(
    rows: list[T], limit: int, key: Callable[[T], list[Any]]
) -> tuple[list[T], str | None]:
    """Rows fetched with ``LIMIT limit + 1`` -> this page and the cursor of the next, if any."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))


#: A row id in a path; bounded so a huge number is a 422, not a database overflow.
RowId = Annotated[int, Path(ge=1, le=2**53, description="the row's id")]
