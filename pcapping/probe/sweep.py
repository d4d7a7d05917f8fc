"""The sweep strategy: many targets at once, fping's modes, stateless matching, a global rate.

``SweepStrategy`` probes a target set (``probe/targets.py``) on the engine in **rounds**:
round ``r`` sends one echo request to every target (in default mode, to every target not
yet alive: fping's retries, each after the previous one's timeout times the backoff; with
``-c``/``-C``/``-l``, round ``r + 1`` reaches a target one period after round ``r`` did).
Every probe draws from one token bucket (``--rate``), retries first in default mode, the
oldest round first with ``-c``/``-l`` (fping's order).

**Stateless matching** (zmap's idea): nothing is stored per probe.  A keyed BLAKE2s of the
target address (a fresh 16-byte key per run) gives the ICMP identifier, the base of the
sequence numbers (sequence = base + round) and an 8-byte payload nonce; the payload also
carries the send time (wall-clock microseconds) and the target address.  A reply therefore
names its target and round and proves it is ours (identifier, round in range, nonce), and
its RTT is its capture timestamp minus the send time it carries (fping too times from user
space at send to the kernel's receive timestamp).  At rates up to 20,000 probes/s the
capture also sees the probes leave and the RTT runs from that wire time instead (as
``send``'s): a FIFO of recent departures, at most 65,536, never one per target.  An ICMP
error quotes the datagram, so the quoted destination, identifier and sequence (and the nonce
when quoted) validate it the same way even when a router quotes only 8 bytes of data.

**Memory.** What is kept per target is what the output needs: one byte of verdict (alive,
excluded) and one byte naming the first error kind, plus in default mode one byte counting
probes (64 KiB each for a /16, nothing per probe); ``-c``/``-C``/``-l`` add fping's per-target
statistics (counts, min/max/sum, and ``-C``'s RTT per probe) and one byte per target for each
round still waiting for answers.  When each target was probed is not stored: every round
records *marks* (``[end, time]``: every target before ``end`` was probed by ``time``), one per
millisecond of sending, dropped once the next round and the round's own timeouts have passed
them, so they are bounded by the rate times the longest wait, never by the number of targets.
Timeouts and the next round's start are therefore exact to within 1 ms.

**Counting** follows fping 5.1 where it has a rule (``stats_add``, ``wait_for_reply``): a
probe counts as sent when it is answered or timed out; a duplicate (a second reply to the
same probe; in default mode any reply after the first, as fping's index is always 0) is not
received; a reply later than its timeout is *late* (fping silently drops it; here it is
counted, and in default mode it still shows the target alive, as fping's backoff usually
lets it); an ICMP error about a probe is reported and the probe still times out; a reply
with a wrong ICMP checksum is *corrupted*, not received.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from array import array
from typing import Any, NamedTuple, Protocol

from pcapping.probe.engine import Frame, Probe, RatePacer
from pcapping.wire.frag import ReassemblyFailed
from pcapping.wire.icmp import ICMPEcho, ICMPError

PAYLOAD_MIN = 20  # nonce (8), send time (8), target (4)
MARK_SPAN_S = 0.001
BATCH = 128  # probes per pump call at most, then the engine reads
ERROR_TYPES = (3, 4, 5, 11, 12)  # what fping reports about its probes
VERDICT_TYPES = (3, 11, 12)  # errors that say the target was not reached
MAX_KINDS = 254
MAX_ROUTERS = 4096
MAX_PREFIXES = 4096  # per router
BURST_GAP_S = 0.25  # a router's first errors closer than this to each other: its burst
EARLY = 64  # arrival times kept per router and error kind
MAX_DEPARTURES = 65536
WIRE_TIMING_MAX_RATE = 20_000.0  # below this the capture also times our probes leaving
_META = struct.Struct("=IIII")
_PROBE = struct.Struct(">H4s4sHH2sH8sQ4s")  # IP csum .. target, from IP offset 10
# an echo reply from its IP header: version/IHL, total length, fragment word, TTL, protocol,
# source, destination, ICMP type, identifier, sequence, nonce, send time, target
_REPLY = struct.Struct(">BxHxxHBBxx4s4sBxxx2sH8sQ4s")
_ADDR = struct.Struct(">I")
_M64 = (1 << 64) - 1

NO_ANSWER, ALIVE, EXCLUDED = 0, 1, 2


class SweepOptions(NamedTuple):
    """Every option of a many-target ``send`` (fping's meaning, pcapping's letters)."""

    count: int | None = None         # -c / -C: probes per target (None: default mode)
    loop: bool = False               # -l / --loop: until stopped
    report_all: bool = False         # -C: every RTT per target at the end
    retries: int = 3                 # -r: default mode only
    backoff: float = 1.5             # -B: default mode only
    timeout_s: float | None = None   # -W (None: fping's 0.5 s; with -c/-l the period, <= 2 s)
    period_s: float = 1.0            # -i: between two probes to one target (fping's -p)
    rate: float = 100.0              # --rate: probes per second, all targets (fping: 10 ms)
    min_gap_s: float = 0.0           # --min-gap: never two probes to one target closer
    size: int = 56                   # -s: ICMP payload bytes
    ttl: int = 64                    # -t
    tos: int = 0                     # -Q
    df: bool = True                  # -M do|want (dont: clear)
    deadline_s: float | None = None  # -w: stop after this long
    pattern: bytes | None = None     # -p: fills the payload after pcapping's 20 bytes
    broadcast: bool = False          # -b: probe broadcast targets too

    @property
    def counting(self) -> bool:
        """-c, -C or -l: fping's per-probe lines and per-target statistics."""
        return self.count is not None or self.loop

    @property
    def timeout(self) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        if self.counting:
            return min(self.period_s, 2.0)  # fping's AUTOTUNE_TIMEOUT_MAX
        return 0.5

    @property
    def rounds(self) -> int | None:
        """How many rounds at most (None: -l)."""
        if self.loop:
            return None
        if self.count is not None:
            return self.count
        return self.retries + 1

    def round_timeout(self, r: int) -> float:
        if self.counting:
            return self.timeout
        return self.timeout * self.backoff ** r

    def round_gap(self, r: int) -> float:
        """How long after round ``r`` reached a target round ``r + 1`` may reach it."""
        gap = self.period_s if self.counting else self.round_timeout(r)
        return max(gap, self.min_gap_s)


class SweepReport(Protocol):
    """What the strategy tells its report (``report/fping.py``); ``i`` is a target index,
    ``r`` the round (fping's ``[N]``), times are microseconds of the capture clock."""

    def reply(self, i: int, r: int, src: bytes, ttl: int, nbytes: int, rtt_us: int,
              ts_us: int, first: bool, late: bool) -> None: ...
    def duplicate(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
                  ts_us: int) -> None: ...
    def late(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
             ts_us: int) -> None: ...
    def corrupt(self, i: int, r: int, src: bytes, ts_us: int) -> None: ...
    def error(self, i: int, r: int, src: bytes, icmp_type: int, code: int, ts_us: int,
              local: bool, mtu: int | None) -> None: ...
    def timeout(self, i: int, r: int, ts_us: int) -> None: ...
    def unsent(self, i: int, r: int, why: str) -> None: ...


