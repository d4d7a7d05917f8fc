"""The tunnel, encapsulation and link-header codecs in the four shapes of test_codecs.py.

For each: parse known bytes (hand-written hex, from RFC layouts or taken from the corpus
captures named next to them), encode to exactly those bytes, round trip, and every cut
raises ``Truncated``.  Hypothesis round trips and never-raise properties for the same
codecs are in test_properties.py.
"""

from __future__ import annotations

import pytest

from pcapping.errors import Malformed, Truncated
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
from pcapping.wire.links import (
    ARCnetHeader,
    CiscoHDLC,
    FrameRelayHeader,
    IPNetHeader,
    IPoIBHeader,
    PPPHeader,
    SwitchTag,
    q922_address,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def four_shapes(cls, raw: bytes, value, parse=None, encode=None,  # noqa: ANN001
                shortest: int = 0) -> None:
    """parse(raw) == value, encode(value) == raw, parse(encode(value)) == value, and every
    cut of raw (from ``shortest`` bytes) raises Truncated."""
    parse = parse or cls.parse
    encode = encode or (lambda v: v.encode())
    assert parse(raw) == value
    assert encode(value) == raw
    assert parse(encode(value)) == value
    for n in range(shortest, len(raw)):
        with pytest.raises(Truncated):
            parse(raw[:n])


# -- tunnels ----------------------------------------------------------------------------

def test_udp_header() -> None:
    four_shapes(UDPHeader, h("b05d 12b5 0072 0000"), UDPHeader(45149, 4789, 114, 0))


def test_vxlan() -> None:
    # vxlan.pcap frame 1: flags I, VNI 100
    raw = h("08 000000 000064 00")
    four_shapes(VXLAN, raw, VXLAN(0x08, 100))
    assert VXLAN.parse(h("08 000001 00002a 07")) == VXLAN(8, 42, 1, 7)


def test_geneve() -> None:
    # geneve.pcap frame 1: 8 bytes of options, C flag, TEB, VNI 10
    raw = h("02 40 6558 00000a 00 0103 80 01 0000002a")
    value = Geneve(0x6558, 10, h("0103 80 01 0000002a"), 0x40)
    four_shapes(Geneve, raw, value)
    assert value.header_length == 16
    with pytest.raises(Malformed):
        Geneve.parse(h("40 00 0800 000001 00"))  # version 1


def test_gre_versions_and_fields() -> None:
    plain = h("0000 0800")
    four_shapes(GRE, plain, GRE(0x0800))
    keyed = h("3000 0800 00001234 00000007")  # K and S
    four_shapes(GRE, keyed, GRE(0x0800, 0x3000, key=0x1234, seq=7))
    summed = h("a000 0800 beef 0000 00000063")  # C and K: checksum, offset, key
    four_shapes(GRE, summed, GRE(0x0800, 0xA000, 0xBEEF, 0, key=99))
    pptp = h("3081 880b 00200007 00000001 00000000")  # v1: key (len, call), seq, ack
    four_shapes(GRE, pptp, GRE(0x880B, 0x3081, key=0x00200007, seq=1, ack=0))
    routed = h("4000 0800 0000 0000 0800 04 08 c0000201 c0000202 00000000")
    value = GRE(0x0800, 0x4000, 0, 0, routing=h("0800 04 08 c0000201 c0000202 00000000"))
    four_shapes(GRE, routed, value)
    assert value.header_length == len(routed)
    with pytest.raises(Malformed):
        GRE.parse(h("0002 0800"))


def test_erspan_types() -> None:
    # type II: version 1, VLAN 10, session 100, index 5
    four_shapes(ERSPAN, h("100a 0064 00000005"), ERSPAN(1, 100, vlan=10, index=5))
    # erspan-type-iii-ft-0.pcap frame 1: version 2, VLAN 20, timestamp, FT 0
    raw = h("2014 0000 a3595bff 0000 0006")
    value = ERSPAN(2, 0, vlan=20, timestamp=0xA3595BFF, word3=6)
    four_shapes(ERSPAN, raw, value)
    assert value.frame_type == 0 and value.header_length == 12
    with_platform = raw[:-2] + h("0007") + bytes(range(8))
    four_shapes(ERSPAN, with_platform, value._replace(word3=7, platform=bytes(range(8))))
    with pytest.raises(Malformed):
        ERSPAN.parse(h("3000 0000 00000000 0000 0000"))


def test_mpls_labels() -> None:
    # mpls-over-udp.pcap: label 21, bottom of stack, TTL 63
    four_shapes(MPLSLabel, h("0001513f"), MPLSLabel(21, 0, True, 63))
    assert MPLSLabel.parse(h("fffffe01")) == MPLSLabel(0xFFFFF, 7, False, 1)
    stack = h("0001 0a40 0001 113f")
    assert parse_label_stack(stack) == (MPLSLabel(16, 5, False, 64), MPLSLabel(17, 0, True, 63))
    for n in range(len(stack)):
        with pytest.raises(Truncated):
            parse_label_stack(stack[:n])


def test_pppoe() -> None:
    four_shapes(PPPoE, h("11 00 001c 0056"), PPPoE(0, 0x1C, 0x56))
    four_shapes(PPPoE, h("11 09 0000 0004"), PPPoE(9, 0, 4))


def test_llc_and_snap() -> None:
    four_shapes(LLC, h("aa aa 03"), LLC(0xAA, 0xAA, 3))
    four_shapes(LLC, h("f0 f0 0201"), LLC(0xF0, 0xF0, 0x0102))  # I frame: 2-byte control
    assert LLC(0xAA, 0xAA, 3).is_u and not LLC(0xF0, 0xF0, 0x0102).is_u
    # snap-arp.pcapng: OUI 0, EtherType ARP
    four_shapes(SNAP, h("000000 0806"), SNAP(0, 0x0806))


def test_pim() -> None:
    # PIM_register_register-stop.pcap frame 1: version 2 register, checksum deff
    four_shapes(PIM, h("21 00 deff 00000000"), PIM(2, 1, 0xDEFF, 0, 0))
    four_shapes(PIM, h("22 00 1628"), PIM(2, 2, 0x1628))


def test_macsec() -> None:
    # macsec-integonly.pcap: SC bit, AN 0, PN 68, SCI 2eb73f3995c30001
    raw = h("20 00 00000044 2eb73f3995c30001")
    value = MACsecTag(0x20, 68, 0, 0x2EB73F3995C30001)
    four_shapes(MACsecTag, raw, value)
    assert value.header_length == 14 and not value.encrypted and value.an == 0
    four_shapes(MACsecTag, h("0d 1e 00000045"), MACsecTag(0x0D, 69, 30))
    assert MACsecTag.parse(h("0d 1e 00000045")).encrypted
    with pytest.raises(Malformed):
        MACsecTag.parse(h("80 00 00000001"))


def test_bcm_li() -> None:
    # bcm-li.pcap: ingress, undecided, double VLAN tag, li-id 66666
    four_shapes(BCMLIShim, h("6881046a"), BCMLIShim(3, 4, 2, 66666))


# -- link headers -----------------------------------------------------------------------

def test_ppp_headers() -> None:
    # a lone ff is itself a whole header (a one-byte protocol), so cuts start at two bytes
    four_shapes(PPPHeader, h("ff03 0021"), PPPHeader(0x0021), shortest=2)
    assert PPPHeader.parse(h("ff")) == PPPHeader(0xFF, None, short_protocol=True)
    four_shapes(PPPHeader, h("0021"), PPPHeader(0x0021, None))
    four_shapes(PPPHeader, h("21"), PPPHeader(0x21, None, short_protocol=True))
    four_shapes(PPPHeader, h("0103 0021"), PPPHeader(0x0021, 0x01), shortest=2)  # pppd, out
    assert PPPHeader(0x0281).header_length == 4


def test_cisco_hdlc() -> None:
    # HDLC.pcap frame 1: broadcast SLARP
    four_shapes(CiscoHDLC, h("8f 00 8035"), CiscoHDLC(0x8F, 0x8035))


def test_ipoib() -> None:
    # ipoib.pcap frame 1
    raw = h("00" * 16 + "2fa3000a" + "80000550 fe800000000000000010e000664ab451" + "0800 0000")
    value = IPoIBHeader(0x0800, h("80000550 fe800000000000000010e000664ab451"),
                        h("00" * 16 + "2fa3000a"))
    four_shapes(IPoIBHeader, raw, value)
    assert value.qpn == 0x550 and value.gid == "fe80::10:e000:664a:b451"


def test_ipnet() -> None:
    # e1000g.pcap frame 1
    raw = h("01 02 0000 00000054 00000002 00000000 ffffffff 00000000")
    four_shapes(IPNetHeader, raw, IPNetHeader(2, 0, 0x54, 2, 0, 0xFFFFFFFF, 0))


def test_arcnet() -> None:
    # arcnet-rfc1201-arp-icmp-http.pcap frame 1 (Linux: a 2-byte offset after the ids)
    linux = h("be 00 ea08 d5 00 0165")
    value = ARCnetHeader(0xBE, 0x00, 0xD5, 0, 0x0165, True, 0xEA08)
    four_shapes(ARCnetHeader, linux, value, parse=lambda b: ARCnetHeader.parse(b, True))
    four_shapes(ARCnetHeader, h("be 50 f0"), ARCnetHeader(0xBE, 0x50, 240))  # RFC 1051
    four_shapes(ARCnetHeader, h("be 50 d4 01 0167"), ARCnetHeader(0xBE, 0x50, 212, 1, 0x167))
    exc = h("be 50 d4 ff ffff d4 00 0168")  # an exception frame (BSD)
    four_shapes(ARCnetHeader, exc, ARCnetHeader(0xBE, 0x50, 212, 0, 0x168, exception=True))


def test_frame_relay() -> None:
    # icmp-icmp_print-oobr-2.pcap: DLCI 33703 in a 3-byte address, Cisco EtherType IPv4
    hdr = FrameRelayHeader.parse(h("80 ea 9d 0800"))
    assert (hdr.dlci, len(hdr.address), hdr.cisco, hdr.protocol) == (33703, 3, True, 0x0800)
    assert hdr.flags == 0x000A0000  # DE and FECN, kept where tcpdump keeps them
    ui = h("1841 03 cc")
    assert FrameRelayHeader.parse(ui) == FrameRelayHeader(100, h("1841"), 0, 0xCC, False, 4)
    padded = FrameRelayHeader.parse(h("184001 03 00 cc"))
    assert padded.header_length == 6 and padded.protocol == 0xCC
    for raw in (ui, h("184001 03 00 cc")):
        for n in range(len(raw)):
            with pytest.raises(Truncated):
                FrameRelayHeader.parse(raw[:n])
    with pytest.raises(Malformed):
        q922_address(h("19 41"))


def test_switch_tags() -> None:
    # dsa.pcap frame 1: Forward, dev 0, port 1, untagged, VID 0
    tag = SwitchTag("dsa", h("c00a0000"))
    assert (tag.mode, tag.dev, tag.port, tag.vid, tag.tagged) == (3, 0, 1, 0, False)
    edsa = SwitchTag("edsa", h("dada0000 c0000000"))
    assert edsa.dsa == h("c0000000") and edsa.mode == 3
