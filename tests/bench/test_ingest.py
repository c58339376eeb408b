"""The ingest benchmark runs end to end at tiny scale and reports every figure."""

from __future__ import annotations

from bench.ingest import run


def test_the_benchmark_measures_each_limit_and_idleshare_with_no_loss() -> None:
    lines: list[str] = []
    figures = run(scale=0.002, out=lines.append)
    for key in ("a_raw_msgs_per_s", "b_influx_points_per_s", "c1_msgs_per_s",
                "c50_readings_per_s", "d_p99_s"):
        assert figures[key] > 0, key
    assert (figures["c1_lost"], figures["c50_lost"], figures["d_lost"]) == (0, 0, 0)
    assert figures["d_p50_s"] <= figures["d_p99_s"]
    assert any(line.startswith("ratios:") for line in lines)
