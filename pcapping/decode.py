"""One decode path: ``decode_frame(data, linktype)`` never raises.

Every problem found on the way (a cut at any layer, a bogus header length, an
unknown link type) is recorded as a string in ``Decoded.problems`` and the
layers decoded before it are kept.  ``Decoded.to_dict()`` is exactly the
``sniff --json`` object of DESIGN.md.

IPv6 (EtherType 0x86DD on every link type) is decoded by ``pcapping.decode6``:
``Decoded.ip6``, ``ip6_ext`` (the extension chain), ``icmp6`` and ``ndp``, and the
``ip6`` / ``icmp6`` JSON layers documented there.

``tally()`` is the same decision process without building any objects, for
``sniff -q`` on large files; ``tests/test_properties.py`` checks it agrees with
``decode_frame`` frame for frame (fixtures and mutated bytes).
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Any

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


class LinkType(IntEnum):
    NULL = 0
    ETHERNET = 1
    RAW_OPENBSD = 14
    RAW_DLT = 12
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


RAW_TYPES = frozenset((12, 14, 101, 228, 229))
LinkHeader = EthernetHeader | LinuxSLL | LinuxSLL2 | NullHeader


class Decoded:
    """A decoded frame: every layer that could be decoded, plus the problems met."""

    __slots__ = (
        "frame", "ts_sec", "ts_usec", "caplen", "length", "linktype", "data",
        "link", "ethertype", "l3_offset", "arp", "ip", "l4_offset", "l4_end", "icmp",
        "problems", "truncated", "malformed", "ip6", "ip6_ext", "icmp6", "ndp",
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
        if self.arp is not None:
            out["arp"] = arp_dict(self.arp)
        if self.ip is not None:
            out["ip"] = ip_dict(self.ip)
        if self.icmp is not None:
            out["icmp"] = icmp_dict(self.icmp)
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
    data = bytes(data)
    d = Decoded(data, linktype, frame, ts_sec, ts_usec, len(data) if length is None else length)
    try:
        _decode_link(d, data, linktype)
        if d.ethertype == 0x0800:
            _decode_ipv4(d, data)
        elif d.ethertype == 0x0806:
            d.arp = ARPPacket.parse(data[d.l3_offset :])
        elif d.ethertype == 0x86DD:
            decode_ipv6(d, data)
    except DecodeError as exc:
        d._problem(exc)
    return d


def _decode_link(d: Decoded, data: bytes, linktype: int) -> None:
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
    if ip.protocol != 1 or ip.frag_offset:
        return  # a non-first fragment carries no ICMP header
    d.icmp = parse_icmp(data[begin : d.l4_end], verify=whole and not ip.mf)


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
        """Count one frame decoded by ``decode_frame`` (the reference for ``tally``)."""
        self.frames += 1
        if d.arp is not None:
            self.arp += 1
        if d.ip is not None:
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

    def as_tuple(self) -> tuple:
        return (self.frames, self.arp, self.ipv4, self.icmp, dict(self.icmp_types),
                self.bad_ip_checksum, self.bad_icmp_checksum, self.truncated, self.undecodable,
                self.ipv6, self.icmp6, dict(self.icmp6_types), self.bad_icmp6_checksum)


def tally(t: Tally, data: bytes, linktype: int) -> None:
    """Count one frame like ``Tally.add(decode_frame(data, linktype))``, without objects.

    Ethernet is walked inline with the checksums computed in place (the common case of
    a big capture); other link types go through ``decode_frame``.
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
        if data[off + 9] != 1:
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


_from_bytes = int.from_bytes


__all__ = [
    "Decoded", "ERROR_TYPES", "ICMPError", "LinkType", "Tally", "decode_frame", "tally",
]
