"""IPv6 (RFC 8200): the fixed header, the extension-header chain, the pseudo-header.

- ``IPv6Header``: version, traffic class (DSCP/ECN), flow label, payload length,
  next header, hop limit, source and destination (16 raw bytes each).
  ``parse`` checks the version and that 40 bytes are there; ``encode(payload)``
  writes the payload length from the payload.
- ``walk_extensions(buf, next_header, offset, end)`` walks the extension headers
  that follow a fixed header: hop-by-hop (0, first only), routing (43), fragment
  (44), destination options (60), AH (51); it stops at ESP (50), at "no next
  header" (59), at any other protocol (the upper layer), after a non-first
  fragment (no upper-layer header there), after ``MAX_EXTENSIONS`` headers, or at
  the first header whose length runs past ``end`` or the captured bytes.  It
  never raises: the ``ExtChain`` it returns carries the headers it read, the
  protocol and offset where it stopped, and the ``DecodeError`` that stopped it
  early, if any.  Options inside hop-by-hop and destination-options headers are
  parsed leniently (a bad option length ends the option list, not the walk).
- ``FragmentHeader``: next header, offset (8-byte units), M flag, identification.
- ``pseudo_header`` / ``upper_checksum``: the RFC 8200 §8.1 pseudo-header sum used
  by ICMPv6, UDP and TCP; ``ExtChain.final_destination`` is the address it uses
  when a routing header with segments left is present.
- ``ip6_str`` (RFC 5952 text) / ``ip6_bytes``; ``solicited_node`` and
  ``multicast_mac`` (RFC 4291 §2.7.1, RFC 2464 §7) for Neighbor Discovery.
"""

from __future__ import annotations

import socket
import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import DecodeError, Malformed, Truncated
from pcapping.wire.checksum import checksum_ok, internet_checksum

_HDR = struct.Struct("!IHBB16s16s")
_FRAG = struct.Struct("!BBHI")
_AH = struct.Struct("!BBHII")

MAX_EXTENSIONS = 16  # more than any sane datagram carries; a loop guard on hostile input


class NextHeader(IntEnum):
    HOP_BY_HOP = 0
    ICMP = 1
    TCP = 6
    UDP = 17
    IPV6 = 41
    ROUTING = 43
    FRAGMENT = 44
    ESP = 50
    AH = 51
    ICMPV6 = 58
    NO_NEXT_HEADER = 59
    DEST_OPTIONS = 60
    MOBILITY = 135


EXTENSION_TYPES = frozenset((0, 43, 44, 51, 60))


# -- addresses ------------------------------------------------------------------

def ip6_str(addr: bytes) -> str:
    """RFC 5952 text: lower-case hex, no leading zeros, the first longest run of two or
    more zero groups as ``::``, and IPv4-mapped addresses as ``::ffff:192.0.2.1``."""
    if len(addr) != 16:
        raise ValueError(f"an IPv6 address has 16 bytes, not {len(addr)}")
    words = struct.unpack("!8H", addr)
    if words[:5] == (0, 0, 0, 0, 0) and words[5] == 0xFFFF:
        return "::ffff:" + socket.inet_ntoa(addr[12:])
    best = cur = -1
    best_len = cur_len = 0
    for i, w in enumerate(words):
        if w == 0:
            if cur < 0:
                cur, cur_len = i, 1
            else:
                cur_len += 1
            if cur_len > best_len:
                best, best_len = cur, cur_len
        else:
            cur = -1
    if best_len < 2:
        return ":".join(f"{w:x}" for w in words)
    head = ":".join(f"{w:x}" for w in words[:best])
    tail = ":".join(f"{w:x}" for w in words[best + best_len:])
    return f"{head}::{tail}"


def ip6_bytes(text: str) -> bytes:
    """16 bytes for an IPv6 address in text; ``OSError`` for anything else."""
    return socket.inet_pton(socket.AF_INET6, text)


def solicited_node(addr: bytes) -> bytes:
    """The solicited-node multicast group of ``addr``: ff02::1:ffXX:XXXX (RFC 4291)."""
    return b"\xff\x02" + bytes(9) + b"\x01\xff" + addr[13:16]


def multicast_mac(group: bytes) -> bytes:
    """The Ethernet address an IPv6 multicast group maps to: 33:33 + its last 4 bytes."""
    return b"\x33\x33" + group[12:16]


