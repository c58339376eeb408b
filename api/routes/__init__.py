"""Every router, wired together here and nowhere else."""

from fastapi import APIRouter

from api.routes import assets, health, idle_windows, offers, web

api_router = APIRouter()
for _module in (health, assets, idle_windows, offers, web):
    api_router.include_router(_module.router)