class Keyed:
    """The run's keyed hash: target address -> (identifier, sequence base, nonce)."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key if key is not None else os.urandom(16)
        self._h = hashlib.blake2s(key=self.key, digest_size=12)

    def digest(self, addr4: bytes) -> bytes:
        h = self._h.copy()
        h.update(addr4)
        return h.digest()

    def fields(self, addr: int) -> tuple[int, int, bytes]:
        d = self.digest(addr.to_bytes(4, "big"))
        return (d[0] << 8) | d[1], (d[2] << 8) | d[3], d[4:12]


class _Round:
    """One pass over the targets (see the module docstring)."""

    __slots__ = ("r", "timeout_s", "gap_s", "next", "exp", "marks", "mbase", "gate_pos",
                 "exp_pos", "replied", "last", "sent", "t_first", "t_last", "g_first",
                 "g_last")

    def __init__(self, r: int, timeout_s: float, gap_s: float, last: bool) -> None:
        self.r = r
        self.timeout_s = timeout_s
        self.gap_s = gap_s  # before the next round may follow
        self.next = 0  # next target this round considers sending to
        self.exp = 0  # next target whose timeout this round checks
        self.marks: list[list[float]] = []  # [end, time, first time]
        self.mbase = 0  # absolute number of marks[0]
        self.gate_pos = 0  # first mark the next round has not fully passed
        self.exp_pos = 0  # first mark the timeouts have not fully passed
        self.replied: bytearray | None = None  # -c/-l: answered in this round
        self.last = last  # no round follows
        self.sent = 0
        self.t_first: float | None = None  # engine clock of its first and last probe
        self.t_last: float | None = None
        self.g_first = 0  # probes sent by all rounds after its first batch, after its last
        self.g_last = 0

    def mark(self, end: int, now: float) -> None:
        marks = self.marks
        if marks and now - marks[-1][2] < MARK_SPAN_S:
            m = marks[-1]
            m[0] = end
            m[1] = now
        else:
            marks.append([end, now, now])

    def retime(self, j: int, when: float) -> None:
        """Target ``j`` of this round was really probed at ``when`` (later than marked)."""
        marks = self.marks
        for k in range(len(marks) - 1, -1, -1):
            if marks[k][0] <= j:
                break
            if k == 0 or marks[k - 1][0] <= j:
                if marks[k][1] < when:
                    marks[k][1] = when
                return

    def limit(self, pos: int, delay: float, now: float, cursor: int) -> int:
        """The index before which every target was reached ``delay`` ago or more."""
        marks = self.marks
        k = pos - self.mbase
        lim = cursor
        while k < len(marks):
            m = marks[k]
            if m[1] + delay > now:
                break
            lim = int(m[0])
            k += 1
        return max(lim, cursor)

    def advance(self, pos: int, cursor: int) -> int:
        """The first mark a consumer at ``cursor`` has not fully passed; never beyond the
        last mark, which this round may still extend."""
        marks = self.marks
        k = pos - self.mbase
        while k < len(marks) - 1 and marks[k][0] <= cursor:
            k += 1
        return k + self.mbase

    def due(self, pos: int, delay: float, cursor: int) -> float | None:
        """When a consumer at ``cursor`` may next go on (None: nothing to wait for yet)."""
        marks = self.marks
        k = pos - self.mbase
        while k < len(marks):
            m = marks[k]
            if m[0] > cursor:
                return m[1] + delay
            k += 1
        return None

    def trim(self) -> None:
        keep = self.exp_pos if self.last else min(self.exp_pos, self.gate_pos)
        k = keep - self.mbase
        if k > 256:
            del self.marks[:k]
            self.mbase += k


class RouterErrors:
    """One kind of error (type, code) one router sent about our probes: for the rate-limit
    diagnosis (bounded: at most MAX_PREFIXES /24s)."""

    __slots__ = ("count", "first_us", "last_us", "early", "prefixes")

    def __init__(self, ts_us: int) -> None:
        self.count = 0
        self.first_us = ts_us
        self.last_us = ts_us
        self.early: list[int] = []  # arrival times of the first EARLY errors
        self.prefixes: dict[int, int] = {}  # target /24 -> errors about it

    def burst(self) -> tuple[int, int]:
        """(errors in the first burst, when its last one came): the opening run of
        errors with no gap of BURST_GAP_S between two of them."""
        early = self.early
        if not early:
            return 0, self.first_us
        n = 1
        while n < len(early) and early[n] - early[n - 1] < BURST_GAP_S * 1e6:
            n += 1
        return n, early[n - 1]


class SweepStats:
    """Run-wide counters (fping's ``-s`` and the extra ones)."""

    def __init__(self) -> None:
        self.sent = 0
        self.replies = 0  # every validated echo reply (fping's "Echo Replies received")
        self.received = 0  # on time, not duplicate, good checksum
        self.duplicates = 0
        self.late = 0
        self.corrupted = 0
        self.errors = 0  # fping's "other ICMP received" (ours only)
        self.timeouts = 0
        self.unsent = 0
        self.rtt_min_us: int | None = None
        self.rtt_max_us = 0
        self.rtt_sum_us = 0
        self.first_send: float | None = None  # engine clock
        self.last_send: float | None = None
        self.send_drops = 0
        self.first_round: tuple[int, float] | None = None  # see send_rate

    def round_done(self, rnd: Any) -> None:
        if rnd.r == 0:
            self.first_round = _round_rate(rnd)

    def send_rate(self, rounds: Any = ()) -> tuple[int, float] | None:
        """(probes, seconds) while the first round was sending: every probe of every round
        (retries share the token bucket) after its first batch, up to its last one.  The
        rate that --rate holds; None when that span was too short to say."""
        if self.first_round is not None:
            return self.first_round
        for rnd in rounds:
            if rnd.r == 0:
                return _round_rate(rnd)
        return None


    def rtt(self, us: int) -> None:
        if self.rtt_min_us is None or us < self.rtt_min_us:
            self.rtt_min_us = us
        if us > self.rtt_max_us:
            self.rtt_max_us = us
        self.rtt_sum_us += us


def _round_rate(rnd: Any) -> tuple[int, float] | None:
    if rnd.t_first is None or rnd.t_last is None or rnd.t_last <= rnd.t_first:
        return None
    n = rnd.g_last - rnd.g_first
    return (n, rnd.t_last - rnd.t_first) if n > 0 else None


class SweepStrategy:
    """A many-target run on the engine (see the module docstring)."""

    claims_departures = True  # departures are not timed: the probe carries its send time
    record_own = False  # --write: the capture sees our probes leave (claimed, recorded)
    local_injector: Any = None  # the loopback lane for this host's own addresses
    # wire departure times (target + sequence -> capture microseconds) when the capture
    # sees our probes leave (time_departures): a FIFO of at most MAX_DEPARTURES
    departures: dict[bytes, int] | None = None

    def __init__(self, targets: Any, plan: Any, opts: SweepOptions, report: SweepReport, *,
                 engine: Any, src: bytes, key: bytes | None = None,
                 clock_start: float = 0.0, wall: Any = time.time_ns,
                 time_departures: bool = False) -> None:
        if opts.size < PAYLOAD_MIN:
            raise ValueError(f"size must be at least {PAYLOAD_MIN}")
        self.targets = targets
        self.n = n = len(targets)
        self.plan = plan
        self.opts = opts
        self.report = report
        self.engine = engine
        self.src = src
        self.keyed = Keyed(key)
        self.wall = wall
        self.stats = SweepStats()
        # a bucket of 10 ms of probes catches up after a stall; it starts with one token,
        # so a run's first moments are not a burst either
        self.pacer = RatePacer(opts.rate, max(1, int(opts.rate * 0.01)))
        self.pacer.tokens = 1.0
        self.start = clock_start
        self.deadline_at = clock_start + opts.deadline_s if opts.deadline_s else None
        self.max_rounds = opts.rounds
        self.counting = opts.counting
        # per target
        self.verdict = bytearray(n)  # NO_ANSWER, ALIVE, EXCLUDED
        self.errkind = bytearray(n)  # 0, or 1 + index into self.kinds
        self.kinds: list[tuple[bytes, int, int, bool]] = []  # (from, type, code, local)
        self._kind_ids: dict[tuple[bytes, int, int, bool], int] = {}
        self.alive_count = 0
        self.excluded = 0
        if self.counting:
            self.xmt = array("I", bytes(4 * n))
            self.rcv = array("I", bytes(4 * n))
            self.dup = array("I", bytes(4 * n))
            self.nlate = array("I", bytes(4 * n))
            self.nerr = array("I", bytes(4 * n))
            self.tmin = array("q", bytes(8 * n))
            self.tmax = array("q", bytes(8 * n))
            self.tsum = array("q", bytes(8 * n))
            self.rtts = (array("i", [-2]) * (n * opts.count)
                         if opts.report_all and opts.count else None)
            self.probes: bytearray | None = None
        else:
            self.probes = bytearray(n)  # probes sent per target (<= retries + 1)
        self.routers: dict[tuple[bytes, int, int], RouterErrors] = {}  # (from, type, code)
        self.rounds: list[_Round] = []  # active rounds, oldest first
        self.created = 0
        self._sendable = n > 0
        self._token_at: float | None = None  # when the next token makes a due probe go
        self._now = clock_start  # the engine clock at the last pump
        self._held: list[tuple[int, int, bytes]] = []  # (round, target, next hop) behind ARP
        self._finished = n == 0
        self._reading = False  # inside engine.read_now (from expire)
        self._retries_first = not self.counting
        if time_departures:
            self.departures = {}
            self.record_own = True
        rounds = opts.rounds if opts.rounds is not None else 1
        self._timeout_us = [opts.round_timeout(r) * 1e6 for r in range(min(rounds, 256))]
        self.l3 = engine.link.l3_offset
        self._build_template()  # IP header, ICMP header, payload (nonce, time, target, rest)
        self.fast = self._make_fast()  # type: ignore[method-assign]
        self._frame = bytearray(engine.link.header(b"\0" * 6)) + self._datagram
        self._hdr_mac: bytes | None = None
        make_batch = getattr(getattr(engine, "injector", None), "batch", None)
        self._batch = make_batch(len(self._frame), BATCH) if make_batch is not None else None
        self._batch_mac: bytes | None = None
        self._piece = (1, 0, None)  # (first, last, dst MAC) of the piece last probed

    # --- building ---
    def _build_template(self) -> None:
        opts = self.opts
        total = 20 + 8 + opts.size
        head = bytearray(20)
        head[0] = 0x45
        head[1] = opts.tos & 0xFF
        head[2:4] = total.to_bytes(2, "big")
        head[6] = 0x40 if opts.df else 0
        head[8] = opts.ttl
        head[9] = 1
        head[12:16] = self.src
        rest_len = opts.size - PAYLOAD_MIN
        pattern = opts.pattern
        if pattern:
            rest = (pattern * (rest_len // len(pattern) + 1))[:rest_len]
        else:
            rest = bytes(rest_len)  # fping's payload is zeros
        icmp = bytearray(8 + PAYLOAD_MIN) + rest
        icmp[0] = 8
        self._datagram = head + icmp
        # one's-complement sums of what never changes (RFC 1071's arithmetic, mod 0xFFFF)
        self._ip_sum = int.from_bytes(head, "big") % 0xFFFF
        padded = rest + (b"\0" if len(rest) & 1 else b"")
        self._icmp_sum = (0x0800 + int.from_bytes(padded, "big")) % 0xFFFF
        self._total = total

    def probe_bytes(self, addr: int, r: int, now_us: int) -> bytes:
        """The whole datagram of round ``r``'s probe to ``addr`` (tests and the generic path)."""
        self._fill(addr, r, now_us)
        return bytes(self._frame[self.l3:])

    def _fill(self, addr: int, r: int, now_us: int) -> None:
        """Patch the frame template in place for one probe."""
        a4 = addr.to_bytes(4, "big")
        h = self.keyed._h.copy()
        h.update(a4)
        d = h.digest()
        dv = int.from_bytes(d, "big")
        seqb = (dv >> 64) & 0xFFFF
        seq = (seqb + r) & 0xFFFF
        ipid = 0 if self.opts.df else (dv >> 48) & 0xFFFF
        # RFC 1071's sum is the bytes read as one integer, mod 0xFFFF (2**16 = 1 mod 0xFFFF):
        # the address adds itself, the digest (identifier, sequence base, nonce) itself
        # minus the base plus the sequence, the send time itself
        t = (self._ip_sum + addr + ipid) % 0xFFFF
        ip_csum = 0xFFFF - t if t else 0
        c = (self._icmp_sum + dv - seqb + seq + now_us + addr) % 0xFFFF
        icmp_csum = 0xFFFF - c if c else 0
        frame = self._frame
        off = self.l3 + 10
        _PROBE.pack_into(frame, off, ip_csum, self.src, a4, 0x0800, icmp_csum, d[0:2], seq,
                         d[4:12], now_us, a4)
        if not self.opts.df:
            frame[off - 6] = ipid >> 8
            frame[off - 5] = ipid & 0xFF

    # --- the engine's questions ---
    def pending(self) -> bool:
        return self._sendable

    def in_flight(self) -> int:
        return 0

    def next_probes(self, now: float, n: int) -> list[Probe]:
        return []  # pump() does all the sending

    def departed(self, key: Any, ts_sec: int, ts_usec: int) -> None:
        pass

    def _new_round(self) -> _Round:
        r = self.created
        self.created += 1
        last = self.max_rounds is not None and r + 1 >= self.max_rounds
        rnd = _Round(r, self.opts.round_timeout(r), self.opts.round_gap(r), last)
        if self.counting:
            rnd.replied = bytearray(self.n)
            if self.excluded:
                for i in range(self.n):
                    if self.verdict[i] == EXCLUDED:
                        rnd.replied[i] = 1
        self.rounds.append(rnd)
        return rnd

    def _order(self) -> list[_Round]:
        rounds = self.rounds
        if self._retries_first and len(rounds) > 1:
            return rounds[1:] + rounds[:1] if rounds[0].r == 0 else rounds
        return rounds

    def pump(self, now: float) -> int:
        """Send what is due now, within the token bucket; expire what timed out first."""
        self._now = now
        if self._held:
            self._release_held(now)
        if not self.counting:
            self._skip_alive(now)
        self.expire(now)
        if self._finished:
            self._sendable = False
            return 0
        if not self.rounds and self.created == 0:
            self._new_round()
        budget = self.pacer.ready(now, 0)
        self._token_at = None
        if budget <= 0:
            # waiting for a token: said through next_deadline (at least 1 µs ahead), since
            # the pacer's own next_at may round to now when a token is 1e-16 short
            self._sendable = False
            if self._has_due(now):
                pacer = self.pacer
                self._token_at = now + max((1.0 - pacer.tokens) / pacer.rate, 1e-6)
            return 0
        budget = min(budget, BATCH)
        sent = 0
        order = self._order()
        for rnd in order:
            if rnd.next >= self.n:
                continue
            prev = self._previous(rnd)
            if prev is None:
                lim = self.n
            else:
                lim = prev.limit(prev.gate_pos, prev.gap_s, now, rnd.next)
                lim = min(lim, prev.next)
            if lim <= rnd.next:
                continue
            sent += self._send_run(rnd, lim, budget - sent, now)
            if prev is not None:
                prev.gate_pos = prev.advance(prev.gate_pos, rnd.next)
                prev.trim()
            if sent >= budget:
                break
        if sent:
            self.pacer.sent(now, sent)
        # a round that has reached its first target lets the next one be created
        last = self.rounds[-1] if self.rounds else None
        if (last is not None and last.marks and not last.last
                and (self.max_rounds is None or self.created < self.max_rounds)):
            self._new_round()
        self._sendable = sent >= budget  # else nothing may go before next_deadline()
        return sent

    def _release_held(self, now: float) -> None:
        """Probes that waited for ARP left when it was answered (or never, when it was not),
        later than their marks say: their marks move to now, so that the next round's gap
        and the timeouts count from when they really left."""
        engine = self.engine
        still = []
        for r, j, hop in self._held:
            if hop not in engine.macs and hop in engine.queued:
                still.append((r, j, hop))
                continue
            for rnd in self.rounds:
                if rnd.r == r:
                    rnd.retime(j, now)
                    break
        self._held = still

    def _skip_alive(self, now: float) -> None:
        """Default mode: a retry round passes the targets alive by now at once, without
        waiting for their turn (nor for a token)."""
        verdict = self.verdict
        for rnd in self.rounds:
            prev = self._previous(rnd)
            if prev is None or rnd.next >= prev.next:
                continue
            nxt = verdict.find(0, rnd.next, prev.next)
            nxt = prev.next if nxt < 0 else nxt
            if nxt > rnd.next:
                rnd.next = nxt
                rnd.mark(nxt, now)
                prev.gate_pos = prev.advance(prev.gate_pos, nxt)

    def _previous(self, rnd: _Round) -> _Round | None:
        if rnd.r == 0:
            return None
        for other in self.rounds:
            if other.r == rnd.r - 1:
                return other
        return None  # the previous round has fully finished: nothing holds this one back

    def _has_due(self, now: float) -> bool:
        """Whether some round could send now if it had tokens."""
        for rnd in self.rounds:
            if rnd.next >= self.n:
                continue
            prev = self._previous(rnd)
            if prev is None:
                return True
            when = prev.due(prev.gate_pos, prev.gap_s, rnd.next)
            if when is not None and when <= now:
                return True
        return False

    def _send_run(self, rnd: _Round, lim: int, budget: int, now: float) -> int:
        """Probe targets rnd.next .. lim-1 of round ``rnd`` (at most ``budget``).

        The hot path of every probe: the frame is patched in place (``_fill``'s arithmetic,
        in line); probes to a piece whose next hop is known go side by side into the
        injector's batch, sent with one system call per BATCH; any other goes through
        ``_send_frame`` (a new piece, ARP, broadcast, loopback) after the batch is flushed,
        so probes leave in order."""
        targets = self.targets
        verdict = self.verdict
        skip_alive = not self.counting and rnd.r > 0
        probes = self.probes
        j = rnd.next
        sent = 0
        r = rnd.r
        first = getattr(targets, "first", None)
        addr_of = targets.addr
        wall = self.wall
        stats = self.stats
        send_frame = self._send_frame
        excluded = self.excluded
        frame = self._frame
        off = self.l3 + 10
        pack_into = _PROBE.pack_into
        pack_addr = _ADDR.pack
        from_bytes = int.from_bytes
        hbase = self.keyed._h
        ip_sum = self._ip_sum
        icmp_sum = self._icmp_sum
        my_src = self.src
        df = self.opts.df
        batch = self._batch
        bbuf = batch.buffer if batch is not None else None
        stride = len(frame)
        k = 0  # frames waiting in the batch
        lo, hi, mac = self._piece
        batch_ok = batch is not None and mac is not None and mac == self._batch_mac
        while j < lim and sent < budget:
            if skip_alive:
                nxt = verdict.find(0, j, lim)
                if nxt < 0:
                    j = lim
                    break
                j = nxt
            elif excluded and verdict[j] == EXCLUDED:
                j += 1
                continue
            a = first + j if first is not None else addr_of(j)
            in_batch = batch_ok and lo <= a <= hi
            if in_batch:
                buf, base = bbuf, k * stride
            else:
                if k:
                    self._flush(k)
                    k = 0
                buf, base = frame, 0
            a4 = pack_addr(a)
            h = hbase.copy()
            h.update(a4)
            d = h.digest()
            dv = from_bytes(d, "big")
            seqb = (dv >> 64) & 0xFFFF
            seq = (seqb + r) & 0xFFFF
            now_us = wall() // 1000
            if df:
                t = (ip_sum + a) % 0xFFFF
            else:
                ipid = (dv >> 48) & 0xFFFF
                t = (ip_sum + a + ipid) % 0xFFFF
                buf[base + off - 6] = ipid >> 8  # type: ignore[index]
                buf[base + off - 5] = ipid & 0xFF  # type: ignore[index]
            c = (icmp_sum + dv - seqb + seq + now_us + a) % 0xFFFF
            pack_into(buf, base + off, 0xFFFF - t if t else 0, my_src, a4, 0x0800,
                      0xFFFF - c if c else 0, d[0:2], seq, d[4:12], now_us, a4)
            if in_batch:
                k += 1
                if k == BATCH:
                    self._flush(k)
                    k = 0
            else:
                send_frame(a, j, r, now)
                lo, hi, mac = self._piece
                if batch is not None and mac is not None and mac != self._batch_mac:
                    self._batch_header(mac)
                batch_ok = batch is not None and mac is not None and mac == self._batch_mac
            if probes is not None:
                probes[j] += 1
            j += 1
            sent += 1
        if k:
            self._flush(k)
        stats.sent += sent
        if sent:
            if stats.first_send is None:
                stats.first_send = now
            stats.last_send = now
            rnd.sent += sent
            if rnd.t_first is None:
                rnd.t_first = now
                rnd.g_first = stats.sent
            rnd.t_last = now
            rnd.g_last = stats.sent
        rnd.next = j
        rnd.mark(j, now)
        return sent

    def _batch_header(self, mac: bytes) -> None:
        """Every slot of the batch gets the link header for ``mac`` (and the template)."""
        batch = self._batch
        assert batch is not None
        template = bytearray(self._frame)
        if self.l3:
            template[0:6] = mac
        stride = len(template)
        batch.buffer[:] = bytes(template) * (len(batch.buffer) // stride)
        self._batch_mac = mac

    def _flush(self, k: int) -> None:
        engine = self.engine
        try:
            done = self._batch.send(k)  # type: ignore[union-attr]
        except OSError as exc:
            engine._send_failed(exc, len(self._frame))  # a full queue: one counted lost
            done = 1
            engine.send_drops += k - 1
        else:
            engine.send_drops += k - done  # the queue filled up part way
        engine.frames_sent += k
        self.stats.send_drops = engine.send_drops

    def _send_frame(self, a: int, j: int, r: int, now: float) -> None:
        lo, hi, mac = self._piece
        engine = self.engine
        if not lo <= a <= hi:
            plan = self.plan
            lo, hi = plan.piece(a)
            hop = plan.hop(a)
            mac = None
            if hop.kind == "local" and self.local_injector is not None:
                self._piece = (1, 0, None)
                try:  # this host's own address: through the kernel, answered on loopback
                    self.local_injector.send(self._frame)
                except OSError as exc:
                    engine._send_failed(exc, len(self._frame))
                return
            if hop.kind in ("broadcast", "multicast"):
                lo = hi = a
            elif hop.gateway:
                mac = engine.macs.get(hop.gateway.to_bytes(4, "big")) if (
                    engine.link.kind == "ethernet") else b"\0" * 6
            else:
                lo = hi = a  # on-link: every target is its own next hop
                if engine.link.kind != "ethernet":
                    mac = b"\0" * 6
            self._piece = (lo, hi, mac) if mac is not None else (1, 0, None)
            if mac is None:
                self._slow_send(a, j, r, now, hop)
                return
        frame = self._frame
        if mac != self._hdr_mac and self.l3:
            frame[0:6] = mac  # type: ignore[index]
            self._hdr_mac = mac
        try:
            engine.injector.send(frame)
        except OSError as exc:
            engine._send_failed(exc, len(frame))
            self.stats.send_drops = engine.send_drops
        engine.frames_sent += 1

    def _slow_send(self, a: int, j: int, r: int, now: float, hop: Any) -> None:
        """The engine's generic path: next hop resolution (ARP), broadcast, fragments."""
        from pcapping.probe.session import BROADCAST_MAC, multicast_mac

        datagram = bytes(self._frame[self.l3:])
        engine = self.engine
        a4 = a.to_bytes(4, "big")
        if hop.kind in ("broadcast", "multicast"):
            if not self.opts.broadcast:  # fping: sendto() refused, never retried
                self.stats.unsent += 1
                self.stats.sent -= 1
                self.report.unsent(j, r, "Permission denied")
                self.exclude(j)
                return
            mac = BROADCAST_MAC if hop.kind == "broadcast" else multicast_mac(a4)
            engine.send(Probe((j, r), datagram, None, mac), now)
            return
        if engine.link.kind != "ethernet":
            engine.send(Probe((j, r), datagram, None, b"\0" * 6), now)
            return
        next_hop = hop.gateway.to_bytes(4, "big") if hop.gateway else a4
        engine.send(Probe((j, r), datagram, next_hop, None), now)
        if next_hop not in engine.macs:  # held until the next hop answers ARP
            self._held.append((r, j, next_hop))

    # --- timeouts ---
    def expire(self, now: float) -> None:
        """Time out the probes whose wait is over, round by round; retire finished rounds."""
        n = self.n
        verdict = self.verdict
        read_now = getattr(self.engine, "read_now", None)
        if read_now is not None and not self._reading:
            for rnd in self.rounds:
                due = rnd.due(rnd.exp_pos, rnd.timeout_s, rnd.exp) if rnd.exp < rnd.next else None
                if due is not None and due <= now:
                    # answers already queued are read before any probe is given up
                    self._reading = True
                    try:
                        read_now(self)
                    finally:
                        self._reading = False
                    break
        for rnd in list(self.rounds):
            if rnd.exp < rnd.next and not self.counting:
                nxt = verdict.find(0, rnd.exp, rnd.next)  # alive ones need no timeout
                nxt = rnd.next if nxt < 0 else nxt
                if nxt > rnd.exp:
                    rnd.exp = nxt
                    rnd.exp_pos = rnd.advance(rnd.exp_pos, nxt)
            if rnd.exp < rnd.next:
                lim = min(rnd.limit(rnd.exp_pos, rnd.timeout_s, now, rnd.exp), rnd.next)
                if lim > rnd.exp:
                    self._expire_run(rnd, lim, now)
                    rnd.exp_pos = rnd.advance(rnd.exp_pos, rnd.exp)
                    rnd.trim()
            if rnd.exp >= n and rnd.next >= n and (rnd.last or self._successor_done(rnd)):
                self.rounds.remove(rnd)
                self.stats.round_done(rnd)
        if not self.rounds and self.created and (
                self.max_rounds is not None and self.created >= self.max_rounds):
            self._finished = True

    def _successor_done(self, rnd: _Round) -> bool:
        """Whether the round after ``rnd`` no longer needs ``rnd``'s marks."""
        for other in self.rounds:
            if other.r == rnd.r + 1:
                return other.next >= self.n
        return self.max_rounds is not None and self.created >= self.max_rounds or (
            self.created > rnd.r + 1)

    def _expire_run(self, rnd: _Round, lim: int, now: float) -> None:
        j = rnd.exp
        r = rnd.r
        ts_us = self.wall() // 1000
        report = self.report
        stats = self.stats
        if self.counting:
            replied = rnd.replied
            assert replied is not None
            xmt = self.xmt
            rtts = self.rtts
            count = self.opts.count or 0
            while True:
                nxt = replied.find(0, j, lim)
                if nxt < 0:
                    break
                j = nxt
                xmt[j] += 1
                if rtts is not None and r < count:
                    rtts[j * count + r] = -1
                stats.timeouts += 1
                report.timeout(j, r, ts_us)
                j += 1
        else:
            verdict = self.verdict
            while True:
                nxt = verdict.find(0, j, lim)
                if nxt < 0:
                    break
                stats.timeouts += 1
                report.timeout(nxt, r, ts_us)
                j = nxt + 1
        rnd.exp = lim

    def next_deadline(self) -> float | None:
        if self._finished:  # done (the engine looks again at once), or waiting for ARP
            return None if self.engine.queued else self._now
        wake = [self.deadline_at, self._token_at]
        for rnd in self.rounds:
            if rnd.exp < rnd.next:
                wake.append(rnd.due(rnd.exp_pos, rnd.timeout_s, rnd.exp))
            if rnd.next < self.n:
                prev = self._previous(rnd)
                if prev is not None and prev.next > rnd.next:
                    gate = prev.due(prev.gate_pos, prev.gap_s, rnd.next)
                    if gate is not None and self._token_at is not None:
                        gate = max(gate, self._token_at)  # due, but waiting for a token
                    wake.append(gate)
        return min((w for w in wake if w is not None), default=None)

    def done(self, now: float) -> bool:
        if self.deadline_at is not None and now >= self.deadline_at:
            return True
        if self._finished:
            return not self.engine.queued
        return False

    def finish(self, now: float) -> None:
        pass

    def status(self) -> None:
        status = getattr(self.report, "status", None)
        if status is not None:
            status(self)

    def idle(self) -> None:
        flush = getattr(self.report, "flush", None)
        if flush is not None:
            flush()

    # --- matching ---
    def _round_of(self, seq: int, seqb: int) -> int:
        r = (seq - seqb) & 0xFFFF
        created = self.created
        if created <= 0x10000:
            return r if r < created else -1
        return r + ((created - 1 - r) >> 16 << 16)  # the latest round with these low bits

    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        """Our echo replies and the errors about our probes, from the raw bytes (a plain
        20-byte IP header, not a fragment); anything else goes to ``on_frame``.  (Replaced
        per instance by ``_make_fast``'s closure, which falls back to this.)"""
        return self._fast_general(data, l3, ts_sec, ts_usec)

    def _fast_general(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
        if l3 and data[l3 - 2:l3] != b"\x08\x00":
            return False
        if data[l3] != 0x45 or data[l3 + 9] != 1 or data[l3 + 6] & 0x3F or data[l3 + 7]:
            return False
        if data[l3 + 16:l3 + 20] != self.src:
            # with --write the capture also sees our probes leave: record, nothing else
            return self.record_own and data[l3 + 20] == 8 and data[l3 + 12:l3 + 16] == self.src
        total = (data[l3 + 2] << 8) | data[l3 + 3]
        end = l3 + total
        if end > len(data) or total < 28:
            return False
        kind = data[l3 + 20]
        ts_us = ts_sec * 1_000_000 + ts_usec
        from_bytes = int.from_bytes
        if kind == 0:
            if total < 28 + PAYLOAD_MIN:
                return False
            h = from_bytes(data[l3:l3 + 20], "big")
            m = from_bytes(data[l3 + 20:end], "big")
            if total & 1:
                m <<= 8
            ok = bool(m) and not m % 0xFFFF and bool(h) and not h % 0xFFFF
            return self._reply(data[l3 + 44:l3 + 48], data[l3 + 24:l3 + 26],
                               (data[l3 + 26] << 8) | data[l3 + 27], data[l3 + 28:l3 + 36],
                               from_bytes(data[l3 + 36:l3 + 44], "big"),
                               data[l3 + 12:l3 + 16], data[l3 + 8], total - 20, ts_us, ok)
        if kind not in ERROR_TYPES:
            return False
        q = l3 + 28
        if len(data) < q + 28 or data[q] >> 4 != 4:
            return False
        qihl = (data[q] & 15) * 4
        qi = q + qihl
        if qihl < 20 or len(data) < qi + 8 or data[q + 9] != 1 or data[qi] != 8:
            return False
        if data[q + 12:q + 16] != self.src:
            return False
        qtotal = (data[q + 2] << 8) | data[q + 3]
        nonce = data[qi + 8:qi + 16] if qtotal >= qihl + 16 and len(data) >= qi + 16 else None
        h = from_bytes(data[l3:l3 + 20], "big")
        m = from_bytes(data[l3 + 20:end], "big")
        if total & 1:
            m <<= 8
        ok = bool(m) and not m % 0xFFFF and bool(h) and not h % 0xFFFF
        mtu = (data[l3 + 26] << 8 | data[l3 + 27]) if kind == 3 and data[l3 + 21] == 4 else None
        return self._error(data[q + 16:q + 20], data[qi + 4:qi + 6],
                           (data[qi + 6] << 8) | data[qi + 7], nonce, data[l3 + 12:l3 + 16],
                           kind, data[l3 + 21], ts_us, ok, mtu)

    def fast_batch(self, buf: bytes, meta: bytes, n: int, l3: int) -> list[tuple] | None:
        declined = None
        unpack = _META.unpack_from
        fast = self.fast
        for i in range(0, n << 4, 16):
            sec, usec, off, caplen = unpack(meta, i)
            data = buf[off:off + caplen]
            if not fast(data, l3, sec, usec):
                (declined := declined or []).append((data, sec, usec))
        return declined

    def _round_timeout_us(self, r: int) -> float:
        t = self._timeout_us
        return t[r] if r < len(t) else self.opts.round_timeout(r) * 1e6

    def _make_fast(self) -> Any:
        """``fast`` with everything it needs bound locally: the hot path of every run.

        An echo reply is read with one ``struct`` call; in default mode its whole effect
        (the target alive, counted, reported) happens here; anything else goes through
        ``_reply``/``_error`` (the same rules) or is declined."""
        src = self.src
        unpack = _REPLY.unpack_from
        from_bytes = int.from_bytes
        targets = self.targets
        first = getattr(targets, "first", None)
        n = self.n
        index = targets.index
        hbase = self.keyed._h
        verdict = self.verdict
        stats = self.stats
        report = self.report
        timeouts = self._timeout_us
        counting = self.counting
        general = self._fast_general
        reply_general = self._reply
        round_timeout = self._round_timeout_us
        departures = self.departures
        max_departures = MAX_DEPARTURES
        wants_replies = getattr(report, "wants_replies", True)

        def fast(data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool:
            if len(data) < l3 + 48 or (l3 and (data[l3 - 2] != 8 or data[l3 - 1])):
                return general(data, l3, ts_sec, ts_usec)
            (vihl, total, frag, ttl, proto, ipsrc, ipdst, kind, ident, seq, nonce, sent_us,
             tgt) = unpack(data, l3)
            if kind == 8 and departures is not None and ipsrc == src and ipdst == tgt:
                # one of our probes leaving: its wire time, for the reply's RTT
                departures[tgt + data[l3 + 26:l3 + 28]] = ts_sec * 1_000_000 + ts_usec
                if len(departures) > max_departures:
                    del departures[next(iter(departures))]
                return True
            if kind or vihl != 0x45 or proto != 1 or frag & 0x3FFF or ipdst != src:
                return general(data, l3, ts_sec, ts_usec)
            end = l3 + total
            if end > len(data) or total < 48:
                return general(data, l3, ts_sec, ts_usec)
            a = from_bytes(tgt, "big")
            if first is not None:
                i = a - first
                if not 0 <= i < n:
                    return False
            else:
                i = index(a)
                if i < 0:
                    return False
            h = hbase.copy()
            h.update(tgt)
            d = h.digest()
            if d[0:2] != ident or d[4:12] != nonce:
                return False
            r = (seq - ((d[2] << 8) | d[3])) & 0xFFFF
            if r >= self.created or verdict[i] == EXCLUDED:
                return general(data, l3, ts_sec, ts_usec)  # rounds past 65,535 (-l)
            # the IP header and the ICMP message each sum to 0xFFFF, so together to a
            # multiple of it; only when that holds is each one not checked on its own
            whole = from_bytes(data[l3:end], "big")
            if total & 1:
                whole <<= 8
            ts_us = ts_sec * 1_000_000 + ts_usec
            if departures:
                left = departures.pop(tgt + data[l3 + 26:l3 + 28], None)
                if left is not None:
                    sent_us = left  # the wire time of the probe, not the time it carries
            if counting or verdict[i] or whole % 0xFFFF:
                hd = from_bytes(data[l3:l3 + 20], "big")
                m = from_bytes(data[l3 + 20:end], "big")
                if total & 1:
                    m <<= 8
                return reply_general(tgt, ident, seq, nonce, sent_us, ipsrc, ttl, total - 20,
                                     ts_us, bool(m) and not m % 0xFFFF and bool(hd)
                                     and not hd % 0xFFFF)
            rtt = ts_us - sent_us
            if rtt < 0:
                rtt = 0
            stats.replies += 1
            verdict[i] = ALIVE
            self.alive_count += 1
            late = rtt > (timeouts[r] if r < len(timeouts) else round_timeout(r))
            if late:
                stats.late += 1
            else:
                stats.received += 1
                if stats.rtt_min_us is None or rtt < stats.rtt_min_us:
                    stats.rtt_min_us = rtt
                if rtt > stats.rtt_max_us:
                    stats.rtt_max_us = rtt
                stats.rtt_sum_us += rtt
            if wants_replies:
                report.reply(i, r, ipsrc, ttl, total - 20, rtt, ts_us, True, late)
            return True

        return fast

    def _validate(self, tgt: bytes, ident: bytes, seq: int, nonce: bytes | None,
                  ) -> tuple[int, int]:
        """(target index, round) of a probe named by its fields, or (-1, -1)."""
        i = self.targets.index(int.from_bytes(tgt, "big"))
        if i < 0 or self.verdict[i] == EXCLUDED:
            return -1, -1
        d = self.keyed.digest(tgt)
        if d[0:2] != ident or (nonce is not None and d[4:4 + len(nonce)] != nonce):
            return -1, -1
        r = self._round_of(seq, (d[2] << 8) | d[3])
        return (i, r) if r >= 0 else (-1, -1)

    def _reply(self, tgt: bytes, ident: bytes, seq: int, nonce: bytes, sent_us: int,
               src: bytes, ttl: int, nbytes: int, ts_us: int, ok: bool) -> bool:
        i, r = self._validate(tgt, ident, seq, nonce)
        if i < 0:
            return False
        stats = self.stats
        report = self.report
        rtt = ts_us - sent_us
        if rtt < 0:
            rtt = 0
        if not ok:
            stats.corrupted += 1
            report.corrupt(i, r, src, ts_us)
            return True
        stats.replies += 1
        late = rtt > self._round_timeout_us(r)
        verdict = self.verdict
        if not self.counting:
            if verdict[i] == ALIVE:
                stats.duplicates += 1
                report.duplicate(i, r, src, nbytes, rtt, ts_us)
                return True
            verdict[i] = ALIVE
            self.alive_count += 1
            if late:
                stats.late += 1
            else:
                stats.received += 1
                stats.rtt(rtt)
            report.reply(i, r, src, ttl, nbytes, rtt, ts_us, True, late)
            return True
        rnd = None
        for other in self.rounds:
            if other.r == r:
                rnd = other
                break
        if rnd is None or late:
            stats.late += 1
            self.nlate[i] += 1
            report.late(i, r, src, nbytes, rtt, ts_us)
            return True
        replied = rnd.replied
        assert replied is not None
        if replied[i]:
            stats.duplicates += 1
            self.dup[i] += 1
            report.duplicate(i, r, src, nbytes, rtt, ts_us)
            return True
        replied[i] = 1
        self.xmt[i] += 1
        got = self.rcv[i] = self.rcv[i] + 1
        if got == 1 or rtt < self.tmin[i]:
            self.tmin[i] = rtt
        if rtt > self.tmax[i]:
            self.tmax[i] = rtt
        self.tsum[i] += rtt
        rtts = self.rtts
        count = self.opts.count or 0
        if rtts is not None and r < count:
            rtts[i * count + r] = rtt
        first = verdict[i] != ALIVE
        if first:
            verdict[i] = ALIVE
            self.alive_count += 1
        stats.received += 1
        stats.rtt(rtt)
        report.reply(i, r, src, ttl, nbytes, rtt, ts_us, first, False)
        return True

    def _error(self, tgt: bytes, ident: bytes, seq: int, nonce: bytes | None, src: bytes,
               icmp_type: int, code: int, ts_us: int, ok: bool, mtu: int | None) -> bool:
        i, r = self._validate(tgt, ident, seq, nonce)
        if i < 0:
            return False
        if not ok:
            self.stats.corrupted += 1
            return True
        self._errored(i, r, src, icmp_type, code, ts_us, False, mtu)
        return True

    def _errored(self, i: int, r: int, src: bytes, icmp_type: int, code: int, ts_us: int,
                 local: bool, mtu: int | None = None) -> None:
        self.stats.errors += 1
        if self.counting:
            self.nerr[i] += 1
        if icmp_type in VERDICT_TYPES and not self.errkind[i]:
            key = (src, icmp_type, code, local)
            kind = self._kind_ids.get(key)
            if kind is None:
                if len(self.kinds) < MAX_KINDS:
                    self.kinds.append(key)
                    kind = self._kind_ids[key] = len(self.kinds)
                else:
                    kind = MAX_KINDS + 1
            self.errkind[i] = kind
        if not local:
            self._router(src, self.targets.addr(i), icmp_type, code, ts_us)
        self.report.error(i, r, src, icmp_type, code, ts_us, local, mtu)

    def _router(self, src: bytes, target: int, icmp_type: int, code: int, ts_us: int) -> None:
        routers = self.routers
        key = (src, icmp_type, code)
        rec = routers.get(key)
        if rec is None:
            if len(routers) >= MAX_ROUTERS:
                return
            rec = routers[key] = RouterErrors(ts_us)
        rec.count += 1
        rec.last_us = max(rec.last_us, ts_us)
        if len(rec.early) < EARLY:
            rec.early.append(ts_us)
        prefix = target >> 8
        if prefix in rec.prefixes or len(rec.prefixes) < MAX_PREFIXES:
            rec.prefixes[prefix] = rec.prefixes.get(prefix, 0) + 1

    def on_frame(self, frame: Frame) -> bool:
        """The slow path: what ``fast`` declined (IP options, fragments made whole, ...)."""
        d = frame.decoded
        ip = d.ip
        msg = d.icmp
        if ip is None or msg is None or ip.protocol != 1 or ip.dst != self.src:
            return False
        ts_us = frame.ts_sec * 1_000_000 + frame.ts_usec
        if isinstance(msg, ICMPEcho):
            p = msg.payload
            if not msg.is_reply or len(p) < PAYLOAD_MIN:
                return False
            ok = msg.checksum_ok is not False and ip.checksum_ok is not False
            return self._reply(p[16:20], msg.ident.to_bytes(2, "big"), msg.seq, p[0:8],
                               int.from_bytes(p[8:16], "big"), ip.src, ip.ttl, msg.length,
                               ts_us, ok)
        if isinstance(msg, ICMPError) and msg.icmp_type in ERROR_TYPES:
            q = msg.quoted
            inner = q.icmp
            if q.ip is None or q.ip.src != self.src or q.ip.protocol != 1:
                return False
            if not isinstance(inner, ICMPEcho) or inner.is_reply:
                return False
            nonce = inner.payload[:8] if len(inner.payload) >= 8 else None
            return self._error(q.ip.dst, inner.ident.to_bytes(2, "big"), inner.seq, nonce,
                               ip.src, msg.icmp_type, msg.code, ts_us,
                               msg.checksum_ok is not False, msg.mtu)
        return False

    def on_unresolved(self, address: bytes, keys: list[Any], now: float) -> None:
        """A next hop never answered ARP: the kernel's Host Unreachable, from our address."""
        ts_us = self.wall() // 1000
        for key in keys:
            i, r = key
            self._errored(i, r, self.src, 3, 1, ts_us, True)

    def on_unassembled(self, failure: ReassemblyFailed, now: float) -> None:
        pass

    # --- results ---
    def exclude(self, i: int) -> None:
        """Leave target ``i`` out (never probed, never alive): e.g. a broadcast address."""
        if self.verdict[i] != EXCLUDED:
            if self.verdict[i] == ALIVE:
                self.alive_count -= 1
            self.verdict[i] = EXCLUDED
            self.excluded += 1
            for rnd in self.rounds:
                if rnd.replied is not None:
                    rnd.replied[i] = 1

    def error_of(self, i: int) -> tuple[bytes, int, int, bool] | None:
        k = self.errkind[i]
        if not k or k > len(self.kinds):
            return None
        return self.kinds[k - 1]

    def rate_limited(self) -> list[dict[str, Any]]:
        """Routers whose errors stopped while targets next to the ones they answered for
        got no answer at all: rate limiting, not loss (with the arrival pattern)."""
        if not self.routers:
            return []
        watched: dict[int, list[tuple[bytes, int, int]]] = {}
        for key, rec in self.routers.items():
            for prefix in rec.prefixes:
                watched.setdefault(prefix, []).append(key)
        silent: dict[tuple[bytes, int, int], dict[int, int]] = {}
        verdict = self.verdict
        errkind = self.errkind
        addr = self.targets.addr
        j = 0
        n = self.n
        while True:
            j = verdict.find(0, j)
            if j < 0:
                break
            if not errkind[j]:
                prefix = addr(j) >> 8
                for key in watched.get(prefix, ()):
                    per = silent.setdefault(key, {})
                    per[prefix] = per.get(prefix, 0) + 1
            j += 1
            if j >= n:
                break
        out = []
        for key, per in silent.items():
            rec = self.routers[key]
            burst, burst_end = rec.burst()
            span_s = (rec.last_us - burst_end) / 1e6
            after = rec.count - burst
            rate = after / span_s if span_s > 0 and after > 0 else None
            out.append({"router": key[0], "type": key[1], "code": key[2],
                        "errors": rec.count, "burst": burst, "rate_per_s": rate,
                        "silent": sum(per.values()), "prefixes": sorted(per),
                        "answered": sum(rec.prefixes.get(p, 0) for p in per)})
        out.sort(key=lambda x: (x["router"], x["type"], x["code"]))
        return out

    def counts(self) -> dict[str, int]:
        """Targets by outcome: alive, unreachable with an error back, with no answer."""
        n = self.n
        alive = self.alive_count
        excluded = self.excluded
        with_error = 0
        verdict = self.verdict
        errkind = self.errkind
        j = 0
        while True:
            j = verdict.find(0, j)
            if j < 0:
                break
            if errkind[j]:
                with_error += 1
            j += 1
            if j >= n:
                break
        silent = n - alive - excluded - with_error
        return {"targets": n, "alive": alive, "unreachable": n - alive, "error": with_error,
                "no_answer": silent, "excluded": excluded}

    def error_breakdown(self) -> list[tuple[tuple[bytes, int, int, bool], int]]:
        """(error kind, targets) for the targets not alive whose first error was that kind."""
        tally: dict[int, int] = {}
        verdict = self.verdict
        for j, k in enumerate(self.errkind):
            if k and verdict[j] != ALIVE:
                tally[k] = tally.get(k, 0) + 1
        out = []
        for k, c in sorted(tally.items()):
            if k <= len(self.kinds):
                out.append((self.kinds[k - 1], c))
        return out
