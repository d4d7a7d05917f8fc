"""The ping strategy: iputils ping's echo requests, schedule and counting, on the engine.

``PingStrategy`` builds our echo requests from one prebuilt template (the sequence number
and identifiers patched in place, the ICMP checksum updated incrementally, RFC 1624),
recognises what answers them, keeps the statistics and tells its report what happened.
Its state is bounded: per-sequence arrays over the 16-bit sequence space (as iputils'
``rcvd_tbl``), a queue of outstanding requests no longer than what can be in flight, and
``PingStats``' accumulators, so memory does not grow with ``-c``.

Matching (the product contract):

- a reply is ours when it is an echo reply to our source address with our identifier, a
  sequence number we sent, and our per-run nonce at the start of its payload: another
  pinger on the same host, even one using the same identifier, is never counted;
- an error is ours when the datagram it quotes is our echo request to the target (our
  identifier, a sequence we sent, and the nonce when the router quoted that far);
- the RTT runs from the capture timestamp of our request leaving (the engine's
  departure) to the capture timestamp of the reply (of its last fragment, when it came in
  pieces: a reply is matched only once it is whole).

``fast`` recognises the common case (an unfragmented echo reply with a 20-byte header
and good checksums) from the raw bytes; anything else goes through ``on_frame`` and the
full decoder, which gives the same answer for the frames ``fast`` takes (a test holds
them to it).

Scheduling and stopping follow iputils 20221126 (``pinger``, ``main_loop``,
``__schedule_exit``): the interval/preload tokens of ``IntervalPacer``; after the last
request of ``-c`` wait ``2 * max RTT`` (at least one interval) when a reply came, else
``-W`` (``-W 0``: no limit); stop early once every request was answered (replies +
errors >= count); with ``-w``, keep sending until ``count`` replies or the deadline (``-w
0``: none), and stop at the first error.
"""

from __future__ import annotations

import os
import struct
import time
from array import array
from collections import deque
from typing import Any, NamedTuple, Protocol

from pcapping.decode import Decoded
from pcapping.probe.engine import Frame, IntervalPacer, Probe
from pcapping.probe.events import (
    EchoReplied,
    ErrorReported,
    LocalError,
    TimedOut,
    Unassembled,
)
from pcapping.probe.stats import PingStats
from pcapping.wire.checksum import checksum_should_be, checksum_update, internet_checksum
from pcapping.wire.frag import ReassemblyFailed
from pcapping.wire.icmp import ICMPEcho, ICMPError, parse_icmp

NONCE_BYTES = 8
_META = struct.Struct("=IIII")
SEQ_SPACE = 0x10000
PMTUDISC = ("do", "dont", "want", "probe")


class PingOptions(NamedTuple):
    """Every option of ``send`` / ``ping()``, with iputils' defaults (defined once here)."""

    count: int | None = None        # -c: stop after COUNT requests (None: until stopped)
    interval_s: float = 1.0         # -i
    interval_given: bool = False    # -i was given (so -f keeps it)
    timeout_s: float = 10.0         # -W: linger after the last request without a reply
    deadline_s: float | None = None  # -w: 0 or None means none
    ttl: int = 64                   # -t
    size: int = 56                  # -s: ICMP payload bytes
    pmtudisc: str | None = None     # -M do|dont|want|probe (None: want; do for broadcast)
    interface: str | None = None    # -I IFACE
    source: str | None = None       # -I ADDRESS
    pattern: str | None = None      # -p
    tos: int = 0                    # -Q
    preload: int = 1                # -l
    flood: bool = False             # -f
    adaptive: bool = False          # -A
    outstanding: bool = False       # -O
    broadcast: bool = False         # -b
    audible: bool = False           # -a
    quiet: bool = False             # -q
    timestamps: bool = False        # -D
    verbose: bool = False           # -v
    family: int = 0                 # -4 / -6 (0: whichever the name resolves to first)

    @property
    def interval_ms(self) -> int:
        if self.flood and not self.interval_given:
            return 0
        return int(self.interval_s * 1000)

    @property
    def deadline(self) -> float | None:
        return self.deadline_s if self.deadline_s else None

    @property
    def shows_ipg(self) -> bool:
        """iputils prints ``ipg/ewma`` for -f, -A and an interval of 0 ms."""
        return self.flood or self.adaptive or self.interval_ms == 0


class PingReport(Protocol):
    """What a ping report is told (``report/ping.py`` has the text and JSON ones)."""

    def sent(self, seq: int) -> None: ...
    def outstanding(self, seq: int) -> None: ...
    def reply(self, ev: EchoReplied) -> None: ...
    def error(self, ev: ErrorReported) -> None: ...
    def local_error(self, ev: LocalError) -> None: ...
    def unassembled(self, ev: Unassembled) -> None: ...
    def timeout(self, ev: TimedOut) -> None: ...
    def status(self, stats: PingStats) -> None: ...


