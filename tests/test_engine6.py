"""The engine and the ping strategy over IPv6 on a fake network (no root): our own NDP,
ICMPv6 echo with its pseudo-header checksum, Packet Too Big teaching the path MTU, the
Fragment header on later requests, fragmented replies reassembled, PROBE."""

from __future__ import annotations

from typing import Any

from test_engine import EPOCH, FakeNet, Report

from pcapping.decode import decode_frame
from pcapping.probe.engine import Engine, Link
from pcapping.probe.events import EchoReplied, ErrorReported, LocalError, ProbeAnswered
from pcapping.probe.ping import (
    Ping6Strategy,
    PingOptions,
    Probe6Strategy,
    interface_query,
    make_payload,
)
from pcapping.probe.resolve import NdpResolver
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.extecho import ExtEchoReply
from pcapping.wire.frag import Reassembled, Reassembler
from pcapping.wire.frag6 import fragment6
from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error
from pcapping.wire.ipv6 import IPv6Header, ip6_bytes
from pcapping.wire.ndp import neighbor_advertisement

ME = ip6_bytes("fd00:10:77:1::2")
MY_LL = ip6_bytes("fe80::2")
ROUTER_LL = ip6_bytes("fe80::1")
R2 = ip6_bytes("fd00:10:77:2::2")
TARGET = ip6_bytes("fd00:10:77:3::2")
MY_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
NONCE = b"NONCE-06"
ETH6 = EthernetHeader(MY_MAC, GW_MAC, 0x86DD).encode()


class FakeNet6(FakeNet):
    """A router on fe80::1 that answers our NDP, and a target behind a 1280 link."""

    def __init__(self, mtu: int = 1280, ndp: bool = True, probe: bool = False) -> None:
        super().__init__(self._answer)
        self.mtu = mtu
        self.ndp = ndp
        self.probe = probe
        self.pieces = Reassembler()

    def _answer(self, d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        ip6, msg = d.ip6, d.icmp6
        if ip6 is None:
            return []
        if msg is not None and msg.icmp_type == 135:  # our NS for the router
            if not self.ndp or ip6.src != MY_LL:
                return []
            na = neighbor_advertisement(ROUTER_LL, MY_LL, ROUTER_LL, GW_MAC, router=True)
            return [(now + 30e-6, ETH6 + na)]
        datagram = frame[14:]
        if d.ip6_ext is not None and d.ip6_ext.is_fragmented:
            got = self.pieces.add_ipv6(datagram, now)
            if not isinstance(got, Reassembled):
                return []
            datagram = got.datagram
            d = decode_frame(ETH6 + datagram)
            msg = d.icmp6
        elif len(datagram) > self.mtu:  # r2 cannot forward it: Packet Too Big
            ptb = ICMP6Error.build(2, 0, datagram[:1232], mtu=self.mtu).encode(R2, ME)
            return [(now + 50e-6, ETH6 + IPv6Header(R2, ME, 58, hop_limit=63).encode(ptb))]
        if self.probe and msg is not None and msg.icmp_type == 160:
            rest = datagram[44:48]
            reply = ExtEchoReply(int.from_bytes(rest[:2], "big"), rest[2], 0, 0, True, True,
                                 True).encode6(TARGET, ME)
            return [(now + 80e-6, ETH6 + IPv6Header(TARGET, ME, 58, hop_limit=62).encode(
                reply))]
        if not isinstance(msg, ICMP6Echo) or msg.is_reply:
            return []
        reply = ICMP6Echo(True, msg.ident, msg.seq, msg.payload).encode(TARGET, ME)
        if 40 + len(reply) <= self.mtu:
            return [(now + 100e-6, ETH6 + IPv6Header(TARGET, ME, 58, hop_limit=62).encode(
                reply))]
        frags = fragment6(IPv6Header(TARGET, ME, 58, hop_limit=62), 58, reply, self.mtu, 77)
        return [(now + 100e-6 + i * 1e-6, ETH6 + f) for i, f in enumerate(frags)]


def run6(net: FakeNet6, strategy: type = Ping6Strategy, **kw: Any
         ) -> tuple[Any, Report, Engine]:
    query = kw.pop("query", None)
    report = Report()
    report.probe = report.reply  # type: ignore[attr-defined]
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, net, net, clock=net.clock, wait=net.wait,
                    resolver=lambda hop: NdpResolver(MY_MAC, ME, hop, link_local=MY_LL))
    extra = {"query": query} if query is not None else {}
    s = strategy(PingOptions(**kw), report, src=ME, dst=TARGET, next_hop=ROUTER_LL,
                 dst_mac=None, engine=engine, ident=0x6666, nonce=NONCE,
                 clock_start=net.now, **extra)
    engine.run(s)
    return s, report, engine


