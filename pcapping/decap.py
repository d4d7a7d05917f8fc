"""Decapsulation: the part of ``decode_frame`` beyond Ethernet, SLL, raw IP and loopback.

``decode.py`` calls in here for the link types it does not decode itself (``LINKS``:
PPP, PPP_SERIAL, PPP_ETHER, Cisco HDLC, Frame Relay, IPoIB, Solaris ipnet, ARCNET,
DSA/EDSA/Broadcom switch tags), for network protocols other than IPv4 and ARP (``step``:
MPLS, PPPoE, MACsec, 802.1Q inside a tunnel, transparent Ethernet bridging, 802.2
LLC/SNAP) and for an IPv4 payload that is itself a tunnel (``enter_ip``: IP-in-IP, GRE
with ERSPAN, PIM register, and UDP to VXLAN, OTV, Geneve, MPLS or the Broadcom LI shim).

What it finds goes on the ``Decoded`` as:

- ``d.link``: the frame's own link header (``PPPHeader``, ``CiscoHDLC``, ...);
- ``d.outer_ip``: the outermost IPv4 header, once a tunnel has been entered from it;
- ``d.encap``: every header between the link and the innermost network layer, outermost
  first, as ``Encap(kind, header, offset, extra)`` (IPv4 headers of nested tunnels are
  ``"ipv4"`` entries; an inner Ethernet frame is an ``"eth"`` entry);
- ``d.ethertype`` / ``d.l3_offset``: the innermost network protocol and where it starts,
  so ``d.ip``, ``d.icmp`` and ``d.arp`` are the innermost IPv4, ICMP and ARP.

``encap_dicts`` and ``link_dict`` give their ``sniff --json`` objects.  Which UDP ports
are tunnels follows tcpdump 4.99.3's port precedence (``wire.tunnelports.udp_tunnel``),
measured port by port against tcpdump, so the text and the JSON of a frame agree on what
it carries.  ``decode`` imports this module only when a frame needs it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from pcapping.errors import Malformed, Truncated
from pcapping.wire.checksum import checksum_ok
from pcapping.wire.encap import (
    ERSPAN,
    ERSPAN_II,
    ERSPAN_III,
    GRE,
    GRE_S,
    LLC,
    PIM,
    SNAP,
    VXLAN,
    BCMLIShim,
    Geneve,
    MACsecTag,
    PPPoE,
    UDPHeader,
    parse_label_stack,
)
from pcapping.wire.ethernet import TAG_TYPES, EthernetHeader, VLANTag, mac_str
from pcapping.wire.ipv4 import IPv4Header, ip_str
from pcapping.wire.links import (
    SWITCH_TAG_LENGTHS,
    ARCnetHeader,
    CiscoHDLC,
    FrameRelayHeader,
    IPNetHeader,
    IPoIBHeader,
    PPPHeader,
    SwitchTag,
)
from pcapping.wire.sll import LinuxSLL, LinuxSLL2
from pcapping.wire.tunnelports import TUNNEL_PORTS, udp_tunnel

if TYPE_CHECKING:
    from pcapping.decode import Decoded

MAX_ENCAP = 32  # headers in d.encap before a frame is called malformed (nesting bound)
MACSEC_ICV = 16


class Encap(NamedTuple):
    kind: str  # "vxlan", "gre", "mpls", "eth", "ipv4", ...
    header: Any  # the wire value (a NamedTuple of pcapping.wire), or None
    offset: int  # where the header starts in the frame
    extra: dict[str, Any] | None = None  # verdicts worked out while decoding


# -- IPv4 payloads that are tunnels ----------------------------------------------------------

IP_CARRIERS = frozenset((4, 17, 41, 47, 103))  # IP-in-IP, UDP (some ports), 6in4, GRE, PIM


def _push(d: Decoded, kind: str, header: Any, offset: int,
          extra: dict[str, Any] | None = None) -> None:
    encap = d.encap
    if encap is None:
        encap = d.encap = []
    if len(encap) >= MAX_ENCAP:
        raise Malformed("encap", f"more than {MAX_ENCAP} nested headers")
    encap.append(Encap(kind, header, offset, extra))


def _leave_ip(d: Decoded) -> None:
    """The current IPv4 header becomes a carrier: the outer one, or a nested tunnel's."""
    ip = d.ip
    if d.outer_ip is None:
        d.outer_ip = ip
    else:
        _push(d, "ipv4", ip, d.l3_offset)
    d.ip = None
    d.icmp = None
    d.ethertype = None  # until the tunnel shows what it carries


