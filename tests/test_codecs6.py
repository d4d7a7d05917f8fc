"""IPv6 codecs in the four shapes: parse known bytes, encode the same bytes, round trip,
every truncation point raises ``Truncated``.

Known bytes come from real captures whose fields tcpdump 4.99.3 printed (tcpdump's test
captures ``icmpv6.pcap`` and ``icmpv6-rfc7112.pcap``: a router advertisement with every
option, an MLDv2 report and query behind a hop-by-hop router alert, a parameter problem
quoting a fragment), and hand-written hex whose checksums are checked here with dpkt's
independent ``in_cksum`` rather than with the code under test.
"""

from __future__ import annotations

import struct

import dpkt
import pytest

from pcapping.errors import Malformed, Truncated
from pcapping.wire.ext import ExtObject, ICMPExtension, InterfaceQuery
from pcapping.wire.extecho import ExtEchoReply, ExtEchoRequest, ext_echo_of, parse_ext_echo
from pcapping.wire.icmp import ICMPOther, parse_icmp
from pcapping.wire.icmp6 import (
    ICMP6Echo,
    ICMP6Error,
    ICMP6Other,
    icmp6_checksum,
    icmp6_checksum_ok,
    parse_icmp6,
    parse_quoted6,
)
from pcapping.wire.ipv6 import (
    AHHeader,
    FragmentHeader,
    IPv6Header,
    IPv6Option,
    OptionsHeader,
    RoutingHeader,
    ip6_bytes,
    ip6_str,
    multicast_mac,
    pseudo_header,
    solicited_node,
    walk_extensions,
)
from pcapping.wire.mld import MLDMessage, MLDv2Query, MLDv2Record, MLDv2Report, parse_mld
from pcapping.wire.ndp import (
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
    na_link_address,
    neighbor_advertisement,
    neighbor_solicitation,
    ns_frame,
    parse_nd_options,
    parse_ndp,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def cuts_truncated(parse, buf: bytes, upto: int | None = None) -> None:
    for n in range(len(buf) if upto is None else upto):
        with pytest.raises(Truncated):
            parse(buf[:n])


def dpkt_ok(src: bytes, dst: bytes, msg: bytes) -> bool:
    """The ICMPv6 checksum verdict by dpkt's in_cksum over a pseudo-header built here."""
    return dpkt.in_cksum(src + dst + struct.pack("!IxxxB", len(msg), 58) + msg) == 0


# -- addresses -----------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("::", "::"), ("::1", "::1"), ("2001:db8::1", "2001:db8::1"),
    ("2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"),  # longest run
    ("1:0:0:1:0:0:0:1", "1:0:0:1::1"), ("1:0:0:1:0:0:1:1", "1::1:0:0:1:1"),  # first of ties
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  # one zero group: no ::
    ("FE80::A", "fe80::a"), ("::ffff:10.0.0.1", "::ffff:10.0.0.1"), ("fe80::", "fe80::"),
    ("::0.0.0.2", "::2"), ("::1.2.3.4", "::102:304"),  # IPv4-compatible: hex (RFC 5952)
])
def test_ip6_str_is_rfc5952(text: str, canonical: str) -> None:
    assert ip6_str(ip6_bytes(text)) == canonical


def test_solicited_node_and_multicast_mac() -> None:
    target = ip6_bytes("2001:db8:77:1::1234:5678")
    assert ip6_str(solicited_node(target)) == "ff02::1:ff34:5678"
    assert multicast_mac(solicited_node(target)).hex(":") == "33:33:ff:34:56:78"
    assert multicast_mac(ip6_bytes("ff02::1")).hex(":") == "33:33:00:00:00:01"


# -- the fixed header --------------------------------------------------------------

# tcpdump: IP6 (class 0xb8, flowlabel 0x12345, hlim 64, next-header ICMPv6 (58)
# payload length: 64) 2001:db8:77:1::2 > 2001:db8:77:3::2
IP6_HDR = h("6b812345 0040 3a 40 20010db8007700010000000000000002"
            "20010db8007700030000000000000002")
IP6_VALUE = IPv6Header(ip6_bytes("2001:db8:77:1::2"), ip6_bytes("2001:db8:77:3::2"), 58, 64,
                       0xB8, 0x12345, 64)


