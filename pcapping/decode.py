"""One decode path: ``decode_frame(data, linktype)`` never raises.

Every problem found on the way (a cut at any layer, a bogus header length, an
unknown link type) is recorded as a string in ``Decoded.problems`` and the
layers decoded before it are kept.  ``Decoded.to_dict()`` is exactly the
``sniff --json`` object of DESIGN.md.

IPv6 (EtherType 0x86DD on every link type) is decoded by ``pcapping.decode6``:
``Decoded.ip6``, ``ip6_ext`` (the extension chain), ``icmp6`` and ``ndp``, and the
``ip6`` / ``icmp6`` JSON layers documented there.

Link types beyond Ethernet, SLL, raw IP and loopback, and everything carried inside
another protocol (tunnels, MPLS, PPPoE, MACsec, LLC/SNAP, ...), are decoded by
``pcapping.decap``; the innermost IPv4/ICMP/ARP then land in ``ip``/``icmp``/``arp`` as
usual, the outer IPv4 header in ``outer_ip`` and the headers in between in ``encap``.
The network layer is one dispatch, ``_NETWORK`` (EtherType -> decoder), used at every
depth, so a protocol registered there is decoded inside every encapsulation too.

``tally()`` is the same decision process without building any objects, for
``sniff -q`` on large files; ``tests/test_properties.py`` checks it agrees with
``decode_frame`` frame for frame (fixtures and mutated bytes).
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from pcapping.decode6 import count6, decode_ipv6, layers6, probe_dict, tally6
from pcapping.errors import DecodeError, Malformed, Truncated
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import EthernetHeader, mac_str
from pcapping.wire.ext import extension_dict
from pcapping.wire.icmp import (
    ERROR_TYPES,
    ICMPEcho,
    ICMPError,
    ICMPMessage,
    ICMPOther,
    QuotedDatagram,
    parse_icmp,
)
from pcapping.wire.icmp6 import ICMP6Message
from pcapping.wire.ipv4 import IPv4Header, ip_str
from pcapping.wire.ipv6 import ExtChain, IPv6Header
from pcapping.wire.ndp import NDPMessage
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader
from pcapping.wire.tunnelports import may_be_tunnel

if TYPE_CHECKING:
    from pcapping.decap import Encap

# decap (link types beyond the four here, tunnels, encapsulations) is imported the first
# time a frame needs it: plain Ethernet, and `send`, never load it.
_DECAP_LINKTYPES = frozenset((7, 9, 50, 51, 104, 107, 129, 166, 226, 242, 281, 284, 285))


def _decap():  # noqa: ANN202
    from pcapping import decap

    return decap


class LinkType(IntEnum):
    NULL = 0
    ETHERNET = 1
    ARCNET_BSD = 7
    PPP = 9
    RAW_OPENBSD = 14
    RAW_DLT = 12
    PPP_SERIAL = 50
    PPP_ETHER = 51
    RAW = 101
    C_HDLC = 104
    LOOP = 108
    LINUX_SLL = 113
    ARCNET_LINUX = 129
    PPP_PPPD = 166
    IPNET = 226
    IPV4 = 228
    IPV6 = 229
    IPOIB = 242
    LINUX_SLL2 = 276
    DSA_TAG_BRCM = 281
    DSA_TAG_DSA = 284
    DSA_TAG_EDSA = 285


RAW_TYPES = frozenset((12, 14, 101, 228, 229))
LinkHeader = EthernetHeader | LinuxSLL | LinuxSLL2 | NullHeader


class Decoded:
    """A decoded frame: every layer that could be decoded, plus the problems met.

    ``ip``, ``icmp`` and ``arp`` are the innermost ones; a frame that carries them inside
    a tunnel also has ``outer_ip`` (the outermost IPv4 header) and ``encap`` (the headers
    in between, outermost first: ``decap.Encap`` values).  ``net_end`` bounds the
    innermost network layer when an encapsulation ends before the frame does.
    """

    __slots__ = (
        "frame", "ts_sec", "ts_usec", "caplen", "length", "linktype", "data",
        "link", "ethertype", "l3_offset", "arp", "ip", "l4_offset", "l4_end", "icmp",
        "problems", "truncated", "malformed", "ip6", "ip6_ext", "icmp6", "ndp",
        "outer_ip", "encap", "net_end",
    )

    def __init__(
        self, data: bytes, linktype: int, frame: int, ts_sec: int, ts_usec: int, length: int
    ) -> None:
        self.data = data
        self.linktype = linktype
        self.frame = frame
        self.ts_sec = ts_sec
        self.ts_usec = ts_usec
        self.caplen = len(data)
        self.length = length
        self.link: LinkHeader | None = None
        self.ethertype: int | None = None  # network protocol carried by the link layer
        self.l3_offset = 0
        self.arp: ARPPacket | None = None
        self.ip: IPv4Header | None = None
        self.l4_offset = 0  # IPv4 payload / IPv6 upper layer: data[l4_offset:l4_end]
        self.l4_end = 0
        self.icmp: ICMPMessage | None = None
        self.ip6: IPv6Header | None = None
        self.ip6_ext: ExtChain | None = None  # IPv6 extension headers and upper layer
        self.icmp6: ICMP6Message | None = None
        self.ndp: NDPMessage | None = None  # RS/RA/NS/NA/redirect, parsed
        self.problems: list[str] = []
        self.truncated = False  # some layer wanted more bytes than were captured
        self.malformed = False  # some header made no sense
        self.outer_ip: IPv4Header | None = None
        self.encap: list[Encap] | None = None
        self.net_end: int | None = None

    @property
    def ts(self) -> float:
        return self.ts_sec + self.ts_usec / 1e6

    @property
    def error(self) -> str | None:
        return self.problems[0] if self.problems else None

    @property
    def is_icmp(self) -> bool:
        return self.ip is not None and self.ip.protocol == 1

    @property
    def is_icmp6(self) -> bool:
        """An IPv6 datagram whose extension chain ends in ICMPv6 (NDP and MLD included)."""
        return self.ip6_ext is not None and self.ip6_ext.protocol == 58

    def _problem(self, exc: DecodeError) -> None:
        self.problems.append(str(exc))
        if isinstance(exc, Truncated):
            self.truncated = True
        else:
            self.malformed = True

    def to_dict(self) -> dict[str, Any]:
        """The ``sniff --json`` object.

        Besides DESIGN.md's keys: ``"outer_ip"`` (the outermost IPv4 header of a tunnelled
        frame, with ``ip``'s fields) and ``"encap"`` (a list of ``{"type": ...}`` objects,
        one per header between the link and the innermost network layer, e.g.
        ``{"type": "udp", ...}, {"type": "vxlan", "vni": 42, ...}, {"type": "eth", ...}``;
        see ``decap.encap_dicts``); the link header of the newer link types under its own
        key (``"ppp"``, ``"chdlc"``, ``"ipoib"``, ``"ipnet"``, ``"arcnet"``, ``"pppoe"``).
        An IPv4 header that could not be decoded (cut, bogus IHL) still gives the fields
        whose bytes are there, and a cut ICMP header its type, code, checksum and
        identifier, with ``null`` for the rest and for the checksum verdict.
        """
        out: dict[str, Any] = {
            "frame": self.frame, "ts": round(self.ts, 6), "caplen": self.caplen,
            "len": self.length,
        }
        link = self.link
        if isinstance(link, EthernetHeader):
            eth: dict[str, Any] = {
                "src": mac_str(link.src), "dst": mac_str(link.dst), "type": link.ethertype,
            }
            if link.vlans:
                eth["vlan"] = [tag.vid for tag in link.vlans]
            out["eth"] = eth
        elif isinstance(link, LinuxSLL | LinuxSLL2):
            sll: dict[str, Any] = {
                "pkttype": link.packet_type, "hatype": link.arphrd_type,
                "src": mac_str(link.address), "type": link.protocol,
            }
            if isinstance(link, LinuxSLL2):
                sll["ifindex"] = link.ifindex
            out["sll"] = sll
        elif isinstance(link, NullHeader):
            out["null"] = {"family": link.family}
        elif link is not None:
            named = _decap().link_dict(link)
            if named is not None:
                out[named[0]] = named[1]
        if self.outer_ip is not None:
            out["outer_ip"] = ip_dict(self.outer_ip)
        if self.encap:
            out["encap"] = _decap().encap_dicts(self.encap)
        if self.arp is not None:
            out["arp"] = arp_dict(self.arp)
        ip = self.ip
        end = len(self.data) if self.net_end is None else self.net_end
        if ip is not None:
            out["ip"] = ip_dict(ip)
            if self.icmp is not None:
                out["icmp"] = icmp_dict(self.icmp)
            elif ip.protocol == 1 and not ip.frag_offset:
                partial = _decap().icmp_partial(self.data, self.l4_offset, self.l4_end)
                if partial is not None:
                    out["icmp"] = partial
        elif self.ethertype == 0x0800:
            partial = _decap().ip_partial(self.data, self.l3_offset, end)
            if partial is not None:
                out["ip"] = partial
        layers6(self, out)
        out["problems"] = list(self.problems)
        return out


def _addr(raw: bytes) -> str:
    return ip_str(raw) if len(raw) == 4 else raw.hex(":")


def arp_dict(arp: ARPPacket) -> dict[str, Any]:
    return {
        "op": arp.op, "htype": arp.hardware_type, "ptype": arp.protocol_type,
        "sha": arp.sha.hex(":"), "spa": _addr(arp.spa), "tha": arp.tha.hex(":"),
        "tpa": _addr(arp.tpa),
    }


def ip_dict(ip: IPv4Header) -> dict[str, Any]:
    return {
        "src": ip_str(ip.src), "dst": ip_str(ip.dst), "ttl": ip.ttl, "proto": ip.protocol,
        "id": ip.ident, "len": ip.total_length, "ihl": ip.ihl, "tos": ip.tos, "df": ip.df,
        "mf": ip.mf, "frag_offset": ip.frag_offset, "checksum": ip.checksum,
        "checksum_ok": ip.checksum_ok,
    }


def icmp_dict(msg: ICMPMessage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": msg.icmp_type, "code": msg.code, "checksum": msg.checksum,
        "checksum_ok": msg.checksum_ok,
    }
    if isinstance(msg, ICMPEcho):
        out["id"], out["seq"] = msg.ident, msg.seq
    elif isinstance(msg, ICMPOther):
        out["id"], out["seq"] = msg.ident, msg.seq
        stamps = msg.timestamps
        if stamps is not None:
            out["originate"], out["receive"], out["transmit"] = stamps
        if msg.icmp_type in (42, 43):  # RFC 8335 extended echo
            out["id"], out["seq"] = int.from_bytes(msg.rest[:2], "big"), msg.rest[2]
            probe = probe_dict(msg)
            if probe is not None:
                out["probe"] = probe
    else:
        out["id"] = out["seq"] = None
        if msg.mtu is not None:
            out["mtu"] = msg.mtu
        if msg.gateway is not None:
            out["gateway"] = ip_str(msg.gateway)
        if msg.pointer is not None:
            out["pointer"] = msg.pointer
        out["quoted"] = quoted_dict(msg.quoted)
        found = msg.extension  # RFC 4884 (MPLS, interface objects): wire/ext.py
        if found is not None:
            out["extension"] = extension_dict(found)
    return out


def quoted_dict(q: QuotedDatagram) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if q.ip is not None:
        out["ip"] = {
            "src": ip_str(q.ip.src), "dst": ip_str(q.ip.dst), "ttl": q.ip.ttl,
            "proto": q.ip.protocol, "id": q.ip.ident, "len": q.ip.total_length,
            "checksum": q.ip.checksum, "checksum_ok": q.ip.checksum_ok,
        }
    if q.icmp is not None:
        out["icmp"] = {
            "type": q.icmp.icmp_type, "code": q.icmp.code, "id": q.icmp.ident,
            "seq": q.icmp.seq, "checksum": q.icmp.checksum, "checksum_ok": q.icmp.checksum_ok,
        }
    if q.sport is not None:
        out["sport"], out["dport"] = q.sport, q.dport
    if q.problem is not None:
        out["problem"] = q.problem
    return out


def decode_frame(
    data: bytes,
    linktype: int = 1,
    *,
    frame: int = 0,
    ts_sec: int = 0,
    ts_usec: int = 0,
    length: int | None = None,
) -> Decoded:
    """Decode one captured frame; never raises (problems are data on the result)."""
    if type(data) is not bytes:  # (bytes(b) of bytes is b itself, but the call costs)
        data = bytes(data)
    d = Decoded(data, linktype, frame, ts_sec, ts_usec, len(data) if length is None else length)
    try:
        if linktype == 1:  # (Ethernet inline: the common case)
            link = EthernetHeader.parse(data)
            d.link, d.ethertype, d.l3_offset = link, link.ethertype, link.header_length
        else:
            bound = _decode_link(d, data, linktype)
            if bound is not None:  # a link header that says where its payload ends (PPPoE)
                data = bound
                d.net_end = len(bound)
        if d.ethertype == 0x0800:
            _decode_ipv4(d, data)
        elif d.ethertype == 0x0806:
            d.arp = ARPPacket.parse(data[d.l3_offset :])
        elif d.ethertype is not None:
            _decode_network(d, data)
    except DecodeError as exc:
        d._problem(exc)
    return d


def _decode_arp(d: Decoded, data: bytes) -> None:
    d.arp = ARPPacket.parse(data[d.l3_offset :])


def _decode_network(d: Decoded, data: bytes) -> None:
    """The network layer at ``d.l3_offset`` for ``d.ethertype``, through any number of
    encapsulations (``decap.step`` takes one header at a time; ``data`` is cut where the
    encapsulation that bounds the next layer ends)."""
    step = _decap().step
    while True:
        handler = _NETWORK.get(d.ethertype)  # type: ignore[arg-type]
        if handler is not None:
            if len(data) != len(d.data):
                d.net_end = len(data)
            handler(d, data)
            return
        nxt = step(d, data)
        if nxt is None:
            return
        data = nxt


def _decode_link(d: Decoded, data: bytes, linktype: int) -> bytes | None:
    if linktype == 1:
        link = EthernetHeader.parse(data)
        d.link, d.ethertype, d.l3_offset = link, link.ethertype, link.header_length
    elif linktype == 113 or linktype == 276:
        sll = LinuxSLL.parse(data) if linktype == 113 else LinuxSLL2.parse(data)
        d.link = sll
        offset, ethertype = sll.header_length, sll.protocol
        while ethertype == 0x8100:  # an 802.1Q tag left in place (tcpdump unwraps only this)
            if len(data) < offset + 4:
                raise Truncated("vlan", offset + 4, len(data))
            ethertype = struct.unpack_from("!H", data, offset + 2)[0]
            offset += 4
        d.ethertype, d.l3_offset = ethertype, offset
    elif linktype in RAW_TYPES:
        if not data:
            raise Truncated("ip", 1, 0)
        version = data[0] >> 4
        # by the version nibble, as tcpdump does even for LINKTYPE_IPV4
        d.ethertype = 0x0800 if version == 4 else 0x86DD if version == 6 else None
        if d.ethertype is None:
            raise Malformed("ip", f"version {version}")
    elif linktype == 0 or linktype == 108:
        null = NullHeader.parse(data, True if linktype == 108 else None)
        d.link, d.l3_offset = null, 4
        d.ethertype = 0x0800 if null.family == 2 else 0x86DD if null.family in (
            10, 24, 28, 30) else None
    elif linktype in _DECAP_LINKTYPES:
        return _decap().LINKS[linktype](d, data)
    else:
        raise Malformed("link", f"unsupported link type {linktype}")


def _decode_ipv4(d: Decoded, data: bytes) -> None:
    start = d.l3_offset
    ip = IPv4Header.parse(data[start:])
    d.ip = ip
    begin = start + ip.header_length
    end = start + ip.total_length
    d.l4_offset = begin
    if end > len(data):
        d.l4_end = len(data)
        d._problem(Truncated("ip", ip.total_length, len(data) - start))
        whole = False
    else:
        d.l4_end = end
        whole = True
    proto = ip.protocol
    if proto != 1 or ip.frag_offset:  # a non-first fragment carries no ICMP header
        if ip.frag_offset:
            return
        if proto == 17:  # a tunnel only to or from a tunnel's port: look before calling
            if not may_be_tunnel(data, begin, d.l4_end):
                return
        elif not (proto == 47 or proto == 4 or proto == 41 or proto == 103):
            return
        inner = _decap().enter_ip(d, data, proto, begin, d.l4_end)
        if inner is not None:
            _decode_network(d, inner)
        return
    d.icmp = parse_icmp(data[begin : d.l4_end], verify=whole and not ip.mf)


# EtherType -> decoder of the network layer at d.l3_offset, at any depth of encapsulation.
_NETWORK = {0x0800: _decode_ipv4, 0x0806: _decode_arp, 0x86DD: decode_ipv6}


# -- the summary path -------------------------------------------------------


class Tally:
    """Counts for ``sniff -q``: frames, ICMP by (type, code), bad checksums, problems."""

    __slots__ = ("frames", "arp", "ipv4", "icmp", "icmp_types", "bad_ip_checksum",
                 "bad_icmp_checksum", "truncated", "undecodable", "ipv6", "icmp6",
                 "icmp6_types", "bad_icmp6_checksum")

    def __init__(self) -> None:
        self.frames = 0
        self.arp = 0
        self.ipv4 = 0
        self.icmp = 0
        self.icmp_types: dict[tuple[int, int], int] = {}
        self.bad_ip_checksum = 0
        self.bad_icmp_checksum = 0
        self.truncated = 0
        self.undecodable = 0
        self.ipv6 = 0
        self.icmp6 = 0  # datagrams whose chain ends in ICMPv6 (first fragments only)
        self.icmp6_types: dict[tuple[int, int], int] = {}
        self.bad_icmp6_checksum = 0

    def add(self, d: Decoded) -> None:
        """Count one frame decoded by ``decode_frame`` (the reference for ``tally``).

        A tunnelled frame counts once: as IPv4 when any IPv4 header was decoded, with a bad
        IPv4 checksum when any of its IPv4 headers has one, and by its innermost ICMP.
        """
        self.frames += 1
        if d.arp is not None:
            self.arp += 1
        if d.outer_ip is not None:
            self._add_tunnelled(d)
        elif d.ip is not None:
            self.ipv4 += 1
            if not d.ip.checksum_ok:
                self.bad_ip_checksum += 1
            if d.ip.protocol == 1 and not d.ip.frag_offset:
                self.icmp += 1
                if d.icmp is not None:
                    key = (d.icmp.icmp_type, d.icmp.code)
                    self.icmp_types[key] = self.icmp_types.get(key, 0) + 1
                    if d.icmp.checksum_ok is False:
                        self.bad_icmp_checksum += 1
        count6(self, d)
        if d.truncated:
            self.truncated += 1
        if d.malformed:
            self.undecodable += 1

    def _add_tunnelled(self, d: Decoded) -> None:
        self.ipv4 += 1
        headers = [d.outer_ip, d.ip] + [e.header for e in d.encap or () if e.kind == "ipv4"]
        if any(h is not None and not h.checksum_ok for h in headers):
            self.bad_ip_checksum += 1
        ip = d.ip
        if ip is not None and ip.protocol == 1 and not ip.frag_offset:
            self.icmp += 1
            if d.icmp is not None:
                key = (d.icmp.icmp_type, d.icmp.code)
                self.icmp_types[key] = self.icmp_types.get(key, 0) + 1
                if d.icmp.checksum_ok is False:
                    self.bad_icmp_checksum += 1

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts (the tallies of several files, or of capture workers)."""
        for name in self.__slots__:
            mine = getattr(self, name)
            if isinstance(mine, dict):
                for key, n in getattr(other, name).items():
                    mine[key] = mine.get(key, 0) + n
            else:
                setattr(self, name, mine + getattr(other, name))

    def as_tuple(self) -> tuple:
        return (self.frames, self.arp, self.ipv4, self.icmp, dict(self.icmp_types),
                self.bad_ip_checksum, self.bad_icmp_checksum, self.truncated, self.undecodable,
                self.ipv6, self.icmp6, dict(self.icmp6_types), self.bad_icmp6_checksum)


