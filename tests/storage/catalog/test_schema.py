"""The catalog's schema migrations: a new database starts at the newest revision, an older one
is upgraded at start with its rows intact, a newer one is refused, and the migrations end in
exactly the schema of the models; on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from idleshare.errors import StoreError
from storage.catalog import Base, Catalog, hash_key, spatial
from storage.migrations import BASELINE, SCRIPT_LOCATION, alembic_config

HEAD = ScriptDirectory(SCRIPT_LOCATION).get_current_head()
OLD_KEY = "idl_made_by_an_idleshare_before_migrations"


def make_pre_migration_database(url: str) -> None:
    """A catalog as an idleshare before migrations left it: the baseline schema (what its
    ``create_all`` made), no ``alembic_version``, a tenant, an API key and an asset."""
    command.upgrade(alembic_config(url), BASELINE)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')"))
        conn.execute(
            text(
                "INSERT INTO api_keys (tenant_id, role, name, prefix, key_hash, created_at) "
                "VALUES ('acme', 'owner', 'old key', :prefix, :hash, 1700000000.0)"
            ),
            {"prefix": OLD_KEY[:8], "hash": hash_key(OLD_KEY)},
        )
        conn.execute(
            text(
                "INSERT INTO assets (tenant_id, id, kind, name, capacity, unit, lat, lon, "
                "metrics, policy, agent, online, status_at) VALUES ('acme', 'zone-1', "
                "'warehouse_zone', 'Zone 1', 120.0, 'pallet', 52.5, 13.4, '[\"occupied\"]', "
                "'{\"price_per_unit_hour\": 2.5}', 'gw-1', TRUE, 1700000000.0)"
            )
        )
    engine.dispose()


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return revision


def api_key_columns(url: str) -> list[str]:
    engine = create_engine(url)
    columns = [c["name"] for c in inspect(engine).get_columns("api_keys")]
    engine.dispose()
    return columns


def assert_opened_at_the_newest_revision(url: str) -> None:
    """Opening the catalog at ``url`` leaves its database at HEAD, the newest column there."""
    Catalog(url).close()
    assert revision_of(url) == HEAD
    assert "last_used_at" in api_key_columns(url)


def test_a_new_catalog_is_created_at_the_newest_revision(catalog_url: str) -> None:
    assert_opened_at_the_newest_revision(catalog_url)


def test_a_catalog_made_before_migrations_is_upgraded_with_its_rows_intact(
    catalog_url: str,
) -> None:
    url = catalog_url
    make_pre_migration_database(url)
    assert revision_of(url) is None
    assert "last_used_at" not in api_key_columns(url)

    catalog = Catalog(url)

    assert revision_of(url) == HEAD
    assert api_key_columns(url).count("last_used_at") == 1
    [key] = catalog.keys("acme")
    assert (key.tenant_id, key.role, key.name, key.created_at) == (
        "acme", "owner", "old key", 1700000000.0
    )
    assert key.last_used_at is None  # the new column: unknown for keys from before
    owner = catalog.key_owner(OLD_KEY)
    assert owner is not None and owner.id == key.id
    [asset] = catalog.assets("acme")
    assert (asset.id, asset.capacity, asset.unit, asset.agent, asset.online) == (
        "zone-1", 120.0, "pallet", "gw-1", True
    )
    assert asset.metrics == ["occupied"]
    assert asset.policy["price_per_unit_hour"] == 2.5
    # The upgraded catalog takes new rows with the new column.
    assert catalog.key_owner(catalog.create_key("acme", name="new key")) is not None
    catalog.close()


def test_a_catalog_behind_the_newest_revision_is_upgraded_at_start(catalog_url: str) -> None:
    command.upgrade(alembic_config(catalog_url), BASELINE)
    assert_opened_at_the_newest_revision(catalog_url)


def test_a_catalog_written_by_a_newer_idleshare_is_refused_naming_both_revisions(
    catalog_url: str,
) -> None:
    url = catalog_url
    Catalog(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()

    with pytest.raises(StoreError, match="newer") as refused:
        Catalog(url)
    assert "0099_from_the_future" in str(refused.value)
    assert HEAD in str(refused.value)
    assert revision_of(url) == "0099_from_the_future"  # left as it was


@pytest.mark.parametrize("start", ["empty", "pre-migration"])
def test_the_migrations_end_in_exactly_the_schema_of_the_models(
    catalog_url: str, start: str
) -> None:
    url = catalog_url
    if start == "empty":
        command.upgrade(alembic_config(url), "head")  # every migration, no create_all
    else:
        make_pre_migration_database(url)
        Catalog(url).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": spatial.include_name})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_an_in_memory_catalog_is_created_at_the_newest_revision() -> None:
    catalog = Catalog("sqlite://")
    with catalog.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    assert catalog.key_owner(catalog.create_key("acme")) is not None
    catalog.close()


def test_the_head_written_in_the_package_is_the_newest_migration() -> None:
    from storage import migrations

    assert migrations.HEAD == HEAD


def test_opening_a_catalog_already_at_the_newest_revision_does_not_load_alembic(
    catalog_url: str,
) -> None:
    url = catalog_url
    Catalog(url).close()
    code = ("import sys; from storage.catalog import Catalog; "
            f"Catalog({url!r}).close(); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
