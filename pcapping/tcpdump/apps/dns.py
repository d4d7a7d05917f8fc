"""tcpdump 4.99.3's DNS printer (-v, over UDP), for datagrams quoted by ICMP errors.

``domain`` follows the convention of :mod:`pcapping.tcpdump.apps.text`: it takes the
frame bytes, the payload offset, the length the UDP header claims and the capture end,
and returns ``(text, hard)``.
"""

from __future__ import annotations

import socket

from pcapping.tcpdump.apps.text import printn

# -- DNS (tcpdump's domain printer, -v, over UDP) --------------------------------
#
# A model of tcpdump 4.99.3's print-domain.c at -v (vflag == 1) for a message
# that is not mDNS: the header, then the questions of a query or the answers of
# a response (-v prints neither the authority nor the additional section, but
# an OPT record there still extends the rcode of a response).  Offsets are
# plain ints that may run past ``end`` as tcpdump's pointers do; every fetch is
# checked against ``end`` the way tcpdump checks it: a failed ND_TTEST makes a
# helper return None (the message ends in `` [|domain]``), a failed GET_ raises
# ``_Hard`` (tcpdump's longjmp: the frame ends there).

_NS_OPS = ("", " inv_q", " stat", " op3", " notify", " update", " op6", " op7", " op8",
           " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit",
           " zoneRef")
# rcodes 0-23 (extended by EDNS); two entries lack their leading blank in tcpdump
_NS_RCODES = ("", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain",
              " YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13",
              " Resp14", " NoChange", " BadVers", "Resp17", " Resp18", " Resp19", " Resp20",
              "Resp21", " Resp22", " BadCookie")
_DNS_TYPES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
    10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP",
    18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP_PTR", 24: "SIG",
    25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC",
    33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 40: "SINK",
    41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC",
    48: "DNSKEY", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC",
    104: "UNSPECA", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
    254: "MAILA", 255: "ANY", 256: "URI"}
_DNS_CLASSES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}
_EDNS_OPTS = {1: "LLQ", 2: "UL", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "ECS",
              9: "EXPIRE", 10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING", 13: "CHAIN",
              14: "KEY-TAG", 16: "CLIENT-TAG", 17: "SERVER-TAG"}