def test_ipv6_header_known_encode_round_trip_cuts() -> None:
    v = IPv6Header.parse(IP6_HDR + bytes(64))
    assert v == IP6_VALUE
    assert (v.dscp, v.ecn, v.total_length) == (46, 0, 104)
    assert IP6_VALUE.encode() == IP6_HDR  # header only: the value's payload length
    assert IP6_VALUE.encode(b"x" * 8)[4:6] == b"\x00\x08"
    ref = dpkt.ip6.IP6(IP6_HDR + bytes(64))
    assert (ref.fc, ref.flow, ref.plen, ref.nxt, ref.hlim) == (0xB8, 0x12345, 64, 58, 64)
    assert IPv6Header.parse(IP6_VALUE.encode()) == IP6_VALUE
    cuts_truncated(IPv6Header.parse, IP6_HDR)
    with pytest.raises(Malformed):
        IPv6Header.parse(b"\x45" + IP6_HDR[1:])


def test_pseudo_header_layout() -> None:
    src, dst = ip6_bytes("fe80::1"), ip6_bytes("ff02::1")
    assert pseudo_header(src, dst, 0x10203, 58) == src + dst + h("00010203 000000 3a")


# -- extension headers -------------------------------------------------------------

HBH_RA = h("3a00 0502 0000 0100")  # hop-by-hop: router alert MLD, PadN 0 (tcpdump's MLD)
FRAG = h("3a00 0b39 12345678")  # offset 359 (2872 bytes), M=1, id 0x12345678
RH0 = h("3a04 0002 00000000 20010db8007700020000000000000002"
        "20010db8007700030000000000000002")
SRH = h("3a04 0401 01 00 0007 20010db8007700030000000000000002"
        "20010db8007700020000000000000002")
AH = h("3a04 0000 00000100 00000001 0001020304050607 08090a0b")


def test_options_header() -> None:
    v = OptionsHeader.parse(HBH_RA)
    assert v.kind == 0 and v.next_header == 58 and v.length == 8
    assert v.options == (IPv6Option(5, b"\0\0"), IPv6Option(1, b""))
    assert v.router_alert == 0 and v.options_ok
    assert v.encode() == HBH_RA
    assert OptionsHeader.build(0, 58, [IPv6Option(5, b"\0\0")]).encode() == HBH_RA
    built = OptionsHeader.build(60, 17, [IPv6Option(0x1E, b"abc"), IPv6Option(0, b"")])
    assert OptionsHeader.parse(built.encode(), 60) == built
    cuts_truncated(OptionsHeader.parse, HBH_RA)
    # an option running past the header: kept leniently, the header length still rules
    bad = OptionsHeader.parse(h("3a00 1e09 61626364"))
    assert not bad.options_ok and bad.length == 8


def test_fragment_header() -> None:
    v = FragmentHeader.parse(FRAG)
    assert v == FragmentHeader(58, 359, True, 0x12345678)
    assert v.offset_bytes == 2872 and not v.is_first and not v.is_atomic
    assert v.encode() == FRAG
    ref = dpkt.ip6.IP6FragmentHeader(FRAG)
    assert (ref.frag_off, ref.m_flag, ref.id) == (359, 1, 0x12345678)
    for value in (FragmentHeader(6, 0, False, 1), FragmentHeader(58, 8191, True, 0xFFFFFFFF),
                  FragmentHeader(17, 1, False, 0, 7, 3)):
        assert FragmentHeader.parse(value.encode()) == value
    cuts_truncated(FragmentHeader.parse, FRAG)


def test_routing_headers() -> None:
    rh0 = RoutingHeader.parse(RH0)
    assert (rh0.routing_type, rh0.segments_left, rh0.length) == (0, 2, 40)
    assert [ip6_str(a) for a in rh0.addresses] == ["2001:db8:77:2::2", "2001:db8:77:3::2"]
    assert ip6_str(rh0.final_destination) == "2001:db8:77:3::2"
    assert rh0.encode() == RH0
    assert RoutingHeader.build(58, rh0.addresses, 0) == rh0
    srh = RoutingHeader.parse(SRH)
    assert (srh.last_entry, srh.srh_flags, srh.srh_tag) == (1, 0, 7)
    assert ip6_str(srh.final_destination) == "2001:db8:77:3::2"  # segment 0
    assert srh.encode() == SRH
    done = RoutingHeader.build(58, rh0.addresses, 0, 0)
    assert done.final_destination is None
    for buf in (RH0, SRH):
        cuts_truncated(RoutingHeader.parse, buf)


