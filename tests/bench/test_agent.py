"""The agent benchmark runs end to end at a tiny scale and prints every figure."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.servers


def test_bench_prints_memory_cpu_and_a_receipted_drain_against_raw_paho() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "agent", "--assets", "2",
         "--seconds", "1", "--warmup", "1", "--backlog", "2000"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    for figure in ("RSS", "CPU", "% of one core", "2,000 queued readings", "agent peak RSS",
                   "drain with receipts", "receipted and deleted",
                   "raw paho publisher"):
        assert figure in out, out