def enter_ip(d: Decoded, data: bytes, proto: int, begin: int, end: int) -> bytes | None:
    """If the IPv4 payload ``data[begin:end]`` (``d.ip`` its header) is a tunnel, record it,
    point ``d.ethertype``/``d.l3_offset`` at what it carries and return ``data`` cut at the
    datagram's end; None when it is not a tunnel (or carries nothing decodable)."""
    if proto == 17:
        if end - begin < 4:
            return None
        sport, dport = struct.unpack_from("!HH", data, begin)
        name = udp_tunnel(sport, dport, bytes(data[begin + 12: begin + 16])
                          if end - begin >= 16 else b"")
        if name is None:
            return None
        _leave_ip(d)
        data = data[:end]
        udp = UDPHeader.parse(data[begin:])
        _push(d, "udp", udp, begin)
        if udp.length >= 8:  # what the tunnel carries ends with the UDP datagram
            data = data[: begin + udp.length]
        return _udp_payload(d, data, name, begin + 8)
    if proto == 103 and not (end - begin >= 1 and data[begin] == 0x21):
        return None  # PIM messages other than a version 2 Register carry no packet
    _leave_ip(d)
    data = data[:end]
    if proto == 4:
        _push(d, "ipip", None, begin)
        d.ethertype, d.l3_offset = 0x0800, begin
        return data
    if proto == 41:  # IPv6 in IPv4 (RFC 4213: 6in4, 6to4, ISATAP)
        _push(d, "6in4", None, begin)
        d.ethertype, d.l3_offset = 0x86DD, begin
        return data
    if proto == 47:
        return _gre(d, data, begin)
    return _pim(d, data, begin)


def _udp_payload(d: Decoded, data: bytes, name: str, p: int) -> bytes | None:
    if name == "vxlan" or name == "otv":
        hdr = VXLAN.parse(data[p:])
        _push(d, name, hdr, p)
        return _inner_ether(d, data, p + 8)
    if name == "geneve":
        hdr = Geneve.parse(data[p:])
        _push(d, "geneve", hdr, p)
        q = p + hdr.header_length
        if hdr.protocol == 0x6558:
            return _inner_ether(d, data, q)
        d.ethertype, d.l3_offset = hdr.protocol, q
        return data
    if name == "mpls":
        d.ethertype, d.l3_offset = 0x8847, p
        return data
    shim = BCMLIShim.parse(data[p:])
    _push(d, "bcm_li", shim, p)
    q = p + 4
    if shim.pkt_type == 7:
        return _inner_ether(d, data, q)
    if shim.pkt_type in (4, 5, 6) and len(data) > q:
        version = data[q] >> 4
        if shim.pkt_type == 5 or (shim.pkt_type == 4 and version == 4):
            d.ethertype, d.l3_offset = 0x0800, q
            return data
        if shim.pkt_type == 6 or version == 6:
            d.ethertype, d.l3_offset = 0x86DD, q
            return data
    return None


def _inner_ether(d: Decoded, data: bytes, p: int) -> bytes:
    eth = EthernetHeader.parse(data[p:])
    _push(d, "eth", eth, p)
    d.ethertype, d.l3_offset = eth.ethertype, p + eth.header_length
    return data


def _gre(d: Decoded, data: bytes, p: int) -> bytes | None:
    gre = GRE.parse(data[p:])
    extra = None
    if gre.checksum is not None and gre.flags & 0x8000:
        extra = {"checksum_ok": checksum_ok(data[p:])}
    _push(d, "gre", gre, p, extra)
    q = p + gre.header_length
    proto = gre.protocol
    if gre.version == 1:
        if proto != 0x880B or not gre.flags & GRE_S:  # PPTP's enhanced GRE carries PPP
            return None
        return _ppp(d, data, q)
    if proto == 0x6558:
        return _inner_ether(d, data, q)
    if proto == ERSPAN_II and not gre.flags & GRE_S:  # type I: the frame follows directly
        _push(d, "erspan", None, q)
        return _inner_ether(d, data, q)
    if proto == ERSPAN_II or proto == ERSPAN_III:
        span = ERSPAN.parse(data[q:])
        _push(d, "erspan", span, q)
        r = q + span.header_length
        if span.frame_type == 2:
            d.ethertype, d.l3_offset = 0x0800 if len(data) > r and data[r] >> 4 == 4 \
                else 0x86DD, r
            return data
        return _inner_ether(d, data, r) if span.frame_type == 0 else None
    d.ethertype, d.l3_offset = proto, q
    return data


