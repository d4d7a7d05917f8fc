"""Property tests (hypothesis): round trips, never-raise decoding, Tally == tally, checksums.

The default profile keeps this file fast (well under 30 s).  For long runs::

    PCAPPING_HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py

``--hypothesis-profile=thorough`` works too: both profiles are registered in
``tests/conftest.py`` (a test module is imported too late for the option).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pcapping.decode import Tally, decode_frame, tally
from pcapping.errors import DecodeError, Malformed
from pcapping.io.pcapfile import PcapReader
from pcapping.wire.arp import ARPPacket
from pcapping.wire.encap import (
    ERSPAN,
    GRE,
    LLC,
    PIM,
    SNAP,
    VXLAN,
    BCMLIShim,
    Geneve,
    MACsecTag,
    MPLSLabel,
    PPPoE,
    UDPHeader,
    parse_label_stack,
)
from pcapping.wire.ethernet import TAG_TYPES, EthernetHeader, VLANTag
from pcapping.wire.icmp import ERROR_TYPES, ICMPEcho, ICMPError, ICMPOther, parse_icmp, parse_quoted
from pcapping.wire.ipv4 import IPv4Header
from pcapping.wire.links import (
    ARCnetHeader,
    CiscoHDLC,
    FrameRelayHeader,
    IPNetHeader,
    IPoIBHeader,
    PPPHeader,
)
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader

if os.environ.get("PCAPPING_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["PCAPPING_HYPOTHESIS_PROFILE"])
elif settings.get_current_profile_name() == "default":
    settings.load_profile("fast")

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
LINKTYPES = (0, 1, 12, 101, 108, 113, 228, 229, 276,
             # decoded by pcapping.decap
             7, 9, 50, 51, 104, 107, 129, 166, 226, 242, 281, 284, 285)


def _fixture_frames() -> list[tuple[bytes, int]]:
    frames = []
    for path in sorted(CAPTURES.rglob("*.pcap*")):
        for rec in PcapReader(str(path)):
            if rec.linktype in LINKTYPES and len(rec.data) <= 1600:
                frames.append((rec.data, rec.linktype))
    return frames


FIXTURE_FRAMES = _fixture_frames()

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
mac = st.binary(min_size=6, max_size=6)
ip4 = st.binary(min_size=4, max_size=4)

vlan_tags = st.tuples(st.sampled_from(sorted(TAG_TYPES)), st.integers(0, 7),
                      st.integers(0, 1), st.integers(0, 4095)).map(lambda a: VLANTag(*a))
ethernet = st.tuples(mac, mac, u16.filter(lambda t: t not in TAG_TYPES),
                     st.lists(vlan_tags, max_size=4).map(tuple)).map(
    lambda a: EthernetHeader(*a))


@st.composite
def sll(draw) -> LinuxSLL:
    halen = draw(st.integers(0, 8))
    return LinuxSLL(draw(u16), draw(u16), draw(st.binary(min_size=halen, max_size=halen)),
                    draw(u16), halen)


@st.composite
def sll2(draw) -> LinuxSLL2:
    halen = draw(st.integers(0, 8))
    return LinuxSLL2(draw(u16), draw(u32), draw(u16), draw(u8),
                     draw(st.binary(min_size=halen, max_size=halen)), halen, draw(u16))


@st.composite
def arp(draw) -> ARPPacket:
    hlen, plen = draw(st.integers(0, 16)), draw(st.integers(0, 16))
    hw, pr = st.binary(min_size=hlen, max_size=hlen), st.binary(min_size=plen, max_size=plen)
    return ARPPacket(draw(u16), draw(hw), draw(pr), draw(hw), draw(pr), draw(u16), draw(u16))


@st.composite
def ipv4(draw) -> IPv4Header:
    options = draw(st.integers(0, 10).flatmap(lambda n: st.binary(min_size=4 * n,
                                                                  max_size=4 * n)))
    hlen = 20 + len(options)
    return IPv4Header(
        draw(ip4), draw(ip4), draw(u8), ttl=draw(u8), ident=draw(u16), tos=draw(u8),
        flags=draw(st.integers(0, 7)) << 13, frag_offset=draw(st.integers(0, 0x1FFF)),
        total_length=draw(st.integers(hlen, 0xFFFF)), options=options)


payloads = st.binary(max_size=200)
rest4 = st.binary(min_size=4, max_size=4)
# explicit tuples: st.builds would also draw the parse-only checksum fields
echo = st.tuples(st.booleans(), u16, u16, payloads).map(lambda a: ICMPEcho(*a))
icmp_error = st.tuples(st.sampled_from(sorted(ERROR_TYPES)), u8, payloads, rest4).map(
    lambda a: ICMPError(*a))
icmp_other = st.tuples(u8.filter(lambda t: t not in ERROR_TYPES and t not in (0, 8)), u8,
                       rest4, payloads).map(lambda a: ICMPOther(*a))
icmp = st.one_of(echo, icmp_error, icmp_other)


# -- round trips --------------------------------------------------------------

@given(ethernet)
def test_ethernet_round_trip(value: EthernetHeader) -> None:
    assert EthernetHeader.parse(value.encode()) == value


@given(sll())
def test_sll_round_trip(value: LinuxSLL) -> None:
    assert LinuxSLL.parse(value.encode()) == value


@given(sll2())
def test_sll2_round_trip(value: LinuxSLL2) -> None:
    assert LinuxSLL2.parse(value.encode()) == value


@given(st.tuples(u32, st.booleans()).map(lambda a: NullHeader(*a)))
def test_null_round_trip(value: NullHeader) -> None:
    assert NullHeader.parse(value.encode(), value.big_endian) == value


@given(arp())
def test_arp_round_trip(value: ARPPacket) -> None:
    assert ARPPacket.parse(value.encode()) == value


@given(ipv4())
def test_ipv4_round_trip(value: IPv4Header) -> None:
    assert IPv4Header.parse(value.encode())._replace(checksum=None) == value


@given(icmp)
def test_icmp_round_trip(value) -> None:
    assert parse_icmp(value.encode())._replace(checksum=None) == value


# -- the tunnel, encapsulation and link-header codecs --------------------------

u24 = st.integers(0, 0xFFFFFF)
u20 = st.integers(0, 0xFFFFF)
words = st.integers(0, 63).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))


@st.composite
def gre(draw) -> GRE:
    version = draw(st.sampled_from((0, 1)))
    bits = draw(st.integers(0, 0xFFFF)) & ~0x0007 | version
    if version == 1:
        bits &= ~0xC000  # no checksum/routing in version 1
    c = draw(u16) if version == 0 and bits & 0xC000 else None
    o = draw(u16) if version == 0 and bits & 0xC000 else None
    routing = b""
    if version == 0 and bits & 0x4000:
        entries = draw(st.lists(st.tuples(st.integers(1, 0xFFFF), st.integers(0, 20)),
                                max_size=3))
        routing = b"".join(struct.pack("!HBB", af, 0, n) + bytes(n) for af, n in entries)
        routing += bytes(4)
    return GRE(draw(u16), bits, c, o,
               draw(u32) if bits & 0x2000 else None, draw(u32) if bits & 0x1000 else None,
               draw(u32) if version == 1 and bits & 0x0080 else None, routing)


@st.composite
def erspan(draw) -> ERSPAN:
    version = draw(st.sampled_from((1, 2)))
    common = dict(session=draw(st.integers(0, 1023)), vlan=draw(st.integers(0, 4095)),
                  cos=draw(st.integers(0, 7)), encap=draw(st.integers(0, 3)),
                  truncated=draw(st.booleans()))
    if version == 1:
        return ERSPAN(1, index=draw(u20), **common)
    word3 = draw(u16)
    platform = draw(st.binary(min_size=8, max_size=8)) if word3 & 1 else b""
    return ERSPAN(2, timestamp=draw(u32), sgt=draw(u16), word3=word3, platform=platform,
                  **common)


@st.composite
def llc(draw) -> LLC:
    control = draw(st.one_of(st.integers(0, 0xFF).map(lambda c: c | 3),
                             u16.filter(lambda c: c & 3 != 3)))
    return LLC(draw(u8), draw(u8), control)


@st.composite
def macsec(draw) -> MACsecTag:
    tci = draw(st.integers(0, 0x7F))
    return MACsecTag(tci, draw(u32), draw(st.integers(0, 0x3F)),
                     draw(st.integers(0, 2**64 - 1)) if tci & 0x20 else None)


@st.composite
def arcnet(draw) -> ARCnetHeader:
    linux = draw(st.booleans())
    arc_type = draw(u8)
    offset = draw(u16) if linux else 0
    if arc_type in (240, 241, 0x80):
        return ARCnetHeader(draw(u8), draw(u8), arc_type, None, 0, linux, offset)
    exception = not linux and draw(st.booleans())
    flag = draw(u8.filter(lambda f: linux or exception or f != 0xFF))
    return ARCnetHeader(draw(u8), draw(u8), arc_type, flag, draw(u16), linux, offset,
                        exception)


@st.composite
def ppp(draw) -> PPPHeader:
    short = draw(st.booleans())
    proto = draw(u8.map(lambda v: v | 1)) if short else draw(u16.map(lambda v: v & 0xFEFF))
    address = draw(st.sampled_from((None, 0xFF, 0x00, 0x01)))
    if address is None:  # a bare protocol field must not look like address/control
        assume(not (short and proto == 0xFF) and (short or proto & 0xFF != 0x03
                                                  or proto >> 8 not in (0, 1, 0xFF)))
    return PPPHeader(proto, address, 0x03, short)


CODECS = {
    "udp": (st.tuples(u16, u16, u16, u16).map(lambda a: UDPHeader(*a)), UDPHeader.parse),
    "vxlan": (st.tuples(u8, u24, u24, u8).map(lambda a: VXLAN(*a)), VXLAN.parse),
    "geneve": (st.tuples(u16, u24, words, u8, st.just(0), u8).map(lambda a: Geneve(*a)),
               Geneve.parse),
    "gre": (gre(), GRE.parse),
    "erspan": (erspan(), ERSPAN.parse),
    "mpls": (st.tuples(u20, st.integers(0, 7), st.booleans(), u8).map(
        lambda a: MPLSLabel(*a)), MPLSLabel.parse),
    "pppoe": (st.tuples(u8, u16, u16, st.integers(0, 15), st.integers(0, 15)).map(
        lambda a: PPPoE(*a)), PPPoE.parse),
    "llc": (llc(), LLC.parse),
    "snap": (st.tuples(u24, u16).map(lambda a: SNAP(*a)), SNAP.parse),
    "pim": (st.tuples(st.integers(0, 15), st.integers(0, 15), u16, u8).map(
        lambda a: PIM(*a, register_flags=0 if a[:2] == (2, 1) else None)), PIM.parse),
    "macsec": (macsec(), MACsecTag.parse),
    "bcm_li": (st.tuples(st.integers(0, 7), st.integers(0, 15), st.integers(0, 7),
                         st.integers(0, 0x3FFFFF)).map(lambda a: BCMLIShim(*a)),
               BCMLIShim.parse),
    "ppp": (ppp(), PPPHeader.parse),
    "chdlc": (st.tuples(u8, u16, u8).map(lambda a: CiscoHDLC(*a)), CiscoHDLC.parse),
    "ipoib": (st.tuples(u16, st.binary(min_size=20, max_size=20),
                        st.binary(min_size=20, max_size=20), u16).map(lambda a: IPoIBHeader(*a)),
              IPoIBHeader.parse),
    "ipnet": (st.tuples(u8, u16, u32, u32, u32, u32, u32, u8).map(lambda a: IPNetHeader(*a)),
              IPNetHeader.parse),
    "arcnet": (arcnet(), None),
}


@given(st.sampled_from(sorted(CODECS)), st.data())
def test_encap_and_link_codecs_round_trip(name: str, data) -> None:
    strategy, parse = CODECS[name]
    value = data.draw(strategy)
    if name == "arcnet":
        assert ARCnetHeader.parse(value.encode(), value.linux) == value
    else:
        assert parse(value.encode()) == value


ENCAP_PARSERS = tuple(parse for _, parse in CODECS.values() if parse is not None) + (
    lambda b: ARCnetHeader.parse(b, False), lambda b: ARCnetHeader.parse(b, True),
    parse_label_stack, FrameRelayHeader.parse)


@given(st.binary(max_size=80), st.sampled_from(range(len(ENCAP_PARSERS))))
def test_encap_parsers_raise_only_decode_errors(data: bytes, which: int) -> None:
    try:
        ENCAP_PARSERS[which](data)
    except DecodeError:
        pass


# -- decode_frame on random and mutated bytes ---------------------------------

def _check_decode(data: bytes, linktype: int) -> None:
    d = decode_frame(data, linktype)  # must not raise
    json.dumps(d.to_dict())
    ref = Tally()
    ref.add(d)
    fast = Tally()
    tally(fast, data, linktype)
    assert fast.as_tuple() == ref.as_tuple(), (data.hex(), linktype, d.problems)


@given(st.binary(max_size=300), st.sampled_from(LINKTYPES))
def test_random_bytes_decode(data: bytes, linktype: int) -> None:
    _check_decode(data, linktype)


@st.composite
def mutated_frames(draw) -> tuple[bytes, int]:
    data, linktype = draw(st.sampled_from(FIXTURE_FRAMES))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("flip", "byte", "cut", "insert", "delete")))
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        if kind == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and buf:
            buf[pos] = draw(u8)
        elif kind == "cut":
            del buf[pos:]
        elif kind == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and buf:
            del buf[pos : pos + draw(st.integers(1, 8))]
    return bytes(buf), draw(st.sampled_from((linktype, linktype, *LINKTYPES)))


@given(mutated_frames())
def test_mutated_fixture_frames_decode(frame: tuple[bytes, int]) -> None:
    _check_decode(*frame)


def test_every_fixture_frame_tally_agrees() -> None:
    for data, linktype in FIXTURE_FRAMES:
        _check_decode(data, linktype)
        for cut in range(0, min(len(data), 120)):
            _check_decode(data[:cut], linktype)


# -- parse on random bytes raises only DecodeError ----------------------------

PARSERS = (
    EthernetHeader.parse, LinuxSLL.parse, LinuxSLL2.parse, NullHeader.parse,
    lambda b: NullHeader.parse(b, True), lambda b: NullHeader.parse(b, False),
    ARPPacket.parse, IPv4Header.parse, lambda b: IPv4Header.parse(b, quoted=True),
    parse_icmp, lambda b: parse_icmp(b, verify=False),
)


@given(st.binary(max_size=120), st.sampled_from(range(len(PARSERS))))
def test_random_bytes_parse_only_decode_errors(data: bytes, which: int) -> None:
    try:
        value = PARSERS[which](data)
    except DecodeError:
        return
    if isinstance(value, ICMPError):
        value.quoted  # noqa: B018 - the lenient quote parser must not raise either
        value.mtu, value.gateway, value.pointer  # noqa: B018
    if isinstance(value, ICMPOther):
        value.timestamps, value.ident, value.seq  # noqa: B018


@given(st.binary(max_size=120))
def test_parse_quoted_never_raises(data: bytes) -> None:
    q = parse_quoted(data)
    assert q.ip is not None or q.problem is not None


# -- a flipped bit fails the checksum -------------------------------------------

@given(icmp, st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_flipped_bit_fails_icmp_checksum(value, data) -> None:
    buf = bytearray(value.encode())
    bit = data.draw(st.integers(0, len(buf) * 8 - 1))
    buf[bit // 8] ^= 1 << (bit % 8)
    assert parse_icmp(bytes(buf)).checksum_ok is False


@given(ipv4(), st.data())
def test_flipped_bit_fails_ipv4_checksum(value: IPv4Header, data) -> None:
    buf = bytearray(value.encode())
    bit = data.draw(st.integers(8, len(buf) * 8 - 1))  # not the version/IHL byte
    buf[bit // 8] ^= 1 << (bit % 8)
    try:
        parsed = IPv4Header.parse(bytes(buf))
    except Malformed:  # total length flipped below the header length
        assume(False)
        return
    assert parsed.checksum_ok is False


# -- IPv6 -------------------------------------------------------------------------------

from pcapping.wire.ext import ExtObject, ICMPExtension, InterfaceQuery  # noqa: E402
from pcapping.wire.extecho import ExtEchoReply, ExtEchoRequest, parse_ext_echo  # noqa: E402
from pcapping.wire.icmp6 import (  # noqa: E402
    ERROR_TYPES6,
    ICMP6Echo,
    ICMP6Error,
    ICMP6Other,
    parse_icmp6,
    parse_quoted6,
)
from pcapping.wire.ipv6 import (  # noqa: E402
    AHHeader,
    FragmentHeader,
    IPv6Header,
    IPv6Option,
    OptionsHeader,
    RoutingHeader,
    walk_extensions,
)
from pcapping.wire.mld import MLDMessage, MLDv2Query, MLDv2Record, MLDv2Report, parse_mld  # noqa: E402
from pcapping.wire.ndp import (  # noqa: E402
    LinkLayerOption,
    MTUOption,
    NeighborAdvert,
    NeighborSolicit,
    NonceOption,
    PrefixInfo,
    RDNSSOption,
    Redirect,
    RouterAdvert,
    RouterSolicit,
    parse_nd_options,
    parse_ndp,
)

ip6 = st.binary(min_size=16, max_size=16)
ipv6_header = st.tuples(ip6, ip6, u8, u8, u8, st.integers(0, 0xFFFFF), u16).map(
    lambda a: IPv6Header(*a))
v6_option = st.one_of(
    st.just(IPv6Option(0)),
    st.tuples(st.integers(1, 255), st.binary(max_size=12)).map(lambda a: IPv6Option(*a)))
options_header = st.tuples(st.sampled_from((0, 60)), u8, st.lists(v6_option, max_size=5)).map(
    lambda a: OptionsHeader.build(*a))
routing_header = st.tuples(u8, st.lists(ip6, max_size=4), st.sampled_from((0, 2, 4)),
                           st.integers(0, 5)).map(lambda a: RoutingHeader.build(*a))
fragment_header = st.tuples(u8, st.integers(0, 8191), st.booleans(), u32, u8,
                            st.integers(0, 3)).map(lambda a: FragmentHeader(*a))
ah_header = st.tuples(u8, u32, u32, st.sampled_from((4, 12, 20)).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)), u16).map(lambda a: AHHeader(*a))
echo6 = st.tuples(st.booleans(), u16, u16, payloads).map(lambda a: ICMP6Echo(*a))
error6 = st.tuples(st.sampled_from(sorted(ERROR_TYPES6)), u8, payloads, rest4).map(
    lambda a: ICMP6Error(*a))
other6 = st.tuples(u8.filter(lambda t: t not in ERROR_TYPES6 and t not in (128, 129)), u8,
                   rest4, payloads).map(lambda a: ICMP6Other(*a))
icmp6_msg = st.one_of(echo6, error6, other6)
mac6 = st.binary(min_size=6, max_size=6)
nd_option = st.one_of(
    st.tuples(st.sampled_from((1, 2)), mac6).map(lambda a: LinkLayerOption(*a)),
    st.tuples(st.integers(0, 128), u8, u32, u32, ip6).map(lambda a: PrefixInfo(*a)),
    u32.map(MTUOption), st.binary(min_size=6, max_size=6).map(NonceOption),
    st.tuples(u32, st.lists(ip6, max_size=3).map(tuple)).map(lambda a: RDNSSOption(*a)))
nd_options = st.lists(nd_option, max_size=4).map(tuple)
ndp_message = st.one_of(
    nd_options.map(RouterSolicit),
    st.tuples(u8, u8, u16, u32, u32, nd_options).map(lambda a: RouterAdvert(*a)),
    st.tuples(ip6, nd_options).map(lambda a: NeighborSolicit(*a)),
    st.tuples(ip6, st.booleans(), st.booleans(), st.booleans(), nd_options).map(
        lambda a: NeighborAdvert(*a)),
    st.tuples(ip6, ip6, nd_options).map(lambda a: Redirect(*a)))
mld_message = st.one_of(
    st.tuples(st.sampled_from((130, 131, 132)), u16, ip6).map(lambda a: MLDMessage(*a)),
    st.tuples(u16, ip6, st.booleans(), st.integers(0, 7), u8,
              st.lists(ip6, max_size=3).map(tuple)).map(lambda a: MLDv2Query(*a)),
    st.lists(st.tuples(u8, ip6, st.lists(ip6, max_size=2).map(tuple),
                       st.sampled_from((b"", b"abcd"))).map(lambda a: MLDv2Record(*a)),
             max_size=3).map(lambda r: MLDv2Report(tuple(r))))
query = st.one_of(
    st.text(alphabet="abcdefgh0123-", min_size=1, max_size=15).map(InterfaceQuery.by_name),
    u32.map(InterfaceQuery.by_index),
    st.one_of(ip4, ip6).map(InterfaceQuery.by_address))
ext_echo = st.one_of(
    st.tuples(u16, u8, query, st.booleans()).map(lambda a: ExtEchoRequest(*a)),
    st.tuples(u16, u8, st.integers(0, 4), st.integers(0, 7), st.booleans(), st.booleans(),
              st.booleans()).map(lambda a: ExtEchoReply(*a)))
SRC6, DST6 = bytes(15) + b"\x01", b"\xfe\x80" + bytes(13) + b"\x02"


@given(ipv6_header)
def test_ipv6_header_round_trip(value: IPv6Header) -> None:
    assert IPv6Header.parse(value.encode()) == value


@given(st.one_of(options_header, routing_header, fragment_header, ah_header))
def test_extension_header_round_trip(value) -> None:
    raw = value.encode()
    parsed = {OptionsHeader: lambda b: OptionsHeader.parse(b, value.kind)
              if isinstance(value, OptionsHeader) else None,
              RoutingHeader: RoutingHeader.parse, FragmentHeader: FragmentHeader.parse,
              AHHeader: AHHeader.parse}[type(value)](raw)
    assert parsed == value and len(raw) == value.length
    last = value._replace(next_header=59)  # alone in its chain
    chain = walk_extensions(last.encode(), (value.kind if isinstance(value, OptionsHeader) else
                                            43 if isinstance(value, RoutingHeader) else
                                            44 if isinstance(value, FragmentHeader) else 51), 0)
    if isinstance(value, FragmentHeader) and value.frag_offset:
        assert not chain.upper_layer_present
    assert chain.error is None and chain.headers == (last,) and chain.offset == len(raw)
    assert chain.protocol == 59


@given(icmp6_msg)
def test_icmp6_round_trip(value) -> None:
    assert parse_icmp6(value.encode(SRC6, DST6), SRC6, DST6)._replace(checksum=None) == value


@given(ndp_message)
def test_ndp_round_trip(value) -> None:
    msg = value.encode(SRC6, DST6)
    assert parse_icmp6(msg, SRC6, DST6).checksum_ok
    assert parse_ndp(msg) == value


@given(mld_message)
def test_mld_round_trip(value) -> None:
    assert parse_mld(value.encode(SRC6, DST6)) == value


@given(ext_echo, st.booleans())
def test_ext_echo_round_trip(value, v6: bool) -> None:
    msg = value.encode6(SRC6, DST6) if v6 else value.encode()
    got = parse_ext_echo(msg)._replace(checksum=None, checksum_ok=True)
    if isinstance(value, ExtEchoRequest):
        assert (got.ident, got.seq, got.query, got.local) == (value.ident, value.seq,
                                                              value.query, value.local)
    else:
        assert got == value


@given(st.lists(st.tuples(u8, u8, st.binary(max_size=20)), max_size=4))
def test_icmp_extension_round_trip(objs) -> None:
    ext = ICMPExtension(tuple(ExtObject(*o) for o in objs))
    assert ICMPExtension.parse(ext.encode())._replace(checksum=None) == ext


PARSERS6 = (
    IPv6Header.parse, OptionsHeader.parse, RoutingHeader.parse, FragmentHeader.parse,
    AHHeader.parse, lambda b: parse_icmp6(b, SRC6, DST6), parse_icmp6, parse_ndp,
    parse_nd_options, parse_mld, parse_ext_echo, ICMPExtension.parse,
)


@given(st.binary(max_size=160), st.sampled_from(range(len(PARSERS6))))
def test_random_bytes_parse6_only_decode_errors(data: bytes, which: int) -> None:
    try:
        value = PARSERS6[which](data)
    except DecodeError:
        return
    if isinstance(value, ICMP6Error):  # the lazy views must not raise either
        value.quoted, value.extension, value.mtu, value.pointer  # noqa: B018
    if isinstance(value, ExtEchoRequest):
        value.extension  # noqa: B018


@given(st.binary(max_size=200), st.sampled_from((0, 43, 44, 51, 60, 58, 59)))
def test_walk_and_quote_never_raise(data: bytes, nh: int) -> None:
    chain = walk_extensions(data, nh, 0)
    assert chain.offset <= len(data) + 2048 and len(chain.headers) <= 16
    q = parse_quoted6(data)
    assert q.ip6 is not None or q.problem is not None


@given(icmp6_msg, st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_flipped_bit_fails_icmp6_checksum(value, data) -> None:
    """A flipped bit anywhere in the message or in either address fails the verdict."""
    buf = bytearray(SRC6 + DST6 + value.encode(SRC6, DST6))
    bit = data.draw(st.integers(0, len(buf) * 8 - 1))
    buf[bit // 8] ^= 1 << (bit % 8)
    src, dst, msg = bytes(buf[:16]), bytes(buf[16:32]), bytes(buf[32:])
    assert parse_icmp6(msg, src, dst).checksum_ok is False


@st.composite
def ipv6_frames(draw) -> tuple[bytes, int]:
    """IPv6 datagrams with random extension chains and ICMPv6 bodies, then damaged."""
    headers = draw(st.lists(st.one_of(options_header, routing_header, fragment_header,
                                      ah_header), max_size=4))
    msg = draw(st.one_of(icmp6_msg, ndp_message, mld_message)).encode(SRC6, DST6)
    kinds = [h.kind if isinstance(h, OptionsHeader) else 43 if isinstance(h, RoutingHeader)
             else 44 if isinstance(h, FragmentHeader) else 51 for h in headers]
    fixed = [h._replace(next_header=(kinds[i + 1] if i + 1 < len(kinds) else 58))
             for i, h in enumerate(headers)]
    body = b"".join(h.encode() for h in fixed) + msg
    datagram = IPv6Header(SRC6, DST6, kinds[0] if kinds else 58).encode(body)
    buf = bytearray(datagram)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        kind = draw(st.sampled_from(("flip", "byte", "cut")))
        if kind == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and buf:
            buf[pos] = draw(u8)
        else:
            del buf[pos:]
    linktype = draw(st.sampled_from(LINKTYPES))
    head = {1: bytes(12) + b"\x86\xdd", 113: bytes(14) + b"\x86\xdd",
            276: b"\x86\xdd" + bytes(18), 0: b"\x18\0\0\0", 108: b"\0\0\0\x1e"}.get(
        linktype, b"")
    return head + bytes(buf), linktype


@given(ipv6_frames())
def test_ipv6_frames_decode_and_tally(frame: tuple[bytes, int]) -> None:
    _check_decode(*frame)
