"""Link headers other than Ethernet: Linux cooked (SLL, SLL2) and BSD loopback."""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import Truncated

_SLL = struct.Struct("!HHH8sH")
_SLL2 = struct.Struct("!HHIHBB8s")


class LinuxSLL(NamedTuple):
    """LINKTYPE_LINUX_SLL (113): 16 bytes, as the ``any`` device writes."""

    packet_type: int  # 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
    arphrd_type: int
    address: bytes  # the first ``address_length`` bytes of the 8-byte field
    protocol: int  # EtherType (or a Linux protocol number for non-Ethernet)
    address_length: int = 6

    header_length = 16

    @classmethod
    def parse(cls, buf: bytes) -> LinuxSLL:
        if len(buf) < 16:
            raise Truncated("sll", 16, len(buf))
        ptype, hatype, halen, addr, proto = _SLL.unpack_from(buf)
        return cls(ptype, hatype, addr[: min(halen, 8)], proto, halen)

    def encode(self) -> bytes:
        return _SLL.pack(
            self.packet_type, self.arphrd_type, self.address_length,
            self.address.ljust(8, b"\0")[:8], self.protocol,
        )


class LinuxSLL2(NamedTuple):
    """LINKTYPE_LINUX_SLL2 (276): 20 bytes, adds the interface index."""

    protocol: int
    ifindex: int
    arphrd_type: int
    packet_type: int
    address: bytes
    address_length: int = 6
    reserved: int = 0

    header_length = 20

    @classmethod
    def parse(cls, buf: bytes) -> LinuxSLL2:
        if len(buf) < 20:
            raise Truncated("sll2", 20, len(buf))
        proto, reserved, ifindex, hatype, ptype, halen, addr = _SLL2.unpack_from(buf)
        return cls(proto, ifindex, hatype, ptype, addr[: min(halen, 8)], halen, reserved)

    def encode(self) -> bytes:
        return _SLL2.pack(
            self.protocol, self.reserved, self.ifindex, self.arphrd_type,
            self.packet_type, self.address_length, self.address.ljust(8, b"\0")[:8],
        )


class NullHeader(NamedTuple):
    """LINKTYPE_NULL (0, host byte order) and LINKTYPE_LOOP (108, network order)."""

    family: int  # 2 = AF_INET everywhere
    big_endian: bool = True

    header_length = 4

    @classmethod
    def parse(cls, buf: bytes, big_endian: bool | None = None) -> NullHeader:
        """``big_endian=None`` guesses the order like tcpdump (NULL link type)."""
        if len(buf) < 4:
            raise Truncated("null", 4, len(buf))
        family = struct.unpack_from("!I", buf)[0]
        if big_endian is None:
            big_endian = not family & 0xFFFF0000
        if not big_endian:
            family = struct.unpack_from("<I", buf)[0]
        return cls(family, big_endian)

    def encode(self) -> bytes:
        return struct.pack("!I" if self.big_endian else "<I", self.family)
