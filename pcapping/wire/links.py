"""Link-layer headers beyond Ethernet and Linux cooked capture, as values.

- ``PPPHeader``: PPP (RFC 1661/1662) with or without the ff 03 address/control bytes and
  with a one- or two-byte protocol field (LINKTYPE_PPP 9, PPP_PPPD 166, PPP_SERIAL 50);
- ``CiscoHDLC``: Cisco HDLC (LINKTYPE_C_HDLC 104): address, control, EtherType;
- ``IPoIBHeader``: IP over InfiniBand (LINKTYPE_IPOIB 242, RFC 4391): a 20-byte pseudo
  header, the 20-byte destination hardware address (QPN and GID), EtherType, reserved;
- ``IPNetHeader``: Solaris ipnet (LINKTYPE_IPNET 226): version, address family, hook type,
  data length, interface indexes and zone ids;
- ``ARCnetHeader``: ARCNET (LINKTYPE_ARCNET_BSD 7, LINKTYPE_ARCNET_LINUX 129), RFC 1051
  short headers and RFC 1201 headers with split flag and sequence number;
- ``FrameRelayHeader``: Frame Relay (LINKTYPE_FRELAY 107), a Q.922 address with Cisco's
  EtherType or UI and an NLPID;
- ``SwitchTag``: the tag a switch chip inserts after the MAC addresses of an Ethernet
  frame (Marvell DSA 284, EDSA 285, Broadcom 281).

``parse`` raises only ``Truncated``; ``encode`` returns the bytes ``parse`` read.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated

PPP_IN, PPP_OUT = 0x00, 0x01  # pppd's direction byte in place of the address (DLT 166)


class PPPHeader(NamedTuple):
    protocol: int
    address: int | None = 0xFF  # None: no address/control bytes (ACFC, or none sent)
    control: int = 0x03
    short_protocol: bool = False  # PFC: a one-byte protocol field (odd first byte)

    @property
    def header_length(self) -> int:
        return (0 if self.address is None else 2) + (1 if self.short_protocol else 2)

    @classmethod
    def parse(cls, buf: bytes) -> PPPHeader:
        n = len(buf)
        address = control = None
        p = 0
        if n >= 2 and buf[1] == 0x03 and buf[0] in (0xFF, PPP_IN, PPP_OUT):
            address, control = buf[0], 0x03
            p = 2
        if n < p + 1:
            raise Truncated("ppp", p + 1, n)
        if buf[p] & 1:
            return cls(buf[p], address, 0x03 if control is None else control, True)
        if n < p + 2:
            raise Truncated("ppp", p + 2, n)
        proto = (buf[p] << 8) | buf[p + 1]
        return cls(proto, address, 0x03 if control is None else control, False)

    def encode(self) -> bytes:
        head = b"" if self.address is None else bytes((self.address, self.control))
        if self.short_protocol:
            return head + bytes((self.protocol,))
        return head + struct.pack("!H", self.protocol)


class CiscoHDLC(NamedTuple):
    address: int  # 0x0f unicast, 0x8f broadcast
    protocol: int  # an EtherType (0x8035 is SLARP)
    control: int = 0

    header_length = 4

    @classmethod
    def parse(cls, buf: bytes) -> CiscoHDLC:
        if len(buf) < 4:
            raise Truncated("chdlc", 4, len(buf))
        return cls(buf[0], (buf[2] << 8) | buf[3], buf[1])

    def encode(self) -> bytes:
        return bytes((self.address, self.control)) + struct.pack("!H", self.protocol)


class IPoIBHeader(NamedTuple):
    protocol: int
    address: bytes = bytes(20)  # destination hardware address: 4-byte QPN, 16-byte GID
    pseudo: bytes = bytes(20)  # what precedes it (zero in Linux's captures)
    reserved: int = 0

    header_length = 44

    @property
    def qpn(self) -> int:
        return int.from_bytes(self.address[1:4], "big")

    @property
    def gid(self) -> str:
        return socket.inet_ntop(socket.AF_INET6, self.address[4:20])

    @classmethod
    def parse(cls, buf: bytes) -> IPoIBHeader:
        if len(buf) < 44:
            raise Truncated("ipoib", 44, len(buf))
        proto, reserved = struct.unpack_from("!HH", buf, 40)
        return cls(proto, bytes(buf[20:40]), bytes(buf[:20]), reserved)

    def encode(self) -> bytes:
        return self.pseudo + self.address + struct.pack("!HH", self.protocol, self.reserved)


_IPNET = struct.Struct("!BBHIIIII")
IPNET_INET, IPNET_INET6 = 2, 26


class IPNetHeader(NamedTuple):
    family: int  # 2 AF_INET, 26 AF_INET6 (Solaris numbers)
    htype: int = 0  # hook: 0 inbound, 1 outbound, 2 local
    pktlen: int = 0
    ifindex: int = 0
    grifindex: int = 0
    zsrc: int = 0
    zdst: int = 0
    version: int = 1

    header_length = 24

    @classmethod
    def parse(cls, buf: bytes) -> IPNetHeader:
        if len(buf) < 24:
            raise Truncated("ipnet", 24, len(buf))
        version, family, htype, pktlen, ifindex, grif, zsrc, zdst = _IPNET.unpack_from(buf)
        return cls(family, htype, pktlen, ifindex, grif, zsrc, zdst, version)

    def encode(self) -> bytes:
        return _IPNET.pack(self.version, self.family, self.htype, self.pktlen, self.ifindex,
                           self.grifindex, self.zsrc, self.zdst)


# ARCNET system codes (RFC 1051 "old" and RFC 1201)
ARC_IP_OLD, ARC_ARP_OLD, ARC_DIAGNOSE = 240, 241, 0x80
ARC_IP, ARC_ARP, ARC_REVARP, ARC_INET6 = 212, 213, 214, 0xC4
_ARC_SHORT = frozenset((ARC_IP_OLD, ARC_ARP_OLD, ARC_DIAGNOSE))


class ARCnetHeader(NamedTuple):
    """ARCNET: source and destination station ids and a system code; RFC 1201 frames add
    a split flag and a sequence number (0xff flag: an exception frame, BSD only)."""

    src: int
    dst: int
    arc_type: int
    flag: int | None = None  # None: RFC 1051 short header
    seqid: int = 0
    linux: bool = False  # LINKTYPE_ARCNET_LINUX: a 2-byte offset field after the ids
    offset: int = 0
    exception: bool = False  # BSD exception frame: flag 0xff, then type, flag, seqid again

    @property
    def header_length(self) -> int:
        base = 5 if self.linux else 3
        if self.flag is None:
            return base
        return base + (7 if self.exception else 3)

    @classmethod
    def parse(cls, buf: bytes, linux: bool = False) -> ARCnetHeader:
        n = len(buf)
        base = 5 if linux else 3
        if n < base:
            raise Truncated("arcnet", base, n)
        src, dst = buf[0], buf[1]
        offset = struct.unpack_from("!H", buf, 2)[0] if linux else 0
        arc_type = buf[base - 1]
        if arc_type in _ARC_SHORT:
            return cls(src, dst, arc_type, None, 0, linux, offset)
        if n < base + 3:
            raise Truncated("arcnet", base + 3, n)
        flag = buf[base]
        if flag == 0xFF and not linux:
            if n < base + 7:
                raise Truncated("arcnet", base + 7, n)
            flag = buf[base + 4]
            seqid = struct.unpack_from("!H", buf, base + 5)[0]
            return cls(src, dst, arc_type, flag, seqid, linux, offset, True)
        seqid = struct.unpack_from("!H", buf, base + 1)[0]
        return cls(src, dst, arc_type, flag, seqid, linux, offset)

    def encode(self) -> bytes:
        out = bytes((self.src, self.dst))
        if self.linux:
            out += struct.pack("!H", self.offset)
        out += bytes((self.arc_type,))
        if self.flag is None:
            return out
        if self.exception:
            out += bytes((0xFF, 0xFF, 0xFF, self.arc_type))
        return out + bytes((self.flag,)) + struct.pack("!H", self.seqid)


FR_CR, FR_DE, FR_BECN, FR_FECN, FR_SDLC = 0x02000000, 0x00020000, 0x00040000, 0x00080000, 0x2
NLPID_IP, NLPID_IP6, NLPID_SNAP, NLPID_PPP = 0xCC, 0x8E, 0x80, 0xCF


def q922_address(buf: bytes) -> tuple[int, int, int]:
    """A Q.922 (Frame Relay) address: (DLCI, address length 2-4, flags as tcpdump keeps
    them: C/R << 24, FECN/BECN/DE << 16, the SDLC bit); ``Malformed`` for an address
    tcpdump calls invalid."""
    n = len(buf)
    if n < 1:
        raise Truncated("fr", 1, n)
    if buf[0] & 1:
        raise Malformed("fr", "invalid Q.922 address")
    if n < 2:
        raise Truncated("fr", 2, n)
    dlci = ((buf[0] & 0xFC) << 2) | (buf[1] >> 4)
    flags = ((buf[0] & 0x02) << 24) | ((buf[1] & 0x0E) << 16)
    if buf[1] & 1:
        return dlci, 2, flags
    if n < 3:
        raise Truncated("fr", 3, n)
    size, p = 3, 2
    if not buf[2] & 1:
        dlci = (dlci << 7) | (buf[2] >> 1)
        size, p = 4, 3
    if n < p + 1:
        raise Truncated("fr", p + 1, n)
    if not buf[p] & 1:
        raise Malformed("fr", "Q.922 address longer than 4 bytes")
    return (dlci << 6) | (buf[p] >> 2), size, flags | (buf[p] & 0x02)


class FrameRelayHeader(NamedTuple):
    """LINKTYPE_FRELAY (107): a Q.922 address, then Cisco's EtherType or UI + NLPID."""

    dlci: int
    address: bytes  # the 2-4 address bytes as captured
    flags: int
    protocol: int  # an EtherType (Cisco encapsulation) or an NLPID (0xcc is IPv4)
    cisco: bool
    header_length: int

    @classmethod
    def parse(cls, buf: bytes) -> FrameRelayHeader:
        dlci, size, flags = q922_address(buf)
        n = len(buf)
        if n < size + 1:
            raise Truncated("fr", size + 1, n)
        if buf[size] != 0x03 and dlci != 0:
            if n < size + 2:
                raise Truncated("fr", size + 2, n)
            return cls(dlci, bytes(buf[:size]), flags, (buf[size] << 8) | buf[size + 1], True,
                       size + 2)
        if n < size + 2:
            raise Truncated("fr", size + 2, n)
        hdr = size + 3 if buf[size + 1] == 0 else size + 2  # a pad byte after the UI
        if n < hdr:
            raise Truncated("fr", hdr, n)
        return cls(dlci, bytes(buf[:size]), flags, buf[hdr - 1], False, hdr)


