"""The client is what a platform installs: importing it loads httpx and the standard
library, none of the server (fastapi, sqlalchemy, pydantic, the idleshare server packages)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SERVER = {"fastapi", "starlette", "sqlalchemy", "pydantic", "uvicorn", "alembic", "api",
          "market", "storage", "analytics", "ingest", "shell", "edge_agent", "idleshare"}


def test_importing_the_client_loads_no_server_module() -> None:
    code = ("import json, sys, idleshare_client\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60, cwd=Path(__file__).parents[2]).stdout
    loaded = set(json.loads(out))
    assert "httpx" in loaded and "idleshare_client" in loaded
    assert loaded & SERVER == set()
