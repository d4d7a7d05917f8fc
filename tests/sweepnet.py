"""A fake network for the sweep strategy: capture, injector and clocks, no root.

``SweepNet`` answers each injected frame after a simulated delay, the way the lab would:
``behaviour(addr, frame, now)`` says what comes back for an echo request to ``addr``
(replies, errors from a router, nothing), as a list of ``(delay_s, frame)``; ARP for the
gateway is answered after 50 µs.  Frames come back through ``next_batch`` as libpcap hands
them out, ordered by a heap (a /16 queues 65,536 of them).  The wall clock the strategy
stamps its probes with is the engine clock plus ``EPOCH``, so RTTs are exact.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Callable
from typing import Any

from pcapping.io.netinfo import Route
from pcapping.probe.engine import Engine, Link
from pcapping.probe.resolve import ArpResolver
from pcapping.probe.sweep import SweepOptions, SweepStrategy
from pcapping.probe.targets import RoutePlan
from pcapping.wire.arp import ARPPacket
from pcapping.wire.checksum import checksum_ok, internet_checksum
from pcapping.wire.ethernet import EthernetHeader

ME = bytes([10, 77, 1, 2])
GW = bytes([10, 77, 1, 1])
ROUTER = bytes([10, 77, 2, 2])
MY_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
EPOCH = 1_800_000_000
KEY = bytes(range(16))
NET = (10 << 24) | (177 << 16)  # 10.177.0.0

Behaviour = Callable[[int, bytes, float], list[tuple[float, bytes]]]


def addr(text: str) -> int:
    return int.from_bytes(bytes(int(x) for x in text.split(".")), "big")


def _ip_checksum(header: bytearray) -> None:
    header[10:12] = b"\0\0"
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")


def reply_frame(request: bytes, *, src: bytes | None = None, ttl: int = 62,
                corrupt: bool = False, payload: bytes | None = None) -> bytes:
    """The target's echo reply to one of our request frames."""
    ip = bytearray(request[14:34])
    icmp = bytearray(request[34:])
    if payload is not None:
        icmp[8:] = payload
    ip[12:16], ip[16:20] = (src or request[30:34]), request[26:30]
    ip[8] = ttl
    ip[2:4] = (20 + len(icmp)).to_bytes(2, "big")
    _ip_checksum(ip)
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = internet_checksum(bytes(icmp)).to_bytes(2, "big")
    if corrupt:
        icmp[2] ^= 0xFF
    return EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode() + bytes(ip) + bytes(icmp)


def error_frame(request: bytes, router: bytes = ROUTER, icmp_type: int = 3, code: int = 1,
                quote: int = 28) -> bytes:
    """``router``'s ICMP error about one of our requests, quoting ``quote`` bytes of it."""
    quoted = request[14:14 + quote]
    icmp = bytearray(struct.pack("!BBH4s", icmp_type, code, 0, b"\0\0\0\0") + quoted)
    icmp[2:4] = internet_checksum(bytes(icmp)).to_bytes(2, "big")
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 63, 1, 0,
                               router, ME))
    _ip_checksum(ip)
    return EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode() + bytes(ip) + bytes(icmp)


def alive_after(rtt_s: float) -> Behaviour:
    return lambda a, frame, now: [(rtt_s, reply_frame(frame))]


