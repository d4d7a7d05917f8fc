"""The pure parts of trace: probe building (Paris flows), the quoted-datagram diff, and
RFC 4884/4950/5837 extension objects (parsing, traceroute's text, JSON), on known bytes."""

from __future__ import annotations

import struct

import pytest

from pcapping.errors import Malformed
from pcapping.probe.flows import METHODS, ProbeBuilder, min_packet_len, verify
from pcapping.probe.quote_diff import FIELDS, diff_quote, names, sent_as_quoted, unpad
from pcapping.wire.checksum import checksum_ok, ones_sum
from pcapping.wire.ext import (
    ExtObject,
    ICMPExtension,
    InterfaceInfo,
    MplsEntry,
    extension_dict,
    extension_text,
    locate_extension,
    mpls_object,
    mpls_stack,
)
from pcapping.wire.frag import fragment_ipv4
from pcapping.wire.icmp import ICMPError, parse_icmp

SRC = bytes([10, 0, 0, 1])
DST = bytes([10, 0, 9, 9])


# --- probes ---

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("paris", [True, False])
def test_probes_verify_and_carry_their_tag(method: str, paris: bool) -> None:
    b = ProbeBuilder(method, SRC, DST, paris=paris, sport=40000, nonce=b"abcd", ident=7)
    for tag in (1, 2, 0x1234, 0xFFFE):
        sent = b.build(tag, 9)
        d = sent.datagram
        assert verify(d), (method, tag)
        assert len(d) == 60 and d[8] == 9 and d[16:20] == DST
        assert (d[4] << 8 | d[5]) == tag  # the IP identification is the tag
        found = b.identify_quote(d)
        assert found and found[0].tag == tag
        # a RFC 792 quote (header and 8 bytes) still identifies it
        assert tag in [c.tag for c in b.identify_quote(d[:28])]


def test_paris_udp_keeps_the_flow_and_puts_the_tag_in_the_checksum() -> None:
    b = ProbeBuilder("udp", SRC, DST, sport=40000, nonce=b"abcd")
    probes = [b.build(t, 5).datagram for t in range(1, 50)]
    assert {p[20:24] for p in probes} == {struct.pack("!HH", 40000, 33434)}
    assert [p[26] << 8 | p[27] for p in probes] == list(range(1, 50))
    flow3 = b.build(60, 5, flow=3).datagram
    assert flow3[20:24] == struct.pack("!HH", 40003, 33434)


def test_paris_icmp_keeps_its_checksum_constant() -> None:
    b = ProbeBuilder("icmp", SRC, DST, nonce=b"abcd", ident=0x4242)
    probes = [b.build(t, 5).datagram for t in range(1, 80)]
    assert len({p[20:24] for p in probes}) == 1  # type, code, checksum: one flow
    assert [p[26] << 8 | p[27] for p in probes] == list(range(1, 80))
    assert len({b.build(9, 5, flow=f).datagram[22:24] for f in range(8)}) == 8


def test_classic_changes_the_flow_every_probe() -> None:
    udp = ProbeBuilder("udp", SRC, DST, paris=False, sport=40000)
    ports = [udp.build(t, 1).datagram[22:24] for t in range(1, 4)]
    assert ports == [struct.pack("!H", 33434 + i) for i in range(3)]
    icmp = ProbeBuilder("icmp", SRC, DST, paris=False)
    assert len({icmp.build(t, 1).datagram[22:24] for t in range(1, 9)}) == 8
    tcp = ProbeBuilder("tcp", SRC, DST, paris=False, sport=40000)
    assert [tcp.build(t, 1).datagram[20:22] for t in (1, 2)] == [
        struct.pack("!H", 40000), struct.pack("!H", 40001)]


def test_tcp_syn_has_traceroutes_options() -> None:
    d = ProbeBuilder("tcp", SRC, DST, sport=40000, mss=1460).build(5, 3).datagram
    assert d[33] == 0x02 and d[32] >> 4 == 10  # SYN, 40-byte header
    assert d[40:44] == bytes([2, 4, 0x05, 0xB4]) and d[44:46] == b"\x04\x02"
    assert d[46] == 8 and d[56:60] == b"\x01\x03\x03\x02"


