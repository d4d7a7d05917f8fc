"""The pure IPv6 parts of trace: probes (Paris flows with a constant flow label, the tag in
the UDP checksum, ICMPv6 sequence or TCP sequence, checksums over the RFC 8200
pseudo-header), reading tags back from quotes, the quoted-datagram diff for IPv6 fields,
traceroute's ICMPv6 annotations, and the device-completed checksum's virtio header."""

from __future__ import annotations

import struct

import pytest

from pcapping.io.inject import vnet_header
from pcapping.probe.flows import METHODS, ProbeBuilder, min_packet_len, quote_l4, verify
from pcapping.probe.quote_diff import diff_quote6, names, sent_as_quoted6, unpad
from pcapping.probe.trace import annotation6
from pcapping.wire.checksum import checksum_ok, ones_sum
from pcapping.wire.frag6 import fragment6
from pcapping.wire.ipv6 import IPv6Header, ip6_bytes, pseudo_header

SRC = ip6_bytes("fd00:10:77:1::2")
DST = ip6_bytes("fd00:10:77:27::2")


def _b(method: str, **kw: object) -> ProbeBuilder:
    kw.setdefault("sport", 40000)
    kw.setdefault("nonce", b"abcd")
    kw.setdefault("ident", 7)
    kw.setdefault("flow_label", 0xABCDE)
    return ProbeBuilder(method, SRC, DST, **kw)  # type: ignore[arg-type]


# --- probes ---

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("paris", [True, False])
def test_probes_verify_and_carry_their_tag(method: str, paris: bool) -> None:
    b = _b(method, paris=paris)
    for tag in (1, 2, 0x1234, 0xFFFE):
        d = b.build(tag, 9).datagram
        assert verify(d), (method, tag)
        assert len(d) == 80 and d[0] >> 4 == 6 and d[7] == 9 and d[24:40] == DST
        assert d[6] == {"udp": 17, "icmp": 58, "tcp": 6}[method]
        assert int.from_bytes(d[4:6], "big") == 40
        found = b.identify_quote(d)
        assert found and found[0].tag == tag, (method, found)
        # a quote cut after 8 bytes of the upper layer still identifies it
        assert tag in [c.tag for c in b.identify_quote(d[:48])]
        assert b.is_ours(d) and b.fixer_of(d) == d[48:50]


def test_paris_keeps_every_flow_field_constant() -> None:
    for method in METHODS:
        b = _b(method)
        probes = [b.build(t, 5).datagram for t in range(1, 60)]
        # traffic class, flow label, next header, addresses: the first 40 bytes but the
        # payload length (constant too) and the hop limit
        assert len({p[:7] + p[8:40] for p in probes}) == 1, method
        assert int.from_bytes(probes[0][1:4], "big") & 0xFFFFF == 0xABCDE
        if method == "icmp":
            assert len({p[40:44] for p in probes}) == 1  # type, code and checksum
            assert [p[46] << 8 | p[47] for p in probes] == list(range(1, 60))
        else:
            assert len({p[40:44] for p in probes}) == 1  # the ports
        if method == "udp":
            assert [p[46] << 8 | p[47] for p in probes] == list(range(1, 60))


def test_flows_move_ports_checksum_and_flow_label() -> None:
    udp = _b("udp")
    f3 = udp.build(60, 5, flow=3).datagram
    assert f3[40:44] == struct.pack("!HH", 40003, 33434)
    assert int.from_bytes(f3[1:4], "big") & 0xFFFFF == 0xABCDE + 3
    icmp = _b("icmp")
    assert len({icmp.build(9, 5, flow=f).datagram[42:44] for f in range(8)}) == 8
    assert len({icmp.build(9, 5, flow=f).datagram[1:4] for f in range(8)}) == 8


def test_classic_changes_the_flow_every_probe() -> None:
    udp = _b("udp", paris=False)
    probes = [udp.build(t, 1).datagram for t in range(1, 4)]
    assert [p[42:44] for p in probes] == [struct.pack("!H", 33434 + i) for i in range(3)]
    assert len({p[1:4] for p in probes}) == 3
    icmp = _b("icmp", paris=False)
    assert len({icmp.build(t, 1).datagram[42:44] for t in range(1, 9)}) == 8


