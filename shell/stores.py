"""Choose the readings backend from the settings: InfluxDB when a URL is set, else SQLite."""

from __future__ import annotations

from shell.settings import Settings
from storage.readings import ReadingStore


def open_reading_store(settings: Settings) -> ReadingStore:
    if not settings.influx_url:
        from storage.sqlite import SqliteReadingStore

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteReadingStore(settings.readings_path)
    from storage.influx import InfluxV1Store, InfluxV2Store

    if settings.influx_token:
        return InfluxV2Store(
            url=settings.influx_url,
            token=settings.influx_token,
            org=settings.influx_org,
            bucket=settings.influx_bucket,
        )
    return InfluxV1Store(
        url=settings.influx_url,
        database=settings.influx_db,
        retention_policy=settings.influx_rp,
        username=settings.influx_user,
        password=settings.influx_password,
    )