def _pim(d: Decoded, data: bytes, p: int) -> bytes | None:
    pim = PIM.parse(data[p:])
    extra = None
    if pim.register_flags is not None:
        # RFC 7761: the checksum covers the Register header only (or, from some senders,
        # the whole message)
        if len(data) >= p + 8:
            extra = {"checksum_ok": checksum_ok(data[p: p + 8]) or checksum_ok(data[p:])}
    _push(d, "pim", pim, p, extra)
    if pim.register_flags is None:
        return None
    q = p + 8
    if len(data) <= q:
        return None
    version = data[q] >> 4
    if version == 4:
        d.ethertype, d.l3_offset = 0x0800, q
    elif version == 6:
        d.ethertype, d.l3_offset = 0x86DD, q
    else:
        return None
    return data


# -- network protocols other than IPv4 and ARP -----------------------------------------------

_PPP_TO_ETHERTYPE = {0x0021: 0x0800, 0x0800: 0x0800, 0x002D: None, 0x0057: 0x86DD,
                     0x86DD: 0x86DD, 0x0281: 0x8847, 0x0283: 0x8848}


def _ppp(d: Decoded, data: bytes, p: int) -> bytes | None:
    ppp = PPPHeader.parse(data[p:])
    _push(d, "ppp", ppp, p)
    return _after_ppp(d, data, ppp, p)


def _after_ppp(d: Decoded, data: bytes, ppp: PPPHeader, p: int) -> bytes | None:
    etype = _PPP_TO_ETHERTYPE.get(ppp.protocol)
    if etype is None:
        return None
    d.ethertype, d.l3_offset = etype, p + ppp.header_length
    return data


def step(d: Decoded, data: bytes) -> bytes | None:
    """Decode the header at ``d.l3_offset`` for ``d.ethertype`` (not IPv4, not ARP), move
    ``d.ethertype``/``d.l3_offset`` past it and return the bytes that bound what follows;
    None when nothing more can be decoded."""
    etype = d.ethertype
    p = d.l3_offset
    if etype == 0x8847 or etype == 0x8848:
        labels = parse_label_stack(data[p:])
        _push(d, "mpls", labels, p)
        q = p + 4 * len(labels)
        last = labels[-1].label
        if last in (0, 3):
            d.ethertype = 0x0800
        elif last == 2:
            d.ethertype = 0x86DD
        elif len(data) > q and 0x45 <= data[q] <= 0x4F:
            d.ethertype = 0x0800
        elif len(data) > q and 0x60 <= data[q] <= 0x6F:
            d.ethertype = 0x86DD
        else:
            return None
        d.l3_offset = q
        return data
    if etype == 0x8864 or etype == 0x8863:
        pppoe = PPPoE.parse(data[p:])
        _push(d, "pppoe", pppoe, p)
        if pppoe.code != 0:
            return None
        data = data[: p + 6 + pppoe.length]
        return _ppp(d, data, p + 6)
    if etype == 0x88E5:
        tag = MACsecTag.parse(data[p:])
        _push(d, "macsec", tag, p)
        if tag.encrypted:
            return None
        q = p + tag.header_length
        end = len(data) - MACSEC_ICV
        if tag.short_length:  # the length of the secure data (its EtherType included)
            end = min(end, q + tag.short_length)
        if end < q + 2:
            raise Truncated("macsec", q + 2 + MACSEC_ICV, len(data))
        data = data[:end]
        d.ethertype, d.l3_offset = struct.unpack_from("!H", data, q)[0], q + 2
        return data
    if etype in TAG_TYPES:
        if len(data) < p + 4:
            raise Truncated("vlan", p + 4, len(data))
        tci, inner = struct.unpack_from("!HH", data, p)
        _push(d, "vlan", VLANTag.unpack(etype, tci), p)
        d.ethertype, d.l3_offset = inner, p + 4
        return data
    if etype == 0x6558:
        return _inner_ether(d, data, p)
    if etype is not None and etype <= 1500:
        if d.encap is None and isinstance(d.link, LinuxSLL | LinuxSLL2):
            # a Linux protocol number, not a length: 4 is 802.2 LLC
            return _llc(d, data, p) if etype == 4 else None
        return _llc(d, data[: p + etype], p)  # an 802.3 length bounds the LLC frame
    return None


