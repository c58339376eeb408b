"""How far a source has been read: the end of the last window whose readings were stored.

One small JSON file per source, replaced atomically (write a temporary file, fsync it, rename
it over the old one, fsync the folder): after a crash the file holds the old position or the
new one, never half of either. It records the source it belongs to, so a cursor is never
applied to another database or measurement by mistake.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from idleshare.errors import ConfigError, StoreError


class FileCursor:
    def __init__(self, path: str | Path, source: str) -> None:
        self.path = Path(path)
        self.source = source

    def load(self) -> int | None:
        """The position in nanoseconds since the epoch, or None before the first pass."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ConfigError(f"cannot read the cursor {str(self.path)!r}: {err}") from err
        if not isinstance(doc, dict) or not isinstance(doc.get("read_until_ns"), int):
            raise ConfigError(f"the cursor {str(self.path)!r} is not one this program wrote")
        if doc.get("source") != self.source:
            raise ConfigError(
                f"the cursor {str(self.path)!r} belongs to {doc.get('source')!r}, not to "
                f"{self.source!r}: give this source its own name in the mapping, or remove "
                "the file to read it again from the start")
        return int(doc["read_until_ns"])

    def save(self, read_until_ns: int) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        text = json.dumps({"source": self.source, "read_until_ns": read_until_ns})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)  # the rename itself survives a power cut
            finally:
                os.close(folder)
        except OSError as err:
            raise StoreError(f"cannot save the cursor {str(self.path)!r}: {err}") from err
