"""Query parameter types shared by the routes: instants, page size and opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
import math
import types
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ValidationError, WithJsonSchema

from idleshare.assets import KINDS

T = TypeVar("T")
Model = TypeVar("Model", bound=BaseModel)

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


def read_query(model: type[Model]) -> Callable[[Request], Awaitable[Model]]:
    """A dependency reading ``model``'s fields from the query string in one pass and validating
    them in one call: FastAPI solves each query parameter on its own (a third of a search's
    time with 14 of them). The same pydantic types and constraints, so the same values pass
    and a bad one is the same 422 (``loc`` ``["query", name, ...]``, every error at once); a
    list field takes every repeat of its name, any other field the last one. Document the
    fields with :func:`query_openapi`."""
    lists = frozenset(n for n, f in model.model_fields.items() if _takes_list(f.annotation))
    singles = frozenset(model.model_fields) - lists

    async def read(request: Request) -> Model:
        values: dict[str, Any] = {}
        # FastAPI has already parsed (and cached) the query string while solving the
        # dependencies: a second parse of our own was measured to cost more, not less.
        for name, value in request.query_params.multi_items():
            if name in singles:
                values[name] = value
            elif name in lists:
                values.setdefault(name, []).append(value)
        try:
            return model.model_validate(values)
        except ValidationError as err:
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in err.errors(include_url=False)]
            ) from None

    return read


def _takes_list(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_takes_list(a) for a in get_args(annotation))
    return get_origin(annotation) in (list, tuple, set, frozenset)


#: Where FastAPI puts the schemas a parameter refers to (the enums), and its 422 answer.
_COMPONENTS = "#/components/schemas/{model}"
_VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}


def query_openapi(model: type[Model]) -> dict[str, Any]:
    """``openapi_extra`` of a route reading ``model`` with :func:`read_query`: each field as
    the query parameter FastAPI documents for the same declaration, and the 422 answer it adds
    to a route with parameters (tests/api/routes/test_offers_query.py compares the two)."""
    schema = model.model_json_schema(ref_template=_COMPONENTS)
    parameters = []
    for name, field in model.model_fields.items():
        field_schema = dict(schema["properties"][name])
        if "default" in field_schema and field_schema["default"] is None:
            del field_schema["default"]  # FastAPI leaves a None default out
        if "$ref" not in field_schema:
            field_schema["title"] = field.title or name.title().replace("_", " ")
        parameter: dict[str, Any] = {
            "name": name, "in": "query", "required": field.is_required(), "schema": field_schema,
        }
        if field.description:
            parameter["description"] = field.description
        parameters.append(parameter)
    return {"parameters": parameters, "responses": {"422": _VALIDATION_ERROR}}
