"""tcpdump 4.99 text for decoded frames: byte-identical for ICMP and ARP.

``TcpdumpFormatter(verbose, link, hexdump).format(decoded)`` returns what
``tcpdump -n`` (``-v``, ``-e``, ``-X``) prints for one frame.  It works on the
frame's raw bytes (``Decoded.data``) because tcpdump's partial output on cut or
bogus headers depends on exactly which byte was missing, and it follows
tcpdump's two ways of giving up:

- a *soft* stop (``_soft_trunc``): the printer prints `` [|proto]`` and returns,
  so ``-X`` still dumps from the network header;
- a *hard* stop (``_Trunc``, tcpdump's longjmp on a failed fetch): the mark is
  printed once for the whole frame and ``-X`` dumps the whole frame.

IPv6 and ICMPv6 (NDP, MLD, extension headers) come from ``tcpdump.ip6`` and
``tcpdump.icmp6``, mixed in.  Everything ICMP/ICMPv6/ARP was checked against real
tcpdump 4.99.3 output with ``scripts/compare_tcpdump.py``.  UDP and TCP get tcpdump's
first line in simple cases; other protocols get a short line in tcpdump's style.
Everything ICMP/ARP was checked against real tcpdump 4.99.3 output with
``scripts/compare_tcpdump.py``.  UDP and TCP get tcpdump's first line in simple
cases; other protocols get a short line in tcpdump's style.  The link types beyond
Ethernet/SLL/raw/loopback and Ethernet at any depth live in ``tcpdump.links``, the
tunnels (VXLAN, Geneve, GRE, PIM, ...) in ``tcpdump.encap``: mixins of this class.

Besides -v/-e/-X the formatter takes tcpdump's output options: ``xdump`` (-x 1, -xx 2),
``hexdump`` (-X 1, -XX 2), ``ascii`` (-A 1, -AA 2), ``tflag`` (-t 1 ... -ttttt 5) and
``number`` (-#).
"""

from __future__ import annotations

import re
import socket
import struct
import time
from typing import TYPE_CHECKING

from pcapping.tcpdump.apps.dns import domain
from pcapping.tcpdump.apps.ntp import ntp
from pcapping.tcpdump.apps.rx import PORTS_BEFORE_RX, RxPrinter, is_rx
from pcapping.tcpdump.apps.snmp import snmp
from pcapping.tcpdump.apps.syslog import syslog
from pcapping.tcpdump.apps.text import TCP_TEXT_PORTS, rst_data, tcp_text_proto, txtproto
from pcapping.tcpdump.common import Trunc as _Trunc
from pcapping.tcpdump.common import hex_ascii
from pcapping.tcpdump.encap import TunnelPrinters
from pcapping.tcpdump.icmp6 import ICMPv6Printer
from pcapping.tcpdump.ip6 import IPv6Printer
from pcapping.tcpdump.links import (
    _TAG_TYPES,
    ETHERTYPES,
    LINK_PRINTERS,
    LinkPrinters,
    hex_print,
)
from pcapping.tcpdump.tcpopt import tcp_options
from pcapping.wire.checksum import checksum_ok, checksum_should_be
from pcapping.wire.tunnelports import TUNNEL_PORTS, udp_tunnel

if TYPE_CHECKING:
    from collections.abc import Callable

    from pcapping.decode import Decoded

_H = struct.Struct("!H").unpack_from
_I = struct.Struct("!I").unpack_from
_IL = struct.Struct("<I").unpack_from
_ntoa = socket.inet_ntoa


IPPROTOS = {
    0: "Options", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 8: "EGP", 9: "IGRP", 17: "UDP",
    33: "DCCP", 41: "IPv6", 43: "Routing", 44: "Fragment", 46: "RSVP", 47: "GRE", 50: "ESP",
    51: "AH", 55: "Mobile IP", 58: "ICMPv6", 62: "Mobile IP (old)", 88: "EIGRP", 89: "OSPF",
    103: "PIM", 108: "Compressed IP", 112: "VRRP", 113: "PGM", 132: "SCTP", 135: "Mobility",
    143: "Ethernet",
}
# Protocols tcpdump hands to a dissector of its own (not reproduced here).
_DISSECTED = frozenset((2, 4, 8, 9, 33, 41, 46, 47, 50, 51, 55, 58, 77, 88, 89, 103, 108,
                        112, 113, 132, 135, 143, 240))

_IP_OPTIONS = {0: "EOL", 1: "NOP", 68: "timestamp", 130: "security", 7: "RR", 137: "SSRR",
               131: "LSRR", 148: "RA", 82: "traceroute"}

_ICMP_SIMPLE = {0: "echo reply", 4: "source quench", 8: "echo request",
                10: "router solicitation", 13: "time stamp request",
                14: "time stamp reply", 15: "information request", 16: "information reply",
                17: "address mask request"}

_UNREACH = {
    0: "net {} unreachable", 1: "host {} unreachable",
    5: "{} unreachable - source route failed", 6: "net {} unreachable - unknown",
    7: "host {} unreachable - unknown", 8: "{} unreachable - source host isolated",
    9: "net {} unreachable - admin prohibited", 10: "host {} unreachable - admin prohibited",
    11: "net {} unreachable - tos prohibited", 12: "host {} unreachable - tos prohibited",
    13: "host {} unreachable - admin prohibited filter",
    14: "host {} unreachable - host precedence violation",
    15: "host {} unreachable - precedence cutoff",
}
_REDIRECT = {0: "redirect {} to net {}", 1: "redirect {} to host {}",
             2: "redirect-tos {} to net {}", 3: "redirect-tos {} to host {}"}
_ERROR_TYPES = frozenset((3, 4, 5, 11, 12))

# Pieces of the -v IPv4 header line, prebuilt for the fast path (``_fast_ip``).
_V_TOS = tuple(f"(tos 0x{t:x}{('', ',ECT(1)', ',ECT(0)', ',CE')[t & 3]}" for t in range(256))
_V_TTL = ("",) + tuple(f", ttl {t}" for t in range(1, 256))
_V_FLAGS = tuple(", ".join(name for bit, name in ((1, "+"), (2, "DF"), (4, "rsvd")) if f & bit)
                 or "none" for f in range(8))
_V_PROTO = tuple(f"proto {IPPROTOS.get(i, 'unknown')} ({i})" for i in range(256))
_ZERO6 = bytes(6)
_DEC = tuple(str(i) for i in range(256))
# "a.b.c.d > e.f.g.h" by the 8 address bytes of an IPv4 header: conversations repeat, so
# most lines find theirs here (tcpdump keeps its address strings in a table too)
_PAIRS: dict[bytes, str] = {}


def _v_ip(data: bytes, p: int, total: int, off: int, proto: int) -> str:
    """``IP (tos .., ttl .., id .., ..., length N)`` and the newline of tcpdump -v for a
    20-byte IPv4 header at ``p`` (``total``: its total length field)."""
    h = _from_bytes(data[p: p + 20], "big")
    if not h or h % 0xFFFF:
        stored = data[p + 10] << 8 | data[p + 11]
        should = checksum_should_be(stored, data[p: p + 20])
        bad = f", bad cksum {stored:x} (->{should:x})!"
    else:
        bad = ""
    return (f"IP {_V_TOS[data[p + 1]]}{_V_TTL[data[p + 8]]}, id {data[p + 4] << 8 | data[p + 5]}"
            f", offset {(off & 0x1FFF) * 8}, flags [{_V_FLAGS[off >> 13]}], {_V_PROTO[proto]}"
            f", length {total}{bad})\n    ")


_ADDRS: dict[bytes, str] = {}  # and one address's, by its 4 bytes


def _addr(key: bytes) -> str:
    if len(_ADDRS) >= 65536:
        _ADDRS.clear()
    d = _DEC
    text = _ADDRS[key] = f"{d[key[0]]}.{d[key[1]]}.{d[key[2]]}.{d[key[3]]}"
    return text


