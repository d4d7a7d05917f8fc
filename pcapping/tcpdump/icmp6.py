"""tcpdump 4.99's ICMPv6 printer: errors, echo, NDP with options, MLD, node information,
router renumbering, RPL, and unknown types (RFC 8335 extended echo among them: 4.99.3
names them ``unknown icmp6 type (160)`` and dumps their bytes).

``ICMPv6Printer._icmp6(data, bp, length, end, fragmented, ip)`` is what the IPv6
printer's demux calls for next header 58; ``end`` is the capture end already cut to
the IPv6 payload, ``ip`` the IPv6 header's offset (for the pseudo-header checksum
tcpdump verifies under ``-v``: ``[icmp6 sum ok]`` or ``[bad icmp6 cksum 0x.. -> 0x..!]``).
tcpdump prints no quoted datagram under an ICMPv6 error, only the quoted destination
(and ports, for port unreachable) on the first line.

Soft stops print `` [|icmp6]`` where tcpdump's ``goto trunc`` does; fetches past the
captured bytes raise ``Trunc6`` (tcpdump's longjmp).
"""

from __future__ import annotations

import struct

from pcapping.tcpdump.apps.dns import _Dns, _Hard
from pcapping.tcpdump.ip6 import Trunc6, ip6_text
from pcapping.wire.checksum import checksum_ok, checksum_should_be

_H = struct.Struct("!H").unpack_from
_I = struct.Struct("!I").unpack_from

ICMP6_TYPES = {
    1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit",
    4: "parameter problem", 128: "echo request", 129: "echo reply",
    130: "multicast listener query", 131: "multicast listener report",
    132: "multicast listener done", 133: "router solicitation", 134: "router advertisement",
    135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect",
    138: "router renumbering", 141: "inverse neighbor solicitation",
    142: "inverse neighbor advertisement", 143: "multicast listener report v2",
    144: "ha discovery request", 145: "ha discovery reply",
    146: "mobile router solicitation", 147: "mobile router advertisement",
    139: "who-are-you request", 140: "who-are-you reply", 201: "mtrace message",
    200: "mtrace response", 155: "RPL",
}
_UNREACH6 = {0: "unreachable route", 1: " unreachable prohibited", 2: "beyond scope",
             3: "unreachable address", 4: "unreachable port"}
_PARAM6 = {0: "erroneous", 1: "next header", 2: "option", 3: "incomplete header chain"}
_OPT_NAMES = {1: "source link-address", 2: "destination link-address", 3: "prefix info",
              4: "redirected header", 5: "mtu", 25: "rdnss", 31: "dnssl",
              7: "advertisement interval", 8: "homeagent information", 24: "route info"}
_PI_FLAGS = ((0x80, "onlink"), (0x40, "auto"), (0x20, "router"))
_RA_FLAGS = ((0x80, "managed"), (0x40, "other stateful"), (0x20, "home agent"),
             (0x02, "ipv6 only"))
_NA_FLAGS = ((0x80000000, "router"), (0x40000000, "solicited"), (0x20000000, "override"))
_RTPREF = ("medium", "high", "rsv", "low")
_MLDV2_REPORT = {1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}
_RPL_MOP = {0: "nonstoring", 1: "storing", 2: "nonstoring-multicast",
            3: "storing-multicast"}
_RPL_SUBOPT = {0: "pad1", 1: "padN", 2: "metrics", 3: "routinginfo", 4: "config",
               5: "rpltarget", 6: "transitinfo", 8: "destprefix", 9: "rpltargetdesc"}
# types whose -v line gets ", length N" right after the name
_LENGTH_FIRST = frozenset((133, 134, 136, 135, 137, 145, 147))


def bittok(table: tuple[tuple[int, str], ...], value: int, none: str = "none") -> str:
    """tcpdump's bittok2str: the names of the bits set, comma separated."""
    names = [name for bit, name in table if value & bit == bit]
    return ", ".join(names) if names else none