def icmp_verdict(data: bytes, linktype: int) -> bool | None:
    """Whether ``decode_frame(data, linktype)`` holds ICMP, ICMPv6 or ARP (``sniff
    --icmp``), answered from the bytes for the common shapes: an Ethernet frame, maybe
    VLAN-tagged, with a sound IPv4 header that is not a tunnel's, or a whole ARP packet.
    None: anything else (IPv6, tunnels, other link types, damaged headers), which the
    decoder must decide."""
    if linktype != 1:
        return None
    n = len(data)
    if n < 14:
        return None
    off = 14
    etype = (data[12] << 8) | data[13]
    while etype == 0x8100 or etype == 0x88A8 or etype == 0x9100 or etype == 0x9200:
        if n < off + 4:
            return None
        etype = (data[off + 2] << 8) | data[off + 3]
        off += 4
    if etype == 0x0800:
        if n < off + 20:
            return None
        vihl = data[off]
        hlen = (vihl & 15) << 2
        if vihl >> 4 != 4 or hlen < 20 or n < off + hlen:
            return None
        total = (data[off + 2] << 8) | data[off + 3]
        if total < hlen:
            return None
        proto = data[off + 9]
        if proto == 1:
            return True
        if proto == 17:  # a tunnel only to or from a tunnel's port (as _decode_network)
            return None if may_be_tunnel(data, off + hlen, min(n, off + total)) else False
        if proto == 47 or proto == 4 or proto == 41 or proto == 103:
            return None
        return False
    if etype == 0x0806:
        if n >= off + 8 and n >= off + 8 + 2 * (data[off + 4] + data[off + 5]):
            return True
        return None
    return None


