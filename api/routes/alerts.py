"""Owners' alert rules and the alerts they fired (delivered to the owner's webhooks too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from api.deps import CatalogDep, OwnerDep, TenantDep
from api.params import CursorParam, Limit
from api.routes.paging import after_id, page_by_id
from api.schemas.alerts import AlertPublic, AlertRuleCreate, AlertRulePublic
from api.schemas.common import Page
from market import alerts

router = APIRouter(tags=["alerts"])

RuleId = Annotated[int, Path(ge=1, le=2**53, description="the rule's id")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such rule of the caller's"}}


@router.get("/v1/alert-rules", response_model=list[AlertRulePublic])
def list_rules(tenant: TenantDep, catalog: CatalogDep) -> list[AlertRulePublic]:
    return [AlertRulePublic.model_validate(r) for r in alerts.rules(catalog, tenant)]


@router.post("/v1/alert-rules", response_model=AlertRulePublic,
             status_code=status.HTTP_201_CREATED)
def create_rule(body: AlertRuleCreate, caller: OwnerDep, catalog: CatalogDep) -> AlertRulePublic:
    """A rule over one asset or all; it fires into `GET /v1/alerts` and the owner's webhooks."""
    row = alerts.create_rule(catalog, caller.tenant_id, body.kind, body.asset, body.threshold,
                             body.minutes)
    return AlertRulePublic.model_validate(row)


@router.delete("/v1/alert-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=NOT_FOUND)
def delete_rule(rule_id: RuleId, caller: OwnerDep, catalog: CatalogDep) -> None:
    alerts.delete_rule(catalog, caller.tenant_id, rule_id)


@router.get("/v1/alerts", response_model=Page[AlertPublic])
def list_alerts(
    tenant: TenantDep,
    catalog: CatalogDep,
    asset: Annotated[str | None, Query(max_length=64, description="only this asset")] = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[AlertPublic]:
    """The caller's alerts, newest first."""
    rows = alerts.alerts_of(catalog, tenant, asset, after_id(cursor, int), limit + 1)
    return page_by_id(AlertPublic, rows, limit)