def _llc(d: Decoded, data: bytes, p: int) -> bytes | None:
    llc = LLC.parse(data[p:])
    _push(d, "llc", llc, p)
    q = p + llc.header_length
    dsap, ssap = llc.dsap & 0xFE, llc.ssap & 0xFE
    if dsap == 0xAA and ssap == 0xAA and llc.control == 3:
        snap = SNAP.parse(data[q:])
        _push(d, "snap", snap, q)
        if snap.oui in (0, 0xF8) or (snap.oui == 0x080007 and snap.pid == 0x809B):
            d.ethertype, d.l3_offset = snap.pid, q + 5
            return data
        if snap.oui == 0x0080C2 and snap.pid in (1, 7):  # RFC 2684 bridged Ethernet
            return _inner_ether(d, data, q + 5 + 2)
        return None
    if dsap == 0x06 and ssap == 0x06 and llc.control == 3:  # RFC 948 IP over 802.2
        d.ethertype, d.l3_offset = 0x0800, q
        return data
    return None


# -- link types ------------------------------------------------------------------------------

def _link_ppp(d: Decoded, data: bytes) -> None:
    ppp = PPPHeader.parse(data)
    d.link = ppp
    _after_ppp(d, data, ppp, 0)


def _link_ppp_serial(d: Decoded, data: bytes) -> None:
    if len(data) >= 1 and data[0] in (0x0F, 0x8F):  # Cisco HDLC framing on a PPP link
        _link_chdlc(d, data)
        return
    _link_ppp(d, data)


def _link_ppp_ether(d: Decoded, data: bytes) -> bytes:
    pppoe = PPPoE.parse(data)
    d.link = pppoe
    data = data[: 6 + pppoe.length]
    if pppoe.code == 0:
        ppp = PPPHeader.parse(data[6:])
        _push(d, "ppp", ppp, 6)
        _after_ppp(d, data, ppp, 6)
    return data


def _link_chdlc(d: Decoded, data: bytes) -> None:
    hdlc = CiscoHDLC.parse(data)
    d.link = hdlc
    d.ethertype, d.l3_offset = hdlc.protocol, 4


def _link_ipoib(d: Decoded, data: bytes) -> None:
    hdr = IPoIBHeader.parse(data)
    d.link = hdr
    d.ethertype, d.l3_offset = hdr.protocol, 44


def _link_ipnet(d: Decoded, data: bytes) -> None:
    hdr = IPNetHeader.parse(data)
    d.link = hdr
    d.l3_offset = 24
    d.ethertype = 0x0800 if hdr.family == 2 else 0x86DD if hdr.family == 26 else None


_ARC_TO_ETHERTYPE = {240: 0x0800, 212: 0x0800, 241: 0x0806, 213: 0x0806, 214: 0x8035,
                     0xC4: 0x86DD}


def _link_arcnet(d: Decoded, data: bytes, linux: bool) -> None:
    hdr = ARCnetHeader.parse(data, linux)
    d.link = hdr
    d.l3_offset = hdr.header_length
    if hdr.flag and not hdr.flag & 1 and not linux:
        return  # a middle fragment of a split packet: no network header here
    d.ethertype = _ARC_TO_ETHERTYPE.get(hdr.arc_type)


_NLPID_TO_ETHERTYPE = {0xCC: 0x0800, 0x8E: 0x86DD}


def _link_fr(d: Decoded, data: bytes) -> None:
    hdr = FrameRelayHeader.parse(data)
    d.link = hdr
    d.l3_offset = hdr.header_length
    if hdr.cisco:
        d.ethertype = hdr.protocol
    elif hdr.protocol == 0x80:  # SNAP
        snap = SNAP.parse(data[hdr.header_length:])
        _push(d, "snap", snap, hdr.header_length)
        if snap.oui in (0, 0xF8):
            d.ethertype, d.l3_offset = snap.pid, hdr.header_length + 5
    elif hdr.protocol == 0xCF:
        ppp = PPPHeader.parse(data[hdr.header_length:])
        _push(d, "ppp", ppp, hdr.header_length)
        _after_ppp(d, data, ppp, hdr.header_length)
    else:
        d.ethertype = _NLPID_TO_ETHERTYPE.get(hdr.protocol)


