"""Leases that split analytics passes among workers, in the catalog (no cluster manager).

Assets fall into :data:`BUCKETS` fixed buckets (a hash of tenant and asset id). Pass ``k`` is
the ``k``-th interval since the epoch, so every worker agrees which pass it is. A worker claims
buckets for the pass (a conditional UPDATE, after ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
write lock on SQLite): a bucket is claimable when it was last claimed for an earlier pass, or
its claim for this pass lapsed unfinished (its worker died). So every bucket is analysed by
exactly one worker per pass while its workers live, and a dead worker's buckets go to another
once its lease expires. Workers also keep a heartbeat row, only to size their claims (a fair
share of what is left among the live workers).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Integer,
    String,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.catalog.locks import write_lock_sqlite
from storage.catalog.models import Base

#: Fixed number of buckets: enough to balance a few dozen workers, few enough that claiming is
#: a handful of rows. Changing it reshuffles assets once, nothing else.
BUCKETS = 64


class AnalyticsWorkerRow(Base):
    """A live analytics worker: its id and until when its heartbeat holds (epoch s)."""

    __tablename__ = "analytics_workers"
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)


class AnalyticsBucketRow(Base):
    """Who analyses one bucket of assets in which pass, until when, and whether it is done."""

    __tablename__ = "analytics_buckets"
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pass_no: Mapped[int] = mapped_column(BigInteger, default=-1)  # intervals since 1970
    worker_id: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


def bucket_of(tenant_id: str, asset_id: str) -> int:
    """The asset's bucket: stable across processes and versions (CRC-32, not ``hash``)."""
    return zlib.crc32(f"{tenant_id}/{asset_id}".encode()) % BUCKETS


def heartbeat(s: Session, worker_id: str, now: float, ttl_s: float) -> None:
    """Declare ``worker_id`` alive until ``now + ttl_s``."""
    row = s.get(AnalyticsWorkerRow, worker_id)
    if row is None:
        s.add(AnalyticsWorkerRow(worker_id=worker_id, expires_at=now + ttl_s))
    else:
        row.expires_at = now + ttl_s


def leave(s: Session, worker_id: str) -> None:
    """A worker stopping cleanly: gone from the live set, and its unfinished claims free now."""
    s.execute(delete(AnalyticsWorkerRow).where(AnalyticsWorkerRow.worker_id == worker_id))
    b = AnalyticsBucketRow
    s.execute(update(b).where(b.worker_id == worker_id, b.done.is_(False)).values(expires_at=0.0))


def live_workers(s: Session, now: float) -> list[str]:
    w = AnalyticsWorkerRow
    return list(s.scalars(select(w.worker_id).where(w.expires_at > now).order_by(w.worker_id)))


def ensure_buckets(s: Session) -> None:
    """Create the bucket rows the first time (racing workers: the loser finds them made)."""
    have = set(s.scalars(select(AnalyticsBucketRow.bucket)))
    if len(have) < BUCKETS:
        try:
            with s.begin_nested():
                s.add_all(AnalyticsBucketRow(bucket=n) for n in range(BUCKETS) if n not in have)
        except IntegrityError:
            pass  # another worker made them first


def _claimable(pass_no: int, now: float) -> ColumnElement[bool]:
    b = AnalyticsBucketRow
    return or_(b.pass_no < pass_no,
               (b.pass_no == pass_no) & b.done.is_(False) & (b.expires_at <= now))


def claim(s: Session, worker_id: str, pass_no: int, now: float, ttl_s: float,
          limit: int | None = None) -> list[int]:
    """Claim up to ``limit`` buckets (by default a fair share, ``BUCKETS`` over the live
    workers) for ``pass_no`` until ``now + ttl_s``; returns them. Commit right after."""
    b = AnalyticsBucketRow
    write_lock_sqlite(s)
    if limit is None:
        left = s.scalar(select(func.count()).select_from(b).where(_claimable(pass_no, now))) or 0
        workers = max(len(live_workers(s, now)), 1)
        limit = min(left, -(-BUCKETS // workers))
    if limit <= 0:
        return []
    chosen = list(s.scalars(
        select(b.bucket).where(_claimable(pass_no, now)).order_by(b.bucket).limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if not chosen:
        return []
    won = s.scalars(
        update(b).where(b.bucket.in_(chosen), _claimable(pass_no, now))
        .values(pass_no=pass_no, worker_id=worker_id, expires_at=now + ttl_s, done=False)
        .returning(b.bucket)
    ).all()
    return sorted(won)


def renew(s: Session, worker_id: str, pass_no: int, buckets: Sequence[int], now: float,
          ttl_s: float) -> list[int]:
    """Extend this worker's unfinished claims; returns those it still holds."""
    b = AnalyticsBucketRow
    return sorted(s.scalars(
        update(b).where(b.bucket.in_(buckets), b.worker_id == worker_id, b.pass_no == pass_no,
                        b.done.is_(False))
        .values(expires_at=now + ttl_s).returning(b.bucket)
    ).all())


def finish(s: Session, worker_id: str, pass_no: int, buckets: Sequence[int]) -> list[int]:
    """Mark claimed buckets done for the pass; returns those this worker still held (a bucket
    missing was taken over after the lease lapsed, and so analysed twice this pass)."""
    b = AnalyticsBucketRow
    return sorted(s.scalars(
        update(b).where(b.bucket.in_(buckets), b.worker_id == worker_id, b.pass_no == pass_no)
        .values(done=True).returning(b.bucket)
    ).all())


def pass_state(s: Session, pass_no: int, now: float) -> tuple[int, int]:
    """(buckets done for the pass, buckets claimable now)."""
    b = AnalyticsBucketRow
    done = s.scalar(select(func.count()).select_from(b)
                    .where(b.pass_no == pass_no, b.done.is_(True))) or 0
    free = s.scalar(select(func.count()).select_from(b).where(_claimable(pass_no, now))) or 0
    return int(done), int(free)


__all__ = ["BUCKETS", "AnalyticsBucketRow", "AnalyticsWorkerRow", "bucket_of",
           "claim", "ensure_buckets", "finish", "heartbeat", "leave", "live_workers",
           "pass_state", "renew"]
