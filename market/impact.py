"""Impact accounting: what each confirmed booking shared and, where a sourced factor exists,
the CO2e it avoided; summed per kind and unit for a tenant over a period.

Method (docs/impact.md): each booking is accounted one way, by its kind.

- **Freight** (a vehicle booking that carries a leg): tonne-km moved on a trip that happens
  anyway instead of by a dedicated lorry, ``tonnes x leg km``, times the dedicated lorry's
  factor (:data:`market.impact_factors.HGV_AVERAGE_LADEN_TKM`), the distance being the leg
  offer's ``distance_km``. A parked vehicle's booking (an offer without a leg) is accounted as
  shared capacity-hours, like space, with no CO2e, since no distance was moved.
- **By-products** (containers): tonnes of material collected for use instead of disposal: a
  mass as booked, a volume (m3) times the bulk density the owner declared with the material
  (none declared: the m3 only, no tonnes). No disposal-versus-reuse factor was found in a
  named source (docs/impact.md), so no CO2e.
- **Space, machines, equipment, parked vehicles**: capacity-hours shared, ``quantity x hours``,
  and no CO2e: what sharing avoids (a warehouse not built, a machine not bought) has no
  defensible per-hour factor.

Which bookings count: confirmed ones (:data:`storage.catalog.CONFIRMED`). A live hold takes
capacity (:func:`storage.catalog.counts`) but is not yet a commitment; a cancelled or expired
booking avoided nothing. A booking belongs to the period in which its time starts, so
adjacent periods never count one booking twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from market.caller import Caller
from market.impact_factors import HGV_AVERAGE_LADEN_TKM
from storage.catalog import CONFIRMED, BookingRow, Catalog, OfferRow

#: Longest period one request may cover.
MAX_PERIOD_S = 366 * 86400.0

#: Mass units a booked quantity can be read in, as tonnes per unit.
TONNES_PER_UNIT = {"t": 1.0, "kg": 0.001}

FREIGHT, DIVERTED, CAPACITY_HOURS = "tonne_km", "tonnes_diverted", "capacity_hours"


def tonnes(quantity: float, unit: str) -> float | None:
    """``quantity`` in tonnes, or None when ``unit`` is not a mass."""
    per_unit = TONNES_PER_UNIT.get(unit)
    return None if per_unit is None else quantity * per_unit


@dataclass(frozen=True)
class BookingImpact:
    """One booking's impact; a measure that does not apply to its kind is None."""

    kind: str
    unit: str
    quantity: float
    basis: str  # FREIGHT, DIVERTED or CAPACITY_HOURS: how it is accounted
    capacity_hours: float | None = None
    tonne_km: float | None = None
    tonnes_diverted: float | None = None
    kg_co2e_avoided: float | None = None
    factors: tuple[str, ...] = ()
    #: What the booking is worth at its offer's price, in ``currency``.
    revenue: float = 0.0
    currency: str = ""


def revenue(quantity: float, start: float, end: float, price_per_unit_hour: float,
            leg: dict[str, Any] | None) -> float:
    """What a booking is worth at its offer's price: a leg's tonnes times its price per tonne
    when the leg is priced so, else quantity x hours x the price per unit-hour."""
    per_tonne = (leg or {}).get("price_per_tonne")
    if per_tonne is not None:
        return quantity * float(per_tonne)
    return quantity * max(end - start, 0.0) / 3600.0 * price_per_unit_hour


def diverted_tonnes(quantity: float, unit: str, density_t_per_m3: float | None) -> float | None:
    """A by-product's booked quantity in tonnes: a mass as it is, a volume (m3) times the
    material's declared bulk density; None without one."""
    mass = tonnes(quantity, unit)
    if mass is None and unit == "m3" and density_t_per_m3 is not None:
        return quantity * density_t_per_m3
    return mass


