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
    impact,
    interop,
    kpis,
    offers,
    sites,
    tenant,
    web,
    webhooks,
)

# One flat table, not a router per module: FastAPI matches a request through each level of
# included routers, and again to handle it (the offers route behind six routers was a sixth
# of a search). The modules' routers only declare: each route already carries its router's
# prefix, tags and settings (a router's own lifespan or startup hooks would be lost: none
# has any). No path of one module matches another's, so the order only decides how soon a
# route is found: the load balancer's /healthz and offer search, the most asked, first (and
# so first in /docs too).
ROUTERS = (
    health,
    offers,
    interop,
    tenant,
    sites,
    assets,
    idle_windows,
    kpis,
    impact,
    bookings,
    exports,
    feeds,
    webhooks,
    alerts,
    web,
)
api_router = APIRouter(routes=[route for module in ROUTERS for route in module.router.routes])