def test_ah_header() -> None:
    v = AHHeader.parse(AH)
    assert v == AHHeader(58, 0x100, 1, bytes(range(12)))
    assert v.length == 24 and v.encode() == AH
    cuts_truncated(AHHeader.parse, AH)
    with pytest.raises(Malformed):
        AHHeader.parse(h("3a00 0000 00000000 00000000"))  # length 8 < 12


def test_walk_chain_and_stops() -> None:
    chain = bytes([43]) + HBH_RA[1:] + bytes([44]) + RH0[1:] + FRAG  # HBH, RH0, fragment
    upper = ICMP6Echo(False, 1, 1).encode(bytes(16), bytes(16))
    walk = walk_extensions(chain + upper, 0, 0)
    assert [type(x).__name__ for x in walk.headers] == ["OptionsHeader", "RoutingHeader",
                                                        "FragmentHeader"]
    assert walk.offsets == (0, 8, 48)
    # a non-first fragment: the walk stops behind it, with no upper layer there
    assert walk.protocol == 58 and walk.offset == 56 and not walk.upper_layer_present
    assert walk.is_fragmented
    whole = walk_extensions(HBH_RA + upper, 0, 0)
    assert whole.upper_layer_present and whole.protocol == 58 and whole.offset == 8
    assert walk_extensions(b"", 59, 0).protocol == 59
    esp = walk_extensions(HBH_RA.replace(b"\x3a", b"\x32", 1) + bytes(16), 0, 0)
    assert esp.protocol == 50 and esp.error is None
    # every cut inside the chain is Truncated; a length past the payload is Malformed
    for n in range(len(chain)):
        assert isinstance(walk_extensions(chain[:n], 0, 0).error, Truncated)
    lying = walk_extensions(HBH_RA + upper, 0, 0, end=4)
    assert isinstance(lying.error, Malformed)
    twice = walk_extensions(bytes([0]) + HBH_RA[1:] + HBH_RA, 0, 0)
    assert isinstance(twice.error, Malformed) and len(twice.headers) == 1
    loop = bytes([60, 0]) + bytes(6)
    many = walk_extensions(loop * 40, 60, 0)
    assert isinstance(many.error, Malformed) and len(many.headers) == 16


# -- ICMPv6 ------------------------------------------------------------------------

SRC = ip6_bytes("2001:db8:77:1::2")
DST = ip6_bytes("2001:db8:77:3::2")
ECHO6 = h("8000 0000 1234 0001 6162 6364")


def _summed(msg: bytes, src: bytes = SRC, dst: bytes = DST) -> bytes:
    """``msg`` with the checksum dpkt's in_cksum says it needs (not the code under test)."""
    pseudo = src + dst + struct.pack("!IxxxB", len(msg), 58)
    return msg[:2] + struct.pack("!H", dpkt.in_cksum(pseudo + msg)) + msg[4:]


def test_icmp6_echo() -> None:
    known = _summed(ECHO6)
    v = parse_icmp6(known, SRC, DST)
    assert v == ICMP6Echo(False, 0x1234, 1, b"abcd", v.checksum, True)
    assert v.checksum == int.from_bytes(known[2:4], "big")
    assert ICMP6Echo(False, 0x1234, 1, b"abcd").encode(SRC, DST) == known
    assert icmp6_checksum(SRC, DST, ECHO6) == v.checksum and icmp6_checksum_ok(SRC, DST, known)
    assert parse_icmp6(known, SRC, DST, verify=False).checksum_ok is None
    assert parse_icmp6(known).checksum_ok is None  # no addresses: no verdict
    assert parse_icmp6(known, SRC, ip6_bytes("::1")).checksum_ok is False
    for value in (ICMP6Echo(True, 0, 0), ICMP6Echo(False, 65535, 65535, bytes(range(256)))):
        assert parse_icmp6(value.encode(SRC, DST), SRC, DST)._replace(checksum=None) == value
    cuts_truncated(lambda b: parse_icmp6(b, SRC, DST), known, 8)


# tcpdump: ICMP6, parameter problem, incomplete header chain - octet 48 (icmpv6-rfc7112)
PP_SRC = ip6_bytes("2001:630:42:110:2a0:98ff:fe15:ece7")
PP_DST = ip6_bytes("2001:630:42:110:ae1f:6bff:fe46:9eda")
PARAM_PROB = h("0403994c00000030 6000000000182c40 2001063000420110ae1f6bfffe469eda"
               "2001063000420110 02a098fffe15ece7 2900000100 00d6b1 6227605c7830305c"
               "7830305c7830305c")


