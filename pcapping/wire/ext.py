"""ICMP extension structures (RFC 4884) and their objects, for ICMP and ICMPv6.

An extension structure is a 4-byte header (version 2, 12 reserved bits, a checksum
over the whole structure) followed by objects (length 16 bits including the 4-byte
object header, class number, class type, data).  Errors carry one after their
quoted datagram when the quote's length field is set (ICMPv4: the second byte
after the checksum, in 32-bit words; ICMPv6: the first, in 64-bit words); RFC 8335
extended echo requests carry one with an Interface Identification object (class 3).

Routers older than RFC 4884 (the MPLS drafts it replaced) append the structure at
offset 128 of the error's data and leave the length field 0; ``locate_extension``
finds both, the second only when a version-2 header with a correct checksum is there
(what traceroute and tcpdump accept).

Objects with a meaning of their own:

- class 1, c-type 1 (RFC 4950): the MPLS label stack the expired packet carried,
  ``mpls_stack(obj)`` -> ``MplsEntry`` (label, traffic class, bottom of stack, TTL);
- class 2 (RFC 5837): an interface of the router that answered, ``InterfaceInfo``
  (role, ifIndex, address, name, MTU, each present when its c-type bit says so);
- anything else stays an ``ExtObject`` (class, c-type, raw data).

``extension_text`` writes an extension as traceroute 2.1's ``-e`` does (``MPLS:L=..,
E=..,S=..,T=..``, ``INC:ifindex,address,"name",mtu=N``, ``class/ctype:hexwords``,
objects joined by ``;``); ``extension_dict`` is the JSON form.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import DecodeError, Malformed, Truncated
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


class MplsEntry(NamedTuple):
    """One label stack entry (RFC 3032 layout, as RFC 4950 quotes it)."""

    label: int
    tc: int  # traffic class (the "EXP" bits of RFC 3032; traceroute prints it as E)
    bottom: bool  # S: bottom of stack
    ttl: int

    @classmethod
    def unpack(cls, word: int) -> MplsEntry:
        return cls(word >> 12, (word >> 9) & 7, bool(word & 0x100), word & 0xFF)

    def pack(self) -> bytes:
        word = (self.label << 12) | (self.tc << 9) | (0x100 if self.bottom else 0) | self.ttl
        return word.to_bytes(4, "big")


def mpls_stack(obj: ExtObject) -> tuple[MplsEntry, ...] | None:
    """The entries of an RFC 4950 object (class 1, c-type 1), or None when ``obj`` is not
    one or its length is not a whole number of entries."""
    data = obj.data
    if obj.class_num != MPLS_STACK or obj.c_type != 1 or not data or len(data) % 4:
        return None
    return tuple(MplsEntry.unpack(int.from_bytes(data[i:i + 4], "big"))
                 for i in range(0, len(data), 4))


def mpls_object(entries: tuple[MplsEntry, ...] | list[MplsEntry]) -> ExtObject:
    return ExtObject(MPLS_STACK, 1, b"".join(e.pack() for e in entries))


IF_ROLES = ("incoming", "sub-ip", "outgoing", "next-hop")  # RFC 5837 section 4.1
IF_ROLE_TAGS = ("INC", "SUB", "OUT", "NXT")  # traceroute's abbreviations
IF_HAS_INDEX, IF_HAS_ADDRESS, IF_HAS_NAME, IF_HAS_MTU = 0x08, 0x04, 0x02, 0x01


class InterfaceInfo(NamedTuple):
    """An RFC 5837 Interface Information object (class 2).

    The c-type's top two bits are the role (0 the interface the datagram came in by,
    1 a sub-IP component of it, 2 the one it would have left by, 3 the next hop); bits
    0x08, 0x04, 0x02, 0x01 say which of ifIndex, IP address sub-object (AFI 1 or 2),
    name sub-object (a length octet counting itself, a multiple of 4, at most 64, then
    UTF-8) and MTU follow, in that order.
    """

    role: int
    ifindex: int | None = None
    afi: int | None = None
    address: bytes | None = None
    name: str | None = None
    mtu: int | None = None

    @property
    def c_type(self) -> int:
        return ((self.role & 3) << 6 | (IF_HAS_INDEX if self.ifindex is not None else 0)
                | (IF_HAS_ADDRESS if self.address is not None else 0)
                | (IF_HAS_NAME if self.name is not None else 0)
                | (IF_HAS_MTU if self.mtu is not None else 0))

    @classmethod
    def from_object(cls, obj: ExtObject) -> InterfaceInfo:
        """Parse a class-2 object; ``Malformed`` when its parts do not fit its length."""
        if obj.class_num != INTERFACE_INFO:
            raise Malformed("interface information", f"object class {obj.class_num}, not 2")
        data, ctype = obj.data, obj.c_type
        p, n = 0, len(data)

        def take(size: int, what: str) -> bytes:
            nonlocal p
            if p + size > n:
                raise Malformed("interface information", f"{what} beyond the object")
            chunk = bytes(data[p:p + size])
            p += size
            return chunk

        ifindex = afi = address = name = mtu = None
        if ctype & IF_HAS_INDEX:
            ifindex = int.from_bytes(take(4, "ifIndex"), "big")
        if ctype & IF_HAS_ADDRESS:
            afi = int.from_bytes(take(4, "address sub-object")[:2], "big")
            if afi == 1:
                address = take(4, "IPv4 address")
            elif afi == 2:
                address = take(16, "IPv6 address")
            else:
                raise Malformed("interface information", f"address family {afi}")
        if ctype & IF_HAS_NAME:
            size = take(1, "name length")[0]
            if not size or size % 4 or size > 64:
                raise Malformed("interface information", f"name length {size}")
            raw = take(size - 1, "name")
            name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        if ctype & IF_HAS_MTU:
            mtu = int.from_bytes(take(4, "MTU"), "big")
        if p != n:
            raise Malformed("interface information", f"{n - p} bytes after its parts")
        return cls(ctype >> 6, ifindex, afi, address, name, mtu)

    def to_object(self) -> ExtObject:
        out = bytearray()
        if self.ifindex is not None:
            out += self.ifindex.to_bytes(4, "big")
        if self.address is not None:
            afi = self.afi or (1 if len(self.address) == 4 else 2)
            out += afi.to_bytes(2, "big") + b"\0\0" + self.address
        if self.name is not None:
            raw = self.name.encode()
            size = 1 + len(raw)
            size += -size % 4
            out += bytes((size,)) + raw + bytes(size - 1 - len(raw))
        if self.mtu is not None:
            out += self.mtu.to_bytes(4, "big")
        return ExtObject(INTERFACE_INFO, self.c_type, bytes(out))


class FoundExtension(NamedTuple):
    """Where an ICMP error's extension structure was (``locate_extension``)."""

    quote: bytes  # the original-datagram field (padding included)
    raw: bytes  # the structure's bytes
    extension: ICMPExtension | None  # None: the bytes could not be parsed
    compliant: bool  # False: found at 128 with the length field 0 (pre-RFC 4884)
    problem: str | None = None


