"""Ping statistics in constant memory: counts and round-trip times, no rounding.

RTTs arrive as integer microseconds, exactly what two pcap timestamps (microsecond
resolution) differ by.  Nothing is kept per reply: iputils' own accumulators (sum, sum of
squares, min, max, the smoothed ``ewma``) give min/avg/max/mdev exactly as it prints them,
and a fixed-size histogram (``RttHistogram``, 1.6% resolution) gives p50/p90/p99; jitter is
the mean absolute difference between consecutive RTTs.  ``report/ping.py`` rounds.
Counting follows iputils ping:

- a duplicate reply is not "received" but its RTT enters the averages;
- a corrupted reply (bad ICMP checksum) or error is counted as corrupted only;
- ``pipe`` is the largest number of requests outstanding when an answer came back.
"""

from __future__ import annotations

import math
from array import array


class RttHistogram:
    """Log-linear buckets over microseconds: exact below 128 µs, then 64 per octave.

    Any value maps to one of a fixed number of counters (about 2,200 up to 2**37 µs),
    so memory does not grow with the number of replies; a percentile comes back as the
    middle of its bucket, within 1/128 of the true value.
    """

    SUB = 64
    EXACT = 2 * SUB

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = array("Q", bytes(8 * (self.EXACT + 32 * self.SUB)))
        self.total = 0

    def index(self, us: int) -> int:
        if us < self.EXACT:
            return max(us, 0)
        shift = us.bit_length() - 7  # keeps 7 significant bits: 64..127
        return self.EXACT + (shift - 1) * self.SUB + ((us >> shift) - self.SUB)

    def bounds(self, index: int) -> tuple[int, int]:
        """The [low, high) microseconds of a bucket."""
        if index < self.EXACT:
            return index, index + 1
        shift, sub = divmod(index - self.EXACT, self.SUB)
        shift += 1
        low = (sub + self.SUB) << shift
        return low, low + (1 << shift)

    def slot(self, us: int) -> int:
        """``index``, clamped to the counters there are."""
        return min(max(self.index(us), 0), len(self.counts) - 1)

    def add(self, us: int) -> None:
        self.counts[self.slot(us)] += 1
        self.total += 1

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0 < q <= 100) in microseconds, or None when empty."""
        if not self.total:
            return None
        rank = max(1, math.ceil(q / 100.0 * self.total))
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                low, high = self.bounds(i)
                return low if high - low == 1 else (low + high) / 2
        return None  # not reached


class PingStats:
    """Counters and RTT accumulators of one ping run."""

    __slots__ = ("transmitted", "received", "duplicates", "corrupted", "errors",
                 "timed", "tsum", "tsum2", "tmin", "tmax", "rtt8", "histogram",
                 "jitter_sum", "last_rtt", "pipesize", "first_send", "last_send")

    def __init__(self) -> None:
        self.transmitted = 0
        self.received = 0
        self.duplicates = 0
        self.corrupted = 0
        self.errors = 0
        self.timed = 0  # replies with an RTT (good checksum, duplicates included)
        self.tsum = 0
        self.tsum2 = 0
        self.tmin = 0
        self.tmax = 0
        self.rtt8 = 0  # iputils' smoothed RTT, times 8
        self.histogram = RttHistogram()
        self.jitter_sum = 0
        self.last_rtt: int | None = None
        self.pipesize = 0
        self.first_send: float | None = None  # clock of the first and last request (s)
        self.last_send: float | None = None

    # --- recording ---
    def sent(self, now: float) -> None:
        self.transmitted += 1
        if self.first_send is None:
            self.first_send = now
        self.last_send = now

    def _acknowledge(self, seq: int) -> None:
        diff = (self.transmitted - seq) & 0xFFFF
        if diff <= 0x7FFF and diff + 1 > self.pipesize:
            self.pipesize = diff + 1

    def rtt(self, us: int) -> None:
        """One measured round trip (iputils' gather_statistics accumulators)."""
        if self.timed:
            if us < self.tmin:
                self.tmin = us
            if us > self.tmax:
                self.tmax = us
            self.jitter_sum += abs(us - self.last_rtt)  # type: ignore[operator]
        else:
            self.tmin = self.tmax = us
        self.timed += 1
        self.tsum += us
        self.tsum2 += us * us
        self.rtt8 = us * 8 if not self.rtt8 else self.rtt8 + us - self.rtt8 // 8
        self.last_rtt = us
        h = self.histogram
        h.counts[us if 0 <= us < h.EXACT else h.slot(us)] += 1
        h.total += 1

    def reply(self, seq: int, rtt_us: int | None, duplicate: bool) -> None:
        """A reply with a good checksum (``duplicate``: its seq was answered before)."""
        self._acknowledge(seq)
        if rtt_us is not None:
            self.rtt(rtt_us)
        if duplicate:
            self.duplicates += 1
        else:
            self.received += 1

    def corrupt(self) -> None:
        """A reply or error whose ICMP checksum is wrong."""
        self.corrupted += 1

    def error(self, seq: int | None) -> None:
        """An ICMP error (or a local failure) about one of our requests."""
        if seq is not None:
            self._acknowledge(seq)
        self.errors += 1

    # --- derived values (exact; report/ping.py rounds) ---
    @property
    def loss_pct(self) -> float:
        if not self.transmitted:
            return 0.0
        return (self.transmitted - self.received) * 100.0 / self.transmitted

    @property
    def time_s(self) -> float:
        """From the first request to the last one, as iputils' "time Nms"."""
        if self.first_send is None or self.last_send is None:
            return 0.0
        return self.last_send - self.first_send

    @property
    def rtt_min_ms(self) -> float | None:
        return self.tmin / 1000.0 if self.timed else None

    @property
    def rtt_max_ms(self) -> float | None:
        return self.tmax / 1000.0 if self.timed else None

    @property
    def rtt_avg_ms(self) -> float | None:
        return self.tsum / self.timed / 1000.0 if self.timed else None

    @property
    def rtt_mdev_ms(self) -> float | None:
        """The population deviation, sqrt(mean(rtt^2) - mean(rtt)^2), from exact integer
        sums (no cancellation however close together the RTTs are)."""
        n = self.timed
        if not n:
            return None
        var_n2 = self.tsum2 * n - self.tsum * self.tsum  # n^2 times the variance, exact
        return math.sqrt(max(var_n2, 0)) / n / 1000.0

    def percentile_ms(self, q: float) -> float | None:
        us = self.histogram.percentile(q)
        return None if us is None else us / 1000.0

    @property
    def jitter_ms(self) -> float | None:
        """Mean absolute difference between consecutive RTTs."""
        if self.timed < 2:
            return None
        return self.jitter_sum / (self.timed - 1) / 1000.0

    def exit_status(self, count: int | None, deadline: bool) -> int:
        """ping's rule: 0 with a reply, 1 without (or short of ``count`` by a deadline)."""
        if not self.received:
            return 1
        if deadline and count is not None and self.received < count:
            return 1
        return 0