def test_offload_leaves_the_pseudo_header_sum_for_the_device() -> None:
    b = ProbeBuilder("udp", SRC, DST, sport=40000, offload=True)
    d = b.build(77, 4).datagram
    pseudo = d[12:20] + struct.pack("!BBH", 0, 17, 40)
    assert (d[26] << 8 | d[27]) == ones_sum(pseudo)
    # what the device computes is the tag, as without offload
    seg = bytearray(d[20:])
    seg[6:8] = b"\0\0"
    full = 0xFFFF - ones_sum(pseudo + bytes(seg))
    assert full == 77
    assert [c.by for c in b.identify_quote(d)] == ["ip_id"]  # the checksum says nothing
    big = ProbeBuilder("udp", SRC, DST, packet_len=3000, offload=True, mtu=1500)
    assert not big.offload and verify(big.build(3, 3).datagram)


def test_not_ours_is_not_identified() -> None:
    b = ProbeBuilder("udp", SRC, DST, nonce=b"abcd")
    other = ProbeBuilder("udp", SRC, DST, nonce=b"zzzz").build(5, 5).datagram
    assert b.identify_quote(other) == []
    elsewhere = ProbeBuilder("udp", SRC, bytes([1, 2, 3, 4])).build(5, 5).datagram
    assert b.identify_quote(elsewhere) == []
    icmp = ProbeBuilder("icmp", SRC, DST, ident=1)
    assert icmp.identify_quote(ProbeBuilder("icmp", SRC, DST, ident=2).build(3, 3).datagram) == []


def test_min_packet_len_and_sizes() -> None:
    assert min_packet_len("udp") == 34 and min_packet_len("tcp") == 60
    assert len(ProbeBuilder("udp", SRC, DST, packet_len=10).build(1, 1).datagram) == 34
    assert len(ProbeBuilder("icmp", SRC, DST, packet_len=1400).build(1, 1).datagram) == 1400
    assert len(ProbeBuilder("tcp", SRC, DST, packet_len=1400).build(1, 1).datagram) == 60


# --- the quoted-datagram diff ---

def _udp() -> bytes:
    return ProbeBuilder("udp", SRC, DST, sport=40000, nonce=b"abcd").build(300, 4).datagram


def _fix_ip(b: bytearray) -> bytearray:
    b[10:12] = b"\0\0"
    s = 0xFFFF - ones_sum(bytes(b[:(b[0] & 15) * 4]))
    b[10:12] = s.to_bytes(2, "big")
    return b


def test_ttl_and_its_checksum_are_expected() -> None:
    sent = _udp()
    q = bytearray(sent)
    q[8] = 1
    assert diff_quote(sent, bytes(_fix_ip(q))) == []


def test_each_rewrite_has_its_name() -> None:
    sent = _udp()
    q = bytearray(sent)
    q[1] = (8 << 2) | 1  # DSCP cs1, ECT(1)
    q[4:6] = b"\x99\x99"
    q[12:16] = bytes([10, 0, 0, 77])
    q[20:22] = b"\x12\x34"
    q[26:28] = b"\xab\xcd"
    q[40] ^= 0xFF
    changes = diff_quote(sent, bytes(_fix_ip(q)))
    assert names(changes) == ["dscp", "ecn", "ip_id", "src", "sport", "l4_checksum", "payload"]
    by = {c.field: c for c in changes}
    assert (by["dscp"].sent, by["dscp"].quoted) == (0, 8)
    assert (by["src"].sent, by["src"].quoted) == ("10.0.0.1", "10.0.0.77")
    assert by["l4_checksum"].text() == "l4_checksum 0x12c->0xabcd"


