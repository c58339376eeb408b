"""Liveness and readiness: does each store answer a trivial request?"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status

from api.deps import CatalogDep, StoreDep
from api.schemas.health import HealthPublic

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "a store does not answer"}},
)
def healthz(catalog: CatalogDep, store: StoreDep, response: Response) -> HealthPublic:
    """No key needed; 503 when either store fails, so a load balancer can act on it."""
    catalog_state = readings_state = "ok"
    try:
        # An asset no one registers: one indexed lookup through the catalog's own facade.
        catalog.asset("_healthz", "_healthz")
    except Exception as err:  # any failure, even one an adapter let leak, is "unavailable"
        log.warning("health: catalog: %s", err)
        catalog_state = "unavailable"
    try:
        # A series no one writes: cheap on every backend, unlike count().
        store.query("_healthz", "_healthz", "_healthz", 0.0, 1.0)
    except Exception as err:
        log.warning("health: readings: %s", err)
        readings_state = "unavailable"
    ok = catalog_state == readings_state == "ok"
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthPublic(
        status="ok" if ok else "degraded", catalog=catalog_state, readings=readings_state
    )
