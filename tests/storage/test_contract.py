"""What every reading store promises (storage.readings.ReadingStore), on each real backend."""

from __future__ import annotations

from storage.readings import Reading, ReadingStore

T0 = 1_700_000_000.0


def r(t: float, value: float, tenant: str = "acme", asset: str = "zone-1",
      metric: str = "occupied") -> Reading:
    return Reading(tenant=tenant, asset=asset, metric=metric, time=t, value=value, unit="pallet")


def test_query_returns_the_window_start_inclusive_end_exclusive_oldest_first(
    store: ReadingStore,
) -> None:
    store.write([r(T0 + 3, 3.0), r(T0, 0.0), r(T0 + 1, 1.0), r(T0 + 2, 2.0)])
    assert store.query("acme", "zone-1", "occupied", T0 + 1, T0 + 3) == [
        (T0 + 1, 1.0),
        (T0 + 2, 2.0),
    ]


def test_query_selects_only_the_asked_series(store: ReadingStore) -> None:
    store.write([r(T0, 1.0), r(T0, 2.0, asset="zone-2"), r(T0, 3.0, metric="fill"),
                 r(T0, 4.0, tenant="other")])
    assert store.query("acme", "zone-1", "occupied", T0, T0 + 1) == [(T0, 1.0)]


def test_writing_the_same_key_again_overwrites_instead_of_adding(store: ReadingStore) -> None:
    store.write([r(T0, 1.0), r(T0 + 1, 5.0)])
    store.write([r(T0, 2.0)])
    assert store.query("acme", "zone-1", "occupied", T0, T0 + 10) == [(T0, 2.0), (T0 + 1, 5.0)]
    assert store.count("acme") == 2


def test_times_round_trip_to_the_microsecond(store: ReadingStore) -> None:
    times = [T0 + 0.001, T0 + 0.123456, 1_234_567_890.987654]
    store.write([r(t, 1.0) for t in times])
    got = [t for t, _ in store.query("acme", "zone-1", "occupied", 0, T0 + 1)]
    assert got == sorted(times)


def test_integral_and_fractional_values_mix_in_one_series(store: ReadingStore) -> None:
    # An int first must not fix the field type and make a later float fail (or vice versa).
    store.write([r(T0, 3)])
    store.write([r(T0 + 1, 2.5), r(T0 + 2, 7)])
    values = store.query("acme", "zone-1", "occupied", T0, T0 + 3)
    assert values == [(T0, 3.0), (T0 + 1, 2.5), (T0 + 2, 7.0)]
    assert all(isinstance(v, float) for _, v in values)


def test_count_is_per_tenant_or_total(store: ReadingStore) -> None:
    assert store.count() == 0
    store.write([r(T0, 1.0), r(T0 + 1, 1.0), r(T0, 1.0, tenant="other")])
    assert (store.count("acme"), store.count("other"), store.count("nobody")) == (2, 1, 0)
    assert store.count() == 3


def test_writing_nothing_is_a_no_op(store: ReadingStore) -> None:
    store.write([])
    assert store.count() == 0
