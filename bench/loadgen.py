"""A small HTTP/1.1 load generator, run as its own process by ``python -m bench api``.

Open loop (``--rate``): request i is due at ``start + i / rate`` whatever happened before, and
its latency counts from when it was due, so a stalled server shows up in the figures instead of
slowing the generator down (no coordinated omission). Closed loop (no ``--rate``): each
connection sends its next request as soon as the last one answered, which measures the most
the server can do. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def _raw(host: str, path: str, headers: list[str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def run(
    url: str,
    paths: list[str],
    headers: list[str],
    duration: float,
    rate: float | None,
    connections: int,
) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raws = [_raw(f"{host}:{port}", p, headers) for p in paths]
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    errors = 0
    began, cpu_began = time.perf_counter(), time.process_time()

    async def one(i: int, due: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await _request(*conn, raws[i % len(raws)])
            if status != 200:
                errors += 1
            latencies.append(time.perf_counter() - due)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            conn = await asyncio.open_connection(host, port)
        finally:
            pool.put_nowait(conn)

    if rate:
        tasks = []
        n = int(duration * rate)
        for i in range(n):
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
    else:
        stop = began + duration
        counter = iter(range(10**12))

        async def worker() -> None:
            while time.perf_counter() < stop:
                await one(next(counter), time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    cpu_s = time.process_time() - cpu_began
    while not pool.empty():
        _, writer = pool.get_nowait()
        writer.close()
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000 if latencies else 0.0
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(pct(1.0), 2),
        # The generator's own CPU time: on a small machine it competes with the server.
        "generator_cpu_s": round(cpu_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True, help="http://host:port")
    ap.add_argument("--path", action="append", required=True, help="request paths, rotated")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=None, help="requests/s; omit for closed loop")
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args()
    try:  # uvloop, when installed (uvicorn[standard]): less of the shared CPU for the generator
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run(a.url, a.path, a.header, a.duration, a.rate, a.connections))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
