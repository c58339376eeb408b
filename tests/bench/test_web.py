"""``python -m bench web`` runs end to end in Debian's chromium and prints both views' times."""

from __future__ import annotations

import re

import pytest

from bench.web import run


def test_the_web_benchmark_times_both_views(capsys: pytest.CaptureFixture[str]) -> None:
    run(rounds=1)
    out = capsys.readouterr().out
    times = re.findall(r"^  (7|30) days, hourly .*?(\d+) ms", out, re.MULTILINE)
    assert [view for view, _ in times] == ["7", "30"], out
    assert all(int(ms) > 0 for _, ms in times)
