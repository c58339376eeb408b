"""The ingest benchmark runs end to end at tiny scale and reports every figure."""

from __future__ import annotations

from bench.ingest import run


def test_the_benchmark_measures_each_limit_and_idleshare_with_and_without_receipts() -> None:
    lines: list[str] = []
    figures = run(scale=0.002, out=lines.append)
    for key in ("a_raw_msgs_per_s", "b_influx_points_per_s", "c1_msgs_per_s",
                "c50_readings_per_s", "d_p99_s", "c1_msgs_per_s_off", "c50_readings_per_s_off",
                "receipts_keep_single", "receipts_keep_packs"):
        assert figures[key] > 0, key
    for tag in ("off", "on"):
        assert (figures[f"c1_lost_{tag}"], figures[f"c50_lost_{tag}"]) == (0, 0), tag
    assert figures["d_lost"] == 0
    # The outage's backlog is all stored once InfluxDB is back, the drain timed from then.
    assert figures["f_lost"] == 0 and figures["f_readings_per_s"] > 0
    assert 0 <= figures["f_drain_started_s"] < 60
    # Receipts only where the births announced them: every message with, none without.
    assert (figures["c1_receipted_off"], figures["c50_receipted_off"]) == (0, 0)
    assert (figures["c1_receipted_on"], figures["c50_receipted_on"]) == (200, 20)
    assert figures["d_p50_s"] <= figures["d_p99_s"]
    assert any(line.startswith("receipts on / off:") for line in lines)
    assert any(line.startswith("ratios:") for line in lines)
