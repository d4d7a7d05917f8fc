"""The simulated path of ``tracenet.py`` for IPv6: no root, a fake clock.

``FakePath6`` plays the capture handle, the injector and the clock, answers our Neighbor
Solicitation for the router (``fe80::1``, as the lab's), and walks each probe along a
chain of ``tracenet.Hop`` routers with 16-byte addresses: the hop limit runs out at one
(Time Exceeded 3/0 quoting the datagram as it arrived, at most RFC 4443's 1232 bytes),
routers it passes decrement it and may rewrite it (NAT66 masquerade of the source and
port with the checksum updated, the traffic class's DSCP, the flow label), a router may
answer an unreachable instead (``unreachable=(1, code)``), a link after a router may be
narrower than the probe (``link_mtu``: Packet Too Big, the probe dropped), and the
destination answers as a host does (Port Unreachable 1/4, echo reply 129 with the
request's traffic class, TCP RST), reassembling fragments first.  Answers cross the NATs
again on the way back (``nat_restore``: "linux" restores the quoted source, port and a
recomputed checksum; "keep" restores source and port only).  ``hash_flow_label`` makes
the fake balancer hash the flow label too (RFC 6438), as many IPv6 routers do.
"""

from __future__ import annotations

import struct
from typing import Any

from tracenet import EPOCH, Collect, FakePath, Hop

from pcapping.wire.checksum import internet_checksum
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.ext import ICMPExtension
from pcapping.wire.frag import Reassembled, Reassembler
from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error
from pcapping.wire.ipv6 import IPv6Header, ip6_bytes, pseudo_header, walk_extensions
from pcapping.wire.ndp import neighbor_advertisement

ME = ip6_bytes("fd00:10:77:1::2")
MY_LL = ip6_bytes("fe80::2")
GW_LL = ip6_bytes("fe80::1")
MY_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
QUOTE_MAX = 1232

__all__ = ["EPOCH", "Collect", "FakePath6", "Hop", "a6", "lab_like_path6", "run_trace6"]


def a6(text: str) -> bytes:
    return ip6_bytes(text)


def _upper(pkt: bytes | bytearray) -> tuple[int, int | None]:
    """(upper-layer protocol, its offset) of an IPv6 datagram (None: a later fragment)."""
    nh = pkt[6]
    if nh not in (0, 43, 44, 51, 60):
        return nh, 40
    chain = walk_extensions(bytes(pkt), nh, 40, len(pkt))
    return chain.protocol, chain.offset if chain.upper_layer_present else None


def _l4_checksum6(pkt: bytearray) -> None:
    """Recompute an unfragmented datagram's UDP/TCP checksum in place."""
    proto, at = _upper(pkt)
    off = {17: 6, 6: 16, 58: 2}.get(proto)
    if off is None or at is None or pkt[6] == 44:
        return
    end = 40 + ((pkt[4] << 8) | pkt[5])
    seg = pkt[at:end]
    if len(seg) < off + 2:
        return
    seg[off:off + 2] = b"\0\0"
    c = internet_checksum(pseudo_header(bytes(pkt[8:24]), bytes(pkt[24:40]), len(seg), proto)
                          + bytes(seg))
    if proto == 17 and c == 0:
        c = 0xFFFF
    seg[off:off + 2] = c.to_bytes(2, "big")
    pkt[at:end] = seg


