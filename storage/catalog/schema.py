"""Preparing the catalog's schema at start: Alembic migrations, run under a lock so that
services starting together migrate one after the other.

Alembic is imported only when a migration runs; the usual start (database at head) reads the
revision with plain SQL.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError

from idleshare.errors import StoreError
from storage.catalog.models import Base
from storage.migrations import BASELINE, HEAD, SCRIPT_LOCATION, alembic_config

log = logging.getLogger(__name__)

#: Alembic's ``context`` and ``op`` are process-wide proxies: two catalogs of one process must
#: not migrate at the same moment, even on different files.
_MIGRATION_LOCK = threading.Lock()


def prepare_schema(engine: Engine, attempts: int = 10) -> None:
    """Bring the database to the schema of this idleshare (the migrations' head) at start.

    - empty: ``create_all``, stamped head (one step instead of replaying every migration);
    - idleshare tables but no ``alembic_version`` (made before migrations): stamped
      ``0001_baseline``, then upgraded;
    - behind head: upgraded. Automatically, rather than by an explicit command, because the
      default deployment is one node with an embedded SQLite file whose services must just
      work after an upgrade of the package; back the file up before upgrading (deploy/README);
    - ahead of head (written by a newer idleshare): refused, naming both revisions.

    Retried like the former bare ``create_all`` when a concurrent start creates the same
    tables first, which only happens on dialects without a migration lock (see
    :func:`_lock_for_migration`).
    """
    with engine.connect() as conn:
        if _revision(conn) == HEAD:  # the usual start: no write lock, no Alembic
            return
    for attempt in range(attempts):
        try:
            with _MIGRATION_LOCK, engine.connect() as conn:
                _lock_for_migration(conn)
                _migrate_locked(conn)
                conn.commit()
            return
        except OperationalError as err:
            if "already exists" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _migrate_locked(conn: Connection) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    # Read again under the lock: a process that started at the same moment may have created
    # or migrated the database while this one waited.
    revision = _revision(conn)
    config = alembic_config(connection=conn)
    if revision == HEAD:
        return
    try:
        if revision is None:
            if not set(inspect(conn).get_table_names()) & set(Base.metadata.tables):
                Base.metadata.create_all(conn)
                command.stamp(config, "head")
                return
            command.stamp(config, BASELINE)
            log.warning("catalog made before migrations: stamped %s", BASELINE)
        elif revision not in {r.revision for r in ScriptDirectory(SCRIPT_LOCATION)
                              .walk_revisions()}:
            raise StoreError(
                f"the catalog database is at schema revision {revision!r}, newer than this "
                f"idleshare knows (its newest is {HEAD!r}): it was written by a newer "
                "idleshare; upgrade idleshare, or restore a backup made before that version ran"
            )
        command.upgrade(config, "head")
    except CommandError as err:
        raise StoreError(f"cannot migrate the catalog from {revision!r}: {err}") from err
    log.warning("catalog schema upgraded from %s to %s", revision or BASELINE, HEAD)


def _revision(conn: Connection) -> str | None:
    """The database's Alembic revision; None when it has no ``alembic_version`` (or none in
    it). Plain SQL rather than Alembic's MigrationContext, to keep Alembic out of the usual
    start."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _lock_for_migration(conn: Connection) -> None:
    """Open the migration's transaction holding the database's write lock, so that processes
    starting at once migrate one after the other; the lock lasts until commit or rollback."""
    if conn.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock now (waiting up to the busy timeout), before the
        # version is read; a plain BEGIN would fail on the first write of two racers.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        # Held until commit: concurrent first starts create the tables once (without it they
        # collide in pg_type; tests/storage/catalog/test_schema_races.py). Any constant works
        # as long as every idleshare uses the same one.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7271993)")
    # Other dialects: no lock; concurrent first starts rely on the retry in prepare_schema.
