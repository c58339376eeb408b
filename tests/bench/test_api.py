from __future__ import annotations

from bench.api import report, run


def test_bench_api_runs_at_tiny_scale_and_prints_the_raw_limit() -> None:
    figures = run(assets=30, offers=120, rate=20, duration=1.0)
    assert figures["search_at_rate"]["requests"] == 20
    assert figures["search_at_rate"]["errors"] == 0
    text = report(figures)
    assert "raw limit" in text and "p99" in text
