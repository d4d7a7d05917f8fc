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
    assert (s.timed, s.tsum, s.tsum2) == (3, 91 + 95 + 88, 91**2 + 95**2 + 88**2)
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


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=300))
def test_histogram_percentiles_within_bucket_resolution(rtts: list[int]) -> None:
    s = PingStats()
    for r in rtts:
        s.rtt(r)
    ordered = sorted(rtts)
    for q in (50, 90, 99, 100):
        exact = ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]
        got = s.histogram.percentile(q)
        assert got is not None
        assert abs(got - exact) <= max(1, exact / 64), (q, exact, got)


def test_memory_is_constant_with_the_count() -> None:
    s = PingStats()
    size = len(s.histogram.counts)
    for r in range(0, 10**8, 997):
        s.rtt(r)
    assert len(s.histogram.counts) == size and s.histogram.total == s.timed


def test_jitter_is_mean_absolute_difference() -> None:
    s = PingStats()
    for r in (100, 150, 120, 180):
        s.rtt(r)
    assert s.jitter_ms == (50 + 30 + 60) / 3 / 1000
    assert PingStats().jitter_ms is None


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=100))
def test_ewma_is_iputils_recurrence(rtts: list[int]) -> None:
    s = PingStats()
    rtt = 0
    for t in rtts:
        s.rtt(t)
        rtt = t * 8 if not rtt else rtt + t - rtt // 8
    assert s.rtt8 == rtt