NONCOMPLIANT_OFFSET = 128


def locate_extension(payload: bytes, length_field: int, unit: int = 4) -> FoundExtension | None:
    """The extension structure after an error's quoted datagram, or None.

    ``payload`` is the error's data (after its 8-byte header), ``length_field`` its RFC
    4884 length (``unit`` bytes a word: 4 for ICMPv4, 8 for ICMPv6).  With the length
    set, whatever follows the quote is the structure (a parse problem is kept in
    ``problem``); with it 0, a structure is accepted at offset 128 only when it has
    version 2 and a correct, non-zero checksum.
    """
    if length_field:
        cut = length_field * unit
        if cut >= len(payload):
            return None
        raw = payload[cut:]
        try:
            return FoundExtension(payload[:cut], raw, ICMPExtension.parse(raw), True)
        except DecodeError as exc:
            return FoundExtension(payload[:cut], raw, None, True, str(exc))
    cut = NONCOMPLIANT_OFFSET
    raw = payload[cut:]
    if len(raw) < 8 or raw[0] >> 4 != 2 or not (raw[2] or raw[3]) or not checksum_ok(raw):
        return None
    try:
        return FoundExtension(payload[:cut], raw, ICMPExtension.parse(raw), False)
    except DecodeError:
        return None


def _object_text(obj: ExtObject) -> str:
    stack = mpls_stack(obj)
    if stack is not None:
        return "MPLS:" + "/".join(f"L={e.label},E={e.tc},S={int(e.bottom)},T={e.ttl}"
                                  for e in stack)
    if obj.class_num == INTERFACE_INFO:
        try:
            info = InterfaceInfo.from_object(obj)
        except Malformed:
            info = None
        if info is not None and (info.name is None or len(info.name) <= 63):
            parts = []
            if info.ifindex is not None:
                parts.append(str(info.ifindex))
            if info.address is not None:
                parts.append(_addr_text(info.address))
            if info.name is not None:
                parts.append(f'"{_escape_name(info.name)}"')
            if info.mtu is not None:
                parts.append(f"mtu={info.mtu}")
            return f"{IF_ROLE_TAGS[info.role]}:" + ",".join(parts)
    words = obj.data[: len(obj.data) - len(obj.data) % 4]
    return f"{obj.class_num}/{obj.c_type}:" + ",".join(
        words[i:i + 4].hex() for i in range(0, len(words), 4))


