"""``idleshare agent status``: what an agent's outbox says about it, read while it runs.

The running agent records its state in the outbox file every few seconds (see
:meth:`edge_agent.outbox.Outbox.set_state`); this module only reads that file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from idleshare.errors import StoreError

#: A state older than this means the agent stopped writing it: not running.
STALE_S = 30.0


@dataclass(frozen=True)
class AgentStatus:
    outbox: str
    agent: str
    #: Measurements waiting for the broker, and the time of the oldest one.
    queued: int
    oldest_queued: float | None
    dropped: int
    last_publish: float | None
    #: "connected", "disconnected" (running, broker unreachable) or "not running".
    connection: str
    state_updated: float | None
    outbox_bytes: int


def read_status(path: str | Path, now: float | None = None) -> AgentStatus:
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no outbox at {path}: has the agent run with this config?")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            queued, oldest = db.execute("SELECT COUNT(*), MIN(time) FROM outbox").fetchone()
        finally:
            db.close()
    except sqlite3.Error as err:
        raise StoreError(f"outbox {path} cannot be read: {err}") from err
    state = {k[6:]: json.loads(v) for k, v in meta.items() if k.startswith("state.")}
    updated = state.get("updated")
    now = time.time() if now is None else now
    alive = (state.get("running") and updated is not None and now - updated < STALE_S
             and _pid_alive(state.get("pid")))
    connection = "not running"
    if alive:
        connection = "connected" if state.get("connected") else "disconnected"
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return AgentStatus(
        outbox=str(path), agent=str(meta.get("agent", "")), queued=int(queued),
        oldest_queued=oldest, dropped=int(meta.get("dropped", 0)),
        last_publish=state.get("last_publish"), connection=connection,
        state_updated=updated, outbox_bytes=size)


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def _when(t: float | None, now: float) -> str:
    if t is None:
        return "never"
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{stamp} ({_ago(now - t)} ago)"


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{max(seconds, 0):.0f} s"


def format_status(status: AgentStatus, now: float | None = None) -> str:
    now = time.time() if now is None else now
    rows = [
        ("agent", status.agent),
        ("connection", status.connection),
        ("queued", f"{status.queued} readings"),
        ("oldest queued", _when(status.oldest_queued, now)),
        ("last publish", _when(status.last_publish, now)),
        ("dropped", f"{status.dropped} readings (disk budget)"),
        ("outbox", f"{status.outbox} ({status.outbox_bytes / 2**20:.1f} MB)"),
    ]
    return "\n".join(f"{k + ':':<15}{v}" for k, v in rows)


def status_json(status: AgentStatus) -> str:
    return json.dumps(asdict(status), indent=2)