def _pair(key: bytes) -> str:
    if len(_PAIRS) >= 65536:
        _PAIRS.clear()
    d = _DEC
    text = _PAIRS[key] = (f"{d[key[0]]}.{d[key[1]]}.{d[key[2]]}.{d[key[3]]} > "
                          f"{d[key[4]]}.{d[key[5]]}.{d[key[6]]}.{d[key[7]]}")
    return text


_TCP_FLAGS = tuple("".join(ch for bit, ch in ((1, "F"), (2, "S"), (4, "R"), (8, "P"),
                                              (16, "."), (32, "U"), (64, "E"), (128, "W"))
                           if f & bit) or "none" for f in range(256))
# UDP ports some printer or tunnel looks at: a datagram between two others is "UDP, length"
_UDP_SPECIAL = bytearray(65536)
for _port in (53, 123, 161, 162, 514, 5060, *range(7000, 7010), *TUNNEL_PORTS):
    _UDP_SPECIAL[_port] = 1
_TCP_FIXED = struct.Struct("!IIBBHHH").unpack_from  # seq, ack, offset, flags, win, sum, urp
_from_bytes = int.from_bytes

_ARPHRD = {1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 16: "ATM",
           17: "HDLC", 18: "Fibre Channel", 19: "ATM (RFC 2225)", 23: "Strip",
           24: "IEEE 1394", 27: "EUI-64", 32: "InfiniBand", 768: "IPIP tunnel",
           772: "Loopback", 776: "SIT", 800: "IEEE 802.11", 801: "IEEE 802.11 Prism",
           802: "IEEE 802.11 Radiotap", 778: "GRE tunnel", 512: "PPP"}
