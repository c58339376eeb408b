"""Line protocol and InfluxQL text, without a server."""

from __future__ import annotations

import pytest

from idleshare.errors import StoreError
from storage import lineproto
from storage.readings import Reading


def test_a_line_has_sorted_escaped_tags_a_float_field_and_nanoseconds() -> None:
    line = lineproto.to_line(Reading("a b", "x,y", "m=1", 1.5, 3, unit="m²"))
    assert line == r"readings,asset=x\,y,metric=m\=1,tenant=a\ b,unit=m² value=3.0 1500000000"


def test_an_empty_unit_is_left_out_rather_than_written_empty() -> None:
    assert ",unit=" not in lineproto.to_line(Reading("t", "a", "m", 0.0, 1.0))


@pytest.mark.parametrize("value", ["", "line\nbreak", "ends\\", "esc\\,comma", "esc\\ space"])
def test_tag_values_line_protocol_cannot_carry_are_refused(value: str) -> None:
    with pytest.raises(StoreError):
        lineproto.to_line(Reading("t", value, "m", 0.0, 1.0))


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(StoreError):
        lineproto.to_line(Reading("t", "a", "m", 0.0, float("nan")))


def test_influxql_strings_escape_quotes_and_backslashes() -> None:
    assert lineproto.quote_string("it's a\\b") == r"'it\'s a\\b'"


def test_an_error_inside_a_query_answer_raises() -> None:
    with pytest.raises(StoreError, match="database not found"):
        lineproto.series_values({"results": [{"statement_id": 0, "error": "database not found"}]})
