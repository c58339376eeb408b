"""Utilisation per bucket: time-weighted, NaN without data, aligned to UTC multiples."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.series import free_quantity
from analytics.utilisation import utilisation_series
from idleshare.errors import ConfigError
from tests.analytics import datasets, reference

H, D = 3600.0, 86400.0


def test_utilisation_is_weighted_by_how_long_each_value_holds() -> None:
    # Full for 15 min, then empty for 45 min; then half full for an hour.
    times = np.array([0.0, 900.0, H, 2 * H])
    occupied = np.array([10.0, 0.0, 5.0, 5.0])
    starts, used, coverage = utilisation_series(times, occupied, 10.0, "warehouse_zone", 0.0,
                                                2 * H)
    np.testing.assert_array_equal(starts, [0, H])
    np.testing.assert_allclose(used, [0.25, 0.5])
    np.testing.assert_allclose(coverage, [1.0, 1.0])


def test_buckets_without_data_are_nan_with_zero_coverage() -> None:
    # 1 h -> 10 h is a 9 h gap: the 1 h reading holds nothing; the last reading holds nothing.
    times = np.array([0.0, H, 10 * H, 11 * H])
    _, used, coverage = utilisation_series(times, np.array([1.0, 1.0, 0.0, 0.0]), 1.0,
                                           "machine", 0.0, 12 * H)
    assert used[0] == 1.0 and used[10] == 0.0
    assert np.isnan(used[[1, 2, 9, 11]]).all()
    np.testing.assert_array_equal(coverage[[0, 1, 10, 11]], [1.0, 0.0, 1.0, 0.0])


def test_coverage_is_the_share_of_the_bucket_with_data() -> None:
    _, used, coverage = utilisation_series(np.array([1800.0, H]), np.array([1.0, 0.0]), 1.0,
                                           "vehicle", 0.0, H)
    assert used.tolist() == [1.0] and coverage.tolist() == [0.5]


def test_container_utilisation_is_its_fill_and_others_are_what_is_taken() -> None:
    times = np.array([0.0, H])

    def first(kind: str, value: float) -> float:
        return float(utilisation_series(times, np.array([value, value]), 10.0, kind, 0.0, H)[1][0])

    assert first("container", 8.0) == pytest.approx(0.8)  # 8 of 10 m3 filled
    assert first("warehouse_zone", 8.0) == pytest.approx(0.8)  # 8 of 10 pallets occupied
    assert first("machine", 1.0) == 1.0 and first("equipment", 0.0) == 0.0


def test_buckets_align_to_multiples_of_the_bucket_length() -> None:
    starts, used, _ = utilisation_series(np.zeros(0), np.zeros(0), 1.0, "machine", D + H,
                                         2 * D + 1, bucket_s=D)
    np.testing.assert_array_equal(starts, [D, 2 * D])
    assert np.isnan(used).all()


def test_an_empty_range_gives_no_buckets() -> None:
    starts, used, coverage = utilisation_series(np.zeros(0), np.zeros(0), 1.0, "machine", H, H)
    assert starts.size == used.size == coverage.size == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="bucket_s"):
        utilisation_series(np.zeros(0), np.zeros(0), 1.0, "machine", 0.0, H, bucket_s=0.0)
    with pytest.raises(ValueError, match="capacity"):
        utilisation_series(np.zeros(0), np.zeros(0), 0.0, "machine", 0.0, H)
    with pytest.raises(ConfigError, match="unknown asset kind"):
        utilisation_series(np.zeros(0), np.zeros(0), 1.0, "boat", 0.0, H)


def test_hourly_utilisation_of_real_car_parks_matches_a_plain_loop() -> None:
    # Irregular ~30 min readings, overnight gaps, duplicates and over-capacity counts.
    for code in ("BHMBCCTHL01", "NIA North", "Broad Street"):
        capacity, times, occupied = datasets.parking()[code]
        order = np.argsort(times, kind="stable")
        t, occ = times[order][:400], occupied[order][:400]
        _, keep = np.unique(t[::-1], return_index=True)  # the later duplicate wins
        t, occ = t[len(t) - 1 - keep], occ[len(t) - 1 - keep]
        start, end = t[0], t[-1]
        starts, used, coverage = utilisation_series(t, occ, capacity, "warehouse_zone",
                                                    start, end)
        edges = np.append(starts, starts[-1] + H)
        u = 1 - free_quantity("warehouse_zone", occ, capacity) / capacity
        want_used, want_cov = reference.bucket_means(t, u, edges, 6 * H)
        np.testing.assert_allclose(used, want_used, equal_nan=True)
        np.testing.assert_allclose(coverage, want_cov)
        assert np.nanmin(used) >= 0 and np.nanmax(used) <= 1
        assert np.isnan(used).any()  # the nights
