"""ICMP for IPv4 (RFC 792, 1191, 1812, 4884): three shapes.

- ``ICMPEcho``: echo request (8) and reply (0).
- ``ICMPError``: the messages that quote a datagram: destination unreachable
  (3, every code, next-hop MTU for code 4), source quench (4), redirect (5,
  gateway), time exceeded (11) and parameter problem (12, pointer).  The
  quoted datagram is parsed leniently by ``parse_quoted``; its own checksum
  gets its own verdict, and a wrong one is normal behind NAT.  Types 3, 11 and
  12 may carry an RFC 4884 extension structure after the quote (``extension``,
  ``quoted_bytes``; MPLS and interface objects in ``wire/ext.py``).
- ``ICMPOther``: anything else (timestamp, info, mask, router advertisement,
  unknown types), kept as numbers with the 4 bytes after the checksum.

``parse_icmp(buf, verify)`` picks the shape.  The checksum verdict covers the
whole message, so the caller passes ``verify=False`` when bytes are missing
(then ``checksum_ok`` is ``None``).  ``encode()`` always recomputes it.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import DecodeError, Truncated
from pcapping.wire.checksum import checksum_ok, internet_checksum
from pcapping.wire.ext import FoundExtension, locate_extension
from pcapping.wire.ipv4 import IPv4Header

_HDR = struct.Struct("!BBH")
_TS = struct.Struct("!III")


class ICMPType(IntEnum):
    ECHO_REPLY = 0
    DEST_UNREACH = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ALT_HOST_ADDRESS = 6
    ECHO_REQUEST = 8
    ROUTER_ADVERT = 9
    ROUTER_SOLICIT = 10
    TIME_EXCEEDED = 11
    PARAM_PROBLEM = 12
    TIMESTAMP = 13
    TIMESTAMP_REPLY = 14
    INFO_REQUEST = 15
    INFO_REPLY = 16
    MASK_REQUEST = 17
    MASK_REPLY = 18
    EXT_ECHO_REQUEST = 42
    EXT_ECHO_REPLY = 43


class Unreach(IntEnum):
    """Destination unreachable codes (RFC 792, 1122, 1812)."""

    NET = 0
    HOST = 1
    PROTOCOL = 2
    PORT = 3
    FRAG_NEEDED = 4
    SOURCE_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    HOST_ISOLATED = 8
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    TOS_NET = 11
    TOS_HOST = 12
    FILTER_PROHIBITED = 13
    HOST_PRECEDENCE = 14
    PRECEDENCE_CUTOFF = 15


ERROR_TYPES = frozenset((3, 4, 5, 11, 12))
EXTENSION_TYPES = frozenset((3, 11, 12))  # RFC 4884: the errors that may carry extensions
# Types whose 4 bytes after the checksum are an identifier and a sequence number.
ID_SEQ_TYPES = frozenset((0, 8, 13, 14, 15, 16, 17, 18))


def _encode(icmp_type: int, code: int, rest: bytes, payload: bytes) -> bytes:
    """Type, code, a freshly computed checksum, the 4 bytes after it, then the payload."""
    head = _HDR.pack(icmp_type, code, 0) + rest
    csum = internet_checksum(head + payload)
    return head[:2] + csum.to_bytes(2, "big") + head[4:] + payload


class ICMPEcho(NamedTuple):
    is_reply: bool
    ident: int
    seq: int
    payload: bytes = b""
    checksum: int | None = None  # as found by parse(); encode() recomputes
    checksum_ok: bool | None = True  # None: message not fully captured
    code: int = 0  # always 0 on a well-formed echo, but kept as found

    @property
    def icmp_type(self) -> int:
        return 0 if self.is_reply else 8

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    def encode(self) -> bytes:
        rest = struct.pack("!HH", self.ident, self.seq)
        return _encode(0 if self.is_reply else 8, self.code, rest, self.payload)


class QuotedDatagram(NamedTuple):
    """What an ICMP error quotes: the offending datagram's header and the start of its data."""

    ip: IPv4Header | None
    icmp: ICMPEcho | ICMPOther | None = None  # the quoted ICMP header (first 8 bytes)
    sport: int | None = None  # quoted UDP/TCP ports
    dport: int | None = None
    problem: str | None = None  # why the quote could not be read fully


