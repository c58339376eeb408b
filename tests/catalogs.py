"""Catalog databases for tests: one URL per test on each engine the catalog supports.

``catalog_url`` (in tests/conftest.py) is parametrised over ``sqlite`` and ``postgresql``;
a package's catalog fixture only has to build ``Catalog(catalog_url)`` to run on both.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from shell.localpostgres import PostgresServer

ENGINES = ("sqlite", "postgresql")

_names = itertools.count()


def fresh_url(engine: str, tmp_path: Path, postgres: PostgresServer | None) -> str:
    """A new, empty catalog database on ``engine``: a file under ``tmp_path`` for SQLite, a
    database of its own on the session's PostgreSQL server (unique per process, so xdist
    workers and spawned processes never share one)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    assert postgres is not None
    return postgres.create_database(f"t{os.getpid()}_{next(_names)}")
