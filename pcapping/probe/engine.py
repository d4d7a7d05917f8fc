"""The probe engine: one capture handle and one injector on one interface, any number of
probes in flight, and a strategy that says what to send and what the answers mean.

``send`` (ping) is one strategy on it; ``trace`` and the many-target sweep are others.  The
engine owns everything a strategy should not have to think about:

- **the schedule**: a ``Pacer`` (the strategy picks one: iputils' interval and preload
  tokens, a token-bucket rate, or a window of outstanding probes) says when the next
  probe may go; between sends the engine waits on the capture descriptor (and a wake-up
  pipe for signals) with ``select``;
- **next hops**: on Ethernet it resolves each next hop itself (``Resolver``: ARP today,
  NDP in the same shape), queues the probes waiting for an answer, and tells the strategy
  which ones could not be sent when nobody answers; raw-IP links (tun) and loopback need
  none;
- **path MTU**: a Frag Needed about one of our datagrams teaches it the path MTU of that
  destination (``path_mtu``), as the kernel learns it; a datagram larger than the path MTU
  with DF clear is fragmented here before it is injected;
- **reading**: every frame the capture holds is read at each wake-up (``next_batch``, many
  per call) and at the end of the run the engine keeps reading until libpcap's own count of
  queued frames says none is left (``LiveCapture.drained``), so no answer that reached the
  wire before the end is lost;
- **departures**: a handle never sees what it sent itself, but the capture handle sees our
  injector's frames leave; the engine recognises them by their first 48 bytes from the IP
  header on (a strategy may ask for more: ``departure_key_bytes``, e.g. where what tells
  its IPv6 probes apart lies beyond the transport header's first 8 bytes) and hands the
  strategy their capture timestamp: RTTs are wire time at both ends;
- **reassembly**: fragments addressed to us are reassembled (``wire.frag.Reassembler``)
  before anyone matches them; a datagram that cannot be completed becomes a verdict;
- **decoding once**: a frame is decoded at most once (``Frame.decoded``, lazily), after a
  strategy's optional fast path on the raw bytes declined it.

A strategy (see ``Strategy``) reports its own events to its own report; the engine only
calls it.  Everything here takes its clock, its wait and its I/O as parameters, so the
tests drive the engine with a fake network and a fake clock.
"""

from __future__ import annotations

import os
import select
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol

from pcapping.decode import Decoded, decode_frame
from pcapping.errors import PcappingError
from pcapping.probe.resolve import Resolved, Resolver, Solicit, Unresolved
from pcapping.wire.frag import Reassembled, Reassembler, ReassemblyFailed, fragment_ipv4

DEPARTURE_KEY_BYTES = 48
MIN_PMTU = 552  # Linux's net.ipv4.route.min_pmtu: smaller advertised MTUs are raised to it
BATCH = 256
_META = struct.Struct("=IIII")


# --- what strategies hand the engine -------------------------------------------------

class Probe(NamedTuple):
    """One datagram to send.

    ``key`` is the strategy's own name for it (handed back in ``departed`` and
    ``on_unresolved``); ``next_hop`` the address whose link-layer address the frame goes
    to (None on links that need none, or when ``dst_mac`` is given, e.g. broadcast).
    """

    key: Any
    datagram: bytes | bytearray
    next_hop: bytes | None = None
    dst_mac: bytes | None = None
    may_fragment: bool = True  # IPv6 has no DF bit: False keeps it whole (-M do/probe)


class Frame:
    """A captured frame as the engine hands it to a strategy's slow path."""

    __slots__ = ("data", "ts_sec", "ts_usec", "linktype", "fragments", "_decoded")

    def __init__(self, data: bytes, ts_sec: int, ts_usec: int, linktype: int,
                 fragments: int = 1) -> None:
        self.data = data
        self.ts_sec = ts_sec
        self.ts_usec = ts_usec
        self.linktype = linktype
        self.fragments = fragments  # > 1: rebuilt from that many fragments
        self._decoded: Decoded | None = None

    @property
    def ts(self) -> float:
        return self.ts_sec + self.ts_usec / 1e6

    @property
    def decoded(self) -> Decoded:
        if self._decoded is None:
            self._decoded = decode_frame(self.data, self.linktype, ts_sec=self.ts_sec,
                                         ts_usec=self.ts_usec)
        return self._decoded