def test_traffic_class_default_sizes_and_tcp_syn() -> None:
    d = _b("udp", tos=0xB8).build(5, 3).datagram
    assert (d[0] & 0x0F) << 4 | d[1] >> 4 == 0xB8
    assert min_packet_len("udp", True) == 54 and min_packet_len("tcp", True) == 80
    assert len(_b("udp", packet_len=10).build(1, 1).datagram) == 54
    assert len(_b("icmp", packet_len=1400).build(1, 1).datagram) == 1400
    assert len(_b("tcp", packet_len=1400).build(1, 1).datagram) == 80  # always 80
    syn = _b("tcp", mss=1440).build(5, 3).datagram
    assert syn[53] == 0x02 and syn[52] >> 4 == 10 and syn[60:64] == b"\x02\x04\x05\xa0"
    assert _b("tcp").identify_tcp(struct.pack("!HHII", 80, 40000, 0, (0x6162 << 16 | 5) + 1)
                                  + bytes([0x50, 0x14]) + bytes(6)) == 5


def test_offload_leaves_the_pseudo_header_sum_for_the_device() -> None:
    b = _b("udp", offload=True)
    probes = [b.build(t, 5).datagram for t in (1, 2, 3)]
    want = ones_sum(pseudo_header(SRC, DST, 40, 17))
    assert {p[46] << 8 | p[47] for p in probes} == {want}
    # the device would complete it to the tag: the fixer made the sum come out so
    for tag, p in zip((1, 2, 3), probes, strict=True):
        seg = bytearray(p[40:])
        seg[6:8] = b"\0\0"
        full = 0xFFFF - ones_sum(pseudo_header(SRC, DST, 40, 17) + bytes(seg))
        assert full == tag
    assert b.identify_quote(probes[0]) == []  # no tag to read: the fixer bytes tell
    assert b.is_ours(probes[0]) and len({b.fixer_of(p) for p in probes}) == 3
    frame = bytes(14) + probes[0]
    frame = frame[:12] + b"\x86\xdd" + frame[14:]
    assert vnet_header(frame) == struct.pack("=BBHHHH", 1, 0, 0, 0, 54, 6)
    tcp = _b("tcp", offload=True).build(1, 1).datagram
    assert vnet_header(b"\0" * 12 + b"\x86\xdd" + tcp) == struct.pack("=BBHHHH", 1, 0, 0, 0,
                                                                      54, 16)
    icmp = _b("icmp").build(1, 1).datagram
    assert vnet_header(b"\0" * 12 + b"\x86\xdd" + icmp) == bytes(10)


def test_not_ours_is_not_identified() -> None:
    b = _b("udp")
    d = bytearray(b.build(5, 3).datagram)
    other = bytearray(d)
    other[24:40] = SRC  # another destination
    assert b.identify_quote(bytes(other)) == [] and not b.is_ours(bytes(other))
    other = bytearray(d)
    other[50:54] = b"zzzz"  # another nonce
    assert b.identify_quote(bytes(other)) == []
    v4 = ProbeBuilder("udp", bytes(4), bytes([10, 0, 0, 1])).build(5, 3).datagram
    assert b.identify_quote(v4) == [] and not b.is_ours(v4)
    icmp = _b("icmp")
    e = bytearray(icmp.build(5, 3).datagram)
    e[44:46] = b"\x99\x99"  # another pinger's identifier
    assert icmp.identify_quote(bytes(e)) == []
    assert _b("icmp").identify_echo_reply(bytes([129, 0, 0, 0, 0, 7, 0, 5]) + bytes(2)
                                          + b"abcd") == 5


def test_quote_l4_walks_extension_headers() -> None:
    b = _b("udp")
    d = b.build(9, 4).datagram
    assert quote_l4(d) == 40 and quote_l4(d[:39]) is None
    # a hop-by-hop header inserted before the UDP header (8 bytes of PadN)
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    head = IPv6Header.parse(d[:40])._replace(next_header=0)
    inserted = head.encode(hbh + d[40:])
    assert quote_l4(inserted) == 48
    found = b.identify_quote(inserted)
    assert found and found[0].tag == 9
    assert names(diff_quote6(d, inserted)) == ["length", "options"]
    # a later fragment holds no upper layer
    frags = fragment6(IPv6Header.parse(d[:40]), 17, d[40:], 1280, 5)
    later = IPv6Header(SRC, DST, 44).encode(bytes([17, 0, 0, 8 | 0]) + (5).to_bytes(4, "big")
                                            + bytes(16))
    assert quote_l4(frags[0]) == 48 and quote_l4(later) is None


# --- the diff ---

def _tc(d: bytearray, tc: int) -> None:
    d[0] = 0x60 | (tc >> 4)
    d[1] = ((tc & 0x0F) << 4) | (d[1] & 0x0F)


