"""A throw-away PostgreSQL server on a free loopback port (Debian's ``postgresql``), for the
tests, the benchmarks and a local cluster drill.

``initdb`` and ``pg_ctl`` refuse to run as root, so when this process is root they run as the
``postgres`` user the Debian package creates (``runuser``), in a folder that user owns. Trust
authentication on loopback only: this server holds test data and never leaves the machine.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shell.localservers import free_port, wait_for_port

RUN_AS = "postgres"


def postgres_bin(name: str) -> str:
    """The newest installed PostgreSQL's ``name`` (initdb, pg_ctl, postgres)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(f"{name} not found: install Debian's postgresql package")
    return on_path


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in its own folder; ``url()`` names a database in it."""

    datadir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{RUN_AS if os.geteuid() == 0 else _me()}@127.0.0.1:" \
               f"{self.port}/{database}"

    def start(self) -> None:
        subprocess.run(
            _as_owner([postgres_bin("pg_ctl"), "-D", str(self.datadir), "-l",
                       str(self.datadir / "server.log"), "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """``mode``: smart, fast or immediate (immediate is a crash: no checkpoint)."""
        subprocess.run(_as_owner([postgres_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode,
                                  "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def create_database(self, name: str) -> str:
        """Create database ``name`` (a fresh one per test keeps tests apart) and return its
        SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, dbname="postgres",
                             user=RUN_AS if os.geteuid() == 0 else _me(),
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _me() -> str:
    import getpass

    return getpass.getuser()


def start_postgres() -> PostgresServer:
    """initdb in a new folder under the system temp dir (which the ``postgres`` user can reach,
    unlike pytest's per-user 0700 folders), then start on a free port."""
    top = Path(tempfile.mkdtemp(prefix="idleshare-pg-"))
    datadir = top / "data"
    if os.geteuid() == 0:
        shutil.chown(top, RUN_AS)
        top.chmod(0o755)
    subprocess.run(_as_owner([postgres_bin("initdb"), "-D", str(datadir), "-A", "trust",
                              "-U", RUN_AS if os.geteuid() == 0 else _me(), "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = free_port()
    with open(datadir / "postgresql.conf", "a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{datadir}'\n"
            # Test data: durability is not what these servers are for, speed is.
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 200\nshared_buffers = 64MB\n"
        )
    server = PostgresServer(datadir, port)
    server.start()
    return server