class SweepNet:
    """Capture handle, injector and clocks of a simulated network (see the docstring)."""

    def __init__(self, behaviour: Behaviour, *, arp: bool = True) -> None:
        self.now = 1.0
        self.behaviour = behaviour
        self.arp = arp
        self.fd = -1
        self.linktype = 1
        self.frames_read = 0
        self.heap: list[tuple[float, int, bytes]] = []
        self.n = 0
        self.sent: list[tuple[float, int, bytes]] = []  # (time, dst, frame) of each probe
        self.keep_frames = True
        self.record = True  # False: only count the probes (memory tests)
        self.lazy = False  # True: wait() never reports the capture readable
        self.count = 0

    def clock(self) -> float:
        return self.now

    def wall_ns(self) -> int:
        return round((EPOCH + self.now) * 1e9)

    def _queue(self, when: float, frame: bytes) -> None:
        self.n += 1
        heapq.heappush(self.heap, (when, self.n, frame))

    def send(self, frame: bytes | bytearray) -> None:
        frame = bytes(frame)
        if frame[12:14] == b"\x08\x06":
            if self.arp:
                reply = EthernetHeader(MY_MAC, GW_MAC, 0x0806).encode() + ARPPacket(
                    2, GW_MAC, GW, MY_MAC, ME).encode()
                self._queue(self.now + 50e-6, reply)
            return
        dst = int.from_bytes(frame[30:34], "big")
        total = int.from_bytes(frame[16:18], "big")
        # every probe must be a valid echo request: IPv4 and ICMP checksums, its length
        assert frame[12:14] == b"\x08\x00" and frame[14] == 0x45 and frame[34] == 8, frame
        assert checksum_ok(frame[14:34]) and checksum_ok(frame[34:14 + total]), frame.hex()
        assert len(frame) == 14 + total
        self.count += 1
        if self.record:
            self.sent.append((self.now, dst, frame if self.keep_frames else b""))
        for delay, answer in self.behaviour(dst, frame, self.now):
            self._queue(self.now + delay, answer)

    def batch(self, frame_len: int, slots: int) -> _Batch:
        """The injector's FrameBatch: frames side by side, sent in order by ``send(n)``."""
        return _Batch(self, frame_len, slots)

    def close(self) -> None:
        pass

    def wait(self, fds: list[int], delay: float) -> list[int]:
        delay = max(delay, 1e-6)  # a real clock always moves on (a token bucket's 1e-16 s)
        if self.lazy:  # the answers stay queued until someone reads: sleep the whole delay
            self.now += delay
            return []
        if self.heap and self.heap[0][0] <= self.now + delay:
            self.now = max(self.now, self.heap[0][0])
            return [self.fd]
        self.now += delay
        return []

    def next_batch(self, n: int) -> tuple[bytes, bytes]:
        buf, meta = bytearray(), bytearray()
        heap = self.heap
        while heap and heap[0][0] <= self.now and len(meta) < 16 * n:
            when, _n, frame = heapq.heappop(heap)
            usec = round((EPOCH + when) * 1e6)
            meta += struct.pack("=IIII", usec // 1_000_000, usec % 1_000_000, len(buf),
                                len(frame))
            buf += frame
        return bytes(buf), bytes(meta)

    def drained(self) -> bool:
        return not self.heap or self.heap[0][0] > self.now


class _Batch:
    def __init__(self, net: SweepNet, frame_len: int, slots: int) -> None:
        self.net = net
        self.frame_len = frame_len
        self.buffer = bytearray(frame_len * slots)
        self.sends = 0

    def send(self, n: int) -> int:
        self.sends += 1
        size = self.frame_len
        for k in range(n):
            self.net.send(bytes(self.buffer[k * size:(k + 1) * size]))
        return n


def routed_plan() -> RoutePlan:
    """Every target through the gateway GW (a default route)."""
    def lookup(a: bytes) -> Route:
        return Route("pc0", 2, ME, GW, a, False)

    return RoutePlan(lookup, [(0, 0)])


class Calls:
    """A report that records what the strategy told it, as (name, args) tuples."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.strategy: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("flush", "status", "finish"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


def run_sweep(targets: Any, opts: SweepOptions, behaviour: Behaviour, *,
              report: Any = None, key: bytes = KEY, plan: Any = None,
              net: SweepNet | None = None, resolved: bool = True,
              ) -> tuple[SweepStrategy, Any, SweepNet, Engine]:
    """Run a sweep on the fake network; ``resolved``: the gateway's MAC is known already
    (no ARP wait before the first probe), else the engine resolves it first."""
    net = net or SweepNet(behaviour)
    report = report if report is not None else Calls()
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, net, net, resolver=lambda hop: ArpResolver(MY_MAC, ME, hop),
                    clock=net.clock, wait=net.wait)
    if resolved and net.arp:
        engine.preset(GW, GW_MAC)
    strategy = SweepStrategy(targets, plan or routed_plan(), opts, report, engine=engine,
                             src=ME, key=key, clock_start=net.now, wall=net.wall_ns)
    report.strategy = strategy
    engine.run(strategy)
    return strategy, report, net, engine
