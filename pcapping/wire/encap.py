"""Tunnel and encapsulation headers, as values: parse known bytes, encode them back.

- ``UDPHeader``, what UDP tunnels arrive in,
- ``VXLAN`` (RFC 7348; tcpdump's OTV on port 8472 has the same 8-byte layout),
- ``Geneve`` (RFC 8926) with its options kept as bytes,
- ``GRE`` (RFC 2784/2890 version 0 with checksum, key and sequence number; RFC 2637
  version 1 with call id, sequence and acknowledgment; source routes kept as bytes),
- ``ERSPAN`` type II and III headers (type I has none: GRE 0x88be without a sequence
  number carries the mirrored frame directly),
- ``MPLSLabel`` (RFC 3032) and ``parse_label_stack``,
- ``PPPoE`` (RFC 2516), ``LLC`` (IEEE 802.2) and ``SNAP``,
- ``PIM`` (RFC 7761: the common header, and a Register's flags word),
- ``MACsecTag`` (IEEE 802.1AE SecTAG),
- ``BCMLIShim`` (Broadcom lawful-intercept shim in UDP).

Like every codec here, ``parse(buf)`` raises only ``Truncated`` (a header cut short) and
``Malformed`` (a version these layouts do not describe), and ``encode()`` returns the
bytes ``parse`` read.  Offsets into frames and what follows a header are the business of
``pcapping.decap``.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated

_HH = struct.Struct("!HH")
_I = struct.Struct("!I")


def _need(layer: str, buf: bytes, n: int) -> None:
    if len(buf) < n:
        raise Truncated(layer, n, len(buf))


class UDPHeader(NamedTuple):
    """The 8-byte UDP header a UDP tunnel arrives in (checksum kept as found)."""

    sport: int
    dport: int
    length: int = 8
    checksum: int = 0

    header_length = 8

    @classmethod
    def parse(cls, buf: bytes) -> UDPHeader:
        _need("udp", buf, 8)
        return cls(*struct.unpack_from("!HHHH", buf))

    def encode(self) -> bytes:
        return struct.pack("!HHHH", self.sport, self.dport, self.length, self.checksum)


class VXLAN(NamedTuple):
    """VXLAN's 8 bytes: flags (0x08 = VNI valid), 24 reserved bits, the VNI, 8 reserved."""

    flags: int = 0x08
    vni: int = 0
    reserved1: int = 0  # OTV (tcpdump on port 8472) reads these 24 bits as the overlay id
    reserved2: int = 0

    header_length = 8

    @classmethod
    def parse(cls, buf: bytes) -> VXLAN:
        _need("vxlan", buf, 8)
        first, second = struct.unpack_from("!II", buf)
        return cls(first >> 24, second >> 8, first & 0xFFFFFF, second & 0xFF)

    def encode(self) -> bytes:
        return struct.pack("!II", (self.flags << 24) | self.reserved1,
                           (self.vni << 8) | self.reserved2)


