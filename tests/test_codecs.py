"""Each codec: parse known bytes, encode to exactly those bytes, round trip, every cut raises.

Known bytes are hand-written hex with the expected fields written out next to them (checksums
worked by hand, RFC 1071's example, and a header from a real capture), so these tests do not
trust the code under test to produce their vectors.
"""

from __future__ import annotations

import random

import dpkt
import pytest

from pcapping.errors import Malformed, Truncated
from pcapping.wire.arp import ARPPacket
from pcapping.wire.checksum import checksum_ok, checksum_should_be, internet_checksum, ones_sum
from pcapping.wire.ethernet import EthernetHeader, VLANTag
from pcapping.wire.icmp import ICMPEcho, ICMPError, ICMPOther, parse_icmp
from pcapping.wire.ipv4 import IPv4Header
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader

CLIENT_MAC = bytes.fromhex("020000000102")
ROUTER_MAC = bytes.fromhex("020000000101")


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def assert_every_cut_truncated(parse, buf: bytes, upto: int | None = None) -> None:
    """``parse(buf[:n])`` raises ``Truncated`` (and nothing else) for every n < ``upto``."""
    for n in range(len(buf) if upto is None else upto):
        with pytest.raises(Truncated):
            parse(buf[:n])


# -- Ethernet -------------------------------------------------------------------

ETH = h("ffffffffffff 020000000102 0806")
ETH_QINQ = h("020000000101 020000000102 88a8 00c8 8100 bffe 0800")
ETH_QINQ_VALUE = EthernetHeader(
    ROUTER_MAC, CLIENT_MAC, 0x0800, (VLANTag(0x88A8, 0, 0, 200), VLANTag(0x8100, 5, 1, 4094)))


def test_ethernet_parse_known() -> None:
    e = EthernetHeader.parse(ETH + b"payload")
    assert e == EthernetHeader(b"\xff" * 6, CLIENT_MAC, 0x0806)
    assert e.header_length == 14
    q = EthernetHeader.parse(ETH_QINQ)
    assert q == ETH_QINQ_VALUE
    assert [t.vid for t in q.vlans] == [200, 4094] and q.vlans[1].tci == 0xBFFE
    assert q.header_length == 22


def test_ethernet_encode_known() -> None:
    assert EthernetHeader(b"\xff" * 6, CLIENT_MAC, 0x0806).encode() == ETH
    assert ETH_QINQ_VALUE.encode() == ETH_QINQ


def test_ethernet_round_trip() -> None:
    for value in (EthernetHeader.parse(ETH), ETH_QINQ_VALUE,
                  EthernetHeader(CLIENT_MAC, ROUTER_MAC, 0x0800,
                                 (VLANTag(0x9100, 7, 1, 1), VLANTag(0x8100, 0, 0, 4095),
                                  VLANTag(0x8100, 1, 0, 2)))):
        assert EthernetHeader.parse(value.encode()) == value


def test_ethernet_every_cut() -> None:
    assert_every_cut_truncated(EthernetHeader.parse, ETH)
    assert_every_cut_truncated(EthernetHeader.parse, ETH_QINQ)


# -- Linux cooked and BSD loopback ------------------------------------------

SLL = h("0004 0001 0006 020000000102 0000 0800")
SLL2 = h("0800 0000 00000002 0001 04 06 020000000102 0000")


def test_sll_known_encode_round_trip_cuts() -> None:
    s = LinuxSLL.parse(SLL + b"rest")
    assert s == LinuxSLL(4, 1, CLIENT_MAC, 0x0800, 6)
    assert s.encode() == SLL
    lo = LinuxSLL(0, 772, b"", 0x0800, 0)
    assert LinuxSLL.parse(lo.encode()) == lo
    assert_every_cut_truncated(LinuxSLL.parse, SLL)


def test_sll2_known_encode_round_trip_cuts() -> None:
    s = LinuxSLL2.parse(SLL2 + b"rest")
    assert s == LinuxSLL2(0x0800, 2, 1, 4, CLIENT_MAC, 6, 0)
    assert s.encode() == SLL2
    for value in (LinuxSLL2(0x0806, 0xFFFFFFFF, 1, 1, ROUTER_MAC),
                  LinuxSLL2(0x0800, 1, 772, 0, b"", 0)):
        assert LinuxSLL2.parse(value.encode()) == value
    assert_every_cut_truncated(LinuxSLL2.parse, SLL2)


