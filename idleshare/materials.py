"""What a by-product container holds: a material declared by its European Waste Catalogue code.

The European Waste Catalogue (EWC; EURAL in German-speaking countries; Commission Decision
2000/532/EC as replaced by 2014/955/EU) names each waste by a six-digit code in three pairs:
chapter (the source: ``03`` wood processing, ``10`` thermal processes, ...), sub-chapter and
entry, printed ``03 01 05``. Chapters run 01 to 20. Hazardous entries are printed with an
asterisk (``10 02 07*``); here that is the ``hazardous`` flag, and an asterisk on a code given
as text sets it.

One normal form, defined here for every user (API, analytics, search, the agent's birth): a
code is stored and searched as its six digits (``030105``) and shown in pairs (``03 01 05``); a
search prefix is a chapter, a sub-chapter or a whole code (2, 4 or 6 digits, spaces ignored).
Standard library only: the edge agent imports it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

#: Asset kinds whose offer is material to take away (a by-product), not capacity to use.
MATERIAL_KINDS = frozenset({"container"})

_DIGITS = re.compile(r"^[0-9]+$")
#: Longest material description kept.
MAX_DESCRIPTION = 200
#: Densities (t/m³) outside this range are typing mistakes (bulk solids and liquids: 0.01-20).
DENSITY_RANGE = (0.001, 25.0)


class MaterialError(ValueError):
    """A declaration the catalogue refuses; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _digits(text: str, what: str) -> str:
    digits = text.replace(" ", "")
    if not _DIGITS.match(digits):
        raise MaterialError("code", f"{what} must be digits, as in '03 01 05': got {text!r}")
    if not 1 <= int(digits[:2]) <= 20:
        raise MaterialError("code", f"{what} must start with an EWC chapter 01-20: got "
                            f"{text!r}")
    return digits


def parse_code(text: str) -> tuple[str, bool]:
    """``'03 01 05'``, ``'030105'`` or ``'10 02 07*'`` -> (six digits, starred as hazardous);
    :class:`MaterialError` (a ValueError) for anything else."""
    if not isinstance(text, str):
        raise MaterialError("code", f"an EWC code must be text such as '03 01 05': got "
                            f"{text!r}")
    stripped = text.strip()
    starred = stripped.endswith("*")
    digits = _digits(stripped.rstrip("*").strip(), "an EWC code")
    if len(digits) != 6:
        raise MaterialError("code", f"an EWC code has 6 digits, as in '03 01 05': got "
                            f"{text!r}")
    return digits, starred


def code_prefix(text: str) -> str:
    """A search prefix (chapter, sub-chapter or code: ``'03'``, ``'03 01'``, ``'030105'``) as
    its digits; ValueError for anything else."""
    digits = _digits(text.strip().rstrip("*").strip(), "an EWC code prefix")
    if len(digits) not in (2, 4, 6):
        raise MaterialError("code", f"an EWC code prefix is 2, 4 or 6 digits (chapter, "
                            f"sub-chapter or code): got {text!r}")
    return digits


def shown(code: str) -> str:
    """Six digits as the EWC prints them: ``'030105'`` -> ``'03 01 05'``."""
    return f"{code[:2]} {code[2:4]} {code[4:]}"


@dataclass(frozen=True)
class Material:
    """A declared material: ``code`` in six digits, a description, hazardous or not, and the
    bulk density (t/m³, None when unknown) that turns a volume into tonnes."""

    code: str
    description: str
    hazardous: bool = False
    density_t_per_m3: float | None = None

    def __post_init__(self) -> None:
        digits, starred = parse_code(self.code)
        if starred and not self.hazardous:
            raise MaterialError("hazardous", f"code {self.code!r} is starred as hazardous: "
                                "hazardous must be true")
        if not isinstance(self.description, str) or not self.description.strip():
            raise MaterialError("description", "a material needs a description")
        if len(self.description) > MAX_DESCRIPTION:
            raise MaterialError("description", f"a material's description is at most "
                                f"{MAX_DESCRIPTION} characters")
        density = self.density_t_per_m3
        if density is not None and (isinstance(density, bool) or not isinstance(
                density, int | float) or not math.isfinite(density)
                or not DENSITY_RANGE[0] <= density <= DENSITY_RANGE[1]):
            raise MaterialError("density_t_per_m3", f"density_t_per_m3 must be a number in "
                                f"{list(DENSITY_RANGE)}: got {density!r}")
        object.__setattr__(self, "code", digits)
        object.__setattr__(self, "description", self.description.strip())
        if density is not None:
            object.__setattr__(self, "density_t_per_m3", float(density))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Material:
        """From :meth:`to_dict`'s shape (also the API's and the birth's); ``code`` may be given
        in pairs or starred, and a starred code is hazardous unless ``hazardous`` says not
        (which is refused)."""
        code = data["code"]
        hazardous = data.get("hazardous")
        if hazardous is None:  # not said: the code's asterisk says it
            hazardous = isinstance(code, str) and code.strip().endswith("*")
        return cls(code=code, description=data.get("description", ""),
                   hazardous=bool(hazardous), density_t_per_m3=data.get("density_t_per_m3"))

    def to_dict(self) -> dict[str, Any]:
        """As stored and sent: the code shown in pairs."""
        return {"code": shown(self.code), "description": self.description,
                "hazardous": self.hazardous, "density_t_per_m3": self.density_t_per_m3}
