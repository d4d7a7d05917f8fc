"""tcpdump 4.99.3's tunnel printers: a mixin of ``TcpdumpFormatter``.

VXLAN (UDP 4789) and OTV (8472), Geneve (6081), MPLS over UDP (6635), the Broadcom LI
shim (UDP from 49152), GRE (versions 0 and 1: key, sequence number, checksum, routing;
transparent Ethernet bridging; tcpdump 4.99.3 has no ERSPAN printer, so ERSPAN in GRE is
``gre-proto-0x88be`` / ``gre-proto-0x22eb``), PIM (the Register carrying a packet, and
the first line of the other messages) and IP-in-IP (proto 4, printed by ``_ip`` itself).
Which UDP port is which tunnel is ``pcapping.wire.tunnelports.udp_tunnel`` (tcpdump's precedence,
measured), so the text and the JSON agree on what a datagram carries.

Same conventions as ``pcapping.tcpdump.links``: ``data`` the frame, ``p`` the header,
``length`` what the wire says is left, ``end`` the end of the captured bytes.
"""

from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING

from pcapping.tcpdump.common import Trunc
from pcapping.tcpdump.links import ETHERTYPES, bittok2str
from pcapping.wire.checksum import checksum_ok

if TYPE_CHECKING:
    from collections.abc import Callable

_H = struct.Struct("!H").unpack_from
_I = struct.Struct("!I").unpack_from

_GRE_FLAGS = ((0x8000, "checksum present"), (0x4000, "routing present"),
              (0x2000, "key present"), (0x1000, "sequence# present"),
              (0x0800, "source routing present"), (0x0080, "ack present"))
_GENEVE_FLAGS = ((0x80, "O"), (0x40, "C"), (0x20, "R1"), (0x10, "R2"), (0x08, "R3"),
                 (0x04, "R4"), (0x02, "R5"), (0x01, "R6"))
_PIM_TYPES = {0: "Hello", 1: "Register", 2: "Register Stop", 3: "Join / Prune",
              4: "Bootstrap", 5: "Assert", 6: "Graft", 7: "Graft Acknowledgement",
              8: "Candidate RP Advertisement", 9: "Prune Refresh", 10: "DF Election",
              11: "ECMP Redirect"}
_REGISTER_FLAGS = {0x80000000: "Border", 0x40000000: "Null"}
_BCM_DIRECTIONS = {1: "unused", 2: "egress", 3: "ingress"}
_BCM_TYPES = {4: "undecided", 5: "ipv4", 6: "ipv6", 7: "ethernet"}
_BCM_SUBTYPES = {1: "single VLAN tag", 2: "double VLAN tag", 3: "untagged"}


def _geneve_class(opt_class: int) -> str:
    named = {0x0100: "Linux", 0x0101: "Open vSwitch", 0x0102: "Open Virtual Networking (OVN)",
             0x0103: "In-band Network Telemetry (INT)", 0x0104: "VMware"}.get(opt_class)
    if named:
        return named
    if opt_class <= 0xFF:
        return "Standard"
    return "Experimental" if opt_class >= 0xFFF0 else "Unknown"


