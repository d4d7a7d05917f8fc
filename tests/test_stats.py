"""PingStats: iputils counting rules, exact values (report/ping.py rounds)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from pcapping.probe.stats import PingStats


def test_counts_and_loss() -> None:
    s = PingStats()
    for i in range(1, 6):
        s.sent(float(i))
    s.reply(1, 91, False)
    s.reply(1, 95, True)  # duplicate: not received, RTT still averaged (iputils)
    s.reply(5, 88, False)
    s.error(2)
    s.corrupt()
    assert (s.transmitted, s.received, s.duplicates, s.errors, s.corrupted) == (5, 2, 1, 1, 1)
    assert s.loss_pct == 60.0
    assert s.rtts_us == [91, 95, 88]
    assert s.rtt_min_ms == 0.088 and s.rtt_max_ms == 0.095
    assert math.isclose(s.rtt_avg_ms or 0, (91 + 95 + 88) / 3 / 1000)
    assert s.time_s == 4.0


def test_pipe_is_most_outstanding_at_an_answer() -> None:
    s = PingStats()
    for i in range(6):
        s.sent(float(i))
    s.error(1)  # six sent, answer for the first: six in flight
    assert s.pipesize == 6


def test_empty() -> None:
    s = PingStats()
    assert s.loss_pct == 0.0
    assert s.rtt_min_ms is None and s.rtt_mdev_ms is None
    assert s.exit_status(None, False) == 1


def test_exit_status_rules() -> None:
    s = PingStats()
    s.sent(0.0)
    s.sent(1.0)
    s.reply(1, 50, False)
    assert s.exit_status(2, deadline=False) == 0
    assert s.exit_status(2, deadline=True) == 1  # fewer than -c by the -w deadline
    assert s.exit_status(1, deadline=True) == 0


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=50))
def test_mdev_is_population_deviation(rtts: list[int]) -> None:
    s = PingStats()
    for i, r in enumerate(rtts):
        s.sent(float(i))
        s.reply(i + 1, r, False)
    mean = sum(rtts) / len(rtts)
    expected = math.sqrt(sum((r - mean) ** 2 for r in rtts) / len(rtts)) / 1000
    assert math.isclose(s.rtt_mdev_ms or 0.0, expected, rel_tol=1e-6, abs_tol=1e-6)
