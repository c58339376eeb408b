"""The agent runs on a Raspberry Pi: it must not pull in any server-side dependency."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED_IDLESHARE = {"idleshare", "idleshare.errors", "idleshare.assets", "idleshare.wire",
                     "idleshare.urls", "idleshare.materials"}
FORBIDDEN = {"pydantic", "numpy", "sklearn", "fastapi", "typer", "influxdb_client",
             "sqlalchemy", "storage", "ingest", "analytics", "api"}


def test_edge_agent_imports_only_stdlib_paho_and_the_idleshare_core() -> None:
    code = (
        "import json, sys, pkgutil, importlib, edge_agent\n"
        "for m in pkgutil.walk_packages(edge_agent.__path__, 'edge_agent.'):\n"
        "    if m.name != 'edge_agent.__main__': importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(json.loads(out.stdout))
    assert "edge_agent.sources.replay" in modules and "paho.mqtt.client" in modules
    roots = {m.split(".")[0] for m in modules}
    assert not roots & FORBIDDEN
    assert {m for m in modules if m.split(".")[0] == "idleshare"} <= ALLOWED_IDLESHARE
