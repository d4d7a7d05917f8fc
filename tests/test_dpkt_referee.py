"""dpkt as referee: every frame of every capture under ``captures/`` decodes to the same fields.

For each frame pcapping's ``decode_frame`` and dpkt (``Ethernet``, ``SLL``, ``SLL2``,
``Loopback``, ``IP``) must agree on MACs, VLAN ids, EtherType, ARP fields, IPv4 fields and
checksum verdict (dpkt side: ``dpkt.in_cksum`` over the raw header), ICMP type, code,
checksum, id/seq and verdict, and the quoted datagram's addresses and protocol; for IPv6
(``_compare_ip6``): addresses, next header, hop limit, payload length, flow label, traffic
class, the extension chain (kinds in order, routing and fragment fields, upper-layer
protocol), ICMPv6 type, code, checksum, echo id/seq, MTU, pointer and the checksum verdict
worked out here from dpkt's fields (pseudo-header with dpkt's final destination and
``dpkt.in_cksum``).  Where dpkt cannot parse a damaged frame, pcapping must report a problem
instead of raising.  Frames that
pcapping encodes must parse in dpkt to the fields they were built from.
"""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from pcapping.decode import Decoded, decode_frame
from pcapping.io.pcapfile import PcapReader
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import BROADCAST, EthernetHeader, VLANTag
from pcapping.wire.icmp import ICMPEcho, ICMPError, ICMPOther
from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error
from pcapping.wire.ipv4 import IPv4Header, ip_bytes
from pcapping.wire.ipv6 import FragmentHeader, RoutingHeader, ext_kind
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
FILES = sorted(p for p in CAPTURES.rglob("*") if p.suffix in (".pcap", ".pcapng"))
SUPPORTED = frozenset((0, 1, 101, 108, 113, 228, 229, 276))


def test_there_are_captures() -> None:
    names = {p.name for p in FILES}
    assert {"echo.pcap", "truncated.pcap", "sll2.pcap", "null.pcap"} <= names
    assert len(FILES) > 40


def _dpkt_link(data: bytes, linktype: int) -> tuple[object, int, int | None]:
    """(dpkt link object or None, network-layer offset, EtherType or None); may raise."""
    if linktype == 1:
        eth = dpkt.ethernet.Ethernet(data)
        tags = getattr(eth, "vlan_tags", None) or []
        etype = eth._next_type if tags else eth.type
        return eth, 14 + 4 * len(tags), etype if eth.type > 1500 else None
    if linktype == 113:
        sll = dpkt.sll.SLL(data)
        return (sll, *_untag(data, 16, sll.ethtype))
    if linktype == 276:
        sll2 = dpkt.sll2.SLL2(data)
        return (sll2, *_untag(data, 20, sll2.ethtype))
    if linktype in (0, 108):
        lo = dpkt.loopback.Loopback(data)
        return lo, 4, 0x0800 if lo.family == 2 else 0x86DD if lo.family in (
            10, 24, 28, 30) else None
    version = data[0] >> 4 if data else None  # raw IP: the version nibble decides, as in tcpdump
    return None, 0, {4: 0x0800, 6: 0x86DD}.get(version)


def _untag(data: bytes, off: int, etype: int) -> tuple[int, int]:
    """802.1Q tags a cooked capture left in place (dpkt leaves them to the caller)."""
    while etype == 0x8100:
        if len(data) < off + 4:
            raise dpkt.NeedData("vlan")
        etype = struct.unpack_from("!H", data, off + 2)[0]
        off += 4
    return off, etype


