"""tcpdump 4.99's IPv6 printer: the header line, extension headers, the protocol demux.

``IPv6Printer`` is mixed into ``TcpdumpFormatter`` and supplies ``_ip6(data, p,
length, end)``, which the formatter's EtherType, raw-IP and loopback dispatch call.
It follows tcpdump's ``ip6_print`` byte for byte: ``IP6 `` (not under ``-e``), the
``-v`` parenthesis (class, flow label, hop limit, next header, payload length) on the
same line, the capture end cut to the payload length, and the extension headers
(``HBH``, ``DSTOPT``, ``RT6``, ``frag``, ``AH``, ``ESP``) before the upper layer, which
``_demux6`` hands to the ICMPv6 printer (``pcapping.tcpdump.icmp6``) or prints in
tcpdump's style (UDP/TCP ports, other protocols by name).

A fetch past the captured bytes is tcpdump's longjmp: ``Trunc6`` (the formatter
prints `` [|proto]`` once, for the whole frame).
"""

from __future__ import annotations

import socket
import struct

from pcapping.tcpdump.common import Trunc

_H = struct.Struct("!H").unpack_from
_I = struct.Struct("!I").unpack_from


Trunc6 = Trunc  # (the formatter's one longjmp; the old name kept for the IPv6 printers)


def ip6_text(raw: bytes) -> str:
    """tcpdump's addrtostr6 (the same text as glibc's inet_ntop)."""
    return socket.inet_ntop(socket.AF_INET6, raw)


# The names tcpdump's tok2str(ipproto_values) gives (ipproto.c).
IPPROTO_NAMES = {
    0: "Options", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 8: "EGP", 9: "IGRP", 17: "UDP",
    33: "DCCP", 41: "IPv6", 43: "Routing", 44: "Fragment", 46: "RSVP", 47: "GRE", 50: "ESP",
    51: "AH", 55: "Mobile IP", 58: "ICMPv6", 62: "Mobile IP (old)", 88: "EIGRP", 89: "OSPF",
    103: "PIM", 108: "Compressed IP", 112: "VRRP", 113: "PGM", 132: "SCTP", 135: "Mobility",
    143: "Ethernet",
}
# upper layers tcpdump hands to a dissector of its own that pcapping does not reproduce
_OTHER_DISSECTORS = {
    9: "IGRP", 88: "EIGRP", 8: "EGP", 89: "OSPF", 46: "RSVP", 47: "GRE", 55: "Mobile IP",
    103: "PIM", 112: "VRRP", 113: "PGM", 132: "SCTP", 33: "DCCP",
}


