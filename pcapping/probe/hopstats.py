"""Per-hop statistics of a trace, and the verdicts drawn from them.

``HopStats`` keeps, for one TTL, what was sent and what came back: counts, RTTs in
integer microseconds (wire time at both ends), who answered, which quoted fields were
modified, annotations, extensions, and the send/answer times the rate-limit verdict
needs.  Everything is exact for the sample sizes a trace has (RTTs are kept up to
``KEEP`` per hop; beyond that a ``RttHistogram`` takes over for the percentiles).

``verdicts(hops)`` decides, for every hop, whether missing answers are loss:

- a hop that answers some probes while a later hop answered every probe it was sent
  is **rate-limiting**, not losing: the probes that expired there were forwarded as
  well as the later hop's (they are the same path), only the router's answers are
  missing.  Its ``loss_pct`` is then what the path can have lost there (the smallest
  loss of any later hop: 0 when a later hop answered all), and ``unanswered`` keeps
  the count.  The reason is said from the timing, when it shows the shape of a token
  bucket: "a burst of 6, then about one per second" (Linux: ``icmp_ratelimit`` 1000
  ms, a burst of 6), "a burst of 6, then about one every 100 ms" (Linux's IPv6
  limiter, whose interval shrinks with the route's prefix length), or "about one per
  second" / "about one every N ms" (answers spaced that far apart while probes went
  faster);
- a hop that answers nothing while later hops answer is **silent** (it never sends
  Time Exceeded); its loss stays 100%, as mtr shows it, with ``silent`` set;
- anything else is loss as measured.
"""

from __future__ import annotations

import math
from typing import Any

from pcapping.probe.stats import RttHistogram

KEEP = 65536  # RTTs kept exactly per hop
ONE_PER_SECOND = 0.8  # answers at least this far apart look like one per second (s)


