"""IPv4 headers (RFC 791): options, fragments, checksum verdict.

``IPv4Header.parse`` checks version, IHL and total length; with
``quoted=True`` (the datagram quoted inside an ICMP error) it accepts a
total length larger than the bytes present, because routers usually quote
only the header and 8 bytes.  The payload of a datagram is
``buf[header_length:total_length]``: Ethernet padding never belongs to it.
"""

from __future__ import annotations

import socket
import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated
from pcapping.wire.checksum import checksum_ok, internet_checksum

_HDR = struct.Struct("!BBHHHBBH4s4s")

DF = 0x4000
MF = 0x2000
RF = 0x8000


class IPProto(IntEnum):
    ICMP = 1
    IGMP = 2
    TCP = 6
    UDP = 17
    GRE = 47
    ESP = 50
    ICMPV6 = 58
    SCTP = 132


def ip_str(addr: bytes) -> str:
    """Dotted quad for a 4-byte address."""
    return socket.inet_ntoa(addr)


def ip_bytes(text: str) -> bytes:
    """4 bytes for a dotted quad; ``OSError`` for anything else."""
    return socket.inet_aton(text) if text.count(".") == 3 else socket.inet_pton(
        socket.AF_INET, text)


class IPv4Header(NamedTuple):
    src: bytes
    dst: bytes
    protocol: int
    ttl: int = 64
    ident: int = 0
    tos: int = 0
    flags: int = 0  # the top three bits of the fragment word, as 0x4000 (DF) etc.
    frag_offset: int = 0  # in 8-byte units
    total_length: int = 20
    options: bytes = b""
    version: int = 4
    checksum: int | None = None  # as found by parse(); encode() recomputes
    checksum_ok: bool | None = True  # None: header not fully captured

    @property
    def header_length(self) -> int:
        return 20 + len(self.options)

    @property
    def ihl(self) -> int:
        return self.header_length // 4

    @property
    def df(self) -> bool:
        return bool(self.flags & DF)

    @property
    def mf(self) -> bool:
        return bool(self.flags & MF)

    @property
    def is_fragment(self) -> bool:
        return bool(self.flags & MF) or self.frag_offset != 0

    @classmethod
    def parse(cls, buf: bytes, quoted: bool = False) -> IPv4Header:
        n = len(buf)
        if n < 20:
            raise Truncated("ip", 20, n)
        vihl, tos, total, ident, frag, ttl, proto, csum, src, dst = _HDR.unpack_from(buf)
        version = vihl >> 4
        if version != 4:
            raise Malformed("ip", f"version {version}")
        hlen = (vihl & 0x0F) * 4
        if hlen < 20:
            raise Malformed("ip", f"header length {hlen} < 20")
        if n < hlen:
            raise Truncated("ip", hlen, n)
        if total < hlen and not quoted:
            raise Malformed("ip", f"total length {total} < header length {hlen}")
        ok = checksum_ok(buf[:hlen])
        return cls(
            src, dst, proto, ttl, ident, tos, frag & 0xE000, frag & 0x1FFF, total,
            bytes(buf[20:hlen]), 4, csum, ok,
        )

    def encode(self, payload: bytes = b"") -> bytes:
        """Header (checksum recomputed) followed by ``payload``.

        ``total_length`` is taken from the value when ``payload`` is empty and
        the value says more (a header-only encode), else from the payload.
        """
        hlen = 20 + len(self.options)
        if hlen % 4 or hlen > 60:
            raise ValueError("IPv4 options must pad the header to a multiple of 4, at most 60")
        total = hlen + len(payload) if payload or self.total_length < hlen else self.total_length
        head = _HDR.pack(
            (self.version << 4) | (hlen // 4), self.tos, total, self.ident,
            self.flags | self.frag_offset, self.ttl, self.protocol, 0, self.src, self.dst,
        ) + self.options
        csum = internet_checksum(head)
        return head[:10] + csum.to_bytes(2, "big") + head[12:] + payload
