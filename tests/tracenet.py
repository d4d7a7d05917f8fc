"""A simulated path for the trace strategy's unit tests: no root, a fake clock.

``FakePath`` plays the capture handle, the injector and the clock of the engine (as
``test_engine.FakeNet`` does for ping), and behind them a chain of routers and a
destination.  A probe injected at time ``now`` walks the chain: at the router where its
TTL runs out that router answers Time Exceeded (after ``hop.rtt_us``), quoting the
datagram as it arrived there; routers it passes decrement the TTL and may rewrite it
(NAT, DSCP); the destination answers as a host does (Port Unreachable, echo reply,
TCP RST).  Answers cross the NATs again on their way back (``nat_restore`` decides
whether the quoted checksum is restored).  Routers can be silent, rate-limited (a
token bucket), answer an unreachable instead of forwarding, quote only 28 bytes, quote
a TTL of 0, or append an RFC 4884 extension (MPLS, interface information).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pcapping.wire.arp import ARPPacket
from pcapping.wire.checksum import internet_checksum
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.ext import ExtObject, ICMPExtension
from pcapping.wire.icmp import ICMPEcho, ICMPError
from pcapping.wire.ipv4 import IPv4Header

ME = bytes([10, 77, 1, 2])
GW = bytes([10, 77, 1, 1])
MY_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
EPOCH = 1_800_000_000


def a(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


@dataclass
class Hop:
    """One router of the path."""

    address: bytes | Callable[[int], bytes]  # or a function of the flow hash (ECMP)
    rtt_us: int = 100
    silent: bool = False
    burst: int | None = None  # rate limit: a bucket of ``burst`` answers ...
    per_s: float = 1.0  # ... refilled at this rate
    nat_outside: bytes | None = None  # masquerade packets it forwards to this source
    nat_port: int | None = None  # ... and this source port (None: kept)
    nat_restore: str = "linux"  # "linux": the quote restored whole; "keep": checksum not
    dscp: int | None = None  # set on what it forwards
    ip_id: int | None = None  # write this IP identification into what it forwards
    unreachable: tuple[int, int] | None = None  # answer (type, code) instead of forwarding
    mtu: int = 0  # the next-hop MTU of a frag-needed answer
    quote: int | None = None  # quote at most this many bytes (None: as Linux, whole)
    ttl0: bool = False  # quote the TTL as 0
    extension: list[ExtObject] | None = None  # RFC 4884 objects after the quote
    compliant: bool = True
    link_mtu: int | None = None  # IPv6: the MTU of the link after it (Packet Too Big)
    flow_label: int | None = None  # IPv6: write this flow label into what it forwards
    tokens: float = field(default=0.0, init=False)
    refilled: float = field(default=-1.0, init=False)
    answered: int = field(default=0, init=False)

    def addr(self, flow_hash: int) -> bytes:
        return self.address(flow_hash) if callable(self.address) else self.address

    def allow(self, now: float) -> bool:
        if self.burst is None:
            return True
        if self.refilled < 0:
            self.tokens, self.refilled = float(self.burst), now
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.per_s)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _fix_ip(pkt: bytearray) -> None:
    pkt[10:12] = b"\0\0"
    ihl = (pkt[0] & 15) * 4
    c = internet_checksum(bytes(pkt[:ihl]))
    pkt[10:12] = c.to_bytes(2, "big")


def _l4_checksum(pkt: bytearray) -> None:
    """Recompute a UDP/TCP checksum in place (what a NAT's update amounts to)."""
    ihl = (pkt[0] & 15) * 4
    proto = pkt[9]
    total = (pkt[2] << 8) | pkt[3]
    seg = pkt[ihl:total]
    off = {17: 6, 6: 16}.get(proto)
    if off is None or len(seg) < off + 2:
        return
    seg[off:off + 2] = b"\0\0"
    pseudo = bytes(pkt[12:20]) + struct.pack("!BBH", 0, proto, len(seg))
    c = internet_checksum(pseudo + bytes(seg))
    if proto == 17 and c == 0:
        c = 0xFFFF
    seg[off:off + 2] = c.to_bytes(2, "big")
    pkt[ihl:total] = seg


def flow_hash(pkt: bytes) -> int:
    """What the fake ECMP hashes: protocol and ports (ICMP: nothing, as Linux policy 3)."""
    ihl = (pkt[0] & 15) * 4
    if pkt[9] in (6, 17):
        return (pkt[9] * 7 + ((pkt[ihl] << 8) | pkt[ihl + 1]) * 31
                + ((pkt[ihl + 2] << 8) | pkt[ihl + 3])) & 0xFFFF
    return pkt[9]


class FakePath:
    """Capture, injector and clock of a simulated path (see the module docstring)."""

    def __init__(self, hops: list[Hop], dst: bytes, *, dst_rtt_us: int | None = None,
                 tcp_listen: bool = False, arp: bool = True) -> None:
        self.hops = hops
        self.dst = dst
        self.dst_rtt_us = dst_rtt_us if dst_rtt_us is not None else 100 * (len(hops) + 1)
        self.tcp_listen = tcp_listen
        self.arp = arp
        self.now = 1.0
        self.queue: list[tuple[float, bytes]] = []
        self.fd = -1
        self.linktype = 1
        self.frames_read = 0
        self.injected: list[bytes] = []
        self.probes: list[bytes] = []  # the IP datagrams of every probe injected
        self.eth = EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode()

    # --- engine plumbing ---
    def clock(self) -> float:
        return self.now

    def close(self) -> None:
        pass

    def _queue(self, when: float, frame: bytes) -> None:
        self.queue.append((when, frame))
        self.queue.sort(key=lambda x: x[0])

    def wait(self, fds: list[int], delay: float) -> list[int]:
        if self.queue and self.queue[0][0] <= self.now + delay:
            self.now = max(self.now, self.queue[0][0])
            return [self.fd]
        self.now += delay
        return []

    def next_batch(self, n: int) -> tuple[bytes, bytes]:
        buf, meta = bytearray(), bytearray()
        while self.queue and self.queue[0][0] <= self.now and len(meta) < 16 * n:
            when, frame = self.queue.pop(0)
            usec = round((EPOCH + when) * 1e6)
            meta += struct.pack("=IIII", usec // 1_000_000, usec % 1_000_000, len(buf),
                                len(frame))
            buf += frame
        return bytes(buf), bytes(meta)

    def drained(self) -> bool:
        return not self.queue or self.queue[0][0] > self.now

    def send(self, frame: bytes | bytearray) -> None:
        frame = bytes(frame)
        self.injected.append(frame)
        self._queue(self.now, frame)  # the capture handle sees it leave
        if frame[12:14] == b"\x08\x06":
            if self.arp:
                reply = EthernetHeader(MY_MAC, GW_MAC, 0x0806).encode() + ARPPacket(
                    2, GW_MAC, GW, MY_MAC, ME).encode()
                self._queue(self.now + 20e-6, reply)
            return
        self.probes.append(frame[14:])
        for when, answer in self.walk(bytearray(frame[14:])):
            self._queue(when, answer)

    # --- the path ---
    def walk(self, pkt: bytearray) -> list[tuple[float, bytes]]:
        h = flow_hash(bytes(pkt))
        nats: list[tuple[Hop, bytes, int | None]] = []  # (hop, original src, original port)
        for hop in self.hops:
            addr = hop.addr(h)
            if hop.unreachable is not None:
                if not hop.allow(self.now):
                    return []
                return self._error(hop, addr, pkt, nats, *hop.unreachable)
            if pkt[8] <= 1:
                if hop.silent or not hop.allow(self.now):
                    return []
                return self._error(hop, addr, pkt, nats, 11, 0)
            pkt[8] -= 1
            if hop.dscp is not None:
                pkt[1] = (hop.dscp << 2) | (pkt[1] & 3)
            if hop.ip_id is not None:
                pkt[4:6] = hop.ip_id.to_bytes(2, "big")
            if hop.nat_outside is not None:
                ihl = (pkt[0] & 15) * 4
                nats.append((hop, bytes(pkt[12:16]),
                             (pkt[ihl] << 8) | pkt[ihl + 1] if pkt[9] in (6, 17) else None))
                pkt[12:16] = hop.nat_outside
                if hop.nat_port is not None and pkt[9] in (6, 17):
                    pkt[ihl:ihl + 2] = hop.nat_port.to_bytes(2, "big")
                _l4_checksum(pkt)
            _fix_ip(pkt)
        return self._destination(pkt, nats)

    def _back(self, outer_dst_ok: bool, nats: list[tuple[Hop, bytes, int | None]],
              quote: bytearray | None) -> tuple[bool, bytearray | None]:
        """Undo the NATs on an answer's quote, last NAT first."""
        for hop, src, port in reversed(nats):
            if quote is not None and len(quote) >= 20:
                quote[12:16] = src
                ihl = (quote[0] & 15) * 4
                if port is not None and len(quote) >= ihl + 2:
                    quote[ihl:ihl + 2] = port.to_bytes(2, "big")
                if hop.nat_restore == "linux" and len(quote) >= ihl + 8:
                    total = (quote[2] << 8) | quote[3]
                    if len(quote) >= total:
                        _l4_checksum(quote)
                _fix_ip(quote)
        return outer_dst_ok, quote

    def _error(self, hop: Hop, addr: bytes, pkt: bytearray,
               nats: list[tuple[Hop, bytes, int | None]], itype: int,
               code: int) -> list[tuple[float, bytes]]:
        hop.answered += 1
        quote = bytearray(pkt)
        if hop.ttl0:
            quote[8] = 0
            _fix_ip(quote)
        _, quote = self._back(True, nats, quote)
        assert quote is not None
        if hop.quote is not None:
            quote = quote[:hop.quote]
        rest = b"\0\0" + (hop.mtu.to_bytes(2, "big") if itype == 3 and code == 4 else b"\0\0")
        ext = None
        if hop.extension is not None:
            ext = ICMPExtension(tuple(hop.extension)).encode()
        msg = ICMPError.build(itype, code, bytes(quote), rest=rest, extension=ext,
                              compliant=hop.compliant)
        frame = self.eth + IPv4Header(addr, ME, 1, ttl=64 - self.hops.index(hop),
                                      tos=0xC0).encode(msg.encode())
        return [(self.now + hop.rtt_us / 1e6, frame)]

    def _destination(self, pkt: bytearray,
                     nats: list[tuple[Hop, bytes, int | None]]) -> list[tuple[float, bytes]]:
        when = self.now + self.dst_rtt_us / 1e6
        proto = pkt[9]
        ihl = (pkt[0] & 15) * 4
        ttl = 64 - len(self.hops)
        if proto == 17:
            _, quote = self._back(True, nats, bytearray(pkt))
            assert quote is not None
            msg = ICMPError.build(3, 3, bytes(quote))
            return [(when, self.eth + IPv4Header(self.dst, ME, 1, ttl=ttl, tos=0xC0).encode(
                msg.encode()))]
        if proto == 1:
            seg = bytes(pkt[ihl:])
            echo = ICMPEcho(True, (seg[4] << 8) | seg[5], (seg[6] << 8) | seg[7], seg[8:])
            return [(when, self.eth + IPv4Header(self.dst, ME, 1, ttl=ttl,
                                                 tos=pkt[1]).encode(echo.encode()))]
        if proto == 6:
            sport, dport = struct.unpack_from("!HH", pkt, ihl)
            seq = struct.unpack_from("!I", pkt, ihl + 4)[0]
            if nats:
                sport = nats[0][2] if nats[0][2] is not None else sport
            flags = 0x12 if self.tcp_listen else 0x14  # SYN-ACK or RST-ACK
            seg = bytearray(struct.pack("!HHIIBBHHH", dport, sport, 0x1000,
                                        (seq + 1) & 0xFFFFFFFF, 5 << 4, flags, 0, 0, 0))
            pseudo = self.dst + ME + struct.pack("!BBH", 0, 6, len(seg))
            c = internet_checksum(pseudo + bytes(seg))
            seg[16:18] = c.to_bytes(2, "big")
            return [(when, self.eth + IPv4Header(self.dst, ME, 6, ttl=ttl).encode(bytes(seg)))]
        return []


def lab_like_path(*, nat_restore: str = "keep", ratelimit: int | None = None) -> tuple[
        list[Hop], bytes]:
    """Seven hops as the lab's trace path: r1, an ECMP pair, a NAT answering from the link
    the flow came by, a DSCP rewrite, a silent router, (optionally) a rate limiter, and
    the destination."""
    ecmp = (a("10.77.20.2"), a("10.77.21.2"))
    natside = (a("10.77.22.2"), a("10.77.23.2"))
    hops = [
        Hop(a("10.77.1.1"), rtt_us=50),
        Hop(lambda h: ecmp[h % 2], rtt_us=80),
        Hop(lambda h: natside[h % 2], rtt_us=110, nat_outside=a("10.77.24.1"),
            nat_restore=nat_restore),
        Hop(a("10.77.24.2"), rtt_us=140, dscp=8),
        Hop(a("10.77.25.2"), rtt_us=170, silent=True),
        Hop(a("10.77.26.2"), rtt_us=200, burst=ratelimit),
    ]
    return hops, a("10.77.27.2")


def run_trace(path: FakePath, report: Any = None, **kw: Any) -> tuple[Any, Any, Any]:
    """Run a TraceStrategy over ``path``; (strategy, report, engine)."""
    from pcapping.probe.engine import Engine, Link
    from pcapping.probe.flows import ProbeBuilder
    from pcapping.probe.resolve import ArpResolver
    from pcapping.probe.trace import TraceOptions, TraceStrategy

    builder_kw = {k: kw.pop(k) for k in ("sport", "nonce", "ident", "offload") if k in kw}
    opts = TraceOptions(**kw)
    if report is None:
        report = Collect()
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, path, path, resolver=lambda hop: ArpResolver(MY_MAC, ME, hop),
                    clock=path.clock, wait=path.wait)
    builder = ProbeBuilder(opts.method, ME, path.dst, packet_len=opts.packet_len,
                           dport=opts.port, tos=opts.tos, paris=opts.paris,
                           sport=builder_kw.get("sport", 40000),
                           nonce=builder_kw.get("nonce", b"NONC"),
                           ident=builder_kw.get("ident", 0x1234),
                           offload=builder_kw.get("offload", False))
    strategy = TraceStrategy(opts, report, builder=builder, src=ME, dst=path.dst,
                             next_hop=GW, dst_mac=None, engine=engine,
                             clock_start=path.now, wall=lambda: EPOCH + path.now)
    engine.run(strategy)
    return strategy, report, engine


class Collect:
    """A report that keeps what it is told."""

    def __init__(self) -> None:
        self.probes: list[Any] = []
        self.rounds: list[int] = []

    def probe(self, ev: Any) -> None:
        self.probes.append(ev)

    def round_done(self, round_no: int) -> None:
        self.rounds.append(round_no)

    def flush(self) -> None:
        pass