def _escape_name(name: str) -> str:
    """traceroute's escaping of interface names: anything but printable ASCII other
    than % and " as %XX (of its UTF-8 bytes)."""
    out = []
    for byte in name.encode():
        ch = chr(byte)
        if byte < 0x21 or byte > 0x7E or ch in '%"':
            out.append(f"%{byte:02X}")
        else:
            out.append(ch)
    return "".join(out)


def _addr_text(addr: bytes) -> str:
    import socket

    return socket.inet_ntop(socket.AF_INET if len(addr) == 4 else socket.AF_INET6, addr)


def extension_text(ext: ICMPExtension) -> str:
    """traceroute 2.1's ``-e`` text for an extension structure (without the ``<>``)."""
    return ";".join(_object_text(o) for o in ext.objects)


def object_dict(obj: ExtObject) -> dict[str, object]:
    """The JSON form of one object: class and c-type always, decoded fields when known."""
    out: dict[str, object] = {"class": obj.class_num, "ctype": obj.c_type,
                              "length": obj.length}
    stack = mpls_stack(obj)
    if stack is not None:
        out["kind"] = "mpls"
        out["mpls"] = [{"label": e.label, "tc": e.tc, "s": int(e.bottom), "ttl": e.ttl}
                       for e in stack]
        return out
    if obj.class_num == INTERFACE_INFO:
        try:
            info = InterfaceInfo.from_object(obj)
        except Malformed as exc:
            out["kind"] = "interface"
            out["problem"] = str(exc)
            out["hex"] = obj.data.hex()
            return out
        out["kind"] = "interface"
        out["role"] = IF_ROLES[info.role]
        if info.ifindex is not None:
            out["ifindex"] = info.ifindex
        if info.address is not None:
            out["address"] = _addr_text(info.address)
        if info.name is not None:
            out["name"] = info.name
        if info.mtu is not None:
            out["mtu"] = info.mtu
        return out
    out["kind"] = "unknown"
    out["hex"] = obj.data.hex()
    return out


def extension_dict(found: FoundExtension) -> dict[str, object]:
    """The JSON form of a located extension structure."""
    out: dict[str, object] = {"compliant": found.compliant, "length": len(found.raw)}
    ext = found.extension
    if ext is None:
        out["problem"] = found.problem
        out["hex"] = found.raw.hex()
        return out
    out["version"] = ext.version
    out["checksum"] = ext.checksum
    out["checksum_ok"] = ext.checksum_ok
    out["objects"] = [object_dict(o) for o in ext.objects]
    return out


def split_quote(payload: bytes, length_field: int, unit: int) -> tuple[bytes, bytes | None]:
    """(quoted datagram, extension structure bytes or None) of an error's data, from its
    RFC 4884 length field (``unit`` 4 for ICMPv4, 8 for ICMPv6); no length, or one
    longer than the data, means no extension."""
    cut = length_field * unit
    if not length_field or cut >= len(payload):
        return payload, None
    return payload[:cut], payload[cut:]


__all__ = ["ExtObject", "FoundExtension", "ICMPExtension", "InterfaceInfo", "InterfaceQuery",
           "MplsEntry", "extension_dict", "extension_text", "locate_extension", "mpls_object",
           "mpls_stack", "object_dict", "split_quote"]