_ARPOP = {1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply",
          8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply"}

_ARP_PRO = {**ETHERTYPES, 0x1000: "Trail"}
_SLL_PKTTYPE = {0: " In", 1: "  B", 2: "  M", 3: "  P", 4: "Out"}
_BSD_AF = {2: "IPv4", 7: "ISO", 16: "Appletalk", 23: "IPX", 24: "IPv6", 28: "IPv6",
           30: "IPv6"}

_ASCII = bytes(c if 0x21 <= c <= 0x7E or c in (9, 10, 32) else 0x2E for c in range(256))
MAX_SNAPLEN = 262144

# UDP ports with a tcpdump application dissector: output is best effort there.
_UDP_DISSECTED = frozenset((7, 53, 67, 68, 69, 88, 111, 123, 137, 138, 161, 162, 177, 319,
                            320, 500, 512, 513, 514, 520, 521, 546, 547, 550, 558, 623, 646,
                            1645, 1646, 1701, 1812, 1813, 1985, 2049, 2152, 2123, 3503, 4341,
                            4342, 4500, 4754, 4784, 4789, 5060, 5353, 5355, 6081, 6633, 6653,
                            8472, 1434, 3784, 3785, 4784, 5246, 5247, 6784, 7000, 7001,
                            7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009, 2123, 2152,
                            49152, 6343, 9995, 9996, 4791, 6696, 8080, 1719, 3799, 1812,
                            1813, 5004, 5005, 5030, 5031, 5032, 427, 496, 1021, 1022, 9, 2727,
                            3868, 4240, 8805, 13400, 5355, 5351, 2055, 2056, 2057, 4739, 6363,
                            179, 3784, 50000))

# Ports tcpdump's UDP printer hands to another dissector before it tries SNMP,
# NTP and syslog (measured on tcpdump 4.99.3, each port against every port).
_PORTS_BEFORE_SNMP = frozenset((53, 67, 68, 69, 500, 520, 525, 654, 4500, 5353, 7500, 8500))
_PORTS_BEFORE_NTP = _PORTS_BEFORE_SNMP | {161, 162}
_PORTS_BEFORE_SYSLOG = PORTS_BEFORE_RX | frozenset((
    496, 521, 546, 547, 646, 698, 701, 921, 1589, 1645, 1646, 1700, 1812, 1813, 3503, 3799,
    5060, 5359, 6343, 6696, 6697, *range(7000, 7010), 8231, 12222, 12223))
_SPORTS_BEFORE_SYSLOG = frozenset((49152,))
_DPORTS_BEFORE_SYSLOG = frozenset((1985, 3456, 3784, 3785, 4567, 4784, 6784))


def _udp_printer(sport: int, dport: int):  # noqa: ANN202
    """The SNMP, NTP or syslog printer tcpdump uses for a UDP datagram, if any."""
    if sport in (161, 162) or dport in (161, 162):
        if not (sport in _PORTS_BEFORE_SNMP or dport in _PORTS_BEFORE_SNMP):
            return snmp
    elif sport == 123 or dport == 123:
        if not (sport in _PORTS_BEFORE_NTP or dport in _PORTS_BEFORE_NTP):
            return ntp
    elif (sport == 514 or dport == 514) and not (
            sport in _PORTS_BEFORE_SYSLOG or dport in _PORTS_BEFORE_SYSLOG
            or sport in _SPORTS_BEFORE_SYSLOG or dport in _DPORTS_BEFORE_SYSLOG):
        return syslog
    return None


def ascii_dump(data: bytes) -> str:
    """tcpdump -A: a newline, then the bytes as text (a CR before LF dropped, the last
    byte's CR too, other unprintable bytes as dots)."""
    out = []
    n = len(data)
    for i, c in enumerate(data):
        if c == 13:
            if n - i - 1 > 1 and data[i + 1] != 10:
                out.append(".")
        else:
            out.append(chr(_ASCII[c]))
    return "\n" + "".join(out)


def _pseudo_sum(data: bytes, ip_off: int, proto: int, p: int, n: int) -> int:
    """``internet_checksum`` of the ``n`` bytes of the UDP/TCP segment at ``p`` behind its
    IPv4 pseudo-header, without building those bytes: 0 when the segment's checksum is
    right.  (Each 16-bit word weighs 2**16k = 1 modulo 0xFFFF, so the pieces' integers add
    up; the pseudo-header is never all zeros.)"""
    seg = _from_bytes(data[p: p + n], "big")
    if n & 1:
        seg <<= 8
    return 0xFFFF - ((_from_bytes(data[ip_off + 12: ip_off + 20], "big") + proto + n + seg)
                     % 0xFFFF or 0xFFFF)


def _hex_words(data: bytes) -> str:
    """tcpdump's hex_print of unknown data: 16-bit words, 8 a line, no ASCII column."""
    out = []
    for i in range(0, len(data) - 1, 2):
        if i % 16 == 0:
            out.append(f"\n\t    0x{i:04x}: ")
        out.append(f" {data[i]:02x}{data[i + 1]:02x}")
    if len(data) & 1:
        if len(data) % 16 == 1:
            out.append(f"\n\t    0x{len(data) - 1:04x}: ")
        out.append(f" {data[-1]:02x}")
    return "".join(out)


def _mac(b: bytes) -> str:
    return b.hex(":")


def _linkaddr(b: bytes, frelay: bool = False) -> str:
    if not b:
        return "<empty>"
    if frelay:
        return _q922(b)
    return b.hex(":")


def _q922(b: bytes) -> str:
    """A Frame Relay (Q.922) address as tcpdump names it: ``DLCI n``."""
    n = len(b)
    if b[0] & 1:
        return "<Invalid DLCI>"
    if n < 2:
        return "parse_q922_header() returned -1"
    dlci = ((b[0] & 0xFC) << 2) | (b[1] >> 4)
    if b[1] & 1:
        return f"DLCI {dlci}"
    i = 2
    if n < 3:
        return "parse_q922_header() returned -1"
    if not b[2] & 1:
        dlci = (dlci << 7) | (b[2] >> 1)
        i = 3
    if n <= i:
        return "parse_q922_header() returned -1"
    if not b[i] & 1:
        return "<Invalid DLCI>"
    return f"DLCI {(dlci << 6) | (b[i] >> 2)}"


class TcpdumpFormatter(IPv6Printer, ICMPv6Printer, LinkPrinters, TunnelPrinters):
    """tcpdump -n[v][e][X] text for one ``Decoded`` frame at a time (IPv6 and ICMPv6 come
    from the ``tcpdump.ip6`` and ``tcpdump.icmp6`` mixins, link types and tunnels from
    ``tcpdump.links`` and ``tcpdump.encap``)."""

    def __init__(self, verbose: int = 0, link: bool = False, hexdump: int = 0,
                 xdump: int = 0, ascii: int = 0, tflag: int = 0, number: bool = False,
                 fast: bool = True) -> None:
        self.verbose = verbose
        self.link = link
        self.hexdump = int(hexdump)
        self.xdump = xdump
        self.ascii = ascii
        self.tflag = tflag
        self.number = number
        self._suppress = bool(self.hexdump or xdump)  # tcpdump's suppress_default_print
        self._plain = not (number or tflag)  # the default time stamp and no -#
        # the straight-from-bytes lines of the common shapes (``_fast_ether``) serve every
        # mode but -e and the dumps; ``fast=False`` turns them off (the tests compare both)
        self._fastok = fast and not (link or self.hexdump or xdump or ascii)
        self._verbose_ip = None  # (the -v header line's pieces, built on first use)
        self._count = 0  # frames formatted (for -#)
        self._tv_ref: int | None = None  # -ttt/-ttttt reference time, in microseconds
        self._sec = -1
        self._hms = ""
        self._hms_cache: dict[int, str] = {}
        self._out: list[str] = []
        self._proto = ""
        self._hdrlen = 0
        # TCP's relative numbers: the first (seq, ack) of each connection, as tcpdump's
        # tcp_seq_hash; ``_tcp_watch(key, kind)``, when set, hears each use: kind None for
        # a base found, True for one made from a frame that is not a SYN, False for a SYN's
        self._tcp_seq: dict[tuple, tuple[int, int]] = {}
        self._tcp_watch: Callable[[tuple, bool | None], None] | None = None
        self._quoted = False  # inside the datagram an ICMP error quotes
        self._rx = RxPrinter()  # remembers RX calls across frames, as tcpdump does

    # -- entry ------------------------------------------------------------

    def timestamp(self, ts_sec: int, ts_usec: int) -> str:
        if ts_sec != self._sec:
            self._sec = ts_sec
            self._hms = time.strftime("%H:%M:%S", time.localtime(ts_sec))
        return f"{self._hms}.{ts_usec:06d} "

    def format(self, d: Decoded) -> str:
        """All of tcpdump's output for this frame, lines joined by newlines, no trailing one."""
        return self.format_record(d.data, d.linktype, d.length, d.ts_sec, d.ts_usec)

    def format_record(self, data: bytes, linktype: int, length: int, ts_sec: int,
                      ts_usec: int) -> str:
        """``format`` straight from a record's fields: no ``Decoded`` is needed, because
        tcpdump's text depends on nothing but the bytes (``sniff`` never decodes for it)."""
        if not self._plain:
            return self._format_full(data, linktype, length, ts_sec, ts_usec)
        if not 0 < len(data) <= length <= MAX_SNAPLEN:
            return self._invalid_header(len(data), length)
        if ts_sec != self._sec:
            if ts_sec & 0x80000000:  # a time tcpdump will not convert
                return self._format_full(data, linktype, length, ts_sec, ts_usec)
            self._sec, self._hms = ts_sec, self._clock(ts_sec)
        head = f"{self._hms}.{ts_usec:06d} "
        if linktype == 1 and self._fastok:
            body = self._fast_ether(data, length)
            if body is not None:
                return head + body
        return self._format_body(data, linktype, length, head)

    def _clock(self, sec: int) -> str:
        """HH:MM:SS of local time (cached), or tcpdump's error for a time it cannot show."""
        hms = self._hms_cache.get(sec)
        if hms is None:
            if len(self._hms_cache) > 4096:
                self._hms_cache.clear()
            if sec & 0x80000000:
                hms = "[Error converting time]"
            else:
                hms = time.strftime("%H:%M:%S", time.localtime(sec))
            self._hms_cache[sec] = hms
        return hms

    def _format_full(self, data: bytes, linktype: int, length: int, sec: int,
                     usec: int) -> str:
        """format() with -#, -t.., -x/-X/-A and friends."""
        self._count += 1
        number = f"{self._count:5d}  " if self.number else ""
        if not 0 < len(data) <= length <= MAX_SNAPLEN:
            return number + self._invalid_header(len(data), length)
        head = number + self._stamp(sec, usec)
        if linktype == 1 and self._fastok:
            body = self._fast_ether(data, length)
            if body is not None:
                return head + body
        return self._format_body(data, linktype, length, head)

    def _stamp(self, sec: int, usec: int) -> str:
        """tcpdump's ts_print for -t (none), -tt, -ttt, -tttt, -ttttt and the default."""
        t = self.tflag
        if t == 0:
            if sec != self._sec:
                self._sec, self._hms = sec, self._clock(sec)
            return f"{self._hms}.{usec:06d} " if sec < 0x80000000 else f"{self._hms} "
        if t == 1:
            return ""
        if t == 2:
            if sec & 0x80000000:
                return "[Error converting time] "
            return f"{sec}.{usec:06d} "
        if t == 4:
            if sec & 0x80000000:
                return "[Error converting time] "
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec)) + f".{usec:06d} "
        if 0x80000000 <= sec < 0x100000000:  # libpcap reads a pcap time as signed 32 bits
            sec -= 0x100000000
        now = sec * 1_000_000 + usec
        if self._tv_ref is None or self._tv_ref == 0:  # tcpdump: "not set" means zero
            self._tv_ref = now
        delta = now - self._tv_ref
        sign = "-" if delta < 0 else " "
        dsec, dusec = divmod(abs(delta), 1_000_000)
        if t == 3:
            self._tv_ref = now
        if dsec & 0x80000000:
            return f"{sign}[Error converting time] "
        return f"{sign}{time.strftime('%H:%M:%S', time.gmtime(dsec))}.{dusec:06d} "

    @staticmethod
    def _invalid_header(caplen: int, length: int) -> str:
        """pretty_print_packet's complaint about a record it will not print."""
        parts = []
        if caplen == 0:
            parts.append(" caplen==0")
        if length == 0:
            parts.append(" len==0")
        elif length < caplen:
            parts.append(f" len({length}) < caplen({caplen})")
        if caplen > MAX_SNAPLEN:
            parts.append(f" caplen({caplen}) > {MAX_SNAPLEN}")
        if length > MAX_SNAPLEN:
            parts.append(f" len({length}) > {MAX_SNAPLEN}")
        return f"[Invalid header:{','.join(parts)}]"

    def _format_body(self, data: bytes, linktype: int, length: int, head: str) -> str:
        out = self._out = [head]
        self._proto = ""
        self._hdrlen = 0
        self._quoted = False
        try:
            self._link_print(data, linktype, length)
            hdrlen = self._hdrlen
        except _Trunc:
            out.append(f" [|{self._proto}]")
            hdrlen = 0
        if self.hexdump:
            start = 0 if self.hexdump > 1 else hdrlen
            if len(data) > start:
                out.append(hex_ascii(data[start:]))
        elif self.xdump:
            start = 0 if self.xdump > 1 else hdrlen
            if len(data) > start:
                out.append(hex_print(data[start:], "\n\t"))
        elif self.ascii:
            start = 0 if self.ascii > 1 else hdrlen
            if len(data) > start:
                out.append(ascii_dump(data[start:]))
        return "".join(out)

    def _fast_ether(self, data: bytes, length: int) -> str | None:
        """tcpdump's text for the common shapes of an Ethernet frame, straight from the
        bytes in one pass; None for anything else (the general printers take it).

        The shapes: any VLAN tags (printed only with -e, which never comes here), then
        an IPv4 header without options, not cut and not a later fragment, carrying an ICMP
        echo, destination unreachable or time exceeded whose fixed part was captured, or
        TCP or UDP (handed to the general TCP/UDP printers); or Ethernet/IPv4 ARP.  The
        text is the general printers' to the byte: ``tests/test_sniff_speed.py`` formats
        every fixture, corpus and mutated frame both ways.
        """
        end = len(data)
        if end < 34:
            return None
        etype = data[12] << 8 | data[13]
        p = 14
        if etype != 0x0800:
            while etype in _TAG_TYPES:
                if end - p < 4:
                    return None
                etype = data[p + 2] << 8 | data[p + 3]
                p += 4
            if etype != 0x0800:
                if etype == 0x0806:
                    return self._fast_arp(data, p, length - p, end)
                return None
        # IPv4 (``_ip``): 20 bytes, no options, whole, not a later fragment
        if data[p] != 0x45 or p + 20 > end:
            return None
        total = data[p + 2] << 8 | data[p + 3]
        if total < 20 or length - p < total:
            return None
        off = data[p + 6] << 8 | data[p + 7]
        if off & 0x1FFF:
            return None
        if p + total < end:
            end = p + total
        proto = data[p + 9]
        verbose = self.verbose
        prefix = _v_ip(data, p, total, off, proto) if verbose else "IP "
        q = p + 20
        if proto != 1:
            if proto != 6 and proto != 17:
                return None
            out = self._out = [prefix]
            self._proto = "ip"
            self._quoted = False
            try:
                if proto == 6:
                    self._tcp(data, q, total - 20, end, bool(off & 0x2000), p)
                else:
                    self._udp(data, q, total - 20, end, bool(off & 0x2000), p)
            except _Trunc:
                out.append(f" [|{self._proto}]")
            return "".join(out)
        # ICMP (``_icmp``): echo, unreachable, time exceeded
        if q + 8 > end:
            return None
        itype = data[q]
        if itype == 8 or itype == 0:
            text = (f"echo {'request' if itype == 8 else 'reply'}, id "
                    f"{data[q + 4] << 8 | data[q + 5]}, seq {data[q + 6] << 8 | data[q + 7]}")
        elif itype == 3:
            if q + 28 > end:
                return None
            code = data[q + 1]
            dst = _ntoa(data[q + 24: q + 28])
            if code == 3:
                hl = (data[q + 8] & 15) * 4
                if q + hl + 12 > end:
                    return None
                dport = data[q + hl + 10] << 8 | data[q + hl + 11]
                iproto = data[q + 17]
                if iproto == 17:
                    text = f"{dst} udp port {dport} unreachable"
                elif iproto == 6:
                    text = f"{dst} tcp port {dport} unreachable"
                else:
                    text = f"{dst} protocol {iproto} port {dport} unreachable"
            elif code == 4:
                mtu = data[q + 6] << 8 | data[q + 7]
                text = (f"{dst} unreachable - need to frag (mtu {mtu})" if mtu
                        else f"{dst} unreachable - need to frag")
            elif code == 2:
                text = f"{dst} protocol {data[q + 17]} unreachable"
            else:
                fmt = _UNREACH.get(code)
                text = fmt.format(dst) if fmt else f"{dst} unreachable - #{code}"
        elif itype == 11:
            if q + 28 > end:
                return None
            code = data[q + 1]
            text = ("time exceeded in-transit" if code == 0 else
                    "ip reassembly time exceeded" if code == 1 else f"time exceeded-#{code}")
        else:
            return None
        key = data[p + 12: p + 20]
        pair = _PAIRS.get(key)
        if pair is None:
            pair = _pair(key)
        line = f"{prefix}{pair}: ICMP {text}, length {total - 20}"
        if not verbose:
            return line
        plen = total - 20
        if not off & 0x2000 and q + plen <= end:
            msg = data[q: q + plen]
            m = _from_bytes(msg, "big")
            if plen & 1:
                m <<= 8
            if not m or m % 0xFFFF:
                stored = data[q + 2] << 8 | data[q + 3]
                line += (f" (wrong icmp cksum {stored:x} "
                         f"(->{checksum_should_be(stored, msg):x})!)")
        if itype == 8 or itype == 0:
            return line
        inner_len = data[q + 10] << 8 | data[q + 11]
        if inner_len < 4:
            return None
        # the quoted datagram: ``_ip`` inline for a 20-byte header that was captured
        r = q + 8
        qend = r + inner_len
        if end < qend:
            qend = end
        out = self._out = [line, "\n\t"]
        self._proto = "icmp"
        self._quoted = True
        try:
            if data[r] == 0x45 and r + 20 <= qend and inner_len >= 20:
                self._proto = "ip"
                qoff = data[r + 6] << 8 | data[r + 7]
                qproto = data[r + 9]
                out.append(_v_ip(data, r, inner_len, qoff, qproto))
                if qoff & 0x1FFF:
                    self._proto = "ip"
                    key = data[r + 12: r + 20]
                    out.append(f"{_PAIRS.get(key) or _pair(key)}: ip-proto-{qproto}")
                elif qproto == 1:
                    key = data[r + 12: r + 20]
                    out.append(f"{_PAIRS.get(key) or _pair(key)}: ")
                    self._icmp(data, r + 20, inner_len - 20, qend, bool(qoff & 0x2000))
                elif qproto == 17:
                    self._udp(data, r + 20, inner_len - 20, qend, bool(qoff & 0x2000), r)
                elif qproto == 6:
                    self._tcp(data, r + 20, inner_len - 20, qend, bool(qoff & 0x2000), r)
                else:
                    self._proto = "ip"
                    if qproto != 132 and qproto != 33:
                        key = data[r + 12: r + 20]
                        out.append(f"{_PAIRS.get(key) or _pair(key)}: ")
                    self._demux(data, r + 20, inner_len - 20, qend, qproto,
                                bool(qoff & 0x2000), r)
            else:
                self._ip(data, r, inner_len, qend, quoted=True)
            self._quoted = False
            if plen > 136:
                self._icmp_ext(data, q, plen, end, itype)
        except _Trunc:
            out.append(f" [|{self._proto}]")
        return "".join(out)

    def _fast_arp(self, data: bytes, p: int, length: int, end: int) -> str | None:
        """``_arp`` for Ethernet/IPv4 requests and replies (see ``_fast_ether``)."""
        if p + 28 > end or data[p: p + 6] != b"\x00\x01\x08\x00\x06\x04" or data[p + 6]:
            return None
        op = data[p + 7]
        if op == 1:
            tha = data[p + 18: p + 24]
            known = "" if tha == _ZERO6 else f" ({tha.hex(':')})"
            text = (f"Request who-has {_ntoa(data[p + 24: p + 28])}{known} tell "
                    f"{_ntoa(data[p + 14: p + 18])}, length {length}")
        elif op == 2:
            text = (f"Reply {_ntoa(data[p + 14: p + 18])} is-at {data[p + 8: p + 14].hex(':')}"
                    f", length {length}")
        else:
            return None
        if self.verbose:
            return "ARP, Ethernet (len 6), IPv4 (len 4), " + text
        return "ARP, " + text

    # -- link layers --------------------------------------------------------

    def _link_print(self, data: bytes, linktype: int, length: int) -> None:
        if linktype == 1:
            self._ether(data, length)
        elif linktype == 113:
            self._sll(data, length)
        elif linktype == 276:
            self._sll2(data, length)
        elif linktype in (101, 12, 14, 228, 229):
            self._hdrlen = 0
            if self.link:
                self._out.append("ip: ")
            self._ipn(data, 0, length, len(data))
        elif linktype in (0, 108):
            self._null(data, length, linktype)
        elif linktype in LINK_PRINTERS:
            getattr(self, LINK_PRINTERS[linktype])(data, length)
        else:
            self._out.append(f"[unsupported link type {linktype}]")
            self._hdrlen = len(data)

    def _trunc_mark(self, proto: str) -> None:
        self._out.append(f" [|{proto}]")

    def _ether(self, data: bytes, length: int) -> None:
        self._proto = "ether"
        self._hdrlen = self._ether_at(data, 0, length, len(data))

    def _ethertype(self, etype: int, data: bytes, p: int, length: int, caplen: int,
                   src: bytes | None = None, dst: bytes | None = None) -> bool:
        """tcpdump's ethertype_print; ``caplen`` is the end of the captured bytes."""
        if etype == 0x0800:
            self._ip(data, p, length, caplen)
        elif etype == 0x0806 or etype == 0x8035:
            self._arp(data, p, length, caplen)
        elif etype == 0x86DD:
            self._ip6(data, p, length, caplen)
        else:
            return self._ethertype_more(etype, data, p, length, caplen, src, dst)
        return True

    def _sll_head(self, pkttype: int | None, halen: int, addr: bytes, etype: int,
                  length: int) -> None:
        out = self._out
        if pkttype is not None:  # SLL2 printed it already
            out.append(_SLL_PKTTYPE.get(pkttype, "  ?") + " ")
        if halen == 6:
            out.append(f"{_mac(addr[:6])} ")
        if etype <= 1500:
            name = {1: "802.3", 4: "802.2"}.get(etype, f"ethertype Unknown (0x{etype:04x})")
            out.append(name)
        else:
            out.append(f"ethertype {ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x})")
        out.append(f", length {length}: ")

    def _sll(self, data: bytes, length: int) -> None:
        caplen = len(data)
        self._proto = "sll"
        if caplen < 16:
            self._trunc_mark("sll")
            self._hdrlen = caplen
            return
        pkttype, _hatype, halen = struct.unpack_from("!HHH", data)
        etype = _H(data, 14)[0]
        if self.link:
            self._sll_head(pkttype, halen, data[6:14], etype, length)
        head = (pkttype, halen, data[6:14], etype, length)
        self._sll_rest(data, 16, length - 16, etype, head)

    def _sll2(self, data: bytes, length: int) -> None:
        caplen = len(data)
        self._proto = "sll2"
        if caplen < 20:
            self._trunc_mark("sll2")
            self._hdrlen = caplen
            return
        etype = _H(data, 0)[0]
        ifindex = _I(data, 4)[0]
        pkttype, halen = data[10], data[11]
        try:
            name = socket.if_indextoname(ifindex)
        except OSError:
            name = "?"
        kind = _SLL_PKTTYPE.get(pkttype, "?").strip()
        self._out.append(f"{name:<5} {kind:<3} ")
        if self.link:
            self._out.append(f"ifindex {ifindex} ")
            self._sll_head(None, halen, data[12:20], etype, length)
        head = (None, halen, data[12:20], etype, length)
        self._sll_rest(data, 20, length - 20, etype, head)

    def _sll_rest(self, data: bytes, p: int, length: int, etype: int, head: tuple) -> None:
        caplen = len(data)
        out = self._out
        while True:
            if etype <= 1500:
                self._hdrlen = p
                if not self.link:
                    self._sll_head(*head)
                out.append("LLC")  # best effort
                return
            if etype == 0x8100:
                if caplen - p < 4:
                    self._trunc_mark("vlan")
                    self._hdrlen = caplen
                    return
                if self.link:
                    tci = _H(data, p)[0]
                    out.append(f"vlan {tci & 0xFFF}, p {tci >> 13}"
                               f"{', DEI' if tci & 0x1000 else ''}, ")
                etype = _H(data, p + 2)[0]
                if etype > 1500:
                    out.append(f"ethertype {ETHERTYPES.get(etype, f'0x{etype:04x}')}, ")
                p += 4
                length -= 4
                continue
            self._hdrlen = p
            if not self._ethertype(etype, data, p, length, caplen):
                if not self.link:
                    self._sll_head(*head)
                if not self.hexdump:
                    out.append(hex_ascii(data[p:]))
            return

    def _null(self, data: bytes, length: int, linktype: int) -> None:
        caplen = len(data)
        self._proto = "null"
        if caplen < 4:
            self._trunc_mark("null")
            self._hdrlen = caplen
            return
        if linktype == 108:
            family = _I(data, 0)[0]
        else:
            family = _IL(data, 0)[0]
            if family & 0xFFFF0000:
                family = _I(data, 0)[0]

        def head(n: int) -> None:
            self._out.append(f"AF {_BSD_AF.get(family, 'Unknown')} ({family}), length {n}: ")

        if self.link:
            head(length)
        self._hdrlen = 4
        if family == 2:
            self._ip(data, 4, length - 4, caplen)
        elif family in (24, 28, 30):
            self._ip6(data, 4, length - 4, caplen)
        else:
            if not self.link:
                head(length)
            if not self.hexdump:
                self._out.append(hex_ascii(data[4:]))

    # -- network layer ------------------------------------------------------

    def _ipn(self, data: bytes, p: int, length: int, end: int) -> None:
        self._proto = "ipn"
        if length < 1 or end <= p:
            self._trunc_mark("ipn") if length < 1 else None
            if end <= p:
                raise _Trunc
            return
        v = data[p] & 0xF0
        if v == 0x40:
            self._ip(data, p, length, end)
        elif v == 0x60:
            self._ip6(data, p, length, end)
        else:
            self._out.append(f"unknown ip {v >> 4}")

    def _ip(self, data: bytes, p: int, length: int, end: int, quoted: bool = False) -> None:
        """tcpdump's ip_print for the datagram at ``data[p:]``; ``end`` is the snap end."""
        out = self._out
        self._proto = "ip"
        if p + 1 > end:
            raise _Trunc
        vhl = data[p]
        if vhl >> 4 != 4:
            if vhl >> 4 == 6:
                out.append("IP6, wrong link-layer encapsulation (invalid)")
            else:
                out.append(f"IP{vhl >> 4} (invalid)")
            return
        if not self.link:
            out.append("IP ")
        if p + 20 > end:
            self._trunc_mark("ip")
            return
        if length < 20:
            out.append(f"truncated-ip {length}")
            return
        hlen = (vhl & 15) * 4
        if hlen < 20:
            out.append(f"bad-hlen {hlen}")
            return
        total = _H(data, p + 2)[0]
        if length < total:
            out.append(f"truncated-ip - {total - length} bytes missing! ")
        if total < hlen:
            out.append(f"bad-len {total}")
            return
        end = min(end, p + total)  # tcpdump pushes its snapend to the total length
        off = _H(data, p + 6)[0]
        proto = data[p + 9]
        k = data[p + 12: p + 16]
        src = _ADDRS.get(k) or _addr(k)
        k = data[p + 16: p + 20]
        dst = _ADDRS.get(k) or _addr(k)
        if self.verbose:
            out.append(f"{_V_TOS[data[p + 1]]}{_V_TTL[data[p + 8]]}, id "
                       f"{data[p + 4] << 8 | data[p + 5]}, offset {(off & 0x1FFF) * 8}, flags "
                       f"[{_V_FLAGS[off >> 13]}], {_V_PROTO[proto]}, length {total}")
            truncated = False
            if hlen > 20:
                out.append(", options (")
                if self._ip_options(data, p + 20, hlen - 20, end) < 0:
                    out.append(" [truncated-option]")
                    truncated = True
                out.append(")")
            if p + hlen <= end and not checksum_ok(data[p: p + hlen]):
                stored = _H(data, p + 10)[0]
                should = checksum_should_be(stored, data[p: p + hlen])
                out.append(f", bad cksum {stored:x} (->{should:x})!")
            out.append(")\n    ")
            if truncated:
                out.append(f"{src} > {dst}: ")
                self._trunc_mark("ip")
                return
        if off & 0x1FFF == 0:
            if proto not in (6, 17, 132, 33):
                out.append(f"{src} > {dst}: ")
            if p + hlen > end:
                out.append(f" [remaining caplen({max(end - p, 0)}) < header length({hlen})]")
                raise _Trunc
            self._demux(data, p + hlen, total - hlen, end, proto, bool(off & 0x2000), p)
        else:
            out.append(f"{src} > {dst}: ip-proto-{proto}")

    def _ip_options(self, data: bytes, p: int, n: int, end: int) -> int:
        out = self._out
        sep = ""
        while n > 0:
            out.append(sep)
            sep = ","
            if p + 1 > end:
                raise _Trunc
            code = data[p]
            out.append(_IP_OPTIONS.get(code, f"unknown {code}"))
            if code in (0, 1):
                olen = 1
            else:
                if p + 2 > end:
                    raise _Trunc
                olen = data[p + 1]
                if olen < 2:
                    out.append(f" [bad length {olen}]")
                    return 0
            if olen > n:
                out.append(f" [bad length {olen}]")
                return 0
            if p + olen > end:
                return -1
            if code == 0:
                return 0
            if code == 68:
                if self._ip_ts(data, p, olen, end) < 0:
                    return -1
            elif code in (7, 131, 137):
                if self._ip_route(data, p, olen, end) < 0:
                    return -1
            elif code == 148:
                if olen < 4:
                    out.append(f" [bad length {olen}]")
                else:
                    v = _H(data, p + 2)[0]
                    if v:
                        out.append(f" value {v}")
            p += olen
            n -= olen
        return 0

    def _ip_route(self, data: bytes, p: int, olen: int, end: int) -> int:
        """tcpdump's ip_printroute: -1 when an address is not captured (an address may
        reach past a badly sized option into what follows, as tcpdump reads it)."""
        out = self._out
        if olen < 3:
            out.append(f" [bad length {olen}]")
            return 0
        if (olen + 1) & 3:
            out.append(f" [bad length {olen}]")
        ptr = (data[p + 2] - 1) & 0xFFFFFFFF  # unsigned, as in tcpdump: 0 wraps around
        if ptr < 3 or (ptr + 1) & 3 or ptr > olen + 1:
            out.append(f" [bad ptr {data[p + 2]}]")
        i = 3
        while i < olen:
            if p + i + 4 > end:
                return -1
            out.append(f" {_ntoa(data[p + i: p + i + 4])}")
            if ptr > i:
                out.append(",")
            i += 4
        return 0

    def _ip_ts(self, data: bytes, p: int, olen: int, end: int) -> int:
        out = self._out
        if olen < 4:
            out.append(f"[bad length {olen}]")
            return 0
        out.append(" TS{")
        flag = data[p + 3]
        hoplen = 8 if flag & 15 else 4
        if (olen - 4) & (hoplen - 1):
            out.append(f"[bad length {olen}]")
        ptr = data[p + 2] - 1
        i = 0
        if ptr < 4 or (ptr - 4) & (hoplen - 1) or ptr > olen + 1:
            out.append(f"[bad ptr {data[p + 2]}]")
        kind = flag & 15
        if kind in (0, 1, 3):
            out.append({0: "TSONLY", 1: "TS+ADDR", 3: "PRESPEC"}[kind])
            sep = " "
            i = 4
            while i < olen:
                if ptr == i:
                    sep = " ^ "
                if p + i + hoplen > end:
                    return -1
                stamp = _I(data, p + i + hoplen - 4)[0]
                addr = _ntoa(data[p + i: p + i + 4]) if hoplen == 8 else ""
                out.append(f"{sep}{stamp}@{addr}")
                sep = " "
                i += hoplen
        else:
            out.append(f"[bad ts type {kind}]")
        out.append(" ^ " if ptr == i else "")
        if flag >> 4:
            out.append(f" [{flag >> 4} hops not recorded]}} ")
        else:
            out.append("}")
        return 0

    def _demux(self, data: bytes, p: int, length: int, end: int, proto: int, mf: bool,
               ip_off: int) -> None:
        if proto == 1:
            self._icmp(data, p, length, end, mf)
        elif proto == 17:
            self._udp(data, p, length, end, mf, ip_off)
        elif proto == 6:
            self._tcp(data, p, length, end, mf, ip_off)
        elif proto == 4:
            self._ip(data, p, length, end)  # IP in IP
        elif proto == 41:
            self._ip6(data, p, length, end)  # IPv6 in IPv4 (6in4)
        elif proto == 58:
            self._out.append("[ICMPv6 requires IPv6] (invalid)")
        elif proto == 47:
            self._gre(data, p, length, end)
        elif proto == 103:
            self._pim(data, p, length, end, ip_off)
        elif proto == 77:
            self._out.append(f" nd {length}")
        elif proto in _DISSECTED:
            self._out.append(f"{IPPROTOS.get(proto, f'ip-proto-{proto}')} {length}")
        else:
            self._out.append(f" ip-proto-{proto} {length}")

    # -- ICMP -----------------------------------------------------------------

    def _icmp(self, data: bytes, p: int, plen: int, end: int, fragmented: bool) -> None:
        out = self._out
        self._proto = "icmp"

        def need(n: int) -> None:
            if p + n > end:
                raise _Trunc

        need(2)
        itype, code = data[p], data[p + 1]
        text = None
        if itype == 8 or itype == 0:
            need(8)
            text = (f"echo {'request' if itype == 8 else 'reply'}, id {_H(data, p + 4)[0]}, "
                    f"seq {_H(data, p + 6)[0]}")
        elif itype == 3:
            if code == 3 and p + 18 > end:
                self._trunc_mark("icmp")
                return
            need(28)
            dst = _ntoa(data[p + 24: p + 28])
            if code == 2:
                need(18)
                text = f"{dst} protocol {data[p + 17]} unreachable"
            elif code == 3:
                need(18)
                hlen = (data[p + 8] & 15) * 4
                need(8 + hlen + 4)
                dport = _H(data, p + 8 + hlen + 2)[0]
                iproto = data[p + 17]
                if iproto == 6:
                    text = f"{dst} tcp port {dport} unreachable"
                elif iproto == 17:
                    text = f"{dst} udp port {dport} unreachable"
                else:
                    text = f"{dst} protocol {iproto} port {dport} unreachable"
            elif code == 4:
                mtu = _H(data, p + 6)[0]
                text = (f"{dst} unreachable - need to frag (mtu {mtu})" if mtu
                        else f"{dst} unreachable - need to frag")
            else:
                fmt = _UNREACH.get(code)
                text = fmt.format(dst) if fmt else f"{dst} unreachable - #{code}"
        elif itype == 5:
            need(28)
            dst = _ntoa(data[p + 24: p + 28])
            gw = _ntoa(data[p + 4: p + 8])
            fmt = _REDIRECT.get(code)
            text = fmt.format(dst, gw) if fmt else f"redirect-#{code} {dst} to {gw}"
        elif itype == 9:
            if p + 8 > end:
                self._trunc_mark("icmp")
                return
            num, size, lifetime = data[p + 4], data[p + 5], _H(data, p + 6)[0]
            if lifetime < 60:
                lt = f"{lifetime}"
            elif lifetime < 3600:
                lt = f"{lifetime // 60}:{lifetime % 60:02d}"
            else:
                lt = f"{lifetime // 3600}:{(lifetime % 3600) // 60:02d}:{lifetime % 60:02d}"
            parts = [f"router advertisement lifetime {lt} {num}:"]
            if size != 2:
                parts.append(f" [size {size}]")
            else:
                q = p + 8
                for _ in range(num):
                    if q + 8 > end:
                        self._trunc_mark("icmp")
                        return
                    parts.append(f" {{{_ntoa(data[q: q + 4])} {_I(data, q + 4)[0]}}}")
                    q += 8
            text = "".join(parts)
        elif itype == 11:
            if p + 28 > end:
                self._trunc_mark("icmp")
                return
            if code == 0:
                text = "time exceeded in-transit"
            elif code == 1:
                text = "ip reassembly time exceeded"
            else:
                text = f"time exceeded-#{code}"
        elif itype == 12:
            if code:
                text = f"parameter problem - code {code}"
            else:
                need(5)
                text = f"parameter problem - octet {data[p + 4]}"
        elif itype == 18:
            need(12)
            text = f"address mask is 0x{_I(data, p + 8)[0]:08x}"
        elif itype == 13:
            need(8)
            text = f"time stamp query id {_H(data, p + 4)[0]} seq {_H(data, p + 6)[0]}"
        elif itype == 14:
            if p + 20 > end:
                self._trunc_mark("icmp")
                return
            stamps = ", ".join(
                f"{name} {_msec(_I(data, p + o)[0])}"
                for name, o in (("org", 8), ("recv", 12), ("xmit", 16)))
            text = (f"time stamp reply id {_H(data, p + 4)[0]} seq {_H(data, p + 6)[0]}: "
                    f"{stamps}")
        else:
            text = _ICMP_SIMPLE.get(itype) or f"type-#{itype}"
        out.append(f"ICMP {text}, length {plen}")
        if self.verbose and not fragmented and p + plen <= end:
            msg = data[p: p + plen]
            if not checksum_ok(msg):
                stored = _H(data, p + 2)[0] if plen >= 4 else 0
                if plen < 4:
                    need(4)
                should = checksum_should_be(stored, msg)
                out.append(f" (wrong icmp cksum {stored:x} (->{should:x})!)")
        if self.verbose and itype in _ERROR_TYPES:
            out.append("\n\t")
            q = p + 8
            need(8 + 4)
            inner_len = _H(data, q + 2)[0]
            if inner_len < 4:  # tcpdump reads the quote's length again past the cut it made
                raise _Trunc
            inner_end = min(end, q + inner_len)
            self._quoted = True
            self._ip(data, q, inner_len, inner_end, quoted=True)
            self._quoted = False
            self._icmp_ext(data, p, plen, end, itype)

    def _icmp_ext(self, data: bytes, p: int, plen: int, end: int, itype: int) -> None:
        """RFC 4884 multi-part extensions (MPLS label stack objects)."""
        if plen <= 136 or itype not in (3, 11, 12):
            return
        self._proto = "icmp"  # a cut here is ICMP's, whatever the quote last printed
        out = self._out
        if p + 141 > end:  # tcpdump checks for its whole extension struct (141 bytes)
            self._trunc_mark("icmp")
            return
        ext = p + 136
        n = plen - 136
        if data[p + 5] == 0 and ext + n <= end and not checksum_ok(data[ext: ext + n]):
            return
        if ext + 1 > end:
            raise _Trunc
        version = data[ext] >> 4
        out.append(f"\n\tICMP Multi-Part extension v{version}")
        if version != 2:
            out.append(" packet not supported")
            return
        if ext + n <= end:
            if ext + 4 > end:
                raise _Trunc
            ok = checksum_ok(data[ext: ext + n])
            out.append(f", checksum 0x{_H(data, ext + 2)[0]:04x} "
                       f"({'' if ok else 'in'}correct), length {n}")
        n -= 4
        q = ext + 4
        while n > 4:
            if q + 4 > end:  # ND_TCHECK_SIZE of the object header: a soft stop
                self._trunc_mark("icmp")
                return
            olen, cls, ctype = _H(data, q)[0], data[q + 2], data[q + 3]
            q += 4
            name = {1: "MPLS Stack Entry", 2: "Interface Identification"}.get(cls, "unknown")
            out.append(f"\n\t  {name} Object ({cls}), Class-Type: {ctype}, length {olen}")
            n -= 4
            if cls == 0 or olen < 4:
                return
            olen -= 4
            if cls == 1 and ctype == 1:
                if q + 4 > end:
                    raise _Trunc
                raw = _I(data, q)[0]
                out.append(f"\n\t    label {raw >> 12}, tc {(raw >> 9) & 7}")
                if raw & 0x100:
                    out.append(", [S]")
                out.append(f", ttl {raw & 0xFF}")
            else:
                out.append(_hex_words(data[q: min(q + olen, end)]))
            if n < olen:
                break
            n -= olen
            q += olen

    # -- transport (best effort outside ICMP quotes) ---------------------------

    def _udp(self, data: bytes, p: int, length: int, end: int, fragmented: bool,
             ip_off: int) -> None:
        out = self._out
        self._proto = "udp"
        a = ip_off + 12
        k = data[a: a + 4]
        src = _ADDRS.get(k) or _addr(k)
        k = data[a + 4: a + 8]
        dst = _ADDRS.get(k) or _addr(k)
        if p + 4 > end:
            out.append(f"{src} > {dst}: ")
            self._trunc_mark("udp")
            return
        sport, dport = _H(data, p)[0], _H(data, p + 2)[0]
        addrs = f"{src}.{sport} > {dst}.{dport}: "
        if length < 8:
            out.append(f"{addrs}truncated-udp {length}")
            return
        if p + 6 > end:
            out.append(addrs)
            self._trunc_mark("udp")
            return
        ulen = _H(data, p + 4)[0]
        if ulen == 0 and length > 65535:
            ulen = length
        if ulen < 8:
            out.append(f"{addrs}truncated-udplength {ulen}")
            return
        ulen -= 8
        length -= 8
        if ulen < length:
            length = ulen
        if p + 8 > end:
            out.append(addrs)
            self._trunc_mark("udp")
            return
        out.append(addrs)
        if self.verbose > 1 and not fragmented:
            usum = _H(data, p + 6)[0]
            if usum == 0:
                out.append("[no cksum] ")
            elif p + 8 + length <= end:
                total = _pseudo_sum(data, ip_off, 17, p, 8 + length)
                if total:
                    s = usum + total
                    s = (s & 0xFFFF) + (s >> 16)
                    s = (s & 0xFFFF) + (s >> 16)
                    out.append(f"[bad udp cksum 0x{usum:04x} -> 0x{s:04x}!] ")
                else:
                    out.append("[udp sum ok] ")
        if (_UDP_SPECIAL[sport] or _UDP_SPECIAL[dport]) and self._udp_app(
                data, p, length, end, sport, dport, ip_off):
            return
        if ulen > length and not fragmented:
            out.append(f"UDP, bad length {ulen} > {length}")
        else:
            out.append(f"UDP, length {ulen}")

    def _udp_app(self, data: bytes, p: int, length: int, end: int, sport: int, dport: int,
                 ip_off: int) -> bool:
        """The application or tunnel printer tcpdump picks for a datagram to or from one
        of ``_UDP_SPECIAL``'s ports, if any (True: it printed the datagram)."""
        out = self._out
        if self._quoted and (sport == 5060 or dport == 5060) and (
                sport == dport or (dport if sport == 5060 else sport) not in _UDP_DISSECTED):
            self._app(txtproto(data, p + 8, length, end, "sip", self.verbose))
            return True
        if sport == 53 or dport == 53:
            if length < 12:
                out.append(f"domain [length {length} < 12] (invalid)")
                return True
            if p + 8 + 12 > end:
                self._proto = "domain"
                raise _Trunc
            if self._quoted and self.verbose == 1:
                dns = domain(data, p + 8, length, end)
                if dns is not None:
                    self._app(dns)
                    return True
        printer = _udp_printer(sport, dport)
        if printer is not None:
            self._app(printer(data, p + 8, length, end, self.verbose))
            return True
        if is_rx(sport, dport):
            self._app(self._rx.print(data, p + 8, length, end, sport, dport,
                                     data[ip_off + 12: ip_off + 16],
                                     data[ip_off + 16: ip_off + 20], self.verbose))
            return True
        tunnel = udp_tunnel(sport, dport, data[p + 12: p + 16] if p + 16 <= end else b"")
        if tunnel is not None:
            self._udp_tunnel(tunnel, data, p + 8, length, end)
            return True
        return False

    def _tcp(self, data: bytes, p: int, length: int, end: int, fragmented: bool,
             ip_off: int) -> None:
        out = self._out
        self._proto = "tcp"
        a = ip_off + 12
        k = data[a: a + 4]
        src = _ADDRS.get(k) or _addr(k)
        k = data[a + 4: a + 8]
        dst = _ADDRS.get(k) or _addr(k)
        if p + 4 > end:
            out.append(f"{src} > {dst}:")
            self._trunc_mark("tcp")
            return
        sport, dport = data[p] << 8 | data[p + 1], data[p + 2] << 8 | data[p + 3]
        if p + 20 > end:
            out.append(f"{src}.{sport} > {dst}.{dport}: ")
            self._trunc_mark("tcp")
            return
        hlen = (data[p + 12] >> 4) * 4
        if hlen < 20:
            out.append(f"{src}.{sport} > {dst}.{dport}:  tcp {length - hlen} "
                       f"[bad hdr length {hlen} - too short, < 20]")
            return
        seq, ack, _, flags, win, _, urp = _TCP_FIXED(data, p + 4)
        out.append(f"{src}.{sport} > {dst}.{dport}: Flags [{_TCP_FLAGS[flags]}]")
        sack_base = 0  # what SACK edges are relative to
        if flags & 16:
            rev = sport > dport or (sport == dport and data[a: a + 4] > data[a + 4: a + 8])
            key = ((data[a + 4: a + 8], data[a: a + 4], dport, sport) if rev
                   else (data[a: a + 4], data[a + 4: a + 8], sport, dport))
            base = self._tcp_seq.get(key)
            if self._tcp_watch is not None:  # (sniff's split: what this frame relied on)
                self._tcp_watch(key, None if base is not None and not flags & 2
                                else not flags & 2)
            if base is None or flags & 2:
                base = self._tcp_seq[key] = (ack - 1, seq) if rev else (seq, ack - 1)
                sack_base = base[0] if rev else base[1]
            else:
                bseq, back = base
                sack_base = bseq if rev else back
                if rev:
                    seq, ack = (seq - back) & 0xFFFFFFFF, (ack - bseq) & 0xFFFFFFFF
                else:
                    seq, ack = (seq - bseq) & 0xFFFFFFFF, (ack - back) & 0xFFFFFFFF
        if hlen > length:
            out.append(f" [bad hdr length {hlen} - too long, > {length}]")
            return
        if self.verbose and not fragmented and p + length <= end:
            tsum = data[p + 16] << 8 | data[p + 17]
            total = _pseudo_sum(data, ip_off, 6, p, length)
            if total:
                s = tsum + total  # checksum_should_be, from the sum already made
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                out.append(f", cksum 0x{tsum:04x} (incorrect -> 0x{s:04x})")
            else:
                out.append(f", cksum 0x{tsum:04x} (correct)")
        length -= hlen
        if self.verbose > 1 or length > 0 or flags & 7:
            out.append(f", seq {seq}")
            if length > 0:
                out.append(f":{(seq + length) & 0xFFFFFFFF}")
        if flags & 16:
            out.append(f", ack {ack}")
        out.append(f", win {win}")
        if flags & 32:
            out.append(f", urg {urp}")
        if hlen > 20:
            stop = tcp_options(data, p + 20, hlen - 20, end, out, sack_base,
                               p + hlen + length <= end)
            if stop == "tcp":
                raise _Trunc
            if stop:
                return
        out.append(f", length {length}")
        if length <= 0:
            return
        if p + hlen > end:
            out.append(f" [remaining caplen({end - p}) < header length({hlen})]")
            raise _Trunc
        if flags & 4 and self.verbose:
            out.append(rst_data(data, p + hlen, length, end))
        elif sport in TCP_TEXT_PORTS or dport in TCP_TEXT_PORTS:
            name = tcp_text_proto(sport, dport)
            if name:
                self._app(txtproto(data, p + hlen, length, end, name, self.verbose), ": ")

    def _app(self, result: tuple[str, str], sep: str = "") -> None:
        """Append an application printer's text; its hard stop is tcpdump's longjmp."""
        text, hard = result
        self._out.append(sep + text)
        if hard:
            self._proto = hard
            raise _Trunc

    # -- ARP --------------------------------------------------------------------

    def _arp(self, data: bytes, p: int, length: int, caplen: int) -> None:
        out = self._out
        self._proto = "arp"
        if p + 8 > caplen:
            raise _Trunc
        hrd, pro, hln, pln, op = struct.unpack_from("!HHBBH", data, p)
        if hrd == 19:
            self._proto = "atmarp"
            out.append(f"ATMARP, length {length}")  # best effort
            return
        sha = p + 8
        spa = sha + hln
        tha = spa + pln
        tpa = tha + hln
        if tpa + pln > caplen:
            raise _Trunc
        if not self.link:
            out.append("ARP, ")
        ip_like = pro in (0x0800, 0x1000)
        if not ip_like or pln != 4 or hln == 0 or self.verbose:
            out.append(f"{_ARPHRD.get(hrd, f'Unknown Hardware ({hrd})')} (len {hln}), "
                       f"{_ARP_PRO.get(pro) or f'Unknown Protocol (0x{pro:04x})'} (len {pln})")
            if not self.verbose:
                out.append(f", length {length}")
                return

        def paddr(off: int) -> str:
            if not ip_like:
                return "<wrong proto type>"
            if pln != 4:
                return "<wrong len>"
            return _ntoa(data[off: off + 4])

        def haddr(off: int) -> str:
            return _linkaddr(data[off: off + hln], hrd == 15)

        out.append(f"{', ' if self.verbose else ''}{_ARPOP.get(op, f'Unknown ({op})')} ")
        if op == 1:
            out.append(f"who-has {paddr(tpa)}")
            if any(data[tha: tha + hln]):
                out.append(f" ({haddr(tha)})")
            out.append(f" tell {paddr(spa)}")
        elif op == 2:
            out.append(f"{paddr(spa)} is-at {haddr(sha)}")
        elif op == 3:
            out.append(f"who-is {haddr(tha)} tell {haddr(sha)}")
        elif op == 4:
            out.append(f"{haddr(tha)} at {paddr(tpa)}")
        elif op == 8:
            out.append(f"who-is {haddr(tha)} tell {haddr(sha)}")
        elif op == 9:
            out.append(f"{haddr(sha)} at {paddr(spa)}")
        else:
            out.append(hex_ascii(data[p:caplen]))
            return
        out.append(f", length {length}")


def _msec(v: int) -> str:
    ms = v % 1000
    s = v // 1000
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


_RECORD_START = re.compile(r"^(?:\d\d:\d\d:\d\d\.\d{6} |\[Invalid header: )")


def split_records(text: str) -> list[str]:
    """tcpdump's text output cut into one string per frame (a timestamp starts each, or
    the one-line complaint about a record tcpdump would not print)."""
    records: list[list[str]] = []
    for line in text.split("\n"):
        if _RECORD_START.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    while records and records[-1] == [""]:
        records.pop()
    out = ["\n".join(r) for r in records]
    return [r[:-1] if r.endswith("\n") else r for r in out]


__all__ = ["TcpdumpFormatter", "hex_ascii", "split_records"]
