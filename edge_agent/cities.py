"""Cities with their real coordinates (city centre, WGS84) and time zones: where the demo's
sites stand and where simulated trucks drive. Standard library only (the agent's rule)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A city; ``code`` is its id (a demo tenant's site in it has this id)."""

    code: str
    name: str
    lat: float
    lon: float
    timezone: str


#: Logistics cities with their real coordinates (city centre, WGS84): the Rhine-Ruhr and
#: Benelux around the Duisburg hub, the English Midlands and North, the Lyon region.
CITIES: tuple[City, ...] = (
    City("dui", "Duisburg", 51.4344, 6.7623, "Europe/Berlin"),
    City("rtm", "Rotterdam", 51.9244, 4.4777, "Europe/Amsterdam"),
    City("anr", "Antwerp", 51.2194, 4.4025, "Europe/Brussels"),
    City("bru", "Brussels", 50.8503, 4.3517, "Europe/Brussels"),
    City("ein", "Eindhoven", 51.4416, 5.4697, "Europe/Amsterdam"),
    City("ven", "Venlo", 51.3704, 6.1724, "Europe/Amsterdam"),
    City("cgn", "Cologne", 50.9375, 6.9603, "Europe/Berlin"),
    City("dtm", "Dortmund", 51.5136, 7.4653, "Europe/Berlin"),
    City("lgg", "Liege", 50.6326, 5.5797, "Europe/Brussels"),
    City("fra", "Frankfurt am Main", 50.1109, 8.6821, "Europe/Berlin"),
    City("bre", "Bremen", 53.0793, 8.8017, "Europe/Berlin"),
    City("bhm", "Birmingham", 52.4862, -1.8904, "Europe/London"),
    City("man", "Manchester", 53.4808, -2.2426, "Europe/London"),
    City("lds", "Leeds", 53.8008, -1.5491, "Europe/London"),
    City("shf", "Sheffield", 53.3811, -1.4701, "Europe/London"),
    City("lpl", "Liverpool", 53.4084, -2.9916, "Europe/London"),
    City("brs", "Bristol", 51.4545, -2.5879, "Europe/London"),
    City("lon", "London", 51.5072, -0.1276, "Europe/London"),
    City("lyo", "Lyon", 45.7640, 4.8357, "Europe/Paris"),
    City("gnb", "Grenoble", 45.1885, 5.7245, "Europe/Paris"),
    City("ete", "Saint-Etienne", 45.4397, 4.3872, "Europe/Paris"),
    City("dij", "Dijon", 47.3220, 5.0415, "Europe/Paris"),
    City("cfe", "Clermont-Ferrand", 45.7772, 3.0870, "Europe/Paris"),
)
CITIES_BY_CODE = {c.code: c for c in CITIES}
