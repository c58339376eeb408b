"""deploy/prometheus: a scrape job for every service, and alerts that name only real metrics
(the names the services register) and real route templates."""

from __future__ import annotations

import re

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from analytics.metrics import AnalyticsMetrics
from api.main import create_app
from ingest.metrics import IngestMetrics
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.observability.helpers import REPO, samples

DEPLOY = REPO / "deploy" / "prometheus"
REQUESTS = "idleshare_api_http_requests_total"
#: Sample names each kind of metric family exposes.
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
            "gauge": ("",), "summary": ("_count", "_sum", "")}


def exposed(registry: CollectorRegistry) -> set[str]:
    """Every sample name ``registry`` can expose, labelled families without samples yet too."""
    return {family.name + suffix for family in registry.collect()
            for suffix in SUFFIXES.get(family.type, ("",))}


@pytest.fixture(scope="module")
def api_routes_and_names(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], set[str]]:
    where = tmp_path_factory.mktemp("api")
    catalog = Catalog(f"sqlite:///{where / 'catalog.db'}")
    store = SqliteReadingStore(where / "readings.db")
    app = create_app(catalog, store, dispatch_interval_s=None)
    names = exposed(app.state.metrics_registry)
    # The handler labels the alerts match, as the API really labels a request to each.
    with TestClient(app) as client:
        for handler in alert_handlers():
            client.get(handler)
    found = samples(generate_latest(app.state.metrics_registry).decode())
    templates = {labels["handler"] for name, labels, _ in found if name == REQUESTS}
    store.close()
    catalog.close()
    return templates, names


def rules() -> list[dict[str, object]]:
    document = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def alert_handlers() -> set[str]:
    return {h for rule in rules() for h in re.findall(r'handler="([^"]+)"', str(rule["expr"]))}


def test_every_service_has_a_scrape_job_and_the_rules_are_loaded() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"idleshare-ingest", "idleshare-api", "idleshare-analytics"}
    for job in jobs.values():
        [targets] = [c["targets"] for c in job["static_configs"]]
        assert targets and all(t.startswith("127.0.0.1:") for t in targets)
    assert config["rule_files"] == ["alerts.yml"]


def test_every_metric_the_alerts_use_is_one_a_service_exposes(
    api_routes_and_names: tuple[set[str], set[str]],
) -> None:
    _, api_names = api_routes_and_names
    known = exposed(IngestMetrics().registry) | exposed(AnalyticsMetrics().registry) | api_names
    used = {name for rule in rules() for name in re.findall(r"\bidleshare_\w+", str(rule["expr"]))}
    assert used, "no idleshare metric in the alerts"
    assert used <= known, sorted(used - known)
    # The alerts the issue asks for: ingest lag, dead letters by reason, analytics errors.
    assert {"idleshare_ingest_reading_lag_seconds_bucket",
            "idleshare_ingest_messages_rejected_total",
            "idleshare_ingest_agent_dropped_readings",
            "idleshare_analytics_asset_errors_total"} <= used


def test_handler_labels_in_the_alerts_are_route_templates(
    api_routes_and_names: tuple[set[str], set[str]],
) -> None:
    templates, _ = api_routes_and_names
    handlers = alert_handlers()
    assert handlers and handlers <= templates - {"none"}, sorted(handlers - templates)


def test_every_alert_says_what_it_is_and_how_bad() -> None:
    for rule in rules():
        assert re.fullmatch(r"Idleshare[A-Za-z]+", str(rule["alert"])), rule
        assert rule["labels"]["severity"] in ("warning", "critical"), rule  # type: ignore[index]
        assert rule["annotations"]["summary"], rule  # type: ignore[index]
