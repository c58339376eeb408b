"""Several API server processes on one port, each with its own listening socket.

uvicorn's own ``--workers`` shares one socket between the processes, and whichever process
wakes first accepts a whole burst of new connections: measured, 29 of a load generator's 32
keep-alive connections landed in one of two workers, which then did nearly all the work.
Here every worker binds the port itself with ``SO_REUSEPORT``, so the kernel spreads
connections over the workers by their addresses. Each worker builds the app with
``app_from_env`` (its own stores, from the ``IDLESHARE_*`` settings).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

#: A worker that dies sooner than this after starting is not restarted: it would only die again
#: (port taken, bad settings), so the whole server stops with an error instead.
MIN_LIFETIME_S = 5.0


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, log_level: str, access_log: bool) -> None:
    import uvicorn

    from shell import logs

    # A spawned worker starts with no log handlers: the same format as the parent's.
    logs.setup()
    if log_level in ("error", "critical"):
        logging.disable(logging.WARNING)
    config = uvicorn.Config(
        "shell.workers:app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        log_config=logs.uvicorn_log_config(),
    )
    uvicorn.Server(config).run(sockets=[_listen(host, port)])


def serve(
    host: str, port: int, workers: int, log_level: str = "info", access_log: bool = True
) -> None:
    """Run ``workers`` server processes until SIGTERM or SIGINT; a worker that dies is
    restarted. Raises RuntimeError if a worker dies right after starting."""
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no forked threads or locks
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    args = (host, port, log_level, access_log)
    procs: list[tuple[Any, float]] = []
    try:
        for _ in range(workers):
            proc = ctx.Process(target=_worker, args=args, name="idleshare-api", daemon=True)
            proc.start()
            procs.append((proc, time.monotonic()))
        while not stop.wait(0.5):
            for i, (proc, started) in enumerate(procs):
                if proc.is_alive():
                    continue
                if time.monotonic() - started < MIN_LIFETIME_S:
                    raise RuntimeError(
                        f"API worker exited with code {proc.exitcode} right after starting "
                        f"(see its error above: is port {port} taken?)"
                    )
                log.warning(
                    "API worker %s exited with code %s: restarting", proc.pid, proc.exitcode
                )
                proc = ctx.Process(target=_worker, args=args, name="idleshare-api", daemon=True)
                proc.start()
                procs[i] = (proc, time.monotonic())
    finally:
        for proc, _ in procs:
            proc.terminate()  # SIGTERM: uvicorn shuts down gracefully, the app closes its stores
        for proc, _ in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def app_from_env() -> Any:
    """The app over the stores the ``IDLESHARE_*`` settings name, opened in the calling
    process and closed when the app stops, without a dispatcher thread: the factory each
    worker process of ``idleshare api --workers N`` calls."""
    from api.main import create_app
    from shell.settings import load_settings
    from shell.stores import make_data_dir, open_reading_store
    from storage.catalog import Catalog

    settings = load_settings()
    make_data_dir(settings)
    store, catalog = open_reading_store(settings), Catalog(settings.catalog)
    return create_app(catalog, store, dispatch_interval_s=None, close_stores=True)