def _csum_replace(pkt: bytearray, at: int, off: int, old: bytes, new: bytes) -> None:
    """A NAT's incremental checksum update (RFC 1624) for ``old`` -> ``new`` words."""
    c = (pkt[at + off] << 8) | pkt[at + off + 1]
    s = ~c & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~((old[i] << 8) | old[i + 1])) & 0xFFFF
        s += (new[i] << 8) | new[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    c = ~s & 0xFFFF
    pkt[at + off] = c >> 8
    pkt[at + off + 1] = c & 0xFF


def flow_hash6(pkt: bytes, flow_label: bool = False) -> int:
    """What the fake balancer hashes: next header and ports (ICMPv6: nothing, as Linux
    policy 3 with the lab's fields), and the flow label when asked."""
    proto, at = _upper(pkt)
    h = 0
    if proto in (6, 17) and at is not None and len(pkt) >= at + 4:
        h = (proto * 7 + ((pkt[at] << 8) | pkt[at + 1]) * 31
             + ((pkt[at + 2] << 8) | pkt[at + 3])) & 0xFFFF
    else:
        h = proto
    if flow_label:
        h = (h + (int.from_bytes(pkt[1:4], "big") & 0xFFFFF) * 13) & 0xFFFF
    return h


class FakePath6(FakePath):
    """Capture, injector and clock of a simulated IPv6 path (see the module docstring)."""

    def __init__(self, hops: list[Hop], dst: bytes, *, dst_rtt_us: int | None = None,
                 tcp_listen: bool = False, ndp: bool = True,
                 hash_flow_label: bool = False) -> None:
        super().__init__(hops, dst, dst_rtt_us=dst_rtt_us, tcp_listen=tcp_listen)
        self.ndp = ndp
        self.hash_flow_label = hash_flow_label
        self.eth = EthernetHeader(MY_MAC, GW_MAC, 0x86DD).encode()
        self.pieces = Reassembler()
        self.solicitations = 0

    def send(self, frame: bytes | bytearray) -> None:
        frame = bytes(frame)
        self.injected.append(frame)
        self._queue(self.now, frame)  # the capture handle sees it leave
        if frame[12:14] != b"\x86\xdd":
            return
        pkt = frame[14:]
        if pkt[6] == 58 and pkt[40] == 135:  # our NS for the router
            self.solicitations += 1
            if self.ndp and pkt[48:64] == GW_LL:
                na = neighbor_advertisement(GW_LL, bytes(pkt[8:24]), GW_LL, GW_MAC,
                                            router=True)
                self._queue(self.now + 20e-6, self.eth + na)
            return
        self.probes.append(pkt)
        for when, answer in self.walk(bytearray(pkt)):
            self._queue(when, answer)

    def walk(self, pkt: bytearray) -> list[tuple[float, bytes]]:
        h = flow_hash6(bytes(pkt), self.hash_flow_label)
        nats: list[tuple[Hop, bytes, int | None]] = []
        for hop in self.hops:
            addr = hop.addr(h)
            if hop.unreachable is not None:
                if not hop.allow(self.now):
                    return []
                return self._error(hop, addr, pkt, nats, *hop.unreachable)
            if pkt[7] <= 1:
                if hop.silent or not hop.allow(self.now):
                    return []
                return self._error(hop, addr, pkt, nats, 3, 0)
            if hop.link_mtu is not None and len(pkt) > hop.link_mtu:
                return self._error(hop, addr, pkt, nats, 2, 0, mtu=hop.link_mtu)
            pkt[7] -= 1
            if hop.dscp is not None:
                tc = ((pkt[0] & 0x0F) << 4) | (pkt[1] >> 4)
                tc = (hop.dscp << 2) | (tc & 3)
                pkt[0] = 0x60 | (tc >> 4)
                pkt[1] = ((tc & 0x0F) << 4) | (pkt[1] & 0x0F)
            label = hop.flow_label
            if label is not None:
                pkt[1] = (pkt[1] & 0xF0) | ((label >> 16) & 0x0F)
                pkt[2:4] = (label & 0xFFFF).to_bytes(2, "big")
            if hop.nat_outside is not None:
                self._nat(hop, pkt, nats)
        return self._destination(pkt, nats)

    def _nat(self, hop: Hop, pkt: bytearray, nats: list[tuple[Hop, bytes, int | None]]) -> None:
        """Masquerade: the source (and port) rewritten, the transport checksum updated
        incrementally (as Linux does, whatever was in the field)."""
        proto, at = _upper(pkt)
        old_src = bytes(pkt[8:24])
        port = None
        if proto in (6, 17) and at is not None and pkt[6] != 44:
            port = (pkt[at] << 8) | pkt[at + 1]
        nats.append((hop, old_src, port))
        assert hop.nat_outside is not None
        new_src = hop.nat_outside
        pkt[8:24] = new_src
        off = {17: 6, 6: 16, 58: 2}.get(proto)  # (ICMPv6's covers the addresses too)
        if off is not None and at is not None and pkt[6] != 44:
            _csum_replace(pkt, at, off, old_src, new_src)
            if hop.nat_port is not None:
                new_port = hop.nat_port.to_bytes(2, "big")
                _csum_replace(pkt, at, off, bytes(pkt[at:at + 2]), new_port)
                pkt[at:at + 2] = new_port

    def _back6(self, nats: list[tuple[Hop, bytes, int | None]], quote: bytearray) -> bytearray:
        """Undo the NATs on an answer's quote, last NAT first."""
        for hop, src, port in reversed(nats):
            if len(quote) < 40:
                continue
            quote[8:24] = src
            proto, at = _upper(quote)
            if port is not None and at is not None and len(quote) >= at + 2:
                quote[at:at + 2] = port.to_bytes(2, "big")
            if hop.nat_restore == "linux" and len(quote) >= 40 + ((quote[4] << 8) | quote[5]):
                _l4_checksum6(quote)
        return quote

    def _error(self, hop: Hop, addr: bytes, pkt: bytearray,
               nats: list[tuple[Hop, bytes, int | None]], itype: int, code: int,
               mtu: int | None = None) -> list[tuple[float, bytes]]:
        hop.answered += 1
        quote = bytearray(pkt)
        if hop.ttl0:
            quote[7] = 0
        quote = self._back6(nats, quote)
        quote = quote[:hop.quote if hop.quote is not None else QUOTE_MAX]
        ext = None
        if hop.extension is not None and itype in (1, 3):
            ext = ICMPExtension(tuple(hop.extension))
        msg = ICMP6Error.build(itype, code, bytes(quote), mtu=mtu, extension=ext)
        if ext is not None and not hop.compliant:  # the structure at 128, length field 0
            msg = msg._replace(rest=b"\0" + msg.rest[1:])
        ttl = 64 - self.hops.index(hop)
        frame = self.eth + IPv6Header(addr, ME, 58, hop_limit=ttl,
                                      traffic_class=0xC0).encode(msg.encode(addr, ME))
        return [(self.now + hop.rtt_us / 1e6, frame)]

    def _destination(self, pkt: bytearray,
                     nats: list[tuple[Hop, bytes, int | None]]) -> list[tuple[float, bytes]]:
        when = self.now + self.dst_rtt_us / 1e6
        ttl = 64 - len(self.hops)
        datagram = bytes(pkt)
        if pkt[6] == 44:  # a fragment: answered once whole
            got = self.pieces.add_ipv6(datagram, self.now)
            if not isinstance(got, Reassembled):
                return []
            datagram = got.datagram
            pkt = bytearray(datagram)
        proto, at = _upper(pkt)
        if at is None:
            return []
        if proto == 17:
            quote = self._back6(nats, bytearray(datagram))[:QUOTE_MAX]
            msg = ICMP6Error.build(1, 4, bytes(quote)).encode(self.dst, ME)
            return [(when, self.eth + IPv6Header(self.dst, ME, 58, hop_limit=ttl,
                                                 traffic_class=0xC0).encode(msg))]
        if proto == 58:
            seg = datagram[at:]
            if seg[0] != 128:
                return []
            echo = ICMP6Echo(True, (seg[4] << 8) | seg[5], (seg[6] << 8) | seg[7], seg[8:])
            tc = ((pkt[0] & 0x0F) << 4) | (pkt[1] >> 4)
            return [(when, self.eth + IPv6Header(self.dst, ME, 58, hop_limit=ttl,
                                                 traffic_class=tc).encode(
                echo.encode(self.dst, ME)))]
        if proto == 6:
            sport, dport = struct.unpack_from("!HH", datagram, at)
            seq = struct.unpack_from("!I", datagram, at + 4)[0]
            if nats:
                sport = nats[0][2] if nats[0][2] is not None else sport
            flags = 0x12 if self.tcp_listen else 0x14  # SYN-ACK or RST-ACK
            seg = bytearray(struct.pack("!HHIIBBHHH", dport, sport, 0x1000,
                                        (seq + 1) & 0xFFFFFFFF, 5 << 4, flags, 0, 0, 0))
            c = internet_checksum(pseudo_header(self.dst, ME, len(seg), 6) + bytes(seg))
            seg[16:18] = c.to_bytes(2, "big")
            return [(when, self.eth + IPv6Header(self.dst, ME, 6, hop_limit=ttl).encode(
                bytes(seg)))]
        return []


def lab_like_path6(*, nat_restore: str = "keep", ratelimit: int | None = None
                   ) -> tuple[list[Hop], bytes]:
    """The lab's trace path in IPv6: r1, an ECMP pair, a NAT66 answering from the link
    the flow came by, a DSCP rewrite, a silent router, (optionally) a rate limiter, and
    the destination."""
    ecmp = (a6("fd00:10:77:20::2"), a6("fd00:10:77:21::2"))
    natside = (a6("fd00:10:77:22::2"), a6("fd00:10:77:23::2"))
    hops = [
        Hop(a6("fd00:10:77:1::1"), rtt_us=50),
        Hop(lambda h: ecmp[h % 2], rtt_us=80),
        Hop(lambda h: natside[h % 2], rtt_us=110, nat_outside=a6("fd00:10:77:24::1"),
            nat_restore=nat_restore),
        Hop(a6("fd00:10:77:24::2"), rtt_us=140, dscp=8),
        Hop(a6("fd00:10:77:25::2"), rtt_us=170, silent=True),
        Hop(a6("fd00:10:77:26::2"), rtt_us=200, burst=ratelimit),
    ]
    return hops, a6("fd00:10:77:27::2")


def run_trace6(path: FakePath6, report: Any = None, **kw: Any) -> tuple[Any, Any, Any]:
    """Run a TraceStrategy over ``path`` (IPv6); (strategy, report, engine)."""
    from pcapping.probe.engine import Engine, Link
    from pcapping.probe.flows import ProbeBuilder
    from pcapping.probe.resolve import NdpResolver
    from pcapping.probe.trace import TraceOptions, TraceStrategy

    builder_kw = {k: kw.pop(k) for k in ("sport", "nonce", "ident", "offload") if k in kw}
    opts = TraceOptions(**kw)
    if report is None:
        report = Collect()
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, path, path, clock=path.clock, wait=path.wait,
                    resolver=lambda hop: NdpResolver(MY_MAC, ME, hop, link_local=MY_LL))
    builder = ProbeBuilder(opts.method, ME, path.dst, packet_len=opts.packet_len,
                           dport=opts.port, tos=opts.tos, paris=opts.paris,
                           sport=builder_kw.get("sport", 40000),
                           nonce=builder_kw.get("nonce", b"NONC"),
                           ident=builder_kw.get("ident", 0x1234),
                           offload=builder_kw.get("offload", False),
                           flow_label=opts.flow_label if opts.flow_label is not None
                           else 0x12345)
    strategy = TraceStrategy(opts, report, builder=builder, src=ME, dst=path.dst,
                             next_hop=GW_LL, dst_mac=None, engine=engine,
                             clock_start=path.now, wall=lambda: EPOCH + path.now)
    engine.run(strategy)
    return strategy, report, engine