def check_frame(data: bytes, linktype: int) -> list[str]:
    """Every disagreement between pcapping and dpkt on one frame (empty: they agree)."""
    d = decode_frame(data, linktype)
    out: list[str] = []

    def same(what: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            out.append(f"{what}: pcapping {ours!r} dpkt {theirs!r}")

    try:
        link, off, etype = _dpkt_link(data, linktype)
    except (dpkt.UnpackError, IndexError) as exc:  # NeedData; dpkt's MPLS guess can index
        if not d.problems and not d.encap:  # an empty payload (pcapping records the stack)
            out.append(f"dpkt cannot parse the link layer ({exc!r}), pcapping saw no problem")
        return out
    _compare_link(d, link, linktype, same)
    if d.encap or d.outer_ip is not None:  # decapsulated: dpkt referees the outer layers
        _compare_outer(d, data, off, etype, same)
        return out
    if d.link is not None or linktype in (101, 228, 229):
        if etype is not None:
            same("ethertype", d.ethertype, etype)
        same("l3 offset", d.l3_offset, off)
    if etype == 0x0806 and d.ethertype == 0x0806:
        _compare_arp(d, data[off:], same, out)
    if d.ethertype == 0x0800 and etype == 0x0800:
        _compare_ip(d, data, off, same, out)
    if d.ethertype == 0x86DD and etype == 0x86DD:
        _compare_ip6(d, data, off, same, out)
    return out


def _compare_outer(d: Decoded, data: bytes, off: int, etype: int | None, same) -> None:
    """The link's EtherType, and the IPv4 header a tunnel was entered from."""
    link = d.link
    ours = link.ethertype if isinstance(link, EthernetHeader) else getattr(
        link, "protocol", None)
    if etype is not None and ours is not None:
        same("link ethertype", ours, etype)
    if d.outer_ip is None or etype != 0x0800:
        return
    ref = dpkt.ip.IP(data[off:])
    ip = d.outer_ip
    same("outer ip src", ip.src, ref.src)
    same("outer ip dst", ip.dst, ref.dst)
    same("outer ip proto", ip.protocol, ref.p)
    same("outer ip len", ip.total_length, ref.len)
    same("outer ip checksum verdict", ip.checksum_ok,
         dpkt.in_cksum(data[off: off + ref.hl * 4]) == 0)


def _compare_link(d: Decoded, link: object, linktype: int, same) -> None:
    if linktype == 1:
        assert isinstance(d.link, EthernetHeader)
        same("eth dst", d.link.dst, link.dst)
        same("eth src", d.link.src, link.src)
        tags = getattr(link, "vlan_tags", None) or []
        same("vlan ids", [t.vid for t in d.link.vlans][:2], [t.id for t in tags])
        same("vlan pcp", [t.pcp for t in d.link.vlans][:2], [t.pri for t in tags])
    elif linktype == 113:
        assert isinstance(d.link, LinuxSLL)
        same("sll packet type", d.link.packet_type, link.type)
        same("sll hatype", d.link.arphrd_type, link.hrd)
        same("sll halen", d.link.address_length, link.hlen)
        same("sll address", d.link.address, link.hdr[: link.hlen])
        same("sll protocol", d.link.protocol, link.ethtype)
    elif linktype == 276:
        assert isinstance(d.link, LinuxSLL2)
        same("sll2 ifindex", d.link.ifindex, link.intindex)
        same("sll2 packet type", d.link.packet_type, link.type)
        same("sll2 hatype", d.link.arphrd_type, link.hrd)
        same("sll2 address", d.link.address, link.hdr[: link.hlen])
        same("sll2 protocol", d.link.protocol, link.ethtype)
    elif linktype in (0, 108):
        assert isinstance(d.link, NullHeader)
        if link.family == 2:
            same("null family", d.link.family, 2)


def _compare_arp(d: Decoded, raw: bytes, same, out: list[str]) -> None:
    standard = len(raw) >= 6 and raw[4] == 6 and raw[5] == 4
    try:
        ref = dpkt.arp.ARP(raw)
    except dpkt.UnpackError:
        if d.arp is not None and standard:
            out.append("dpkt cannot parse an ARP packet pcapping decoded")
        elif d.arp is None and not d.problems:
            out.append("dpkt cannot parse the ARP packet, pcapping saw no problem")
        return
    if d.arp is None:
        if standard:
            out.append(f"pcapping did not decode an ARP packet dpkt did: {d.problems}")
        return
    a = d.arp
    same("arp hardware type", a.hardware_type, ref.hrd)
    same("arp protocol type", a.protocol_type, ref.pro)
    same("arp hlen", a.hw_len, ref.hln)
    same("arp plen", a.proto_len, ref.pln)
    same("arp op", a.op, ref.op)
    if standard:
        same("arp sha", a.sha, ref.sha)
        same("arp spa", a.spa, ref.spa)
        same("arp tha", a.tha, ref.tha)
        same("arp tpa", a.tpa, ref.tpa)


def _compare_ip(d: Decoded, data: bytes, off: int, same, out: list[str]) -> None:
    raw = data[off:]
    try:
        ref = dpkt.ip.IP(raw)
    except dpkt.UnpackError as exc:
        if d.ip is not None:
            out.append(f"dpkt cannot parse an IPv4 header pcapping decoded: {exc!r}")
        elif not d.problems:
            out.append("dpkt cannot parse the IPv4 header, pcapping saw no problem")
        return
    if d.ip is None:
        # dpkt checks neither the version nor total length >= IHL: pcapping must complain
        if not d.problems:
            out.append("dpkt parsed an IPv4 header pcapping dropped without a problem")
        return
    ip = d.ip
    hl = ref.hl * 4
    same("ip src", ip.src, ref.src)
    same("ip dst", ip.dst, ref.dst)
    same("ip ttl", ip.ttl, ref.ttl)
    same("ip proto", ip.protocol, ref.p)
    same("ip id", ip.ident, ref.id)
    same("ip len", ip.total_length, ref.len)
    same("ip header length", ip.header_length, hl)
    same("ip tos", ip.tos, ref.tos)
    same("ip df", ip.df, bool(ref.df))
    same("ip mf", ip.mf, bool(ref.mf))
    same("ip frag offset (8-byte units)", ip.frag_offset, ref.offset)
    same("ip checksum", ip.checksum, ref.sum)
    same("ip checksum verdict", ip.checksum_ok, dpkt.in_cksum(raw[:hl]) == 0)
    same("ip options", ip.options, ref.opts)
    if ref.p != 1:
        same("icmp (not ICMP)", d.icmp, None)
        return
    if ref.offset:
        same("icmp in a non-first fragment", d.icmp, None)
        return
    icmp_raw = raw[hl : ref.len]
    ref_icmp = ref.data if isinstance(ref.data, dpkt.icmp.ICMP) else None
    if d.icmp is None:
        if not d.problems:
            out.append("no ICMP decoded and no problem reported")
        if len(icmp_raw) >= 8 and ref_icmp is not None:
            out.append("dpkt decoded an ICMP header of 8+ bytes that pcapping did not")
        return
    if ref_icmp is None:
        out.append(f"dpkt did not parse ICMP that pcapping did ({len(icmp_raw)} bytes)")
        return
    _compare_icmp(d, ref, ref_icmp, icmp_raw, same, out)


def _compare_icmp(d: Decoded, ref_ip, icmp, icmp_raw: bytes, same, out: list[str]) -> None:
    m = d.icmp
    same("icmp type", m.icmp_type, icmp.type)
    same("icmp code", m.code, icmp.code)
    same("icmp checksum", m.checksum, icmp.sum)
    whole = len(icmp_raw) == ref_ip.len - ref_ip.hl * 4 and not ref_ip.mf
    if whole:
        same("icmp checksum verdict", m.checksum_ok, dpkt.in_cksum(icmp_raw) == 0)
    else:
        same("icmp checksum verdict (unverifiable)", m.checksum_ok, None)
    if isinstance(m, ICMPEcho):
        same("echo id", m.ident, icmp.data.id)
        same("echo seq", m.seq, icmp.data.seq)
    elif isinstance(m, ICMPOther) and m.ident is not None:
        same("icmp id/seq", (m.ident, m.seq), struct.unpack_from("!HH", icmp_raw, 4))
    if isinstance(m, ICMPError):
        if m.mtu is not None:
            same("next-hop mtu", m.mtu, icmp.data.mtu)
        if m.gateway is not None:
            same("redirect gateway", m.gateway, struct.pack("!I", icmp.data.gw))
        quote = getattr(icmp.data, "ip", None)
        q = m.quoted
        if q.ip is None:
            if q.problem is None:
                out.append("quoted datagram unreadable but no problem recorded")
        elif isinstance(quote, dpkt.ip.IP):
            same("quoted ip src", q.ip.src, quote.src)
            same("quoted ip dst", q.ip.dst, quote.dst)
            same("quoted ip proto", q.ip.protocol, quote.p)
            same("quoted ip ttl", q.ip.ttl, quote.ttl)
            same("quoted ip checksum", q.ip.checksum, quote.sum)
            qraw = m.payload[: quote.hl * 4]
            same("quoted ip verdict", q.ip.checksum_ok, dpkt.in_cksum(qraw) == 0)
        if q.icmp is not None and isinstance(quote, dpkt.ip.IP):
            inner = quote.data
            if isinstance(inner, dpkt.icmp.ICMP):
                same("quoted icmp type", q.icmp.icmp_type, inner.type)
                same("quoted icmp code", q.icmp.code, inner.code)
                if isinstance(q.icmp, ICMPEcho) and isinstance(inner.data, dpkt.icmp.ICMP.Echo):
                    same("quoted echo id/seq", (q.icmp.ident, q.icmp.seq),
                         (inner.data.id, inner.data.seq))


_DPKT_EXT = {dpkt.ip6.IP6HopOptsHeader: 0, dpkt.ip6.IP6RoutingHeader: 43,
             dpkt.ip6.IP6FragmentHeader: 44, dpkt.ip6.IP6AHHeader: 51,
             dpkt.ip6.IP6ESPHeader: 50, dpkt.ip6.IP6DstOptsHeader: 60}


def _compare_ip6(d: Decoded, data: bytes, off: int, same, out: list[str]) -> None:
    raw = data[off:]
    try:
        ref = dpkt.ip6.IP6(raw)
    except (dpkt.UnpackError, struct.error, IndexError) as exc:
        if d.ip6 is not None and not d.problems:
            out.append(f"dpkt cannot parse an IPv6 datagram pcapping decoded cleanly: {exc!r}")
        elif d.ip6 is None and not d.problems:
            out.append("dpkt cannot parse the IPv6 header, pcapping saw no problem")
        return
    if d.ip6 is None:  # dpkt does not check the version
        if not d.problems:
            out.append("dpkt parsed an IPv6 header pcapping dropped without a problem")
        return
    ip6 = d.ip6
    same("ip6 src", ip6.src, ref.src)
    same("ip6 dst", ip6.dst, ref.dst)
    same("ip6 next header", ip6.next_header, ref.nxt)
    same("ip6 hop limit", ip6.hop_limit, ref.hlim)
    same("ip6 payload length", ip6.payload_length, ref.plen)
    same("ip6 flow label", ip6.flow_label, ref.flow)
    same("ip6 traffic class", ip6.traffic_class, ref.fc)
    chain = d.ip6_ext
    assert chain is not None
    if chain.error is not None or ip6.payload_length == 0:
        if not d.problems and ip6.payload_length:
            out.append("an extension walk error without a problem recorded")
        return
    theirs = ref.all_extension_headers
    kinds = [ext_kind(h) for h in chain.headers]
    # dpkt walks through ESP as if it were an extension header; pcapping stops there
    if theirs and _DPKT_EXT.get(type(theirs[-1])) == 50:
        theirs = theirs[:-1]
        same("upper layer (ESP)", chain.protocol, 50)
    else:
        same("upper layer protocol", chain.protocol, getattr(ref, "p", ref.nxt))
    same("extension kinds", kinds, [_DPKT_EXT.get(type(x)) for x in theirs])
    for ours, their in zip(chain.headers, theirs, strict=False):
        if isinstance(ours, RoutingHeader) and isinstance(their, dpkt.ip6.IP6RoutingHeader):
            same("routing type", ours.routing_type, their.type)
            same("segments left", ours.segments_left, their.segs_left)
            if ours.routing_type in (0, 2):
                same("routing addresses", list(ours.addresses), their.addresses)
        if isinstance(ours, FragmentHeader) and isinstance(their, dpkt.ip6.IP6FragmentHeader):
            same("fragment offset", ours.frag_offset, their.frag_off)
            same("fragment M", ours.more, bool(their.m_flag))
            same("fragment id", ours.ident, their.id)
    if chain.protocol != 58 or not chain.upper_layer_present:
        same("icmp6 without an ICMPv6 upper layer", d.icmp6, None)
        return
    msg_raw = data[d.l4_offset:d.l4_end]
    icmp = ref.data if isinstance(ref.data, dpkt.icmp6.ICMP6) else None
    if d.icmp6 is None:
        if not d.problems:
            out.append("no ICMPv6 decoded and no problem reported")
        if icmp is not None and len(msg_raw) >= 8:
            out.append("dpkt decoded an ICMPv6 header of 8+ bytes that pcapping did not")
        return
    if icmp is None:
        if len(msg_raw) >= 4:
            out.append(f"dpkt did not parse ICMPv6 that pcapping did ({len(msg_raw)} bytes)")
        return
    m = d.icmp6
    same("icmp6 type", m.icmp_type, icmp.type)
    same("icmp6 code", m.code, icmp.code)
    same("icmp6 checksum", m.checksum, icmp.sum)
    whole = off + 40 + ref.plen <= len(data)
    fragmented = any(isinstance(x, dpkt.ip6.IP6FragmentHeader) and (x.frag_off or x.m_flag)
                     for x in theirs)
    if whole and not fragmented:
        final = ref.dst
        for x in theirs:
            if isinstance(x, dpkt.ip6.IP6RoutingHeader) and x.segs_left and x.addresses:
                final = x.addresses[0] if x.type == 4 else x.addresses[-1]
        pseudo = ref.src + final + struct.pack("!IxxxB", len(msg_raw), 58)
        same("icmp6 checksum verdict", m.checksum_ok, dpkt.in_cksum(pseudo + msg_raw) == 0)
    else:
        same("icmp6 checksum verdict (unverifiable)", m.checksum_ok, None)
    body = icmp.data
    if isinstance(m, ICMP6Echo) and isinstance(body, dpkt.icmp6.ICMP6.Echo):
        same("echo6 id/seq", (m.ident, m.seq), (body.id, body.seq))
    if isinstance(m, ICMP6Error):
        if m.mtu is not None and isinstance(body, dpkt.icmp6.ICMP6.TooBig):
            same("packet too big mtu", m.mtu, body.mtu)
        if m.pointer is not None and isinstance(body, dpkt.icmp6.ICMP6.ParamProb):
            same("parameter problem pointer", m.pointer, body.ptr)
        q = m.quoted
        if q.ip6 is None:
            if q.problem is None:
                out.append("quoted datagram unreadable but no problem recorded")
        elif isinstance(getattr(body, "ip6", None), dpkt.ip6.IP6):
            same("quoted ip6 src", q.ip6.src, body.ip6.src)
            same("quoted ip6 dst", q.ip6.dst, body.ip6.dst)
            same("quoted ip6 next header", q.ip6.next_header, body.ip6.nxt)


def _records(path: Path):
    yield from enumerate(PcapReader(str(path)), 1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CAPTURES)))
