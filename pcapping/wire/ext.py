"""ICMP extension structures (RFC 4884) and their objects, for ICMP and ICMPv6.

An extension structure is a 4-byte header (version 2, 12 reserved bits, a checksum
over the whole structure) followed by objects (length 16 bits including the 4-byte
object header, class number, class type, data).  Errors carry one after their
quoted datagram when the quote's length field is set (ICMPv4: the second byte
after the checksum, in 32-bit words; ICMPv6: the first, in 64-bit words); RFC 8335
extended echo requests carry one with an Interface Identification object (class 3).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated
from pcapping.wire.checksum import checksum_ok, internet_checksum

_OBJ = struct.Struct("!HBB")

MPLS_STACK = 1  # RFC 4950
INTERFACE_INFO = 2  # RFC 5837
INTERFACE_ID = 3  # RFC 8335


class ExtObject(NamedTuple):
    class_num: int
    c_type: int
    data: bytes = b""

    @property
    def length(self) -> int:
        return 4 + len(self.data)

    def encode(self) -> bytes:
        return _OBJ.pack(4 + len(self.data), self.class_num, self.c_type) + self.data


class ICMPExtension(NamedTuple):
    objects: tuple[ExtObject, ...] = ()
    version: int = 2
    checksum: int | None = None  # as found by parse(); encode() recomputes
    checksum_ok: bool | None = True

    @classmethod
    def parse(cls, buf: bytes) -> ICMPExtension:
        """The structure filling ``buf``: ``Truncated`` under 4 bytes or inside an object,
        ``Malformed`` for a version other than 2 or an object length under 4."""
        n = len(buf)
        if n < 4:
            raise Truncated("icmp-ext", 4, n)
        version = buf[0] >> 4
        if version != 2:
            raise Malformed("icmp-ext", f"version {version}")
        csum = int.from_bytes(buf[2:4], "big")
        ok = checksum_ok(buf) if csum else True  # RFC 4884: a zero checksum is not used
        objects = []
        p = 4
        while p < n:
            if p + 4 > n:
                raise Truncated("icmp-ext object", p + 4, n)
            size, cls_num, ctype = _OBJ.unpack_from(buf, p)
            if size < 4:
                raise Malformed("icmp-ext object", f"length {size} < 4")
            if p + size > n:
                raise Truncated("icmp-ext object", p + size, n)
            objects.append(ExtObject(cls_num, ctype, bytes(buf[p + 4: p + size])))
            p += size
        return cls(tuple(objects), version, csum, ok)

    def object(self, class_num: int) -> ExtObject | None:
        for obj in self.objects:
            if obj.class_num == class_num:
                return obj
        return None

    def encode(self) -> bytes:
        body = b"".join(o.encode() for o in self.objects)
        head = bytes((self.version << 4, 0, 0, 0))
        csum = internet_checksum(head + body)
        return head[:2] + csum.to_bytes(2, "big") + body


class InterfaceQuery(NamedTuple):
    """RFC 8335 §2.1 Interface Identification object: which interface a PROBE asks about.

    ``c_type`` 1: by name, 2: by ifIndex, 3: by address (AFI 1 IPv4, 2 IPv6)."""

    c_type: int
    name: str = ""
    index: int = 0
    afi: int = 0
    address: bytes = b""

    BY_NAME = 1
    BY_INDEX = 2
    BY_ADDRESS = 3

    @classmethod
    def by_name(cls, name: str) -> InterfaceQuery:
        return cls(1, name=name)

    @classmethod
    def by_index(cls, index: int) -> InterfaceQuery:
        return cls(2, index=index)

    @classmethod
    def by_address(cls, address: bytes) -> InterfaceQuery:
        """4 bytes: AFI 1 (IPv4); 16 bytes: AFI 2 (IPv6)."""
        if len(address) not in (4, 16):
            raise ValueError("an interface address is 4 (IPv4) or 16 (IPv6) bytes")
        return cls(3, afi=1 if len(address) == 4 else 2, address=address)

    def to_object(self) -> ExtObject:
        if self.c_type == 1:
            raw = self.name.encode()
            return ExtObject(INTERFACE_ID, 1, raw + bytes(-len(raw) % 4))
        if self.c_type == 2:
            return ExtObject(INTERFACE_ID, 2, struct.pack("!I", self.index))
        if self.c_type == 3:
            addr = self.address
            return ExtObject(INTERFACE_ID, 3, struct.pack("!HBB", self.afi, len(addr), 0)
                             + addr + bytes(-len(addr) % 4))
        raise ValueError(f"unknown interface identification c-type {self.c_type}")

    @classmethod
    def from_object(cls, obj: ExtObject) -> InterfaceQuery:
        """Parse a class-3 object; ``Malformed`` when its c-type or lengths are wrong."""
        if obj.class_num != INTERFACE_ID:
            raise Malformed("probe", f"object class {obj.class_num}, not 3")
        data = obj.data
        if obj.c_type == 1:
            return cls(1, name=data.rstrip(b"\0").decode("utf-8", "replace"))
        if obj.c_type == 2:
            if len(data) != 4:
                raise Malformed("probe", f"ifIndex object of {len(data)} bytes")
            return cls(2, index=int.from_bytes(data, "big"))
        if obj.c_type == 3:
            if len(data) < 4:
                raise Malformed("probe", f"address object of {len(data)} bytes")
            afi, alen = struct.unpack_from("!HB", data)
            if 4 + alen > len(data):
                raise Malformed("probe", f"address length {alen} beyond the object")
            return cls(3, afi=afi, address=bytes(data[4: 4 + alen]))
        raise Malformed("probe", f"interface identification c-type {obj.c_type}")


def split_quote(payload: bytes, length_field: int, unit: int) -> tuple[bytes, bytes | None]:
    """(quoted datagram, extension structure bytes or None) of an error's data, from its
    RFC 4884 length field (``unit`` 4 for ICMPv4, 8 for ICMPv6); no length, or one
    longer than the data, means no extension."""
    cut = length_field * unit
    if not length_field or cut >= len(payload):
        return payload, None
    return payload[:cut], payload[cut:]


__all__ = ["ExtObject", "ICMPExtension", "InterfaceQuery", "split_quote"]