class Pacer(Protocol):
    """When probes may go: ``ready`` how many now, ``next_at`` when to ask again."""

    def ready(self, now: float, in_flight: int) -> int: ...
    def next_at(self, now: float, in_flight: int) -> float: ...
    def sent(self, now: float, n: int) -> None: ...


class Strategy(Protocol):
    """A mode of probing (ping, trace, sweep) as the engine drives it.

    ``next_probes(now, n)`` returns at most ``n`` probes (it counts them as sent);
    ``fast`` may claim a frame from its raw bytes (``l3``: offset of the IP header) and
    return True, or decline; ``on_frame`` gets the rest and returns True when the frame
    was its own (the engine then records it with ``--write``).  A strategy whose ``fast``
    recognises its own requests leaving (and calls its own ``departed``) sets
    ``claims_departures``; the engine then keys departures only for fragmented sends.
    ``idle`` is called before each wait (flush output there).  An optional
    ``fast_batch(buf, meta, n, l3)`` takes a whole ``next_batch`` result at once and
    returns the records it declined (used when nothing is written to a file).  An optional
    ``pump(now)``
    is a strategy's own fast lane for sending: it returns how many probes it sent, or
    None to let the engine take the generic path (``pacer`` and ``next_probes``).
    """

    pacer: Pacer

    def pending(self) -> bool: ...
    def in_flight(self) -> int: ...
    def next_probes(self, now: float, n: int) -> list[Probe]: ...
    def departed(self, key: Any, ts_sec: int, ts_usec: int) -> None: ...
    def fast(self, data: bytes, l3: int, ts_sec: int, ts_usec: int) -> bool: ...
    def on_frame(self, frame: Frame) -> bool: ...
    def on_unresolved(self, address: bytes, keys: list[Any], now: float) -> None: ...
    def on_unassembled(self, failure: ReassemblyFailed, now: float) -> None: ...
    def expire(self, now: float) -> None: ...
    def next_deadline(self) -> float | None: ...
    def done(self, now: float) -> bool: ...
    def finish(self, now: float) -> None: ...
    def status(self) -> None: ...
    def idle(self) -> None: ...


# --- pacers --------------------------------------------------------------------------

class IntervalPacer:
    """iputils ping's pinger(): an interval in whole milliseconds and ``preload`` tokens.

    The first ``preload`` requests go back to back, then one per interval; an interval
    of 0 ms (``-f``, ``-i 0``) sends whenever fewer than ``preload`` requests are
    outstanding, and at least every 10 ms when no answer comes.
    """

    MIN_INTERVAL_MS = 10

    def __init__(self, interval_ms: int, preload: int = 1) -> None:
        self.interval = interval_ms
        self.preload = preload
        self.cur: float | None = None
        self.tokens = 0

    def _ntokens(self, now: float) -> int:
        return int((now - self.cur) * 1000)  # type: ignore[operator]

    def _wait_ms(self, now: float, in_flight: int) -> int:
        if self.cur is None:
            return 0
        if not self.interval:  # flood: tokens never accumulate
            if in_flight < self.preload:
                return 0
            ntokens = self._ntokens(now)
            return self.MIN_INTERVAL_MS - ntokens if ntokens < self.MIN_INTERVAL_MS else 0
        ntokens = self._ntokens(now)
        if not self.interval and ntokens < self.MIN_INTERVAL_MS and in_flight >= self.preload:
            return self.MIN_INTERVAL_MS - ntokens
        ntokens = min(ntokens + self.tokens, self.interval * self.preload)
        return self.interval - ntokens if ntokens < self.interval else 0

    def ready(self, now: float, in_flight: int) -> int:
        return 0 if self._wait_ms(now, in_flight) > 0 else 1

    def next_at(self, now: float, in_flight: int) -> float:
        return now + self._wait_ms(now, in_flight) / 1000.0

    def sent(self, now: float, n: int = 1) -> None:
        if not self.interval and self.cur is not None:
            self.cur = now
            return
        for _ in range(n):
            if self.cur is None:
                self.cur = now
                self.tokens = self.interval * (self.preload - 1)
                continue
            ntokens = min(self._ntokens(now) + self.tokens, self.interval * self.preload)
            self.cur = now
            self.tokens = ntokens - self.interval


