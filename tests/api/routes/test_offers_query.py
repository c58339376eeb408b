"""GET /v1/offers reads its query parameters in one pass (api.params.read_query): the same
values pass, the same 422s, the same OpenAPI as FastAPI's own solving of each parameter."""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient

from api.params import read_query
from api.routes.offers import SearchQuery
from storage.catalog import Catalog
from tests.api.conftest import auth

#: Good and bad values, repeats, empty values, unknown names, several errors at once.
QUERIES = [
    "", "limit=20", "limit=0", "limit=1001", "limit=abc", "limit=", "limit=5&limit=7",
    "limit=1.5", "limit=3.0", "kind=vehicle", "kind=", "kind=boat", "kind=vehicle&kind=machine",
    "asset=" + "x" * 65, "status=any", "status=" + "y" * 17, "capability=cold",
    "capability=cold&capability=dock", "capability=Cold!", "capability=",
    "capability=cold&capability=", "&".join(["capability=cold"] * 17),
    "min_quantity=-1", "min_quantity=nan", "min_quantity=inf", "start=1714521600&end=1714525200",
    "start=2024-05-01T10:00:00Z", "start=yesterday", "start=", "end=1714521600000",
    "lat=91&lon=10&km=5", "lat=51&lon=181&km=0", "km=20001", "lat=x&lon=&km=z", "sort=price",
    "sort=bogus", "sort=", "max_price=-1", "cursor=" + "a" * 513, "unknown=1&limit=2",
    "limit=0&kind=boat&lat=100&sort=x&capability=A",
]


def scratch_app(read_params: Any) -> TestClient:
    """An app answering GET /v1/offers with the SearchQuery it read."""
    app = FastAPI()

    @app.get("/v1/offers")
    async def search_offers(params: Annotated[SearchQuery, read_params]) -> dict[str, Any]:
        return params.model_dump(mode="json")

    return TestClient(app)


def fastapi_reference() -> TestClient:
    """SearchQuery as FastAPI's own query-parameter model: each field solved by FastAPI."""
    return scratch_app(Query())


def test_one_pass_reading_reads_and_refuses_like_fastapi() -> None:
    reference, one_pass = fastapi_reference(), scratch_app(Depends(read_query(SearchQuery)))
    sample = reference.get("/v1/offers?limit=20&capability=cold&capability=dock&kind=vehicle")
    assert sample.status_code == 200, sample.text  # the reference reads them
    assert sample.json() | {"limit": 20, "capability": ["cold", "dock"], "kind": "vehicle"} == (
        sample.json()
    )
    for query in QUERIES:
        want, got = reference.get(f"/v1/offers?{query}"), one_pass.get(f"/v1/offers?{query}")
        assert (got.status_code, got.json()) == (want.status_code, want.json()), query


def test_the_search_route_refuses_what_fastapi_refuses(
    client: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "market", "platform")
    reference = fastapi_reference()
    for query in QUERIES:
        want = reference.get(f"/v1/offers?{query}")
        got = client.get(f"/v1/offers?{query}", headers=h)
        if want.status_code == 422:
            assert (got.status_code, got.json()) == (422, want.json()), query
            continue
        # Each value good: then the route's own checks (start before end, lat/lon/km together).
        try:
            SearchQuery.model_validate(want.json()).offer_query()
        except RequestValidationError as refused:
            expected = {"detail": jsonable_encoder(refused.errors())}
            assert (got.status_code, got.json()) == (422, expected), query
        else:
            assert got.status_code == 200, (query, got.text)


def test_a_missing_key_is_refused_before_the_parameters_are_read(client: TestClient) -> None:
    assert client.get("/v1/offers?limit=0").status_code == 401


def test_openapi_documents_each_parameter_as_fastapi_does(client: TestClient) -> None:
    reference = fastapi_reference().app.openapi()["paths"]["/v1/offers"]["get"]  # type: ignore[attr-defined]
    spec = client.app.openapi()  # type: ignore[attr-defined]
    operation = spec["paths"]["/v1/offers"]["get"]
    assert operation["parameters"] == reference["parameters"]
    assert [p["name"] for p in operation["parameters"]] == list(SearchQuery.model_fields)
    assert operation["responses"]["422"] == reference["responses"]["422"]
    assert (operation["operationId"], operation["summary"]) == (
        "search_offers_v1_offers_get", "Search Offers"
    )


def test_every_reference_in_the_openapi_resolves(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    refs: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for child in node.values():
                collect(child)
        elif isinstance(node, list):
            for child in node:
                collect(child)

    collect(spec["paths"])
    names = {ref.removeprefix("#/components/schemas/") for ref in refs}
    assert names and names <= set(spec["components"]["schemas"]), names