def test_null_header_known_both_orders() -> None:
    assert NullHeader.parse(h("02000000")) == NullHeader(2, False)
    assert NullHeader.parse(h("00000002")) == NullHeader(2, True)
    assert NullHeader.parse(h("00000002"), big_endian=True) == NullHeader(2, True)
    assert NullHeader.parse(h("1e000000")) == NullHeader(30, False)
    assert NullHeader(2, False).encode() == h("02000000")
    assert NullHeader(2, True).encode() == h("00000002")
    for value in (NullHeader(2, True), NullHeader(2, False), NullHeader(24, False)):
        assert NullHeader.parse(value.encode()) == value
    assert_every_cut_truncated(NullHeader.parse, h("02000000"))
    assert_every_cut_truncated(lambda b: NullHeader.parse(b, True), h("00000002"))


# -- ARP -------------------------------------------------------------------------

ARP_REQ = h("0001 0800 06 04 0001 020000000102 0a4d0102 000000000000 0a4d0101")
ARP_REQ_VALUE = ARPPacket(1, CLIENT_MAC, h("0a4d0102"), bytes(6), h("0a4d0101"))


def test_arp_known() -> None:
    a = ARPPacket.parse(ARP_REQ + b"\xaa" * 18)  # Ethernet padding is ignored
    assert a == ARP_REQ_VALUE
    assert (a.hw_len, a.proto_len, a.length) == (6, 4, 28)
    assert ARP_REQ_VALUE.encode() == ARP_REQ


def test_arp_round_trip() -> None:
    for value in (ARP_REQ_VALUE,
                  ARPPacket(2, ROUTER_MAC, h("0a4d0101"), CLIENT_MAC, h("0a4d0102")),
                  ARPPacket(9, b"\x01" * 14, b"\x02" * 4, b"\x03" * 14, b"\x04" * 4, 12336),
                  ARPPacket(1, b"", b"", b"", b"")):
        assert ARPPacket.parse(value.encode()) == value


def test_arp_every_cut() -> None:
    assert_every_cut_truncated(ARPPacket.parse, ARP_REQ)


# -- IPv4 ------------------------------------------------------------------------

# The header used in many textbooks (a UDP datagram 192.168.0.1 -> 192.168.0.199): checksum b861.
IP_HDR = h("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")
IP_VALUE = IPv4Header(h("c0a80001"), h("c0a800c7"), 17, ttl=64, ident=0, flags=0x4000,
                      total_length=0x73)
# With options: router alert (94 04 0000), IHL 6; id 0x1c46, MF, offset 185; checksum by hand.
IP_OPTS = h("4600 0020 1c46 20b9 0101 0000 0a4d0102 0a4d0302 94040000")


def test_ipv4_parse_known() -> None:
    ip = IPv4Header.parse(IP_HDR + b"\0" * 0x5F)
    assert ip == IP_VALUE._replace(checksum=0xB861)
    assert (ip.ihl, ip.df, ip.mf, ip.is_fragment, ip.checksum_ok) == (5, True, False, False, True)
    o = IPv4Header.parse(IP_OPTS)
    assert (o.ihl, o.options, o.ident, o.mf, o.frag_offset, o.ttl) == (
        6, h("94040000"), 0x1C46, True, 185, 1)
    assert o.checksum_ok is (o.checksum == internet_checksum(IP_OPTS[:10] + b"\0\0" + IP_OPTS[12:]))


def test_ipv4_encode_known() -> None:
    assert IP_VALUE.encode() == IP_HDR  # header-only: total length from the value
    assert IP_VALUE._replace(total_length=20).encode(b"\0" * 0x5F) == IP_HDR + b"\0" * 0x5F
    opts = IPv4Header.parse(IP_OPTS)
    assert opts.encode() == IP_OPTS[:10] + opts.encode()[10:12] + IP_OPTS[12:]
    assert checksum_ok(opts.encode())


def test_ipv4_encode_recomputes_checksum() -> None:
    assert IP_VALUE._replace(checksum=0x1234).encode() == IP_HDR


def test_ipv4_round_trip() -> None:
    values = (
        IP_VALUE,
        IPv4Header(h("0a4d0102"), h("0a4d0302"), 1, ttl=1, ident=0xFFFF, tos=0xC0,
                   flags=0x2000, frag_offset=0x1FFF, total_length=1500,
                   options=h("07 27 04") + bytes(36) + b"\0"),
        IPv4Header(bytes(4), b"\xff" * 4, 255, ttl=0, total_length=60, options=b"\x01" * 40),
    )
    for value in values:
        assert IPv4Header.parse(value.encode())._replace(checksum=None) == value