def lifetime(v: int) -> str:
    return "infinity" if v == 0xFFFFFFFF else f"{v}s"


def fn_char(c: int) -> str:
    """tcpdump's fn_print_char."""
    out = ""
    if c > 0x7F:
        c &= 0x7F
        out = "M-"
    if not 0x20 <= c < 0x7F:
        c ^= 0x40
        out += "^"
    return out + chr(c)


def hex_print(data: bytes, cp: int, ident: str, n: int, end: int) -> tuple[str, bool]:
    """tcpdump's hex_print: (text, truncated) for ``n`` bytes at ``cp`` captured to
    ``end``; a cut dump is tcpdump's longjmp after the bytes it had."""
    have = max(0, end - cp)
    cut = n > have
    n = min(n, have)
    out = []
    i = 0
    off = 0
    for k in range(0, n - 1, 2):
        if i % 8 == 0:
            out.append(f"{ident}0x{off:04x}: ")
            off += 16
        out.append(f" {data[cp + k]:02x}{data[cp + k + 1]:02x}")
        i += 1
    if n & 1:
        if i % 8 == 0:
            out.append(f"{ident}0x{off:04x}: ")
        out.append(f" {data[cp + n - 1]:02x}")
    return "".join(out), cut


class ICMPv6Printer:
    """The ICMPv6 half of ``TcpdumpFormatter`` (a mixin)."""

    _out: list[str]
    _proto: str
    verbose: int

    def _unknown(self, data: bytes, cp: int, ident: str, n: int, end: int) -> None:
        """print_unknown_data: the bytes that are there, as hex words."""
        if cp > end:
            self._out.append(f"{ident}Dissector error: print_unknown_data called with pointer "
                             "past end of packet")
            return
        text, _cut = hex_print(data, cp, ident, min(n, end - cp), end)
        self._out.append(text)

    # -- icmp6_print --------------------------------------------------------------

    def _icmp6(self, data: bytes, bp: int, length: int, end: int, fragmented: bool,
               ip: int) -> None:
        out = self._out
        v = self.verbose
        self._proto = "icmp6"
        if length == 0:
            out.append("ICMP6, length 0 (invalid)")
            return
        if v and not fragmented and bp + length <= end:
            stored = _u16(data, bp + 2, end)
            dst = self._finddst(data, ip, end)  # type: ignore[attr-defined]
            pseudo = data[ip + 8: ip + 24] + dst + struct.pack("!IxxxB", length, 58)
            msg = pseudo + data[bp: bp + length]
            if not checksum_ok(msg):
                out.append(f"[bad icmp6 cksum 0x{stored:04x} -> "
                           f"0x{checksum_should_be(stored, msg):04x}!] ")
            else:
                out.append("[icmp6 sum ok] ")
        kind = _u8(data, bp, end)
        out.append(f"ICMP6, {ICMP6_TYPES.get(kind) or f'unknown icmp6 type ({kind})'}")
        if v and kind in _LENGTH_FIRST:
            out.append(f", length {length}")
        code = _u8(data, bp + 1, end)
        oip = bp + 8
        if kind == 1:
            out.append(f", {_UNREACH6.get(code) or f'unknown unreach code ({code})'}")
            if code in (0, 1, 3):
                out.append(f" {_addr(data, oip + 24, end)}")
            elif code == 2:
                out.append(f" {_addr(data, oip + 24, end)}, source address "
                           f"{_addr(data, oip + 8, end)}")
            elif code == 4:
                found = _upperlayer(data, oip, end)
                if found is None:
                    self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                    return
                uh, prot = found
                dport = _u16(data, uh + 2, end)
                dst = _addr(data, oip + 24, end)
                if prot == 6:
                    out.append(f", {dst} tcp port {dport}")
                elif prot == 17:
                    out.append(f", {dst} udp port {dport}")
                else:
                    out.append(f", {dst} protocol {prot} port {dport} unreachable")
            elif v <= 1:
                self._unknown(data, bp, "\n\t", length, end)
                return
        elif kind == 2:
            out.append(f", mtu {_u32(data, bp + 4, end)}")
        elif kind == 3:
            if code == 0:
                out.append(f" for {_addr(data, oip + 24, end)}")
            elif code == 1:
                out.append(" (reassembly)")
            else:
                out.append(f", unknown code ({code})")
        elif kind == 4:
            if oip + 40 > end:
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                return
            name = _PARAM6.get(code)
            if name is None:
                out.append(f", code-#{code}")
            else:
                out.append(f", {name} - octet {_u32(data, bp + 4, end)}")
        elif kind == 128 or kind == 129:
            out.append(f", id {_u16(data, bp + 4, end)}, seq {_u16(data, bp + 6, end)}")
        elif kind == 130:
            if length == 24:
                self._mld6(data, bp, end)
            elif length >= 28:
                out.append(" v2")
                self._mldv2_query(data, bp, length, end)
            else:
                out.append(f" unknown-version (len {length}) ")
        elif kind == 131 or kind == 132:
            self._mld6(data, bp, end)
        elif kind == 133:
            if v and self._nd_opts(data, bp + 8, length - 8, end) < 0:
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                return
        elif kind == 134:
            if v:
                flags = _u8(data, bp + 5, end)
                out.append(
                    f"\n\thop limit {_u8(data, bp + 4, end)}, Flags [{bittok(_RA_FLAGS, flags)}]"
                    f", pref {_RTPREF[(flags & 0x18) >> 3]}, router lifetime "
                    f"{_u16(data, bp + 6, end)}s, reachable time {_u32(data, bp + 8, end)}ms, "
                    f"retrans timer {_u32(data, bp + 12, end)}ms")
                if self._nd_opts(data, bp + 16, length - 16, end) < 0:
                    self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                    return
        elif kind == 135:
            out.append(f", who has {_addr(data, bp + 8, end)}")
            if v and self._nd_opts(data, bp + 24, length - 24, end) < 0:
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                return
        elif kind == 136:
            out.append(f", tgt is {_addr(data, bp + 8, end)}")
            if v:
                out.append(f", Flags [{bittok(_NA_FLAGS, _u32(data, bp + 4, end))}]")
                if self._nd_opts(data, bp + 24, length - 24, end) < 0:
                    self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                    return
        elif kind == 137:
            out.append(f", {_addr(data, bp + 24, end)}")
            out.append(f" to {_addr(data, bp + 8, end)}")
            if v and self._nd_opts(data, bp + 40, length - 40, end) < 0:
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                return
        elif kind == 138:
            if self._rrenum(data, bp, end) < 0:  # own trunc, then the length
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
        elif kind == 139 or kind == 140:
            if self._nodeinfo(data, length, bp, end) < 0:  # own trunc, then the length
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
        elif kind == 141 or kind == 142:
            pass
        elif kind == 143:
            self._mldv2_report(data, bp, length, end)
        elif kind == 146 or kind == 144:
            out.append(f", id 0x{_u16(data, bp + 4, end):04x}")
        elif kind == 145:
            if v:
                out.append(f", id 0x{_u16(data, bp + 4, end):04x}")
                q = bp + 8
                while q < bp + length:
                    out.append(f", {_addr(data, q, end)}")
                    q += 16
        elif kind == 147:
            if v:
                out.append(f", id 0x{_u16(data, bp + 4, end):04x}")
                flags = _u16(data, bp + 6, end)
                if flags & 0xC000:
                    out.append(" ")
                if flags & 0x8000:
                    out.append("M")
                if flags & 0x4000:
                    out.append("O")
                if self._nd_opts(data, bp + 8, length - 8, end) < 0:
                    self._trunc_mark("icmp6")  # type: ignore[attr-defined]
                    return
        elif kind == 155:
            if self._rpl(data, code, bp + 4, length - 4, end) < 0:  # own trunc, then the length
                self._trunc_mark("icmp6")  # type: ignore[attr-defined]
        else:
            out.append(f", length {length}")
            if v <= 1:
                self._unknown(data, bp, "\n\t", length, end)
            return
        if not v:
            out.append(f", length {length}")

    # -- NDP options ----------------------------------------------------------------

    def _nd_opts(self, data: bytes, bp: int, resid: int, end: int) -> int:
        """icmp6_opt_print: 0, or -1 for tcpdump's trunc."""
        out = self._out
        v = self.verbose
        cp = bp
        while cp < end:
            if cp + 2 > end:
                return -1
            if resid <= 0:
                return 0
            kind, units = data[cp], data[cp + 1]
            if units == 0:
                return -1
            size = units << 3
            if cp + size > end:
                return -1
            out.append(f"\n\t  {_OPT_NAMES.get(kind, 'unknown')} option ({kind}), length "
                       f"{size} ({units}): ")
            if kind == 1 or kind == 2:
                out.append(data[cp + 2: cp + size].hex(":"))
            elif kind == 3:
                prefix = _addr(data, cp + 16, end)
                plen = _u8(data, cp + 2, end)
                flags = _u8(data, cp + 3, end)
                valid = _u32(data, cp + 4, end)
                out.append(f"{prefix}/{plen}{'badlen' if units != 4 else ''}, Flags "
                           f"[{bittok(_PI_FLAGS, flags)}], valid time {lifetime(valid)}")
                out.append(f", pref. time {lifetime(_u32(data, cp + 8, end))}")
            elif kind == 4:
                self._unknown(data, bp, "\n\t    ", size, end)
            elif kind == 5:
                out.append(f" {_u32(data, cp + 4, end)}"
                           f"{'bad option length' if units != 1 else ''}")
            elif kind == 25:
                out.append(f" lifetime {_u32(data, cp + 4, end)}s,")
                for i in range((units - 1) // 2):
                    out.append(f" addr: {_addr(data, cp + 8 + 16 * i, end)}")
            elif kind == 31:
                out.append(f" lifetime {_u32(data, cp + 4, end)}s, domain(s):")
                domp = cp + 8
                while domp < cp + size and _u8(data, domp, end) != 0:
                    out.append(" ")
                    dns = _Dns(data, bp, end)
                    try:
                        nxt = dns.name(domp, bp)
                    except _Hard:
                        out.append("".join(dns.out))
                        raise Trunc6 from None
                    out.append("".join(dns.out))
                    if nxt is None:
                        return -1
                    domp = nxt
            elif kind == 7:
                out.append(f" {_u32(data, cp + 4, end)}ms")
            elif kind == 8:
                out.append(f" preference {_u16(data, cp + 4, end)}, lifetime "
                           f"{_u16(data, cp + 6, end)}")
            elif kind == 24:
                if cp + 8 > end:
                    return -1
                if units == 1:
                    prefix = bytes(16)
                elif units == 2:
                    if cp + 16 > end:
                        raise Trunc6
                    prefix = data[cp + 8: cp + 16] + bytes(8)
                elif units == 3:
                    if cp + 24 > end:
                        raise Trunc6
                    prefix = data[cp + 8: cp + 24]
                else:
                    return -1
                out.append(f" {ip6_text(prefix)}/{data[cp + 2]}")
                out.append(f", pref={_RTPREF[(data[cp + 3] & 0x18) >> 3]}")
                out.append(f", lifetime={lifetime(_I(data, cp + 4)[0])}")
            else:
                if v <= 1:
                    self._unknown(data, cp + 2, "\n\t  ", size - 2, end)
                    return 0
            if v > 1:
                self._unknown(data, cp + 2, "\n\t    ", size - 2, end)
            cp += size
            resid -= size
        return 0

    # -- MLD ------------------------------------------------------------------------

    def _mld6(self, data: bytes, bp: int, end: int) -> None:
        if bp + 24 > end:
            return
        self._out.append(f"max resp delay: {_H(data, bp + 4)[0]} "
                         f"addr: {ip6_text(data[bp + 8: bp + 24])}")

    def _mldv2_report(self, data: bytes, bp: int, length: int, end: int) -> None:
        out = self._out
        if length < 8:
            out.append(f" [invalid len {length}]")
            return
        groups = _u16(data, bp + 6, end)
        out.append(f", {groups} group record(s)")
        if not self.verbose:
            return
        group = 8
        for _ in range(groups):
            if length < group + 20:
                out.append(" [invalid number of groups]")
                return
            out.append(f" [gaddr {_addr(data, bp + group + 4, end)}")
            rtype = _u8(data, bp + group, end)
            out.append(f" {_MLDV2_REPORT.get(rtype) or f' [v2-report-#{rtype}]'}")
            nsrcs = _u16(data, bp + group + 2, end)
            if length < group + 20 + nsrcs * 16:
                out.append(f" [invalid number of sources {nsrcs}]")
                return
            if self.verbose == 1:
                out.append(f", {nsrcs} source(s)")
            else:
                out.append(" {")
                for j in range(nsrcs):
                    out.append(f" {_addr(data, bp + group + 20 + j * 16, end)}")
                out.append(" }")
            group += 20 + nsrcs * 16
            out.append("]")

    def _mldv2_query(self, data: bytes, bp: int, length: int, end: int) -> None:
        out = self._out
        if length < 28:
            out.append(f" [invalid len {length}]")
            return
        mrc = _u16(data, bp + 4, end)
        mrt = mrc if mrc < 32768 else ((mrc & 0x0FFF) | 0x1000) << (((mrc & 0x7000) >> 12) + 3)
        if self.verbose:
            out.append(f" [max resp delay={mrt}]")
        out.append(f" [gaddr {_addr(data, bp + 8, end)}")
        if self.verbose:
            b24 = _u8(data, bp + 24, end)
            if b24 & 0x08:
                out.append(" sflag")
            if b24 & 0x07:
                out.append(f" robustness={b24 & 0x07}")
            b25 = _u8(data, bp + 25, end)
            qqi = b25 if b25 < 128 else ((b25 & 0x0F) | 0x10) << (((b25 & 0x70) >> 4) + 3)
            out.append(f" qqi={qqi}")
        nsrcs = _u16(data, bp + 26, end)
        if nsrcs > 0:
            if length < 28 + nsrcs * 16:
                out.append(" [invalid number of sources]")
            elif self.verbose > 1:
                out.append(" {")
                for i in range(nsrcs):
                    out.append(f" {_addr(data, bp + 28 + i * 16, end)}")
                out.append(" }")
            else:
                out.append(f", {nsrcs} source(s)")
        out.append("]")

    # -- node information, router renumbering, RPL ---------------------------------------

    def _dnsname(self, data: bytes, cp: int, ep: int) -> None:
        out = self._out
        out.append(', "')
        while cp < ep:
            i = data[cp]
            cp += 1
            if i:
                if i > ep - cp:
                    out.append("???")
                    break
                while i and cp < ep:
                    out.append(fn_char(data[cp]))
                    cp += 1
                    i -= 1
                if cp + 1 < ep and data[cp]:
                    out.append(".")
            else:
                if cp == ep:
                    out.append(".")
                elif cp + 1 == ep and data[cp] == 0:
                    pass
                else:
                    out.append("???")
                break
        out.append('"')

    def _pascal(self, data: bytes, cp: int, ep: int) -> None:
        """A name of the icmp-name-lookup-03 draft: a length byte, then the text."""
        if self.verbose:
            self._out.append(", 03 draft")
        cp += 1
        self._out.append(', "' + "".join(fn_char(data[q]) for q in range(cp, ep)) + '"')

    def _nodeinfo(self, data: bytes, length: int, bp: int, ep: int) -> int:
        """icmp6_nodeinfo_print: 0, or -1 for tcpdump's trunc."""
        out = self._out
        v = self.verbose
        if ep < bp:
            return 0
        siz = ep - bp
        kind = data[bp]
        if kind == 139:
            if siz == 12:
                out.append(" who-are-you request")
                return 0
            out.append(" node information query")
            if bp + 16 > ep:
                return -1
            out.append(" (")
            qtype = _H(data, bp + 4)[0]
            flags = _H(data, bp + 6)[0]
            if qtype == 0:
                out.append("noop")
            elif qtype == 1:
                out.append("supported qtypes")
                if flags:
                    out.append(f" [{'C' if flags & 1 else ''}]")
            elif qtype == 2:
                out.append("DNS name")
            elif qtype == 3:
                out.append("node addresses")
                if flags:
                    out.append(" [" + _ni_flags(flags, False) + "]")
            else:
                out.append("unknown")
            if qtype in (0, 1):
                if siz != 16 and v:
                    out.append(", invalid len")
                out.append(")")
                return 0
            if siz == 16:
                out.append(", 03 draft)")
                return 0
            cp = bp + 16
            code = data[bp + 1]
            if code == 0:
                if bp + 32 <= ep:
                    if siz != 32:
                        if v:
                            out.append(", invalid subject len")
                    else:
                        out.append(f", subject={ip6_text(data[cp: cp + 16])}")
            elif code == 1:
                out.append(", subject=DNS name")
                if _u8(data, cp, ep) == ep - cp - 1:
                    self._pascal(data, cp, ep)
                else:
                    self._dnsname(data, cp, ep)
            elif code == 2:
                if bp + 20 <= ep:
                    if siz != 20:
                        if v:
                            out.append(", invalid subject len")
                    else:
                        out.append(f", subject={'.'.join(map(str, data[cp: cp + 4]))}")
            else:
                out.append(", unknown subject")
            out.append(")")
            return 0
        # a reply
        if length > siz:
            return -1
        if bp + 16 > ep:
            return -1
        out.append(" node information reply (")
        code = data[bp + 1]
        comma = False
        if code == 0:
            if v:
                out.append("success")
                comma = True
        elif code in (1, 2):
            out.append("refused" if code == 1 else "unknown")
            comma = True
            if siz != 16 and v:
                out.append(", invalid length")
        if code != 0:
            out.append(")")
            return 0
        sep = ", " if comma else ""
        qtype = _H(data, bp + 4)[0]
        flags = _H(data, bp + 6)[0]
        if qtype == 0:
            out.append(f"{sep}noop")
            if siz != 16 and v:
                out.append(", invalid length")
        elif qtype == 1:
            out.append(f"{sep}supported qtypes")
            if flags:
                out.append(f" [{'C' if flags & 1 else ''}]")
        elif qtype == 2:
            out.append(f"{sep}DNS name")
            cp = bp + 20
            if _u8(data, cp, ep) == ep - cp - 1:
                self._pascal(data, cp, ep)
            else:
                self._dnsname(data, cp, ep)
            if flags & 1:
                out.append(f" [TTL={_u32(data, bp + 16, ep)}]")
        elif qtype == 3:
            out.append(f"{sep}node addresses")
            i = 16
            while i < siz:
                if i + 20 > siz:
                    break
                out.append(f" {ip6_text(data[bp + i + 4: bp + i + 20])}({_I(data, bp + i)[0]})")
                i += 20
            if flags:
                out.append(" [" + _ni_flags(flags, True) + "]")
        else:
            out.append(f"{sep}unknown")
        out.append(")")
        return 0

    def _rrenum(self, data: bytes, bp: int, ep: int) -> int:
        """icmp6_rrenum_print (RFC 2894): 0, or -1 for tcpdump's trunc."""
        out = self._out
        v = self.verbose
        if ep < bp:
            return 0
        if bp + 16 > ep:
            return -1
        code = data[bp + 1]
        out.append({0: ", command", 1: ", result", 255: ", sequence number reset"}.get(
            code) or f", code-#{code}")
        out.append(f", seq={_I(data, bp + 4)[0]}")
        if v:
            flags = data[bp + 9]
            out.append("[")
            if flags:
                out.append("".join(ch for bit, ch in ((0x80, "T"), (0x40, "R"), (0x20, "A"),
                                                      (0x10, "S"), (0x08, "P"))
                                   if flags & bit) + ",")
            out.append(f"seg={data[bp + 8]},maxdelay={_H(data, bp + 10)[0]}")
            rsvd = _I(data, bp + 12)[0]
            if rsvd:
                out.append(f"rsvd=0x{rsvd:x}")
            out.append("]")
        if code != 0:
            return 0
        match = bp + 16
        if match + 24 > ep:
            return -1
        out.append("\n\t" if v > 1 else " ")
        out.append("match(")
        mcode = data[match]
        out.append({1: "add", 2: "change", 3: "setglobal"}.get(mcode) or f"#{mcode}")
        if v:
            out.append(f",ord={data[match + 2]},min={data[match + 4]},max={data[match + 5]}")
        out.append(f",{ip6_text(data[match + 8: match + 24])}/{data[match + 3]})")
        n = data[match + 1] - 3
        if n % 4:
            return -1
        n //= 4
        cp = match + 24
        while n > 0:
            n -= 1
            use = cp
            cp += 32
            if use + 32 > ep:
                return -1
            out.append("\n\t" if v > 1 else " ")
            out.append("use(")
            uflags = data[use + 12]
            if uflags:
                out.append(f"{'V' if uflags & 0x80 else ''}{'P' if uflags & 0x40 else ''},")
            if v:
                out.append(f"mask=0x{data[use + 2]:x},raflags=0x{data[use + 3]:x},")
                vl, pl = _I(data, use + 4)[0], _I(data, use + 8)[0]
                out.append("vltime=infty," if vl == 0xFFFFFFFF else f"vltime={vl},")
                out.append("pltime=infty," if pl == 0xFFFFFFFF else f"pltime={pl},")
            out.append(f"{ip6_text(data[use + 16: use + 32])}/{data[use]}/{data[use + 1]})")
        return 0

    def _rpl(self, data: bytes, code: int, bp: int, length: int, end: int) -> int:
        """rpl_print (RFC 6550) for the message body at ``bp`` (the 4 bytes after the
        checksum onwards): 0, or -1 for tcpdump's trunc."""
        out = self._out
        v = self.verbose
        if code & 0x80:
            out.append(", (SEC) [worktodo]")
            return 0
        out.append(", (CLR)")
        base = code & 0x7F
        if base == 0:
            out.append("DODAG Information Solicitation")
        elif base == 1:
            out.append("DODAG Information Object")
            if v:
                if length < 24:
                    out.append(f" [length {length & 0xFFFFFFFF} < 24] (invalid)")
                    return 0
                mopprf = _u8(data, bp + 4, end)
                mop = (mopprf & 0x38) >> 3
                out.append(f" [dagid:{_addr(data, bp + 8, end)},seq:{_u8(data, bp + 5, end)},"
                           f"instance:{_u8(data, bp, end)},rank:{_u16(data, bp + 2, end)},"
                           f"{'grounded,' if mopprf & 0x80 else ''}mop:"
                           f"{_RPL_MOP.get(mop, f'mop{mop}')},prf:{mopprf & 7}]")
                if v > 1:
                    return self._rpl_opts(data, bp + 24, length - 24, end)
        elif base == 2:
            out.append("Destination Advertisement Object")
            if v:
                if bp + 20 > end:
                    return -1
                if length < 4:
                    out.append(" [|length too short]")
                    return 0
                flags = data[bp + 1]
                q, n = bp + 4, length - 4
                dagid = "<elided>"
                if flags & 0x40:
                    if bp + 20 > end:
                        return -1
                    if n < 16:
                        out.append(" [|length too short]")
                        return 0
                    dagid = ip6_text(data[bp + 4: bp + 20])
                    q, n = q + 16, n - 16
                out.append(f" [dagid:{dagid},seq:{data[bp + 3]},instance:{data[bp]}"
                           f"{',acK' if flags & 0x80 else ''}{',Dagid' if flags & 0x40 else ''}"
                           f",{flags:02x}]")
                if v > 1:
                    return self._rpl_opts(data, q, n, end)
        elif base == 3:
            out.append("Destination Advertisement Object Ack")
            if v:
                if bp + 4 > end:
                    return -1
                if length < 4:
                    out.append(" [|dao-length too short]")
                    return 0
                flags = data[bp + 1]
                q, n = bp + 4, length - 4
                dagid = "<elided>"
                if flags & 0x80:
                    if bp + 20 > end:
                        return -1
                    if n < 16:
                        out.append(" [|dao-length too short]")
                        return 0
                    dagid = ip6_text(data[bp + 4: bp + 20])
                    q, n = q + 16, n - 16
                out.append(f" [dagid:{dagid},seq:{data[bp + 2]},instance:{data[bp]},"
                           f"status:{data[bp + 3]}]")
                if v > 1:
                    return self._rpl_opts(data, q, n, end)
        else:
            out.append(f"RPL message, unknown code {code}")
        return 0

    def _rpl_opts(self, data: bytes, opts: int, length: int, end: int) -> int:
        out = self._out
        length &= 0xFFFFFFFF
        while length != 0:
            kind = _u8(data, opts, end)
            if kind == 0:
                optlen = 1
                out.append(" opt:pad1")
            else:
                if length < 2:
                    return -1
                optlen = _u8(data, opts + 1, end) + 2
                out.append(f" opt:{_RPL_SUBOPT.get(kind, f'subopt:{kind}')} len:{optlen} ")
                if opts + optlen > end or length < optlen:
                    return -1
                if self.verbose > 2:
                    text, cut = hex_print(data, opts + 2, " ", optlen - 2, end)
                    out.append(text)
                    if cut:
                        raise Trunc6
            opts += optlen
            length -= optlen
        return 0


def _ni_flags(flags: int, reply: bool) -> str:
    bits = ((0x40, "a"), (0x20, "G"), (0x10, "S"), (0x08, "L"), (0x04, "C"), (0x02, "A"))
    if reply:
        bits += ((0x01, "T"),)
    return "".join(ch for bit, ch in bits if flags & bit)


def _u8(data: bytes, cp: int, end: int) -> int:
    if cp + 1 > end:
        raise Trunc6
    return data[cp]


def _u16(data: bytes, cp: int, end: int) -> int:
    if cp + 2 > end:
        raise Trunc6
    return _H(data, cp)[0]


def _u32(data: bytes, cp: int, end: int) -> int:
    if cp + 4 > end:
        raise Trunc6
    return _I(data, cp)[0]


def _addr(data: bytes, cp: int, end: int) -> str:
    if cp + 16 > end:
        raise Trunc6
    return ip6_text(data[cp: cp + 16])


def _upperlayer(data: bytes, bp: int, ep: int) -> tuple[int, int] | None:
    """get_upperlayer: (offset of the quoted UDP/TCP header, protocol), or None."""
    if bp + 7 > ep:
        return None
    nh = data[bp + 6]
    hlen = 40
    while bp < ep:
        bp += hlen
        if nh == 17 or nh == 6:
            return (bp, nh) if bp + 4 <= ep else None
        if nh in (0, 60, 43):
            if bp + 2 > ep:
                return None
            nh = data[bp]
            hlen = (data[bp + 1] + 1) << 3
        elif nh == 44:
            if bp + 4 > ep:
                return None
            if _H(data, bp + 2)[0] & 0xFFF8:
                return None
            nh = data[bp]
            hlen = 8
        elif nh == 51:
            if bp + 2 > ep:
                return None
            nh = data[bp]
            hlen = (data[bp + 1] + 2) << 2
        else:
            return None
    return None


__all__ = ["ICMP6_TYPES", "ICMPv6Printer", "bittok", "hex_print"]
