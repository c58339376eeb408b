"""Query parameter parsing: query strings, instants and cursors."""

from __future__ import annotations

import base64
import time

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from api.params import decode_cursor, encode_cursor, query_pairs, split_page, to_epoch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T00:00:00Z", 1714521600.0),
        ("2024-05-01T02:00:00+02:00", 1714521600.0),
        ("2024-05-01T00:00:00", 1714521600.0),  # naive means UTC, not the server's zone
        ("2024-05-01", 1714521600.0),
        ("1714521600", 1714521600.0),
        ("1714521600.5", 1714521600.5),
    ],
)
def test_instants_accept_iso_8601_and_epoch_seconds(
    text: str, expected: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server zone other than UTC, so a naive time read as local would be caught.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert to_epoch(text) == expected
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["yesterday", "nan", "inf", "-5", "1714521600000"])
def test_instants_refuse_garbage_negatives_and_milliseconds(text: str) -> None:
    with pytest.raises(ValueError):
        to_epoch(text)


def test_cursor_round_trips_its_sort_key() -> None:
    key = [1714521600.25, 42]
    assert decode_cursor(encode_cursor(key), (float, int)) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode(),
        encode_cursor(["zone-a"]),  # an asset cursor given to a (start, id) list
        encode_cursor([1.0, "7"]),
        encode_cursor([1.0, True]),
        encode_cursor({"start": 1.0}),  # type: ignore[arg-type]
    ],
)
def test_malformed_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        decode_cursor(cursor, (float, int))
    assert info.value.errors()[0]["loc"] == ("query", "cursor")


def test_split_page_gives_a_cursor_only_when_more_rows_follow() -> None:
    assert split_page([1, 2, 3], 3, lambda r: [r]) == ([1, 2, 3], None)
    rows, cursor = split_page([1, 2, 3, 4], 3, lambda r: [r])
    assert rows == [1, 2, 3]
    assert decode_cursor(cursor, (int,)) == [3]


@pytest.mark.parametrize("raw", [
    b"", b"&", b"&&a=1&&", b"a", b"a=", b"=b", b"a=1&a=2", b"a=1=2", b"k%C3%BC=%E2%82%AC",
    b"q=a+b%2Bc", b"x=%zz&y=%4", b"n=\xe9&m=%E9", b"cap=cold&cap=dock;x=1", b"a+b=c+d",
    b"kind=warehouse_zone&lat=52.5&lon=13.4&km=50&sort=distance&limit=20",
])
def test_query_pairs_read_what_starlettes_query_params_read(raw: bytes) -> None:
    assert query_pairs(raw) == QueryParams(raw).multi_items()


@given(st.lists(st.sampled_from(list(b"ab=&+%;2C3E\xe9 ")), max_size=40).map(bytes))
def test_query_pairs_read_any_bytes_as_starlette_does(raw: bytes) -> None:
    assert query_pairs(raw) == QueryParams(raw).multi_items()
