"""Ping statistics: raw counts and round-trip times, no rounding, no formatting.

RTTs are kept as integer microseconds, exactly what two pcap timestamps (microsecond
resolution) differ by, and in arrival order (``report/ping.py`` derives iputils' integer
min/avg/max/mdev and ewma from them).  Counting follows iputils ping:

- a duplicate reply is not "received" but its RTT enters the averages;
- a corrupted reply (bad ICMP checksum) or error is counted as corrupted only;
- ``pipe`` is the largest number of requests outstanding when an answer came back.
"""

from __future__ import annotations

import math


class PingStats:
    """Counters and RTTs of one ping run."""

    __slots__ = ("transmitted", "received", "duplicates", "corrupted", "errors", "rtts_us",
                 "pipesize", "first_send", "last_send")

    def __init__(self) -> None:
        self.transmitted = 0
        self.received = 0
        self.duplicates = 0
        self.corrupted = 0
        self.errors = 0
        self.rtts_us: list[int] = []  # replies with a good checksum, duplicates included
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

    def reply(self, seq: int, rtt_us: int | None, duplicate: bool) -> None:
        """A reply with a good checksum (``duplicate``: its seq was answered before)."""
        self._acknowledge(seq)
        if rtt_us is not None:
            self.rtts_us.append(rtt_us)
        if duplicate:
            self.duplicates += 1
        else:
            self.received += 1

    def corrupt(self) -> None:
        """A reply or error whose ICMP checksum is wrong."""
        self.corrupted += 1

    def error(self, seq: int) -> None:
        """An ICMP error (or a local ARP failure) about one of our requests."""
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
        return min(self.rtts_us) / 1000.0 if self.rtts_us else None

    @property
    def rtt_max_ms(self) -> float | None:
        return max(self.rtts_us) / 1000.0 if self.rtts_us else None

    @property
    def rtt_avg_ms(self) -> float | None:
        if not self.rtts_us:
            return None
        return sum(self.rtts_us) / len(self.rtts_us) / 1000.0

    @property
    def rtt_mdev_ms(self) -> float | None:
        """iputils' mdev: sqrt(mean(rtt^2) - mean(rtt)^2), the population deviation."""
        n = len(self.rtts_us)
        if not n:
            return None
        mean = sum(self.rtts_us) / n
        var = sum(r * r for r in self.rtts_us) / n - mean * mean
        return math.sqrt(max(var, 0.0)) / 1000.0

    def exit_status(self, count: int | None, deadline: bool) -> int:
        """ping's rule: 0 with a reply, 1 without (or short of ``count`` by a deadline)."""
        if not self.received:
            return 1
        if deadline and count is not None and self.received < count:
            return 1
        return 0