class ICMPError(NamedTuple):
    icmp_type: int
    code: int
    payload: bytes = b""  # the quoted datagram, as carried
    rest: bytes = b"\0\0\0\0"  # the 4 bytes after the checksum (MTU, gateway, pointer)
    checksum: int | None = None
    checksum_ok: bool | None = True

    @property
    def mtu(self) -> int | None:
        """Next-hop MTU of a frag-needed (3/4) message (RFC 1191); None elsewhere."""
        if self.icmp_type == 3 and self.code == 4:
            return int.from_bytes(self.rest[2:4], "big")
        return None

    @property
    def gateway(self) -> bytes | None:
        return self.rest if self.icmp_type == 5 else None

    @property
    def pointer(self) -> int | None:
        return self.rest[0] if self.icmp_type == 12 else None

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    @property
    def quoted(self) -> QuotedDatagram:
        return parse_quoted(self.payload)

    @property
    def quote_length(self) -> int:
        """RFC 4884 length of the original-datagram field in 32-bit words (0: not set);
        only destination unreachable, time exceeded and parameter problem carry it."""
        return self.rest[1] if self.icmp_type in EXTENSION_TYPES else 0

    @property
    def extension(self) -> FoundExtension | None:
        """The RFC 4884 extension structure after the quote (or at offset 128 from a
        router older than RFC 4884), or None."""
        if self.icmp_type not in EXTENSION_TYPES:
            return None
        return locate_extension(self.payload, self.rest[1], 4)

    @property
    def quoted_bytes(self) -> bytes:
        """The original-datagram field without any extension structure."""
        found = self.extension
        return self.payload if found is None else found.quote

    def encode(self) -> bytes:
        return _encode(self.icmp_type, self.code, self.rest, self.payload)

    @classmethod
    def build(cls, icmp_type: int, code: int, quoted: bytes, *, rest: bytes = b"\0\0\0\0",
              extension: bytes | None = None, compliant: bool = True) -> ICMPError:
        """An error quoting ``quoted`` with ``extension`` (an encoded structure) after it:
        the quote zero-padded to 128 bytes (a multiple of 4 beyond) and the RFC 4884
        length field set; not ``compliant``: cut or padded to exactly 128 bytes with the
        length field 0, as routers older than RFC 4884 did."""
        if extension is None:
            return cls(icmp_type, code, quoted, rest)
        size = max(128, len(quoted) + (-len(quoted) % 4)) if compliant else 128
        padded = (quoted + bytes(max(0, size - len(quoted))))[:size]
        length = size // 4 if compliant else 0
        return cls(icmp_type, code, padded + extension, rest[:1] + bytes((length,)) + rest[2:])


class ICMPOther(NamedTuple):
    icmp_type: int
    code: int
    rest: bytes = b"\0\0\0\0"
    payload: bytes = b""
    checksum: int | None = None
    checksum_ok: bool | None = True

    @property
    def ident(self) -> int | None:
        return int.from_bytes(self.rest[:2], "big") if self.icmp_type in ID_SEQ_TYPES else None

    @property
    def seq(self) -> int | None:
        return int.from_bytes(self.rest[2:], "big") if self.icmp_type in ID_SEQ_TYPES else None

    @property
    def timestamps(self) -> tuple[int, int, int] | None:
        """(originate, receive, transmit) ms since midnight UT, for types 13 and 14."""
        if self.icmp_type in (13, 14) and len(self.payload) >= 12:
            return _TS.unpack_from(self.payload)
        return None

    @property
    def length(self) -> int:
        return 8 + len(self.payload)

    def encode(self) -> bytes:
        return _encode(self.icmp_type, self.code, self.rest, self.payload)


ICMPMessage = ICMPEcho | ICMPError | ICMPOther


def parse_icmp(buf: bytes, verify: bool = True) -> ICMPMessage:
    """Parse one ICMP message; raises ``Truncated`` under 8 bytes."""
    if len(buf) < 8:
        raise Truncated("icmp", 8, len(buf))
    icmp_type, code, csum = _HDR.unpack_from(buf)
    ok = checksum_ok(buf) if verify else None
    if icmp_type == 8 or icmp_type == 0:
        ident, seq = struct.unpack_from("!HH", buf, 4)
        return ICMPEcho(icmp_type == 0, ident, seq, bytes(buf[8:]), csum, ok, code)
    if icmp_type in ERROR_TYPES:
        return ICMPError(icmp_type, code, bytes(buf[8:]), bytes(buf[4:8]), csum, ok)
    return ICMPOther(icmp_type, code, bytes(buf[4:8]), bytes(buf[8:]), csum, ok)


def parse_quoted(data: bytes) -> QuotedDatagram:
    """Leniently parse a quoted datagram; never raises."""
    try:
        ip = IPv4Header.parse(data, quoted=True)
    except DecodeError as exc:
        return QuotedDatagram(None, problem=str(exc))
    inner = data[ip.header_length :]
    if ip.frag_offset:
        return QuotedDatagram(ip)
    if ip.protocol == 1:
        whole = len(data) >= ip.total_length >= ip.header_length
        if whole:
            inner = inner[: ip.total_length - ip.header_length]
        try:
            return QuotedDatagram(ip, icmp=_parse_quoted_icmp(inner, whole))
        except DecodeError as exc:
            return QuotedDatagram(ip, problem=str(exc))
    if ip.protocol in (6, 17, 132):
        if len(inner) < 4:
            return QuotedDatagram(ip, problem=str(Truncated("ports", 4, len(inner))))
        sport, dport = struct.unpack_from("!HH", inner)
        return QuotedDatagram(ip, sport=sport, dport=dport)
    return QuotedDatagram(ip)


def _parse_quoted_icmp(inner: bytes, whole: bool) -> ICMPEcho | ICMPOther:
    """The quoted ICMP header; verified only when the whole message was quoted."""
    msg = parse_icmp(inner, verify=whole)
    if isinstance(msg, ICMPError):  # an error about an error: keep numbers only
        return ICMPOther(msg.icmp_type, msg.code, msg.rest, msg.payload, msg.checksum,
                         msg.checksum_ok)
    return msg
