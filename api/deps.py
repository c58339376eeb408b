"""Dependencies the routes declare: the two stores and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.catalog import Catalog
from storage.readings import ReadingStore


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def get_store(request: Request) -> ReadingStore:
    return request.app.state.store


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
StoreDep = Annotated[ReadingStore, Depends(get_store)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant its key belongs to and the key's role."""

    tenant_id: str
    role: str  # owner, viewer or platform

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"


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


def get_caller(
    catalog: CatalogDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    key = catalog.key_owner(credentials.credentials)
    if key is None:
        raise _unauthorized("unknown API key")
    return Caller(tenant_id=key.tenant_id, role=key.role)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_tenant(caller: CallerDep) -> str:
    return caller.tenant_id


#: The caller's tenant id, for routes that only ever show the caller's own data.
TenantDep = Annotated[str, Depends(get_tenant)]