def test_icmp6_error_known_from_a_real_capture() -> None:
    v = parse_icmp6(PARAM_PROB, PP_SRC, PP_DST)
    assert isinstance(v, ICMP6Error)
    assert (v.icmp_type, v.code, v.pointer, v.mtu, v.checksum) == (4, 3, 48, None, 0x994C)
    assert v.checksum_ok and dpkt_ok(PP_SRC, PP_DST, PARAM_PROB)
    q = v.quoted
    assert ip6_str(q.ip6.src) == "2001:630:42:110:ae1f:6bff:fe46:9eda"
    assert q.ip6.next_header == 44 and q.protocol == 41  # a fragment of IPv6-in-IPv6
    assert v.encode(PP_SRC, PP_DST) == PARAM_PROB
    cuts_truncated(lambda b: parse_icmp6(b, PP_SRC, PP_DST), PARAM_PROB, 8)


def test_icmp6_errors_every_type_and_quote() -> None:
    inner = IPv6Header(SRC, DST, 17, 1).encode(struct.pack("!HHHH", 40000, 33434, 8, 0))
    echo_dg = IPv6Header(SRC, DST, 58, 1).encode(ICMP6Echo(False, 7, 9, b"x" * 8).encode(
        SRC, DST))
    for kind, code, kw in ((1, 4, {}), (2, 0, {"mtu": 1280}), (3, 0, {}), (4, 1, {"pointer": 6})):
        err = ICMP6Error.build(kind, code, inner, **kw)
        v = parse_icmp6(err.encode(DST, SRC), DST, SRC)
        assert v._replace(checksum=None) == err
        assert v.quoted.sport == 40000 and v.quoted.dport == 33434
    assert ICMP6Error.build(2, 0, inner, mtu=1280).mtu == 1280
    q = parse_icmp6(ICMP6Error.build(3, 0, echo_dg).encode(DST, SRC), DST, SRC).quoted
    assert (q.icmp6.ident, q.icmp6.seq, q.icmp6.checksum_ok) == (7, 9, True)
    short = parse_quoted6(echo_dg[:44])  # header + 4: the echo header is cut
    assert short.ip6 is not None and short.icmp6 is None and "icmp6" in short.problem
    assert parse_quoted6(b"\x60" * 10).problem.startswith("truncated")


def test_icmp6_error_rfc4884_extension() -> None:
    ext = ICMPExtension((ExtObject(2, 1, b"\0\0\0\x02"),))
    quote = IPv6Header(SRC, DST, 58, 1).encode(ICMP6Echo(False, 1, 2).encode(SRC, DST))
    err = ICMP6Error.build(3, 0, quote, extension=ext)
    assert err.rest[0] == 16 and err.quote_length == 16  # 128 bytes in 64-bit words
    v = parse_icmp6(err.encode(DST, SRC), DST, SRC)
    assert v.extension == ext._replace(checksum=v.extension.checksum)
    assert v.extension.checksum_ok and v.quoted.icmp6.seq == 2
    assert ICMP6Error.build(3, 0, quote).extension is None


def test_icmp6_other_keeps_numbers() -> None:
    v = parse_icmp6(_summed(h("c8 07 0000 deadbeef 0102")), SRC, DST)
    assert isinstance(v, ICMP6Other)
    assert (v.icmp_type, v.code, v.rest, v.payload, v.checksum_ok) == (
        200, 7, h("deadbeef"), h("0102"), True)
    assert v.ident is None and v.encode(SRC, DST) == v.raw()


# -- NDP ---------------------------------------------------------------------------

