"""The emission factors impact accounting uses: one table, each factor with its value, unit,
source, edition year and the page it was read from (docs/impact.md prints the same table and
the factors looked for but not found).

A factor is here only if its value was read from a named public source. Where none was found
(a landfill-versus-recycling factor per material, say) there is no entry, and the impact of
that kind of booking carries no CO2e figure rather than an invented one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmissionFactor:
    id: str
    value: float
    unit: str
    source: str
    year: int
    url: str
    #: What the value covers and why it was chosen.
    note: str


#: The freight counterfactual: moving a consignment by a dedicated diesel lorry. DEFRA/DECC's
#: UK average HGV (all sizes, 57 % laden: its average laden state), direct plus indirect
#: (well-to-tank) emissions, so well-to-wheel like GLEC's default intensities.
HGV_AVERAGE_LADEN_TKM = EmissionFactor(
    id="defra2012_hgv_all_average_laden_tkm",
    value=0.14993,
    unit="kg CO2e per tonne.km",
    source="Defra/DECC 2012 Guidelines to GHG Conversion Factors for Company Reporting, "
           "Annex 7 (freight transport), Table 7e: diesel HGV road freight, UK average vehicle "
           "loads, tonne.km basis, 'ALL HGVs UK average' (57 % laden, 7.40 t average payload), "
           "grand total (direct 0.12366 + indirect 0.02627)",
    year=2012,
    url="https://www.yumpu.com/en/document/view/38219432/"
        "greenhouse-gas-conversion-factors-for-company-reporting/35",
    note="the newest edition whose tonne.km value could be read (the DESNZ 2024 value was "
         "not found in the sources at hand); gross: the extra fuel the added payload costs "
         "the existing leg is not subtracted, no sourced marginal factor being at hand",
)

FACTORS: dict[str, EmissionFactor] = {f.id: f for f in (HGV_AVERAGE_LADEN_TKM,)}
