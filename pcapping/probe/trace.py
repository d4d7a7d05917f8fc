"""The trace strategy: traceroute, mtr's report and multipath discovery on the engine.

``TraceStrategy`` builds its probes with ``ProbeBuilder`` (``probe/flows.py``: UDP,
ICMP echo or TCP SYN; Paris by default: one flow keeps its flow fields), lets the engine
frame, resolve and inject them, and matches what comes back:

- an ICMP error (Time Exceeded, Destination Unreachable, Parameter Problem) whose quote
  identifies one of our probes (``ProbeBuilder.identify_quote``: IP ID, UDP checksum,
  ICMP sequence or TCP sequence); the quote is then diffed against the bytes we sent
  (``quote_diff.diff_quote``) and its RFC 4884 extensions read (``wire/ext.py``);
- a direct answer from the destination: an echo reply, a TCP SYN-ACK or RST
  acknowledging our SYN, or a UDP datagram back from the port.

A 16-byte destination makes it an IPv6 trace (``trace -6``): the same schedules and
reports over ICMPv6 (Time Exceeded 3, Destination Unreachable 1, Packet Too Big 2,
Parameter Problem 4, echo reply 129; ``annotation6`` is traceroute's IPv6 marks), the
answer's extension headers walked (``wire/ipv6.walk_extensions``) and the quote diffed
field by field (``quote_diff.diff_quote6``: traffic class, flow label, payload length,
hop limit ...).  With no IP identification, a probe whose UDP checksum the device
completes is told by its fixer bytes alone, so the engine keys IPv6 departures by their
first 64 bytes (``departure_key_bytes``).

RTTs are wire time at both ends: the capture timestamp of the probe leaving (the
engine's ``departed``) to the capture timestamp of the answer.

Three schedules share that matching (``mode``):

- ``trace`` (the default) is traceroute 2.1's loop (``do_it``): probes in TTL order,
  ``-N`` of them unanswered at once (16: several TTLs at a time), ``-z`` between two
  sends, and each probe given up after ``-w MAX,HERE,NEAR``: HERE times the RTT of an
  answer from the same hop, else NEAR times one from a later hop, else MAX seconds (so a
  silent hop costs ten RTTs of the hop after it, not five seconds), printing in order
  and stopping at the first hop with a final answer (destination, or unreachable);
  traceroute's shuffle of a late final answer into an expired slot (``check_expired``)
  is kept;
- ``report`` (``--report -c N``, ``--live``) is mtr's: rounds every ``-i`` seconds, one
  probe per TTL each, up to the destination once it is known, each probe given up as
  above;
- ``multipath`` runs a Paris trace to find the destination, then the Multipath Detection
  Algorithm (``probe/mda.py``) over every hop up to it.

What happens is told to a report (``report/trace.py``) as ``ProbeDone`` events, in TTL
order for ``trace`` (as traceroute prints), as answers come for the others; the
per-hop statistics are ``HopStats`` (``probe/hopstats.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from pcapping.probe.engine import Frame, Probe
from pcapping.probe.flows import ProbeBuilder, Sent
from pcapping.probe.hopstats import HopStats
from pcapping.probe.quote_diff import (
    Change,
    diff_quote,
    diff_quote6,
    names,
    sent_as_quoted,
    sent_as_quoted6,
    unpad,
)
from pcapping.wire.ext import FoundExtension, extension_text, locate_extension
from pcapping.wire.frag import ReassemblyFailed
from pcapping.wire.ipv6 import EXTENSION_TYPES, walk_extensions

WAIT_PREC = 0.001  # traceroute's DEF_WAIT_PREC: added to an RTT before it is multiplied
MAX_TTL = 255
MAX_QUERIES = 10


class TraceOptions(NamedTuple):
    """Every option of ``trace`` / ``pcapping.trace()`` (defaults: traceroute's)."""

    method: str = "udp"  # udp | icmp | tcp  (-U / -I / -T)
    port: int | None = None  # -p: destination port (udp 33434, -U 53, tcp 80)
    sport: int | None = None  # --sport: source port (default: a free one)
    first_ttl: int = 1  # -f
    max_ttl: int = 30  # -m
    queries: int = 3  # -q
    wait_max_s: float = 5.0  # -w MAX,HERE,NEAR
    wait_here: float = 3.0
    wait_near: float = 10.0
    sim: int = 16  # -N
    sendwait_s: float = 0.0  # -z
    packet_len: int | None = None  # -s / packetlen (None: 60)
    tos: int = 0  # -t
    dont_fragment: bool = False  # -F
    paris: bool = True  # --classic turns it off
    mode: str = "trace"  # trace | report | multipath
    count: int = 10  # -c: report rounds
    interval_s: float = 1.0  # -i: between report rounds
    confidence: float = 0.999  # --confidence: MDA's per-hop confidence
    max_flows: int = 64  # --max-flows: MDA's bound per hop
    interface: str | None = None  # -i (traceroute's) is the interface
    source: str | None = None  # --source
    family: int = 0  # -4 / -6 (0: the family of HOST's first address)
    flow_label: int | None = None  # -l: the IPv6 flow label (None: a random one)

    @property
    def timeouts(self) -> tuple[float, float, float]:
        return self.wait_max_s, self.wait_here, self.wait_near


class ProbeDone(NamedTuple):
    """One probe's outcome, as the reports get it."""

    ttl: int
    probe: int  # 1-based within its hop (its round, in report mode)
    flow: int
    src: bytes | None  # who answered (None: nobody, in time)
    rtt_us: int | None
    icmp_type: int | None  # None: a direct answer that is not ICMP (TCP, UDP), or none
    code: int | None
    kind: str  # "time-exceeded", "unreachable", "param-problem", "echo-reply", "tcp",
    #            "udp", "local" (no ARP answer), "none"
    annotation: str  # traceroute's: "!H" ..., "" when none
    final: bool
    modified: tuple[str, ...]
    changes: tuple[Change, ...]
    extension: FoundExtension | None
    ext_text: str | None
    reply_ttl: int | None
    quoted_ttl: int | None
    ts: float | None  # capture time of the answer
    sent_ts: float | None  # capture time of the probe leaving (None: not seen)
    round: int = 1
    tcp_flags: int | None = None
    mtu: int | None = None
    moved_from: int | None = None  # traceroute moved this final answer from that TTL
    matched_by: str | None = None


class TraceReport(Protocol):
    def probe(self, ev: ProbeDone) -> None: ...
    def round_done(self, round_no: int) -> None: ...
    def flush(self) -> None: ...


class Rec:
    """One probe sent (or to be sent) and what became of it."""

    __slots__ = ("ttl", "n", "flow", "round", "tag", "sent", "sent_at", "wall_at",
                 "dep_us", "done", "final", "result", "slot")

    def __init__(self, ttl: int, n: int, flow: int, round_no: int = 1) -> None:
        self.ttl = ttl
        self.n = n
        self.flow = flow
        self.round = round_no
        self.tag = 0
        self.sent: Sent | None = None
        self.sent_at = 0.0  # engine clock (scheduling)
        self.wall_at = 0.0  # time.time() at sending (an RTT's fallback start)
        self.dep_us = 0  # capture time of its departure, microseconds (0: not seen)
        self.done = False
        self.final = False
        self.result: ProbeDone | None = None
        self.slot = -1

    @property
    def rtt_s(self) -> float | None:
        r = self.result
        if r is None or r.rtt_us is None or r.src is None:
            return None
        return r.rtt_us / 1e6


def annotation(icmp_type: int, code: int, mtu: int | None) -> str | None:
    """traceroute's mark for an ICMP error (None: not final, a Time Exceeded in transit)."""
    if icmp_type == 11 and code == 0:
        return None
    if icmp_type == 3:
        if code in (0, 6, 8, 11):
            return "!N"
        if code in (1, 7, 12):
            return "!H"
        if code in (9, 10, 13):
            return "!X"
        if code == 3:
            return ""
        if code == 2:
            return "!P"
        if code == 4:
            return f"!F-{mtu or 0}"
        if code == 5:
            return "!S"
        if code == 14:
            return "!V"
        if code == 15:
            return "!C"
        return f"!<{code}>"
    return f"!<{icmp_type}-{code}>"


KINDS = {11: "time-exceeded", 3: "unreachable", 12: "param-problem"}
KINDS6 = {3: "time-exceeded", 1: "unreachable", 2: "packet-too-big", 4: "param-problem"}


def annotation6(icmp_type: int, code: int, mtu: int | None) -> str | None:
    """traceroute's mark for an ICMPv6 error (None: a Time Exceeded in transit): no
    route !N, prohibited !X, beyond scope and address unreachable !H, the port (the
    destination reached) nothing, other codes !<code>, Packet Too Big !F-<mtu>, any
    other type or code !<type-code>."""
    if icmp_type == 3 and code == 0:
        return None
    if icmp_type == 1:
        if code == 0:
            return "!N"
        if code in (2, 3):
            return "!H"
        if code == 1:
            return "!X"
        if code == 4:
            return ""
        return f"!<{code}>"
    if icmp_type == 2:
        return f"!F-{mtu or 0}"
    return f"!<{icmp_type}-{code}>"


class Tags:
    """16-bit probe tags, never 0 or 0xFFFF, none reused while its probe may be answered."""

    def __init__(self, start: int) -> None:
        self.next = (start % 0xFFFE) + 1
        self.live: dict[int, Rec] = {}

    def take(self, rec: Rec) -> int:
        for _ in range(0xFFFE):
            tag = self.next
            self.next = tag % 0xFFFE + 1
            if tag not in self.live:
                self.live[tag] = rec
                return tag
        raise RuntimeError("every probe tag is in use")

    def retire(self, tag: int) -> None:
        self.live.pop(tag, None)


class PumpPacer:
    """The engine's pacer protocol for a strategy that sends from ``pump`` (it only says
    when to look again)."""

    def __init__(self, strategy: TraceStrategy) -> None:
        self.s = strategy

    def ready(self, now: float, in_flight: int) -> int:
        return 0

    def next_at(self, now: float, in_flight: int) -> float:
        return self.s.next_time or now + 0.25

    def sent(self, now: float, n: int) -> None:
        pass


class TraceStrategy:
    """One trace on the engine (see the module docstring)."""

    claims_departures = False  # the engine keys our departures (first 48 bytes, IPv6 64)

    def __init__(self, opts: TraceOptions, report: TraceReport, *, builder: ProbeBuilder,
                 src: bytes, dst: bytes, next_hop: bytes | None, dst_mac: bytes | None,
                 engine: Any, clock_start: float = 0.0,
                 wall: Callable[[], float] = time.time) -> None:
        self.opts = opts
        self.report = report
        self.builder = builder
        self.src = src
        self.dst = dst
        self.next_hop = next_hop
        self.dst_mac = dst_mac
        self.engine = engine
        self.wall = wall
        self.tags = Tags(int.from_bytes(builder.nonce[2:4], "big"))
        self.hops: dict[int, HopStats] = {}
        self.rtt_at: dict[int, float] = {}  # TTL -> the first answered RTT there (s)
        self.reached_ttl: int | None = None  # lowest TTL a final answer came at
        self.next_time: float | None = None
        self.pacer = PumpPacer(self)
        self.sent_count = 0
        self.late = 0
        self.unmatched_errors = 0  # errors quoting our probes that match none sent
        self.expired: dict[int, int] = {}  # tags given up -> their TTL (late answers)
        self.expired_fixers: dict[int, bytes] = {}  # ... their fixer bytes (IPv6)
        self.v6 = len(dst) == 16
        if self.v6:  # the fixer bytes too: the only per-probe field of an offloaded UDP probe
            self.departure_key_bytes = 64
        self._read_at = -1.0
        mode = opts.mode
        self.schedule: Any
        if mode == "trace":
            self.schedule = TracerouteSchedule(self)
        elif mode == "report":
            self.schedule = RoundSchedule(self, clock_start)
        elif mode == "multipath":
            from pcapping.probe.mda import MdaSchedule

            self.schedule = MdaSchedule(self)
        else:
            raise ValueError(f"unknown trace mode {mode!r}")

    # --- helpers for the schedules ---
    def hop(self, ttl: int) -> HopStats:
        h = self.hops.get(ttl)
        if h is None:
            h = self.hops[ttl] = HopStats(ttl)
        return h

    def send(self, rec: Rec, now: float) -> None:
        """Build, count and hand one probe to the engine."""
        rec.tag = self.tags.take(rec)
        rec.sent = sent = self.builder.build(rec.tag, rec.ttl, rec.flow)
        rec.sent_at = now
        rec.wall_at = self.wall()
        self.sent_count += 1
        self.hop(rec.ttl).probe_sent()
        if self.opts.dont_fragment:
            path_mtu = getattr(self.engine, "path_mtu", None)
            mtu = path_mtu(self.dst) if path_mtu is not None else None
            if mtu is not None and len(sent.datagram) > mtu:
                # too big to leave whole: refused here, as the kernel refuses traceroute's
                # (EMSGSIZE: it prints `*  !F-<mtu>`), and final
                self._local(rec, None, f"!F-{mtu}", mtu)
                return
        self.engine.send(Probe(rec.tag, sent.datagram, self.next_hop, self.dst_mac,
                               may_fragment=not self.opts.dont_fragment), now)

    def timeout(self, rec: Rec) -> float:
        """traceroute's get_timeout: HERE x an RTT from the same hop, else NEAR x one from
        a later hop (among the answers so far), else MAX."""
        wait_max, here, near = self.opts.timeouts
        rtt_at = self.rtt_at
        if here:
            rtt = rtt_at.get(rec.ttl)
            if rtt is not None:
                return min((rtt + WAIT_PREC) * here, wait_max)
        if near:
            for ttl in sorted(rtt_at):
                if ttl > rec.ttl:
                    return min((rtt_at[ttl] + WAIT_PREC) * near, wait_max)
        return wait_max

    def expire(self, now: float) -> None:
        pass  # the schedules expire probes in pump()

    def overdue(self, rec: Rec, now: float) -> bool:
        """Whether ``rec`` has waited out its timeout with no answer: the capture is read
        first (once per turn), so an answer already queued is never taken for a loss."""
        if rec.done or now < rec.sent_at + self.timeout(rec):
            return False
        if self._read_at != now:
            self._read_at = now
            reader = getattr(self.engine, "read_now", None)
            if reader is not None:
                reader(self)
        return not rec.done

    def give_up(self, rec: Rec) -> None:
        """No answer in time: the probe is done without one."""
        if rec.done:
            return
        self.tags.retire(rec.tag)
        if rec.tag > 0:
            self.expired[rec.tag] = rec.ttl  # an answer may still come: counted as late
            if self.v6 and rec.sent is not None:
                self.expired_fixers[rec.tag] = self.builder.fixer_of(rec.sent.datagram)
        if len(self.expired) > 4096:
            old = next(iter(self.expired))
            del self.expired[old]
            self.expired_fixers.pop(old, None)
        rec.done = True
        rec.result = ProbeDone(
            rec.ttl, rec.n, rec.flow, None, None, None, None, "none", "", False, (), (),
            None, None, None, None, None, self._sent_ts(rec), rec.round)
        self.hop(rec.ttl).answered(None, None, self._send_time(rec), None, [], None, None,
                                   False)
        self.schedule.completed(rec)

    def _sent_ts(self, rec: Rec) -> float | None:
        return rec.dep_us / 1e6 if rec.dep_us else None

    def _send_time(self, rec: Rec) -> float:
        return rec.dep_us / 1e6 if rec.dep_us else rec.wall_at

    # --- the engine's questions ---
    def pending(self) -> bool:
        return False  # sending happens in pump()

    def in_flight(self) -> int:
        return len(self.tags.live)

    def next_probes(self, now: float, n: int) -> list[Probe]:
        return []

    def pump(self, now: float) -> int:
        sent = self.schedule.pump(now)
        if self.schedule.done(now):  # finished here: the engine looks again at once
            self.next_time = now
        return sent

    def next_deadline(self) -> float | None:
        return self.next_time

    def done(self, now: float) -> bool:
        return self.schedule.done(now)

    def departed(self, key: Any, ts_sec: int, ts_usec: int) -> None:
        rec = self.tags.live.get(key)
        if rec is not None and not rec.dep_us:
            rec.dep_us = ts_sec * 1_000_000 + ts_usec

    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        return False

    def on_frame(self, frame: Frame) -> bool:
        data = frame.data
        l3 = self.engine.l3
        if self.v6:
            return self._on_frame6(frame, data, l3)
        if len(data) < l3 + 20 or data[l3] >> 4 != 4:
            return False
        if data[l3 + 16:l3 + 20] != self.src:
            return False
        ihl = (data[l3] & 0x0F) * 4
        total = (data[l3 + 2] << 8) | data[l3 + 3]
        end = min(len(data), l3 + max(total, ihl))
        if data[l3 + 6] & 0x3F or data[l3 + 7]:
            return False  # a fragment (the engine reassembles; this one is not whole)
        proto = data[l3 + 9]
        body = data[l3 + ihl:end]
        src = bytes(data[l3 + 12:l3 + 16])
        reply_ttl = data[l3 + 8]
        ts_us = frame.ts_sec * 1_000_000 + frame.ts_usec
        if proto == 1:
            return self._icmp(body, src, reply_ttl, ts_us)
        return self._transport_reply(proto, body, src, reply_ttl, ts_us)

    def _on_frame6(self, frame: Frame, data: bytes, l3: int) -> bool:
        """An IPv6 answer: ICMPv6 (echo reply, or an error quoting a probe), or TCP / UDP
        from the destination.  Extension headers are walked, never trusted."""
        if len(data) < l3 + 40 or data[l3] >> 4 != 6:
            return False
        if data[l3 + 24:l3 + 40] != self.src:
            return False
        plen = (data[l3 + 4] << 8) | data[l3 + 5]
        end = min(len(data), l3 + 40 + plen)
        proto = data[l3 + 6]
        at = l3 + 40
        if proto in EXTENSION_TYPES:
            chain = walk_extensions(data, proto, at, end)
            if chain.error is not None or not chain.upper_layer_present or (
                    chain.is_fragmented):
                return False  # (the engine reassembles; this one is not whole)
            proto, at = chain.protocol, chain.offset
        body = data[at:end]
        src = bytes(data[l3 + 8:l3 + 24])
        reply_ttl = data[l3 + 7]
        ts_us = frame.ts_sec * 1_000_000 + frame.ts_usec
        if proto == 58:
            return self._icmp6(body, src, reply_ttl, ts_us)
        return self._transport_reply(proto, body, src, reply_ttl, ts_us)

    def _transport_reply(self, proto: int, body: bytes, src: bytes, reply_ttl: int,
                         ts_us: int) -> bool:
        """A TCP answer (SYN-ACK or RST, matched by its acknowledgement) or a UDP one
        from the destination itself, in either family."""
        if proto == 6 and src == self.dst:
            tag = self.builder.identify_tcp(body)
            if tag is None:
                return False
            rec = self._live(tag, body[2:4], body[0:2])
            if rec is None:
                return False
            self._answer(rec, src, ts_us, None, None, "tcp", "", True, reply_ttl,
                         tcp_flags=body[13], matched_by="ack")
            return True
        if proto == 17 and src == self.dst and len(body) >= 8:
            return self._udp_reply(body, src, reply_ttl, ts_us)
        return False

    def _live(self, tag: int, sport: bytes, dport: bytes) -> Rec | None:
        """The probe with ``tag`` still waiting, checked against the answer's ports."""
        rec = self.tags.live.get(tag)
        if rec is None or rec.done or rec.sent is None:
            return None
        if self.builder.method != "icmp":
            if int.from_bytes(sport, "big") != rec.sent.sport or int.from_bytes(
                    dport, "big") != rec.sent.dport:
                return None
        return rec

    def _udp_reply(self, body: bytes, src: bytes, reply_ttl: int, ts_us: int) -> bool:
        """A UDP datagram back from the destination port: the oldest probe of its flow."""
        if self.builder.method != "udp":
            return False
        sport = (body[2] << 8) | body[3]
        dport = (body[0] << 8) | body[1]
        best = None
        for rec in self.tags.live.values():
            if rec.sent is not None and not rec.done and rec.sent.sport == sport and (
                    rec.sent.dport == dport) and (best is None or rec.sent_at < best.sent_at):
                best = rec
        if best is None:
            return False
        self._answer(best, src, ts_us, None, None, "udp", "", True, reply_ttl,
                     matched_by="ports")
        return True

    def _icmp(self, body: bytes, src: bytes, reply_ttl: int, ts_us: int) -> bool:
        if len(body) < 8:
            return False
        itype, code = body[0], body[1]
        if itype == 0:
            tag = self.builder.identify_echo_reply(body)
            if tag is None:
                return False
            rec = self.tags.live.get(tag)
            if rec is None or rec.done:
                return self._late(tag)
            self._answer(rec, src, ts_us, 0, 0, "echo-reply", "", True, reply_ttl,
                         matched_by="icmp_seq")
            return True
        if itype not in KINDS:
            return False
        payload = body[8:]
        found = locate_extension(payload, body[5], 4)
        quote = payload if found is None else unpad(found.quote)
        mtu = ((body[6] << 8) | body[7]) if itype == 3 and code == 4 else None
        return self._error(quote, found, itype, code, KINDS[itype], annotation(itype, code, mtu),
                           mtu, src, reply_ttl, ts_us)

    def _icmp6(self, body: bytes, src: bytes, reply_ttl: int, ts_us: int) -> bool:
        """ICMPv6: an echo reply to one of our probes, or an error quoting one (RFC 4884
        extensions after the quote of a Time Exceeded or Destination Unreachable)."""
        if len(body) < 8:
            return False
        itype, code = body[0], body[1]
        if itype == 129:
            tag = self.builder.identify_echo_reply(body)
            if tag is None:
                return False
            rec = self.tags.live.get(tag)
            if rec is None or rec.done:
                return self._late(tag)
            self._answer(rec, src, ts_us, 129, code, "echo-reply", "", True, reply_ttl,
                         matched_by="icmp_seq")
            return True
        if itype not in KINDS6:
            return False
        payload = body[8:]
        found = locate_extension(payload, body[4], 8) if itype in (1, 3) else None
        quote = payload if found is None else unpad(found.quote, 48)
        mtu = int.from_bytes(body[4:8], "big") if itype == 2 else None
        return self._error(quote, found, itype, code, KINDS6[itype],
                           annotation6(itype, code, mtu), mtu, src, reply_ttl, ts_us)

    def _error(self, quote: bytes, found: FoundExtension | None, itype: int, code: int,
               kind: str, mark: str | None, mtu: int | None, src: bytes, reply_ttl: int,
               ts_us: int) -> bool:
        """An ICMP(v6) error quoting ``quote``: the probe it answers (by its tag, else by
        the fixer bytes), diffed against what was sent; False when it is not ours."""
        rec = None
        by = None
        for cand in self.builder.identify_quote(quote):
            r = self.tags.live.get(cand.tag)
            if r is None or r.done or r.sent is None:
                continue
            if cand.flow_ports is not None and self.builder.method != "icmp" and (
                    cand.flow_ports[1] != r.sent.dport):
                continue
            if not self._same_fixer(quote, r.sent.datagram):
                continue
            rec, by = r, cand.by
            break
        if rec is None and self.builder.method != "tcp":
            rec = self._by_fixer(quote)
            by = "payload" if rec is not None else None
        if rec is None:
            cands = self.builder.identify_quote(quote)
            if cands or (self.v6 and self.builder.is_ours(quote)):
                for cand in cands:
                    if cand.tag in self.expired:
                        return self._late(cand.tag)
                if self.v6 and self._late_by_fixer(quote):
                    return True
                self.unmatched_errors += 1
                return True  # ours, but unknown: recorded, not an answer
            return False
        assert rec.sent is not None
        if self.v6:
            changes = tuple(diff_quote6(sent_as_quoted6(rec.sent.datagram, quote), quote,
                                        rfc4884_padding=found is not None))
            quoted_ttl = quote[7] if len(quote) > 7 else None
        else:
            changes = tuple(diff_quote(sent_as_quoted(rec.sent.datagram, quote), quote,
                                       rfc4884_padding=found is not None))
            quoted_ttl = quote[8] if len(quote) > 8 else None
        self._answer(rec, src, ts_us, itype, code, kind, mark or "",
                     mark is not None, reply_ttl, changes=changes, extension=found,
                     quoted_ttl=quoted_ttl, mtu=mtu, matched_by=by)
        return True

    def _by_fixer(self, quote: bytes) -> Rec | None:
        """A probe still waiting whose checksum-making payload bytes (unique to it) are
        the quoted ones: what identifies a probe whose IP ID a middlebox rewrote and whose
        checksum says nothing (left to the device, or rewritten by a NAT)."""
        b = self.builder
        if not b.is_ours(quote):
            return None
        at = b.quoted_l4(quote)
        if at is None:
            return None
        fixer = quote[at + 8:at + 10]
        if len(fixer) < 2 or not any(fixer):
            return None
        dport = quote[at + 2:at + 4]
        for rec in self.tags.live.values():
            sent = rec.sent
            if sent is not None and not rec.done and b.fixer_of(sent.datagram) == fixer and (
                    b.method == "icmp" or b.dport_of(sent.datagram) == dport):
                return rec
        return None

    def _late_by_fixer(self, quote: bytes) -> bool:
        """An IPv6 answer whose only identification is the fixer bytes (UDP with the
        checksum left to the device), to a probe already given up: counted as late."""
        b = self.builder
        at = b.quoted_l4(quote)
        if at is None:
            return False
        fixer = quote[at + 8:at + 10]
        if len(fixer) < 2:
            return False
        for tag in list(self.expired):
            if self.expired_fixers.get(tag) == fixer:
                self.expired_fixers.pop(tag, None)
                return self._late(tag)
        return False

    def _same_fixer(self, quote: bytes, sent: bytes) -> bool:
        """Whether the payload bytes that make a probe's checksum (unique to it) are the
        ones quoted, when the quote reaches them (UDP and ICMP probes; TCP has none)."""
        b = self.builder
        if b.method == "tcp":
            return True
        at = b.quoted_l4(quote)
        if at is None or len(quote) < at + 10:
            return True
        return quote[at + 8:at + 10] == b.fixer_of(sent)

    def _late(self, tag: int) -> bool:
        """An answer to a probe already given up: not an answer, but counted at its hop."""
        ttl = self.expired.pop(tag, None)
        self.expired_fixers.pop(tag, None)
        if ttl is not None:
            self.late += 1
            self.hop(ttl).late += 1
        return True

    def _answer(self, rec: Rec, src: bytes, ts_us: int, itype: int | None, code: int | None,
                kind: str, mark: str, final: bool, reply_ttl: int | None, *,
                changes: tuple[Change, ...] = (), extension: FoundExtension | None = None,
                quoted_ttl: int | None = None, mtu: int | None = None,
                tcp_flags: int | None = None, matched_by: str | None = None) -> None:
        if rec.dep_us:
            rtt: int | None = max(0, ts_us - rec.dep_us)
        else:  # the departure was never seen: the host clock at sending, as a fallback
            rtt = max(0, ts_us - int(rec.wall_at * 1e6))
        ext_txt = None
        if extension is not None and extension.extension is not None:
            ext_txt = extension_text(extension.extension)
            if extension.extension.checksum_ok is False:
                ext_txt = "bad checksum;" + ext_txt
        elif extension is not None:
            ext_txt = "unreadable extension"
        modified = tuple(names(list(changes)))
        self.tags.retire(rec.tag)
        rec.done = True
        rec.final = final
        rec.result = ProbeDone(
            rec.ttl, rec.n, rec.flow, src, rtt, itype, code, kind, mark, final, modified,
            changes, extension, ext_txt, reply_ttl, quoted_ttl, ts_us / 1e6,
            self._sent_ts(rec), rec.round, tcp_flags, mtu, None, matched_by)
        if final and (self.reached_ttl is None or rec.ttl < self.reached_ttl):
            self.reached_ttl = rec.ttl
        if rtt and rec.ttl not in self.rtt_at:
            self.rtt_at[rec.ttl] = rtt / 1e6
        self.hop(rec.ttl).answered(src, rtt, self._send_time(rec), ts_us / 1e6,
                                   list(modified), mark or None, ext_txt, final)
        self.schedule.completed(rec)

    def on_unresolved(self, address: bytes, keys: list[Any], now: float) -> None:
        """The next hop never answered ARP: each waiting probe fails here, as !H."""
        for tag in keys:
            rec = self.tags.live.get(tag)
            if rec is None or rec.done:
                continue
            self._local(rec, self.src, "!H")

    def _local(self, rec: Rec, src: bytes | None, mark: str, mtu: int | None = None) -> None:
        """A probe that failed on this host (no next hop, too big to send): final."""
        self.tags.retire(rec.tag)
        rec.done = rec.final = True
        rec.result = ProbeDone(
            rec.ttl, rec.n, rec.flow, src, None, None, None, "local", mark, True,
            (), (), None, None, None, None, None, None, rec.round, mtu=mtu)
        if self.reached_ttl is None or rec.ttl < self.reached_ttl:
            self.reached_ttl = rec.ttl
        self.hop(rec.ttl).answered(src, None, rec.wall_at, None, [], mark, None, True)
        self.schedule.completed(rec)

    def on_unassembled(self, failure: ReassemblyFailed, now: float) -> None:
        pass

    def finish(self, now: float) -> None:
        self.schedule.finish(now)
        self.report.flush()

    def status(self) -> None:
        pass

    def idle(self) -> None:
        self.report.flush()

    def exit_status(self) -> int:
        """0 when the destination answered, 1 when it did not."""
        return 0 if self.destination_reached() else 1

    def destination_reached(self) -> bool:
        for hop in self.hops.values():
            if any(a == self.dst for a in hop.addresses) and hop.final:
                return True
        return False

    def hop_list(self) -> list[HopStats]:
        """The hops up to the destination's TTL (or every one probed)."""
        last = self.reached_ttl if self.reached_ttl is not None else max(self.hops, default=0)
        return [self.hops[t] for t in sorted(self.hops) if t <= last]


# --- traceroute's loop ---------------------------------------------------------------

class TracerouteSchedule:
    """traceroute 2.1's ``do_it`` over a flat array of probes (TTL-major)."""

    def __init__(self, s: TraceStrategy) -> None:
        self.s = s
        o = s.opts
        q = self.q = o.queries
        self.slots: list[Rec | None] = [None] * (o.max_ttl * q)
        self.start = (o.first_ttl - 1) * q
        self.end = o.max_ttl * q
        self.last_send = 0.0
        self.emitted = 0

    def done(self, now: float) -> bool:
        return self.start >= self.end

    def completed(self, rec: Rec) -> None:
        pass  # printing happens in order, in pump()

    def pump(self, now: float) -> int:
        s = self.s
        o = s.opts
        q = self.q
        slots = self.slots
        sent = 0
        num = 0
        next_time = 0.0
        n = self.start
        while n < self.end:
            pb = slots[n]
            if n == self.start and pb is not None and not pb.done and pb.sent_at:
                expire_at = pb.sent_at + s.timeout(pb)
                if expire_at > now:
                    next_time = expire_at
                elif s.overdue(pb, now):
                    s.give_up(pb)
                    self.check_expired(n)
                    pb = slots[n]
            if pb is not None and pb.done:
                if n == self.start:
                    self.emit(pb)
                    self.start += 1
                if pb.final:
                    self.end = (n // q + 1) * q
                n += 1
                continue
            if pb is None:
                if o.sendwait_s and self.last_send + o.sendwait_s > now:
                    next_time = self.last_send + o.sendwait_s
                    break
                pb = slots[n] = Rec(n // q + 1, n % q + 1, 0)
                pb.slot = n
                s.send(pb, now)
                self.last_send = now
                sent += 1
            if not next_time:
                next_time = pb.sent_at + s.timeout(pb)
            num += 1
            if num >= o.sim:
                break
            n += 1
        s.next_time = next_time or None
        return sent

    def emit(self, rec: Rec) -> None:
        assert rec.result is not None
        self.s.report.probe(rec.result)
        self.emitted += 1

    def check_expired(self, idx: int) -> None:
        """traceroute's check_expired: an expired probe followed, in the same hop or
        just after, by a final unreachable report takes that report's place (routers
        that answer unreachables only for the latest of several probes)."""
        slots = self.slots
        q = self.q
        pb = slots[idx]
        if pb is None or not pb.done:
            return
        pfp = None
        for p in range(idx - idx % q, idx):
            r = slots[p]
            if r is None or not r.done or not r.final:
                return
            pfp = p
        fp = None
        for p in range(idx + 1, len(slots)):
            r = slots[p]
            if r is None or not r.sent_at:
                break
            if r.done:
                if not r.final:
                    return
                fp = p
                break
        if fp is None:
            return
        frec = slots[fp]
        assert frec is not None and frec.result is not None
        if not frec.result.annotation:  # not an unreachable report
            return
        if pfp is not None or (idx % q) + (fp - idx) < q:
            self._replace(idx, fp)
            return
        src = frec.result.src
        for p in range(idx - 1, -1, -1):
            r = slots[p]
            if r is not None and r.result is not None and r.result.src == src:
                self._replace(idx, fp)
                return
        rttl = frec.result.reply_ttl
        if rttl:
            back = _ttl2hops(rttl)
            for p in range(idx - 1, -1, -1):
                r = slots[p]
                if (r is not None and r.done and not r.final and r.result is not None
                        and r.result.reply_ttl):
                    hops = _ttl2hops(r.result.reply_ttl)
                    if hops < back:
                        back = back - hops + (p // q + 1)
                        break
            if back <= idx // q + 1:
                self._replace(idx, fp)

    def _replace(self, idx: int, fp: int) -> None:
        slots = self.slots
        moved = slots[fp]
        mine = slots[idx]
        assert moved is not None and mine is not None and moved.result is not None
        moved_ttl = moved.ttl
        mine.final = True
        mine.result = r = moved.result._replace(ttl=mine.ttl, probe=mine.n,
                                                moved_from=moved_ttl)
        s = self.s
        if r.src is not None:  # the answer now counts where it is printed
            s.hop(moved_ttl).unanswer(r.src)
            s.hop(mine.ttl).reanswer(r.src)
        if s.reached_ttl is None or mine.ttl < s.reached_ttl:
            s.reached_ttl = mine.ttl
        # the slot it left is sent-but-unanswered again, and will expire as a "*"
        blank = Rec(moved.ttl, moved.n, moved.flow)
        blank.slot = fp
        blank.sent_at = 1.0
        blank.tag = -1
        slots[fp] = blank

    def finish(self, now: float) -> None:
        # a stop (Ctrl-C) leaves probes unprinted: print what is known, in order
        q = self.q
        while self.start < self.end:
            pb = self.slots[self.start]
            if pb is None:
                if self.start % q == 0:
                    break
                pb = Rec(self.start // q + 1, self.start % q + 1, 0)
                self.slots[self.start] = pb
            if not pb.done:
                self.s.give_up(pb)
            self.emit(pb)
            self.start += 1
            if pb.final and self.start % q == 0:
                break


def _ttl2hops(ttl: int) -> int:
    """traceroute's guess of how far away an answer came from (initial TTL 64/128/255)."""
    return (65 if ttl <= 64 else 129 if ttl <= 128 else 256) - ttl


# --- mtr's rounds --------------------------------------------------------------------

class RoundSchedule:
    """``--report`` / ``--live``: a probe per TTL every ``-i`` seconds, ``-c`` rounds."""

    def __init__(self, s: TraceStrategy, clock_start: float) -> None:
        self.s = s
        o = s.opts
        self.round = 0
        self.round_at = clock_start
        self.queue: list[Rec] = []  # this round's probes not sent yet
        self.outstanding: list[Rec] = []
        self.last_send = 0.0
        self.open_rounds: dict[int, int] = {}  # round -> probes not done yet
        self.count = o.count  # 0: until stopped

    def _start_round(self, now: float) -> None:
        s = self.s
        o = s.opts
        self.round += 1
        self.round_at = now
        top = s.reached_ttl if s.reached_ttl is not None else o.max_ttl
        self.queue = [Rec(ttl, self.round, 0, self.round)
                      for ttl in range(o.first_ttl, top + 1)]
        self.open_rounds[self.round] = len(self.queue)

    def done(self, now: float) -> bool:
        if self.count and self.round >= self.count and not self.queue and not self.outstanding:
            return True
        return False

    def completed(self, rec: Rec) -> None:
        s = self.s
        if rec in self.outstanding:
            self.outstanding.remove(rec)
        reached = s.reached_ttl
        if reached is None or rec.ttl <= reached:
            assert rec.result is not None
            s.report.probe(rec.result)
        left = self.open_rounds.get(rec.round)
        if left is not None:
            left -= 1
            if left <= 0:
                del self.open_rounds[rec.round]
                s.report.round_done(rec.round)
            else:
                self.open_rounds[rec.round] = left

    def pump(self, now: float) -> int:
        s = self.s
        o = s.opts
        sent = 0
        # expire what has waited long enough
        for rec in list(self.outstanding):
            if s.overdue(rec, now):
                s.give_up(rec)
        if not self.queue and not self.outstanding and (
                not self.count or self.round < self.count) and (
                self.round == 0 or now >= self.round_at + o.interval_s):
            self._start_round(now)
        # probes beyond a destination found meanwhile are not sent
        reached = s.reached_ttl
        if reached is not None and self.queue:
            dropped = [r for r in self.queue if r.ttl > reached]
            if dropped:
                self.queue = [r for r in self.queue if r.ttl <= reached]
                left = self.open_rounds.get(self.round, 0) - len(dropped)
                if left <= 0:
                    self.open_rounds.pop(self.round, None)
                    if not self.queue:
                        s.report.round_done(self.round)
                else:
                    self.open_rounds[self.round] = left
        while self.queue and len(self.outstanding) < o.sim:
            if o.sendwait_s and self.last_send + o.sendwait_s > now:
                break
            rec = self.queue.pop(0)
            s.send(rec, now)
            self.outstanding.append(rec)
            self.last_send = now
            sent += 1
        wake = [rec.sent_at + s.timeout(rec) for rec in self.outstanding]
        if self.queue and o.sendwait_s:
            wake.append(self.last_send + o.sendwait_s)
        if not self.queue and (not self.count or self.round < self.count):
            wake.append(self.round_at + o.interval_s)
        s.next_time = min(wake) if wake else None
        return sent

    def finish(self, now: float) -> None:
        for rec in list(self.outstanding):
            self.s.give_up(rec)


__all__ = ["ProbeDone", "Rec", "TraceOptions", "TraceReport", "TraceStrategy", "annotation",
           "annotation6"]