def _switch_tagged(d: Decoded, data: bytes, linktype: int) -> None:
    taglen = SWITCH_TAG_LENGTHS[linktype]
    if len(data) < 14 + taglen:
        raise Truncated("ethernet", 14 + taglen, len(data))
    kind = {281: "brcm", 284: "dsa", 285: "edsa"}[linktype]
    _push(d, kind, SwitchTag(kind, bytes(data[12: 12 + taglen])), 12)
    eth = EthernetHeader.parse(data[:12] + data[12 + taglen:])
    d.link = eth
    d.ethertype, d.l3_offset = eth.ethertype, eth.header_length + taglen


# link type -> decoder of its header; one that bounds its payload returns the bytes it ends
LINKS: dict[int, Callable[[Decoded, bytes], bytes | None]] = {
    9: _link_ppp, 166: _link_ppp, 50: _link_ppp_serial, 51: _link_ppp_ether,
    104: _link_chdlc, 242: _link_ipoib, 226: _link_ipnet, 107: _link_fr,
    7: lambda d, data: _link_arcnet(d, data, False),
    129: lambda d, data: _link_arcnet(d, data, True),
    281: lambda d, data: _switch_tagged(d, data, 281),
    284: lambda d, data: _switch_tagged(d, data, 284),
    285: lambda d, data: _switch_tagged(d, data, 285),
}


# -- JSON --------------------------------------------------------------------------------------

def _ip_fields(ip: IPv4Header) -> dict[str, Any]:
    from pcapping.decode import ip_dict

    return ip_dict(ip)


def encap_dicts(encap: list[Encap]) -> list[dict[str, Any]]:
    """The ``"encap"`` list of ``sniff --json``: one object per header, outermost first."""
    return [_encap_dict(e) for e in encap]


def _encap_dict(e: Encap) -> dict[str, Any]:
    kind, h = e.kind, e.header
    out: dict[str, Any] = {"type": kind}
    if kind in ("vxlan", "otv"):
        if kind == "vxlan":
            out["vni"] = h.vni
        else:
            out["overlay"], out["instance"] = h.reserved1, h.vni
        out["flags"] = h.flags
    elif kind == "geneve":
        out.update(vni=h.vni, protocol=h.protocol, flags=h.flags,
                   options_length=len(h.options))
    elif kind == "udp":
        out.update(sport=h.sport, dport=h.dport, len=h.length, checksum=h.checksum)
    elif kind == "gre":
        out.update(version=h.version, protocol=h.protocol, flags=h.flags)
        for name in ("checksum", "key", "seq", "ack"):
            value = getattr(h, name)
            if value is not None:
                out[name] = value
    elif kind == "erspan":
        if h is None:
            out["version"] = 0  # type I: no ERSPAN header
        else:
            out.update(version=h.version, session=h.session, vlan=h.vlan, cos=h.cos)
            if h.version == 1:
                out["index"] = h.index
            else:
                out.update(timestamp=h.timestamp, sgt=h.sgt, frame_type=h.frame_type)
    elif kind == "mpls":
        out["labels"] = [{"label": m.label, "tc": m.tc, "bottom": m.bottom, "ttl": m.ttl}
                         for m in h]
    elif kind == "pppoe":
        out.update(code=h.code, session=h.session, len=h.length)
    elif kind == "ppp":
        out.update(address=h.address, protocol=h.protocol)
    elif kind == "llc":
        out.update(dsap=h.dsap, ssap=h.ssap, control=h.control)
    elif kind == "snap":
        out.update(oui=h.oui, pid=h.pid)
    elif kind == "pim":
        out.update(version=h.version, ptype=h.ptype, checksum=h.checksum)
        if h.register_flags is not None:
            out["flags"] = h.register_flags
    elif kind == "macsec":
        out.update(an=h.an, pn=h.pn, tci=h.tci_an & 0xFC, short_length=h.short_length,
                   sci=None if h.sci is None else f"{h.sci:016x}", encrypted=h.encrypted)
    elif kind == "eth":
        out.update(src=mac_str(h.src), dst=mac_str(h.dst), ethertype=h.ethertype)
        if h.vlans:
            out["vlan"] = [tag.vid for tag in h.vlans]
    elif kind == "vlan":
        out.update(vid=h.vid, pcp=h.pcp, dei=h.dei, tpid=h.tpid)
    elif kind == "ipv4":
        out.update(_ip_fields(h))
    elif kind == "bcm_li":
        out.update(direction=h.direction, pkt_type=h.pkt_type, pkt_subtype=h.pkt_subtype,
                   li_id=h.li_id)
    elif kind in ("dsa", "edsa", "brcm"):
        out["tag"] = h.tag.hex()
        if kind != "brcm":
            out.update(mode=h.mode, dev=h.dev, port=h.port, vid=h.vid, tagged=h.tagged)
    if e.extra:
        out.update(e.extra)
    return out