def test_every_frame_agrees_with_dpkt(path: Path) -> None:
    problems = []
    seen = 0
    for number, rec in _records(path):
        if rec.linktype not in SUPPORTED:
            continue
        seen += 1
        for msg in check_frame(rec.data, rec.linktype):
            problems.append(f"frame {number}: {msg}")
    if seen == 0:
        pytest.skip("no frame of a supported link type")
    assert not problems, "\n".join(problems[:30])


# -- crafted fixtures decode to what the script put in them --------------------

def _decoded(name: str) -> list[Decoded]:
    path = CAPTURES / name
    return [decode_frame(r.data, r.linktype, length=r.length) for r in PcapReader(str(path))]


def test_unreach_codes_fixture() -> None:
    frames = _decoded("unreach-codes.pcap")
    assert [(f.icmp.icmp_type, f.icmp.code) for f in frames[:16]] == [(3, c) for c in range(16)]
    assert frames[4].icmp.mtu == 1280
    assert all(f.icmp.checksum_ok and f.ip.checksum_ok and not f.problems for f in frames)
    for seq, f in enumerate(frames[:16], 1):
        assert f.icmp.quoted.icmp.seq == seq


def test_bad_checksums_fixture() -> None:
    f = _decoded("bad-checksums.pcap")
    verdicts = [(x.ip.checksum_ok, x.icmp.checksum_ok) for x in f]
    assert verdicts[:4] == [(True, True), (False, True), (True, False), (False, False)]
    nat = f[4].icmp
    assert nat.checksum_ok and nat.quoted.ip.checksum_ok is False
    assert f[5].icmp.checksum_ok and f[5].icmp.quoted.icmp.checksum_ok is False
    assert f[6].ip.checksum == 0 and f[6].ip.checksum_ok is False


