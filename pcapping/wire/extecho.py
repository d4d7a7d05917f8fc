"""RFC 8335 PROBE: extended echo request and reply, for ICMP (42/43) and ICMPv6 (160/161).

Request: identifier (16 bits), sequence number (8 bits), 7 reserved bits and the L
bit (the probed interface is the one the request arrived on), then an ICMP
extension structure (RFC 4884) holding one Interface Identification object
(``InterfaceQuery``: by name, by ifIndex, or by address, IPv4 or IPv6).

Reply: identifier, sequence number, then State (3 bits, the neighbour state when
the probed address is a neighbour's), 2 reserved bits and the A (active), 4 (IPv4
running) and 6 (IPv6 running) bits; the code says whether the query made sense:
0 no error, 1 malformed query, 2 no such interface, 3 no such table entry,
4 multiple interfaces satisfy query.  Linux (``net.ipv4.icmp_echo_enable_probe``)
returns the request's data after the reply header; ``payload`` keeps it.

``encode()`` gives the ICMPv4 message, ``encode6(src, dst)`` the ICMPv6 one (the
pseudo-header checksum); ``parse_ext_echo(msg)`` reads either family's message by
its type (checksum left to the ICMP/ICMPv6 layer), and ``ext_echo_of(icmp)`` does
it for a decoded ``ICMPOther`` / ``ICMP6Other``.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import DecodeError, Malformed, Truncated
from pcapping.wire.checksum import internet_checksum
from pcapping.wire.ext import INTERFACE_ID, ICMPExtension, InterfaceQuery
from pcapping.wire.icmp6 import encode_icmp6

_HEAD = struct.Struct("!BBHHBB")

REQUEST_TYPES = {4: 42, 6: 160}
REPLY_TYPES = {4: 43, 6: 161}


class ProbeCode(IntEnum):
    NO_ERROR = 0
    MALFORMED_QUERY = 1
    NO_SUCH_INTERFACE = 2
    NO_SUCH_TABLE_ENTRY = 3
    MULTIPLE_INTERFACES = 4


class ProbeState(IntEnum):
    RESERVED = 0
    INCOMPLETE = 1
    REACHABLE = 2
    STALE = 3
    DELAY = 4
    PROBE = 5
    FAILED = 6


PROBE_CODE_TEXT = {0: "No Error", 1: "Malformed Query", 2: "No Such Interface",
                   3: "No Such Table Entry", 4: "Multiple Interfaces Satisfy Query"}


def _v4(icmp_type: int, code: int, rest: bytes, payload: bytes) -> bytes:
    head = bytes((icmp_type, code, 0, 0)) + rest
    csum = internet_checksum(head + payload)
    return head[:2] + csum.to_bytes(2, "big") + head[4:] + payload


class ExtEchoRequest(NamedTuple):
    ident: int
    seq: int  # 8 bits
    query: InterfaceQuery | None = None
    local: bool = False  # the L bit
    payload: bytes = b""  # as found by parse(); encode() builds it from ``query``
    code: int = 0
    checksum: int | None = None
    checksum_ok: bool | None = True
    reserved: int = 0  # the 7 bits before L

    def _rest(self) -> bytes:
        return struct.pack("!HBB", self.ident, self.seq & 0xFF,
                           ((self.reserved & 0x7F) << 1) | int(self.local))

    def _body(self) -> bytes:
        if self.query is None:
            return self.payload
        return ICMPExtension((self.query.to_object(),)).encode()

    def encode(self) -> bytes:
        """The ICMPv4 message (type 42)."""
        return _v4(42, self.code, self._rest(), self._body())

    def encode6(self, src: bytes, dst: bytes) -> bytes:
        """The ICMPv6 message (type 160)."""
        return encode_icmp6(160, self.code, self._rest(), self._body(), src, dst)

    @property
    def extension(self) -> ICMPExtension | None:
        try:
            return ICMPExtension.parse(self.payload) if self.payload else None
        except DecodeError:
            return None


class ExtEchoReply(NamedTuple):
    ident: int
    seq: int  # 8 bits
    code: int = 0  # ProbeCode
    state: int = 0  # ProbeState (meaningful for a neighbour's address)
    active: bool = False  # A
    ipv4: bool = False  # 4
    ipv6: bool = False  # 6
    payload: bytes = b""
    checksum: int | None = None
    checksum_ok: bool | None = True
    reserved: int = 0  # the 2 bits after State

    @property
    def flags_byte(self) -> int:
        return ((self.state & 7) << 5) | ((self.reserved & 3) << 3) | (
            int(self.active) << 2) | (int(self.ipv4) << 1) | int(self.ipv6)

    def _rest(self) -> bytes:
        return struct.pack("!HBB", self.ident, self.seq & 0xFF, self.flags_byte)

    def encode(self) -> bytes:
        """The ICMPv4 message (type 43)."""
        return _v4(43, self.code, self._rest(), self.payload)

    def encode6(self, src: bytes, dst: bytes) -> bytes:
        """The ICMPv6 message (type 161)."""
        return encode_icmp6(161, self.code, self._rest(), self.payload, src, dst)

    @property
    def code_text(self) -> str:
        return PROBE_CODE_TEXT.get(self.code, f"code {self.code}")


ExtEcho = ExtEchoRequest | ExtEchoReply


def parse_ext_echo(msg: bytes, checksum_ok: bool | None = None) -> ExtEcho:
    """The extended echo in ICMP(v6) message ``msg`` (type 42, 43, 160 or 161).

    A request's interface object is read from its extension structure; a structure
    that is missing or unreadable leaves ``query`` None (a malformed query is the
    answering host's business: it says so with code 1)."""
    if len(msg) < 8:
        raise Truncated("probe", 8, len(msg))
    kind, code, csum, ident, seq, bits = _HEAD.unpack_from(msg)
    payload = bytes(msg[8:])
    if kind in (42, 160):
        query = None
        try:
            ext = ICMPExtension.parse(payload)
            obj = ext.object(INTERFACE_ID)
            if obj is not None:
                query = InterfaceQuery.from_object(obj)
        except DecodeError:
            query = None
        return ExtEchoRequest(ident, seq, query, bool(bits & 1), payload, code, csum,
                              checksum_ok, bits >> 1)
    if kind in (43, 161):
        return ExtEchoReply(ident, seq, code, bits >> 5, bool(bits & 4), bool(bits & 2),
                            bool(bits & 1), payload, csum, checksum_ok, (bits >> 3) & 3)
    raise Malformed("probe", f"type {kind} is not an extended echo")


def ext_echo_of(icmp: object) -> ExtEcho | None:
    """The extended echo a decoded ``ICMPOther`` or ``ICMP6Other`` carries, or None."""
    kind = getattr(icmp, "icmp_type", None)
    if kind not in (42, 43, 160, 161):
        return None
    msg = bytes((kind, icmp.code)) + (icmp.checksum or 0).to_bytes(2, "big") + (  # type: ignore[attr-defined]
        icmp.rest + icmp.payload)  # type: ignore[attr-defined]
    try:
        return parse_ext_echo(msg, icmp.checksum_ok)  # type: ignore[attr-defined]
    except DecodeError:
        return None


__all__ = [
    "ExtEcho", "ExtEchoReply", "ExtEchoRequest", "InterfaceQuery", "PROBE_CODE_TEXT",
    "ProbeCode", "ProbeState", "ext_echo_of", "parse_ext_echo",
]
