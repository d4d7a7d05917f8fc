"""ICMPv6 (RFC 4443) in the three shapes of IPv4 ICMP.

- ``ICMP6Echo``: echo request (128) and reply (129).
- ``ICMP6Error``: the messages that quote a datagram: destination unreachable
  (1, every code), packet too big (2, ``mtu``), time exceeded (3, codes 0/1) and
  parameter problem (4, ``pointer``, codes 0-3 and beyond).  ``quoted`` parses the
  quote leniently (``QuotedDatagram6``: IPv6 header, extension walk, the inner
  ICMPv6 echo id/seq or UDP/TCP ports); ``extension`` is the RFC 4884 structure
  after it when the length field (first byte after the checksum, 64-bit words) is
  set on a type 1 or 3 message.
- ``ICMP6Other``: everything else (NDP, MLD, RFC 8335 extended echo, node
  information, unknown types), kept as numbers, the 4 bytes after the checksum and
  the body; ``pcapping.wire.ndp``, ``.mld`` and ``.extecho`` parse those bodies.

The checksum covers an IPv6 pseudo-header (RFC 8200 §8.1), so encoding takes the
source and destination: ``encode(src, dst)``; ``icmp6_checksum(src, dst, msg)``
is the value for ``msg`` with a zero checksum field.  ``parse_icmp6(buf, src,
dst)`` verifies with them; pass ``verify=False`` (or no addresses) when bytes are
missing, and ``checksum_ok`` is ``None``.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import DecodeError, Truncated
from pcapping.wire.ext import ICMPExtension, split_quote
from pcapping.wire.ipv6 import (
    ExtChain,
    IPv6Header,
    upper_checksum,
    upper_checksum_ok,
    walk_extensions,
)

_HDR = struct.Struct("!BBH")


class ICMP6Type(IntEnum):
    DEST_UNREACH = 1
    PACKET_TOO_BIG = 2
    TIME_EXCEEDED = 3
    PARAM_PROBLEM = 4
    ECHO_REQUEST = 128
    ECHO_REPLY = 129
    MLD_QUERY = 130
    MLD_REPORT = 131
    MLD_DONE = 132
    ROUTER_SOLICIT = 133
    ROUTER_ADVERT = 134
    NEIGHBOR_SOLICIT = 135
    NEIGHBOR_ADVERT = 136
    REDIRECT = 137
    ROUTER_RENUMBERING = 138
    NODE_INFO_QUERY = 139
    NODE_INFO_REPLY = 140
    INV_NEIGHBOR_SOLICIT = 141
    INV_NEIGHBOR_ADVERT = 142
    MLDV2_REPORT = 143
    HA_DISCOVERY_REQUEST = 144
    HA_DISCOVERY_REPLY = 145
    MOBILE_PREFIX_SOLICIT = 146
    MOBILE_PREFIX_ADVERT = 147
    RPL = 155
    EXT_ECHO_REQUEST = 160
    EXT_ECHO_REPLY = 161


class Unreach6(IntEnum):
    """Destination unreachable codes (RFC 4443 §3.1, RFC 8335 none, RFC 7112 none)."""

    NO_ROUTE = 0
    ADMIN_PROHIBITED = 1
    BEYOND_SCOPE = 2
    ADDRESS = 3
    PORT = 4
    SOURCE_POLICY = 5
    REJECT_ROUTE = 6
    SOURCE_ROUTING_HEADER = 7  # RFC 8554
    HEADERS_TOO_LONG = 8  # RFC 8883


class ParamProblem6(IntEnum):
    HEADER = 0
    NEXT_HEADER = 1
    OPTION = 2
    INCOMPLETE_CHAIN = 3  # RFC 7112


ERROR_TYPES6 = frozenset((1, 2, 3, 4))
NDP_TYPES = frozenset((133, 134, 135, 136, 137))
MLD_TYPES = frozenset((130, 131, 132, 143))
EXT_ECHO_TYPES6 = frozenset((160, 161))


def icmp6_checksum(src: bytes, dst: bytes, msg: bytes) -> int:
    """The checksum field value for ICMPv6 message ``msg`` (its checksum field zero)."""
    return upper_checksum(src, dst, 58, msg)


def icmp6_checksum_ok(src: bytes, dst: bytes, msg: bytes) -> bool:
    return upper_checksum_ok(src, dst, 58, msg)


def encode_icmp6(icmp_type: int, code: int, rest: bytes, payload: bytes, src: bytes,
                 dst: bytes) -> bytes:
    """Type, code, the pseudo-header checksum, the 4 bytes after it, then the payload."""
    head = _HDR.pack(icmp_type, code, 0) + rest
    csum = icmp6_checksum(src, dst, head + payload)
    return head[:2] + csum.to_bytes(2, "big") + head[4:] + payload


class ICMP6Echo(NamedTuple):
    is_reply: bool
    ident: int
    seq: int
    payload: bytes = b""
    checksum: int | None = None  # as found by parse(); encode() recomputes
    checksum_ok: bool | None = True  # None: not verifiable (bytes missing, fragment)
    code: int = 0

    @property
    def icmp_type(self) -> int:
        return 129 if self.is_reply else 128

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(self.icmp_type, self.code, struct.pack("!HH", self.ident, self.seq),
                            self.payload, src, dst)


class QuotedDatagram6(NamedTuple):
    """What an ICMPv6 error quotes: the offending datagram's header, its extension
    chain, and the start of its upper layer."""

    ip6: IPv6Header | None
    ext: ExtChain | None = None
    icmp6: ICMP6Echo | ICMP6Other | None = None
    sport: int | None = None
    dport: int | None = None
    problem: str | None = None

    @property
    def protocol(self) -> int | None:
        return None if self.ext is None else self.ext.protocol


class ICMP6Error(NamedTuple):
    icmp_type: int
    code: int
    payload: bytes = b""  # the quoted datagram (and any RFC 4884 extension), as carried
    rest: bytes = b"\0\0\0\0"  # the 4 bytes after the checksum (MTU, pointer, length)
    checksum: int | None = None
    checksum_ok: bool | None = True

    @property
    def mtu(self) -> int | None:
        """The MTU of a packet too big (type 2); None elsewhere."""
        return int.from_bytes(self.rest, "big") if self.icmp_type == 2 else None

    @property
    def pointer(self) -> int | None:
        """The offset of the offending octet of a parameter problem (type 4)."""
        return int.from_bytes(self.rest, "big") if self.icmp_type == 4 else None

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    @property
    def quote_length(self) -> int | None:
        """RFC 4884 length of the quote in 64-bit words (types 1 and 3), when set."""
        if self.icmp_type in (1, 3) and self.rest[0]:
            return self.rest[0]
        return None

    def _split(self) -> tuple[bytes, bytes | None]:
        if self.icmp_type in (1, 3):
            return split_quote(self.payload, self.rest[0], 8)
        return self.payload, None

    @property
    def quoted_bytes(self) -> bytes:
        return self._split()[0]

    @property
    def quoted(self) -> QuotedDatagram6:
        return parse_quoted6(self._split()[0])

    @property
    def extension(self) -> ICMPExtension | None:
        """The RFC 4884 extension structure, or None (absent or unreadable)."""
        raw = self._split()[1]
        if raw is None:
            return None
        try:
            return ICMPExtension.parse(raw)
        except DecodeError:
            return None

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(self.icmp_type, self.code, self.rest, self.payload, src, dst)

    @classmethod
    def build(cls, icmp_type: int, code: int, quoted: bytes, *, mtu: int | None = None,
              pointer: int | None = None, extension: ICMPExtension | None = None,
              ) -> ICMP6Error:
        """An error quoting ``quoted``; with ``extension``, the quote is zero-padded to
        a multiple of 8 bytes (at least 128) and the length field set (RFC 4884)."""
        if mtu is not None:
            rest = mtu.to_bytes(4, "big")
        elif pointer is not None:
            rest = pointer.to_bytes(4, "big")
        else:
            rest = bytes(4)
        payload = quoted
        if extension is not None:
            size = max(128, len(quoted) + (-len(quoted) % 8))
            payload = quoted + bytes(size - len(quoted))
            rest = bytes((size // 8,)) + rest[1:]
            payload += extension.encode()
        return cls(icmp_type, code, payload, rest)


class ICMP6Other(NamedTuple):
    icmp_type: int
    code: int
    rest: bytes = b"\0\0\0\0"
    payload: bytes = b""
    checksum: int | None = None
    checksum_ok: bool | None = True

    @property
    def ident(self) -> int | None:
        """Identifier of an extended echo (160/161); None elsewhere."""
        if self.icmp_type in EXT_ECHO_TYPES6:
            return int.from_bytes(self.rest[:2], "big")
        return None

    @property
    def seq(self) -> int | None:
        """The 8-bit sequence number of an extended echo (160/161); None elsewhere."""
        return self.rest[2] if self.icmp_type in EXT_ECHO_TYPES6 else None

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    @property
    def body(self) -> bytes:
        """The whole message without its first 4 bytes (the NDP/MLD view)."""
        return self.rest + self.payload

    def raw(self) -> bytes:
        """The message bytes with the checksum as found (0 when it was never set)."""
        return _HDR.pack(self.icmp_type, self.code, self.checksum or 0) + self.rest + (
            self.payload)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(self.icmp_type, self.code, self.rest, self.payload, src, dst)


ICMP6Message = ICMP6Echo | ICMP6Error | ICMP6Other


def parse_icmp6(buf: bytes, src: bytes | None = None, dst: bytes | None = None,
                verify: bool = True) -> ICMP6Message:
    """Parse one ICMPv6 message (``Truncated`` under 8 bytes).  The checksum is verified
    against the pseudo-header of ``src`` and ``dst`` (the final destination) when both
    are given and ``verify`` is true; else ``checksum_ok`` is ``None``."""
    if len(buf) < 8:
        raise Truncated("icmp6", 8, len(buf))
    icmp_type, code, csum = _HDR.unpack_from(buf)
    ok = upper_checksum_ok(src, dst, 58, buf) if (
        verify and src is not None and dst is not None) else None
    if icmp_type == 128 or icmp_type == 129:
        ident, seq = struct.unpack_from("!HH", buf, 4)
        return ICMP6Echo(icmp_type == 129, ident, seq, bytes(buf[8:]), csum, ok, code)
    if icmp_type in ERROR_TYPES6:
        return ICMP6Error(icmp_type, code, bytes(buf[8:]), bytes(buf[4:8]), csum, ok)
    return ICMP6Other(icmp_type, code, bytes(buf[4:8]), bytes(buf[8:]), csum, ok)


def parse_quoted6(data: bytes) -> QuotedDatagram6:
    """Leniently parse a datagram quoted by an ICMPv6 error; never raises."""
    try:
        ip6 = IPv6Header.parse(data)
    except DecodeError as exc:
        return QuotedDatagram6(None, problem=str(exc))
    end = min(len(data), 40 + ip6.payload_length)
    whole = len(data) >= 40 + ip6.payload_length
    chain = walk_extensions(data, ip6.next_header, 40, len(data))
    if chain.error is not None:
        return QuotedDatagram6(ip6, chain, problem=str(chain.error))
    if not chain.upper_layer_present:
        return QuotedDatagram6(ip6, chain)
    inner = data[chain.offset:end] if chain.offset <= end else b""
    if chain.protocol == 58:
        try:
            msg = parse_icmp6(inner, ip6.src, chain.final_destination(ip6.dst),
                              verify=whole and not chain.is_fragmented)
        except DecodeError as exc:
            return QuotedDatagram6(ip6, chain, problem=str(exc))
        if isinstance(msg, ICMP6Error):  # an error about an error: numbers only
            msg = ICMP6Other(msg.icmp_type, msg.code, msg.rest, msg.payload, msg.checksum,
                             msg.checksum_ok)
        return QuotedDatagram6(ip6, chain, icmp6=msg)
    if chain.protocol in (6, 17, 132, 33):
        if len(inner) < 4:
            return QuotedDatagram6(ip6, chain, problem=str(Truncated("ports", 4, len(inner))))
        sport, dport = struct.unpack_from("!HH", inner)
        return QuotedDatagram6(ip6, chain, sport=sport, dport=dport)
    return QuotedDatagram6(ip6, chain)


__all__ = [
    "ERROR_TYPES6", "EXT_ECHO_TYPES6", "ICMP6Echo", "ICMP6Error", "ICMP6Message",
    "ICMP6Other", "ICMP6Type", "MLD_TYPES", "NDP_TYPES", "ParamProblem6", "QuotedDatagram6",
    "Unreach6", "encode_icmp6", "icmp6_checksum", "icmp6_checksum_ok", "parse_icmp6",
    "parse_quoted6",
]