def test_padding_stays_out_of_checksums_and_lengths() -> None:
    for f in _decoded("padding.pcap"):
        assert len(f.data) >= 60 and not f.problems
        if f.icmp is not None:
            assert f.icmp.checksum_ok and f.ip.checksum_ok
            assert f.l4_end - f.l3_offset == f.ip.total_length
        else:
            assert f.arp is not None and f.arp.length == 28


def test_truncated_fixture_every_frame_truncated() -> None:
    for f in _decoded("truncated.pcap"):
        assert f.caplen < f.length
        quoted_cut = isinstance(f.icmp, ICMPError)
        assert f.truncated or quoted_cut, f.to_dict()


def test_fragments_fixture() -> None:
    f = _decoded("fragments.pcap")
    assert [x.icmp is not None for x in f[:3]] == [True, False, False]
    assert f[0].icmp.checksum_ok is None  # the rest of the message is in other frames
    assert f[-1].icmp is None and f[-1].truncated  # 4 bytes of ICMP header


def test_malformed_fixture_reports_problems() -> None:
    f = _decoded("malformed.pcap")
    for i in (0, 1, 2, 4, 5):
        assert f[i].ip is None and f[i].malformed, f[i].to_dict()
    assert not f[3].problems


# -- frames pcapping encodes, parsed by dpkt ---------------------------------

