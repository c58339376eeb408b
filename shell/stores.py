"""Open the stores the settings name: readings on InfluxDB when a URL is set, else SQLite;
the catalog at its URL (SQLite in the data directory by default)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from idleshare.errors import ConfigError
from shell.settings import Settings
from storage.readings import ReadingStore

if TYPE_CHECKING:
    from storage.catalog import Catalog


def make_data_dir(settings: Settings) -> None:
    """A new host's data directory, made here: a ConfigError, not a traceback from SQLite."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"data_dir cannot be created: {err}") from err


@contextmanager
def open_stores(settings: Settings) -> Iterator[tuple[ReadingStore, Catalog]]:
    """The readings store and the catalog, both closed at the end of the block."""
    from storage.catalog import Catalog

    make_data_dir(settings)
    store = open_reading_store(settings)
    try:
        catalog = Catalog(settings.catalog)
    except BaseException:
        store.close()
        raise
    try:
        yield store, catalog
    finally:
        store.close()
        catalog.close()


def open_reading_store(settings: Settings) -> ReadingStore:
    if not settings.influx_url:
        from storage.sqlite import SqliteReadingStore

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteReadingStore(settings.readings_path)
    if settings.influx_token:
        from storage.influx_v2 import InfluxV2Store

        return InfluxV2Store(
            url=settings.influx_url,
            token=settings.influx_token,
            org=settings.influx_org,
            bucket=settings.influx_bucket,
        )
    from storage.influx import InfluxV1Store

    return InfluxV1Store(
        url=settings.influx_url,
        database=settings.influx_db,
        retention_policy=settings.influx_rp,
        username=settings.influx_user,
        password=settings.influx_password,
    )
