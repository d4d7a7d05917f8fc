"""Neighbor Discovery (RFC 4861): RS, RA, NS, NA, redirect, and their options.

Messages are values parsed from a whole ICMPv6 message (``parse(msg)`` raises
``Truncated`` when the fixed part is cut, ``Malformed`` for an option of length 0)
and encoded back to one (``encode(src, dst)``, the pseudo-header checksum
recomputed).  Options (type, length in 8-byte units, data):

- 1/2 source/target link-layer address (``LinkLayerOption``), 3 prefix information
  (``PrefixInfo``), 4 redirected header, 5 MTU, 14 nonce (RFC 3971), 24 route
  information (RFC 4191), 25 RDNSS and 31 DNSSL (RFC 8106); anything else is an
  ``UnknownOption`` kept as type and bytes.

What the probe engine needs to resolve a neighbour: ``neighbor_solicitation`` builds
the NS datagram (to the target's solicited-node group ff02::1:ffXX:XXXX, hop limit
255, a source link-layer address option), ``ns_frame`` the Ethernet frame around it
(to 33:33:ff:XX:XX:XX), and ``NeighborAdvert.parse`` / ``na_link_address`` read the
answer's target and MAC.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated
from pcapping.wire.ethernet import EthernetHeader, VLANTag
from pcapping.wire.icmp6 import encode_icmp6
from pcapping.wire.ipv6 import (
    ALL_ROUTERS,
    UNSPECIFIED,
    IPv6Header,
    multicast_mac,
    solicited_node,
)

# option types
SOURCE_LLADDR = 1
TARGET_LLADDR = 2
PREFIX_INFO = 3
REDIRECTED_HEADER = 4
MTU = 5
NONCE = 14
ROUTE_INFO = 24
RDNSS = 25
DNSSL = 31

ND_HOP_LIMIT = 255  # RFC 4861 §6.1.1, §7.1.1: anything else is discarded


def _opt(opt_type: int, data: bytes) -> bytes:
    """An option with ``data`` zero-padded so that 2 + len is a multiple of 8."""
    data = data + bytes(-(len(data) + 2) % 8)
    return bytes((opt_type, (len(data) + 2) // 8)) + data


class LinkLayerOption(NamedTuple):
    opt_type: int  # 1 source, 2 target
    address: bytes  # the option's bytes after type and length (6 for Ethernet)

    def encode(self) -> bytes:
        return _opt(self.opt_type, self.address)

    @classmethod
    def from_data(cls, opt_type: int, data: bytes) -> LinkLayerOption:
        return cls(opt_type, data)


class PrefixInfo(NamedTuple):
    prefix_length: int
    flags: int  # 0x80 on-link (L), 0x40 autonomous (A), 0x20 router address (R)
    valid_lifetime: int
    preferred_lifetime: int
    prefix: bytes
    reserved2: int = 0

    opt_type = PREFIX_INFO

    @property
    def on_link(self) -> bool:
        return bool(self.flags & 0x80)

    @property
    def autonomous(self) -> bool:
        return bool(self.flags & 0x40)

    def encode(self) -> bytes:
        return _opt(3, struct.pack("!BBIII16s", self.prefix_length, self.flags,
                                   self.valid_lifetime, self.preferred_lifetime,
                                   self.reserved2, self.prefix))

    @classmethod
    def from_data(cls, data: bytes) -> PrefixInfo:
        if len(data) < 30:
            raise Malformed("ndp", f"prefix information option of {len(data) + 2} bytes")
        plen, flags, valid, pref, res, prefix = struct.unpack_from("!BBIII16s", data)
        return cls(plen, flags, valid, pref, prefix, res)


class RedirectedHeader(NamedTuple):
    packet: bytes  # the start of the redirected datagram (after 6 reserved bytes)

    opt_type = REDIRECTED_HEADER

    def encode(self) -> bytes:
        return _opt(4, bytes(6) + self.packet)


class MTUOption(NamedTuple):
    mtu: int

    opt_type = MTU

    def encode(self) -> bytes:
        return _opt(5, struct.pack("!HI", 0, self.mtu))


class NonceOption(NamedTuple):
    nonce: bytes

    opt_type = NONCE

    def encode(self) -> bytes:
        return _opt(14, self.nonce)


class RouteInfo(NamedTuple):
    prefix_length: int
    flags: int  # bits 4-3: route preference
    lifetime: int
    prefix: bytes  # 0, 8 or 16 bytes as carried

    opt_type = ROUTE_INFO

    def encode(self) -> bytes:
        return _opt(24, struct.pack("!BBI", self.prefix_length, self.flags, self.lifetime)
                    + self.prefix)


class RDNSSOption(NamedTuple):
    lifetime: int
    addresses: tuple[bytes, ...]

    opt_type = RDNSS

    def encode(self) -> bytes:
        return _opt(25, struct.pack("!HI", 0, self.lifetime) + b"".join(self.addresses))


class DNSSLOption(NamedTuple):
    lifetime: int
    domains: tuple[str, ...]  # without the trailing dot

    opt_type = DNSSL

    def encode(self) -> bytes:
        names = b""
        for name in self.domains:
            for label in name.strip(".").split("."):
                raw = label.encode()
                names += bytes((len(raw),)) + raw
            names += b"\0"
        return _opt(31, struct.pack("!HI", 0, self.lifetime) + names)


class UnknownOption(NamedTuple):
    opt_type: int
    data: bytes  # after type and length

    def encode(self) -> bytes:
        if (len(self.data) + 2) % 8:
            raise ValueError("an ND option is a multiple of 8 bytes")
        return bytes((self.opt_type, (len(self.data) + 2) // 8)) + self.data


NDOption = (LinkLayerOption | PrefixInfo | RedirectedHeader | MTUOption | NonceOption
            | RouteInfo | RDNSSOption | DNSSLOption | UnknownOption)


def _names(data: bytes) -> tuple[str, ...]:
    """DNSSL domain names (no compression); stops at padding or a bad label."""
    out = []
    i, n = 0, len(data)
    labels: list[str] = []
    while i < n:
        size = data[i]
        if size == 0:
            if not labels:
                break  # padding
            out.append(".".join(labels))
            labels = []
            i += 1
            continue
        if size > 63 or i + 1 + size > n:
            break
        labels.append(data[i + 1: i + 1 + size].decode("ascii", "replace"))
        i += 1 + size
    return tuple(out)


def _parse_option(opt_type: int, data: bytes) -> NDOption:
    if opt_type in (SOURCE_LLADDR, TARGET_LLADDR):
        return LinkLayerOption(opt_type, data)
    if opt_type == PREFIX_INFO and len(data) >= 30:
        return PrefixInfo.from_data(data)
    if opt_type == REDIRECTED_HEADER and len(data) >= 6:
        return RedirectedHeader(data[6:])
    if opt_type == MTU and len(data) >= 6:
        return MTUOption(int.from_bytes(data[2:6], "big"))
    if opt_type == NONCE:
        return NonceOption(data)
    if opt_type == ROUTE_INFO and len(data) >= 6:
        return RouteInfo(data[0], data[1], int.from_bytes(data[2:6], "big"), data[6:])
    if opt_type == RDNSS and len(data) >= 6:
        body = data[6:]
        return RDNSSOption(int.from_bytes(data[2:6], "big"),
                           tuple(body[i: i + 16] for i in range(0, len(body) - 15, 16)))
    if opt_type == DNSSL and len(data) >= 6:
        return DNSSLOption(int.from_bytes(data[2:6], "big"), _names(data[6:]))
    return UnknownOption(opt_type, data)


def parse_nd_options(buf: bytes) -> tuple[NDOption, ...]:
    """Every option in ``buf``: ``Malformed`` for a zero length (RFC 4861 §4.6: the
    message must be discarded), ``Truncated`` for one that runs past the bytes."""
    out = []
    p, n = 0, len(buf)
    while p < n:
        if p + 2 > n:
            raise Truncated("ndp option", p + 2, n)
        opt_type, units = buf[p], buf[p + 1]
        if units == 0:
            raise Malformed("ndp", f"option type {opt_type} with length 0")
        end = p + units * 8
        if end > n:
            raise Truncated("ndp option", end, n)
        out.append(_parse_option(opt_type, bytes(buf[p + 2: end])))
        p = end
    return tuple(out)


def _encode_options(options: tuple[NDOption, ...]) -> bytes:
    return b"".join(o.encode() for o in options)


def _lladdr(options: tuple[NDOption, ...], opt_type: int) -> bytes | None:
    for o in options:
        if isinstance(o, LinkLayerOption) and o.opt_type == opt_type:
            return o.address
    return None


def _need(msg: bytes, size: int, icmp_type: int) -> None:
    if len(msg) < size:
        raise Truncated("ndp", size, len(msg))
    if msg[0] != icmp_type:
        raise Malformed("ndp", f"type {msg[0]} is not {icmp_type}")


class _Options:
    """Helpers every message with options shares (mixed into the NamedTuples)."""

    options: tuple[NDOption, ...]

    @property
    def source_lladdr(self) -> bytes | None:
        return _lladdr(self.options, SOURCE_LLADDR)

    @property
    def target_lladdr(self) -> bytes | None:
        return _lladdr(self.options, TARGET_LLADDR)


class RouterSolicit(NamedTuple):
    options: tuple[NDOption, ...] = ()
    reserved: int = 0

    icmp_type = 133

    source_lladdr = _Options.source_lladdr

    @classmethod
    def parse(cls, msg: bytes) -> RouterSolicit:
        _need(msg, 8, 133)
        return cls(parse_nd_options(msg[8:]), int.from_bytes(msg[4:8], "big"))

    def encode(self, src: bytes, dst: bytes = ALL_ROUTERS) -> bytes:
        return encode_icmp6(133, 0, self.reserved.to_bytes(4, "big"),
                            _encode_options(self.options), src, dst)


class RouterAdvert(NamedTuple):
    cur_hop_limit: int = 64
    flags: int = 0  # 0x80 managed, 0x40 other, 0x20 home agent, 0x18 preference
    router_lifetime: int = 1800
    reachable_time: int = 0
    retrans_timer: int = 0
    options: tuple[NDOption, ...] = ()

    icmp_type = 134

    source_lladdr = _Options.source_lladdr

    @property
    def managed(self) -> bool:
        return bool(self.flags & 0x80)

    @property
    def other(self) -> bool:
        return bool(self.flags & 0x40)

    @property
    def preference(self) -> int:
        """RFC 4191 default router preference: 0 medium, 1 high, 3 low (2 reserved)."""
        return (self.flags >> 3) & 3

    @property
    def prefixes(self) -> tuple[PrefixInfo, ...]:
        return tuple(o for o in self.options if isinstance(o, PrefixInfo))

    @property
    def mtu(self) -> int | None:
        for o in self.options:
            if isinstance(o, MTUOption):
                return o.mtu
        return None

    @classmethod
    def parse(cls, msg: bytes) -> RouterAdvert:
        _need(msg, 16, 134)
        hop, flags, life, reach, retrans = struct.unpack_from("!BBHII", msg, 4)
        return cls(hop, flags, life, reach, retrans, parse_nd_options(msg[16:]))

    def encode(self, src: bytes, dst: bytes) -> bytes:
        rest = struct.pack("!BBH", self.cur_hop_limit, self.flags, self.router_lifetime)
        body = struct.pack("!II", self.reachable_time, self.retrans_timer)
        return encode_icmp6(134, 0, rest, body + _encode_options(self.options), src, dst)


class NeighborSolicit(NamedTuple):
    target: bytes
    options: tuple[NDOption, ...] = ()
    reserved: int = 0

    icmp_type = 135

    source_lladdr = _Options.source_lladdr

    @property
    def nonce(self) -> bytes | None:
        for o in self.options:
            if isinstance(o, NonceOption):
                return o.nonce
        return None

    @classmethod
    def parse(cls, msg: bytes) -> NeighborSolicit:
        _need(msg, 24, 135)
        return cls(bytes(msg[8:24]), parse_nd_options(msg[24:]),
                   int.from_bytes(msg[4:8], "big"))

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(135, 0, self.reserved.to_bytes(4, "big"),
                            self.target + _encode_options(self.options), src, dst)


class NeighborAdvert(NamedTuple):
    target: bytes
    router: bool = False  # R
    solicited: bool = False  # S
    override: bool = False  # O
    options: tuple[NDOption, ...] = ()
    reserved: int = 0  # the 29 bits after the flags

    icmp_type = 136

    target_lladdr = _Options.target_lladdr

    @property
    def flags(self) -> int:
        return (self.router << 31) | (self.solicited << 30) | (self.override << 29)

    @classmethod
    def parse(cls, msg: bytes) -> NeighborAdvert:
        _need(msg, 24, 136)
        word = int.from_bytes(msg[4:8], "big")
        return cls(bytes(msg[8:24]), bool(word >> 31), bool(word >> 30 & 1),
                   bool(word >> 29 & 1), parse_nd_options(msg[24:]), word & 0x1FFFFFFF)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        word = self.flags | (self.reserved & 0x1FFFFFFF)
        return encode_icmp6(136, 0, word.to_bytes(4, "big"),
                            self.target + _encode_options(self.options), src, dst)


class Redirect(NamedTuple):
    target: bytes  # the better first hop
    destination: bytes  # the destination being redirected
    options: tuple[NDOption, ...] = ()
    reserved: int = 0

    icmp_type = 137

    target_lladdr = _Options.target_lladdr

    @property
    def redirected(self) -> bytes | None:
        for o in self.options:
            if isinstance(o, RedirectedHeader):
                return o.packet
        return None

    @classmethod
    def parse(cls, msg: bytes) -> Redirect:
        _need(msg, 40, 137)
        return cls(bytes(msg[8:24]), bytes(msg[24:40]), parse_nd_options(msg[40:]),
                   int.from_bytes(msg[4:8], "big"))

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(137, 0, self.reserved.to_bytes(4, "big"),
                            self.target + self.destination + _encode_options(self.options),
                            src, dst)


NDPMessage = RouterSolicit | RouterAdvert | NeighborSolicit | NeighborAdvert | Redirect
_PARSERS = {133: RouterSolicit.parse, 134: RouterAdvert.parse, 135: NeighborSolicit.parse,
            136: NeighborAdvert.parse, 137: Redirect.parse}


def parse_ndp(msg: bytes) -> NDPMessage:
    """The NDP message in the ICMPv6 message ``msg`` (types 133-137)."""
    if not msg:
        raise Truncated("ndp", 8, 0)
    parser = _PARSERS.get(msg[0])
    if parser is None:
        raise Malformed("ndp", f"type {msg[0]} is not a neighbor discovery message")
    return parser(msg)


# -- what the engine uses to resolve a neighbour ------------------------------------

def neighbor_solicitation(src: bytes, target: bytes, src_mac: bytes | None, *,
                          dst: bytes | None = None, nonce: bytes | None = None) -> bytes:
    """The IPv6 datagram of a Neighbor Solicitation for ``target``.

    Sent to the target's solicited-node group unless ``dst`` is given (a unicast NUD
    probe); hop limit 255; a source link-layer address option with ``src_mac`` unless
    ``src`` is the unspecified address (duplicate address detection, RFC 4862) or
    ``src_mac`` is None; a nonce option when ``nonce`` is given (RFC 7527)."""
    dst = solicited_node(target) if dst is None else dst
    options: list[NDOption] = []
    if src_mac is not None and src != UNSPECIFIED:
        options.append(LinkLayerOption(SOURCE_LLADDR, src_mac))
    if nonce is not None:
        options.append(NonceOption(nonce))
    msg = NeighborSolicit(target, tuple(options)).encode(src, dst)
    return IPv6Header(src, dst, 58, ND_HOP_LIMIT).encode(msg)


def ns_frame(src_mac: bytes, src: bytes, target: bytes, *, dst: bytes | None = None,
             dst_mac: bytes | None = None, vlans: tuple[VLANTag, ...] = ()) -> bytes:
    """The Ethernet frame of ``neighbor_solicitation``: to 33:33:ff:XX:XX:XX (the group's
    MAC) unless ``dst_mac`` is given (a unicast probe)."""
    datagram = neighbor_solicitation(src, target, src_mac, dst=dst)
    group = datagram[24:40]
    mac = dst_mac if dst_mac is not None else multicast_mac(group)
    return EthernetHeader(mac, src_mac, 0x86DD, vlans).encode() + datagram


def na_link_address(msg: bytes, link_src: bytes | None = None
                    ) -> tuple[bytes, bytes | None, NeighborAdvert]:
    """(target, MAC, advert) of the Neighbor Advertisement in ICMPv6 message ``msg``.

    The MAC is the target link-layer address option, else ``link_src`` (the frame's
    source address: a solicited advert to a unicast NS may leave the option out)."""
    na = NeighborAdvert.parse(msg)
    mac = na.target_lladdr
    return na.target, mac if mac is not None else link_src, na


def neighbor_advertisement(src: bytes, dst: bytes, target: bytes, mac: bytes, *,
                           router: bool = False, solicited: bool = True,
                           override: bool = True) -> bytes:
    """The IPv6 datagram of a Neighbor Advertisement for ``target`` at ``mac`` (tests,
    fixtures and answering a solicitation)."""
    msg = NeighborAdvert(target, router, solicited, override,
                         (LinkLayerOption(TARGET_LLADDR, mac),)).encode(src, dst)
    return IPv6Header(src, dst, 58, ND_HOP_LIMIT).encode(msg)


__all__ = [
    "DNSSLOption", "LinkLayerOption", "MTUOption", "NDOption", "NDPMessage", "ND_HOP_LIMIT",
    "NeighborAdvert", "NeighborSolicit", "NonceOption", "PrefixInfo", "RDNSSOption",
    "Redirect", "RedirectedHeader", "RouteInfo", "RouterAdvert", "RouterSolicit",
    "UnknownOption", "na_link_address", "neighbor_advertisement", "neighbor_solicitation",
    "ns_frame", "parse_nd_options", "parse_ndp",
]
