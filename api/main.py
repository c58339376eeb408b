"""The application factory: the stores come in as arguments, so tests and the demo choose them."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from api.metrics import instrument
from api.routes import api_router
from api.security import GuardMiddleware, RateLimits
from idleshare.errors import StoreError
from market.errors import Conflict, Forbidden, Invalid, MarketError, NotFound
from market.keys import ROTATION_GRACE_S
from market.outbound import OutboundPolicy
from storage.catalog import Catalog
from storage.readings import ReadingStore

log = logging.getLogger(__name__)

DESCRIPTION = """
Idle capacity of warehouses, machines and vehicles, as offers other businesses can book.

* **Facility managers** (`owner` and `viewer` keys) see their own assets, utilisation, idle
  windows and offers.
* **Sharing platforms** (`platform` keys) find offers (public ones, and group or partner ones
  as their owners allow), hold and book them, and keep a copy in sync through the feeds
  (`/v1/feeds`) or webhooks.
* `owner` keys change assets, sharing policies, partners and keys; `viewer` keys only read.
  Another tenant's resources answer 404, exactly like missing ones.

Send the API key as `Authorization: Bearer <key>`. Times are ISO 8601 UTC in responses; query
parameters accept ISO 8601 or epoch seconds. Lists are paged: pass `next_cursor` back as
`cursor` until it is `null`.
"""


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A failing backend is the server's problem, not the caller's: 503, details only in the log.
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "storage unavailable, try again later"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


#: The HTTP status of each kind of refusal the market rules raise.
MARKET_STATUS: dict[type[MarketError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
    Invalid: 422,
}


async def _market_refused(request: Request, exc: Exception) -> JSONResponse:
    # The same {"detail": ...} body FastAPI's HTTPException gives; a 422 in the shape of its
    # validation errors (a list naming where), as the OpenAPI schema documents every 422.
    code = next((c for kind, c in MARKET_STATUS.items() if isinstance(exc, kind)), 400)
    if isinstance(exc, Invalid):
        where = ["body", exc.field] if exc.field else ["body"]
        return JSONResponse({"detail": [{"type": "value_error", "loc": where, "msg": str(exc),
                                         "input": None}]}, status_code=code)
    return JSONResponse({"detail": str(exc)}, status_code=code)


def create_app(
    catalog: Catalog,
    store: ReadingStore,
    dispatch_interval_s: float | None = 1.0,
    close_stores: bool = False,
    outbound: OutboundPolicy | None = None,
    rate_limits: RateLimits | None = None,
    max_body_bytes: int | None = None,
    key_rotation_grace_s: float | None = None,
) -> FastAPI:
    """The API over the given stores; the caller owns them and closes them, unless
    ``close_stores``: then the app closes them when it stops. While the app runs, a thread
    delivers webhooks and expires holds every ``dispatch_interval_s`` (``None``: no thread, as
    in tests that drive the dispatcher themselves, and in the worker processes of
    ``idleshare api --workers N``, whose parent runs the one dispatcher). ``outbound``: where
    webhooks may point (default: the ``IDLESHARE_WEBHOOK_*`` settings);
    ``rate_limits``, ``max_body_bytes`` (413 above it) and ``key_rotation_grace_s`` (how long
    a rotated key keeps working): the ``IDLESHARE_*`` settings too."""
    outbound = OutboundPolicy.from_env() if outbound is None else outbound
    rate_limits = RateLimits.from_env() if rate_limits is None else rate_limits
    if max_body_bytes is None:
        max_body_bytes = int(os.environ.get("IDLESHARE_MAX_BODY_BYTES", "") or 1_048_576)
    if key_rotation_grace_s is None:
        key_rotation_grace_s = float(
            os.environ.get("IDLESHARE_KEY_ROTATION_GRACE_S", "") or ROTATION_GRACE_S
        )
    from importlib.metadata import PackageNotFoundError, version

    try:
        app_version = version("idleshare")
    except PackageNotFoundError:
        app_version = "0.0.0"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from market.alerts import AlertsThread
        from market.webhooks import Dispatcher, DispatcherThread

        thread = alerting = None
        if dispatch_interval_s is not None:
            thread = DispatcherThread(Dispatcher(catalog, outbound), dispatch_interval_s)
            thread.start()
            # Alert rules are checked beside the dispatcher, at the same pace.
            alerting = AlertsThread(catalog, store, outbound.post, dispatch_interval_s)
            alerting.start()
        try:
            yield
        finally:
            if thread is not None:
                thread.stop()
            if alerting is not None:
                alerting.stop()
            if close_stores:
                store.close()
                catalog.close()

    app = FastAPI(
        title="idleshare", description=DESCRIPTION, version=app_version, lifespan=lifespan
    )
    app.state.catalog = catalog
    app.state.store = store
    app.state.outbound = outbound
    app.state.rate_limits = rate_limits
    app.state.key_rotation_grace_s = key_rotation_grace_s
    app.add_middleware(GuardMiddleware, max_body_bytes=max_body_bytes)
    app.add_exception_handler(StoreError, _store_unavailable)
    app.add_exception_handler(MarketError, _market_refused)
    app.include_router(api_router)
    # Last, so outermost: the guards' own refusals (413, 429) are counted too.
    app.state.metrics_registry = instrument(app)
    return app
