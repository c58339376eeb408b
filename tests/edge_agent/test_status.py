"""``idleshare agent status``: queue depth, oldest reading, last publish, connection, dropped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.outbox import Outbox
from edge_agent.status import format_status, read_status
from idleshare.errors import StoreError
from idleshare.wire import Measurement

NOW = 1_700_000_000.0


def _outbox(tmp_path: Path) -> Path:
    path = tmp_path / "outbox.db"
    box = Outbox(path, "gw-1")
    box.add("zone-a", [Measurement("occupied", 3.0, NOW - 7200 + i) for i in range(5)])
    box.set_state(connected=False, running=True, pid=os.getpid(), updated=NOW - 2,
                  last_publish=NOW - 3600)
    box.close()
    return path


def test_status_of_a_running_disconnected_agent(tmp_path: Path) -> None:
    status = read_status(_outbox(tmp_path), now=NOW)
    assert (status.agent, status.queued, status.oldest_queued) == ("gw-1", 5, NOW - 7200)
    assert (status.connection, status.last_publish, status.dropped) == (
        "disconnected", NOW - 3600, 0)
    text = format_status(status, now=NOW)
    assert "queued:        5 readings" in text
    assert "oldest queued: 2023-11-14 20:13:20 UTC (2.0 h ago)" in text
    assert "last publish:  2023-11-14 21:13:20 UTC (1.0 h ago)" in text


def test_a_stale_state_means_not_running(tmp_path: Path) -> None:
    assert read_status(_outbox(tmp_path), now=NOW + 600).connection == "not running"


def test_status_command_reads_the_outbox_the_config_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _outbox(tmp_path)
    config = tmp_path / "agent.toml"
    config.write_text('[agent]\nid = "gw-1"\ntenant = "t"\n[buffer]\npath = "outbox.db"\n'
                      '[[assets]]\nid = "zone-a"\nkind = "warehouse_zone"\ncapacity = 10\n')
    assert main(["status", "--config", str(config), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["queued"] == 5 and shown["dropped"] == 0 and shown["agent"] == "gw-1"


def test_status_without_an_outbox_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no outbox at"):
        read_status(tmp_path / "none.db")