class IPv6Printer:
    """The IPv6 half of ``TcpdumpFormatter`` (a mixin: uses its ``_out``, ``_proto``,
    ``verbose``, ``link``, ``_trunc_mark``, ``_ip`` and the ICMPv6 mixin's ``_icmp6``)."""

    _out: list[str]
    _proto: str
    verbose: int
    link: bool

    # -- fetches -------------------------------------------------------------

    @staticmethod
    def _u8(data: bytes, cp: int, end: int) -> int:
        if cp + 1 > end:
            raise Trunc6
        return data[cp]

    @staticmethod
    def _u16(data: bytes, cp: int, end: int) -> int:
        if cp + 2 > end:
            raise Trunc6
        return _H(data, cp)[0]

    @staticmethod
    def _u32(data: bytes, cp: int, end: int) -> int:
        if cp + 4 > end:
            raise Trunc6
        return _I(data, cp)[0]

    @staticmethod
    def _addr6(data: bytes, cp: int, end: int) -> str:
        if cp + 16 > end:
            raise Trunc6
        return ip6_text(data[cp: cp + 16])

    # -- ip6_print -------------------------------------------------------------

    def _ip6(self, data: bytes, p: int, length: int, end: int) -> None:
        """tcpdump's ip6_print for the datagram at ``data[p:]``; ``end`` is the snap end,
        ``length`` what the link layer says is left."""
        out = self._out
        self._proto = "ip6"
        if p + 40 > end:
            self._trunc_mark("ip6")  # type: ignore[attr-defined]
            return
        if length < 40:
            out.append(f"truncated-ip6 {length}")
            return
        if not self.link:
            out.append("IP6 ")
        version = data[p] >> 4
        if version != 6:
            out.append(f"version error: {version} != 6")
            return
        payload_len = _H(data, p + 4)[0]
        if payload_len:
            total = payload_len + 40
            if length < total:
                out.append(f"truncated-ip6 - {total - length} bytes missing!")
        else:
            total = length + 40
        nh = data[p + 6]
        if self.verbose:
            flow = _I(data, p)[0]
            out.append("(")
            if flow & 0x0FF00000:
                out.append(f"class 0x{(flow & 0x0FF00000) >> 20:02x}, ")
            if flow & 0x000FFFFF:
                out.append(f"flowlabel 0x{flow & 0x000FFFFF:05x}, ")
            out.append(f"hlim {data[p + 7]}, next-header {IPPROTO_NAMES.get(nh, 'unknown')} "
                       f"({nh}) payload length: {payload_len}) ")
        end = min(end, p + total)  # nd_push_snaplen: the payload length bounds every fetch
        cp = p
        advance = 40
        total_advance = 0
        ph = 255
        found_ext = found_jumbo = found_hbh = False
        fragmented = False
        while cp < end and advance > 0:
            if total < advance:
                self._trunc_mark("ip6")  # type: ignore[attr-defined]
                return
            cp += advance
            total -= advance
            total_advance += advance
            if cp == p + 40 and nh not in (6, 17, 33, 132):
                out.append(f"{ip6_text(data[p + 8: p + 24])} > {ip6_text(data[p + 24: p + 40])}: ")
            if nh == 0:
                if found_hbh:
                    out.append("[The Hop-by-Hop Options header was already found] (invalid)")
                    return
                if ph != 255:
                    out.append("[The Hop-by-Hop Options header don't follow the IPv6 header]"
                               " (invalid)")
                    return
                advance, jumbo = self._hbh(data, cp, end, payload_len)
                if jumbo is not None:
                    found_jumbo, payload_len = True, jumbo
                if payload_len == 0 and not found_jumbo:
                    out.append("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")
                    return
                if advance < 0:
                    return
                found_ext = found_hbh = True
                nh = data[cp]
            elif nh == 60:
                advance = self._dstopt(data, cp, end)
                if advance < 0:
                    return
                found_ext = True
                nh = data[cp]
            elif nh == 44:
                advance = self._frag6(data, cp, p, end)
                if advance < 0 or end <= cp + advance:
                    return
                found_ext = True
                nh = data[cp]
                fragmented = True
            elif nh in (135, 62):
                self._mobility(data, cp, end)
                return
            elif nh == 43:
                if cp + 1 > end:
                    self._trunc_mark("ip6")  # type: ignore[attr-defined]
                    return
                advance = self._rt6(data, cp, end)
                if advance < 0:
                    return
                found_ext = True
                nh = data[cp]
            else:
                length6 = total
                if found_jumbo:
                    length6 = payload_len + 40
                    if length6 < total_advance:
                        self._trunc_mark("ip6")  # type: ignore[attr-defined]
                        return
                    if length < length6:
                        out.append(f"truncated-ip6 - {length6 - length} bytes missing!")
                    end = min(end, p + length6)
                    length6 -= total_advance
                elif payload_len == 0:
                    if found_ext:
                        self._trunc_mark("ip6")  # type: ignore[attr-defined]
                        return
                    end = min(end, p + 40)
                    length6 = 0
                self._demux6(data, cp, length6, end, nh, fragmented, p)
                return
            ph = nh
            self._proto = "ip6"

    # -- extension headers -----------------------------------------------------

    def _hbh(self, data: bytes, cp: int, end: int, payload_len: int) -> tuple[int, int | None]:
        """hbhopt_process: (advance or -1, the jumbo payload length if one was found)."""
        self._proto = "hbhopt"
        size = (self._u8(data, cp + 1, end) + 1) << 3
        if cp + size > end:
            self._trunc_mark("hbhopt")  # type: ignore[attr-defined]
            return -1, None
        self._out.append("HBH ")
        box = [payload_len, None]
        if self._ip6_opts(data, cp + 2, size - 2, box) < 0:
            self._trunc_mark("hbhopt")  # type: ignore[attr-defined]
            return -1, box[1]
        return size, box[1]

    def _dstopt(self, data: bytes, cp: int, end: int) -> int:
        self._proto = "dstopt"
        size = (self._u8(data, cp + 1, end) + 1) << 3
        if cp + size > end:
            self._trunc_mark("dstopt")  # type: ignore[attr-defined]
            return -1
        self._out.append("DSTOPT ")
        if self.verbose and self._ip6_opts(data, cp + 2, size - 2, None) < 0:
            self._trunc_mark("dstopt")  # type: ignore[attr-defined]
            return -1
        return size

    def _ip6_opts(self, data: bytes, bp: int, n: int, box: list | None) -> int:
        """ip6_opt_process over ``n`` option bytes at ``bp`` (all captured): 0, or -1 for
        tcpdump's trunc label.  ``box`` is [payload length, jumbo found] for hop-by-hop,
        None for destination options."""
        out = self._out
        v = self.verbose
        if n == 0:
            return 0
        found_jumbo = False
        i = 0
        while i < n:
            kind = data[bp + i]
            if kind == 0:
                optlen = 1
            elif i + 1 < n:
                optlen = data[bp + i + 1] + 2
            else:
                return -1
            if i + optlen > n:
                return -1
            if kind == 0:
                if v:
                    out.append("(pad1)")
            elif kind == 1:
                if n - i < 2:
                    out.append("(padn: trunc)")
                    return -1
                if v:
                    out.append("(padn)")
            elif kind == 5:
                if n - i < 4:
                    out.append("(rtalert: trunc)")
                    return -1
                if data[bp + i + 1] != 2:
                    out.append(f"(rtalert: invalid len {data[bp + i + 1]})")
                    return -1
                if v:
                    out.append(f"(rtalert: 0x{_H(data, bp + i + 2)[0]:04x}) ")
            elif kind == 0xC2:
                if n - i < 6:
                    out.append("(jumbo: trunc)")
                    return -1
                if data[bp + i + 1] != 4:
                    out.append(f"(jumbo: invalid len {data[bp + i + 1]})")
                    return -1
                jumbo = _I(data, bp + i + 2)[0]
                if found_jumbo:
                    if v:
                        out.append(f"(jumbo: {jumbo} - already seen) ")
                else:
                    found_jumbo = True
                    if box is None:
                        if v:
                            out.append(f"(jumbo: {jumbo} - not a hop-by-hop option) ")
                    elif box[0] != 0:
                        if v:
                            out.append(f"(jumbo: {jumbo} - payload len != 0) ")
                    elif jumbo < 65536:
                        if v:
                            out.append(f"(jumbo: {jumbo} - < 65536) ")
                    else:
                        box[0] = box[1] = jumbo
                        if v:
                            out.append(f"(jumbo: {jumbo}) ")
            elif kind == 0xC9:
                if n - i < 18:
                    out.append("(homeaddr: trunc)")
                    return -1
                if data[bp + i + 1] < 16:
                    out.append(f"(homeaddr: invalid len {data[bp + i + 1]})")
                    return -1
                if v:
                    out.append(f"(homeaddr: {ip6_text(data[bp + i + 2: bp + i + 18])}")
                    if data[bp + i + 1] > 16 and self._sopts(data, bp + i + 18, optlen - 18) < 0:
                        return -1
                    out.append(")")
            else:
                if n - i < 2:
                    out.append(f"(type {kind}: trunc)")
                    return -1
                if v:
                    out.append(f"(opt_type 0x{kind:02x}: len={data[bp + i + 1]})")
            i += optlen
        if v:
            out.append(" ")
        return 0

    def _sopts(self, data: bytes, bp: int, n: int) -> int:
        """ip6_sopt_print: the sub-options of a home address option."""
        out = self._out
        i = 0
        while i < n:
            kind = data[bp + i]
            if kind == 0:
                optlen = 1
            elif i + 1 < n:
                optlen = data[bp + i + 1] + 2
            else:
                return -1
            if i + optlen > n:
                return -1
            if kind == 0:
                out.append(", pad1")
            elif kind == 1:
                if n - i < 2:
                    out.append(", padn: trunc")
                    return -1
                out.append(", padn")
            else:
                if n - i < 2:
                    out.append(f", sopt_type {kind}: trunc)")
                    return -1
                out.append(f", sopt_type 0x{kind:02x}: len={data[bp + i + 1]}")
            i += optlen
        return 0

    def _frag6(self, data: bytes, cp: int, ip: int, end: int) -> int:
        """frag6_print: ``frag (off|len)`` (``-v``: with the identification)."""
        self._proto = "frag6"
        plen = _H(data, ip + 4)[0]
        rest = (40 + plen - (cp - ip) - 8) & 0xFFFFFFFFFFFFFFFF  # a size_t in tcpdump
        if self.verbose:
            ident = self._u32(data, cp + 4, end)
            offlg = self._u16(data, cp + 2, end)
            self._out.append(f"frag (0x{ident:08x}:{offlg & 0xFFF8}|{rest})")
        else:
            offlg = self._u16(data, cp + 2, end)
            self._out.append(f"frag ({offlg & 0xFFF8}|{rest})")
        if offlg & 0xFFF8:
            return -1
        self._out.append(" ")
        return 8

    def _rt6(self, data: bytes, cp: int, end: int) -> int:
        """rt6_print: ``RT6 (len=, type=, segleft=, ...) `` or -1 (invalid)."""
        out = self._out
        self._proto = "rt6"
        out.append("RT6")
        size = self._u8(data, cp + 1, end)
        out.append(f" (len={size}")
        rtype = self._u8(data, cp + 2, end)
        out.append(f", type={rtype}")
        if rtype == 0:
            out.append(" [Deprecated]")
        out.append(f", segleft={self._u8(data, cp + 3, end)}")
        if rtype in (0, 2):
            rsv = self._u32(data, cp + 4, end)
            if rsv or self.verbose:
                out.append(f", rsv=0x{rsv:x}")
            if size % 2 == 1:
                out.append(f" (invalid length {size}) (invalid)")
                return -1
            q = cp + 8
            for i in range(size >> 1):
                out.append(f", [{i}]{self._addr6(data, q, end)}")
                q += 16
            out.append(") ")
            return (size + 1) << 3
        if rtype == 4:
            out.append(f", last-entry={self._u8(data, cp + 4, end)}")
            flags = self._u8(data, cp + 5, end)
            if flags or self.verbose:
                out.append(f", flags=0x{flags:x}")
            out.append(f", tag={self._u16(data, cp + 6, end):x}")
            if size % 2 == 1:
                out.append(f" (invalid length {size}) (invalid)")
                return -1
            q = cp + 8
            for i in range(size >> 1):
                out.append(f", [{i}]{self._addr6(data, q, end)}")
                q += 16
            out.append(") ")
            return (size + 1) << 3
        out.append(" (unknown type) (invalid)")
        return -1

    def _mobility(self, data: bytes, cp: int, end: int) -> None:
        """The mobility header (RFC 6275): tcpdump's first words only (best effort)."""
        self._proto = "mobility"
        if cp + 2 > end:
            self._trunc_mark("mobility")  # type: ignore[attr-defined]
            return
        kind = self._u8(data, cp + 2, end)
        names = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA",
                 7: "BE"}
        self._out.append(f"mobility: {names.get(kind, f'type-#{kind}')}")

    def _finddst(self, data: bytes, ip: int, end: int) -> bytes:
        """ip6_finddst: the destination tcpdump puts in the pseudo-header (the last
        address of a type 0/2 routing header, segment 0 of a type 4 one, whatever
        the segments left)."""
        nh = data[ip + 6]
        dst = data[ip + 24: ip + 40]
        if nh not in (0, 60, 135, 62, 44, 43):
            return dst
        cp = ip
        advance = 40
        while cp < end:
            cp += advance
            if nh in (0, 60, 135, 62):
                advance = (self._u8(data, cp + 1, end) + 1) << 3
                nh = self._u8(data, cp, end)
            elif nh == 44:
                advance = 8
                nh = self._u8(data, cp, end)
            elif nh == 43:
                if cp + 8 > end:
                    return dst
                size = data[cp + 1]
                rtype = data[cp + 2]
                if rtype in (0, 2):
                    if size % 2 == 1:
                        return dst
                    q = cp + 8
                    for _ in range(size >> 1):
                        if q + 16 > end:
                            return dst
                        dst = data[q: q + 16]
                        q += 16
                elif rtype == 4:
                    if size % 2 == 1 or cp + 24 > end:
                        return dst
                    dst = data[cp + 8: cp + 24]
                return dst
            else:
                return dst
        return dst

    # -- ip_demux_print for IPv6 ---------------------------------------------------

    def _demux6(self, data: bytes, cp: int, length: int, end: int, nh: int,
                fragmented: bool, ip: int) -> None:
        out = self._out
        while True:
            if nh == 51:
                if cp + 1 > end:
                    self._trunc_mark("ah")  # type: ignore[attr-defined]
                    return
                nh = data[cp]
                advance = self._ah(data, cp, end)
                cp += advance
                length = (length - advance) & 0xFFFFFFFF  # tcpdump's u_int
                continue
            break
        if nh == 58:
            self._icmp6(data, cp, length, end, fragmented, ip)  # type: ignore[attr-defined]
        elif nh == 50:
            self._proto = "esp"
            spi = self._u32(data, cp, end)
            seq = self._u32(data, cp + 4, end)
            out.append(f"ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {length}")
        elif nh == 108:
            self._proto = "ipcomp"
            out.append(f"IPComp(cpi=0x{self._u16(data, cp + 2, end):04x})")
        elif nh == 17 or nh == 6:
            self._l4_6(data, cp, length, end, nh, ip)
        elif nh == 1 or nh == 2:
            out.append(f"[{IPPROTO_NAMES[nh]} requires IPv4] (invalid)")
        elif nh == 77:
            out.append(f" nd {length}")
        elif nh == 4:
            self._ip(data, cp, length, end)  # type: ignore[attr-defined]
        elif nh == 41:
            self._ip6(data, cp, length, end)
        elif nh == 59:
            out.append("no next header")
        elif nh in _OTHER_DISSECTORS:
            out.append(f"{_OTHER_DISSECTORS[nh]} {length}")  # best effort
        elif nh == 143:
            out.append(f"Ethernet {length}")  # best effort
        else:
            out.append(f" ip-proto-{nh} {length}")

    def _ah(self, data: bytes, cp: int, end: int) -> int:
        """ah_print: ``AH(spi=..,seq=..,icv=0x..): ``; the header's length."""
        out = self._out
        self._proto = "ah"
        out.append("AH")
        ah_len = self._u8(data, cp + 1, end)
        size = (ah_len + 2) * 4
        out.append("(")
        if self.verbose:
            out.append(f"length={ah_len}({size}-bytes),")
        res = self._u16(data, cp + 2, end)
        if res:
            out.append(f"reserved=0x{res:x}[MustBeZero],")
        out.append(f"spi=0x{self._u32(data, cp + 4, end):08x},")
        out.append(f"seq=0x{self._u32(data, cp + 8, end):x},")
        out.append("icv=0x")
        for q in range(cp + 12, cp + size):
            out.append(f"{self._u8(data, q, end):02x}")
        out.append("): ")
        return size

    def _l4_6(self, data: bytes, cp: int, length: int, end: int, nh: int, ip: int) -> None:
        """UDP and TCP over IPv6: tcpdump's address line and a short summary (best
        effort; only ICMPv6 is held to byte identity)."""
        out = self._out
        src = ip6_text(data[ip + 8: ip + 24])
        dst = ip6_text(data[ip + 24: ip + 40])
        self._proto = "udp" if nh == 17 else "tcp"
        if cp + 4 > end:
            out.append(f"{src} > {dst}: ")
            self._trunc_mark(self._proto)  # type: ignore[attr-defined]
            return
        sport, dport = _H(data, cp)[0], _H(data, cp + 2)[0]
        if data[ip + 6] == nh:
            out.append(f"{src}.{sport} > {dst}.{dport}: ")
        else:  # behind extension headers: ip6_print gave the addresses already
            out.append(f"{sport} > {dport}: ")
        if nh == 17:
            if cp + 6 > end:
                self._trunc_mark("udp")  # type: ignore[attr-defined]
                return
            ulen = _H(data, cp + 4)[0]
            out.append(f"UDP, length {max(ulen - 8, 0)}")
        else:
            if cp + 14 > end:
                self._trunc_mark("tcp")  # type: ignore[attr-defined]
                return
            flags = data[cp + 13]
            names = "".join(ch for bit, ch in ((1, "F"), (2, "S"), (4, "R"), (8, "P"),
                                               (16, "."), (32, "U"), (64, "E"), (128, "W"))
                            if flags & bit)
            hlen = (data[cp + 12] >> 4) * 4
            out.append(f"Flags [{names or 'none'}], length {max(length - hlen, 0)}")


__all__ = ["IPPROTO_NAMES", "IPv6Printer", "Trunc6", "ip6_text"]