def is_multicast(addr: bytes) -> bool:
    return addr[:1] == b"\xff"


def is_link_local(addr: bytes) -> bool:
    return addr[0] == 0xFE and addr[1] & 0xC0 == 0x80


UNSPECIFIED = bytes(16)
ALL_NODES = ip6_bytes("ff02::1")
ALL_ROUTERS = ip6_bytes("ff02::2")
ALL_MLDV2_ROUTERS = ip6_bytes("ff02::16")


# -- the fixed header -----------------------------------------------------------

class IPv6Header(NamedTuple):
    src: bytes
    dst: bytes
    next_header: int
    hop_limit: int = 64
    traffic_class: int = 0
    flow_label: int = 0
    payload_length: int = 0
    version: int = 6

    header_length = 40

    @property
    def dscp(self) -> int:
        return self.traffic_class >> 2

    @property
    def ecn(self) -> int:
        return self.traffic_class & 3

    @property
    def total_length(self) -> int:
        """The datagram's length by its header: 40 + payload length."""
        return 40 + self.payload_length

    @classmethod
    def parse(cls, buf: bytes) -> IPv6Header:
        """The 40-byte header at the start of ``buf`` (the payload length is not checked
        against ``buf``: a caller slices ``buf[40:40 + payload_length]``)."""
        n = len(buf)
        if n < 40:
            raise Truncated("ip6", 40, n)
        word, plen, nh, hlim, src, dst = _HDR.unpack_from(buf)
        version = word >> 28
        if version != 6:
            raise Malformed("ip6", f"version {version}")
        return cls(src, dst, nh, hlim, (word >> 20) & 0xFF, word & 0xFFFFF, plen, version)

    def encode(self, payload: bytes = b"") -> bytes:
        """Header followed by ``payload``; the payload length field is ``len(payload)``
        (the value's ``payload_length`` when ``payload`` is empty: a header-only encode)."""
        plen = len(payload) if payload else self.payload_length
        word = (self.version << 28) | ((self.traffic_class & 0xFF) << 20) | (
            self.flow_label & 0xFFFFF)
        return _HDR.pack(word, plen, self.next_header, self.hop_limit, self.src,
                         self.dst) + payload


# -- pseudo-header checksums ------------------------------------------------------

def pseudo_header(src: bytes, dst: bytes, length: int, next_header: int) -> bytes:
    """RFC 8200 §8.1: source, destination, upper-layer length (32 bits), 3 zero bytes,
    next header."""
    return src + dst + struct.pack("!IxxxB", length, next_header)


def upper_checksum(src: bytes, dst: bytes, next_header: int, data: bytes) -> int:
    """The checksum field value for an upper-layer message ``data`` (its own checksum
    field zero) sent from ``src`` to ``dst``."""
    return internet_checksum(pseudo_header(src, dst, len(data), next_header) + data)


def upper_checksum_ok(src: bytes, dst: bytes, next_header: int, data: bytes) -> bool:
    """True when ``data`` (checksum field included) verifies with its pseudo-header."""
    return checksum_ok(pseudo_header(src, dst, len(data), next_header) + data)


# -- extension headers ------------------------------------------------------------

class IPv6Option(NamedTuple):
    """One TLV option of a hop-by-hop or destination-options header (Pad1: ``data``
    empty with ``opt_type`` 0)."""

    opt_type: int
    data: bytes = b""

    @property
    def action(self) -> int:
        """The two high bits: what a node that does not know the option must do."""
        return self.opt_type >> 6

    @property
    def length(self) -> int:
        return 1 if self.opt_type == 0 else 2 + len(self.data)

    def encode(self) -> bytes:
        if self.opt_type == 0:
            return b"\0"
        return bytes((self.opt_type, len(self.data))) + self.data


PAD1 = 0
PADN = 1
ROUTER_ALERT = 5
JUMBO = 0xC2
HOME_ADDRESS = 0xC9


def parse_options(data: bytes) -> tuple[tuple[IPv6Option, ...], bool]:
    """(options, well_formed): TLVs until ``data`` ends or one overruns it (then
    ``well_formed`` is False and the options before it are kept)."""
    out = []
    i, n = 0, len(data)
    while i < n:
        kind = data[i]
        if kind == PAD1:
            out.append(IPv6Option(0))
            i += 1
            continue
        if i + 2 > n or i + 2 + data[i + 1] > n:
            return tuple(out), False
        size = data[i + 1]
        out.append(IPv6Option(kind, bytes(data[i + 2: i + 2 + size])))
        i += 2 + size
    return tuple(out), True