def booking_impact(kind: str, unit: str, quantity: float, start: float, end: float,
                   leg_km: float | None = None, density_t_per_m3: float | None = None
                   ) -> BookingImpact:
    """The impact of a booking of ``quantity`` ``unit`` of a ``kind`` over ``[start, end)``;
    ``leg_km``: the distance of the leg a vehicle booking rides on, if it has one;
    ``density_t_per_m3``: a by-product's declared bulk density, if given."""
    if kind == "vehicle" and leg_km is not None:
        moved = tonnes(quantity, unit)
        tkm = None if moved is None else moved * leg_km
        return BookingImpact(
            kind, unit, quantity, FREIGHT, tonne_km=tkm,
            kg_co2e_avoided=None if tkm is None else tkm * HGV_AVERAGE_LADEN_TKM.value,
            factors=() if tkm is None else (HGV_AVERAGE_LADEN_TKM.id,),
        )
    if kind == "container":
        return BookingImpact(kind, unit, quantity, DIVERTED,
                             tonnes_diverted=diverted_tonnes(quantity, unit, density_t_per_m3))
    hours = max(end - start, 0.0) / 3600.0
    return BookingImpact(kind, unit, quantity, CAPACITY_HOURS, capacity_hours=quantity * hours)


@dataclass
class Tally:
    """Sums over bookings; a measure stays None until a booking contributes to it."""

    bookings: int = 0
    quantity: float = 0.0
    capacity_hours: float | None = None
    tonne_km: float | None = None
    tonnes_diverted: float | None = None
    kg_co2e_avoided: float | None = None
    #: Bookings whose kind or data gave no CO2e figure (see the module's method).
    bookings_without_co2e: int = 0
    factors: set[str] = field(default_factory=set)
    #: currency -> the bookings' worth (offers may be priced in several).
    revenue: dict[str, float] = field(default_factory=dict)

    def add(self, b: BookingImpact) -> None:
        self.bookings += 1
        self.quantity += b.quantity
        self.revenue[b.currency] = self.revenue.get(b.currency, 0.0) + b.revenue
        for name in ("capacity_hours", "tonne_km", "tonnes_diverted", "kg_co2e_avoided"):
            value = getattr(b, name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0.0) + value)
        self.bookings_without_co2e += b.kg_co2e_avoided is None
        self.factors.update(b.factors)


@dataclass(frozen=True)
class ImpactReport:
    total: Tally
    #: (kind, unit) -> the sums of its bookings; quantities of different units never mix.
    kinds: dict[tuple[str, str], Tally]


def of_caller(catalog: Catalog, caller: Caller, start: float, end: float) -> ImpactReport:
    """The impact of the confirmed bookings whose time starts in ``[start, end)``: a platform
    key's tenant's own bookings, an owner or viewer key's the bookings on its tenant's assets.
    Nobody else's booking is read."""
    b, o = BookingRow, OfferRow
    party = b.tenant_id if caller.is_platform else b.owner_tenant_id
    q = (
        select(o.kind, o.unit, b.quantity, b.start, b.end, o.price_per_unit_hour, o.currency,
               o.leg, o.material)
        .join(o, o.id == b.offer_id)
        .where(party == caller.tenant_id, b.status == CONFIRMED, b.start >= start,
               b.start < end)
        .order_by(o.kind, o.unit, b.id)
    )
    total, kinds = Tally(), dict[tuple[str, str], Tally]()
    with catalog.session() as s:
        for kind, unit, quantity, b_start, b_end, price, currency, leg, material in s.execute(q):
            # A leg offer's distance makes its booking freight moved on an existing trip; a
            # by-product's density turns its m3 into tonnes.
            leg_km = (leg or {}).get("distance_km")
            impact = replace(
                booking_impact(kind, unit, quantity, b_start, b_end,
                               None if leg_km is None else float(leg_km),
                               (material or {}).get("density_t_per_m3")),
                revenue=revenue(quantity, b_start, b_end, price, leg), currency=currency)
            total.add(impact)
            kinds.setdefault((kind, unit), Tally()).add(impact)
    return ImpactReport(total=total, kinds=kinds)