DSA_TAG_BRCM, DSA_TAG_DSA, DSA_TAG_EDSA = 281, 284, 285
SWITCH_TAG_LENGTHS = {DSA_TAG_BRCM: 4, DSA_TAG_DSA: 4, DSA_TAG_EDSA: 8}


class SwitchTag(NamedTuple):
    """A switch chip's tag between the source MAC and the EtherType, kept as bytes."""

    kind: str  # "brcm", "dsa", "edsa"
    tag: bytes

    @property
    def dsa(self) -> bytes:
        """The 4-byte Marvell DSA tag (EDSA carries it after its EtherType and 2 zeros)."""
        return self.tag[4:8] if self.kind == "edsa" else self.tag

    @property
    def mode(self) -> int:  # 0 To CPU, 1 From CPU, 2 To Sniffer, 3 Forward
        return self.dsa[0] >> 6

    @property
    def dev(self) -> int:
        return self.dsa[0] & 0x1F

    @property
    def port(self) -> int:
        return self.dsa[1] >> 3

    @property
    def vid(self) -> int:
        return ((self.dsa[2] & 0x0F) << 8) | self.dsa[3]

    @property
    def tagged(self) -> bool:
        return bool(self.dsa[0] & 0x20)


__all__ = [
    "ARCnetHeader", "CiscoHDLC", "FrameRelayHeader", "IPNetHeader", "IPoIBHeader", "PPPHeader",
    "SwitchTag", "SWITCH_TAG_LENGTHS", "q922_address",
]