class Geneve(NamedTuple):
    """Geneve: version, options length (in 4-byte words), O/C flags, protocol, VNI."""

    protocol: int  # an EtherType; 0x6558 is a whole Ethernet frame
    vni: int
    options: bytes = b""
    flags: int = 0  # 0x80 O (control packet), 0x40 C (critical options present)
    version: int = 0
    reserved: int = 0

    @property
    def header_length(self) -> int:
        return 8 + len(self.options)

    @classmethod
    def parse(cls, buf: bytes) -> Geneve:
        _need("geneve", buf, 8)
        first, flags, proto, word = struct.unpack_from("!BBHI", buf)
        version = first >> 6
        if version != 0:
            raise Malformed("geneve", f"version {version}")
        optlen = (first & 0x3F) * 4
        _need("geneve", buf, 8 + optlen)
        return cls(proto, word >> 8, bytes(buf[8: 8 + optlen]), flags, version, word & 0xFF)

    def encode(self) -> bytes:
        if len(self.options) % 4 or len(self.options) > 252:
            raise ValueError("Geneve options are whole 4-byte words, at most 63 of them")
        first = (self.version << 6) | (len(self.options) // 4)
        return struct.pack("!BBHI", first, self.flags, self.protocol,
                           (self.vni << 8) | self.reserved) + self.options


GRE_C, GRE_R, GRE_K, GRE_S, GRE_SSR, GRE_A = 0x8000, 0x4000, 0x2000, 0x1000, 0x0800, 0x0080


class GRE(NamedTuple):
    """GRE versions 0 and 1; an optional field is present exactly when its flag bit is."""

    protocol: int
    flags: int = 0  # the whole first word: C R K S s Recur A Flags Ver
    checksum: int | None = None  # with C or R (then also the routing offset)
    offset: int | None = None
    key: int | None = None  # K (version 1: payload length << 16 | call id)
    seq: int | None = None  # S
    ack: int | None = None  # A (version 1 only)
    routing: bytes = b""  # R: the source route entries, the terminating one included

    @property
    def version(self) -> int:
        return self.flags & 7

    @property
    def header_length(self) -> int:
        n = 4
        if self.flags & (GRE_C | GRE_R):
            n += 4
        if self.flags & GRE_K:
            n += 4
        if self.flags & GRE_S:
            n += 4
        if self.version == 1 and self.flags & GRE_A:
            n += 4
        return n + len(self.routing)

    @classmethod
    def parse(cls, buf: bytes) -> GRE:
        _need("gre", buf, 4)
        flags, proto = _HH.unpack_from(buf)
        version = flags & 7
        if version > 1:
            raise Malformed("gre", f"version {version}")
        p = 4
        checksum = offset = key = seq = ack = None
        if version == 0 and flags & (GRE_C | GRE_R):
            _need("gre", buf, p + 4)
            checksum, offset = _HH.unpack_from(buf, p)
            p += 4
        if flags & GRE_K:
            _need("gre", buf, p + 4)
            key = _I.unpack_from(buf, p)[0]
            p += 4
        if flags & GRE_S:
            _need("gre", buf, p + 4)
            seq = _I.unpack_from(buf, p)[0]
            p += 4
        if version == 1 and flags & GRE_A:
            _need("gre", buf, p + 4)
            ack = _I.unpack_from(buf, p)[0]
            p += 4
        start = p
        if version == 0 and flags & GRE_R:
            while True:  # source route entries, up to the one with family 0 and length 0
                _need("gre", buf, p + 4)
                family, sre_len = _HH.unpack_from(buf, p)[0], buf[p + 3]
                p += 4
                if family == 0 and sre_len == 0:
                    break
                _need("gre", buf, p + sre_len)
                p += sre_len
        return cls(proto, flags, checksum, offset, key, seq, ack, bytes(buf[start:p]))

    def encode(self) -> bytes:
        out = [_HH.pack(self.flags, self.protocol)]
        if self.version == 0 and self.flags & (GRE_C | GRE_R):
            out.append(_HH.pack(self.checksum or 0, self.offset or 0))
        for bit, value in ((GRE_K, self.key), (GRE_S, self.seq)):
            if self.flags & bit:
                out.append(_I.pack(value or 0))
        if self.version == 1 and self.flags & GRE_A:
            out.append(_I.pack(self.ack or 0))
        out.append(self.routing)
        return b"".join(out)


ERSPAN_II, ERSPAN_III = 0x88BE, 0x22EB  # GRE protocol types


class ERSPAN(NamedTuple):
    """The ERSPAN type II (``version`` 1) or type III (``version`` 2) header."""

    version: int
    session: int  # 10 bits
    vlan: int = 0
    cos: int = 0
    encap: int = 0  # En (type II) / BSO (type III), 2 bits
    truncated: bool = False  # T: the mirrored frame was cut
    index: int = 0  # type II: 20-bit port index (the 12 bits before it are reserved)
    timestamp: int = 0  # type III from here on
    sgt: int = 0
    word3: int = 0  # type III's last 16 bits: P, FT(5), HW ID(6), D, Gra(2), O
    platform: bytes = b""  # type III with O: the 8-byte platform-specific subheader

    @property
    def frame_type(self) -> int:
        """Type III's FT: 0 is an Ethernet frame, 2 an IP packet; type II is always 0."""
        return (self.word3 >> 10) & 0x1F if self.version == 2 else 0

    @property
    def header_length(self) -> int:
        return 8 if self.version == 1 else 12 + len(self.platform)

    @classmethod
    def parse(cls, buf: bytes) -> ERSPAN:
        _need("erspan", buf, 8)
        w0, w1 = _HH.unpack_from(buf)
        version = w0 >> 12
        common = dict(version=version, vlan=w0 & 0xFFF, cos=w1 >> 13, encap=(w1 >> 11) & 3,
                      truncated=bool(w1 & 0x400), session=w1 & 0x3FF)
        if version == 1:
            return cls(**common, index=_I.unpack_from(buf, 4)[0] & 0xFFFFF)
        if version != 2:
            raise Malformed("erspan", f"version {version}")
        _need("erspan", buf, 12)
        stamp, sgt, word3 = struct.unpack_from("!IHH", buf, 4)
        platform = b""
        if word3 & 1:
            _need("erspan", buf, 20)
            platform = bytes(buf[12:20])
        return cls(**common, timestamp=stamp, sgt=sgt, word3=word3, platform=platform)

    def encode(self) -> bytes:
        w1 = (self.cos << 13) | (self.encap << 11) | (0x400 if self.truncated else 0) | (
            self.session & 0x3FF)
        head = _HH.pack((self.version << 12) | self.vlan, w1)
        if self.version == 1:
            return head + _I.pack(self.index & 0xFFFFF)
        return head + struct.pack("!IHH", self.timestamp, self.sgt, self.word3) + self.platform


class MPLSLabel(NamedTuple):
    """One label stack entry: label (20 bits), traffic class, bottom of stack, TTL."""

    label: int
    tc: int = 0
    bottom: bool = True
    ttl: int = 64

    @classmethod
    def parse(cls, buf: bytes, offset: int = 0) -> MPLSLabel:
        if len(buf) < offset + 4:
            raise Truncated("mpls", offset + 4, len(buf))
        v = _I.unpack_from(buf, offset)[0]
        return cls(v >> 12, (v >> 9) & 7, bool(v & 0x100), v & 0xFF)

    def encode(self) -> bytes:
        return _I.pack((self.label << 12) | (self.tc << 9) | (0x100 if self.bottom else 0)
                       | self.ttl)


def parse_label_stack(buf: bytes) -> tuple[MPLSLabel, ...]:
    """Label stack entries up to and including the one with the bottom-of-stack bit."""
    labels = []
    off = 0
    while True:
        entry = MPLSLabel.parse(buf, off)
        labels.append(entry)
        off += 4
        if entry.bottom:
            return tuple(labels)


class PPPoE(NamedTuple):
    """PPPoE's 6 bytes: version, type, code (0 = session data), session id, length."""

    code: int = 0
    session: int = 0
    length: int = 0
    version: int = 1
    type: int = 1

    header_length = 6

    @classmethod
    def parse(cls, buf: bytes) -> PPPoE:
        _need("pppoe", buf, 6)
        vt, code, session, length = struct.unpack_from("!BBHH", buf)
        return cls(code, session, length, vt >> 4, vt & 15)

    def encode(self) -> bytes:
        return struct.pack("!BBHH", (self.version << 4) | self.type, self.code, self.session,
                           self.length)


class LLC(NamedTuple):
    """An 802.2 LLC header: DSAP, SSAP and a 1-byte (U frame) or 2-byte control field."""

    dsap: int  # whole byte, I/G bit included
    ssap: int  # whole byte, C/R bit included
    control: int

    @property
    def is_u(self) -> bool:
        return self.control & 3 == 3

    @property
    def header_length(self) -> int:
        return 3 if self.is_u else 4

    @classmethod
    def parse(cls, buf: bytes) -> LLC:
        _need("llc", buf, 3)
        dsap, ssap, control = buf[0], buf[1], buf[2]
        if control & 3 != 3:  # I and S frames: a 2-byte little-endian control field
            _need("llc", buf, 4)
            control |= buf[3] << 8
        return cls(dsap, ssap, control)

    def encode(self) -> bytes:
        if self.control & 3 == 3:
            return bytes((self.dsap, self.ssap, self.control & 0xFF))
        return bytes((self.dsap, self.ssap)) + struct.pack("<H", self.control)


class SNAP(NamedTuple):
    """The SNAP header after LLC AA AA 03: an OUI and a protocol id (an EtherType for 0)."""

    oui: int
    pid: int

    header_length = 5

    @classmethod
    def parse(cls, buf: bytes) -> SNAP:
        _need("snap", buf, 5)
        return cls(int.from_bytes(buf[:3], "big"), _HH.unpack_from(buf, 1)[1])

    def encode(self) -> bytes:
        return self.oui.to_bytes(3, "big") + struct.pack("!H", self.pid)


class PIM(NamedTuple):
    """The PIM common header; a Register (type 1) also has its flags word (B, N bits)."""

    version: int
    ptype: int
    checksum: int = 0
    reserved: int = 0
    register_flags: int | None = None

    @property
    def header_length(self) -> int:
        return 4 if self.register_flags is None else 8

    @classmethod
    def parse(cls, buf: bytes) -> PIM:
        _need("pim", buf, 4)
        tv, reserved, checksum = struct.unpack_from("!BBH", buf)
        version, ptype = tv >> 4, tv & 15
        if version == 2 and ptype == 1:
            _need("pim", buf, 8)
            return cls(version, ptype, checksum, reserved, _I.unpack_from(buf, 4)[0])
        return cls(version, ptype, checksum, reserved)

    def encode(self) -> bytes:
        head = struct.pack("!BBH", (self.version << 4) | self.ptype, self.reserved,
                           self.checksum)
        return head if self.register_flags is None else head + _I.pack(self.register_flags)


MACSEC_SC, MACSEC_E, MACSEC_C = 0x20, 0x08, 0x04


class MACsecTag(NamedTuple):
    """The SecTAG after EtherType 0x88e5: TCI/AN, short length, packet number, SCI."""

    tci_an: int
    pn: int
    short_length: int = 0
    sci: int | None = None  # present when the TCI's SC bit is set

    @property
    def an(self) -> int:
        return self.tci_an & 3

    @property
    def encrypted(self) -> bool:
        """E or C set: the payload is not readable (tcpdump prints it as data)."""
        return bool(self.tci_an & (MACSEC_E | MACSEC_C))

    @property
    def header_length(self) -> int:
        return 14 if self.tci_an & MACSEC_SC else 6

    @classmethod
    def parse(cls, buf: bytes) -> MACsecTag:
        _need("macsec", buf, 6)
        tci_an, sl, pn = struct.unpack_from("!BBI", buf)
        if tci_an & 0x80 or sl & 0xC0:
            raise Malformed("macsec", f"TCI 0x{tci_an:02x}, short length 0x{sl:02x}")
        sci = None
        if tci_an & MACSEC_SC:
            _need("macsec", buf, 14)
            sci = int.from_bytes(buf[6:14], "big")
        return cls(tci_an, pn, sl, sci)

    def encode(self) -> bytes:
        head = struct.pack("!BBI", self.tci_an, self.short_length, self.pn)
        return head if self.sci is None else head + self.sci.to_bytes(8, "big")


class BCMLIShim(NamedTuple):
    """Broadcom's 4-byte lawful-intercept shim (UDP source port 49152)."""

    direction: int  # 3 bits: 2 egress, 3 ingress
    pkt_type: int  # 4 bits: 4 undecided, 5 IPv4, 6 IPv6, 7 Ethernet
    pkt_subtype: int  # 3 bits
    li_id: int  # 22 bits

    header_length = 4

    @classmethod
    def parse(cls, buf: bytes) -> BCMLIShim:
        _need("bcm_li", buf, 4)
        v = _I.unpack_from(buf)[0]
        return cls(v >> 29, (v >> 25) & 15, (v >> 22) & 7, v & 0x3FFFFF)

    def encode(self) -> bytes:
        return _I.pack((self.direction << 29) | (self.pkt_type << 25) | (self.pkt_subtype << 22)
                       | self.li_id)


__all__ = [
    "BCMLIShim", "ERSPAN", "ERSPAN_II", "ERSPAN_III", "GRE", "LLC", "MACsecTag", "MPLSLabel",
    "PIM", "PPPoE", "SNAP", "UDPHeader", "VXLAN", "Geneve", "parse_label_stack",
]