class RatePacer:
    """A token bucket: ``rate`` probes per second, bursts of at most ``burst``."""

    def __init__(self, rate: float, burst: int = 1, window: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self.window = window  # at most this many outstanding, when set
        self.tokens = float(self.burst)
        self.at: float | None = None

    def _refill(self, now: float) -> None:
        if self.at is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def ready(self, now: float, in_flight: int) -> int:
        self._refill(now)
        n = int(self.tokens)
        if self.window is not None:
            n = min(n, self.window - in_flight)
        return max(n, 0)

    def next_at(self, now: float, in_flight: int) -> float:
        if self.window is not None and in_flight >= self.window:
            return now + 1.0  # an answer (or an expiry) wakes us sooner
        return now + max(0.0, 1.0 - self.tokens) / self.rate

    def sent(self, now: float, n: int = 1) -> None:
        self.tokens -= n


class WindowPacer:
    """As fast as answers allow: at most ``window`` outstanding, ``gap_s`` between sends."""

    def __init__(self, window: int, gap_s: float = 0.0) -> None:
        self.window = window
        self.gap_s = gap_s
        self.last: float | None = None

    def ready(self, now: float, in_flight: int) -> int:
        n = self.window - in_flight
        if n <= 0:
            return 0
        if self.gap_s:
            if self.last is not None and now < self.last + self.gap_s:
                return 0
            return 1
        return n

    def next_at(self, now: float, in_flight: int) -> float:
        if self.gap_s and self.last is not None:
            return max(now, self.last + self.gap_s)
        return now + 1.0

    def sent(self, now: float, n: int = 1) -> None:
        self.last = now


# --- the link ------------------------------------------------------------------------

class Link(NamedTuple):
    """How a datagram becomes a frame on one interface.

    ``kind``: "ethernet" (needs next-hop resolution), "raw" (tun and other raw-IP links:
    the frame is the datagram) or "loopback" (Linux ``lo``: an Ethernet header of zeros).
    """

    interface: str
    kind: str
    linktype: int
    mtu: int
    src_mac: bytes = b"\0" * 6
    source: bytes = b""  # our address on it (the capture filter's subject)

    @property
    def l3_offset(self) -> int:
        return 0 if self.kind == "raw" else 14

    def header(self, dst_mac: bytes, ethertype: int = 0x0800) -> bytes:
        if self.kind == "raw":
            return b""
        return dst_mac + self.src_mac + ethertype.to_bytes(2, "big")


class Stop:
    """Set by a signal handler or a library caller: ``flag`` ends the run after the
    statistics, ``status`` asks for interim statistics; ``fd`` is the read end of the
    wake-up pipe that makes a signal end a ``select``."""

    def __init__(self) -> None:
        self.flag = False
        self.status = False
        self.fd: int | None = None


@contextmanager
def signal_stop(interim: bool = True) -> Iterator[Stop]:
    """A ``Stop`` the command's signals drive while the block runs: SIGINT ends the run
    after its statistics, SIGQUIT (with ``interim``) asks for interim statistics, and a
    wake-up pipe makes either end the engine's ``select`` at once.  The old handlers come
    back afterwards."""
    import signal

    stop = Stop()
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    os.set_blocking(rfd, False)
    stop.fd = rfd

    def on_sigint(signum: int, frame: Any) -> None:
        stop.flag = True

    def on_sigquit(signum: int, frame: Any) -> None:
        stop.status = True

    old_int = signal.signal(signal.SIGINT, on_sigint)
    old_quit = signal.signal(signal.SIGQUIT, on_sigquit) if interim else None
    old_wakeup = signal.set_wakeup_fd(wfd)
    try:
        yield stop
    finally:
        signal.set_wakeup_fd(old_wakeup)
        signal.signal(signal.SIGINT, old_int)
        if old_quit is not None:
            signal.signal(signal.SIGQUIT, old_quit)
        os.close(rfd)
        os.close(wfd)


# --- the engine ----------------------------------------------------------------------

def _select_wait(fds: list[int], delay: float) -> list[int]:
    return select.select(fds, [], [], delay)[0]


class Engine:
    """Runs one strategy over one link (see the module docstring)."""

    def __init__(
        self,
        link: Link,
        capture: Any,
        injector: Any,
        *,
        resolver: Callable[[bytes], Resolver] | None = None,
        writer: Any = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[list[int], float], list[int]] = _select_wait,
        reassembly_timeout_s: float = 30.0,
        drain_timeout_s: float = 0.5,
    ) -> None:
        self.link = link
        self.capture = capture
        self.injector = injector
        self.new_resolver = resolver
        self.writer = writer
        self.clock = clock
        self.wait = wait
        self.drain_timeout_s = drain_timeout_s
        self.l3 = link.l3_offset
        self.reassembler = Reassembler(timeout_s=reassembly_timeout_s)
        self.pmtu: dict[bytes, int] = {}
        self.macs: dict[bytes, bytes] = {}  # next hop -> link-layer address
        self.resolvers: dict[bytes, Resolver] = {}
        self.queued: dict[bytes, list[Probe]] = {}  # probes waiting for a next hop
        self._awaiting: dict[bytes, Any] = {}  # departure key -> probe key
        self._headers: dict[bytes, bytes] = {}  # dst MAC -> link header
        self.frames_sent = 0
        self._frag_ident = int.from_bytes(os.urandom(4), "big")
        self.send_drops = 0  # frames the kernel's queue refused (ENOBUFS)
        self.claims_departures = False  # the strategy's fast path sees its own departures
        self.key_bytes = DEPARTURE_KEY_BYTES  # how much of a departure keys it
        self.timer_at = 0.0  # when the next timer (expiry, resolver, reassembly) is due
        self.stop = Stop()

    # -- path MTU --
    def path_mtu(self, dst: bytes) -> int:
        """What a datagram to ``dst`` may measure: the link's MTU, or less once learnt."""
        return self.pmtu.get(dst, self.link.mtu)

    def learn_pmtu(self, dst: bytes, mtu: int) -> None:
        if len(dst) == 16:  # RFC 8201: never below the IPv6 minimum link MTU
            mtu = max(mtu, 1280)
        elif mtu < 68:  # RFC 1191: an MTU of 0 comes from routers older than it; ignore
            return
        else:
            mtu = max(mtu, MIN_PMTU)
        if mtu < self.path_mtu(dst):
            self.pmtu[dst] = mtu

    # -- sending --
    def send(self, probe: Probe, now: float) -> None:
        """Frame, fragment and inject one probe (or queue it behind its next hop)."""
        link = self.link
        dst_mac = probe.dst_mac
        if dst_mac is None and link.kind == "ethernet":
            hop = probe.next_hop
            dst_mac = self.macs.get(hop)  # type: ignore[arg-type]
            if dst_mac is None:
                self._queue(probe, now)
                return
        datagram = probe.datagram
        v6 = datagram[0] >> 4 == 6
        header = self._header(dst_mac or b"\0" * 6, 0x86DD if v6 else 0x0800)
        frames = [datagram]
        if len(datagram) > 576:
            if not v6 and not datagram[6] & 0x40:
                mtu = self.path_mtu(bytes(datagram[16:20]))
                if len(datagram) > mtu:  # DF clear: we fragment, as the kernel would
                    frames = fragment_ipv4(bytes(datagram), mtu)
            elif v6 and probe.may_fragment:
                mtu = self.path_mtu(bytes(datagram[24:40]))
                if len(datagram) > mtu:  # the source fragments, routers never do
                    frames = self._fragment6(bytes(datagram), mtu)
        if len(frames) > 1 or not self.claims_departures:
            awaiting = self._awaiting
            awaiting[bytes(frames[0][:self.key_bytes])] = probe.key
            if len(awaiting) > 65536:  # departures never seen (capture drops): forget
                del awaiting[next(iter(awaiting))]
        inject = self.injector.send
        try:
            for f in frames:
                inject(header + f if header else f)
        except OSError as exc:
            self._send_failed(exc, len(frames[0]) + len(header))
        self.frames_sent += len(frames)

    def _send_failed(self, exc: OSError, size: int) -> None:
        import errno

        if exc.errno in (errno.ENOBUFS, errno.EAGAIN):  # a full queue: this one is lost
            self.send_drops += 1
            return
        raise PcappingError(
            f"{self.link.interface}: cannot send a {size}-byte frame: {exc.strerror or exc}"
        ) from None

    def _header(self, dst_mac: bytes, ethertype: int = 0x0800) -> bytes:
        key = dst_mac + ethertype.to_bytes(2, "big")
        header = self._headers.get(key)
        if header is None:
            header = self._headers[key] = self.link.header(dst_mac, ethertype)
        return header

    def _fragment6(self, datagram: bytes, mtu: int) -> list[bytes]:
        """An IPv6 datagram (fixed header, then the upper layer) in fragments for ``mtu``,
        with a fresh 32-bit identification, as Linux cuts them."""
        from pcapping.wire.frag6 import fragment6
        from pcapping.wire.ipv6 import IPv6Header

        self._frag_ident = (self._frag_ident + 1) & 0xFFFFFFFF
        header = IPv6Header.parse(datagram[:40])
        return fragment6(header, datagram[6], datagram[40:], mtu, self._frag_ident)

    def _queue(self, probe: Probe, now: float) -> None:
        hop = probe.next_hop
        assert hop is not None, "an Ethernet probe needs a next hop or a dst_mac"
        self.queued.setdefault(hop, []).append(probe)
        resolver = self.resolvers.get(hop)
        if resolver is None:
            if self.new_resolver is None:
                raise ValueError("this engine has no resolver for next hops")
            resolver = self.resolvers[hop] = self.new_resolver(hop)
        if not resolver.active:
            self._inject_control(resolver.start(now).frame)
            self._note_deadline(resolver.deadline())

    def _note_deadline(self, when: float | None) -> None:
        if when is not None and when < self.timer_at:
            self.timer_at = when

    def _inject_control(self, frame: bytes) -> None:
        try:
            self.injector.send(frame)
        except OSError as exc:
            self._send_failed(exc, len(frame))

    # -- the run --
    def run(self, strategy: Strategy) -> None:
        """Send, read and time until the strategy is done, then drain and finish it."""
        stop = self.stop
        clock = self.clock
        fds = [self.capture.fd] + ([stop.fd] if stop.fd is not None else [])
        pacer = strategy.pacer
        send = self.send
        drain = self._drain
        pump = getattr(strategy, "pump", None)
        self.claims_departures = getattr(strategy, "claims_departures", False)
        self.key_bytes = getattr(strategy, "departure_key_bytes", DEPARTURE_KEY_BYTES)
        self.timer_at = 0.0
        try:
            while not stop.flag:
                now = clock()
                if stop.status:
                    stop.status = False
                    strategy.status()
                if strategy.done(now):
                    break
                if now >= self.timer_at:
                    self.timer_at = self._timers(now, strategy)
                sent = False
                pumped = pump(now) if pump is not None else None
                if pumped is not None:
                    sent = pumped > 0
                else:  # as iputils: every probe due now goes before reading
                    while strategy.pending():
                        n = pacer.ready(now, strategy.in_flight())
                        if not n:
                            break
                        probes = strategy.next_probes(now, n)
                        for probe in probes:
                            send(probe, now)
                        pacer.sent(now, n)
                        sent = True
                if drain(strategy) or sent:
                    continue
                now = clock()
                strategy.idle()
                deadline = strategy.next_deadline()
                if deadline is not None and deadline < self.timer_at:
                    self.timer_at = deadline  # (its expiry runs at the next turn)
                wake = self.timer_at
                if strategy.pending():
                    wake = min(wake, pacer.next_at(now, strategy.in_flight()))
                delay = wake - now
                if delay > 0:
                    ready = self.wait(fds, delay)
                    if stop.fd is not None and stop.fd in ready:
                        try:
                            os.read(stop.fd, 512)
                        except OSError:
                            pass
            self._final_drain(strategy)
            for failure in self.reassembler.flush(clock()):
                strategy.on_unassembled(failure, clock())
        finally:
            strategy.finish(clock())

    def _timers(self, now: float, strategy: Strategy) -> float:
        """Resolver rounds, reassembly and strategy expiry; returns the next timer."""
        for hop, resolver in list(self.resolvers.items()):
            result = resolver.poll(now)
            if isinstance(result, Solicit):
                self._inject_control(result.frame)
            elif isinstance(result, Unresolved):
                waiting = self.queued.pop(hop, [])
                strategy.on_unresolved(hop, [p.key for p in waiting], now)
        for failure in self.reassembler.expire(now):
            strategy.on_unassembled(failure, now)
        strategy.expire(now)
        wake = [strategy.next_deadline(), self.reassembler.next_expiry()]
        wake += [r.deadline() for r in self.resolvers.values()]
        return min((w for w in wake if w is not None), default=now + 0.25)

    def _drain(self, strategy: Strategy) -> int:
        """Handle every frame the capture holds now; returns how many.

        The hot path of every mode: the strategy's ``fast`` sees the raw bytes first.
        """
        capture = self.capture
        batch = capture.next_batch
        unpack = _META.unpack_from
        fast = strategy.fast
        fast_batch = getattr(strategy, "fast_batch", None) if self.writer is None else None
        l3 = self.l3
        writer = self.writer
        total = 0
        while True:
            buf, meta = batch(BATCH)
            n = len(meta) >> 4
            if not n:
                break
            total += n
            if fast_batch is not None:
                declined = fast_batch(buf, meta, n, l3)
                if declined:
                    for data, sec, usec in declined:
                        self._frame(data, sec, usec, strategy)
                if n < BATCH:
                    break
                continue
            for i in range(0, n << 4, 16):
                sec, usec, off, caplen = unpack(meta, i)
                data = buf[off:off + caplen]
                if fast(data, l3, sec, usec):
                    if writer is not None:
                        writer.write(sec, usec, data)
                else:
                    self._frame(data, sec, usec, strategy)
            if n < BATCH:
                break
        capture.frames_read += total
        return total

    def read_now(self, strategy: Strategy) -> int:
        """Handle every frame the capture holds now (a strategy calls it before it gives
        probes up, so that an answer already queued is never taken for a timeout)."""
        return self._drain(strategy)

    def _final_drain(self, strategy: Strategy) -> None:
        """Read until libpcap's count says every frame queued for us has been read."""
        clock = self.clock
        give_up = clock() + self.drain_timeout_s
        fds = [self.capture.fd]
        while True:
            self._drain(strategy)
            drained = getattr(self.capture, "drained", None)
            if drained is None or drained() or clock() >= give_up:
                return
            self.wait(fds, 0.002)

    def _frame(self, data: bytes, sec: int, usec: int, strategy: Strategy) -> None:
        """A frame the strategy's fast path declined: a departure, or the slow path."""
        l3 = self.l3
        writer = self.writer
        if self._awaiting:
            key = self._awaiting.pop(data[l3:l3 + self.key_bytes], None)
            if key is not None:
                strategy.departed(key, sec, usec)
                if writer is not None:
                    writer.write(sec, usec, data)
                return
        self._slow(Frame(data, sec, usec, self.link.linktype), strategy)

    def _slow(self, frame: Frame, strategy: Strategy) -> None:
        d = frame.decoded
        writer = self.writer
        ndp = d.icmp6 is not None and d.icmp6.icmp_type in (135, 136)
        if d.arp is not None or ndp:
            for hop, resolver in list(self.resolvers.items()):
                own = getattr(resolver, "is_own_request", None)
                if own is not None and own(d):
                    if writer is not None:
                        writer.write(frame.ts_sec, frame.ts_usec, frame.data)
                    return
                answer = resolver.handle(d)
                if isinstance(answer, Resolved):
                    if writer is not None:
                        writer.write(frame.ts_sec, frame.ts_usec, frame.data)
                    self._resolved(hop, answer.mac)
                    return
            if d.arp is not None:
                return
        ip6 = d.ip6
        if ip6 is not None and d.ip6_ext is not None and d.ip6_ext.is_fragmented:
            if ip6.dst != self.link.source:
                return
            if writer is not None:
                writer.write(frame.ts_sec, frame.ts_usec, frame.data)
            start = d.l3_offset
            result = self.reassembler.add_ipv6(
                frame.data[start:start + 40 + ip6.payload_length], self.clock())
            self._reassembled(result, frame, start, strategy)
            return
        ip = d.ip
        if ip is not None and ip.is_fragment:
            if ip.dst != self.link.source or d.truncated:
                return
            if writer is not None:
                writer.write(frame.ts_sec, frame.ts_usec, frame.data)
            start = d.l3_offset
            result = self.reassembler.add_ipv4(frame.data[start:start + ip.total_length],
                                               self.clock())
            self._reassembled(result, frame, start, strategy)
            return
        self._inbound(frame, strategy, record=True)

    def _reassembled(self, result: Reassembled | ReassemblyFailed | None, frame: Frame,
                     start: int, strategy: Strategy) -> None:
        self._note_deadline(self.reassembler.next_expiry())
        if isinstance(result, Reassembled):
            whole = Frame(frame.data[:start] + result.datagram, frame.ts_sec,
                          frame.ts_usec, frame.linktype, result.fragments)
            self._inbound(whole, strategy, record=False)
        elif isinstance(result, ReassemblyFailed):
            strategy.on_unassembled(result, self.clock())

    def _inbound(self, frame: Frame, strategy: Strategy, record: bool) -> None:
        d = frame.decoded
        icmp = d.icmp
        if (icmp is not None and icmp.icmp_type == 3 and icmp.code == 4
                and d.ip is not None and d.ip.dst == self.link.source):
            quoted = icmp.quoted.ip  # type: ignore[union-attr]
            if quoted is not None and quoted.src == self.link.source and icmp.mtu:
                self.learn_pmtu(quoted.dst, icmp.mtu)
        icmp6 = d.icmp6
        if (icmp6 is not None and icmp6.icmp_type == 2 and d.ip6 is not None
                and d.ip6.dst == self.link.source):
            quoted6 = icmp6.quoted.ip6  # type: ignore[union-attr]
            if quoted6 is not None and quoted6.src == self.link.source and icmp6.mtu:
                self.learn_pmtu(quoted6.dst, icmp6.mtu)
        if strategy.on_frame(frame) and record and self.writer is not None:
            self.writer.write(frame.ts_sec, frame.ts_usec, frame.data)

    def _resolved(self, hop: bytes, mac: bytes) -> None:
        self.macs[hop] = mac
        now = self.clock()
        for probe in self.queued.pop(hop, []):
            self.send(probe, now)

    def preset(self, hop: bytes, mac: bytes) -> None:
        """A next hop whose link-layer address is already known (no resolution)."""
        self.macs[hop] = mac

    def resolved(self) -> Iterable[tuple[bytes, bytes]]:
        return self.macs.items()
