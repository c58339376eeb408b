"""Device credentials for Mosquitto: a password-file entry and ACL lines per device.

The ACL lets a device publish only its own assets' readings and its own agent status topic,
under its own tenant, and read only its own storage receipts. The ingest service account reads
everything and writes only receipts and dead letters. Mosquitto reads both files at start and
on SIGHUP.

Broker user names are ``<tenant>/<device>``: ids never contain ``/`` (``ID_PATTERN``), so two
devices cannot share a user name. idleshare before this wrote ``<tenant>.<device>``, which
collided for dotted ids (``a.b`` + ``c`` and ``a`` + ``b.c``); such entries keep working until
their device is added again, which removes the old entry (only when its ACL block is that
device's) so a device is never left with two valid passwords.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

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
#: Not in ``ID_PATTERN``, accepted by Mosquitto in password files and ACL ``user`` lines
#: (``:`` is refused by mosquitto_passwd, it ends the name in the password file).
SEPARATOR = "/"


def username(tenant: str, device: str) -> str:
    """Broker user names are global, so the tenant is part of them."""
    return f"{tenant}{SEPARATOR}{device}"


def legacy_username(tenant: str, device: str) -> str:
    """The name idleshare wrote before ``/``: ambiguous when an id holds a dot."""
    return f"{tenant}.{device}"


def url_username(user: str) -> str:
    """The user as it must appear in an ``mqtt://user:pass@host`` URL (``/`` as ``%2F``)."""
    return quote(user, safe="")


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
    """Add (or replace) a device's password and ACL block; returns (user, password).
    ``reader`` makes a read-all service account instead of a device. The device's entry
    under the old ``<tenant>.<device>`` name, if any, is removed."""
    check_id("tenant", tenant)
    check_id("device", device)
    if not reader and not assets:
        raise ConfigError("asset: a device needs at least one asset it may publish for")
    for a in assets:
        check_id("asset id", a)
    user = username(tenant, device)
    password = password or secrets.token_urlsafe(18)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    existing = acl_file.read_text() if acl_file.exists() else ""
    legacy = legacy_username(tenant, device)
    block_of_legacy = _block(existing, legacy)
    owns_legacy = block_of_legacy is not None and (
        _is_reader_block(block_of_legacy) if reader
        else f"topic write {status_topic(tenant, device)}" in block_of_legacy
    )
    _passwd("-b", password_file, user, password, create=not password_file.exists())
    if owns_legacy:
        _passwd("-D", password_file, legacy)
        existing = _without_user(existing, legacy)
    block = reader_acl_lines(user) if reader else acl_lines(tenant, device, assets)
    acl_file.write_text(_without_user(existing, user) + "\n".join(block) + "\n\n")
    return user, password


def _passwd(flag: str, password_file: Path, *args: str, create: bool = False) -> None:
    argv = [MOSQUITTO_PASSWD, *(["-c"] if create else []), flag, str(password_file), *args]
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)
    except FileNotFoundError as err:
        raise ConfigError(
            f"mosquitto_passwd not found at {MOSQUITTO_PASSWD}: install mosquitto"
        ) from err
    except subprocess.CalledProcessError as err:
        raise ConfigError(f"mosquitto_passwd failed: {err.stderr.strip()}") from err


def _is_reader_block(lines: list[str]) -> bool:
    return f"topic read {ROOT}/#" in lines


def _block(text: str, user: str) -> list[str] | None:
    """The stripped lines of ``user``'s block as Mosquitto reads it (up to the next ``user``
    line), or None."""
    found: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("user "):
            if found is not None:
                return found
            if line.split(maxsplit=1)[1].strip() == user:
                found = []
        if found is not None:
            found.append(line.strip())
    return found


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
