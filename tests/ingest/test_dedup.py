"""Repeat detection by (tenant, agent) and sequence number."""

from __future__ import annotations

from ingest.dedup import Dedup

A = ("acme", "agent-1")


def test_a_number_is_new_then_pending_then_stored() -> None:
    d = Dedup()
    assert d.state(A, 5) == "new"
    d.pending(A, 5)
    assert d.state(A, 5) == "pending"
    d.stored(A, 5)
    assert d.state(A, 5) == "stored"


def test_claiming_a_new_number_makes_it_pending_in_one_step() -> None:
    d = Dedup()
    assert [d.claim(A, 5), d.claim(A, 5)] == ["new", "pending"]
    d.stored(A, 5)
    assert d.claim(A, 5) == "stored"


def test_numbers_arriving_out_of_order_are_each_new_once() -> None:
    d = Dedup()
    for seq in (3, 1, 2):
        assert d.state(A, seq) == "new"
        d.stored(A, seq)
    assert [d.state(A, s) for s in (1, 2, 3, 4)] == ["stored", "stored", "stored", "new"]


def test_agents_and_tenants_are_counted_apart() -> None:
    d = Dedup()
    d.stored(A, 1)
    assert d.state(("acme", "agent-2"), 1) == "new"
    assert d.state(("other", "agent-1"), 1) == "new"


def test_memory_per_agent_is_bounded_by_the_window_and_old_numbers_stay_known() -> None:
    d = Dedup(window=8)
    for seq in range(100):
        d.stored(A, seq)
    window = d._agents[A]
    assert len(window.recent) == 8 and window.floor == 91
    assert d.state(A, 0) == "stored" and d.state(A, 100) == "new"


def test_the_number_of_agents_is_bounded() -> None:
    d = Dedup(max_agents=2)
    for agent in ("a", "b", "c"):
        d.stored(("t", agent), 1)
    assert len(d._agents) == 2
    assert d.state(("t", "a"), 1) == "new"  # forgotten: at worst a rewrite of the same points


def test_a_restart_forgets_stored_numbers_but_not_pending_ones() -> None:
    d = Dedup()
    d.stored(A, 7)
    d.pending(A, 8)
    d.restart(A)
    assert (d.state(A, 7), d.state(A, 8)) == ("new", "pending")
