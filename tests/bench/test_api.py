from __future__ import annotations

from bench.api import report, run


def test_bench_api_runs_at_tiny_scale_and_prints_the_targets_against_the_raw_limit() -> None:
    figures = run(assets=30, offers=120, rate=20, duration=1.0, workers=1, rounds=2)
    assert figures["search_at_rate"]["requests"] == 20
    assert figures["search_at_rate"]["errors"] == 0
    assert figures["distance_closed_loop"]["errors"] == 0
    text = report(figures)
    assert "raw limit" in text and "p99" in text
    assert "of the raw limit (target >= 60 %" in text.replace("60%", "60 %")
    assert "distance search" in text
    costs = figures["search_in_process"]
    assert costs["plain_ms"] > 0 and costs["distance_ms"] > 0
    assert "distance can reach at most" in text


def test_bench_api_serves_a_postgresql_catalog() -> None:
    figures = run(assets=30, offers=120, rate=20, duration=1.0, workers=1, catalog="postgresql",
                  rounds=2)
    assert figures["catalog"] == "postgresql"
    assert figures["search_at_rate"]["errors"] == 0
    assert figures["search_closed_loop"]["requests"] > 0