# tcpdump -vv: router advertisement, length 176: hop limit 64, Flags [home agent], pref
# medium, router lifetime 15s; prefix 2222:3333:4444:5555:6600::/72 [onlink, auto], valid
# 2592000s, pref. 604800s; rdnss 5s abcd::efef 1234:5678::1; dnssl 5s example.com.
# example.org. dom1.dom2.tld.; mtu 100; source link-address b0:99:28:c8:d6:6c; adv.
# interval 5000ms; home agent preference 50001, lifetime 15 (tcpdump's icmpv6.pcap)
RA_SRC = ip6_bytes("fe80::b299:28ff:fec8:d66c")
RA_DST = ip6_bytes("ff02::1")
RA = h("8600 2401 4020 000f 00000000 00000000"
       "0304 48c0 00278d00 00093a80 00000000 22223333444455556600000000000000"
       "1905 0000 00000005 abcd000000000000000000000000efef 12345678000000000000000000000001"
       "1f07 0000 00000005 076578616d706c6503636f6d00 076578616d706c65036f726700"
       "04646f6d3104646f6d3203746c6400 00000000000000"
       "0501 0000 00000064  0101 b09928c8d66c  0701 0000 00001388  0801 0000 c351 000f")


def test_router_advert_known_from_a_real_capture() -> None:
    assert dpkt_ok(RA_SRC, RA_DST, RA)
    icmp = parse_icmp6(RA, RA_SRC, RA_DST)
    assert isinstance(icmp, ICMP6Other) and icmp.checksum_ok
    ra = RouterAdvert.parse(RA)
    assert (ra.cur_hop_limit, ra.flags, ra.router_lifetime, ra.reachable_time,
            ra.retrans_timer) == (64, 0x20, 15, 0, 0)
    assert ra.preference == 0 and not ra.managed and ra.mtu == 100
    pi, rdnss, dnssl, mtu, sll, adv, home = ra.options
    assert pi == PrefixInfo(72, 0xC0, 2592000, 604800, ip6_bytes("2222:3333:4444:5555:6600::"))
    assert pi.on_link and pi.autonomous
    assert [ip6_str(a) for a in rdnss.addresses] == ["abcd::efef", "1234:5678::1"]
    assert dnssl == DNSSLOption(5, ("example.com", "example.org", "dom1.dom2.tld"))
    assert mtu == MTUOption(100) and ra.source_lladdr.hex(":") == "b0:99:28:c8:d6:6c"
    assert sll == LinkLayerOption(1, h("b09928c8d66c"))
    assert adv == UnknownOption(7, h("000000001388"))
    assert home == UnknownOption(8, h("0000c351000f"))
    assert ra.encode(RA_SRC, RA_DST) == RA  # every option re-encodes to the same bytes
    assert parse_ndp(RA) == ra
    cuts_truncated(RouterAdvert.parse, RA, 16)


NS = h("8700 0000 00000000 20010db8007700010000000000000001 0101 020000000102")


def test_neighbor_solicit_and_the_builder() -> None:
    src = SRC
    dst = solicited_node(ip6_bytes("2001:db8:77:1::1"))
    known = _summed(NS, src, dst)
    ns = NeighborSolicit.parse(known)
    assert ns == NeighborSolicit(ip6_bytes("2001:db8:77:1::1"),
                                 (LinkLayerOption(1, h("020000000102")),))
    assert ns.source_lladdr == h("020000000102") and ns.nonce is None
    assert ns.encode(src, dst) == known
    datagram = neighbor_solicitation(src, ip6_bytes("2001:db8:77:1::1"), h("020000000102"))
    ip6 = IPv6Header.parse(datagram)
    assert (ip6.hop_limit, ip6.next_header, ip6.dst) == (255, 58, dst)
    assert datagram[40:] == known
    frame = ns_frame(h("020000000102"), src, ip6_bytes("2001:db8:77:1::1"))
    assert frame[:6].hex(":") == "33:33:ff:00:00:01" and frame[12:14] == b"\x86\xdd"
    assert frame[14:] == datagram
    dad = neighbor_solicitation(bytes(16), src, h("020000000102"), nonce=b"\1" * 6)
    dad_ns = NeighborSolicit.parse(dad[40:])
    assert dad_ns.source_lladdr is None and dad_ns.nonce == b"\1" * 6  # RFC 4862: no SLLA
    cuts_truncated(NeighborSolicit.parse, known, 24)


def test_neighbor_advert_and_its_reader() -> None:
    target = ip6_bytes("2001:db8:77:1::1")
    datagram = neighbor_advertisement(target, SRC, target, h("020000000101"), router=True)
    msg = datagram[40:]
    assert msg[4] == 0xE0 and dpkt_ok(target, SRC, msg)  # R, S and O
    got_target, mac, na = na_link_address(msg)
    assert got_target == target and mac == h("020000000101")
    assert (na.router, na.solicited, na.override) == (True, True, True)
    assert na.encode(target, SRC) == msg
    bare = NeighborAdvert(target, solicited=True).encode(target, SRC)
    assert na_link_address(bare, h("02aabbccddee"))[1] == h("02aabbccddee")  # no option
    assert NeighborAdvert.parse(bare).flags == 0x40000000
    cuts_truncated(NeighborAdvert.parse, msg, 24)