def test_ipv4_every_cut() -> None:
    assert_every_cut_truncated(IPv4Header.parse, IP_HDR)
    assert_every_cut_truncated(IPv4Header.parse, IP_OPTS)
    assert_every_cut_truncated(lambda b: IPv4Header.parse(b, quoted=True), IP_OPTS)


@pytest.mark.parametrize("first, total", [(0x44, 0x73), (0x40, 0x73), (0x65, 0x73),
                                          (0x45, 19), (0x45, 0)])
def test_ipv4_malformed(first: int, total: int) -> None:
    buf = bytes([first]) + IP_HDR[1:2] + total.to_bytes(2, "big") + IP_HDR[4:]
    with pytest.raises(Malformed):
        IPv4Header.parse(buf)


def test_ipv4_quoted_accepts_short_total_only_when_quoted() -> None:
    buf = IP_HDR[:2] + (12).to_bytes(2, "big") + IP_HDR[4:]
    assert IPv4Header.parse(buf, quoted=True).total_length == 12


# -- ICMP ------------------------------------------------------------------------

# 08 00 | cksum | id 0 | seq 1: words 0800 + 0001 = 0801, checksum f7fe
ECHO_EMPTY = h("0800 f7fe 0000 0001")
# type 0, all zero: the sum is +0, so the checksum field is ffff
REPLY_ZERO = h("0000 ffff 0000 0000")
# 0800 + 1234 + 0001 + abcd = c602 -> 39fd
ECHO_DATA = h("0800 39fd 1234 0001 abcd")
# frag needed, MTU 1280, quoting the textbook header + 8 UDP bytes:
# a valid header sums to ffff (-0, adds nothing); 0304 + 0500 + 1f90 + 0035 + 0008 = 27d1 -> d82e
FRAG_NEEDED = h("0304 d82e 0000 0500") + IP_HDR + h("1f90 0035 0008 0000")
# timestamp request: 0d00 + 1234 + 0001 + 01c9 + c380 = e47e -> 1b81
TIMESTAMP = h("0d00 1b81 1234 0001 01c9c380 00000000 00000000")


def test_icmp_echo_known() -> None:
    e = parse_icmp(ECHO_EMPTY)
    assert e == ICMPEcho(False, 0, 1, b"", 0xF7FE, True)
    assert (e.icmp_type, e.code, e.length) == (8, 0, 8)
    assert ICMPEcho(False, 0, 1).encode() == ECHO_EMPTY
    assert parse_icmp(REPLY_ZERO) == ICMPEcho(True, 0, 0, b"", 0xFFFF, True)
    assert ICMPEcho(True, 0, 0).encode() == REPLY_ZERO
    assert parse_icmp(ECHO_DATA) == ICMPEcho(False, 0x1234, 1, h("abcd"), 0x39FD, True)
    assert ICMPEcho(False, 0x1234, 1, h("abcd")).encode() == ECHO_DATA


def test_icmp_error_known() -> None:
    m = parse_icmp(FRAG_NEEDED)
    assert isinstance(m, ICMPError)
    assert (m.icmp_type, m.code, m.mtu, m.checksum, m.checksum_ok) == (3, 4, 1280, 0xD82E, True)
    assert m.payload == FRAG_NEEDED[8:] and m.rest == h("00000500")
    q = m.quoted
    assert (q.ip.src, q.ip.dst, q.ip.protocol, q.sport, q.dport) == (
        h("c0a80001"), h("c0a800c7"), 17, 0x1F90, 0x35)
    assert q.ip.checksum_ok is True
    assert ICMPError(3, 4, FRAG_NEEDED[8:], h("00000500")).encode() == FRAG_NEEDED


def test_icmp_error_fields() -> None:
    redirect = ICMPError(5, 1, IP_HDR + bytes(8), h("0a4d0202"))
    assert redirect.gateway == h("0a4d0202") and redirect.mtu is None
    problem = ICMPError(12, 0, IP_HDR + bytes(8), h("08000000"))
    assert problem.pointer == 8 and problem.gateway is None


def test_icmp_other_known() -> None:
    m = parse_icmp(TIMESTAMP)
    assert m == ICMPOther(13, 0, h("12340001"), TIMESTAMP[8:], 0x1B81, True)
    assert (m.ident, m.seq, m.timestamps) == (0x1234, 1, (30_000_000, 0, 0))
    assert ICMPOther(13, 0, h("12340001"), TIMESTAMP[8:]).encode() == TIMESTAMP
    unknown = ICMPOther(99, 7, h("deadbeef"))
    assert unknown.ident is None and unknown.timestamps is None


