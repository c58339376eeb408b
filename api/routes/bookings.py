"""Bookings: a platform holds part of an offer, then confirms or cancels it."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import or_, select

from api.deps import CallerDep, CatalogDep, PlatformDep
from api.params import CursorParam, Limit, RowId, decode_cursor, split_page
from api.schemas import Page, utc
from api.schemas_market import BookingCreate, BookingPublic
from market import bookings
from storage.catalog import HELD, BookingRow

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])

NOT_FOUND = {404: {"description": "no such booking of or on the caller's tenant"}}
CONFLICT = {409: {"description": "not possible in the booking's or offer's state"}}


def public(row: BookingRow) -> BookingPublic:
    return BookingPublic(
        id=row.id,
        offer_id=row.offer_id,
        tenant=row.tenant_id,
        owner=row.owner_tenant_id,
        asset=row.asset_id,
        quantity=row.quantity,
        start=utc(row.start),
        end=utc(row.end),
        status=row.status,  # type: ignore[arg-type]
        hold_expires_at=utc(row.hold_expires_at) if row.status == HELD else None,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


@router.post(
    "",
    response_model=BookingPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "no such offer visible to the caller"}, **CONFLICT},
)
def create_hold(body: BookingCreate, caller: PlatformDep, catalog: CatalogDep) -> BookingPublic:
    """Hold `quantity` of an offer for `hold_s` seconds; 409 if less is available. Confirm
    the hold before it expires, or it lapses and the quantity returns to the offer."""
    now = time.time()
    with catalog.session() as s:
        bookings.expire_holds(s, now)
        row = bookings.hold(s, caller, body.offer_id, body.quantity, body.hold_s, now)
        s.flush()
        return public(row)


@router.get("", response_model=Page[BookingPublic])
def list_bookings(
    caller: CallerDep,
    catalog: CatalogDep,
    status: Annotated[str | None, Query(pattern="^(held|confirmed|cancelled|expired)$")] = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[BookingPublic]:
    """Bookings the caller's tenant made, and bookings on its assets, newest first."""
    after = decode_cursor(cursor, (int,))
    b = BookingRow
    q = select(b).where(or_(b.tenant_id == caller.tenant_id, b.owner_tenant_id == caller.tenant_id))
    if status is not None:
        q = q.where(b.status == status)
    if after is not None:
        q = q.where(b.id < after[0])
    with catalog.session() as s:
        rows = list(s.scalars(q.order_by(b.id.desc()).limit(limit + 1)).all())
    rows, next_cursor = split_page(rows, limit, lambda r: [r.id])
    return Page(items=[public(r) for r in rows], next_cursor=next_cursor)


@router.get("/{booking_id}", response_model=BookingPublic, responses=NOT_FOUND)
def read_booking(booking_id: RowId, caller: CallerDep, catalog: CatalogDep) -> BookingPublic:
    with catalog.session() as s:
        return public(bookings.find(s, caller, booking_id))


@router.post(
    "/{booking_id}/confirm", response_model=BookingPublic, responses={**NOT_FOUND, **CONFLICT}
)
def confirm_booking(booking_id: RowId, caller: PlatformDep, catalog: CatalogDep) -> BookingPublic:
    """Turn a live hold into a booking; 409 once the hold has expired."""
    with catalog.session() as s:
        return public(bookings.confirm(s, caller, booking_id, time.time()))


@router.post(
    "/{booking_id}/cancel", response_model=BookingPublic, responses={**NOT_FOUND, **CONFLICT}
)
def cancel_booking(booking_id: RowId, caller: CallerDep, catalog: CatalogDep) -> BookingPublic:
    """Release a hold or booking: by the booker's platform key or the owner's owner key."""
    with catalog.session() as s:
        return public(bookings.cancel(s, caller, booking_id, time.time()))
