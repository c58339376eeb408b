"""Impact of by-product collections: m3 turned into tonnes by the material's declared density,
by hand; without a density the m3 only; never a CO2e figure (no sourced factor: docs/impact.md)."""

from __future__ import annotations

import pytest

from idleshare.materials import Material
from market.caller import Caller
from market.impact import DIVERTED, booking_impact, of_caller
from storage.catalog import Catalog, OfferRow
from tests.market.test_impact import HOUR, T0, booking, offer


def test_a_collection_in_m3_diverts_its_volume_times_the_declared_density() -> None:
    b = booking_impact("container", "m3", 12.0, T0, T0 + HOUR, density_t_per_m3=0.21)
    # By hand: 12 m3 x 0.21 t/m3 = 2.52 t diverted from disposal.
    assert (b.basis, b.tonnes_diverted) == (DIVERTED, pytest.approx(2.52))
    assert (b.kg_co2e_avoided, b.factors) == (None, ())
    # A mass is a mass whatever the density; a volume without one has no tonnes.
    assert booking_impact("container", "t", 3.0, T0, T0 + HOUR, density_t_per_m3=0.5
                          ).tonnes_diverted == 3.0
    assert booking_impact("container", "m3", 12.0, T0, T0 + HOUR).tonnes_diverted is None


def test_the_report_totals_confirmed_collections_with_their_offers_densities(
        catalog: Catalog) -> None:
    sawdust = Material("03 01 05", "sawdust", density_t_per_m3=0.2).to_dict()
    slag = Material("10 02 02", "unprocessed slag", density_t_per_m3=1.6).to_dict()
    unknown = Material("12 01 01", "ferrous filings").to_dict()
    ids = []
    for asset, material in (("bin-a", sawdust), ("bin-b", slag), ("bin-c", unknown)):
        ids.append(offer(catalog, "borealis", asset, "container", "m3"))
        with catalog.session() as s:
            row = s.get(OfferRow, ids[-1])
            assert row is not None
            row.material = {**material, "emptied_at": None}
    booking(catalog, ids[0], "collector", 10.0)                      # 2.0 t
    booking(catalog, ids[1], "collector", 5.0)                       # 8.0 t
    booking(catalog, ids[1], "collector", 50.0, status="cancelled")  # avoided nothing
    booking(catalog, ids[2], "collector", 4.0)                       # m3 only
    for caller in (Caller("borealis", "owner"), Caller("collector", "platform")):
        report = of_caller(catalog, caller, T0, T0 + 86400)
        bins = report.kinds[("container", "m3")]
        assert (bins.bookings, bins.quantity) == (3, 19.0)
        assert bins.tonnes_diverted == pytest.approx(10.0)  # 10 x 0.2 + 5 x 1.6
        assert (report.total.kg_co2e_avoided, report.total.bookings_without_co2e) == (None, 3)