def test_ttl0_truncated_padded_and_a_checksum_left_wrong() -> None:
    sent = _udp()
    q = bytearray(sent)
    q[8] = 0
    assert names(diff_quote(sent, bytes(_fix_ip(q)))) == ["ttl0"]
    assert names(diff_quote(sent, bytes(_fix_ip(bytearray(sent)))[:28])) == ["truncated"]
    cut = diff_quote(sent, sent[:28])
    assert [(c.sent, c.quoted) for c in cut] == [(60, 28)]
    assert names(diff_quote(sent, sent + bytes(68), rfc4884_padding=True)) == []
    assert names(diff_quote(sent, sent + b"junk")) == ["padded"]
    bad = bytearray(sent)
    bad[12:16] = bytes([10, 0, 0, 77])  # rewritten, IP checksum not fixed
    bad[12:16] = sent[12:16]
    bad[10] ^= 1
    assert "ip_checksum" in names(diff_quote(sent, bytes(bad)))
    assert names(diff_quote(sent, b"\x45\x00")) == ["truncated"]


def test_length_options_and_protocol_fields() -> None:
    sent = _udp()
    q = bytearray(sent)
    q[2:4] = (61).to_bytes(2, "big")
    assert names(diff_quote(sent, bytes(_fix_ip(q)))) == ["length"]
    with_opts = bytearray(b"\x46" + sent[1:20] + b"\x01\x01\x01\x00" + sent[20:])
    with_opts[2:4] = (64).to_bytes(2, "big")
    _fix_ip(with_opts)
    q = bytearray(with_opts)
    q[22] = 0x07
    assert names(diff_quote(bytes(with_opts), bytes(_fix_ip(q)))) == ["options"]
    icmp = ProbeBuilder("icmp", SRC, DST, ident=9).build(5, 5).datagram
    q = bytearray(icmp)
    q[24:26] = b"\x00\x0a"  # echo identifier rewritten (ICMP NAT)
    assert names(diff_quote(icmp, bytes(q))) == ["icmp_id"]
    tcp = ProbeBuilder("tcp", SRC, DST, sport=40000).build(5, 5).datagram
    q = bytearray(tcp)
    q[24:28] = b"\0\0\0\1"
    q[36:38] = b"\0\1"
    assert names(diff_quote(tcp, bytes(q))) == ["l4_checksum", "tcp_seq"]
    assert set(FIELDS) >= {"src", "sport", "l4_checksum", "dscp", "ecn", "ip_id", "length",
                           "options", "ttl0", "truncated"}


# --- extensions ---

def test_mpls_entries_pack_and_parse() -> None:
    e = MplsEntry(16, 5, True, 1)
    assert e.pack() == bytes.fromhex("00010b01")
    assert MplsEntry.unpack(0x00010B01) == e
    obj = mpls_object([MplsEntry(24001, 0, False, 254), MplsEntry(16, 0, True, 1)])
    assert mpls_stack(obj) == (MplsEntry(24001, 0, False, 254), MplsEntry(16, 0, True, 1))
    assert mpls_stack(ExtObject(1, 1, b"\0\0\1")) is None
    assert mpls_stack(ExtObject(1, 2, b"\0\0\1\1")) is None


def test_traceroute_text_for_each_object_kind() -> None:
    ext = ICMPExtension((
        mpls_object([MplsEntry(24001, 0, False, 254), MplsEntry(16, 0, True, 1)]),
        InterfaceInfo(0, ifindex=15, address=bytes([10, 10, 10, 10]), name="ge-0/0/1",
                      mtu=1500).to_object(),
        ExtObject(9, 3, bytes.fromhex("deadbeef0102")),
    ))
    assert extension_text(ext) == (
        "MPLS:L=24001,E=0,S=0,T=254/L=16,E=0,S=1,T=1;"
        'INC:15,10.10.10.10,"ge-0/0/1",mtu=1500;9/3:deadbeef')


def test_interface_info_round_trip_and_roles() -> None:
    for role, tag in enumerate(("INC", "SUB", "OUT", "NXT")):
        info = InterfaceInfo(role, ifindex=3, address=bytes(16), name="x", mtu=9000)
        obj = info.to_object()
        assert obj.c_type == (role << 6) | 0x0F
        assert InterfaceInfo.from_object(obj) == info._replace(afi=2)
        assert extension_text(ICMPExtension((obj,))).startswith(f"{tag}:3,::,")
    with pytest.raises(Malformed):
        InterfaceInfo.from_object(ExtObject(2, 0x08, b"\0\0"))  # ifIndex cut
    with pytest.raises(Malformed):
        InterfaceInfo.from_object(ExtObject(2, 0x02, b"\x05abcd\0\0\0"))  # length 5