def pad_options(options: tuple[IPv6Option, ...] | list[IPv6Option]) -> bytes:
    """The options' bytes padded (Pad1 or PadN) so that 2 + length is a multiple of 8."""
    body = b"".join(o.encode() for o in options)
    short = (-(len(body) + 2)) % 8
    if short == 1:
        body += b"\0"
    elif short:
        body += bytes((PADN, short - 2)) + bytes(short - 2)
    return body


class OptionsHeader(NamedTuple):
    """Hop-by-hop options (kind 0) or destination options (kind 60)."""

    kind: int
    next_header: int
    options: tuple[IPv6Option, ...] = ()
    options_ok: bool = True  # False: an option ran past the header (the rest is ignored)
    raw: bytes = b""  # the option bytes as found (encode() uses them when given)

    @property
    def length(self) -> int:
        return 2 + len(self.raw or pad_options(self.options))

    @classmethod
    def build(cls, kind: int, next_header: int,
              options: tuple[IPv6Option, ...] | list[IPv6Option] = ()) -> OptionsHeader:
        """A header holding ``options``, padded with Pad1/PadN to a multiple of 8 bytes
        (the padding appears in ``options``, as ``parse`` would show it)."""
        raw = pad_options(options)
        return cls(kind, next_header, parse_options(raw)[0], True, raw)

    @classmethod
    def parse(cls, buf: bytes, kind: int = 0) -> OptionsHeader:
        if len(buf) < 2:
            raise Truncated("hbh" if kind == 0 else "dstopts", 2, len(buf))
        size = (buf[1] + 1) * 8
        if len(buf) < size:
            raise Truncated("hbh" if kind == 0 else "dstopts", size, len(buf))
        raw = bytes(buf[2:size])
        options, ok = parse_options(raw)
        return cls(kind, buf[0], options, ok, raw)

    def option(self, opt_type: int) -> IPv6Option | None:
        for o in self.options:
            if o.opt_type == opt_type:
                return o
        return None

    @property
    def router_alert(self) -> int | None:
        o = self.option(ROUTER_ALERT)
        return int.from_bytes(o.data, "big") if o is not None and len(o.data) == 2 else None

    @property
    def jumbo_length(self) -> int | None:
        o = self.option(JUMBO)
        return int.from_bytes(o.data, "big") if o is not None and len(o.data) == 4 else None

    def encode(self) -> bytes:
        body = self.raw or pad_options(self.options)
        if (len(body) + 2) % 8:
            raise ValueError("options header must be a multiple of 8 bytes")
        return bytes((self.next_header, (len(body) + 2) // 8 - 1)) + body


class RoutingHeader(NamedTuple):
    """Routing header (43): type 0 (deprecated source route), 2 (Mobile IPv6 home
    address), 4 (segment routing, RFC 8754) or any other, kept as bytes."""

    next_header: int
    routing_type: int
    segments_left: int
    data: bytes = b"\0\0\0\0"  # everything after the first 4 bytes

    @property
    def length(self) -> int:
        return 4 + len(self.data)

    @property
    def addresses(self) -> tuple[bytes, ...]:
        """Type 0/2: the address list; type 4: the segment list (final segment first)."""
        if self.routing_type not in (0, 2, 4):
            return ()
        body = self.data[4:]
        return tuple(bytes(body[i: i + 16]) for i in range(0, len(body) - 15, 16))

    @property
    def last_entry(self) -> int | None:
        return self.data[0] if self.routing_type == 4 else None

    @property
    def srh_flags(self) -> int | None:
        return self.data[1] if self.routing_type == 4 else None

    @property
    def srh_tag(self) -> int | None:
        return int.from_bytes(self.data[2:4], "big") if self.routing_type == 4 else None

    @property
    def final_destination(self) -> bytes | None:
        """Where the datagram is finally going while segments are left (type 0/2: the
        last address, type 4: segment 0); None when no segment is left or none is known."""
        if not self.segments_left:
            return None
        addrs = self.addresses
        if not addrs:
            return None
        return addrs[0] if self.routing_type == 4 else addrs[-1]

    @classmethod
    def parse(cls, buf: bytes) -> RoutingHeader:
        if len(buf) < 4:
            raise Truncated("rt6", 4, len(buf))
        size = (buf[1] + 1) * 8
        if len(buf) < size:
            raise Truncated("rt6", size, len(buf))
        return cls(buf[0], buf[2], buf[3], bytes(buf[4:size]))

    @classmethod
    def build(cls, next_header: int, addresses: list[bytes] | tuple[bytes, ...],
              routing_type: int = 0, segments_left: int | None = None) -> RoutingHeader:
        """A type 0/2 header (4 reserved bytes, then the addresses) or a type 4 SRH
        (last entry, flags 0, tag 0, then the segments)."""
        left = len(addresses) if segments_left is None else segments_left
        if routing_type == 4:
            head = bytes((max(len(addresses) - 1, 0), 0, 0, 0))
        else:
            head = bytes(4)
        return cls(next_header, routing_type, left, head + b"".join(addresses))

    def encode(self) -> bytes:
        if (4 + len(self.data)) % 8:
            raise ValueError("routing header must be a multiple of 8 bytes")
        return bytes((self.next_header, (4 + len(self.data)) // 8 - 1, self.routing_type,
                      self.segments_left)) + self.data


class FragmentHeader(NamedTuple):
    """Fragment header (44): 8 bytes."""

    next_header: int
    frag_offset: int = 0  # in 8-byte units
    more: bool = False  # the M flag
    ident: int = 0
    reserved: int = 0  # the byte after next header
    res2: int = 0  # the two reserved bits beside M

    length = 8

    @property
    def offset_bytes(self) -> int:
        return self.frag_offset * 8

    @property
    def is_first(self) -> bool:
        return self.frag_offset == 0

    @property
    def is_atomic(self) -> bool:
        """Offset 0 and no more fragments: a whole datagram with a fragment header."""
        return self.frag_offset == 0 and not self.more

    @classmethod
    def parse(cls, buf: bytes) -> FragmentHeader:
        if len(buf) < 8:
            raise Truncated("frag6", 8, len(buf))
        nh, res, offlg, ident = _FRAG.unpack_from(buf)
        return cls(nh, offlg >> 3, bool(offlg & 1), ident, res, (offlg >> 1) & 3)

    def encode(self) -> bytes:
        if not 0 <= self.frag_offset < 8192:
            raise ValueError("fragment offset is 13 bits (8-byte units)")
        offlg = (self.frag_offset << 3) | ((self.res2 & 3) << 1) | int(self.more)
        return _FRAG.pack(self.next_header, self.reserved, offlg, self.ident & 0xFFFFFFFF)


class AHHeader(NamedTuple):
    """Authentication header (51, RFC 4302): walked through, never verified."""

    next_header: int
    spi: int
    seq: int
    icv: bytes = b""
    reserved: int = 0

    @property
    def length(self) -> int:
        return 12 + len(self.icv)

    @classmethod
    def parse(cls, buf: bytes) -> AHHeader:
        if len(buf) < 2:
            raise Truncated("ah", 2, len(buf))
        size = (buf[1] + 2) * 4
        if size < 12:
            raise Malformed("ah", f"length {size} < 12")
        if len(buf) < size:
            raise Truncated("ah", size, len(buf))
        nh, _, res, spi, seq = _AH.unpack_from(buf)
        return cls(nh, spi, seq, bytes(buf[12:size]), res)

    def encode(self) -> bytes:
        if (12 + len(self.icv)) % 8:
            raise ValueError("an IPv6 AH is a multiple of 8 bytes")
        return _AH.pack(self.next_header, (12 + len(self.icv)) // 4 - 2, self.reserved,
                        self.spi, self.seq) + self.icv


ExtHeader = OptionsHeader | RoutingHeader | FragmentHeader | AHHeader


def ext_kind(header: ExtHeader) -> int:
    """The protocol number that announced ``header`` (0, 43, 44, 51 or 60)."""
    if isinstance(header, OptionsHeader):
        return header.kind
    if isinstance(header, RoutingHeader):
        return 43
    if isinstance(header, FragmentHeader):
        return 44
    return 51


class ExtChain(NamedTuple):
    """What ``walk_extensions`` found: the headers in order with their offsets, the
    protocol and offset where it stopped, and the error that stopped it early."""

    headers: tuple[ExtHeader, ...]
    offsets: tuple[int, ...]  # where each header starts in the walked buffer
    protocol: int  # the upper layer (or 59, 50, or the header that could not be read)
    offset: int  # where that protocol's bytes start
    error: DecodeError | None = None

    @property
    def fragment(self) -> FragmentHeader | None:
        for header in self.headers:
            if isinstance(header, FragmentHeader):
                return header
        return None

    @property
    def routing(self) -> RoutingHeader | None:
        for header in self.headers:
            if isinstance(header, RoutingHeader):
                return header
        return None

    @property
    def upper_layer_present(self) -> bool:
        """The upper-layer header starts at ``offset`` (the walk ended cleanly on a
        first fragment or no fragment)."""
        frag = self.fragment
        return self.error is None and (frag is None or frag.frag_offset == 0) and (
            self.protocol not in EXTENSION_TYPES)

    @property
    def is_fragmented(self) -> bool:
        """A fragment of a larger datagram (an atomic fragment header is not)."""
        frag = self.fragment
        return frag is not None and not frag.is_atomic

    def final_destination(self, dst: bytes) -> bytes:
        """The destination for the upper-layer pseudo-header (RFC 8200 §8.1)."""
        rt = self.routing
        if rt is not None:
            final = rt.final_destination
            if final is not None:
                return final
        return dst


def walk_extensions(buf: bytes, next_header: int, offset: int = 40,
                    end: int | None = None, max_headers: int = MAX_EXTENSIONS) -> ExtChain:
    """Walk the extension headers of the datagram in ``buf`` from ``offset`` (just after
    the fixed header) to ``end`` (the payload's end; default ``len(buf)``).  Never raises.

    A header cut by the end of ``buf`` stops the walk with ``Truncated``; one that runs
    past ``end`` (the payload length) while the bytes are there, a hop-by-hop header
    anywhere but first, or more than ``max_headers`` headers stop it with ``Malformed``.
    """
    n = len(buf)
    limit = n if end is None else end
    headers: list[ExtHeader] = []
    offsets: list[int] = []
    nh = next_header
    p = offset
    while nh in EXTENSION_TYPES:
        if len(headers) >= max_headers:
            return ExtChain(tuple(headers), tuple(offsets), nh, p,
                            Malformed("ip6", f"more than {max_headers} extension headers"))
        if nh == 0 and headers:
            return ExtChain(tuple(headers), tuple(offsets), nh, p,
                            Malformed("ip6", "hop-by-hop options header not first"))
        try:
            view = buf[p:limit]
            if nh == 0 or nh == 60:
                header: ExtHeader = OptionsHeader.parse(view, nh)
            elif nh == 43:
                header = RoutingHeader.parse(view)
            elif nh == 44:
                header = FragmentHeader.parse(view)
            else:
                header = AHHeader.parse(view)
        except Truncated as exc:
            err: DecodeError = exc
            if p + exc.needed <= n:  # the bytes are there: the header outgrows the payload
                err = Malformed(exc.layer, f"header of {exc.needed} bytes runs past the "
                                           f"payload ({limit - p} left)")
            return ExtChain(tuple(headers), tuple(offsets), nh, p, err)
        except Malformed as exc:
            return ExtChain(tuple(headers), tuple(offsets), nh, p, exc)
        headers.append(header)
        offsets.append(p)
        p += header.length
        nh = header.next_header
        if isinstance(header, FragmentHeader) and header.frag_offset:
            break  # a non-first fragment: what follows is the middle of a datagram
    return ExtChain(tuple(headers), tuple(offsets), nh, p)


def encode_chain(headers: list[ExtHeader] | tuple[ExtHeader, ...]) -> bytes:
    return b"".join(h.encode() for h in headers)


__all__ = [
    "ALL_NODES", "ALL_ROUTERS", "AHHeader", "EXTENSION_TYPES", "ExtChain", "ExtHeader",
    "FragmentHeader", "IPv6Header", "IPv6Option", "NextHeader", "OptionsHeader",
    "RoutingHeader", "UNSPECIFIED", "encode_chain", "ext_kind", "ip6_bytes", "ip6_str",
    "is_link_local", "is_multicast", "multicast_mac", "pad_options", "parse_options",
    "pseudo_header", "solicited_node", "upper_checksum", "upper_checksum_ok",
    "walk_extensions",
]
