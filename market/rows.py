"""A tenant's catalog rows: one by its key (another tenant's row is indistinguishable from a
missing one), changing one, and pages of rows by id (a page continues after, or before, the id
of the previous page's last row)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute, Session

from market.errors import NotFound
from storage.catalog import Catalog

R = TypeVar("R")


def owned(s: Session, row_type: type[R], tenant: str, row_id: str, what: str) -> R:
    """The tenant's row of ``row_type`` (keyed by tenant and id), or :class:`NotFound`
    naming it as ``what``."""
    row = s.get(row_type, (tenant, row_id))
    if row is None:
        raise NotFound(f"no {what} {row_id!r}")
    return row


def change_owned(catalog: Catalog, row_type: type[R], tenant: str, row_id: str, what: str,
                 changes: dict[str, Any]) -> R:
    """Set the columns in ``changes`` of the tenant's row (see :func:`owned`)."""
    with catalog.session() as s:
        row = owned(s, row_type, tenant, row_id, what)
        for column, value in changes.items():
            setattr(row, column, value)
        return row


def ascending(catalog: Catalog, q: Select[R], row_id: QueryableAttribute[Any], after: Any,
              limit: int) -> list[R]:
    """Up to ``limit`` of the rows ``q`` selects, by ``row_id`` upwards, beyond ``after`` if
    given."""
    if after is not None:
        q = q.where(row_id > after)
    with catalog.session() as s:
        return list(s.scalars(q.order_by(row_id).limit(limit)).all())


def newest_first(catalog: Catalog, q: Select[R], row_id: QueryableAttribute[int],
                 before: int | None, limit: int) -> list[R]:
    """Up to ``limit`` of the rows ``q`` selects, newest (highest ``row_id``) first, below
    ``before`` if given."""
    if before is not None:
        q = q.where(row_id < before)
    with catalog.session() as s:
        return list(s.scalars(q.order_by(row_id.desc()).limit(limit)).all())
