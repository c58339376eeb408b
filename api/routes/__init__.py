"""Every router, wired together here and nowhere else."""

from fastapi import APIRouter

from api.routes import (
    alerts,
    assets,
    bookings,
    exports,
    feeds,
    health,
    idle_windows,
    kpis,
    offers,
    sites,
    tenant,
    web,
    webhooks,
)

api_router = APIRouter()
for _module in (
    health,
    tenant,
    sites,
    assets,
    idle_windows,
    kpis,
    offers,
    bookings,
    exports,
    feeds,
    webhooks,
    alerts,
    web,
):
    api_router.include_router(_module.router)