def test_ndp_then_echo_replies_with_wire_rtt() -> None:
    net = FakeNet6()
    s, report, engine = run6(net, count=3, interval_s=0.2, ttl=9, tos=0x28)
    assert [(r.seq, r.ttl, r.rtt_us) for r in report.of(EchoReplied)] == [
        (1, 62, 100), (2, 62, 100), (3, 62, 100)]
    ns = decode_frame(net.injected[0])
    assert ns.icmp6.icmp_type == 135 and ns.ip6.src == MY_LL and ns.ip6.hop_limit == 255
    assert ns.link.dst == bytes.fromhex("3333ff000001")  # solicited-node group of fe80::1
    assert engine.macs[ROUTER_LL] == GW_MAC
    for seq, frame in enumerate(net.injected[1:], 1):
        d = decode_frame(frame)
        assert d.link.dst == GW_MAC and d.ip6.hop_limit == 9 and d.ip6.traffic_class == 0x28
        assert d.icmp6.checksum_ok and (d.icmp6.ident, d.icmp6.seq) == (0x6666, seq)
        assert d.icmp6.payload == make_payload(56, NONCE)


def test_ndp_failure_is_address_unreachable_from_us() -> None:
    net = FakeNet6(ndp=False)
    s, report, _ = run6(net, count=2, interval_s=0.5, timeout_s=4.0)
    errors = report.of(ErrorReported)
    assert [(e.seq, e.src, e.icmp_type, e.code, e.local) for e in errors] == [
        (1, ME, 1, 3, True), (2, ME, 1, 3, True)]


def test_packet_too_big_then_fragmented_requests_and_reassembled_replies() -> None:
    net = FakeNet6()
    s, report, engine = run6(net, count=3, interval_s=0.2, size=1400)
    assert [(e.seq, e.icmp_type, e.mtu) for e in report.of(ErrorReported)] == [(1, 2, 1280)]
    replies = report.of(EchoReplied)
    assert [(r.seq, r.icmp_length, r.fragments) for r in replies] == [(2, 1408, 2), (3, 1408, 2)]
    assert engine.path_mtu(TARGET) == 1280
    sent = [decode_frame(f) for f in net.injected[1:]]
    assert len(sent[0].data) - 14 == 1448  # the first request whole
    assert all(len(d.data) - 14 <= 1280 for d in sent[1:]) and len(sent) == 5
    assert all(d.ip6_ext.is_fragmented for d in sent[1:])


def test_do_refuses_locally_with_the_ipv6_wording() -> None:
    net = FakeNet6()
    s, report, _ = run6(net, count=2, interval_s=0.2, size=1400, pmtudisc="do")
    assert [e.seq for e in report.of(ErrorReported)] == [1]
    assert [(e.seq, e.mtu, e.v6) for e in report.of(LocalError)] == [(2, 1280, True)]


def test_flood_over_ipv6_counts_every_reply() -> None:
    net = FakeNet6()
    s, report, _ = run6(net, count=500, flood=True)
    assert s.stats.received == 500 and s.stats.transmitted == 500


def test_probe_over_ipv6() -> None:
    net = FakeNet6(probe=True)
    s, report, _ = run6(net, Probe6Strategy, count=2, interval_s=0.2,
                        query=interface_query("eth0"))
    answers = report.of(ProbeAnswered)
    assert [(a.seq, a.code, a.active, a.ipv6, a.rtt_us) for a in answers] == [
        (1, 0, True, True, 80), (2, 0, True, True, 80)]
    req = decode_frame(net.injected[1])
    assert req.icmp6.icmp_type == 160 and req.icmp6.checksum_ok
    assert s.stats.received == 2 and EPOCH  # (the fake's epoch is the capture clock)


def test_interface_query_reading() -> None:
    assert interface_query("3").c_type == 2
    assert interface_query("10.77.3.2").afi == 1
    assert interface_query("fd00::1").afi == 2
    assert interface_query("eth0").name == "eth0"
