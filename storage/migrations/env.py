"""Alembic environment of the catalog: uses the connection handed in by
:func:`storage.migrations.alembic_config` (the catalog's startup does so, in its locked
transaction), else connects to ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from storage.catalog import spatial
from storage.catalog.models import Base

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url and no connection in the Alembic config")
    return url


def run_migrations_offline() -> None:
    # SQLite cannot ALTER most things in place; batch mode copies the table where it must.
    context.configure(url=_url(), target_metadata=Base.metadata, render_as_batch=True,
                      literal_binds=True, dialect_opts={"paramstyle": "named"},
                      include_name=spatial.include_name)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    # include_name: the R*Tree's tables are not models; autogenerate must not drop them.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, include_name=spatial.include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run_on(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
