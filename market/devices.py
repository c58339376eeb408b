"""Device credentials for Mosquitto: a password-file entry and ACL lines per device.

The ACL lets a device publish only its own assets' readings and its own agent status topic,
under its own tenant, and read only its own storage receipts. The ingest service account reads
everything and writes only receipts and dead letters. Mosquitto reads both files at start and
on SIGHUP.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from idleshare.assets import check_id
from idleshare.errors import ConfigError
from idleshare.wire import (
    DEADLETTER_TOPIC,
    RECEIPTS,
    ROOT,
    readings_topic,
    receipts_topic,
    status_topic,
)

MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def username(tenant: str, device: str) -> str:
    """Broker user names are global, so the tenant is part of them."""
    return f"{tenant}.{device}"


def acl_lines(tenant: str, device: str, assets: Sequence[str]) -> list[str]:
    lines = [f"user {username(tenant, device)}"]
    lines += [f"topic write {readings_topic(tenant, a)}" for a in assets]
    lines.append(f"topic write {status_topic(tenant, device)}")
    lines.append(f"topic read {receipts_topic(tenant, device)}")
    return lines


def reader_acl_lines(user: str) -> list[str]:
    """For ingest (and operators): read everything under the root; write storage receipts
    to agents and dead letters, nothing else (no readings, no statuses)."""
    return [f"user {user}", f"topic read {ROOT}/#", f"topic write {ROOT}/+/agents/+/{RECEIPTS}",
            f"topic write {DEADLETTER_TOPIC}"]


def add_device(
    password_file: Path,
    acl_file: Path,
    tenant: str,
    device: str,
    assets: Sequence[str],
    password: str | None = None,
    reader: bool = False,
) -> tuple[str, str]:
    """Add (or replace) a device's password and append its ACL block; returns (user,
    password). ``reader`` makes a read-all service account instead of a device."""
    check_id("tenant", tenant)
    check_id("device", device)
    if not reader and not assets:
        raise ConfigError("asset: a device needs at least one asset it may publish for")
    for a in assets:
        check_id("asset id", a)
    user = username(tenant, device)
    password = password or secrets.token_urlsafe(18)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [MOSQUITTO_PASSWD, "-b", str(password_file), user, password]
    if not password_file.exists():
        argv.insert(1, "-c")
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)
    except FileNotFoundError as err:
        raise ConfigError(
            f"mosquitto_passwd not found at {MOSQUITTO_PASSWD}: install mosquitto"
        ) from err
    except subprocess.CalledProcessError as err:
        raise ConfigError(f"mosquitto_passwd failed: {err.stderr.strip()}") from err
    block = reader_acl_lines(user) if reader else acl_lines(tenant, device, assets)
    existing = acl_file.read_text() if acl_file.exists() else ""
    acl_file.write_text(_without_user(existing, user) + "\n".join(block) + "\n\n")
    return user, password


def _without_user(text: str, user: str) -> str:
    """The ACL file minus the block of ``user`` (so re-adding a device replaces it)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("user "):
            skipping = line.split(maxsplit=1)[1].strip() == user
        if not skipping:
            out.append(line)
    body = "\n".join(out).strip()
    return body + "\n\n" if body else ""
