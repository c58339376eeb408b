"""IDLESHARE_LOG_FORMAT=json: every server command logs JSON lines with the same fields."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idleshare.errors import ConfigError
from shell import logs
from tests.observability.helpers import Command, wait_until
from tests.servers import free_port

COMMON = {"time", "level", "logger", "message"}


def json_lines(stderr: str) -> list[dict[str, object]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    parsed = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    for line in parsed:
        assert line.keys() >= COMMON, line
        assert isinstance(line["time"], float) and isinstance(line["message"], str)
    return parsed


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:], root.level = handlers, level


def test_a_json_line_carries_the_common_fields_the_extra_ones_and_the_exception(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(logs.FORMAT_ENV, "json")
    logs.setup()
    log = logging.getLogger("ingest.service")
    log.warning("store down: %s", "x", extra={"event": "store_error", "pending": 12})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    first, second = json_lines(capsys.readouterr().err)

    assert (first["level"], first["logger"], first["message"]) == (
        "WARNING", "ingest.service", "store down: x")
    assert (first["event"], first["pending"]) == ("store_error", 12)
    assert "RuntimeError: boom" in str(second["exception"])


def test_text_stays_the_default_and_a_wrong_format_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(logs.FORMAT_ENV, raising=False)
    logs.setup()
    logging.getLogger("api.main").warning("plain")
    assert re.search(r" WARNING api\.main: plain$", capsys.readouterr().err.strip())
    monkeypatch.setenv(logs.FORMAT_ENV, "xml")
    with pytest.raises(ConfigError, match="IDLESHARE_LOG_FORMAT must be text or json"):
        logs.setup()


def test_analytics_logs_json(tmp_path: Path) -> None:
    command = Command(["analytics", "--once"], tmp_path, IDLESHARE_LOG_FORMAT="json")
    assert command.proc.wait(120) == 0, command.output()
    loggers = {line["logger"] for line in json_lines(command.output()[1])}
    assert any(str(name).startswith("alembic") for name in loggers)  # the new catalog


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one process", "2 workers"])
def test_the_api_logs_json_its_server_and_access_lines_included(
    tmp_path: Path, workers: list[str]
) -> None:
    port = free_port()
    command = Command(["api", "--port", str(port), *workers], tmp_path,
                      IDLESHARE_LOG_FORMAT="json")
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200,
                   "the API")
    finally:
        _out, err = command.stop()
    loggers = {line["logger"] for line in json_lines(err)}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers, loggers


def test_ingest_logs_json(tmp_path: Path) -> None:
    # No broker listens there: ingest starts, logs its catalog's migration and its retries.
    command = Command(["ingest", "--mqtt-url", f"mqtt://127.0.0.1:{free_port()}"], tmp_path,
                      IDLESHARE_LOG_FORMAT="json")
    try:
        wait_until(lambda: "migration" in command.output()[1] or command.proc.poll() is not None,
                   "ingest's first log lines")
    finally:
        _out, err = command.stop()
    assert "ingest.service" in {line["logger"] for line in json_lines(err)}  # its last words


def test_a_wrong_log_format_stops_the_command_with_a_clear_error(tmp_path: Path) -> None:
    command = Command(["analytics", "--once"], tmp_path, IDLESHARE_LOG_FORMAT="xml")
    assert command.proc.wait(120) == 2
    assert "error: IDLESHARE_LOG_FORMAT must be text or json: got 'xml'" in command.output()[1]