ICMP_VALUES = (
    ICMPEcho(False, 0, 1), ICMPEcho(True, 0xFFFF, 0xFFFF, bytes(range(256)) * 6),
    ICMPError(3, 4, FRAG_NEEDED[8:], h("00000500")), ICMPError(11, 0, b""),
    ICMPError(12, 2, b"\x01", h("ff000000")), ICMPError(5, 3, IP_HDR, h("0a000001")),
    ICMPError(4, 0, b"x" * 7),
    ICMPOther(13, 0, h("12340001"), TIMESTAMP[8:]), ICMPOther(255, 255, h("ffffffff"), b"z"),
    ICMPOther(42, 0, h("00010100"), b""),
)


@pytest.mark.parametrize("value", ICMP_VALUES, ids=lambda v: f"{type(v).__name__}")
def test_icmp_round_trip(value) -> None:
    assert parse_icmp(value.encode())._replace(checksum=None) == value


@pytest.mark.parametrize("buf", [ECHO_EMPTY, REPLY_ZERO, FRAG_NEEDED, TIMESTAMP])
def test_icmp_every_cut(buf: bytes) -> None:
    assert_every_cut_truncated(parse_icmp, buf, upto=8)
    for n in range(8, len(buf) + 1):  # past the header a cut is data, judged by the checksum
        assert parse_icmp(buf[:n]).checksum_ok is (dpkt.in_cksum(buf[:n]) == 0)
        assert parse_icmp(buf[:n], verify=False).checksum_ok is None


def test_icmp_quoted_cut_anywhere_never_raises() -> None:
    for n in range(len(FRAG_NEEDED[8:]) + 1):
        q = ICMPError(3, 4, FRAG_NEEDED[8 : 8 + n]).quoted
        assert (q.ip is None) == (n < 20)
        assert q.ip is not None or q.problem.startswith("truncated")


# -- checksum functions ------------------------------------------------------------

RFC1071 = h("0001 f203 f4f5 f6f7")


def test_checksum_rfc1071_example() -> None:
    assert ones_sum(RFC1071) == 0xDDF2
    assert internet_checksum(RFC1071) == 0x220D
    assert checksum_ok(RFC1071 + h("220d"))


def test_checksum_odd_lengths() -> None:
    assert internet_checksum(h("01")) == 0xFEFF  # 01 padded to 0100
    assert internet_checksum(h("0001 f2")) == 0xFFFF - 0xF201
    assert ones_sum(RFC1071 + h("ff")) == 0xDDF2 + 0xFF00 - 0xFFFF
    assert checksum_ok(h("ff")) is False


@pytest.mark.parametrize("n", [0, 1, 2, 3, 20, 1500])
def test_checksum_all_zero(n: int) -> None:
    data = bytes(n)
    assert internet_checksum(data) == 0xFFFF == dpkt.in_cksum(data)
    assert checksum_ok(data) is False  # a stored +0 never verifies


def test_checksum_all_ones() -> None:
    assert checksum_ok(b"\xff\xff") and ones_sum(b"\xff\xff") == 0xFFFF
    assert internet_checksum(b"\xff\xff") == 0


def test_checksum_equals_dpkt_on_random_data() -> None:
    rng = random.Random(1071)
    for _ in range(2000):
        data = rng.randbytes(rng.randrange(0, 200))
        assert internet_checksum(data) == dpkt.in_cksum(data), data.hex()
        assert checksum_ok(data) == (len(data) > 0 and dpkt.in_cksum(data) == 0 and any(data))


def test_checksum_should_be() -> None:
    rng = random.Random(1191)
    for _ in range(2000):
        data = bytearray(rng.randbytes(rng.randrange(4, 80) & ~1))
        data[2:4] = internet_checksum(bytes(data[:2] + b"\0\0" + data[4:])).to_bytes(2, "big")
        right = int.from_bytes(data[2:4], "big")
        if not any(data):
            continue
        assert checksum_ok(bytes(data))
        assert checksum_should_be(right, bytes(data)) == right  # tcpdump: stored when good
        wrong = rng.randrange(0x10000)
        data[2:4] = wrong.to_bytes(2, "big")
        fixed = checksum_should_be(wrong, bytes(data))
        data[2:4] = fixed.to_bytes(2, "big")
        assert checksum_ok(bytes(data)), (wrong, fixed)


def test_checksum_should_be_known() -> None:
    # bad-checksums.pcap's IPv4 header 0x1234 -> 0x230b, as tcpdump prints it
    hdr = h("4500 0054 4101 0000 3e01 1234 0a4d0302 0a4d0102")
    assert checksum_should_be(0x1234, hdr) == 0x230B
