"""Query parameter parsing: instants and cursors."""

from __future__ import annotations

import base64
import time

import pytest
from fastapi.exceptions import RequestValidationError

from api.params import decode_cursor, encode_cursor, split_page, to_epoch


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
