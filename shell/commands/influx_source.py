"""``idleshare import-influx``: read a measurement another tool writes to InfluxDB (Telegraf,
for example) into the readings store, as the mapping file says (docs/telegraf.md)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shell.options import DataDir, InfluxUrl, fail, settings, stop_event
from shell.settings import Settings

if TYPE_CHECKING:  # the command imports them when it runs: `idleshare --help` stays quick
    from ingest.influx_source.mapping import SourceMap
    from ingest.influx_source.sources import Source

MapFile = Annotated[Path, typer.Option("--map", help="the mapping file (TOML)",
                                       show_default=False)]
SourceUrlOption = Annotated[str, typer.Option(
    envvar="IDLESHARE_SOURCE_URL", show_default=False,
    help="the InfluxDB to read: http://host:8086/database, optionally /retention-policy after "
         "it (1.x), or "
         "http://host:8086/bucket with --source-token (2.x)")]


def register(app: typer.Typer) -> None:
    @app.command("import-influx")
    def import_influx(
        map_file: MapFile,
        source_url: SourceUrlOption,
        source_user: Annotated[str, typer.Option(envvar="IDLESHARE_SOURCE_USER",
                                                 help="1.x user")] = "",
        source_password: Annotated[str, typer.Option(envvar="IDLESHARE_SOURCE_PASSWORD",
                                                     help="1.x password")] = "",
        source_token: Annotated[str, typer.Option(envvar="IDLESHARE_SOURCE_TOKEN",
                                                  help="2.x token (selects Flux)")] = "",
        source_org: Annotated[str, typer.Option(envvar="IDLESHARE_SOURCE_ORG",
                                                help="2.x organisation")] = "",
        once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
        interval: Annotated[float, typer.Option(help="seconds between passes")] = 60.0,
        overlap: Annotated[float, typer.Option(
            help="seconds re-read before the cursor each pass, for late points")] = 900.0,
        since_hours: Annotated[float, typer.Option(
            help="the first pass reads this far back")] = 168.0,
        cursor: Annotated[Path | None, typer.Option(
            help="cursor file (default: <data-dir>/influx-source/<name>.cursor.json)")] = None,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
    ) -> None:
        """Import readings from an InfluxDB that Telegraf (or another tool) fills."""
        from idleshare.errors import ConfigError, StoreError
        from ingest.influx_source.mapping import load_mapping
        from ingest.influx_source.sources import open_source
        from shell import logs

        s = settings(influx_url=influx_url, data_dir=data_dir)
        for name, value in (("interval", interval), ("overlap", overlap),
                            ("since-hours", since_hours)):
            if not value >= 0:
                fail(f"--{name} must be >= 0: got {value}", 2)
        try:
            mapping = load_mapping(map_file)
            source = open_source(source_url, mapping, username=source_user,
                                 password=source_password, token=source_token, org=source_org)
        except ConfigError as err:
            fail(str(err), 2)
        try:
            logs.setup()
            done = run(s, mapping, source, once=once, interval_s=interval, overlap_s=overlap,
                       since_s=since_hours * 3600, cursor_path=cursor)
        except ConfigError as err:
            fail(str(err), 2)
        except StoreError as err:
            fail(str(err), 1)
        if done:
            typer.echo(done)


def run(settings: Settings, mapping: SourceMap, source: Source, once: bool, interval_s: float,
        overlap_s: float, since_s: float, cursor_path: Path | None) -> str:
    """One pass (``once``: its report) or passes until SIGINT/SIGTERM (an empty string)."""
    from ingest.influx_source.cursor import FileCursor
    from ingest.influx_source.importer import Importer
    from shell.stores import make_data_dir, open_stores

    make_data_dir(settings)
    path = cursor_path or settings.data_dir / "influx-source" / f"{mapping.name}.cursor.json"
    cursor = FileCursor(path, source.identity)
    cursor.load()  # a cursor of another source is a start-up mistake: said before any work
    with open_stores(settings) as (store, catalog):
        try:
            importer = Importer(source, mapping, store, catalog, cursor, overlap_s=overlap_s,
                                since_s=since_s)
            if once:
                return str(importer.run_pass())
            stop: threading.Event = stop_event()
            importer.run_forever(stop, interval_s)
            return ""
        finally:
            source.close()
