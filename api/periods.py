"""The ``start``/``end`` period of a report route: defaults and limits, one rule for all."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Query

from api.params import Instant, query_error

#: The period's query parameters; each route says its default length in its description.
PeriodStart = Annotated[Instant | None, Query(description="default: the route's default "
                                              "period before end")]
PeriodEnd = Annotated[Instant | None, Query(description="default: now")]


def period(start: float | None, end: float | None, default_s: float,
           max_s: float) -> tuple[float, float]:
    """[start, end): ``end`` now and ``start`` ``default_s`` before it when not given; a 422
    on ``start`` unless start < end and the period spans at most ``max_s``."""
    end = time.time() if end is None else end
    start = end - default_s if start is None else start
    if start >= end:
        raise query_error("start", "start must be before end", start)
    if end - start > max_s:
        raise query_error("start", f"the period may span at most {max_s / 86400:.0f} days",
                          start)
    return start, end
