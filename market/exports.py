"""CSV of what the JSON lists answer: one header row of field names, then one row per item.

The rows come from the JSON routes' own answers (api/routes/exports.py pages through them), so
a CSV holds exactly what the same filters show in JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The columns of each export, in order: the JSON items' field names.
COLUMNS: dict[str, tuple[str, ...]] = {
    "utilisation": ("asset", "start", "utilisation", "coverage"),
    "idle-windows": ("asset", "start", "end", "min_free", "mean_free", "unit", "ongoing"),
    "offers": ("id", "tenant", "asset", "kind", "status", "visibility", "start", "end",
               "quantity", "available", "unit", "confidence", "price_per_unit_hour", "currency"),
    "bookings": ("id", "offer_id", "tenant", "owner", "asset", "status", "quantity", "start",
                 "end", "hold_expires_at", "created_at", "updated_at"),
}


#: Per export, the field naming the tenant whose asset a row is about (idle windows are only
#: ever the caller's own; offers and bookings lists also hold other tenants' assets).
OWNER_FIELD: dict[str, str | None] = {"idle-windows": None, "offers": "tenant",
                                      "bookings": "owner"}


def of_assets(what: str, items: Iterable[Mapping[str, Any]], tenant: str,
              assets: set[str] | None) -> list[Mapping[str, Any]]:
    """The rows of ``what`` about ``tenant``'s assets among ``assets`` (those at one of its
    sites: :func:`market.sites.asset_ids`); every row when ``assets`` is None."""
    field = OWNER_FIELD[what]
    return [i for i in items if assets is None
            or (i["asset"] in assets and (field is None or i[field] == tenant))]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell that starts like a formula runs as one in spreadsheets: quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(what: str, items: Iterable[Mapping[str, Any]]) -> str:
    """``items`` (JSON-ready mappings) as CSV with the columns of ``what``."""
    columns: Sequence[str] = COLUMNS[what]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        writer.writerow([_cell(item.get(c)) for c in columns])
    return out.getvalue()
