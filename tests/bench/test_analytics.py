"""The analytics benchmark runs end to end at tiny scale."""

from __future__ import annotations

from bench.analytics import report, run


def test_the_benchmark_forecasts_and_offers_for_every_asset_and_prints_its_time() -> None:
    result = run(assets=20, days=21, step_s=900.0)
    assert result.assets == 20 and result.readings == 20 * 21 * 96
    assert result.offers > 0
    text = report(result)
    assert "forecasts and offers:" in text and "300 s" in text