def make_payload(size: int, nonce: bytes, pattern: bytes | None = None) -> bytes:
    """iputils' payload (bytes 0, 1, 2, ... or the -p pattern repeated) with our nonce first."""
    if pattern:
        body = (pattern * (size // len(pattern) + 1))[:size]
    else:
        body = bytes(i & 0xFF for i in range(size))
    n = min(NONCE_BYTES, size)
    return nonce[:n] + body[n:]


def pmtu_decision(mode: str, datagram_len: int, path_mtu: int,
                  link_mtu: int) -> tuple[bool, int | None]:
    """(DF bit, local-error MTU or None) for one request, as the kernel decides.

    ``do``: DF, refused locally above the path MTU; ``probe``: DF, ignores the learnt path
    MTU, refused only above the link's; ``want``: DF while the datagram fits the path MTU,
    else sent in fragments without it; ``dont``: never DF, fragmented when too large.
    """
    if mode == "do":
        return True, (path_mtu if datagram_len > path_mtu else None)
    if mode == "probe":
        return True, (link_mtu if datagram_len > link_mtu else None)
    if mode == "dont":
        return False, None
    return datagram_len <= path_mtu, None  # want


class PingStrategy:
    """One ping run on the engine (see the module docstring); IPv4 (``Ping6Strategy``:
    the same over IPv6)."""

    IP_LEN = 20  # the header our datagrams carry
    LANE_TURNS = 64  # requests pump() may send (and read the answers of) in one call
    ETHERTYPE = 0x0800
    REQUEST_TYPE, REPLY_TYPE = 8, 0
    _type_delta = 0xF7FF  # ~0x0800: the checksum's change from request to reply

    def __init__(
        self,
        opts: PingOptions,
        report: PingReport,
        *,
        src: bytes,
        dst: bytes,
        next_hop: bytes | None,
        dst_mac: bytes | None,
        engine: Any,
        ident: int | None = None,
        nonce: bytes | None = None,
        ip_ident: int | None = None,
        pattern: bytes | None = None,
        clock_start: float = 0.0,
    ) -> None:
        rnd = os.urandom(12)
        self.opts = opts
        self.report = report
        self.src = src
        self.dst = dst
        self.next_hop = next_hop
        self.dst_mac = dst_mac
        self.engine = engine
        self.ident = (int.from_bytes(rnd[:2], "big") if ident is None else ident) & 0xFFFF
        self.nonce = (rnd[2:10] if nonce is None else nonce)[:NONCE_BYTES]
        self.ip_ident = (int.from_bytes(rnd[10:12], "big") if ip_ident is None
                         else ip_ident) & 0xFFFF
        self.size = opts.size
        self.payload = make_payload(opts.size, self.nonce, pattern)
        self._nonce_len = min(NONCE_BYTES, opts.size)
        self.stats = PingStats()
        self.pacer = IntervalPacer(opts.interval_ms, opts.preload)
        self.deadline_at = (clock_start + opts.deadline) if opts.deadline else None
        self._deadline = opts.deadline is not None
        # per wire sequence number (iputils' 16-bit space)
        self.departed_us = array("q", bytes(8 * SEQ_SPACE))  # capture time; 0: not seen
        self.answered = bytearray(SEQ_SPACE)  # 1 replied (good checksum), 2 errored
        self._pending: deque[tuple[float, int]] = deque()  # (sent at, seq) in send order
        self.ntransmitted = 0
        self.acked = 0
        self.linger_end: float | None = None
        self._build_template(opts)
        # fast-path constants
        self._ident_b = self.ident.to_bytes(2, "big")
        self._nonce_b = self.nonce[: self._nonce_len]
        self._lane: Any = None  # pump()'s prebuilt frame, False when it cannot serve
        # a report that needs no reply events (quiet, flood) takes a mark instead
        self._mark = getattr(report, "reply_mark", None)
        self._dot = getattr(report, "sent_mark", None)

    # --- building ---
    def _build_template(self, opts: PingOptions) -> None:
        icmp = ICMPEcho(False, self.ident, 0, self.payload).encode()
        total = 20 + len(icmp)
        self.datagram_len = total
        head = bytearray(20)
        head[0] = 0x45
        head[1] = opts.tos & 0xFF
        head[2:4] = total.to_bytes(2, "big")
        head[8] = opts.ttl
        head[9] = 1
        head[12:16] = self.src
        head[16:20] = self.dst
        self._template = head + icmp  # patched in place for every request
        self._icmp_seq = 0
        self._icmp_csum = int.from_bytes(icmp[2:4], "big")
        self._set_ip_checksum(self._template)
        self._pmtu_key: int | None = -1  # the learnt path MTU the answer below is for
        self._pmtu_answer: tuple[bool, int | None] = (False, None)

    def datagram(self, seq: int, df: bool) -> bytes:
        """The whole IPv4 datagram of echo request ``seq``."""
        wire = seq & 0xFFFF
        t = self._template
        if wire != self._icmp_seq:
            csum = self._icmp_csum = checksum_update(self._icmp_csum, self._icmp_seq, wire)
            self._icmp_seq = wire
            t[26] = wire >> 8
            t[27] = wire & 0xFF
            t[22] = csum >> 8
            t[23] = csum & 0xFF
        if df:  # an atomic datagram: identification 0, as Linux sends DF pings (RFC 6864)
            if t[6] != 0x40 or t[4] or t[5]:
                t[4] = t[5] = 0
                t[6] = 0x40
                self._set_ip_checksum(t)
            return bytes(t)
        ipid = (self.ip_ident + wire) & 0xFFFF
        t[4] = ipid >> 8
        t[5] = ipid & 0xFF
        t[6] = 0
        self._set_ip_checksum(t)
        return bytes(t)

    @staticmethod
    def _set_ip_checksum(t: bytearray) -> None:
        t[10] = t[11] = 0
        csum = internet_checksum(t[:20])
        t[10] = csum >> 8
        t[11] = csum & 0xFF

    # --- the engine's questions ---
    def in_flight(self) -> int:
        """iputils' in_flight(): requests sent and not yet acknowledged."""
        diff = (self.ntransmitted - self.acked) & 0xFFFF
        if diff <= 0x7FFF:
            return diff
        return self.ntransmitted - self.stats.received - self.stats.errors

    def pending(self) -> bool:
        count = self.opts.count
        return count is None or self.ntransmitted < count or self.opts.deadline is not None

    def was_sent(self, seq: int) -> bool:
        """Whether wire sequence ``seq`` went out in this run (all have, once it wrapped)."""
        return 0 < seq <= self.ntransmitted or self.ntransmitted > 0xFFFF

    def next_probes(self, now: float, n: int) -> list[Probe]:
        # -O: iputils tests its "received" bit, which only a reply sets (errors do not)
        if self.opts.outstanding and self.ntransmitted and self.answered[
                self.ntransmitted & 0xFFFF] != 1:
            self.report.outstanding(self.ntransmitted % SEQ_SPACE)
        self.ntransmitted += 1
        seq = self.ntransmitted & 0xFFFF
        self.departed_us[seq] = 0
        self.answered[seq] = 0
        stats = self.stats
        stats.transmitted += 1
        if stats.first_send is None:
            stats.first_send = now
        stats.last_send = now
        if self._dot is not None:
            self._dot(seq)
        engine = self.engine
        key = engine.pmtu.get(self.dst)
        if key != self._pmtu_key:
            self._pmtu_key = key
            self._pmtu_answer = pmtu_decision(self.opts.pmtudisc, self.datagram_len,
                                              engine.path_mtu(self.dst), engine.link.mtu)
        df, refused = self._pmtu_answer
        if refused is not None:
            stats.errors += 1
            self.answered[seq] = 2
            self.report.local_error(LocalError(seq, refused, now, self.IP_LEN == 40))
            return []
        self._pending.append((now, seq))
        return [Probe(seq, self.datagram(seq, df), self.next_hop, self.dst_mac, not df)]

    def pump(self, now: float) -> int | None:
        """The flood fast lane (``-f``, ``-i 0``): send the next request from a prebuilt
        frame (link header included) patched in place, skipping the engine's generic
        path; None when this run or this moment does not qualify (the engine then takes
        the generic path: ARP not resolved yet, a fragmented or refused size, -O, -A).
        """
        lane = self._lane
        if lane is None:
            lane = self._lane = self._build_lane()
            if not lane:
                return None
        elif lane is False or self.engine.pmtu.get(self.dst) != self._pmtu_key:
            return None
        count = self.opts.count
        pacer = self.pacer
        engine = self.engine
        # with nothing written to a file, the lane also reads what came back after each
        # request (the capture's next batch, through fast_batch), for up to LANE_TURNS
        # requests before the engine's loop (signals, timers, the end) gets its turn
        reading = engine.writer is None
        if reading and self._lane_rx[6] is not None:
            return self._pump_counted(now, lane)
        capture = engine.capture
        clock = engine.clock
        l3 = engine.l3
        sent = 0
        for _ in range(self.LANE_TURNS):
            nt = self.ntransmitted
            if count is not None and nt >= count:
                return sent
            in_flight = (nt - self.acked) & 0xFFFF
            if in_flight > 0x7FFF:
                in_flight = nt - self.stats.received - self.stats.errors
            if in_flight >= pacer.preload and pacer._ntokens(now) < pacer.MIN_INTERVAL_MS:
                return sent
            pacer.cur = now
            self._lane_send(nt + 1, now, lane)
            sent += 1
            if not reading:
                return sent
            buf, meta = capture.next_batch(16)
            n = len(meta) >> 4
            if n:
                capture.frames_read += n
                declined = self.fast_batch(buf, meta, n, l3)
                if declined:
                    for data, sec, usec in declined:
                        engine._frame(data, sec, usec, self)
            now = clock()
        return sent

    def _pump_counted(self, now: float, lane: tuple) -> int:
        """``pump`` when replies are only counted (-q, -f) and nothing is written: up to
        LANE_TURNS times one request, then every frame the capture holds.  The lane's
        request (its departure time) and the reply it asks for (type, code, checksum,
        identifier, sequence and payload equal to what we expect, in a whole unfragmented
        IP datagram from the target with a good header checksum) are taken here with the
        counters in locals; anything else ends the turns and goes the usual way
        (``fast``, then the engine) once the counters are written back."""
        frame, off, send = lane
        engine = self.engine
        capture = engine.capture
        next_batch = capture.next_batch
        clock = engine.clock
        l3 = engine.l3
        unpack = _META.unpack_from
        from_bytes = int.from_bytes
        stats = self.stats
        hist = stats.histogram
        counts, slot = hist.counts, hist.slot
        pacer = self.pacer
        departed = self.departed_us
        answered = self.answered
        count = self.opts.count
        preload = pacer.preload
        reply = self._lane_rep  # the expected reply from its type on, patched per request
        at = self._lane_reply_at  # its offset from the IP header
        flen = len(frame)
        k_req, k_rep = self._lane_k
        addrs, total_b = self._lane_rx[4], self._lane_rx[5]
        v4 = self.IP_LEN == 20
        marks: list[str] | None = [] if self._dot is not None else None
        o2, o3, o6, o7 = off + 2, off + 3, off + 6, off + 7
        nt, acked, cur = self.ntransmitted, self.acked, pacer.cur
        transmitted, received, duplicates = stats.transmitted, stats.received, stats.duplicates
        pipesize, timed, tsum, tsum2 = stats.pipesize, stats.timed, stats.tsum, stats.tsum2
        tmin, tmax, rtt8, last = stats.tmin, stats.tmax, stats.rtt8, stats.last_rtt
        jitter, htotal = stats.jitter_sum, hist.total
        frames_read = 0
        declined: list[tuple[bytes, int, int]] = []
        sent = 0
        seq = nt & 0xFFFF
        try:
            for _ in range(self.LANE_TURNS):
                if count is not None and nt >= count:
                    break
                in_flight = (nt - acked) & 0xFFFF
                if in_flight > 0x7FFF:
                    in_flight = nt - received - stats.errors
                if in_flight >= preload and int((now - cur) * 1000) < pacer.MIN_INTERVAL_MS:
                    break
                cur = now
                nt += 1
                seq = nt & 0xFFFF
                c = k_req + seq  # RFC 1624 from the template's checksum and sequence
                c = (c & 0xFFFF) + (c >> 16)
                c = ~((c & 0xFFFF) + (c >> 16)) & 0xFFFF
                frame[o6] = reply[6] = seq >> 8
                frame[o7] = reply[7] = seq & 0xFF
                frame[o2] = c >> 8
                frame[o3] = c & 0xFF
                c = k_rep + seq  # the reply's: the type's difference added in
                c = (c & 0xFFFF) + (c >> 16)
                c = ~((c & 0xFFFF) + (c >> 16)) & 0xFFFF
                reply[2] = c >> 8
                reply[3] = c & 0xFF
                departed[seq] = 0
                answered[seq] = 0
                transmitted += 1
                if marks is not None:
                    marks.append(".")
                sent += 1
                try:
                    send(frame)
                except OSError as exc:
                    declined.append((b"", -1, 0))
                    failure = exc
                    break
                buf, meta = next_batch(16)
                if meta:
                    n = len(meta) >> 4
                    frames_read += n
                    for i in range(0, n << 4, 16):
                        sec, usec, roff, caplen = unpack(meta, i)
                        if declined:  # (the rest of the batch keeps its order)
                            declined.append((buf[roff:roff + caplen], sec, usec))
                            continue
                        if caplen == flen and buf.startswith(frame, roff):
                            if not departed[seq]:  # our request, as it left
                                departed[seq] = sec * 1_000_000 + usec
                            continue
                        p = roff + l3
                        if caplen >= flen and buf.startswith(reply, p + at - 2) and (
                                (v4 and buf[p] == 0x45 and buf[p + 9] == 1
                                 and buf.startswith(addrs, p + 12)
                                 and buf.startswith(total_b, p + 2)
                                 and not buf[p + 6] & 0x3F and not buf[p + 7]
                                 and (not l3 or (buf[p - 2] == 8 and not buf[p - 1]))
                                 and not from_bytes(buf[p:p + 20], "big") % 0xFFFF)
                                or (not v4 and self._lane_ip_ok(buf[roff:roff + caplen], l3,
                                                                at + l3))):
                            # _counted, in line: the lane's reply, whole and right
                            diff = (nt - seq) & 0xFFFF
                            if diff <= 0x7FFF:
                                if diff >= pipesize:
                                    pipesize = diff + 1
                                if (0 < ((seq - acked) & 0xFFFF) <= 0x7FFF
                                        or (nt - acked) & 0xFFFF > 0x7FFF):
                                    acked = seq
                            if answered[seq] == 1:
                                duplicates += 1
                            else:
                                answered[seq] = 1
                                received += 1
                            dep = departed[seq]
                            if dep:
                                us = sec * 1_000_000 + usec - dep
                                if us < 0:
                                    us = 0
                                if timed:
                                    if us < tmin:
                                        tmin = us
                                    elif us > tmax:
                                        tmax = us
                                    jitter += us - last if us > last else last - us
                                else:
                                    tmin = tmax = us
                                timed += 1
                                tsum += us
                                tsum2 += us * us
                                rtt8 = us * 8 if not rtt8 else rtt8 + us - (rtt8 >> 3)
                                last = us
                                counts[us if us < 128 else slot(us)] += 1
                                htotal += 1
                            if marks is not None:
                                marks.append("\b \b")
                            continue
                        declined.append((buf[roff:roff + caplen], sec, usec))
                    if declined:
                        break
                now = clock()
        finally:
            self.ntransmitted, self.acked, pacer.cur = nt, acked, cur
            # what _lane_send and fast_batch go on from
            self._lane_seq = seq
            self._lane_csum = frame[o2] << 8 | frame[o3]
            self._lane_reply[:2] = reply[2:4]
            self._lane_reply[4:6] = reply[6:8]
            capture.frames_read += frames_read
            stats.transmitted, stats.received, stats.duplicates = transmitted, received, \
                duplicates
            stats.pipesize, stats.timed, stats.tsum, stats.tsum2 = pipesize, timed, tsum, tsum2
            stats.tmin, stats.tmax, stats.rtt8, stats.last_rtt = tmin, tmax, rtt8, last
            stats.jitter_sum, hist.total = jitter, htotal
            if sent:
                stats.last_send = cur
            if marks:
                self.report.write("".join(marks))
        for data, sec, usec in declined:
            if sec < 0:
                engine._send_failed(failure, flen)
            elif not self.fast(data, l3, sec, usec):
                engine._frame(data, sec, usec, self)
        return sent

    def _lane_send(self, nt: int, now: float, lane: tuple) -> None:
        frame, off, send = lane
        self.ntransmitted = nt
        seq = nt & 0xFFFF
        c = (~self._lane_csum & 0xFFFF) + (~self._lane_seq & 0xFFFF) + seq  # RFC 1624
        c = (c & 0xFFFF) + (c >> 16)
        c = (c & 0xFFFF) + (c >> 16)
        csum = self._lane_csum = ~c & 0xFFFF
        self._lane_seq = seq
        frame[off + 6] = seq >> 8
        frame[off + 7] = seq & 0xFF
        frame[off + 2] = csum >> 8
        frame[off + 3] = csum & 0xFF
        # the reply this request asks for: its type, the checksum moved by as much (RFC 1624)
        r = self._lane_reply
        r[4] = seq >> 8
        r[5] = seq & 0xFF
        c = (~csum & 0xFFFF) + self._type_delta
        c = (c & 0xFFFF) + (c >> 16)
        c = ~((c & 0xFFFF) + (c >> 16)) & 0xFFFF
        r[0] = c >> 8
        r[1] = c & 0xFF
        self.departed_us[seq] = 0
        self.answered[seq] = 0
        stats = self.stats
        stats.transmitted += 1
        stats.last_send = now
        if self._dot is not None:
            self._dot(seq)
        self._pending.append((now, seq))
        try:
            send(frame)
        except OSError as exc:
            self.engine._send_failed(exc, len(frame))

    def _build_lane(self) -> tuple[bytearray, int, Any] | bool | None:
        """The lane, False if this run can never use it, None if not yet."""
        opts = self.opts
        engine = self.engine
        link = engine.link
        if opts.interval_ms or opts.outstanding or opts.adaptive or link.kind == "loopback":
            return False
        if self.ntransmitted == 0:
            return None  # the first request goes the generic way (and resolves the hop)
        mac = self.dst_mac if self.dst_mac is not None else engine.macs.get(self.next_hop)
        if mac is None and link.kind == "ethernet":
            return None
        self._pmtu_key = engine.pmtu.get(self.dst)
        df, refused = pmtu_decision(opts.pmtudisc, self.datagram_len,
                                    engine.path_mtu(self.dst), link.mtu)
        if refused is not None or not df:
            return False
        if self.IP_LEN == 40 and self.datagram_len > engine.path_mtu(self.dst):
            return False
        header = b""
        if link.kind == "ethernet":
            header = link.header(mac or b"\0" * 6, self.ETHERTYPE)
        frame = bytearray(header + self.datagram(self.ntransmitted & 0xFFFF, True))
        off = len(header) + self.IP_LEN  # the ICMP header in the frame
        self._lane_seq = self.ntransmitted & 0xFFFF
        self._lane_csum = int.from_bytes(frame[off + 2:off + 4], "big")
        self._lane_reply = bytearray(frame[off + 2:])  # checksum onwards of the reply
        self._lane_reply_at = off - len(header) + 2  # its offset from the IP header
        # _pump_counted's: the reply from its type on, and RFC 1624's constant parts for
        # the request's checksum and the reply's (~HC + ~m, the type's change added)
        rep = bytearray(frame[off:])
        rep[0] = self.REPLY_TYPE
        csum = self._lane_csum
        k_req = (~csum & 0xFFFF) + (~self._lane_seq & 0xFFFF)
        self._lane_k = (k_req, k_req + self._type_delta)
        self._lane_rep = rep
        size = len(self._lane_reply)
        counted = self._counted if self._mark is not None and not opts.adaptive else None
        # what fast_batch compares, computed once: (request, reply, offset, size, the
        # reply's addresses, its total length, the counter, IPv4?)
        self._lane_rx = (frame, self._lane_reply, self._lane_reply_at, size,
                         self.dst + self.src, (self._lane_reply_at + size).to_bytes(2, "big"),
                         counted, self.IP_LEN == 20)
        self.pacer.cur = self.pacer.cur if self.pacer.cur is not None else 0.0
        return frame, off, engine.injector.send

    def departed(self, key: Any, ts_sec: int, ts_usec: int) -> None:
        if not self.departed_us[key]:
            self.departed_us[key] = ts_sec * 1_000_000 + ts_usec

    def next_deadline(self) -> float | None:
        wake = [self.linger_end, self.deadline_at]
        pending = self._pending
        while pending and self.answered[pending[0][1]]:
            pending.popleft()
        if pending and self.opts.timeout_s > 0:
            wake.append(pending[0][0] + self.opts.timeout_s)
        return min((w for w in wake if w is not None), default=None)

    def expire(self, now: float) -> None:
        """JSON's per-request ``timeout`` events (``-W`` after each request; none for 0)."""
        pending = self._pending
        limit = self.opts.timeout_s
        if limit <= 0:
            return
        while pending:
            at, seq = pending[0]
            if self.answered[seq]:
                pending.popleft()
                continue
            if now - at < limit:
                break
            pending.popleft()
            self.report.timeout(TimedOut(seq))

    def done(self, now: float) -> bool:
        opts = self.opts
        stats = self.stats
        count = opts.count
        if count is not None and stats.received + stats.errors >= count:
            return True
        if self._deadline:
            if stats.errors:
                return True
            if self.deadline_at is not None and now >= self.deadline_at:
                return True
            return False
        if count is not None and self.ntransmitted >= count:
            if self.linger_end is None:
                if stats.received:
                    self.linger_end = now + max(2 * stats.tmax / 1e6,
                                                self.opts.interval_ms / 1000.0)
                elif opts.timeout_s > 0:
                    self.linger_end = now + opts.timeout_s
            return self.linger_end is not None and now >= self.linger_end
        return False

    def finish(self, now: float) -> None:
        pending = self._pending
        while pending:
            _, seq = pending.popleft()
            if not self.answered[seq]:
                self.report.timeout(TimedOut(seq))

    def status(self) -> None:
        self.report.status(self.stats)

    def idle(self) -> None:
        flush = getattr(self.report, "flush", None)
        if flush is not None:
            flush()

    # --- matching ---
    def _acknowledge(self, seq: int) -> None:
        diff = (self.ntransmitted - seq) & 0xFFFF
        if diff <= 0x7FFF:
            if 0 < ((seq - self.acked) & 0xFFFF) <= 0x7FFF or (
                    self.ntransmitted - self.acked) & 0xFFFF > 0x7FFF:
                self.acked = seq

    claims_departures = True  # ``fast`` sees our unfragmented requests leave

    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        """Our unfragmented request leaving, or an unfragmented echo reply of ours with good
        checksums, recognised from the raw bytes; anything else is declined."""
        lane = self._lane
        if lane:
            if data == lane[0]:  # the flood lane's request, as it left
                seq = self._lane_seq
                if not self.departed_us[seq]:
                    self.departed_us[seq] = ts_sec * 1_000_000 + ts_usec
                return True
            at = l3 + self._lane_reply_at
            if (data[at:at + len(self._lane_reply)] == self._lane_reply
                    and data[at - 2] == self.REPLY_TYPE and not data[at - 1]
                    and self._lane_ip_ok(data, l3, at)):
                if self._mark is not None and not self.opts.adaptive:
                    self._counted(self._lane_seq, ts_sec * 1_000_000 + ts_usec)
                    return True
        n = self._nonce_len
        if data[l3 + 28:l3 + 28 + n] != self._nonce_b or data[l3 + 24:l3 + 26] != self._ident_b:
            return False
        if data[l3] != 0x45 or data[l3 + 9] != 1 or data[l3 + 6] & 0x3F or data[l3 + 7]:
            return False
        if l3 and data[l3 - 2:l3] != b"\x08\x00":
            return False
        kind = data[l3 + 20]
        seq = (data[l3 + 26] << 8) | data[l3 + 27]
        if kind == 8:
            if data[l3 + 12:l3 + 16] != self.src or data[l3 + 16:l3 + 20] != self.dst:
                return False
            if not self.was_sent(seq) or self.departed_us[seq]:
                return False
            self.departed_us[seq] = ts_sec * 1_000_000 + ts_usec
            return True
        nt = self.ntransmitted
        if kind or data[l3 + 16:l3 + 20] != self.src or not (0 < seq <= nt or nt > 0xFFFF):
            return False
        total = (data[l3 + 2] << 8) | data[l3 + 3]
        end = l3 + total
        if total < 28 or end > len(data):
            return False
        from_bytes = int.from_bytes
        h = from_bytes(data[l3:l3 + 20], "big")
        if not h or h % 0xFFFF:
            return False
        m = from_bytes(data[l3 + 20:end], "big")
        if total & 1:
            m <<= 8
        if not m or m % 0xFFFF:
            return False
        if self._mark is not None and not self.opts.adaptive:
            self._counted(seq, ts_sec * 1_000_000 + ts_usec)
            return True
        self._replied(seq, data[l3 + 12:l3 + 16], data[l3 + 8], total - 20, ts_sec, ts_usec,
                      True, (data[l3 + 22] << 8) | data[l3 + 23], None, 1)
        return True

    def fast_batch(self, buf: bytes, meta: bytes, n: int, l3: int) -> list[tuple] | None:
        """``fast`` over one ``next_batch`` result in one call (the flood lane's reading):
        returns the records it declined as (data, sec, usec), or None when it took them
        all; without a lane it hands each record to ``fast``."""
        declined = None
        unpack = _META.unpack_from
        lane = self._lane
        if not lane:
            fast = self.fast
            for i in range(0, n << 4, 16):
                sec, usec, off, caplen = unpack(meta, i)
                data = buf[off:off + caplen]
                if not fast(data, l3, sec, usec):
                    (declined := declined or []).append((data, sec, usec))
            return declined
        request, reply, at, size, addrs, total, counted, v4 = self._lane_rx
        at += l3
        departed = self.departed_us
        from_bytes = int.from_bytes
        for i in range(0, n << 4, 16):
            sec, usec, off, caplen = unpack(meta, i)
            data = buf[off:off + caplen]
            if data == request:  # the lane's request, as it left
                seq = self._lane_seq
                if not departed[seq]:
                    departed[seq] = sec * 1_000_000 + usec
                continue
            if counted is not None and data[at:at + size] == reply:
                # the expected reply's ICMP part: right by construction; the IP header:
                if v4:
                    h = from_bytes(data[l3:l3 + 20], "big")
                    whole = (data[l3] == 0x45 and data[l3 + 9] == 1 and data[at - 2] == 0
                             and not data[at - 1] and data[l3 + 12:l3 + 20] == addrs
                             and data[l3 + 2:l3 + 4] == total
                             and not data[l3 + 6] & 0x3F and not data[l3 + 7] and h
                             and not h % 0xFFFF and (not l3 or data[l3 - 2:l3] == b"\x08\x00"))
                else:
                    whole = (self._lane_ip_ok(data, l3, at) and data[at - 2] == self.REPLY_TYPE
                             and not data[at - 1])
                if whole:
                    counted(self._lane_seq, sec * 1_000_000 + usec)
                    continue
            if not self.fast(data, l3, sec, usec):
                (declined := declined or []).append((data, sec, usec))
        return declined

    def _lane_ip_ok(self, data: bytes, l3: int, at: int) -> bool:
        """The IP header around an ICMP part that equals the expected reply: ours, whole,
        unfragmented, with a good checksum (the ICMP checksum is right by construction)."""
        if data[l3] != 0x45 or data[l3 + 9] != 1 or data[l3 + 16:l3 + 20] != self.src:
            return False
        if data[l3 + 6] & 0x3F:
            return False
        if data[l3 + 7] or (data[l3 + 2] << 8 | data[l3 + 3]) != at - l3 + len(
                self._lane_reply):
            return False
        if l3 and data[l3 - 2:l3] != b"\x08\x00":
            return False
        h = int.from_bytes(data[l3:l3 + 20], "big")
        return bool(h) and not h % 0xFFFF

    def _counted(self, seq: int, at_us: int) -> None:
        """``_replied`` for a good reply when no event is wanted (quiet, flood): the same
        counting, with PingStats' and iputils' accumulators updated in line."""
        nt = self.ntransmitted
        stats = self.stats
        diff = (nt - seq) & 0xFFFF
        if diff <= 0x7FFF:
            if diff + 1 > stats.pipesize:
                stats.pipesize = diff + 1
            if 0 < ((seq - self.acked) & 0xFFFF) <= 0x7FFF or (nt - self.acked) & 0xFFFF > 0x7FFF:
                self.acked = seq
        answered = self.answered
        duplicate = answered[seq] == 1
        answered[seq] = 1
        if duplicate:
            stats.duplicates += 1
        else:
            stats.received += 1
        dep = self.departed_us[seq]
        if dep:
            us = at_us - dep
            if us < 0:
                us = 0
            if stats.timed:  # PingStats.rtt, in line
                if us < stats.tmin:
                    stats.tmin = us
                elif us > stats.tmax:
                    stats.tmax = us
                last = stats.last_rtt
                stats.jitter_sum += us - last if us > last else last - us  # type: ignore[operator]
            else:
                stats.tmin = stats.tmax = us
            stats.timed += 1
            stats.tsum += us
            stats.tsum2 += us * us
            rtt8 = stats.rtt8
            stats.rtt8 = us * 8 if not rtt8 else rtt8 + us - (rtt8 >> 3)
            stats.last_rtt = us
            h = stats.histogram
            h.counts[us if us < 128 else h.slot(us)] += 1
            h.total += 1
        self._mark(True)  # type: ignore[misc]

    def _replied(self, seq: int, src: bytes, ttl: int, icmp_length: int, ts_sec: int,
                 ts_usec: int, ok: bool, checksum: int | None, should_be: int | None,
                 fragments: int) -> None:
        dep = self.departed_us[seq]
        rtt = None
        if dep:
            rtt = ts_sec * 1_000_000 + ts_usec - dep
            if rtt < 0:
                rtt = 0
        duplicate = False
        if ok:
            if ((self.ntransmitted - seq) & 0xFFFF) <= 0x7FFF:
                self._acknowledge(seq)
            duplicate = self.answered[seq] == 1
            self.answered[seq] = 1
            self.stats.reply(seq, rtt, duplicate)
            if self.opts.adaptive and rtt is not None:
                self._adapt()
        else:
            self.stats.corrupt()
        if self._mark is not None:
            self._mark(ok)
            return
        self.report.reply(EchoReplied(
            seq=seq, src=src, ttl=ttl, icmp_length=icmp_length, rtt_us=rtt,
            ts=ts_sec + ts_usec / 1e6, duplicate=duplicate, checksum_ok=ok,
            checksum=checksum, checksum_should_be=should_be,
            truncated=icmp_length - 8 < self.size, fragments=fragments))

    def _adapt(self) -> None:
        """-A: iputils' update_interval(): the interval follows the smoothed RTT."""
        est = self.stats.rtt8 // 8 if self.stats.rtt8 else self.pacer.interval * 1000
        self.pacer.interval = (est + 500) // 1000

    def _nonce_ok(self, payload: bytes) -> bool:
        n = self._nonce_len
        if len(payload) < n:
            return payload == self.nonce[: len(payload)]
        return payload[:n] == self.nonce[:n]

    def on_frame(self, frame: Frame) -> bool:
        d = frame.decoded
        ip = d.ip
        msg = d.icmp
        if ip is None or msg is None or ip.protocol != 1 or ip.dst != self.src:
            return False
        if isinstance(msg, ICMPEcho):
            if not msg.is_reply or msg.ident != self.ident or not self.was_sent(msg.seq):
                return False
            if not self._nonce_ok(msg.payload):
                return False
            # a wrong IPv4 header checksum too (the kernel drops such a datagram unseen)
            ok = msg.checksum_ok is not False and ip.checksum_ok is not False
            self._replied(msg.seq, ip.src, ip.ttl, msg.length, frame.ts_sec, frame.ts_usec,
                          ok, msg.checksum, _should_be(d, msg.checksum_ok, msg.checksum),
                          frame.fragments)
            return True
        if isinstance(msg, ICMPError):
            return self._error(d, msg, frame)
        return False

    def _error(self, d: Decoded, msg: ICMPError, frame: Frame) -> bool:
        q = msg.quoted
        if q.ip is None or q.ip.dst != self.dst or q.ip.protocol != 1:
            return False
        inner = q.icmp
        if not isinstance(inner, ICMPEcho) or inner.is_reply or inner.ident != self.ident:
            return False
        seq = inner.seq
        if not self.was_sent(seq) or not self._nonce_ok(inner.payload):
            return False
        assert d.ip is not None
        ok = msg.checksum_ok is not False and d.ip.checksum_ok is not False
        counted = msg.icmp_type not in (4, 5)
        if ok and counted:
            self._acknowledge(seq)
            self.answered[seq] = 2
            self.stats.error(seq)
        elif not ok:
            self.stats.corrupt()
        assert d.ip is not None
        self.report.error(ErrorReported(
            seq=seq, src=d.ip.src, icmp_type=msg.icmp_type, code=msg.code, ts=frame.ts,
            mtu=msg.mtu, gateway=msg.gateway, pointer=msg.pointer, counted=counted,
            checksum_ok=ok, checksum=msg.checksum,
            checksum_should_be=_should_be(d, msg.checksum_ok, msg.checksum),
            quoted_checksum_ok=q.ip.checksum_ok))
        return True

    def on_unresolved(self, address: bytes, keys: list[Any], now: float) -> None:
        """The next hop never answered ARP: what the kernel reports for each queued request."""
        when = time.time()
        for seq in keys:
            self._acknowledge(seq)
            self.answered[seq] = 2
            self.stats.error(seq)
            self.report.error(ErrorReported(seq=seq, src=self.src, icmp_type=3, code=1,
                                            ts=when, local=True))

    def on_unassembled(self, failure: ReassemblyFailed, now: float) -> None:
        """A fragmented answer that never became whole: said, and never timed or counted."""
        src, dst, proto, _ = failure.key
        if dst != self.src or proto != 1:
            return
        seq = None
        first = failure.first
        if first is not None:
            hlen = (first[0] & 0x0F) * 4
            msg = parse_icmp(first[hlen:], verify=False) if len(first) >= hlen + 8 else None
            if isinstance(msg, ICMPEcho):
                if not msg.is_reply or msg.ident != self.ident or not self.was_sent(msg.seq):
                    return
                seq = msg.seq
            elif isinstance(msg, ICMPError):
                inner = msg.quoted.icmp
                if not isinstance(inner, ICMPEcho) or inner.ident != self.ident:
                    return
                seq = inner.seq
            else:
                return
        elif src != self.dst:
            return
        self.report.unassembled(Unassembled(seq, src, failure.describe(), failure.fragments,
                                            time.time()))


def _should_be(d: Decoded, ok: bool | None, stored: int | None) -> int | None:
    """The checksum a wrong one should have been (tcpdump's ``->`` value)."""
    if ok is not False or stored is None:
        return None
    msg = d.data[d.l4_offset:d.l4_end]
    if d.ip6 is not None and d.ip is None:
        from pcapping.wire.ipv6 import pseudo_header

        msg = pseudo_header(d.ip6.src, d.ip6.dst, len(msg), 58) + msg
    return checksum_should_be(stored, msg)


class Ping6Strategy(PingStrategy):
    """ping over IPv6: ICMPv6 echo (RFC 4443) with its pseudo-header checksum.

    The same schedule, counting and reports as IPv4, with IPv6's differences: the hop
    limit for the TTL, the traffic class for ``-Q``; no DF bit (``-M do``/``probe`` keep
    a request whole, ``want``/``dont`` let the engine fragment it with a Fragment header,
    the source's job in IPv6); and, as iputils, an ICMPv6 error does not acknowledge the
    request it quotes (only IPv4's ``receive_error_msg`` does), which shows in ``pipe``.
    """

    IP_LEN = 40
    ETHERTYPE = 0x86DD
    REQUEST_TYPE, REPLY_TYPE = 128, 129
    _type_delta = 0xFEFF  # ~0x0100: type 128 -> 129 in the first word

    def _build_template(self, opts: PingOptions) -> None:
        from pcapping.wire.icmp6 import ICMP6Echo
        from pcapping.wire.ipv6 import IPv6Header

        icmp = ICMP6Echo(False, self.ident, 0, self.payload).encode(self.src, self.dst)
        self.datagram_len = 40 + len(icmp)
        head = IPv6Header(self.src, self.dst, 58, hop_limit=opts.ttl,
                          traffic_class=opts.tos & 0xFF, payload_length=len(icmp)).encode()
        self._template = bytearray(head[:40]) + icmp
        self._icmp_seq = 0
        self._icmp_csum = int.from_bytes(icmp[2:4], "big")
        self._pmtu_key = -1
        self._pmtu_answer = (False, None)

    def datagram(self, seq: int, df: bool) -> bytes:
        """The whole IPv6 datagram of echo request ``seq`` (``df`` is for the engine)."""
        wire = seq & 0xFFFF
        t = self._template
        if wire != self._icmp_seq:
            csum = self._icmp_csum = checksum_update(self._icmp_csum, self._icmp_seq, wire)
            self._icmp_seq = wire
            t[46] = wire >> 8
            t[47] = wire & 0xFF
            t[42] = csum >> 8
            t[43] = csum & 0xFF
        return bytes(t)

    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        """Our unfragmented request leaving, or our echo reply with a good checksum."""
        lane = self._lane
        if lane and data == lane[0]:
            seq = self._lane_seq
            if not self.departed_us[seq]:
                self.departed_us[seq] = ts_sec * 1_000_000 + ts_usec
            return True
        n = self._nonce_len
        if data[l3 + 48:l3 + 48 + n] != self._nonce_b or data[l3 + 44:l3 + 46] != self._ident_b:
            return False
        if data[l3] >> 4 != 6 or data[l3 + 6] != 58:
            return False
        if l3 and data[l3 - 2:l3] != b"\x86\xdd":
            return False
        kind = data[l3 + 40]
        seq = (data[l3 + 46] << 8) | data[l3 + 47]
        if kind == 128:
            if data[l3 + 8:l3 + 24] != self.src or data[l3 + 24:l3 + 40] != self.dst:
                return False
            if not self.was_sent(seq) or self.departed_us[seq]:
                return False
            self.departed_us[seq] = ts_sec * 1_000_000 + ts_usec
            return True
        if kind != 129 or data[l3 + 24:l3 + 40] != self.src or not self.was_sent(seq):
            return False
        plen = (data[l3 + 4] << 8) | data[l3 + 5]
        end = l3 + 40 + plen
        if plen < 8 or end > len(data):
            return False
        from pcapping.wire.icmp6 import icmp6_checksum_ok

        if not icmp6_checksum_ok(data[l3 + 8:l3 + 24], self.src, data[l3 + 40:end]):
            return False
        if self._mark is not None and not self.opts.adaptive:
            self._counted(seq, ts_sec * 1_000_000 + ts_usec)
            return True
        self._replied(seq, data[l3 + 8:l3 + 24], data[l3 + 7], plen, ts_sec, ts_usec, True,
                      (data[l3 + 42] << 8) | data[l3 + 43], None, 1)
        return True

    def _lane_ip_ok(self, data: bytes, l3: int, at: int) -> bool:
        """The IPv6 header around a reply equal to the expected one: ours and whole (the
        ICMPv6 checksum is right by construction: same addresses, same message)."""
        if data[l3] >> 4 != 6 or data[l3 + 6] != 58 or data[l3 + 24:l3 + 40] != self.src:
            return False
        if data[l3 + 8:l3 + 24] != self.dst:  # (the pseudo-header of the expected reply)
            return False
        if (data[l3 + 4] << 8 | data[l3 + 5]) != at - l3 - 40 + len(self._lane_reply):
            return False
        return not l3 or data[l3 - 2:l3] == b"\x86\xdd"

    def on_frame(self, frame: Frame) -> bool:
        from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error

        d = frame.decoded
        ip6 = d.ip6
        msg = d.icmp6
        if ip6 is None or msg is None or ip6.dst != self.src:
            return False
        if isinstance(msg, ICMP6Echo):
            if not msg.is_reply or msg.ident != self.ident or not self.was_sent(msg.seq):
                return False
            if not self._nonce_ok(msg.payload):
                return False
            ok = msg.checksum_ok is not False
            self._replied(msg.seq, ip6.src, ip6.hop_limit, msg.length, frame.ts_sec,
                          frame.ts_usec, ok, msg.checksum, _should_be(d, msg.checksum_ok,
                                                                      msg.checksum),
                          frame.fragments)
            return True
        if isinstance(msg, ICMP6Error):
            return self._error6(d, msg, frame)
        return False

    def _error6(self, d: Decoded, msg: Any, frame: Frame) -> bool:
        from pcapping.wire.icmp6 import ICMP6Echo

        q = msg.quoted
        if q.ip6 is None or q.ip6.dst != self.dst:
            return False
        inner = q.icmp6
        if not isinstance(inner, ICMP6Echo) or inner.is_reply or inner.ident != self.ident:
            return False
        seq = inner.seq
        if not self.was_sent(seq) or not self._nonce_ok(inner.payload):
            return False
        ok = msg.checksum_ok is not False
        if ok:
            self.answered[seq] = 2
            self.stats.errors += 1  # (iputils: no acknowledge for IPv6 errors)
        else:
            self.stats.corrupt()
        assert d.ip6 is not None
        self.report.error(ErrorReported(
            seq=seq, src=d.ip6.src, icmp_type=msg.icmp_type, code=msg.code, ts=frame.ts,
            mtu=msg.mtu, pointer=msg.pointer, checksum_ok=ok, checksum=msg.checksum,
            checksum_should_be=_should_be(d, msg.checksum_ok, msg.checksum)))
        return True

    def on_unresolved(self, address: bytes, keys: list[Any], now: float) -> None:
        """NDP failed: iputils prints ``Destination unreachable: Address unreachable``
        from our own address for each request queued."""
        when = time.time()
        for seq in keys:
            self.answered[seq] = 2
            self.stats.errors += 1
            self.report.error(ErrorReported(seq=seq, src=self.src, icmp_type=1, code=3,
                                            ts=when, local=True))

    def on_unassembled(self, failure: ReassemblyFailed, now: float) -> None:
        from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error, parse_icmp6
        from pcapping.wire.ipv6 import walk_extensions

        src, dst, _proto, _ = failure.key
        if dst != self.src:
            return
        seq = None
        first = failure.first
        if first is not None:
            chain = walk_extensions(first, first[6], 40, len(first))
            msg = None
            if chain.protocol == 58 and len(first) >= chain.offset + 8:
                msg = parse_icmp6(first[chain.offset:], verify=False)
            if isinstance(msg, ICMP6Echo) and msg.is_reply and msg.ident == self.ident:
                seq = msg.seq
            elif isinstance(msg, ICMP6Error) and isinstance(msg.quoted.icmp6, ICMP6Echo):
                seq = msg.quoted.icmp6.seq
            else:
                return
        elif src != self.dst:
            return
        self.report.unassembled(Unassembled(seq, src, failure.describe(), failure.fragments,
                                            time.time()))


def interface_query(text: str) -> Any:
    """``--probe-if``: an ifIndex (digits), an address (IPv4 or IPv6), else a name."""
    import socket

    from pcapping.wire.ext import InterfaceQuery

    if text.isdigit():
        return InterfaceQuery.by_index(int(text))
    for af in (socket.AF_INET, socket.AF_INET6):
        try:
            return InterfaceQuery.by_address(socket.inet_pton(af, text))
        except OSError:
            continue
    return InterfaceQuery.by_name(text)


class _ProbeMixin:
    """RFC 8335 PROBE instead of echo: the same schedule and counting, an extended echo
    request about one of the target's interfaces (the L bit set: Linux answers only for
    its own interfaces) and its reply.  The request's sequence number has 8 bits; a reply
    is matched on the identifier, that byte and its source."""

    claims_departures = False
    query: Any

    def _probe_message(self, seq: int) -> bytes:
        raise NotImplementedError

    def _build_template(self, opts: PingOptions) -> None:
        self._template = bytearray()
        self.datagram_len = len(self.datagram(1, True))  # type: ignore[attr-defined]
        self._pmtu_key = -1
        self._pmtu_answer = (False, None)

    def pump(self, now: float) -> None:
        return None

    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        return False

    def fast_batch(self, buf: bytes, meta: bytes, n: int, l3: int) -> list[tuple]:
        out = []
        for i in range(0, n << 4, 16):
            sec, usec, off, caplen = _META.unpack_from(meta, i)
            out.append((buf[off:off + caplen], sec, usec))
        return out

    def _seq16(self, wire: int) -> int:
        nt = self.ntransmitted  # type: ignore[attr-defined]
        return (nt - ((nt - wire) & 0xFF)) & 0xFFFF

    def _probe_reply(self, frame: Frame, src: bytes, ttl: int, msg: Any) -> bool:
        from pcapping.probe.events import ProbeAnswered
        from pcapping.wire.extecho import ExtEchoReply, ext_echo_of

        reply = ext_echo_of(msg)
        if not isinstance(reply, ExtEchoReply) or reply.ident != self.ident:  # type: ignore[attr-defined]
            return False
        if src != self.dst or not self.ntransmitted:  # type: ignore[attr-defined]
            return False
        seq = self._seq16(reply.seq)
        ok = msg.checksum_ok is not False
        dep = self.departed_us[seq]  # type: ignore[attr-defined]
        rtt = None
        if dep:
            rtt = max(frame.ts_sec * 1_000_000 + frame.ts_usec - dep, 0)
        if ok:
            self._acknowledge(seq)  # type: ignore[attr-defined]
            duplicate = self.answered[seq] == 1  # type: ignore[attr-defined]
            self.answered[seq] = 1  # type: ignore[attr-defined]
            self.stats.reply(seq, rtt, duplicate)  # type: ignore[attr-defined]
        else:
            self.stats.corrupt()  # type: ignore[attr-defined]
        self.report.probe(ProbeAnswered(  # type: ignore[attr-defined]
            seq, src, reply.code, reply.state, reply.active, reply.ipv4, reply.ipv6, rtt,
            frame.ts, ttl))
        return True


class ProbeStrategy(_ProbeMixin, PingStrategy):
    """``send --probe-if``: RFC 8335 PROBE over IPv4 (ICMP 42/43)."""

    def __init__(self, opts: PingOptions, report: PingReport, *, query: Any,
                 **kw: Any) -> None:
        self.query = query
        super().__init__(opts, report, **kw)

    def datagram(self, seq: int, df: bool) -> bytes:
        from pcapping.wire.extecho import ExtEchoRequest
        from pcapping.wire.ipv4 import IPv4Header

        msg = ExtEchoRequest(self.ident, seq & 0xFF, self.query, local=True).encode()
        return IPv4Header(self.src, self.dst, 1, ttl=self.opts.ttl, tos=self.opts.tos,
                          ident=(self.ip_ident + seq) & 0xFFFF,
                          flags=0x4000 if df else 0).encode(msg)

    def on_frame(self, frame: Frame) -> bool:
        d = frame.decoded
        if d.ip is None or d.icmp is None or d.ip.dst != self.src:
            return False
        if d.icmp.icmp_type == 43:
            return self._probe_reply(frame, d.ip.src, d.ip.ttl, d.icmp)
        return PingStrategy.on_frame(self, frame) if isinstance(d.icmp, ICMPError) else False

    def _error(self, d: Decoded, msg: ICMPError, frame: Frame) -> bool:
        q = msg.quoted
        if q.ip is None or q.ip.dst != self.dst or q.ip.protocol != 1:
            return False
        at = q.ip.header_length
        head = msg.payload[at:at + 8]  # the quoted extended echo request's header
        if len(head) < 8 or head[0] != 42 or int.from_bytes(head[4:6], "big") != self.ident:
            return False
        seq = self._seq16(head[6])
        ok = msg.checksum_ok is not False
        if ok:
            self._acknowledge(seq)
            self.answered[seq] = 2
            self.stats.error(seq)
        else:
            self.stats.corrupt()
        assert d.ip is not None
        self.report.error(ErrorReported(
            seq=seq, src=d.ip.src, icmp_type=msg.icmp_type, code=msg.code, ts=frame.ts,
            mtu=msg.mtu, gateway=msg.gateway, pointer=msg.pointer, checksum_ok=ok))
        return True


class Probe6Strategy(_ProbeMixin, Ping6Strategy):
    """``send -6 --probe-if``: RFC 8335 PROBE over IPv6 (ICMPv6 160/161)."""

    def __init__(self, opts: PingOptions, report: PingReport, *, query: Any,
                 **kw: Any) -> None:
        self.query = query
        super().__init__(opts, report, **kw)

    def datagram(self, seq: int, df: bool) -> bytes:
        from pcapping.wire.extecho import ExtEchoRequest
        from pcapping.wire.ipv6 import IPv6Header

        msg = ExtEchoRequest(self.ident, seq & 0xFF, self.query, local=True).encode6(
            self.src, self.dst)
        return IPv6Header(self.src, self.dst, 58, hop_limit=self.opts.ttl,
                          traffic_class=self.opts.tos).encode(msg)

    def on_frame(self, frame: Frame) -> bool:
        d = frame.decoded
        if d.ip6 is None or d.icmp6 is None or d.ip6.dst != self.src:
            return False
        if d.icmp6.icmp_type == 161:
            return self._probe_reply(frame, d.ip6.src, d.ip6.hop_limit, d.icmp6)
        return False
