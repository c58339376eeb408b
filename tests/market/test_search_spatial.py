"""Distance search's spatial index: SQLite's R*Tree holds exactly the live offers, whoever
writes them (the triggers), a catalog upgraded to it is filled, and distance search reads it;
PostgreSQL's GiST index is there and answers the search's box."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, insert, select, text, update

from bench.api import populate
from market.caller import Caller
from market.near import Near
from market.search import OfferQuery, _prepared_for, _values
from storage.catalog import Catalog, OfferRow, spatial
from storage.migrations import alembic_config


def _boxes(catalog: Catalog, tree: str) -> dict[int, tuple[float, ...]]:
    with catalog.engine.connect() as conn:
        return {r[0]: r[1:] for r in conn.execute(text(
            f"SELECT id, lat_min, lat_max, lon_min, lon_max FROM {tree}"))}


def assert_places_are_the_live_offers(catalog: Catalog) -> int:
    """The R*Tree holds one box per live offer, around its point (32-bit floats, rounded
    outwards), and each kind's R*Tree exactly that kind's; returns how many."""
    boxes = _boxes(catalog, "offer_places")
    with catalog.session() as s:
        live = s.execute(select(OfferRow.id, OfferRow.lat, OfferRow.lon, OfferRow.kind).where(
            OfferRow.status == "live")).all()
    assert set(boxes) == {o.id for o in live}
    for o in live:
        lat0, lat1, lon0, lon1 = boxes[o.id]
        assert lat0 <= o.lat <= lat1 and lat1 - lat0 < 1e-5
        assert lon0 <= o.lon <= lon1 and lon1 - lon0 < 1e-5
    for kind in spatial.PLACES_BY_KIND:
        of_kind = _boxes(catalog, f"offer_places_{kind}")
        assert set(of_kind) == {o.id for o in live if o.kind == kind}
        assert all(of_kind[i] == boxes[i] for i in of_kind)
    return len(boxes)


@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")


def test_the_r_tree_holds_exactly_the_live_offers_through_every_kind_of_write(
    sqlite_catalog: Catalog,
) -> None:
    catalog = sqlite_catalog
    populate(catalog, assets=50, offers=300, tenants=5, seed=3)
    assert assert_places_are_the_live_offers(catalog) == 300
    with catalog.session() as s:
        s.execute(update(OfferRow).where(OfferRow.id <= 40).values(status="withdrawn"))
        s.execute(update(OfferRow).where(OfferRow.id.between(30, 35)).values(status="live"))
        s.execute(update(OfferRow).where(OfferRow.id.between(50, 60)).values(
            lat=OfferRow.lat + 0.5, lon=-3.25, kind="vehicle"))
        s.execute(update(OfferRow).where(OfferRow.id == 70).values(updated_at=1.0))  # no place
        s.execute(delete(OfferRow).where(OfferRow.id.between(80, 89)))
        first = s.scalars(select(OfferRow).limit(1)).one()
        s.execute(insert(OfferRow), [
            {**{c: getattr(first, c) for c in ("tenant_id", "asset_id", "kind", "quantity",
                                              "unit", "start", "end", "confidence", "lat",
                                              "lon")}, "status": status}
            for status in ("live", "expired")
        ])
    assert assert_places_are_the_live_offers(catalog) == 300 - 40 + 6 - 10 + 1
    catalog.close()


def test_a_catalog_upgraded_to_the_spatial_index_has_its_live_offers_in_it(
    sqlite_catalog: Catalog, tmp_path: Path
) -> None:
    populate(sqlite_catalog, assets=20, offers=100, tenants=4, seed=5)
    with sqlite_catalog.session() as s:
        s.execute(update(OfferRow).where(OfferRow.id <= 10).values(status="expired"))
    sqlite_catalog.close()
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    command.downgrade(alembic_config(url), "0007_alerts")  # offers, no spatial index
    engine = create_engine(url)
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    engine.dispose()
    assert not names & (spatial.SQLITE_TABLES | {"offer_places_insert"})

    catalog = Catalog(url)  # upgraded at start
    assert assert_places_are_the_live_offers(catalog) == 90
    catalog.close()


def plan(catalog: Catalog, q: OfferQuery, one_step: bool = False) -> str:
    caller = Caller(tenant_id="t000", role="platform")
    with catalog.engine.connect() as conn:
        prepared = _prepared_for(conn, caller, q, False, one_step)
        sqlite = conn.dialect.name == "sqlite"
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if not sqlite:
            cur.execute("SET enable_seqscan = off")  # a small table: show the index is usable
        cur.execute(explain + prepared.sql, prepared.args(_values(q, 0.0, None, 21, sqlite)))
        return "\n".join(str(r) for r in cur.fetchall())


def test_distance_search_reads_the_spatial_index(catalog: Catalog) -> None:
    populate(catalog, assets=50, offers=300, tenants=5, seed=3)
    by_distance = OfferQuery(kind="machine", near=Near(51.0, 10.0, 100.0), sort="distance")
    sqlite = catalog.engine.dialect.name == "sqlite"
    used = "offer_places_machine" if sqlite else spatial.GIST_INDEX
    assert used in plan(catalog, by_distance)
    assert used in plan(catalog, by_distance, one_step=True)  # the smaller circle's step
    if sqlite:  # every kind's candidates when no kind is asked
        every_kind = OfferQuery(near=Near(51.0, 10.0, 100.0), sort="distance")
        assert "offer_places VIRTUAL TABLE" in plan(catalog, every_kind)
    # Offers of every status are not in the R*Tree: such a search reads the offers' indexes.
    if catalog.engine.dialect.name == "sqlite":
        any_status = OfferQuery(status=None, near=Near(51.0, 10.0, 100.0), sort="distance")
        assert "offer_places" not in plan(catalog, any_status)
