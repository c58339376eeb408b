"""The analytics benchmark runs end to end at tiny scale, streaming the fleet in chunks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits

from bench.analytics import report_sizes, run, run_sizes


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # Gradient boosting's OpenMP threads spin on a shared 2-core machine: 5-20x slower.
    with threadpool_limits(limits=1):
        yield


def test_the_benchmark_forecasts_and_offers_for_every_asset_and_prints_its_time() -> None:
    (result,) = run_sizes([20], days=15, step_s=900.0)
    assert result.assets == 20 and result.readings == 20 * 15 * 96 and result.chunks == 1
    assert result.offers > 0 and result.peak_rss_mb > 0
    text = report_sizes([result])
    assert "forecasts and offers:" in text and "assets/s" in text and "300 s" in text
    assert "peak RSS" in text and "load average" in text


def test_a_fleet_streamed_in_chunks_gets_the_offers_of_each_chunk_analysed_alone() -> None:
    # Chunk k is generated from seed k and analysed on its own, as a worker's share is.
    streamed = run(assets=20, days=15, step_s=900.0, chunk=8)
    alone = [run(assets=n, days=15, step_s=900.0, seed=k) for k, n in enumerate((8, 8, 4))]
    assert streamed.chunks == 3 and streamed.readings == sum(r.readings for r in alone)
    assert streamed.offers == sum(r.offers for r in alone)