def link_dict(link: Any) -> tuple[str, dict[str, Any]] | None:
    """(key, object) of ``sniff --json`` for a link header decoded here, or None."""
    if isinstance(link, PPPHeader):
        return "ppp", {"address": link.address, "control": link.control,
                       "protocol": link.protocol}
    if isinstance(link, CiscoHDLC):
        return "chdlc", {"address": link.address, "control": link.control,
                         "protocol": link.protocol}
    if isinstance(link, IPoIBHeader):
        return "ipoib", {"dst_qpn": link.qpn, "dgid": link.gid, "type": link.protocol}
    if isinstance(link, IPNetHeader):
        return "ipnet", {"version": link.version, "family": link.family,
                         "htype": link.htype, "pktlen": link.pktlen,
                         "ifindex": link.ifindex, "grifindex": link.grifindex,
                         "zsrc": link.zsrc, "zdst": link.zdst}
    if isinstance(link, ARCnetHeader):
        out = {"src": link.src, "dst": link.dst, "type": link.arc_type}
        if link.flag is not None:
            out["split_flag"], out["sequence"] = link.flag, link.seqid
        return "arcnet", out
    if isinstance(link, FrameRelayHeader):
        out = {"dlci": link.dlci, "address_length": len(link.address), "flags": link.flags}
        out["ethertype" if link.cisco else "nlpid"] = link.protocol
        return "fr", out
    if isinstance(link, PPPoE):
        return "pppoe", {"code": link.code, "session": link.session, "len": link.length}
    return None


def ip_partial(data: bytes, start: int, end: int) -> dict[str, Any] | None:
    """What an IPv4 header that could not be decoded (cut, bogus IHL) still shows: every
    field whose bytes are there, None for the others; the checksum cannot be verified."""
    n = min(end, len(data)) - start
    if n < 1:
        return None

    def word(off: int) -> int | None:
        return (data[start + off] << 8) | data[start + off + 1] if n >= off + 2 else None

    frag = word(6)
    return {
        "src": ip_str(data[start + 12: start + 16]) if n >= 16 else None,
        "dst": ip_str(data[start + 16: start + 20]) if n >= 20 else None,
        "ttl": data[start + 8] if n >= 9 else None,
        "proto": data[start + 9] if n >= 10 else None,
        "id": word(4), "len": word(2), "ihl": data[start] & 15,
        "tos": data[start + 1] if n >= 2 else None,
        "df": None if frag is None else bool(frag & 0x4000),
        "mf": None if frag is None else bool(frag & 0x2000),
        "frag_offset": None if frag is None else frag & 0x1FFF,
        "checksum": word(10), "checksum_ok": None,
    }


def icmp_partial(data: bytes, start: int, end: int) -> dict[str, Any] | None:
    """A cut ICMP header (under 8 bytes): type, code, checksum and identifier where their
    bytes are there (as tshark shows them); the checksum cannot be verified."""
    n = min(end, len(data)) - start
    if n < 1:
        return None
    itype = data[start]
    has_id = itype in (0, 8, 13, 14, 15, 16, 17, 18)
    return {
        "type": itype, "code": data[start + 1] if n >= 2 else None,
        "checksum": (data[start + 2] << 8) | data[start + 3] if n >= 4 else None,
        "checksum_ok": None,
        "id": (data[start + 4] << 8) | data[start + 5] if n >= 6 and has_id else None,
        "seq": None,
    }


__all__ = [
    "Encap", "IP_CARRIERS", "LINKS", "TUNNEL_PORTS", "encap_dicts", "enter_ip",
    "icmp_partial", "ip_partial", "link_dict", "step", "udp_tunnel",
]