def test_rs_redirect_and_every_option_round_trip() -> None:
    options = (LinkLayerOption(1, h("020000000102")), LinkLayerOption(2, h("020000000101")),
               PrefixInfo(64, 0xE0, 0xFFFFFFFF, 600, ip6_bytes("2001:db8::")),
               RedirectedHeader(bytes(range(40))), MTUOption(1280), NonceOption(b"abcdef"),
               RouteInfo(48, 0x08, 60, bytes(8)), RDNSSOption(60, (SRC, DST)),
               DNSSLOption(60, ("lab", "example.org")), UnknownOption(99, bytes(6)))
    for value in (RouterSolicit(options[:1]), Redirect(SRC, DST, options),
                  RouterAdvert(64, 0xC0, 1800, 1, 2, options), NeighborSolicit(DST, options)):
        msg = value.encode(SRC, DST)
        assert dpkt_ok(SRC, DST, msg)
        assert parse_ndp(msg) == value
    assert parse_nd_options(b"".join(o.encode() for o in options)) == options
    rd = Redirect.parse(Redirect(SRC, DST, options[3:4]).encode(SRC, DST))
    assert rd.redirected == bytes(range(40))
    with pytest.raises(Malformed):
        parse_nd_options(h("0100 000000000000"))  # length 0
    with pytest.raises(Truncated):
        parse_nd_options(h("0102 020000000102"))  # 16 bytes claimed, 8 there
    with pytest.raises(Malformed):
        parse_ndp(ECHO6)


# -- MLD ---------------------------------------------------------------------------

MLD_SRC = ip6_bytes("fe80::215:17ff:fecc:e546")
# tcpdump -vv: multicast listener report v2, 1 group record(s) [gaddr ff02::db8:1122:3344
# to_ex { }] (icmpv6.pcap)
MLD2_REPORT = h("8f00 1fc5 0000 0001 0400 0000 ff02 0000 0000 0000 0000 0db8 1122 3344")
# multicast listener query v2 [max resp delay=10000] [gaddr :: robustness=2 qqi=60]
MLD2_QUERY = h("8200 623a 2710 0000 00000000000000000000000000000000 02 3c 0000")


def test_mld_known_from_a_real_capture() -> None:
    assert dpkt_ok(MLD_SRC, ip6_bytes("ff02::16"), MLD2_REPORT)
    report = parse_mld(MLD2_REPORT)
    assert report == MLDv2Report((MLDv2Record(4, ip6_bytes("ff02::db8:1122:3344")),))
    assert report.encode(MLD_SRC, ip6_bytes("ff02::16")) == MLD2_REPORT
    qsrc = ip6_bytes("fe80::b2a8:6eff:fe0c:d4e8")
    assert dpkt_ok(qsrc, ip6_bytes("ff02::1"), MLD2_QUERY)
    query = parse_mld(MLD2_QUERY)
    assert isinstance(query, MLDv2Query)
    assert (query.max_response_delay, query.qrv, query.query_interval, query.s_flag) == (
        10000, 2, 60, False)
    assert query.encode(qsrc, ip6_bytes("ff02::1")) == MLD2_QUERY
    cuts_truncated(parse_mld, MLD2_REPORT, 1)
    cuts_truncated(MLDv2Report.parse, MLD2_REPORT)
    cuts_truncated(MLDv2Query.parse, MLD2_QUERY)


def test_mld_v1_and_codes() -> None:
    v1 = MLDMessage(131, 0, ip6_bytes("ff02::1:3"))
    msg = v1.encode(MLD_SRC, ip6_bytes("ff02::1:3"))
    assert parse_mld(msg) == v1 and len(msg) == 24
    cuts_truncated(MLDMessage.parse, msg)
    assert MLDv2Query(0x8123, bytes(16)).max_response_delay == (0x123 | 0x1000) << 3
    assert MLDv2Query(0, bytes(16), qqic=0x95).query_interval == (5 | 0x10) << 4
    with pytest.raises(Malformed):
        parse_mld(h("8200 0000 0000 0000") + bytes(18))  # 26 bytes: neither v1 nor v2