class HopStats:
    """What one TTL saw (see the module docstring)."""

    __slots__ = ("ttl", "sent", "received", "rtts", "hist", "addresses", "last_us",
                 "jitter_us", "jitter_max_us", "jitter_sum_us", "jitter_n", "timeline",
                 "modified", "annotations", "extensions", "final", "late", "tsum",
                 "tsum2", "tmin", "tmax", "timed", "latest")

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.sent = 0
        self.received = 0
        self.rtts: list[int] = []
        self.hist: RttHistogram | None = None
        self.addresses: dict[bytes, int] = {}  # who answered, first seen first
        self.latest: bytes | None = None  # who answered last (mtr's row address)
        self.last_us: int | None = None
        self.jitter_us: int | None = None  # |last - previous|, mtr's "Jttr"
        self.jitter_max_us = 0
        self.jitter_sum_us = 0
        self.jitter_n = 0
        self.timeline: list[tuple[float, float | None]] = []  # (sent at, answered at)
        self.modified: dict[str, int] = {}
        self.annotations: dict[str, int] = {}
        self.extensions: dict[str, int] = {}
        self.final = 0  # answers from the destination (or a final error)
        self.late = 0  # answers that came after their probe had expired
        self.tsum = 0
        self.tsum2 = 0
        self.tmin = 0
        self.tmax = 0
        self.timed = 0

    def probe_sent(self) -> None:
        self.sent += 1

    def answered(self, src: bytes | None, rtt_us: int | None, sent_at: float,
                 answered_at: float | None, modified: list[str], annotation: str | None,
                 extension: str | None, final: bool) -> None:
        """One probe's outcome (``src`` None: no answer)."""
        if len(self.timeline) < KEEP:
            self.timeline.append((sent_at, answered_at if src is not None else None))
        if src is None:
            return
        self.received += 1
        self.addresses[src] = self.addresses.get(src, 0) + 1
        self.latest = src
        if final:
            self.final += 1
        for name in modified:
            self.modified[name] = self.modified.get(name, 0) + 1
        if annotation:
            self.annotations[annotation] = self.annotations.get(annotation, 0) + 1
        if extension:
            self.extensions[extension] = self.extensions.get(extension, 0) + 1
        if rtt_us is None:
            return
        if self.last_us is not None:
            j = abs(rtt_us - self.last_us)
            self.jitter_us = j
            self.jitter_max_us = max(self.jitter_max_us, j)
            self.jitter_sum_us += j
            self.jitter_n += 1
        self.last_us = rtt_us
        if self.timed:
            self.tmin = min(self.tmin, rtt_us)
            self.tmax = max(self.tmax, rtt_us)
        else:
            self.tmin = self.tmax = rtt_us
        self.timed += 1
        self.tsum += rtt_us
        self.tsum2 += rtt_us * rtt_us
        if len(self.rtts) < KEEP:
            self.rtts.append(rtt_us)
        else:
            if self.hist is None:
                self.hist = RttHistogram()
                for r in self.rtts:
                    self.hist.add(r)
            self.hist.add(rtt_us)

    def unanswer(self, src: bytes) -> None:
        """An answer counted here was moved to another TTL (traceroute's shuffle of a
        final answer into an expired probe's place)."""
        if self.received and self.addresses.get(src):
            self.received -= 1
            self.final = max(0, self.final - 1)
            self.addresses[src] -= 1
            if not self.addresses[src]:
                del self.addresses[src]

    def reanswer(self, src: bytes) -> None:
        """... and counts here instead, in a probe that had been given up."""
        self.received += 1
        self.final += 1
        self.addresses[src] = self.addresses.get(src, 0) + 1
        self.latest = src

    # --- derived numbers (milliseconds, unrounded) ---
    @property
    def unanswered(self) -> int:
        return self.sent - self.received

    def raw_loss_pct(self) -> float:
        return 100.0 * self.unanswered / self.sent if self.sent else 0.0

    def rtt_ms(self, which: str) -> float | None:
        if not self.timed:
            return None
        if which == "min":
            return self.tmin / 1000.0
        if which == "max":
            return self.tmax / 1000.0
        if which == "avg":
            return self.tsum / self.timed / 1000.0
        if which == "last":
            return None if self.last_us is None else self.last_us / 1000.0
        if which == "stdev":  # mtr: the sample standard deviation
            if self.timed < 2:
                return 0.0
            mean = self.tsum / self.timed
            var = max(0.0, (self.tsum2 - self.timed * mean * mean) / (self.timed - 1))
            return math.sqrt(var) / 1000.0
        raise ValueError(which)

    def percentile_ms(self, q: float) -> float | None:
        """Nearest-rank percentile (as ``PingStats``), exact while every RTT is kept."""
        if not self.timed:
            return None
        if self.hist is not None:
            p = self.hist.percentile(q)
            return None if p is None else p / 1000.0
        ordered = sorted(self.rtts)
        rank = max(1, math.ceil(q / 100.0 * len(ordered)))
        return ordered[rank - 1] / 1000.0

    def jitter_ms(self, which: str = "last") -> float | None:
        if which == "last":
            return None if self.jitter_us is None else self.jitter_us / 1000.0
        if which == "max":
            return self.jitter_max_us / 1000.0
        if which == "avg":
            return self.jitter_sum_us / self.jitter_n / 1000.0 if self.jitter_n else 0.0
        raise ValueError(which)


class Verdict:
    """What the missing answers of one hop mean (``verdicts``)."""

    __slots__ = ("loss_pct", "rate_limited", "silent", "reason")

    def __init__(self, loss_pct: float, rate_limited: bool = False, silent: bool = False,
                 reason: str | None = None) -> None:
        self.loss_pct = loss_pct
        self.rate_limited = rate_limited
        self.silent = silent
        self.reason = reason


def verdicts(hops: list[HopStats]) -> list[Verdict]:
    """One ``Verdict`` per hop, in the same order (hops sorted by TTL)."""
    out: list[Verdict] = []
    for i, hop in enumerate(hops):
        later = [h for h in hops[i + 1:] if h.sent]
        raw = hop.raw_loss_pct()
        if not hop.sent or not hop.unanswered:
            out.append(Verdict(raw))
            continue
        full = [h for h in later if h.received == h.sent]
        if hop.received == 0:
            if later and any(h.received for h in later):
                out.append(Verdict(raw, silent=True,
                                   reason="never answers (no Time Exceeded) while later "
                                   "hops do: a router that does not send them, not loss"))
            else:
                out.append(Verdict(raw))
            continue
        if not full:
            out.append(Verdict(raw))
            continue
        path_loss = min(h.raw_loss_pct() for h in later)
        out.append(Verdict(path_loss, rate_limited=True, reason=_reason(hop, full[0])))
    return out


