#!/usr/bin/env python3
"""The crafted IPv6 fixtures in ``captures/`` (``make_captures.py`` writes them too).

    python scripts/make_captures6.py     # only the IPv6 files
    python scripts/make_captures6.py --tcpdump-tests DIR
        # also copy tcpdump's IPv6/ICMPv6 test captures from DIR (the tests/ directory
        # of the-tcpdump-group/tcpdump at tag tcpdump-4.99.3) into captures/tcpdump/

Every ICMPv6 type and code, NDP with every option, MLD v1/v2, RFC 8335 extended echo
(ICMPv6 160/161 and ICMP 42/43), extension-header chains, bad checksums, cuts at
every layer and every link type, built with pcapping's own encoders
(``IPv6Header``, ``OptionsHeader``, ``RoutingHeader``, ``FragmentHeader``,
``AHHeader``, ``ICMP6Echo``/``ICMP6Error``/``ICMP6Other``, the NDP/MLD/PROBE
classes) and patched as raw bytes where the point is damage the encoders refuse.
Deterministic: fixed addresses (the lab's IPv6 plan: 2001:db8:77:N::/64 per link,
fe80:: link-locals), timestamps, identifiers and payloads.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_captures import (  # noqa: E402
    CLIENT_MAC,
    IDENT,
    OTHER_MAC,
    ROUTER_MAC,
    Capture,
    eth,
    ping_payload,
)

from pcapping.wire.ethernet import VLANTag  # noqa: E402
from pcapping.wire.ext import ExtObject, ICMPExtension, InterfaceQuery  # noqa: E402
from pcapping.wire.extecho import ExtEchoReply, ExtEchoRequest  # noqa: E402
from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error, ICMP6Other, encode_icmp6  # noqa: E402
from pcapping.wire.ipv4 import IPv4Header, ip_bytes  # noqa: E402
from pcapping.wire.ipv6 import (  # noqa: E402
    ALL_NODES,
    ALL_ROUTERS,
    UNSPECIFIED,
    AHHeader,
    FragmentHeader,
    IPv6Header,
    IPv6Option,
    OptionsHeader,
    RoutingHeader,
    ip6_bytes,
    multicast_mac,
    solicited_node,
)
from pcapping.wire.mld import MLDMessage, MLDv2Query, MLDv2Record, MLDv2Report  # noqa: E402
from pcapping.wire.ndp import (  # noqa: E402
    DNSSLOption,
    LinkLayerOption,
    MTUOption,
    NeighborAdvert,
    NeighborSolicit,
    NonceOption,
    PrefixInfo,
    RDNSSOption,
    Redirect,
    RedirectedHeader,
    RouteInfo,
    RouterAdvert,
    RouterSolicit,
    UnknownOption,
)
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader  # noqa: E402

CLIENT6 = ip6_bytes("2001:db8:77:1::2")
ROUTER6 = ip6_bytes("2001:db8:77:1::1")
ROUTER6_2 = ip6_bytes("2001:db8:77:2::2")
TARGET6 = ip6_bytes("2001:db8:77:3::2")
NOBODY6 = ip6_bytes("2001:db8:77:1::99")
CLIENT_LL = ip6_bytes("fe80::ff:fe00:102")
ROUTER_LL = ip6_bytes("fe80::ff:fe00:101")
OTHER_LL = ip6_bytes("fe80::ff:fefe:fe01")
MLD_GROUP = ip6_bytes("ff02::1:3")
ALERT_MLD = OptionsHeader.build(0, 58, [IPv6Option(5, b"\0\0")])  # router alert: MLD


# -- building blocks ------------------------------------------------------------------

def ip6(src: bytes, dst: bytes, payload: bytes, *, nh: int = 58, hlim: int = 64,
        tclass: int = 0, flow: int = 0) -> bytes:
    return IPv6Header(src, dst, nh, hlim, tclass, flow).encode(payload)


def eth6(datagram: bytes, *, dst: bytes = ROUTER_MAC, src: bytes = CLIENT_MAC,
         vlans: tuple[VLANTag, ...] = ()) -> bytes:
    return eth(datagram, dst=dst, src=src, ethertype=0x86DD, vlans=vlans)


def echo6(seq: int, reply: bool = False, *, src: bytes = CLIENT6, dst: bytes = TARGET6,
          hlim: int = 64, size: int = 56, ident: int = IDENT, flow: int = 0,
          tclass: int = 0) -> bytes:
    """The IPv6 datagram of an echo request (client -> target) or reply."""
    if reply:
        src, dst = dst, src
    msg = ICMP6Echo(reply, ident, seq, ping_payload(seq, size)).encode(src, dst)
    return ip6(src, dst, msg, hlim=hlim, flow=flow, tclass=tclass)


def error6(icmp_type: int, code: int, quoted: bytes, *, src: bytes = ROUTER6,
           dst: bytes = CLIENT6, mtu: int | None = None, pointer: int | None = None,
           extension: ICMPExtension | None = None, hlim: int = 64) -> bytes:
    msg = ICMP6Error.build(icmp_type, code, quoted, mtu=mtu, pointer=pointer,
                           extension=extension).encode(src, dst)
    return ip6(src, dst, msg, hlim=hlim)


def reply_frame(datagram: bytes) -> bytes:
    return eth6(datagram, dst=CLIENT_MAC, src=ROUTER_MAC)


def nd6(msg_obj, src: bytes, dst: bytes, *, hops: tuple = ()) -> bytes:  # noqa: ANN001
    """An NDP/MLD datagram (hop limit 255 for NDP, 1 with a router alert for MLD)."""
    msg = msg_obj.encode(src, dst)
    if hops:
        chain = b"".join(h.encode() for h in hops)
        return IPv6Header(src, dst, 0, 1).encode(chain + msg)
    return IPv6Header(src, dst, 58, 255).encode(msg)


def set_word(buf: bytes, offset: int, value: int) -> bytes:
    return buf[:offset] + value.to_bytes(2, "big") + buf[offset + 2:]


def udp6(src: bytes, dst: bytes, sport: int, dport: int, body: bytes) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body
    return ip6(src, dst, seg, nh=17, hlim=1)


def tcp6(src: bytes, dst: bytes, sport: int, dport: int) -> bytes:
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 0x50, 2, 64240, 0, 0)
    return ip6(src, dst, seg, nh=6, hlim=1)


def chain6(src: bytes, dst: bytes, headers: list, upper_nh: int, upper: bytes, *,
           hlim: int = 64) -> bytes:
    """A datagram with extension ``headers`` (their next-header fields are set here)."""
    kinds = []
    for h in headers:
        kinds.append(44 if isinstance(h, FragmentHeader) else 43 if isinstance(
            h, RoutingHeader) else 51 if isinstance(h, AHHeader) else h.kind)
    fixed = []
    for i, h in enumerate(headers):
        nxt = kinds[i + 1] if i + 1 < len(headers) else upper_nh
        fixed.append(h._replace(next_header=nxt))
    first = kinds[0] if headers else upper_nh
    return IPv6Header(src, dst, first, hlim).encode(b"".join(h.encode() for h in fixed)
                                                    + upper)


def echo_msg(seq: int, src: bytes = CLIENT6, dst: bytes = TARGET6, size: int = 56) -> bytes:
    return ICMP6Echo(False, IDENT, seq, ping_payload(seq, size)).encode(src, dst)


# -- themes -----------------------------------------------------------------------------

def echo6_pcap() -> Capture:
    c = Capture("ipv6-echo.pcap")
    for seq in (1, 2, 3):
        c.add(eth6(echo6(seq)))
        c.add(reply_frame(echo6(seq, reply=True, hlim=62)))
    c.add(eth6(echo6(4, size=1452)))  # a 1500-byte datagram
    c.add(reply_frame(echo6(4, reply=True, hlim=62, size=1452)))
    c.add(eth6(echo6(5, size=0)))  # no payload: 62-byte frame
    c.add(eth6(echo6(6, flow=0x12345, tclass=0xB8)))  # flow label, DSCP EF
    c.add(eth6(echo6(7, tclass=0x03)))  # ECN CE only
    c.add(eth6(echo6(8, src=CLIENT_LL, dst=ROUTER_LL)))  # link-local
    c.add(reply_frame(echo6(8, reply=True, src=CLIENT_LL, dst=ROUTER_LL)))
    c.add(eth6(echo6(9, dst=ALL_NODES, hlim=1), dst=multicast_mac(ALL_NODES)))
    c.add(eth6(echo6(1, ident=0x4321)))  # another pinger
    c.add(eth6(echo6(10, src=ip6_bytes("::ffff:10.77.1.2"), dst=ip6_bytes("::1.2.3.4"))))
    return c


def errors6_pcap() -> Capture:
    c = Capture("icmp6-errors.pcap")
    req = echo6(1, hlim=1)
    for code in range(9):  # destination unreachable 0-8
        c.add(reply_frame(error6(1, code, echo6(code + 1))))
    c.add(reply_frame(error6(1, 4, udp6(CLIENT6, TARGET6, 40000, 33434, b"traceroute"),
                             src=TARGET6)))
    c.add(reply_frame(error6(1, 4, tcp6(CLIENT6, TARGET6, 40000, 80), src=TARGET6)))
    hbh_udp = chain6(CLIENT6, TARGET6, [OptionsHeader.build(0, 0, [IPv6Option(5, b"\0\1")]),
                                        OptionsHeader.build(60, 0, [])], 17,
                     struct.pack("!HHHH", 40001, 33435, 8, 0), hlim=1)
    c.add(reply_frame(error6(1, 4, hbh_udp, src=TARGET6)))
    c.add(reply_frame(error6(1, 4, echo6(11), src=TARGET6)))  # "port" unreachable for ICMPv6
    c.add(reply_frame(error6(1, 4, echo6(12)[:40])))  # the quote stops before any port
    c.add(reply_frame(error6(2, 0, echo6(13, size=1452)[:1232], src=ROUTER6_2, mtu=1280)))
    c.add(reply_frame(error6(2, 0, echo6(14)[:48], mtu=1500)))
    c.add(reply_frame(error6(3, 0, req)))
    c.add(reply_frame(error6(3, 0, echo6(2, hlim=2), src=ROUTER6_2)))
    c.add(reply_frame(error6(3, 1, echo6(3)[:48], src=TARGET6)))
    c.add(reply_frame(error6(3, 7, echo6(4)[:48])))
    for code, pointer in ((0, 4), (1, 40), (2, 42), (3, 40), (5, 0)):
        c.add(reply_frame(error6(4, code, echo6(20 + code)[:64], pointer=pointer)))
    # RFC 4884: a time exceeded with an extension structure after a 128-byte quote
    ext = ICMPExtension((ExtObject(2, 0x0A, struct.pack("!I", 2) + b"\x04eth0\0\0\0"),))
    c.add(reply_frame(error6(3, 0, echo6(5, hlim=1), extension=ext)))
    c.add(reply_frame(error6(1, 0, echo6(6), extension=ICMPExtension(
        (ExtObject(1, 1, struct.pack("!I", (16 << 12) | 0x100 | 1)),)))))
    return c


def ndp_pcap() -> Capture:
    c = Capture("ndp.pcap")
    sll = LinkLayerOption(1, CLIENT_MAC)
    tll = LinkLayerOption(2, ROUTER_MAC)
    # address resolution: multicast NS, solicited NA
    ns = NeighborSolicit(ROUTER6, (sll,))
    c.add(eth6(nd6(ns, CLIENT6, solicited_node(ROUTER6)),
               dst=multicast_mac(solicited_node(ROUTER6))))
    na = NeighborAdvert(ROUTER6, True, True, True, (tll,))
    c.add(reply_frame(nd6(na, ROUTER6, CLIENT6)))
    # duplicate address detection (from ::, no option) with a nonce (RFC 7527)
    dad = NeighborSolicit(CLIENT6, (NonceOption(bytes.fromhex("0102030405ff")),))
    c.add(eth6(nd6(dad, UNSPECIFIED, solicited_node(CLIENT6)),
               dst=multicast_mac(solicited_node(CLIENT6))))
    # unicast reachability probe, and its answer without an option
    c.add(eth6(nd6(NeighborSolicit(ROUTER_LL, (sll,)), CLIENT_LL, ROUTER_LL)))
    c.add(reply_frame(nd6(NeighborAdvert(ROUTER_LL, True, True, False), ROUTER_LL, CLIENT_LL)))
    # unsolicited NA to all nodes, override only
    c.add(eth6(nd6(NeighborAdvert(CLIENT6, False, False, True, (LinkLayerOption(2, CLIENT_MAC),)),
                   CLIENT6, ALL_NODES), dst=multicast_mac(ALL_NODES)))
    # the on-link address nobody holds: three unanswered solicitations
    for _ in range(3):
        c.add(eth6(nd6(NeighborSolicit(NOBODY6, (sll,)), CLIENT6, solicited_node(NOBODY6)),
                   dst=multicast_mac(solicited_node(NOBODY6))))
    # router discovery
    c.add(eth6(nd6(RouterSolicit((sll,)), CLIENT_LL, ALL_ROUTERS),
               dst=multicast_mac(ALL_ROUTERS)))
    c.add(eth6(nd6(RouterSolicit(), UNSPECIFIED, ALL_ROUTERS), dst=multicast_mac(ALL_ROUTERS)))
    ra_options = (
        LinkLayerOption(1, ROUTER_MAC),
        MTUOption(1280),
        PrefixInfo(64, 0xC0, 2592000, 604800, ip6_bytes("2001:db8:77:1::")),
        PrefixInfo(48, 0x80, 0xFFFFFFFF, 0xFFFFFFFF, ip6_bytes("2001:db8:ff::")),
        PrefixInfo(64, 0x20, 0, 0, ROUTER6),
        RDNSSOption(600, (ip6_bytes("2001:db8:77:1::53"), ip6_bytes("2001:db8::53"))),
        DNSSLOption(600, ("lab.example", "example.org")),
        RouteInfo(0, 0x08, 1800, b""),
        RouteInfo(48, 0x18, 0xFFFFFFFF, ip6_bytes("2001:db8:99::")[:8]),
        RouteInfo(96, 0x00, 300, ip6_bytes("2001:db8:98:0:1:2::")),
        UnknownOption(7, b"\0\0" + struct.pack("!I", 600000)),  # advertisement interval
        UnknownOption(8, struct.pack("!HHH", 0, 10, 1800)),  # home agent information
    )
    ra = RouterAdvert(64, 0xC8, 1800, 30000, 1000, ra_options)
    c.add(reply_frame(nd6(ra, ROUTER_LL, ALL_NODES)))
    c.add(reply_frame(nd6(RouterAdvert(0, 0x10, 0, 0, 0, (LinkLayerOption(1, ROUTER_MAC),)),
                          ROUTER_LL, CLIENT_LL)))  # reserved preference, not a default router
    c.add(reply_frame(nd6(RouterAdvert(255, 0x3A, 9000, 1, 2, (
        UnknownOption(99, bytes(6)), MTUOption(1500))), ROUTER_LL, ALL_NODES)))
    # redirect to a better first hop, with the redirected header
    redirected = echo6(1)[:56]
    rd = Redirect(ip6_bytes("fe80::ff:fe00:202"), TARGET6,
                  (LinkLayerOption(2, OTHER_MAC), RedirectedHeader(redirected)))
    c.add(reply_frame(nd6(rd, ROUTER_LL, CLIENT_LL)))
    c.add(reply_frame(nd6(Redirect(TARGET6, TARGET6), ROUTER_LL, CLIENT_LL)))  # on-link
    # malformed options: length 0, one running past the message, hop limit not 255
    bad = nd6(NeighborSolicit(ROUTER6), CLIENT6, solicited_node(ROUTER6))
    zero = bad + b"\x01\x00" + bytes(6)
    zero = set_word(zero, 4, len(zero) - 40)
    zero = _fix_icmp6_sum(zero)
    c.add(eth6(zero, dst=multicast_mac(solicited_node(ROUTER6))))
    long = bad + b"\x01\x02" + CLIENT_MAC
    long = _fix_icmp6_sum(set_word(long, 4, len(long) - 40))
    c.add(eth6(long, dst=multicast_mac(solicited_node(ROUTER6))))
    c.add(eth6(ip6(CLIENT6, ROUTER6, ns.encode(CLIENT6, ROUTER6), hlim=64)))
    return c


def _fix_icmp6_sum(datagram: bytes) -> bytes:
    """Recompute the checksum of the ICMPv6 message right after a 40-byte header."""
    msg = datagram[40:]
    body = encode_icmp6(msg[0], msg[1], msg[4:8], msg[8:], datagram[8:24], datagram[24:40])
    return datagram[:40] + body


def mld_pcap() -> Capture:
    c = Capture("mld.pcap")
    hop = (ALERT_MLD,)
    general = MLDMessage(130, 10000, UNSPECIFIED)
    c.add(reply_frame(nd6(general, ROUTER_LL, ALL_NODES, hops=hop)))
    c.add(eth6(nd6(MLDMessage(131, 0, MLD_GROUP), CLIENT_LL, MLD_GROUP, hops=hop),
               dst=multicast_mac(MLD_GROUP)))
    c.add(eth6(nd6(MLDMessage(132, 0, MLD_GROUP), CLIENT_LL, ALL_ROUTERS, hops=hop),
               dst=multicast_mac(ALL_ROUTERS)))
    c.add(reply_frame(nd6(MLDMessage(130, 1000, MLD_GROUP), ROUTER_LL, MLD_GROUP, hops=hop)))
    c.add(reply_frame(nd6(MLDv2Query(10000, UNSPECIFIED), ROUTER_LL, ALL_NODES, hops=hop)))
    srcs = (ROUTER6, TARGET6)
    c.add(reply_frame(nd6(MLDv2Query(0x8123, MLD_GROUP, True, 7, 200, srcs), ROUTER_LL,
                          MLD_GROUP, hops=hop)))
    c.add(reply_frame(nd6(MLDv2Query(500, MLD_GROUP, False, 0, 0x95), ROUTER_LL, MLD_GROUP,
                          hops=hop)))
    report = MLDv2Report((
        MLDv2Record(4, ip6_bytes("ff02::fb")),
        MLDv2Record(1, ip6_bytes("ff05::1:3"), srcs),
        MLDv2Record(6, ip6_bytes("ff0e::101"), (TARGET6,), b"\xaa\xbb\xcc\xdd"),
        MLDv2Record(9, ip6_bytes("ff02::1:ff00:2")),
    ))
    mldv2 = ip6_bytes("ff02::16")
    c.add(eth6(nd6(report, CLIENT_LL, mldv2, hops=hop), dst=multicast_mac(mldv2)))
    c.add(eth6(nd6(MLDv2Report(), CLIENT_LL, mldv2, hops=hop), dst=multicast_mac(mldv2)))
    # a query of 26 bytes (neither v1 nor v2), an MLDv2 report claiming too many records
    odd = ICMP6Other(130, 0, bytes(4), UNSPECIFIED + b"\0\0")
    c.add(reply_frame(nd6(odd, ROUTER_LL, ALL_NODES, hops=hop)))
    lie = ICMP6Other(143, 0, struct.pack("!HH", 0, 3), report.encode(CLIENT_LL, mldv2)[8:48])
    c.add(eth6(nd6(lie, CLIENT_LL, mldv2, hops=hop), dst=multicast_mac(mldv2)))
    c.add(eth6(nd6(ICMP6Other(131, 0, bytes(4), b""), CLIENT_LL, MLD_GROUP, hops=hop),
               dst=multicast_mac(MLD_GROUP)))  # a v1 report cut to 8 bytes
    return c


def probe_pcap() -> Capture:
    c = Capture("probe.pcap")
    queries = (InterfaceQuery.by_name("eth0"), InterfaceQuery.by_name("lab-target0"),
               InterfaceQuery.by_index(2), InterfaceQuery.by_address(TARGET6),
               InterfaceQuery.by_address(ip_bytes("10.77.3.2")))
    for seq, q in enumerate(queries, 1):
        req = ExtEchoRequest(IDENT, seq, q, local=seq == 3)
        c.add(eth6(ip6(CLIENT6, TARGET6, req.encode6(CLIENT6, TARGET6))))
    for code in range(5):
        rep = ExtEchoReply(IDENT, code + 1, code, 2 if code == 0 else 0, code == 0,
                           code == 0, code == 0)
        c.add(reply_frame(ip6(TARGET6, CLIENT6, rep.encode6(TARGET6, CLIENT6), hlim=62)))
    c.add(reply_frame(ip6(TARGET6, CLIENT6, ExtEchoReply(IDENT, 9, 0, 6, False, False, True,
                                                         b"\x20\0\0\0").encode6(
        TARGET6, CLIENT6))))
    # the same over IPv4 (ICMP 42/43)
    c4, t4 = ip_bytes("10.77.1.2"), ip_bytes("10.77.3.2")
    for seq, q in enumerate(queries, 1):
        msg = ExtEchoRequest(IDENT, seq, q).encode()
        c.add(eth(IPv4Header(c4, t4, 1, 64, 0x4400 + seq).encode(msg)))
    for code in range(5):
        msg = ExtEchoReply(IDENT, code + 1, code, 0, code == 0, code == 0).encode()
        c.add(eth(IPv4Header(t4, c4, 1, 62, 0x4500 + code).encode(msg), dst=CLIENT_MAC,
                  src=ROUTER_MAC))
    # an ICMPv6 echo beside them, for contrast
    c.add(eth6(echo6(1)))
    return c


def ext_pcap() -> Capture:
    c = Capture("ipv6-ext.pcap")
    src, dst = CLIENT6, TARGET6
    msg = echo_msg(1)
    hbh_ra = OptionsHeader.build(0, 0, [IPv6Option(5, b"\0\0")])
    c.add(eth6(chain6(src, dst, [hbh_ra], 58, msg)))
    c.add(eth6(chain6(src, dst, [OptionsHeader(0, 0, (), True, b"\0" * 6)], 58, echo_msg(2))))
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(0, 0, [IPv6Option(0x1E, b"abc"),
                                                           IPv6Option(0x3E, b"")])], 58,
                      echo_msg(3))))
    home = IPv6Option(0xC9, CLIENT6)
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(60, 0, [home])], 58, echo_msg(4))))
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(60, 0, [IPv6Option(4, b"\x05"),
                                                            IPv6Option(0xC2, b"\0\1\0\0")])],
                      58, echo_msg(5))))
    hops = [ROUTER6, ROUTER6_2, TARGET6]
    rh0 = RoutingHeader.build(0, hops[1:], 0)
    c.add(eth6(chain6(src, ROUTER6, [rh0], 58, echo_msg(6, dst=TARGET6))))
    rh2 = RoutingHeader.build(0, [CLIENT6], 2, 1)
    c.add(eth6(chain6(src, dst, [rh2], 58, echo_msg(7, dst=CLIENT6))))
    srh = RoutingHeader.build(0, [TARGET6, ROUTER6_2, ROUTER6], 4, 2)
    c.add(eth6(chain6(src, ROUTER6_2, [srh], 58, echo_msg(8, dst=TARGET6))))
    c.add(eth6(chain6(src, dst, [RoutingHeader(0, 3, 0, bytes(4))], 58, echo_msg(9))))
    rh0_done = RoutingHeader.build(0, [ROUTER6, ROUTER6_2], 0, 0)
    c.add(eth6(chain6(src, dst, [rh0_done], 58, echo_msg(10))))
    # a 3008-byte echo in three fragments, and an atomic fragment
    big = echo_msg(11, size=3000)
    for off in range(0, len(big), 1448):
        part = big[off: off + 1448]
        frag = FragmentHeader(58, off // 8, off + 1448 < len(big), 0x12345678)
        c.add(eth6(chain6(src, dst, [frag], 58, part)))
    c.add(eth6(chain6(src, dst, [FragmentHeader(58, 0, False, 7)], 58, echo_msg(12))))
    c.add(eth6(chain6(src, dst, [hbh_ra, OptionsHeader.build(60, 0, []), rh2,
                                 FragmentHeader(58, 0, True, 9),
                                 OptionsHeader.build(60, 0, [IPv6Option(0x1E, b"x")])],
                      58, echo_msg(13, dst=CLIENT6)[:24])))
    ah = AHHeader(0, 0x100, 1, bytes(range(12)))
    c.add(eth6(chain6(src, dst, [ah], 58, echo_msg(14))))
    c.add(eth6(chain6(src, dst, [hbh_ra], 50, struct.pack("!II", 0x200, 5) + bytes(24))))
    c.add(eth6(chain6(src, dst, [], 59, b"")))
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(60, 0, [])], 59, b"trailing")))
    # hop-by-hop out of place, twice, 17 destination options, a length past the payload
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(60, 0, []), hbh_ra], 58, echo_msg(15))))
    c.add(eth6(chain6(src, dst, [hbh_ra, hbh_ra], 58, echo_msg(16))))
    c.add(eth6(chain6(src, dst, [OptionsHeader.build(60, 0, [])] * 17, 58, echo_msg(17))))
    over = chain6(src, dst, [OptionsHeader.build(60, 0, [])], 58, echo_msg(18))
    over = over[:41] + b"\x40" + over[42:]  # 65 units: far past the payload
    c.add(eth6(over))
    bad_opt = chain6(src, dst, [OptionsHeader(60, 0, (), True, b"\x1e\x09abcd")], 58,
                     echo_msg(19))
    c.add(eth6(bad_opt))
    c.add(eth6(chain6(src, dst, [OptionsHeader(0, 0, (), True, b"\x05\x03\0\0\0\0")], 58,
                      echo_msg(20))))  # router alert with a wrong length
    # UDP and TCP behind extension headers (not ICMPv6: best-effort lines)
    c.add(eth6(chain6(src, dst, [hbh_ra], 17, struct.pack("!HHHH", 546, 547, 12, 0) + b"dhcp")))
    c.add(eth6(tcp6(src, dst, 40000, 80)))
    return c


def checksums6_pcap() -> Capture:
    c = Capture("icmp6-checksums.pcap")
    good = echo6(1, reply=True, hlim=62)
    c.add(reply_frame(good))
    c.add(reply_frame(set_word(good, 42, 0x5678)))  # wrong echo checksum
    c.add(reply_frame(set_word(good, 42, 0)))  # zero (IPv6 UDP-style "none" is not allowed)
    ns = nd6(NeighborSolicit(ROUTER6, (LinkLayerOption(1, CLIENT_MAC),)), CLIENT6,
             solicited_node(ROUTER6))
    c.add(eth6(set_word(ns, 42, 0xFFFF), dst=multicast_mac(solicited_node(ROUTER6))))
    c.add(reply_frame(set_word(error6(3, 0, echo6(2, hlim=1)), 42, 0x1111)))
    # an error quoting an echo with a wrong checksum (the outer message is right)
    c.add(reply_frame(error6(3, 0, set_word(echo6(3, hlim=1), 42, 0x2222))))
    # the same checksum through a routing header: segments left 2 (the final destination
    # is in the header), then 0 (the destination field is final)
    rh = RoutingHeader.build(0, [ROUTER6_2, TARGET6], 0, 2)
    c.add(eth6(chain6(CLIENT6, ROUTER6, [rh], 58, echo_msg(4, dst=TARGET6))))
    rh0 = RoutingHeader.build(0, [ROUTER6, ROUTER6_2], 0, 0)
    c.add(eth6(chain6(CLIENT6, TARGET6, [rh0], 58, echo_msg(5, dst=TARGET6))))
    # an outbound request with an offloaded (unfilled) checksum
    c.add(eth6(set_word(echo6(6), 42, 0)))
    # -0 vs +0: an all-zero echo whose computed checksum is 0xffff
    c.add(eth6(ip6(UNSPECIFIED, UNSPECIFIED, ICMP6Echo(False, 0, 0).encode(
        UNSPECIFIED, UNSPECIFIED))))
    return c


def truncated6_pcap() -> Capture:
    c = Capture("ipv6-truncated.pcap")
    req = eth6(echo6(1))  # 118 bytes
    ns = eth6(nd6(NeighborSolicit(ROUTER6, (LinkLayerOption(1, CLIENT_MAC),)), CLIENT6,
                  solicited_node(ROUTER6)))
    ra = reply_frame(nd6(RouterAdvert(64, 0, 1800, 0, 0, (
        LinkLayerOption(1, ROUTER_MAC), PrefixInfo(64, 0xC0, 86400, 14400,
                                                   ip6_bytes("2001:db8:77:1::")))),
        ROUTER_LL, ALL_NODES))
    err = reply_frame(error6(3, 0, echo6(2, hlim=1)))
    unreach = reply_frame(error6(1, 4, udp6(CLIENT6, TARGET6, 40000, 33434, b"x")))
    hbh = eth6(chain6(CLIENT6, TARGET6, [OptionsHeader.build(0, 0, [IPv6Option(5, b"\0\0")])],
                      58, echo_msg(3)))
    frag = eth6(chain6(CLIENT6, TARGET6, [FragmentHeader(58, 0, True, 77)], 58, echo_msg(4)))
    mld = reply_frame(nd6(MLDv2Query(10000, MLD_GROUP, sources=(ROUTER6,)), ROUTER_LL,
                          MLD_GROUP, hops=(ALERT_MLD,)))
    for cut in (10, 14, 14 + 6, 14 + 39, 14 + 40, 14 + 44, 14 + 48, 14 + 60):
        c.add(req, cut)
    c.add(eth6(echo6(1), vlans=(VLANTag(0x8100, 0, 0, 100),)), 16)
    for cut in (14 + 40 + 1, 14 + 40 + 4, 14 + 40 + 8):
        c.add(hbh, cut)
    c.add(frag, 14 + 40 + 4)
    c.add(frag, 14 + 48 + 6)
    for cut in (14 + 40 + 12, 14 + 40 + 24, 14 + 40 + 27):
        c.add(ns, cut)
    for cut in (14 + 40 + 10, 14 + 40 + 20, 14 + 40 + 26, 14 + 40 + 40, 14 + 40 + 50):
        c.add(ra, cut)
    for cut in (14 + 40 + 8 + 20, 14 + 40 + 8 + 30, 14 + 40 + 8 + 40):
        c.add(err, cut)
    for cut in (14 + 40 + 8 + 40 + 1, 14 + 40 + 8 + 40 + 3):
        c.add(unreach, cut)
    for cut in (14 + 40 + 8 + 10, 14 + 40 + 8 + 30, 14 + 40 + 8 + 36):
        c.add(mld, cut)
    c.add(req, 68)
    # the payload length says more than the wire carried, and less (Ethernet padding)
    long = set_word(echo6(5), 4, 200)
    c.add(eth6(long))
    short = echo6(6, size=0)
    c.add(eth6(short) + b"\xaa" * 4)
    return c


def malformed6_pcap() -> Capture:
    c = Capture("ipv6-malformed.pcap")
    good = echo6(1)
    c.add(eth6(bytes([0x40]) + good[1:]))  # version 4 under EtherType 0x86dd
    c.add(eth6(bytes([0x00]) + good[1:]))  # version 0
    c.add(eth6(set_word(good, 4, 0)))  # payload length 0, ICMPv6 bytes behind it
    c.add(eth6(b""))  # EtherType and nothing
    hbh = chain6(CLIENT6, TARGET6, [OptionsHeader.build(0, 0, [IPv6Option(5, b"\0\0")])], 58,
                 echo_msg(2))
    c.add(eth6(set_word(hbh, 4, 0)))  # payload length 0 with a hop-by-hop (no jumbo option)
    jumbo = chain6(CLIENT6, TARGET6, [OptionsHeader.build(0, 0, [IPv6Option(0xC2, struct.pack(
        "!I", 70000))])], 58, echo_msg(3))
    c.add(eth6(set_word(jumbo, 4, 0)))  # a jumbo option claiming more than is there
    c.add(eth6(good[:40]))  # payload length 64 with nothing behind the header
    c.add(eth6(ip6(CLIENT6, TARGET6, bytes(8), nh=1)))  # next header ICMP (v4) in IPv6
    c.add(eth6(ip6(CLIENT6, TARGET6, b"\x11\x64" + bytes(6), nh=2)))  # IGMP in IPv6
    c.add(eth6(ip6(CLIENT6, TARGET6, b"", nh=58)))  # ICMPv6 of length 0
    c.add(eth6(ip6(CLIENT6, TARGET6, b"\x80\0", nh=58)))  # ICMPv6 of 2 bytes
    return c


def misc6_pcap() -> Capture:
    """Every other ICMPv6 type tcpdump has a printer for, and unknown ones."""
    c = Capture("icmp6-misc.pcap")
    src, dst = CLIENT_LL, ROUTER_LL

    def add(kind: int, code: int, rest: bytes, body: bytes) -> None:
        c.add(eth6(ip6(src, dst, ICMP6Other(kind, code, rest, body).encode(src, dst))))

    nonce = bytes(range(8))
    add(139, 0, struct.pack("!HH", 0, 0), nonce + TARGET6)  # noop
    add(139, 0, struct.pack("!HH", 1, 1), nonce + TARGET6)  # supported qtypes [C]
    add(139, 0, struct.pack("!HH", 2, 0), nonce + TARGET6)  # DNS name of an address
    add(139, 1, struct.pack("!HH", 2, 0), nonce + b"\x06target\x03lab\x00")
    add(139, 1, struct.pack("!HH", 2, 0), nonce + b"\x06target\x00\x00")
    add(139, 2, struct.pack("!HH", 3, 0x3E), nonce + ip_bytes("10.77.3.2"))
    add(139, 0, struct.pack("!HH", 3, 0x2), nonce + TARGET6[:8])  # subject of 8 bytes
    add(139, 7, struct.pack("!HH", 4, 0), nonce + b"xx")
    add(139, 0, struct.pack("!HH", 2, 0), b"")  # who-are-you (KAME)
    add(139, 0, struct.pack("!HH", 2, 0), nonce)  # 03 draft
    add(140, 0, struct.pack("!HH", 2, 1), nonce + struct.pack("!I", 300)
        + b"\x06target\x03lab\x00")
    add(140, 0, struct.pack("!HH", 3, 0x21), nonce + struct.pack("!I", 60) + TARGET6
        + struct.pack("!I", 0xFFFFFFFF) + ROUTER6)
    add(140, 1, struct.pack("!HH", 2, 0), nonce)
    add(140, 2, struct.pack("!HH", 2, 0), nonce + b"x")
    add(140, 0, struct.pack("!HH", 1, 0), nonce)
    add(140, 0, struct.pack("!HH", 0, 0), nonce)
    add(140, 0, struct.pack("!HH", 9, 0), nonce)
    # router renumbering (RFC 2894): a command with one use part, a result, a reset
    match = struct.pack("!BBBBBBH", 1, 3 + 4, 1, 64, 48, 64, 0) + ip6_bytes("2001:db8:77::")
    use = struct.pack("!BBBBIII", 64, 48, 0xC0, 0x80, 0xFFFFFFFF, 3600, 0xC0000000) + (
        ip6_bytes("2001:db8:88::"))
    rr_head = struct.pack("!BBHI", 0, 0xF8, 100, 0)
    add(138, 0, struct.pack("!I", 42), rr_head + match + use)
    add(138, 1, struct.pack("!I", 43), struct.pack("!BBHI", 0, 0x40, 0, 7) + bytes(24))
    add(138, 255, struct.pack("!I", 0), struct.pack("!BBHI", 0, 0, 0, 0))
    add(138, 0, struct.pack("!I", 44), rr_head + match[:1] + b"\x05" + match[2:])  # odd length
    # RPL (RFC 6550): DIS, DIO with options, DAO with and without a DODAG id, DAO-ACK, secured
    add(155, 0, b"\0\0\0\0", b"")
    dio = struct.pack("!BBHBBBB", 1, 2, 256, 0x88 | 0x2, 5, 0, 0) + TARGET6
    add(155, 1, dio[:4], dio[4:] + b"\x00\x04\x02\xaa\xbb")
    add(155, 2, struct.pack("!BBBB", 1, 0xC0, 0, 9), TARGET6 + b"\x05\x02\x00\x40")
    add(155, 2, struct.pack("!BBBB", 1, 0x80, 0, 9), bytes(16))
    add(155, 3, struct.pack("!BBBB", 1, 0x80, 9, 0), TARGET6)
    add(155, 0x81, b"\0\0\0\0", bytes(8))
    add(155, 9, b"\0\0\0\0", b"")
    # inverse ND, home agent discovery, mobile prefix, mtrace, types nobody prints
    add(141, 0, bytes(4), LinkLayerOption(1, CLIENT_MAC).encode())
    add(142, 0, bytes(4), b"")
    add(144, 0, struct.pack("!HH", 0x1234, 0), b"")
    add(145, 0, struct.pack("!HH", 0x1234, 0), ROUTER6 + TARGET6)
    add(146, 0, struct.pack("!HH", 0x4321, 0), b"")
    add(147, 0, struct.pack("!HH", 0x4321, 0xC000),
        PrefixInfo(64, 0xC0, 600, 300, ip6_bytes("2001:db8:77:1::")).encode())
    add(200, 0, bytes(4), b"mtrace response")
    add(201, 0, bytes(4), b"mtrace")
    add(250, 3, b"\xde\xad\xbe\xef", b"unknown informational")
    add(100, 1, b"\0\0\0\0", b"unknown error type, odd!")
    add(0, 0, b"\0\0\0\0", b"")
    add(127, 0, b"\0\0\0\0", bytes(1))
    return c


def links6_pcaps() -> list[Capture]:
    """The same handful of IPv6 frames on every other link type."""
    grams = [
        echo6(1), echo6(1, reply=True, hlim=62),
        nd6(NeighborSolicit(ROUTER6, (LinkLayerOption(1, CLIENT_MAC),)), CLIENT6,
            solicited_node(ROUTER6)),
        nd6(NeighborAdvert(ROUTER6, True, True, True, (LinkLayerOption(2, ROUTER_MAC),)),
            ROUTER6, CLIENT6),
        error6(3, 0, echo6(2, hlim=1)),
        error6(2, 0, echo6(3)[:96], mtu=1280),
        set_word(echo6(4), 42, 0xBAD0),
    ]
    lo = ip6_bytes("::1")
    loop_grams = [
        ip6(lo, lo, ICMP6Echo(False, IDENT, 1, ping_payload(1)).encode(lo, lo)),
        ip6(lo, lo, ICMP6Echo(True, IDENT, 1, ping_payload(1)).encode(lo, lo)),
        ip6(lo, lo, ICMP6Error.build(1, 4, udp6(lo, lo, 40000, 33434, b"x")).encode(lo, lo)),
    ]
    out = []
    sll = Capture("ipv6-sll.pcap", 113)
    sll2 = Capture("ipv6-sll2.pcap", 276)
    types = (4, 0, 2, 0, 0, 0, 4)
    for g, ptype in zip(grams, types, strict=True):
        addr = CLIENT_MAC if ptype == 4 else ROUTER_MAC
        sll.add(LinuxSLL(ptype, 1, addr, 0x86DD).encode() + g)
        sll2.add(LinuxSLL2(0x86DD, 2, 1, ptype, addr).encode() + g)
    for g in loop_grams:
        sll.add(LinuxSLL(0, 772, b"", 0x86DD, 0).encode() + g)
        sll2.add(LinuxSLL2(0x86DD, 1, 772, 0, b"", 0).encode() + g)
    sll.add(LinuxSLL(0, 1, ROUTER_MAC, 0x8100).encode() + struct.pack("!HH", 7, 0x86DD)
            + grams[0])  # a VLAN tag the kernel left in place
    raw = Capture("ipv6-raw.pcap", 101)
    for g in grams:
        raw.add(g)
    raw.add(echo6(5)[:30])
    null = Capture("ipv6-null.pcap", 0)
    loop = Capture("ipv6-loop.pcap", 108)
    for family in (24, 28, 30, 10):
        for g in loop_grams:
            null.add(NullHeader(family, False).encode() + g)
            loop.add(NullHeader(family, True).encode() + g)
    vlan = Capture("ipv6-vlan.pcap")
    dot1q = (VLANTag(0x8100, 0, 0, 100),)
    qinq = (VLANTag(0x88A8, 3, 0, 200), VLANTag(0x8100, 0, 0, 100))
    for tags in (dot1q, qinq):
        vlan.add(eth6(grams[0], vlans=tags))
        vlan.add(eth6(grams[1], dst=CLIENT_MAC, src=ROUTER_MAC, vlans=tags))
        vlan.add(eth6(grams[2], dst=multicast_mac(solicited_node(ROUTER6)), vlans=tags))
        vlan.add(eth6(grams[3], dst=CLIENT_MAC, src=ROUTER_MAC, vlans=tags))
        vlan.add(eth6(grams[4], dst=CLIENT_MAC, src=ROUTER_MAC, vlans=tags))
    out += [sll, sll2, raw, null, loop, vlan]
    return out


THEMES6 = (echo6_pcap, errors6_pcap, ndp_pcap, mld_pcap, probe_pcap, ext_pcap,
           checksums6_pcap, truncated6_pcap, malformed6_pcap, misc6_pcap)


def all_captures() -> list[Capture]:
    caps = [theme() for theme in THEMES6]
    caps += links6_pcaps()
    return caps


# tcpdump's own IPv6 tests (tests/TESTLIST name, pcap, options) on link types pcapping
# decodes; /work/shared/corpus has none, so they come from the tcpdump repository.
TCPDUMP_REPO_COMMIT = "032e4923e5202ea4d5a6d1cead83ed1927135874"  # tag tcpdump-4.99.3
TCPDUMP_IPV6_TESTS = (
    ("icmpv6", "icmpv6.pcap", "-vv"),
    ("icmpv6_opt24-v", "icmpv6_opt24.pcap", "-v"),
    ("icmpv6-length-zero", "icmpv6-length-zero.pcapng", ""),
    ("icmpv6-rfc7112", "icmpv6-rfc7112.pcap", ""),
    ("icmpv6-RFC2894-RR", "icmpv6-RFC2894-RR.pcap", ""),
    ("icmpv6-RFC2894-RR-v", "icmpv6-RFC2894-RR.pcap", "-v"),
    ("icmpv6-ni-flags", "icmpv6-ni-flags.pcap", ""),
    ("ipv6-bad-version", "ipv6-bad-version.pcap", ""),
    ("ipv6-routing-header", "ipv6-routing-header.pcap", "-v"),
    ("ipv6-srh-ext-header", "ipv6-srh-ext-header.pcap", "-v"),
    ("ipv6-srh-insert-cksum", "ipv6-srh-insert-cksum.pcap", "-v"),
    ("ipv6-too-long-jumbo", "ipv6-too-long-jumbo.pcap", "-v"),
    ("ipv6hdr-heapoverflow", "ipv6hdr-heapoverflow.pcap", ""),
    ("ipv6hdr-heapoverflow-v", "ipv6hdr-heapoverflow.pcap", "-v"),
    ("ipv6-next-header-oobr-1", "ipv6-next-header-oobr-1.pcap", ""),
    ("ipv6-next-header-oobr-2", "ipv6-next-header-oobr-2.pcap", ""),
    ("ipv6-rthdr-oobr", "ipv6-rthdr-oobr.pcap", ""),
    ("ipv6-mobility-header-oobr", "ipv6-mobility-header-oobr.pcap", ""),
    ("dio02", "rpl-19-pickdag.pcap", "-v -v"),
    ("dio03", "rpl-19-pickdag.pcap", "-v -v -v"),
    ("dao01", "rpl-14-dao.pcap", "-v -v -v"),
    ("daoack01", "rpl-26-senddaoack.pcap", "-v -v -v"),
    ("rpl-dao-oobr", "rpl-dao-oobr.pcap", "-vv"),
)


def copy_tcpdump_ipv6(tests: Path) -> None:
    """Copy the IPv6 test captures into captures/tcpdump/, write each test's output from
    the installed tcpdump 4.99.3 (``TZ=UTC tcpdump -n OPTIONS -r PCAP``), and append the
    tests to TESTLIST.tsv (once)."""
    import shutil
    import subprocess

    dest = ROOT / "captures" / "tcpdump"
    tcpdump = shutil.which("tcpdump")
    listing = dest / "TESTLIST.tsv"
    lines = listing.read_text().splitlines() if listing.exists() else [
        "test_name\tpcap\tout\toptions"]
    known = {line.split("\t")[0] for line in lines}
    for name, pcap, options in TCPDUMP_IPV6_TESTS:
        shutil.copy2(tests / pcap, dest / pcap)
        if name not in known:
            lines.append(f"{name}\t{pcap}\t{name}.out\t{options}")
        if tcpdump is not None:
            run = subprocess.run([tcpdump, "-n", *options.split(), "-r", pcap], cwd=dest,
                                 capture_output=True, check=False,
                                 env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
            (dest / f"{name}.out").write_bytes(run.stdout)
    listing.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tcpdump-tests", type=Path,
                    help="also copy tcpdump's IPv6 test captures from this tests/ directory")
    args = ap.parse_args(argv)
    out = ROOT / "captures"
    for cap in all_captures():
        cap.write(out)
        print(f"captures/{cap.name}: {len(cap.records)} frames")
    if args.tcpdump_tests:
        copy_tcpdump_ipv6(args.tcpdump_tests)
        print(f"tcpdump's IPv6 test captures copied from {args.tcpdump_tests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
