"""The catalog facade on a real SQLite file and a real PostgreSQL database: API keys (minting,
authenticating, recording their use at most once a minute, listing, revoking) and group
membership."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from storage.catalog import KEY_USE_RESOLUTION_S, Catalog, GroupMemberRow, Tenant, hash_key

T0 = 1_800_000_000.0


def key_updates(catalog: Catalog) -> list[str]:
    """The UPDATE statements the catalog's engine runs from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            seen.append(statement)

    event.listen(catalog.engine, "before_cursor_execute", record)
    return seen


def last_used(catalog: Catalog, tenant: str) -> list[float | None]:
    return [k.last_used_at for k in catalog.keys(tenant)]


def test_a_minted_key_is_stored_as_its_hash_and_authenticates_as_its_tenant_and_role(
    catalog: Catalog,
) -> None:
    row, key = catalog.mint_key("acme", role="viewer", name="dashboard")

    assert key.startswith("idl_") and row.prefix == key[:8]
    assert row.key_hash == hash_key(key) != key
    assert row.id is not None and row.created_at > 0
    owner = catalog.key_owner(key)
    assert owner is not None
    assert (owner.id, owner.tenant_id, owner.role, owner.name) == (
        row.id, "acme", "viewer", "dashboard"
    )
    assert catalog.key_owner(key + "x") is None


def test_a_keys_use_is_recorded_at_most_once_a_minute(catalog: Catalog) -> None:
    key = catalog.create_key("acme")
    assert last_used(catalog, "acme") == [None]
    updates = key_updates(catalog)

    catalog.key_owner(key, at=T0)
    assert last_used(catalog, "acme") == [T0]
    assert len(updates) == 1

    # Requests within the minute: authenticated, but no write.
    for dt in (1.0, 30.0, KEY_USE_RESOLUTION_S - 0.1):
        assert catalog.key_owner(key, at=T0 + dt) is not None
    assert last_used(catalog, "acme") == [T0]
    assert len(updates) == 1

    owner = catalog.key_owner(key, at=T0 + KEY_USE_RESOLUTION_S)
    assert owner is not None and owner.last_used_at == T0 + KEY_USE_RESOLUTION_S
    assert last_used(catalog, "acme") == [T0 + KEY_USE_RESOLUTION_S]
    assert len(updates) == 2


def test_a_use_recorded_by_another_process_is_not_written_again(catalog_url: str) -> None:
    api, worker = Catalog(catalog_url), Catalog(catalog_url)
    key = api.create_key("acme")
    api.key_owner(key, at=T0)
    updates = key_updates(worker)

    assert worker.key_owner(key, at=T0 + 10) is not None

    assert updates == []
    assert last_used(worker, "acme") == [T0]
    api.close()
    worker.close()


def test_uses_are_recorded_per_key(catalog: Catalog) -> None:
    first, second = catalog.create_key("acme"), catalog.create_key("acme")
    catalog.key_owner(first, at=T0)
    catalog.key_owner(second, at=T0 + 5)

    assert last_used(catalog, "acme") == [T0, T0 + 5]


def test_keys_lists_only_the_tenants_own_keys_and_deletes_only_them(catalog: Catalog) -> None:
    mine, _ = catalog.mint_key("acme", name="mine")
    theirs, _ = catalog.mint_key("globex", name="theirs")

    assert [k.name for k in catalog.keys("acme")] == ["mine"]
    assert catalog.delete_key("acme", theirs.id) is False
    assert [k.name for k in catalog.keys("globex")] == ["theirs"]
    assert catalog.delete_key("acme", mine.id) is True
    assert catalog.keys("acme") == []


def test_adding_tenants_to_a_group_creates_them_and_is_idempotent(catalog: Catalog) -> None:
    catalog.add_to_group("holding", ["acme", "globex"])
    catalog.add_to_group("holding", ["globex", "initech"])

    with catalog.session() as s:
        members = s.execute(select(GroupMemberRow.group_id, GroupMemberRow.tenant_id)).all()
        tenants = s.scalars(select(Tenant.id)).all()
    assert sorted(members) == [("holding", "acme"), ("holding", "globex"), ("holding", "initech")]
    assert sorted(tenants) == ["acme", "globex", "initech"]