def test_locate_extension_compliant_noncompliant_and_bad_checksum() -> None:
    quote = bytes(range(28))
    ext = ICMPExtension((mpls_object([MplsEntry(100, 0, True, 1)]),)).encode()
    err = ICMPError.build(11, 0, quote, extension=ext)
    assert err.rest[1] == 32 and len(err.payload) == 128 + len(ext)
    found = err.extension
    assert found is not None and found.compliant and found.quote[:28] == quote
    assert found.extension is not None and found.extension.checksum_ok
    old = ICMPError.build(11, 0, quote, extension=ext, compliant=False)
    assert old.rest[1] == 0
    f2 = old.extension
    assert f2 is not None and not f2.compliant and extension_text(f2.extension) == (
        "MPLS:L=100,E=0,S=1,T=1")
    # length field 0 and a wrong checksum: not an extension (what traceroute and tcpdump say)
    spoilt = bytearray(old.payload)
    spoilt[-1] ^= 1
    assert locate_extension(bytes(spoilt), 0) is None
    # length set and a wrong checksum: kept, with the verdict
    spoilt = bytearray(err.payload)
    spoilt[-1] ^= 1
    f3 = locate_extension(bytes(spoilt), 32)
    assert f3 is not None and f3.extension is not None and f3.extension.checksum_ok is False
    d = extension_dict(f3)
    assert d["checksum_ok"] is False and d["objects"][0]["mpls"][0]["label"] == 100
    assert ICMPError.build(11, 0, quote).extension is None


# The IP datagram of frame 1 of tcpdump's tests/icmp-rfc5837.pcap (a PPP capture; BSD
# licence, captures/tcpdump/LICENSE): a Time Exceeded from a router older than RFC 4884
# (length field 0, structure at 128) with an Interface Information object.
RFC5837_DATAGRAM = bytes.fromhex(
    "450000f0e7204000fe017ade0a0400020c0404040b00ccff0000000045000028"
    "a55100000111f76a0c0404040c010101a54b82a0001400000000000000000000"
    + "00" * 64 +
    "000000000000000000000000000000000000000000000000000000002000246c"
    "0050020e0000000f000100000a0a0a0a40546869732d69732d7468652d6e616d"
    "652d6f662d7468652d496e746572666163652d746861742d77652d6172652d6c"
    "6f6f6b696e672d666f722d5b3a2d295d")


def test_rfc5837_datagram_from_tcpdumps_tests() -> None:
    ip = RFC5837_DATAGRAM
    assert len(ip) == 240 and checksum_ok(ip[20:])
    msg = parse_icmp(ip[20:])
    assert isinstance(msg, ICMPError)
    found = msg.extension
    assert found is not None and not found.compliant
    assert extension_text(found.extension) == (
        'INC:15,10.10.10.10,"This-is-the-name-of-the-Interface-that-we-are-looking-for-[:-)]"')
    obj = extension_dict(found)["objects"][0]
    assert (obj["kind"], obj["role"], obj["ifindex"], obj["address"]) == (
        "interface", "incoming", 15, "10.10.10.10")


def test_a_fragment_is_diffed_against_the_fragment_we_sent() -> None:
    big = ProbeBuilder("udp", SRC, DST, packet_len=3000).build(9, 4).datagram
    first = fragment_ipv4(big, 1500)[0]
    quote = bytearray(first[:548])
    quote[8] = 1
    quote = bytes(_fix_ip(quote))
    assert sent_as_quoted(big, quote) == first
    assert names(diff_quote(sent_as_quoted(big, quote), quote)) == []  # 548: RFC 1812's
    assert names(diff_quote(big, quote)) == ["length", "flags"]  # (against the whole)
    assert sent_as_quoted(big, big[:28]) == big  # not a fragment: the datagram itself


def test_unpad_keeps_28_bytes_and_what_is_not_zero() -> None:
    assert unpad(bytes(range(1, 29)) + bytes(100)) == bytes(range(1, 29))
    assert unpad(bytes(20) + b"\1" + bytes(107)) == bytes(20) + b"\1" + bytes(7)
    assert unpad(b"ab") == b"ab"
