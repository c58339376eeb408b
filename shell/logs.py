"""How the server processes log: plain lines, or JSON lines with ``IDLESHARE_LOG_FORMAT=json``.

The one definition of the log format for ingest, analytics, the API and the demo. It lives in
``shell/`` because choosing handlers is the job of the process's entry point (the
``idleshare`` command); the services themselves only log through ``logging.getLogger`` and
pass their event fields as ``extra``, so none of them imports this module.

A JSON line (python-json-logger) has ``time`` (epoch seconds), ``level``, ``logger``,
``message``, every ``extra`` field (``event``, ``reason``, ``pending``, ...) and, for an
exception, ``exception``: ``log.warning("store down", extra={"event": "store_error"})`` becomes
``{"time": 1767225600.25, "level": "WARNING", "logger": "ingest.service", "message":
"store down", "event": "store_error"}``, which journald, Loki or Elasticsearch parse as is.

The edge agent does not use this: it runs on gateways with paho-mqtt and the standard library
only, and logs plain lines to its journal.
"""

from __future__ import annotations

import logging
import os
from typing import Any

#: The environment variable, and its two values.
FORMAT_ENV = "IDLESHARE_LOG_FORMAT"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: LogRecord attribute -> JSON field, in the order they are written.
JSON_FIELDS = {"created": "time", "levelname": "level", "name": "logger", "message": "message"}


def log_format() -> str:
    """``text`` or ``json``, from ``IDLESHARE_LOG_FORMAT`` (empty: ``text``)."""
    from idleshare.errors import ConfigError

    chosen = os.environ.get(FORMAT_ENV, "").strip().lower() or "text"
    if chosen not in FORMATS:
        raise ConfigError(f"{FORMAT_ENV} must be text or json: got {chosen!r}")
    return chosen


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(list(JSON_FIELDS), rename_fields={**JSON_FIELDS, "exc_info": "exception"})


def setup(level: int | None = None) -> None:
    """Send every logger's records to stderr (the service's journal) in the chosen format, at
    ``level`` (default: the root logger's, as ``idleshare --verbose`` set it, else INFO)."""
    handler = logging.StreamHandler()
    json = log_format() == "json"
    handler.setFormatter(json_formatter() if json else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or root.level or logging.INFO)


def uvicorn_log_config() -> dict[str, Any] | None:
    """What to pass uvicorn as ``log_config``: its own colourful text setup, or, for JSON,
    nothing, so that its loggers (``uvicorn.error``, ``uvicorn.access``) reach the root
    handler :func:`setup` installed and come out as JSON lines too."""
    if log_format() == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