def test_hop_limit_is_expected_and_each_rewrite_has_its_name() -> None:
    sent = _b("udp").build(7, 9).datagram
    q = bytearray(sent)
    q[7] = 1  # Linux quotes 1 where it ran out
    assert diff_quote6(sent, bytes(q)) == []
    q[7] = 0
    assert names(diff_quote6(sent, bytes(q))) == ["ttl0"]
    cases = {
        "dscp": lambda d: _tc(d, 0x20),
        "ecn": lambda d: _tc(d, 0x03),
        "flow_label": lambda d: d.__setitem__(slice(2, 4), b"\x12\x34"),
        "length": lambda d: d.__setitem__(slice(4, 6), b"\x00\x30"),
        "protocol": lambda d: d.__setitem__(6, 6),
        "src": lambda d: d.__setitem__(slice(8, 24), ip6_bytes("fd00:10:77:24::1")),
        "dst": lambda d: d.__setitem__(39, 3),
        "sport": lambda d: d.__setitem__(slice(40, 42), b"\x01\x01"),
        "l4_checksum": lambda d: d.__setitem__(46, d[46] ^ 0xFF),
        "payload": lambda d: d.__setitem__(60, 0),
    }
    for name, mutate in cases.items():
        q = bytearray(sent)
        q[7] = 1
        mutate(q)
        assert names(diff_quote6(sent, bytes(q))) == [name], name
    q = bytearray(sent)
    q[8:24] = ip6_bytes("fd00:10:77:24::1")
    change = diff_quote6(sent, bytes(q))[0]
    assert (change.field, change.sent, change.quoted) == (
        "src", "fd00:10:77:1::2", "fd00:10:77:24::1")
    q = bytearray(sent)
    _tc(q, 0x20)
    change = diff_quote6(sent, bytes(q))[0]
    assert (change.sent, change.quoted, change.text()) == (0, 8, "dscp 0->8")


def test_truncated_padded_and_rfc4884_padding() -> None:
    sent = _b("udp").build(7, 9).datagram
    assert names(diff_quote6(sent, sent[:48])) == ["truncated"]
    assert [(c.sent, c.quoted) for c in diff_quote6(sent, sent[:48])] == [(80, 48)]
    assert names(diff_quote6(sent, sent[:30])) == ["truncated"]
    padded = sent + bytes(48)
    assert diff_quote6(sent, padded, rfc4884_padding=True) == []
    assert names(diff_quote6(sent, padded)) == ["padded"]
    assert names(diff_quote6(sent, sent + b"\x01")) == ["padded"]
    # a long probe quoted up to RFC 4443's 1232 bytes is not truncated; less is
    big = _b("udp", packet_len=1400).build(7, 9).datagram
    assert names(diff_quote6(big, big[:1232])) == []
    assert names(diff_quote6(big, big[:1000])) == ["truncated"]
    assert unpad(sent[:48] + bytes(80), 48) == sent[:48]
    assert unpad(bytes(60), 48) == bytes(48)


def test_a_fragment_is_diffed_against_the_first_fragment_sent() -> None:
    sent = _b("udp", packet_len=1400).build(7, 9).datagram
    frags = fragment6(IPv6Header.parse(sent[:40]), 17, sent[40:], 1280, 0xC0FFEE)
    quote = bytearray(frags[0])
    quote[7] = 1
    assert sent_as_quoted6(sent, bytes(quote)) == frags[0]
    assert diff_quote6(sent_as_quoted6(sent, bytes(quote)), bytes(quote)) == []
    assert sent_as_quoted6(sent, sent) == sent
    found = _b("udp", packet_len=1400).identify_quote(bytes(quote))
    assert found and found[0].tag == 7


def test_checksums_of_a_quote_left_as_the_nat_made_them() -> None:
    """A NAT66 that restores the quoted source but leaves the checksum it updated (or a
    device-completed one it updated as if complete): only the checksum differs."""
    sent = _b("udp").build(7, 9).datagram
    q = bytearray(sent)
    q[46:48] = b"\x4e\x2b"
    assert names(diff_quote6(sent, bytes(q))) == ["l4_checksum"]
    assert checksum_ok(pseudo_header(SRC, DST, 40, 17) + sent[40:])


# --- annotations ---

def test_traceroutes_icmpv6_annotations() -> None:
    assert annotation6(3, 0, None) is None  # hop limit exceeded in transit
    assert [annotation6(1, c, None) for c in range(9)] == [
        "!N", "!X", "!H", "!H", "", "!<5>", "!<6>", "!<7>", "!<8>"]
    assert annotation6(2, 0, 1280) == "!F-1280"
    assert annotation6(3, 1, None) == "!<3-1>"
    assert annotation6(4, 1, None) == "!<4-1>"
