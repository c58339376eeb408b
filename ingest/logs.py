"""Structured logs: one JSON object per line, with the fields passed as ``extra``.

``log.warning("store down", extra={"event": "store_error", "pending": 12})`` becomes
``{"time": ..., "level": "WARNING", "logger": ..., "message": "store down",
"event": "store_error", "pending": 12}``, which journald, Loki or Elasticsearch parse as is.
"""

from __future__ import annotations

import json
import logging

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup(level: int = logging.INFO) -> None:
    """Log JSON lines to stderr (the service's journal)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
