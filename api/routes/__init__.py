"""Every router, wired together here and nowhere else."""

from fastapi import APIRouter

from api.routes import (
    asset_state,
    assets,
    bookings,
    feeds,
    health,
    idle_windows,
    offers,
    tenant,
    web,
    webhooks,
)

api_router = APIRouter()
for _module in (
    health,
    tenant,
    assets,
    asset_state,
    idle_windows,
    offers,
    bookings,
    feeds,
    webhooks,
    web,
):
    api_router.include_router(_module.router)
