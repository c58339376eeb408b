"""The leg backtest on the simulated fleet: figures within their targets, the fleet named as
simulated. A small fleet (6 trucks, 2 origins) keeps it within the test-time budget."""

from __future__ import annotations

from bench.evaluate_legs import evaluate_legs, report_lines


def test_leg_forecasts_on_the_simulated_fleet_cover_and_offer_what_was_free() -> None:
    f = evaluate_legs(n_trucks=6, weeks=8, first_week=6)
    assert f.origins == 2 and f.forecast_legs > 100
    assert 0.15 <= f.empty_km_share <= 0.30  # Eurostat EU 2024: 21.6 %
    assert f.ran_share >= 0.85  # the rest are days off and one-off orders, unforeseeable
    assert f.p10_coverage >= 0.90
    assert f.precision_ran >= 0.95
    assert f.offer_precision >= 0.8 * f.ran_share  # a leg that did not run had nothing free
    assert f.capture >= 0.4
    assert f.mae < f.mae_naive
    text = "\n".join(report_lines(f))
    assert "SIMULATED" in text and "P10 coverage" in text and "capture" in text
    for source in ("Eurostat", "96/53/EC", "Newell 1980", "92/6/EEC", "561/2006"):
        assert source in text