CLIENT_MAC = bytes.fromhex("020000000102")
ROUTER_MAC = bytes.fromhex("020000000101")


@pytest.mark.parametrize("tags", [(), (VLANTag(0x8100, 3, 0, 42),),
                                  (VLANTag(0x88A8, 0, 0, 7), VLANTag(0x8100, 0, 1, 9))])
@pytest.mark.parametrize("size", [0, 56, 1472])
def test_encoded_echo_request_parses_in_dpkt(tags: tuple, size: int) -> None:
    payload = bytes(range(256)) * 6
    echo = ICMPEcho(False, 0xBEEF, 7, payload[:size])
    ip = IPv4Header(ip_bytes("10.77.1.2"), ip_bytes("10.77.3.2"), 1, ttl=5, ident=0x4242,
                    flags=0x4000)
    frame = EthernetHeader(ROUTER_MAC, CLIENT_MAC, 0x0800, tags).encode() + ip.encode(
        echo.encode())
    eth = dpkt.ethernet.Ethernet(frame)
    assert (eth.dst, eth.src) == (ROUTER_MAC, CLIENT_MAC)
    assert [t.id for t in getattr(eth, "vlan_tags", [])] == [t.vid for t in tags]
    ref = eth.data
    assert isinstance(ref, dpkt.ip.IP)
    assert (ref.src, ref.dst, ref.ttl, ref.id, ref.p, ref.df) == (ip.src, ip.dst, 5, 0x4242, 1, 1)
    assert ref.len == 28 + size
    assert dpkt.in_cksum(frame[14 + 4 * len(tags):][:20]) == 0
    icmp = ref.data
    assert (icmp.type, icmp.code, icmp.data.id, icmp.data.seq) == (8, 0, 0xBEEF, 7)
    assert icmp.data.data == payload[:size]
    assert dpkt.in_cksum(frame[14 + 4 * len(tags) + 20:]) == 0
    assert check_frame(frame, 1) == []


