"""ARP (RFC 826), with hardware and protocol address lengths taken from the packet."""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import Truncated

_FIXED = struct.Struct("!HHBBH")


class ARPOp(IntEnum):
    REQUEST = 1
    REPLY = 2
    RARP_REQUEST = 3
    RARP_REPLY = 4
    INARP_REQUEST = 8
    INARP_REPLY = 9
    NAK = 10


class ARPPacket(NamedTuple):
    op: int
    sha: bytes  # sender hardware address
    spa: bytes  # sender protocol address
    tha: bytes
    tpa: bytes
    hardware_type: int = 1  # Ethernet
    protocol_type: int = 0x0800  # IPv4

    @property
    def hw_len(self) -> int:
        return len(self.sha)

    @property
    def proto_len(self) -> int:
        return len(self.spa)

    @property
    def length(self) -> int:
        return 8 + 2 * (len(self.sha) + len(self.spa))

    @classmethod
    def parse(cls, buf: bytes) -> ARPPacket:
        if len(buf) < 8:
            raise Truncated("arp", 8, len(buf))
        htype, ptype, hlen, plen, op = _FIXED.unpack_from(buf)
        need = 8 + 2 * (hlen + plen)
        if len(buf) < need:
            raise Truncated("arp", need, len(buf))
        o = 8
        sha = buf[o : o + hlen]
        o += hlen
        spa = buf[o : o + plen]
        o += plen
        tha = buf[o : o + hlen]
        o += hlen
        tpa = buf[o : o + plen]
        return cls(op, bytes(sha), bytes(spa), bytes(tha), bytes(tpa), htype, ptype)

    def encode(self) -> bytes:
        if len(self.tha) != len(self.sha) or len(self.tpa) != len(self.spa):
            raise ValueError("ARP sender and target addresses differ in length")
        head = _FIXED.pack(
            self.hardware_type, self.protocol_type, len(self.sha), len(self.spa), self.op
        )
        return head + self.sha + self.spa + self.tha + self.tpa