class TunnelPrinters:
    """Mixin: the tunnels tcpdump dissects (see the module docstring)."""

    _out: list[str]
    _proto: str
    link: bool
    verbose: int
    _ip: Callable[..., None]
    _ethertype: Callable[..., bool]
    _ether_at: Callable[..., int]
    _mpls: Callable[..., None]
    _ppp: Callable[..., int]
    _trunc_mark: Callable[[str], None]
    _default_print: Callable[[bytes, int, int], None]

    def _udp_tunnel(self, name: str, data: bytes, p: int, length: int, end: int) -> None:
        """The payload of a UDP datagram ``udp_tunnel`` named ``name``."""
        if name == "vxlan" or name == "otv":
            self._vxlan(data, p, length, end, name == "otv")
        elif name == "geneve":
            self._geneve(data, p, length, end)
        elif name == "mpls":
            self._mpls(data, p, length, end)
        else:
            self._bcm_li(data, p, length, end)

    def _vxlan(self, data: bytes, p: int, length: int, end: int, otv: bool) -> None:
        out = self._out
        self._proto = "otv" if otv else "vxlan"
        out.append("OTV, " if otv else "VXLAN")
        if length < 8:
            out.append(f"[length {length} < 8] (invalid)" if otv else " (invalid)")
            if otv and p + length > end:
                raise Trunc
            return
        if p + 1 > end:
            raise Trunc
        flags = data[p]
        if otv:
            out.append(f"flags [{'I' if flags & 8 else '.'}] (0x{flags:02x}), ")
            if p + 4 > end:
                raise Trunc
            out.append(f"overlay {int.from_bytes(data[p + 1: p + 4], 'big')}, ")
            if p + 7 > end:
                raise Trunc
            out.append(f"instance {int.from_bytes(data[p + 4: p + 7], 'big')}\n")
        else:
            out.append(f", flags [{'I' if flags & 8 else 'invalid'}] (0x{flags:02x}), ")
            if p + 7 > end:
                raise Trunc
            out.append(f"vni {int.from_bytes(data[p + 4: p + 7], 'big')}\n")
        if p + 8 > end:
            raise Trunc
        self._proto = "ether"
        self._ether_at(data, p + 8, length - 8, end)

    def _geneve(self, data: bytes, p: int, length: int, end: int) -> None:
        out = self._out
        self._proto = "geneve"
        out.append("Geneve")
        if length < 8:
            out.append(f" [length {length} < 8] (invalid)")
            return
        if p + 8 > end:
            self._trunc_mark("geneve")
            return
        ver_opt = data[p]
        if ver_opt >> 6:
            out.append(f" ERROR: unknown-version {ver_opt >> 6}")
            return
        flags, proto = data[p + 1], _H(data, p + 2)[0]
        vni, reserved = int.from_bytes(data[p + 4: p + 7], "big"), data[p + 7]
        out.append(f", Flags [{bittok2str(_GENEVE_FLAGS, 'none', flags, '')}]")
        out.append(f", vni 0x{vni:x}")
        if reserved:
            out.append(f", rsvd 0x{reserved:x}")
        if self.link:
            out.append(f", proto {ETHERTYPES.get(proto, 'unknown')} (0x{proto:04x})")
        p += 8
        length -= 8
        opts = (ver_opt & 0x3F) * 4
        if length < opts:
            out.append(f" truncated-geneve - {opts - length} bytes missing")
            return
        if p + opts > end:
            self._trunc_mark("geneve")
            return
        if opts:
            out.append(", options [")
            if self.verbose:
                self._geneve_options(data, p, opts)
            else:
                out.append(f"{opts} bytes")
            out.append("]")
        p += opts
        length -= opts
        out.append("\n\t" if self.verbose else ": ")
        if not self._ethertype(proto, data, p, length, end):
            if proto == 0x6558:
                self._proto = "ether"
                self._ether_at(data, p, length, end)
            else:
                out.append(f"geneve-proto-0x{proto:x}")

    def _geneve_options(self, data: bytes, p: int, n: int) -> None:
        out = self._out
        sep = ""
        while n > 0:
            out.append(sep)
            sep = ", "
            cls, otype = _H(data, p)[0], data[p + 2]
            olen = 4 + (data[p + 3] & 0x1F) * 4
            out.append(f"class {_geneve_class(cls)} (0x{cls:x}) type 0x{otype:x}"
                       f"{'(C)' if otype & 0x80 else ''} len {olen}")
            if olen > n:
                out.append(" [bad length]")
                return
            if self.verbose > 1 and olen > 4:
                out.append(" data")
                for i in range(4, olen, 4):
                    out.append(f" {_I(data, p + i)[0]:08x}")
            p += olen
            n -= olen

    def _gre(self, data: bytes, p: int, length: int, end: int) -> None:
        out = self._out
        self._proto = "gre"
        if p + 2 > end or length < 2:
            self._trunc_mark("gre")
            return
        flags = _H(data, p)[0]
        version = flags & 7
        out.append(f"GREv{version}")
        if version == 0:
            self._gre0(data, p, length, end, flags)
        elif version == 1:
            self._gre1(data, p, length, end, flags)
        else:
            out.append(" ERROR: unknown-version")

    def _gre_proto(self, proto: int) -> None:
        if self.link:
            self._out.append(f", proto {ETHERTYPES.get(proto, 'unknown')} (0x{proto:04x})")

    def _gre0(self, data: bytes, p: int, length: int, end: int, flags: int) -> None:
        out = self._out
        total = length
        if self.verbose:
            out.append(f", Flags [{bittok2str(_GRE_FLAGS, 'none', flags)}]")
        p += 2
        length -= 2

        def need(n: int) -> bool:
            if p + n > end or length < n:
                self._trunc_mark("gre")
                return False
            return True

        if not need(2):
            return
        proto = _H(data, p)[0]
        p += 2
        length -= 2
        if flags & 0xC000:
            if not need(2):
                return
            if self.verbose:
                out.append(f", sum 0x{_H(data, p)[0]:x}")
            p += 2
            length -= 2
            if not need(2):
                return
            out.append(f", off 0x{_H(data, p)[0]:x}")
            p += 2
            length -= 2
        if flags & 0x2000:
            if not need(4):
                return
            out.append(f", key=0x{_I(data, p)[0]:x}")
            p += 4
            length -= 4
        if flags & 0x1000:
            if not need(4):
                return
            out.append(f", seq {_I(data, p)[0]}")
            p += 4
            length -= 4
        if flags & 0x4000:
            while True:
                if not need(4):
                    return
                af, sreoff, srelen = _H(data, p)[0], data[p + 2], data[p + 3]
                p += 4
                length -= 4
                if af == 0 and srelen == 0:
                    break
                if not self._gre_sre(data, p, length, end, af, sreoff, srelen):
                    self._trunc_mark("gre")
                    return
                if length < srelen:
                    self._trunc_mark("gre")
                    return
                p += srelen
                length -= srelen
        self._gre_proto(proto)
        out.append(f", length {total}")
        out.append("\n\t" if self.verbose else ": ")
        if proto == 0x0800:
            self._ip(data, p, length, end)
        elif proto in (0x86DD, 0x8847):
            self._ethertype(proto, data, p, length, end)
        elif proto == 0x6558:
            self._proto = "ether"
            self._ether_at(data, p, length, end)
        elif proto in (0x8137, 0x809B, 0x00FE):
            out.append(f"{ETHERTYPES.get(proto)}, length {length}")  # best effort
        else:
            out.append(f"gre-proto-0x{proto:x}")

    def _gre_sre(self, data: bytes, p: int, length: int, end: int, af: int, sreoff: int,
                 srelen: int) -> bool:
        out = self._out
        if af == 0x0800:
            out.append(", (rtaf=ip")
            ok = self._gre_sre_addrs(data, p, length, end, sreoff, srelen, 4)
            out.append(")")
            return ok
        if af == 0xFFFE:
            out.append(", (rtaf=asn")
            ok = self._gre_sre_addrs(data, p, length, end, sreoff, srelen, 2)
            out.append(")")
            return ok
        out.append(f", (rtaf=0x{af:x})")
        return True

    def _gre_sre_addrs(self, data: bytes, p: int, length: int, end: int, sreoff: int,
                       srelen: int, size: int) -> bool:
        out = self._out
        if sreoff & (size - 1):
            out.append(f", badoffset={sreoff}")
            return True
        if srelen & (size - 1):
            out.append(f", badlength={srelen}")
            return True
        if sreoff >= srelen:
            out.append(f", badoff/len={sreoff}/{srelen}")
            return True
        start = p
        while srelen:
            if p + size > end or length < size:
                return False
            mark = "*" if p - start == sreoff else ""
            if size == 4:
                out.append(f" {mark}{socket.inet_ntoa(data[p: p + 4])}")
            else:
                out.append(f" {mark}{_H(data, p)[0]:x}")
            p += size
            length -= size
            srelen -= size
        return True

    def _gre1(self, data: bytes, p: int, length: int, end: int, flags: int) -> None:
        out = self._out
        total = length
        p += 2
        length -= 2
        if self.verbose:
            out.append(f", Flags [{bittok2str(_GRE_FLAGS, 'none', flags)}]")

        def need(n: int) -> bool:
            if p + n > end or length < n:
                self._trunc_mark("gre")
                return False
            return True

        if not need(2):
            return
        proto = _H(data, p)[0]
        p += 2
        length -= 2
        if flags & 0x2000:
            if not need(4):
                return
            out.append(f", call {_I(data, p)[0] & 0xFFFF}")
            p += 4
            length -= 4
        if flags & 0x1000:
            if not need(4):
                return
            out.append(f", seq {_I(data, p)[0]}")
            p += 4
            length -= 4
        if flags & 0x0080:
            if not need(4):
                return
            out.append(f", ack {_I(data, p)[0]}")
            p += 4
            length -= 4
        if not flags & 0x1000:
            out.append(", no-payload")
        self._gre_proto(proto)
        out.append(f", length {total}")
        if not flags & 0x1000:
            return
        out.append("\n\t" if self.verbose else ": ")
        if proto == 0x880B:
            self._ppp(data, p, length, end)
        else:
            out.append(f"gre-proto-0x{proto:x}")

    def _pim(self, data: bytes, p: int, length: int, end: int, ip_off: int) -> None:
        out = self._out
        self._proto = "pim"
        if p + 1 > end:
            raise Trunc
        tv = data[p]
        version, ptype = tv >> 4, tv & 15
        name = _PIM_TYPES.get(ptype, "Unknown Type")
        if version != 2:
            out.append(f"PIMv{version}, length {length}")
            return
        if not self.verbose:
            out.append(f"PIMv2, {name}, length {length}")
            return
        out.append(f"PIMv2, length {length}\n\t{name}")
        self._proto = "pimv2"
        if length < 2:
            out.append(f"[length {length} < 2] (invalid)")
            return
        if p + 2 > end:
            raise Trunc
        if data[p + 1] & 0x0F:
            out.append(", RFC2117-encoding")
        if length < 4:
            out.append(f"[length {length} < 4] (invalid)")
            return
        if p + 4 > end:
            raise Trunc
        cksum = _H(data, p + 2)[0]
        out.append(f", cksum 0x{cksum:04x} ")
        if cksum == 0:
            out.append("(unverified)")
        else:
            verdict = self._pim_checksum(data, p, length, end, ptype == 1)
            out.append(f"({verdict})")
        q = p + 4
        left = length - 4
        if ptype == 1:
            if left < 4 or q + 4 > end:
                self._trunc_mark("pimv2")
                return
            flags = _REGISTER_FLAGS.get(_I(data, q)[0], "none")
            out.append(f", Flags [ {flags} ]\n\t")
            q += 4
            left -= 4
            if left == 0:
                self._trunc_mark("pimv2")
                return
            if q + 1 > end:
                raise Trunc
            inner = data[q] >> 4
            if inner == 0:
                if q + 20 > end:
                    raise Trunc
                out.append(f"IP-Null-header {socket.inet_ntoa(data[q + 12: q + 16])} > "
                           f"{socket.inet_ntoa(data[q + 16: q + 20])}")
            elif inner == 4:
                self._ip(data, q, left, end)
            elif inner == 6:
                self._ethertype(0x86DD, data, q, left, end)
            else:
                out.append(f"IP ver {inner}")
        elif ptype == 2:
            out.append(" group=")
            used = self._pim_addr(data, q, left, end, True)
            if used < 0:
                self._trunc_mark("pimv2")
                return
            q += used
            left -= used
            out.append(" source=")
            if self._pim_addr(data, q, left, end, False) < 0:
                self._trunc_mark("pimv2")
        elif ptype > 11:
            out.append(f" [type {ptype}]")
        # other message types: their bodies are not reproduced (best effort)

    def _pim_checksum(self, data: bytes, p: int, length: int, end: int, register: bool
                      ) -> str:
        def verdict(n: int) -> str | None:
            if p + n > end:
                return None
            return "correct" if checksum_ok(data[p: p + n]) else "incorrect"

        if register:
            first = verdict(8)
            if first == "incorrect":
                first = verdict(length)
        else:
            first = verdict(length)
        return first or "unverified"

    def _pim_addr(self, data: bytes, p: int, length: int, end: int, group: bool) -> int:
        """An encoded unicast address (group=False... source) or group address; -1 on a cut
        or an unknown family, as tcpdump's pimv2_addr_print."""
        if length < 2:
            return -1
        if p + 2 > end:
            raise Trunc
        family = data[p]
        if family not in (1, 2) or data[p + 1] != 0:
            return -1
        size = 4 if family == 1 else 16
        q = p + 2
        length -= 2
        if not group:
            if length < size or q + size > end:
                return -1
            self._out.append(self._addr_text(data[q: q + size]))
            return 2 + size
        if length < size + 2 or q + size + 2 > end:
            return -1
        self._out.append(self._addr_text(data[q + 2: q + 2 + size]))
        if data[q + 1] != size * 8:
            self._out.append(f"/{data[q + 1]}")
        if data[q]:
            self._out.append(f"(0x{data[q]:02x})")
        return 2 + 2 + size

    @staticmethod
    def _addr_text(raw: bytes) -> str:
        if len(raw) == 4:
            return socket.inet_ntoa(raw)
        return socket.inet_ntop(socket.AF_INET6, raw)

    def _bcm_li(self, data: bytes, p: int, length: int, end: int) -> None:
        out = self._out
        self._proto = "bcm_li"
        if length < 4:
            out.append(f" (length {length} < 4) (invalid)")
            return
        if p + 4 > end:
            raise Trunc
        shim = _I(data, p)[0]
        direction, ptype = (shim >> 29) & 7, (shim >> 25) & 15
        subtype, li_id = (shim >> 22) & 7, shim & 0x3FFFFF
        v = self.verbose
        out.append(f"{chr(10) + '    ' if v else ''}BCM-LI-SHIM: direction "
                   f"{_BCM_DIRECTIONS.get(direction, 'unknown')}, pkt-type "
                   f"{_BCM_TYPES.get(ptype, 'unknown')}, pkt-subtype "
                   f"{_BCM_SUBTYPES.get(subtype, 'unknown')}, li-id {li_id}"
                   f"{chr(10) + '    ' if v else ''}")
        p += 4
        length -= 4
        if not v:
            if p + length > end:
                raise Trunc
            return
        if ptype == 7:
            self._proto = "ether"
            self._ether_at(data, p, length, end)
        elif ptype == 5:
            self._ip(data, p, length, end)
        elif ptype == 6:
            self._ethertype(0x86DD, data, p, length, end)
        elif ptype == 4:
            if p + 1 > end:
                raise Trunc
            version = data[p] >> 4
            if version == 4:
                self._ip(data, p, length, end)
            elif version == 6:
                self._ethertype(0x86DD, data, p, length, end)
            else:
                out.append("unknown payload")
        else:
            out.append(" (invalid)")


__all__ = ["TunnelPrinters"]
