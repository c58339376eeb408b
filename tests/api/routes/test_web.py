from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from idleshare.assets import KINDS
from market.bookings import hold
from market.caller import Caller
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, add_window, auth

FUTURE = time.time() + 7 * 86400

#: How the page calls the API: api("METHOD", <literal>) or allItems(<literal>), which GETs
#: every page with limit=1000. The literal is a "string" or a `template` starting with v1/.
CALL = re.compile(
    r"""\b(?:api\(\s*"(?P<method>[A-Z]+)",\s*|(?P<paged>allItems)\(\s*)"""
    r"""(?P<quote>["`])(?P<url>v1/[^"`]*)(?P=quote)"""
)
PATH_LITERAL = re.compile(r"""["`]v1/""")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
#: Values the page computes at run time, as the page would send them by default.
RUNTIME_VALUES = {
    "start": (datetime.now(UTC) - timedelta(days=7)).isoformat(),  # idle windows: a week back
    "after": "0",  # change feed: reading back from the newest position reaches 0 on a new catalog
}


@dataclass(frozen=True)
class PageCall:
    method: str
    path: str  # without the query; path parameters as ${…}
    query: str  # the literal's query, placeholders included
    paged: bool


def dashboard(client: TestClient) -> str:
    """The dashboard as the browser puts it together: its HTML with, in place of the tags that
    load them, the script files it loads, as one script."""
    html = client.get("/").text
    tags = [f'<script src="/static/{name}.js"></script>' for name in ("common", "dashboard")]
    assert all(t in html for t in tags) and "<script>" not in html  # no inline script
    scripts = "\n".join(client.get(f"/static/{name}.js").text for name in ("common", "dashboard"))
    return html.replace(tags[0], f"<script>{scripts}</script>").replace(tags[1], "")


def script(page: str) -> str:
    return page[page.index("<script>") : page.index("</script>")]


def page_calls(page: str) -> list[PageCall]:
    js = script(page)
    calls = []
    for m in CALL.finditer(js):
        path, _, query = m["url"].partition("?")
        calls.append(PageCall(m["method"] or "GET", path, query, paged=bool(m["paged"])))
    # A path literal used any other way would escape the checks below.
    assert len(calls) == len(PATH_LITERAL.findall(js)), "an API path outside api()/allItems()"
    return calls