_DAU_ALGS = {0: "DELETE", 1: "RSAMD5", 2: "DH", 3: "DS", 5: "RSASHA1", 6: "DSA-NSEC3-SHA1",
             7: "RSASHA1-NSEC3-SHA1", 8: "RSASHA256", 10: "RSASHA512", 12: "ECC-GOST",
             13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448",
             252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID"}
_DHU_ALGS = {1: "SHA-1", 2: "SHA-256", 3: "GOST_R_34.11-94", 4: "SHA-384"}
_N3U_ALGS = {1: "SHA-1"}
_ALG_NAMES = {5: _DAU_ALGS, 6: _DHU_ALGS, 7: _N3U_ALGS}
_T_OPT = 41
_MAXCDNAME = 255
_INVALID = " (invalid)"


def _dns_type(typ: int) -> str:
    return _DNS_TYPES.get(typ, f"Type{typ}")


def _dns_class(cls: int) -> str:
    return _DNS_CLASSES.get(cls, f"(Class {cls})")


def _ip6_text(raw: bytes) -> str:
    """tcpdump's addrtostr6 (the inet_ntop of BIND, as glibc's)."""
    return socket.inet_ntop(socket.AF_INET6, raw)


class _Hard(Exception):
    """A GET_ macro past the captured bytes: tcpdump's longjmp."""


class _Dns:
    """One message: ``data[bp:]`` captured up to ``end``; text collects in ``out``."""

    def __init__(self, data: bytes, bp: int, end: int) -> None:
        self.data, self.bp, self.end = data, bp, end
        self.out: list[str] = []

    # fetches: u8/u16/u32 are GET_ (hard), callers test ND_TTEST themselves
    def u8(self, cp: int) -> int:
        if cp + 1 > self.end:
            raise _Hard
        return self.data[cp]

    def u16(self, cp: int) -> int:
        if cp + 2 > self.end:
            raise _Hard
        return int.from_bytes(self.data[cp: cp + 2], "big")

    def u32(self, cp: int) -> int:
        if cp + 4 > self.end:
            raise _Hard
        return int.from_bytes(self.data[cp: cp + 4], "big")

    def printn(self, cp: int, n: int) -> bool:
        """nd_printn up to the capture end: True when the capture cut it."""
        self.out.append(printn(self.data, cp, n, self.end))
        return cp + n > self.end

    # -- names --

    def skip(self, cp: int) -> int | None:
        """ns_nskip."""
        end, data = self.end, self.data
        if cp >= end:
            return None
        i = data[cp]
        cp += 1
        while i:
            kind = i & 0xC0
            if kind == 0xC0:
                return cp + 1
            if kind == 0x40:
                if i & 0x3F != 1 or cp >= end:
                    return None
                bitlen = data[cp] or 256
                cp += 1 + (bitlen + 7) // 8
            elif kind == 0x80:
                return None
            else:
                cp += i
            if cp >= end:
                return None
            i = data[cp]
            cp += 1
        return cp

    def labellen(self, cp: int) -> int:
        """labellen: the length of the label at ``cp``, -1 (and maybe a mark) if none."""
        end = self.end
        if cp >= end:
            return -1
        i = self.data[cp]
        kind = i & 0xC0
        if kind == 0x40:
            if i & 0x3F != 1:
                self.out.append(f"<ELT {i & 0x3F}>")
                return -1
            if cp + 1 >= end:
                return -1
            return ((self.data[cp + 1] or 256) + 7) // 8 + 1
        if kind == 0x80:
            self.out.append("<BAD LABEL TYPE>")
            return -1
        return i

    def blabel(self, cp: int) -> int | None:
        """blabel_print: an EDNS0 bit label as \\[x<hex>/<bits>]."""
        if cp >= self.end:
            return None
        bitlen = self.data[cp] or 256
        lim = cp + 1 + (bitlen + 3) // 4
        out = self.out
        out.append("\\[x")
        bitp, b = cp + 1, bitlen
        while bitp < lim and b > 7:
            out.append(f"{self.u8(bitp):02x}")
            b -= 8
            bitp += 1
        if b > 4:
            out.append(f"{self.u8(bitp) & (0xFF << (8 - b)):02x}")
        elif b > 0:
            out.append(f"{(self.u8(bitp) >> 4) & (0x0F << (4 - b)):x}")
        out.append(f"/{bitlen}]")
        return lim

    def name(self, cp: int, bp: int | None = None) -> int | None:
        """fqdn_print: the offset after the name as tcpdump computes it, None to stop."""
        if bp is None:
            bp = self.bp
        data, end, out = self.data, self.end, self.out
        length = self.labellen(cp)
        if length < 0:
            return None
        max_offset = (cp - bp) & 0xFFFFFFFF
        i = data[cp]
        cp += 1
        rp: int | None = None
        compress = False
        if i & 0xC0 != 0xC0:
            rp = cp + length
        if i == 0:
            out.append(".")
            return rp
        chars = 0
        while i and cp < end:
            kind = i & 0xC0
            if kind == 0xC0:
                if not compress:
                    rp = cp + 1
                    compress = True
                offset = ((i << 8) | data[cp]) & 0x3FFF
                if offset >= max_offset:
                    out.append("<BAD PTR>")
                    return None
                max_offset = offset
                cp = bp + offset
                if cp >= end:
                    return None
                i = data[cp]
                length = self.labellen(cp)
                if length < 0:
                    return None
                cp += 1
                continue
            if kind == 0x40:
                if self.blabel(cp) is None:
                    return None
            else:  # a plain label (labellen turned away the reserved type)
                if chars + length <= _MAXCDNAME:
                    if self.printn(cp, length):
                        return None
                elif chars < _MAXCDNAME and self.printn(cp, _MAXCDNAME - chars):
                    return None
                chars += length
            cp += length
            if chars <= _MAXCDNAME:
                out.append(".")
            chars += 1
            if cp >= end:
                return None
            i = data[cp]
            length = self.labellen(cp)
            if length < 0:
                return None
            cp += 1
            if not compress:
                assert rp is not None
                rp += length + 1
        if chars > _MAXCDNAME:
            out.append("<DOMAIN NAME TOO LONG>")
        return rp

    # -- records --

    def question(self, cp: int) -> int | None:
        """ns_qprint."""
        np = cp
        got = self.skip(cp)
        if got is None or got + 4 > self.end:
            return None
        cls = self.u16(got + 2)
        self.out.append(f" {_dns_type(self.u16(got))}")
        if cls != 1:
            self.out.append(f" {_dns_class(cls)}")
        self.out.append("? ")
        rp = self.name(np)
        return None if rp is None else rp + 4

    def record(self, cp: int) -> int | None:
        """ns_rprint at -v."""
        out, end = self.out, self.end
        out.append(" ")
        got = self.name(cp)
        if got is None:
            return None
        cp = got
        if cp + 10 > end:
            return end
        typ, cls = self.u16(cp), self.u16(cp + 2)
        if cls != 1 and typ != _T_OPT:
            out.append(f" {_dns_class(cls)}")
        opt_flags = self.u16(cp + 6)
        rdlen = self.u16(cp + 8)
        cp += 10
        rp = cp + rdlen
        out.append(f" {_dns_type(typ)}")
        if rp > end:
            return None
        if typ == 1:
            if cp + 4 > end:
                return None
            out.append(" " + ".".join(str(b) for b in self.data[cp: cp + 4]))
        elif typ in (2, 5, 12, 39):
            out.append(" ")
            if self.name(cp) is None:
                return None
        elif typ == 6:
            for _ in range(2):
                out.append(" ")
                got = self.name(cp)
                if got is None:
                    return None
                cp = got
            if cp + 20 > end:
                return None
            out.extend(f" {self.u32(cp + k)}" for k in range(0, 20, 4))
        elif typ == 15:
            out.append(" ")
            if cp + 2 > end or self.name(cp + 2) is None:
                return None
            out.append(f" {self.u16(cp)}")
        elif typ == 16:
            while cp < rp:
                out.append(' "')
                if cp >= end:
                    return None
                n = self.data[cp]
                if self.printn(cp + 1, n):
                    return None
                cp += 1 + n
                out.append('"')
        elif typ == 33:
            out.append(" ")
            if cp + 6 > end or self.name(cp + 6) is None:
                return None
            out.append(f":{self.u16(cp + 4)} {self.u16(cp)} {self.u16(cp + 2)}")
        elif typ == 28:
            if cp + 16 > end:
                return None
            out.append(" " + _ip6_text(self.data[cp: cp + 16]))
        elif typ == 38:
            return self._a6(cp, rp)
        elif typ == 256:  # URI
            prio, weight = self.u16(cp), self.u16(cp + 2)
            out.append(f" {prio} {weight} ")
            if self.printn(cp + 4, (rdlen - 4) & 0xFFFFFFFF):
                return None
        elif typ == _T_OPT:
            out.append(f" UDPsize={cls}")
            if opt_flags & 0x8000:
                out.append(" DO")
            if cp < rp:
                out.append(" [")
                while cp < rp:
                    got = self.edns_option(cp)
                    if got is None:
                        return None
                    cp = got
                    if cp < rp:
                        out.append(",")
                out.append("]")
        elif typ == 104:  # UNSPECA: one string
            if self.printn(cp, rdlen):
                return None
        elif typ == 250:
            return self._tsig(cp, rp)
        return rp

    def _a6(self, cp: int, rp: int) -> int | None:
        if cp >= self.end:
            return None
        pbit = self.data[cp]
        pbyte = (pbit & ~7) // 8
        if pbit > 128:
            self.out.append(f" {pbit}(bad plen)")
            return rp
        if pbit < 128:
            n = 16 - pbyte
            if cp + 1 + n > self.end:
                raise _Hard
            addr = bytes(pbyte) + self.data[cp + 1: cp + 1 + n]
            self.out.append(f" {pbit} {_ip6_text(addr)}")
        if pbit > 0:
            self.out.append(" ")
            if self.name(cp + 1 + 16 - pbyte) is None:
                return None
        return rp

    def _tsig(self, cp: int, rp: int) -> int | None:
        out, end = self.out, self.end
        out.append(" ")
        got = self.name(cp)
        if got is None:
            return None
        cp = got + 6
        for label in ("fudge", "maclen", "origid", "error", "otherlen"):
            if cp + 2 > end:
                return None
            value = self.u16(cp)
            out.append(f" {label}={value}")
            cp += 2 + (value if label == "maclen" else 0)
        return rp

    def edns_option(self, cp: int) -> int | None:
        """eopt_print: one EDNS option of an OPT record."""
        out, end = self.out, self.end
        if cp + 2 > end:
            return None
        opt = self.u16(cp)
        out.append(_EDNS_OPTS.get(opt, f"Opt{opt}"))
        if cp + 4 > end:
            return None
        n = self.u16(cp + 2)
        cp += 4
        if cp + n > end:
            return None
        if n:
            out.append(" ")
            raw = self.data[cp: cp + n]
            if opt == 8:
                out.append(self._ecs(raw))
            elif opt == 10:
                if n < 8 or 8 < n < 16 or n > 40:
                    out.append(_INVALID)
                else:
                    out.append(raw[:8].hex() + (" " + raw[8:].hex() if n > 8 else ""))
            elif opt == 11:
                out.append(_INVALID if n != 2 else f"{int.from_bytes(raw, 'big') / 10.0:0.1f} sec")
            elif opt == 9:
                out.append(_INVALID if n != 4 else f"{int.from_bytes(raw, 'big')} sec")
            elif opt == 12:
                out.append(f"({n})")
            elif opt == 14:
                out.append(_INVALID if n % 2 else " ".join(
                    str(int.from_bytes(raw[k: k + 2], "big")) for k in range(0, n, 2)))
            elif opt in _ALG_NAMES:
                names = _ALG_NAMES[opt]
                out.append(" ".join(names.get(b, f"Alg_{b}") for b in raw))
            elif opt == 13:
                self.name(cp, cp + n)
            else:
                out.append(raw.hex())
        return cp + n

    @staticmethod
    def _ecs(raw: bytes) -> str:
        """print_eopt_ecs: client subnet as address/source/scope."""
        n = len(raw)
        if n < 4:
            return _INVALID
        family, src, scope = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
        bits = {1: 32, 2: 128}.get(family)
        if bits is None or n - 4 > bits // 8:
            return _INVALID
        if src > bits or scope > bits or (src + 7) // 8 != n - 4:
            return _INVALID
        addr = raw[4:].ljust(bits // 8, b"\0")
        text = ".".join(str(b) for b in addr) if family == 1 else _ip6_text(addr)
        return f"{text}/{src}/{scope}"

    # -- the message --

    def rcode(self, flags: int, qd: int, an: int, ns: int, ar: int) -> int:
        """The rcode, extended by the first OPT record tcpdump's pre-scan reaches."""
        rcode = flags & 15
        end, cp = self.end, self.bp + 12
        for _ in range(qd):
            got = self.skip(cp)
            if got is None or got + 4 >= end:
                return rcode
            cp = got + 4
        for _ in range(an + ns):
            got = self.skip(cp)
            if got is None or got + 10 > end:
                return rcode
            cp = got + 10 + self.u16(got + 8)
            if cp >= end:
                return rcode
        for _ in range(ar):
            got = self.skip(cp)
            if got is None or got + 2 > end:
                return rcode
            typ = self.u16(got)
            cp = got + 4
            if cp + 1 > end:
                return rcode
            if typ == _T_OPT:
                return rcode | self.data[cp] << 4
            cp += 4
            if cp + 2 > end:
                return rcode
            cp += 2 + self.u16(cp)
            if cp >= end:
                return rcode
        return rcode

    def message(self, length: int) -> None:
        """domain_print at -v; the text ends in `` [|domain]`` where tcpdump's does."""
        data, bp, out = self.data, self.bp, self.out
        ident, flags, qd, an, ns, ar = (int.from_bytes(data[bp + k: bp + k + 2], "big")
                                        for k in range(0, 12, 2))
        opcode = (flags >> 11) & 15
        cp = bp + 12
        if flags & 0x8000:
            rcode = self.rcode(flags, qd, an, ns, ar)
            rtext = _NS_RCODES[rcode] if rcode < len(_NS_RCODES) else f" Resp{rcode & 0xFFF}"
            out.append(f"{ident}{_NS_OPS[opcode]}{rtext}"
                       f"{'*' if flags & 0x400 else ''}{'' if flags & 0x80 else '-'}"
                       f"{'|' if flags & 0x200 else ''}{'$' if flags & 0x20 else ''}")
            if qd != 1:
                out.append(f" [{qd}q]")
            for k in range(qd):
                if k:
                    out.append(",")
                got = self.skip(cp)
                if got is None:
                    out.append(" [|domain]")
                    return
                cp = got + 4
            out.append(f" {an}/{ns}/{ar}")
            left, step, sep = an, self.record, ","
        else:
            out.append(f"{ident}{_NS_OPS[opcode]}{'+' if flags & 0x100 else ''}"
                       f"{'%' if flags & 0x10 else ''}")
            if flags & 0x6CF:
                out.append(f" [b2&3=0x{flags:x}]")
            if opcode == 1:
                out.append((f" [{qd}q]" if qd else "") + (f" [{an}a]" if an != 1 else ""))
            else:
                out.append((f" [{an}a]" if an else "") + (f" [{qd}q]" if qd != 1 else ""))
            out.append((f" [{ns}n]" if ns else "") + (f" [{ar}au]" if ar else ""))
            left, step, sep = qd, self.question, ""
        if left:
            got = step(cp)
            left -= 1
            while got is not None and left and got < self.end:
                out.append(sep)
                got = step(got)
                left -= 1
            if got is None:
                out.append(" [|domain]")
                return
        if left:
            out.append(" [|domain]")
            return
        out.append(f" ({length})")


def domain(data: bytes, p: int, length: int, end: int) -> tuple[str, str] | None:
    """tcpdump -v's DNS text for the message at ``data[p:]`` (12 header bytes captured),
    sent over UDP to or from port 53 (not mDNS).  Never None: every message is reproduced;
    the Optional return stays for callers that keep a plain line for other printers."""
    dns = _Dns(data, p, end)
    try:
        dns.message(length)
    except _Hard:
        return "".join(dns.out), "domain"
    return "".join(dns.out), ""


__all__ = ["domain"]