# -- RFC 4884 and RFC 8335 -----------------------------------------------------------

def test_icmp_extension_structure() -> None:
    ext = ICMPExtension((ExtObject(3, 1, b"eth0"), ExtObject(1, 1, b"\0\x01\x01\x40")))
    raw = ext.encode()
    assert raw[0] == 0x20 and dpkt.in_cksum(raw) == 0
    v = ICMPExtension.parse(raw)
    assert v.objects == ext.objects and v.checksum_ok
    assert v.encode() == raw
    cuts_truncated(ICMPExtension.parse, raw, 4)
    with pytest.raises(Malformed):
        ICMPExtension.parse(b"\x10\0\0\0")
    with pytest.raises(Malformed):
        ICMPExtension.parse(h("20000000 0002 0301"))


@pytest.mark.parametrize("query, data", [
    (InterfaceQuery.by_name("eth0"), b"eth0"),
    (InterfaceQuery.by_name("lo"), b"lo\0\0"),
    (InterfaceQuery.by_index(7), h("00000007")),
    (InterfaceQuery.by_address(bytes((10, 77, 3, 2))), h("0001 04 00 0a4d0302")),
    (InterfaceQuery.by_address(SRC), h("0002 10 00") + SRC),
])
def test_interface_query_objects(query: InterfaceQuery, data: bytes) -> None:
    obj = query.to_object()
    assert obj == ExtObject(3, query.c_type, data)
    assert InterfaceQuery.from_object(obj) == query


# Hand-assembled RFC 8335 request: type 42, code 0, id 0x1234, seq 1, L=1, extension
# header (version 2) with the ifIndex object 7.
PROBE4 = h("2a00 0000 1234 01 01  2000 0000  0008 0302 00000007")


def test_extended_echo_request_ipv4_known() -> None:
    ext = PROBE4[8:]
    known = PROBE4[:8] + ext[:2] + struct.pack("!H", dpkt.in_cksum(ext)) + ext[4:]
    known = known[:2] + struct.pack("!H", dpkt.in_cksum(known)) + known[4:]
    req = ExtEchoRequest(0x1234, 1, InterfaceQuery.by_index(7), local=True)
    assert req.encode() == known
    got = parse_ext_echo(known, True)
    assert (got.ident, got.seq, got.local, got.query) == (0x1234, 1, True, req.query)
    decoded = parse_icmp(known)
    assert isinstance(decoded, ICMPOther) and decoded.checksum_ok
    assert ext_echo_of(decoded).query == req.query
    cuts_truncated(parse_ext_echo, known, 8)


@pytest.mark.parametrize("code", range(5))
def test_extended_echo_reply_both_families(code: int) -> None:
    rep = ExtEchoReply(0xBEEF, 200, code, 2, True, True, False)
    v4 = rep.encode()
    assert v4[:2] == bytes((43, code)) and v4[6:8] == bytes((200, 0x46))
    assert dpkt.in_cksum(v4) == 0
    assert parse_ext_echo(v4)._replace(checksum=None, checksum_ok=True) == rep
    v6 = rep.encode6(SRC, DST)
    assert v6[0] == 161 and dpkt_ok(SRC, DST, v6)
    other = parse_icmp6(v6, SRC, DST)
    assert other.ident == 0xBEEF and other.seq == 200
    back = ext_echo_of(other)
    assert back._replace(checksum=None) == rep and back.checksum_ok
    assert rep.code_text == ("No Error", "Malformed Query", "No Such Interface",
                             "No Such Table Entry", "Multiple Interfaces Satisfy Query")[code]


def test_extended_echo_request_ipv6_every_query() -> None:
    for q in (InterfaceQuery.by_name("lab-target0"), InterfaceQuery.by_index(2),
              InterfaceQuery.by_address(DST), InterfaceQuery.by_address(bytes(4))):
        msg = ExtEchoRequest(1, 255, q).encode6(SRC, DST)
        assert msg[0] == 160 and dpkt_ok(SRC, DST, msg)
        got = parse_ext_echo(msg)
        assert got.query == q and got.extension.checksum_ok
    broken = parse_ext_echo(h("a000 0000 0001 0100 1000 0000"))  # extension version 1
    assert broken.query is None
    with pytest.raises(Malformed):
        parse_ext_echo(ECHO6)
