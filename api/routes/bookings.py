"""Bookings: a platform holds part of an offer, then confirms or cancels it."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from api.deps import CallerDep, CatalogDep, PlatformDep
from api.params import CursorParam, Limit, RowId
from api.routes.paging import after_id, page_by_id
from api.schemas.bookings import BookingCreate, BookingPublic, IdempotencyKey
from api.schemas.common import Page
from market import bookings

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such booking of or on the caller's tenant"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "not possible in the booking's or offer's state"}
}


@router.post(
    "",
    response_model=BookingPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "no such offer visible to the caller"}, **CONFLICT},
)
def create_hold(
    body: BookingCreate,
    caller: PlatformDep,
    catalog: CatalogDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BookingPublic:
    """Hold `quantity` of an offer for `hold_s` seconds; 409 if less is available. Confirm
    the hold before it expires, or it lapses and the quantity returns to the offer.

    With an `Idempotency-Key`, a retry (same key, same body) answers the booking the first
    request made, as it is now, with `Idempotent-Replayed: true`; the same key with another
    body is a 422."""
    now = time.time()
    if idempotency_key is None:
        row = bookings.hold(catalog, caller, body.offer_id, body.quantity, body.hold_s, now)
        return BookingPublic.model_validate(row)
    try:
        row, replayed = bookings.hold_once(
            catalog, caller, idempotency_key, body.offer_id, body.quantity, body.hold_s, now
        )
    except bookings.KeyReused as err:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("header", "Idempotency-Key"), "msg": str(err),
            "input": idempotency_key,
        }]) from None
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return BookingPublic.model_validate(row)


@router.get("", response_model=Page[BookingPublic])
def list_bookings(
    caller: CallerDep,
    catalog: CatalogDep,
    status: Annotated[str | None, Query(pattern="^(held|confirmed|cancelled|expired)$")] = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[BookingPublic]:
    """Bookings the caller's tenant made, and bookings on its assets, newest first."""
    rows = bookings.of_caller(catalog, caller, status, after_id(cursor, int), limit + 1)
    return page_by_id(BookingPublic, rows, limit)


@router.get("/{booking_id}", response_model=BookingPublic, responses=NOT_FOUND)
def read_booking(booking_id: RowId, caller: CallerDep, catalog: CatalogDep) -> BookingPublic:
    return BookingPublic.model_validate(bookings.find(catalog, caller, booking_id))


@router.post(
    "/{booking_id}/confirm", response_model=BookingPublic, responses={**NOT_FOUND, **CONFLICT}
)
def confirm_booking(booking_id: RowId, caller: PlatformDep, catalog: CatalogDep) -> BookingPublic:
    """Turn a live hold into a booking; 409 once the hold has expired."""
    return BookingPublic.model_validate(bookings.confirm(catalog, caller, booking_id, time.time()))


@router.post(
    "/{booking_id}/cancel", response_model=BookingPublic, responses={**NOT_FOUND, **CONFLICT}
)
def cancel_booking(booking_id: RowId, caller: CallerDep, catalog: CatalogDep) -> BookingPublic:
    """Release a hold or booking: by the booker's platform key or the owner's owner key."""
    return BookingPublic.model_validate(bookings.cancel(catalog, caller, booking_id, time.time()))
