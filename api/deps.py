"""Dependencies the routes declare: the two stores and the authenticated caller."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.security import RateLimits
from market.caller import Caller
from market.outbound import OutboundPolicy
from market.visibility import observe_generation
from storage.catalog import KEY_USE_RESOLUTION_S, ApiKey, Catalog
from storage.readings import ReadingStore


# Dependencies that do not block are async: a sync one costs a hop to the thread pool.
async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_store(request: Request) -> ReadingStore:
    return request.app.state.store


async def get_outbound(request: Request) -> OutboundPolicy:
    return request.app.state.outbound


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
#: Where the server may send requests (webhook URLs are checked against it).
OutboundDep = Annotated[OutboundPolicy, Depends(get_outbound)]
StoreDep = Annotated[ReadingStore, Depends(get_store)]


# auto_error=False: we answer 401 ourselves, with one message for "missing" and "unknown".
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An idleshare API key (`idleshare keys create`), sent as `Bearer <key>`.",
)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _too_many(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail="too many requests: retry later",
        headers={"Retry-After": str(retry_after)},
    )


async def get_caller(
    request: Request,
    catalog: CatalogDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    limits: RateLimits = request.app.state.rate_limits
    if credentials is None or not credentials.credentials:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    # A key-guessing run is stopped here, before it costs a database lookup.
    address = request.client.host if request.client else ""
    wait = limits.address_blocked(address)
    if wait is not None:
        raise _too_many(wait)
    # Read on every request, never cached: a revoked key is refused by every process at once
    # (one raw query, ~4 us on SQLite, ~30 us on PostgreSQL; see Catalog.authenticate).
    key, generation = await _authenticate(catalog, credentials.credentials)
    if key is None or (key.expires_at is not None and key.expires_at <= time.time()):
        limits.failed(address)
        raise _unauthorized("unknown API key")
    observe_generation(str(catalog.engine.url), generation)
    caller = Caller(tenant_id=key.tenant_id, role=key.role, key_id=key.id)
    wait = limits.key_over(caller.key_id or 0)
    if wait is not None:
        raise _too_many(wait)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]

#: hash(credential) -> the key's stored last use, as the last lookup in this process left it.
_last_use: dict[int, float] = {}


async def _authenticate(catalog: Catalog, credential: str) -> tuple[ApiKey | None, int]:
    """:meth:`Catalog.authenticate`, on the event loop when that is safe: on SQLite, reading
    one row costs a few microseconds where the hop to a worker thread costs a hundred or
    more. Not when the lookup may write the key's last use (at most once a minute per key):
    a write can wait for another writer's lock, and the loop must not wait."""
    slot = hash(credential)
    known = _last_use.get(slot)
    now = time.time()
    if (
        catalog.engine.dialect.name == "sqlite"
        and known is not None
        and now - known < KEY_USE_RESOLUTION_S - 1.0  # the stored value only ever grows
    ):
        key, generation = catalog.authenticate(credential, now)
    else:
        key, generation = await run_in_threadpool(catalog.authenticate, credential, now)
    # Known only from a lookup that did not write: after a write (which may have failed, the
    # database busy), the next lookup goes to the thread pool again and reads what is stored.
    if key is None or key.last_used_at is None or now - key.last_used_at >= KEY_USE_RESOLUTION_S:
        _last_use.pop(slot, None)
    else:
        if len(_last_use) > 100_000:
            _last_use.clear()
        _last_use[slot] = key.last_used_at
    return key, generation


async def get_tenant(caller: CallerDep) -> str:
    return caller.tenant_id


#: The caller's tenant id, for routes that only ever show the caller's own data.
TenantDep = Annotated[str, Depends(get_tenant)]


def _require(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs a key with role {' or '.join(roles)}: "
                f"this key's role is {caller.role}",
            )
        return caller

    return check


#: A caller whose key may change the tenant's assets, policies, keys and partners.
OwnerDep = Annotated[Caller, Depends(_require("owner"))]
#: A caller whose key may book offers.
PlatformDep = Annotated[Caller, Depends(_require("platform"))]
#: A caller whose key may subscribe webhooks (not read-only viewers).
SubscriberDep = Annotated[Caller, Depends(_require("owner", "platform"))]