def tally(t: Tally, data: bytes, linktype: int) -> None:
    """Count one frame like ``Tally.add(decode_frame(data, linktype))``, without objects.

    Ethernet is walked inline with the checksums computed in place (the common case of
    a big capture); other link types, and Ethernet frames that may hold a tunnel or an
    encapsulation (``decap``), go through ``decode_frame``.
    """
    if linktype != 1:
        t.add(decode_frame(data, linktype))
        return
    t.frames += 1
    n = len(data)
    if n < 14:
        t.truncated += 1
        return
    off = 14
    etype = (data[12] << 8) | data[13]
    if etype != 0x0800:  # (untagged IPv4, the common case, skips the tag loop's tests)
        while etype == 0x8100 or etype == 0x88A8 or etype == 0x9100 or etype == 0x9200:
            if n < off + 4:
                t.truncated += 1
                return
            etype = (data[off + 2] << 8) | data[off + 3]
            off += 4
    if etype == 0x0800:
        if n < off + 20:
            t.truncated += 1
            return
        vihl = data[off]
        hlen = (vihl & 15) << 2
        if vihl >> 4 != 4 or hlen < 20:
            t.undecodable += 1
            return
        if n < off + hlen:
            t.truncated += 1
            return
        total = (data[off + 2] << 8) | data[off + 3]
        if total < hlen:
            t.undecodable += 1
            return
        t.ipv4 += 1
        begin = off + hlen
        h = _from_bytes(data[off:begin], "big")  # checksum_ok(), inlined: hlen is even
        if not h or h % 0xFFFF:
            t.bad_ip_checksum += 1
        end = off + total
        cut = end > n
        if cut:
            t.truncated += 1
            end = n
        proto = data[off + 9]
        if proto != 1:
            if proto == 17 or proto == 47 or proto == 4 or proto == 41 or proto == 103:
                # maybe a tunnel (UDP: a tunnel port's high byte first, the cheap test most
                # ports fail): take back what was counted and decode the frame fully
                if proto != 17 or may_be_tunnel(data, begin, end):
                    t.frames -= 1
                    t.ipv4 -= 1
                    if not h or h % 0xFFFF:
                        t.bad_ip_checksum -= 1
                    if cut:
                        t.truncated -= 1
                    t.add(decode_frame(data, 1))
            return
        frag = (data[off + 6] << 8) | data[off + 7]
        if frag & 0x1FFF:
            return
        t.icmp += 1
        if end - begin < 8:
            if not cut:
                t.truncated += 1
            return
        key = (data[begin], data[begin + 1])
        types = t.icmp_types
        types[key] = types.get(key, 0) + 1
        if not cut and not frag & 0x2000:
            m = _from_bytes(data[begin:end], "big")
            if (end - begin) & 1:
                m <<= 8
            if not m or m % 0xFFFF:
                t.bad_icmp_checksum += 1
    elif etype == 0x0806:
        if n < off + 8 or n < off + 8 + 2 * (data[off + 4] + data[off + 5]):
            t.truncated += 1
            return
        t.arp += 1
    elif etype == 0x86DD:
        tally6(t, data, off)
    elif etype <= 1500 or etype in _DEEP_ETHERTYPES:  # LLC, MPLS, PPPoE, MACsec, ...
        t.frames -= 1
        t.add(decode_frame(data, 1))


_from_bytes = int.from_bytes
# EtherTypes under which decap finds more layers (so tally decodes those frames fully)
_DEEP_ETHERTYPES = frozenset((0x8847, 0x8848, 0x8863, 0x8864, 0x88E5, 0x6558))


__all__ = [
    "Decoded", "ERROR_TYPES", "ICMPError", "LinkType", "Tally", "decode_frame", "tally",
]
