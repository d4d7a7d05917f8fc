"""Ethernet II frames with any number of 802.1Q / 802.1ad (QinQ) tags."""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from pcapping.errors import Truncated

_ETH = struct.Struct("!6s6sH")
_TAG = struct.Struct("!HH")


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100  # 802.1Q customer tag
    QINQ = 0x88A8  # 802.1ad service tag
    QINQ_OLD = 0x9100  # pre-standard QinQ tags
    QINQ_OLD2 = 0x9200
    IPV6 = 0x86DD


TAG_TYPES = frozenset(
    (EtherType.VLAN, EtherType.QINQ, EtherType.QINQ_OLD, EtherType.QINQ_OLD2))


def mac_str(mac: bytes) -> str:
    """``02:00:00:00:00:01`` (lower-case hex, colon separated)."""
    return mac.hex(":")


def mac_bytes(text: str) -> bytes:
    """Parse ``02:00:00:00:00:01`` (or ``-`` separated) into 6 bytes."""
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return bytes(int(p, 16) for p in parts)


BROADCAST = b"\xff" * 6
ZERO_MAC = b"\x00" * 6


class VLANTag(NamedTuple):
    tpid: int  # the EtherType that announced this tag (0x8100, 0x88a8, ...)
    pcp: int
    dei: int
    vid: int

    @classmethod
    def unpack(cls, tpid: int, tci: int) -> VLANTag:
        return cls(tpid, tci >> 13, (tci >> 12) & 1, tci & 0x0FFF)

    @property
    def tci(self) -> int:
        return (self.pcp << 13) | (self.dei << 12) | self.vid


class EthernetHeader(NamedTuple):
    dst: bytes
    src: bytes
    ethertype: int  # the type after the last tag
    vlans: tuple[VLANTag, ...] = ()

    @property
    def header_length(self) -> int:
        return 14 + 4 * len(self.vlans)

    @classmethod
    def parse(cls, buf: bytes) -> EthernetHeader:
        if len(buf) < 14:
            raise Truncated("ethernet", 14, len(buf))
        dst, src, ethertype = _ETH.unpack_from(buf)
        if ethertype not in TAG_TYPES:
            return cls(dst, src, ethertype)
        vlans = []
        offset = 14
        while ethertype in TAG_TYPES:
            if len(buf) < offset + 4:
                raise Truncated("vlan", offset + 4, len(buf))
            tci, next_type = _TAG.unpack_from(buf, offset)
            vlans.append(VLANTag.unpack(ethertype, tci))
            ethertype = next_type
            offset += 4
        return cls(dst, src, ethertype, tuple(vlans))

    def encode(self) -> bytes:
        if not self.vlans:
            return _ETH.pack(self.dst, self.src, self.ethertype)
        out = [self.dst, self.src]
        for tag in self.vlans:
            out.append(_TAG.pack(tag.tpid, tag.tci))
        out.append(struct.pack("!H", self.ethertype))
        return b"".join(out)