def route_paths(client: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every route, included routers flattened (FastAPI >= 0.16x keeps them
    as lazy entries whose effective routes carry the full path)."""
    found = set()
    for r in client.app.routes:
        routes = r.effective_route_contexts() if hasattr(r, "effective_route_contexts") else [r]
        for route in routes:
            found |= {(m, route.path) for m in getattr(route, "methods", None) or ()}
    assert len(found) > 25, "the route table looks empty: has FastAPI changed how it lists routes?"
    return found


def route_for(client: TestClient, call: PageCall) -> str | None:
    """The path of the route that answers the page's call, or None."""
    wanted = "/" + PLACEHOLDER.sub("X", call.path)
    for method, path in route_paths(client):
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        if method == call.method and re.fullmatch(pattern, wanted):
            return path
    return None


class SearchForm(HTMLParser):
    """Fields of the page's offer search form: each field's default and its options."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.select = False, None
        self.defaults: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == "search"
        elif self.inside and tag == "input" and a.get("name"):
            self.defaults[a["name"]] = a.get("value") or ""
        elif self.inside and tag == "select":
            self.select = a["name"]
            self.options[self.select] = []
        elif self.inside and tag == "option" and self.select:
            self.options[self.select].append(a["value"] or "")
            if "selected" in a or self.select not in self.defaults:
                self.defaults[self.select] = a["value"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def search_form(page: str) -> SearchForm:
    form = SearchForm()
    form.feed(page)
    assert form.defaults, "no offer search form"
    return form


def default_query(call: PageCall, page: str) -> str:
    """The query string the page sends for this call when nothing was typed in."""
    constants = dict(re.findall(r"const ([A-Z_]+) = (\d+);", script(page)))
    params: list[tuple[str, str]] = []
    for part in filter(None, call.query.split("&")):
        name, eq, value = part.partition("=")
        if not eq:
            # A whole placeholder: the offer search form's query, empty fields left out.
            assert part == "${query}", part
            params += [(k, v) for k, v in search_form(page).defaults.items() if v]
            continue
        const = re.fullmatch(r"\$\{([A-Z_]+)\}", value)
        if const:
            value = constants[const[1]]
        elif "${" in value or not value:  # computed at run time, or concatenated after the literal
            value = RUNTIME_VALUES[name]
        params.append((name, value))
    if call.paged:
        params.append(("limit", "1000"))
    return urlencode(params)


def test_root_serves_the_page_from_this_server_alone_without_a_key(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    # Nothing loaded from elsewhere: its script and style are files of this server (the SVG
    # namespace is a name, not a fetch; the icon an empty data: URL, so no /favicon.ico).
    loads = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"([^\"]*)\"", r.text)
    assert sorted(loads) == [
        "/static/common.js", "/static/dashboard.css", "/static/dashboard.js", "data:,"], loads
    page = dashboard(client)
    assert 'id="keyform"' in page and "localStorage" in page
    assert "v1/assets" in page and "v1/idle-windows" in page and "v1/offers" in page
    # Text from the API goes in as text: the page never parses strings as HTML.
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page


def test_root_is_not_in_the_api_schema(client: TestClient) -> None:
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_search_form_fields_are_offer_search_parameters(client: TestClient) -> None:
    form = search_form(dashboard(client))
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/offers"]["get"]["parameters"]}
    assert set(form.defaults) <= set(params), set(form.defaults) - set(params)
    assert {"kind", "capability", "min_quantity", "lat", "lon", "km", "max_price", "sort"} <= set(
        form.defaults
    )
    assert set(form.options["kind"]) == {""} | {k.name for k in KINDS}
    assert set(form.options["sort"]) == set(params["sort"]["schema"]["enum"])


@pytest.fixture
def market(catalog: Catalog) -> None:
    """acme shares a zone with a live offer and an idle window; the platform tenant "market"
    has an asset of its own and a hold on acme's offer."""
    add_asset(catalog, "acme", "z1")
    add_window(catalog, "acme", "z1", time.time() - 7200, time.time() - 3600)
    offer = add_live_offer(catalog, "acme", "z1", FUTURE)
    add_asset(catalog, "market", "m1")
    hold(catalog, Caller("market", "platform"), offer, 10.0, 900.0, time.time())


@pytest.mark.parametrize(
    ("tenant", "role"), [("market", "platform"), ("acme", "owner"), ("acme", "viewer")]
)
def test_every_get_of_the_page_answers_200_or_403_with_its_default_query(
    client: TestClient, catalog: Catalog, market: None, tenant: str, role: str
) -> None:
    page = dashboard(client)
    headers = auth(catalog, tenant, role)
    own_asset = client.get("/v1/assets", headers=headers).json()["items"][0]["id"]
    answers = {}
    for call in page_calls(page):
        if call.method != "GET":
            continue
        route = route_for(client, call)
        assert route is not None, call
        # Path parameters the page takes from earlier answers: here, the key's own asset.
        url = route.format(asset_id=own_asset)
        query = default_query(call, page)
        r = client.get(url + ("?" + query if query else ""), headers=headers)
        answers[url] = r.status_code
        assert r.status_code in (200, 403), f"{url}?{query}: {r.status_code} {r.text}"
    assert answers["/v1/offers"] == answers["/v1/bookings"] == 200
    assert answers["/v1/feeds/offer-changes"] == 200


@pytest.mark.parametrize("role", ["owner", "platform", "viewer"])
def test_the_page_takes_the_role_from_the_tenant_route(
    client: TestClient, catalog: Catalog, role: str
) -> None:
    assert client.get("/v1/tenant", headers=auth(catalog, "acme", role)).json()["role"] == role
    page = script(dashboard(client))
    assert "who.role = tenant.role" in page
    assert 'api("GET", "v1/keys")' not in page  # no probing routes for a 403


def test_reading_back_the_change_feed_from_the_snapshot_cursor_finds_the_newest_events(
    client: TestClient, catalog: Catalog, market: None
) -> None:
    # What loadChanges relies on: the snapshot's cursor is the newest feed position, and the
    # window of positions before it holds the newest events.
    headers = auth(catalog, "market", "platform")
    head = client.get("/v1/feeds/offers", headers=headers, params={"limit": 1}).json()["cursor"]
    window = {"after": max(0, head - 1000), "limit": 1000}
    feed = client.get("/v1/feeds/offer-changes", headers=headers, params=window).json()
    assert [c["type"] for c in feed["items"]] == ["created", "booked"]
    assert feed["items"][-1]["cursor"] == head


#: The app's calls: api("METHOD", <literal>), allItems(<literal>) or csv(<literal>) (a GET).
APP_CALL = re.compile(
    r"""\b(?:api\(\s*"(?P<method>[A-Z]+)",\s*|(?P<fn>allItems|csv)\(\s*)"""
    r"""(?P<quote>["`])(?P<url>v1/[^"`]*)(?P=quote)"""
)


def app_calls(client: TestClient) -> list[PageCall]:
    js = client.get("/static/app.js").text
    calls = []
    for m in APP_CALL.finditer(js):
        path, _, query = m["url"].partition("?")
        calls.append(PageCall(m["method"] or "GET", path, query, paged=m["fn"] == "allItems"))
    assert len(calls) == len(PATH_LITERAL.findall(js)), "an API path outside api()/allItems()/csv()"
    return calls


def test_the_app_page_runs_only_its_own_script_files(client: TestClient) -> None:
    r = client.get("/app")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["default-src"] == "'none'" and csp["connect-src"] == "'self'"
    page = r.text
    # No inline script or style (the CSP would refuse them), every file from this server.
    assert re.findall(r"<script>|<style>|\son\w+=", page) == []
    files = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert "static/vendor/uPlot.iife.min.js" in files and "static/app.js" in files
    # The charts before the page's code, which calls them.
    assert files.index("static/charts.js") < files.index("static/app.js")
    for f in files:
        if not f.startswith("data:"):
            served = client.get("/" + f)
            assert served.status_code == 200, f
            assert served.headers["x-content-type-options"] == "nosniff"
    for name in ("common.js", "charts.js", "app.js"):
        js = client.get("/static/" + name).text
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js


@pytest.mark.parametrize("name", ["index.html", "../routes/web.py", "vendor/README.md", "x.js"])
def test_static_serves_only_the_files_of_its_table(client: TestClient, name: str) -> None:
    assert client.get("/static/" + name).status_code == 404


#: Per page, its calls and the sections and actions it must call, so a lost call is noticed
#: too.
PAGE_CALLS: dict[str, tuple[Callable[[TestClient], list[PageCall]], set[tuple[str, str]]]] = {
    "dashboard": (lambda client: page_calls(dashboard(client)), {
        ("GET", "v1/tenant"),
        ("GET", "v1/bookings"),
        ("GET", "v1/feeds/offer-changes"),
        ("POST", "v1/bookings"),
        ("POST", "v1/bookings/${b.id}/confirm"),
        ("POST", "v1/bookings/${b.id}/cancel"),
    }),
    "app": (app_calls, {
        ("GET", "v1/kpis"),
        ("GET", "v1/assets/${a}/utilisation"),
        ("GET", "v1/assets/${a}/forecast"),
        ("PUT", "v1/assets/${enc(current.id)}/policy"),
        ("GET", "v1/exports/utilisation.csv"),
    }),
}


@pytest.mark.parametrize("page", PAGE_CALLS)
def test_every_api_call_of_a_page_is_a_route_with_that_method(
    client: TestClient, page: str,
) -> None:
    calls_of, wanted = PAGE_CALLS[page]
    calls = calls_of(client)
    assert wanted <= {(c.method, c.path) for c in calls}
    missing = [f"{c.method} {c.path}" for c in calls if route_for(client, c) is None]
    assert not missing, f"the {page} calls routes the API does not have: {missing}"


def test_the_policy_editor_has_every_key_owners_may_set(client: TestClient) -> None:
    js = client.get("/static/app.js").text
    editor = js[js.index("const POLICY = [") : js.index("];", js.index("const POLICY = ["))]
    keys = re.findall(r'\{ key: "(\w+)"', editor)
    spec = client.get("/openapi.json").json()["components"]["schemas"]["PolicyBody"]
    assert sorted(keys) == sorted(spec["properties"])