@pytest.mark.parametrize("op", [1, 2])
def test_encoded_arp_parses_in_dpkt(op: int) -> None:
    pkt = ARPPacket(op, CLIENT_MAC, ip_bytes("10.77.1.2"), bytes(6), ip_bytes("10.77.1.1"))
    frame = EthernetHeader(BROADCAST, CLIENT_MAC, 0x0806).encode() + pkt.encode()
    ref = dpkt.ethernet.Ethernet(frame).data
    assert isinstance(ref, dpkt.arp.ARP)
    assert (ref.hrd, ref.pro, ref.hln, ref.pln, ref.op) == (1, 0x0800, 6, 4, op)
    assert (ref.sha, ref.spa, ref.tha, ref.tpa) == (pkt.sha, pkt.spa, pkt.tha, pkt.tpa)
    assert check_frame(frame, 1) == []


def test_encoded_error_and_cooked_headers_parse_in_dpkt() -> None:
    inner = IPv4Header(ip_bytes("10.77.1.2"), ip_bytes("10.77.3.2"), 1, ttl=1).encode(
        ICMPEcho(False, 1, 2, b"x" * 8).encode())
    err = ICMPError(3, 4, inner[:28], b"\0\0\x05\x00").encode()
    ip = IPv4Header(ip_bytes("10.77.2.2"), ip_bytes("10.77.1.2"), 1).encode(err)
    for linktype, head in (
        (113, LinuxSLL(0, 1, ROUTER_MAC, 0x0800).encode()),
        (276, LinuxSLL2(0x0800, 3, 1, 0, ROUTER_MAC).encode()),
        (0, NullHeader(2, False).encode()),
        (108, NullHeader(2, True).encode()),
        (101, b""),
    ):
        assert check_frame(head + ip, linktype) == []
    ref = dpkt.ip.IP(ip)
    assert ref.data.data.mtu == 1280
    assert ref.data.data.ip.data.data.seq == 2