def _reason(hop: HopStats, witness: HopStats) -> str:
    """Why the missing answers of ``hop`` look like rate limiting, from their timing."""
    lead = (f"answered {hop.received} of {hop.sent} while hop {witness.ttl} answered all "
            f"{witness.sent}: ICMP rate limiting at this router, not loss")
    timeline = sorted(hop.timeline, key=lambda t: t[0])
    if len(timeline) < 2:
        return lead
    answers = sorted(a for _, a in timeline if a is not None)
    flags = [a is not None for _, a in timeline]
    span = timeline[-1][0] - timeline[0][0]
    burst = 0
    while burst < len(flags) and flags[burst]:
        burst += 1
    after = answers[burst:]
    gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
    sent_every = span / (len(timeline) - 1)
    if burst < len(flags) and burst >= 2:
        spaced = all(g >= ONE_PER_SECOND for g in gaps)
        if after and spaced and (not answers[:burst] or after[0] - answers[burst - 1]
                                 >= ONE_PER_SECOND * 0.5):
            return f"{lead} (its answers came in a burst of {burst}, then about one per second)"
        if not after:
            within = (f"within {span * 1000:.0f} ms" if span >= 0.001 else "back to back")
            return (f"{lead} (it answered a burst of {burst} of {hop.sent} probes sent "
                    f"{within}, then nothing)")
        every = _regular(gaps, sent_every)
        if every is not None:
            return f"{lead} (its answers came in a burst of {burst}, then about one {every})"
    all_gaps = [b - a for a, b in zip(answers, answers[1:], strict=False)]
    if all_gaps and all(g >= ONE_PER_SECOND for g in all_gaps) and sent_every < ONE_PER_SECOND:
        return (f"{lead} (its answers arrive at about one per second while probes went "
                f"every {sent_every * 1000:.0f} ms)")
    every = _regular(all_gaps, sent_every)
    if every is not None:
        return (f"{lead} (its answers arrive at about one {every} while probes went "
                f"every {sent_every * 1000:.0f} ms)")
    if burst < len(flags) and burst >= 2 and after:
        return (f"{lead} (its answers came in a burst of {burst}, then {len(after)} of the "
                f"next {len(flags) - burst})")
    return lead


def _regular(gaps: list[float], sent_every: float) -> str | None:
    """"every N ms" when answers came at a steady pace clearly slower than the probes
    went (a token bucket's refill), else None."""
    if not gaps or sent_every <= 0:
        return None
    ordered = sorted(gaps)
    median = ordered[len(ordered) // 2]
    if ordered[0] < 1.5 * sent_every or ordered[0] < 0.5 * median or ordered[-1] > 2 * median:
        return None
    return f"every {median * 1000:.0f} ms"


def hop_dict(hop: HopStats, verdict: Verdict, addr_text: Any, reached: bool) -> dict[str, Any]:
    """The summary's object for one hop (numbers as numbers, RTTs in ms to 3 places)."""
    def r3(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    out: dict[str, Any] = {
        "ttl": hop.ttl,
        "addresses": [addr_text(a) for a in hop.addresses],
        "sent": hop.sent,
        "received": hop.received,
        "unanswered": hop.unanswered,
        "loss_pct": round(verdict.loss_pct, 3),
        "rate_limited": verdict.rate_limited,
        "silent": verdict.silent,
        "rtt_min_ms": r3(hop.rtt_ms("min")),
        "rtt_avg_ms": r3(hop.rtt_ms("avg")),
        "rtt_max_ms": r3(hop.rtt_ms("max")),
        "rtt_p50_ms": r3(hop.percentile_ms(50)),
        "rtt_p99_ms": r3(hop.percentile_ms(99)),
        "rtt_stdev_ms": r3(hop.rtt_ms("stdev")),
        "rtt_last_ms": r3(hop.rtt_ms("last")),
        "jitter_ms": r3(hop.jitter_ms("last")),
        "jitter_avg_ms": r3(hop.jitter_ms("avg")),
        "jitter_max_ms": r3(hop.jitter_ms("max")),
        "modified": sorted(hop.modified),
        "reached": reached,
    }
    if len(hop.addresses) > 1:
        out["answers_by_address"] = {addr_text(a): n for a, n in hop.addresses.items()}
    if verdict.reason:
        out["note"] = verdict.reason
    if hop.annotations:
        out["annotations"] = sorted(hop.annotations)
    if hop.extensions:
        out["extensions"] = list(hop.extensions)
    if hop.late:
        out["late"] = hop.late
    return out


__all__ = ["HopStats", "Verdict", "hop_dict", "verdicts"]
