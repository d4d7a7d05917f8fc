"""tcpdump 4.99.3's link-layer printers beyond plain Ethernet, SLL and loopback.

A mixin of ``TcpdumpFormatter``: Ethernet at any offset (``_ether_at``, tcpdump's
``ether_common_print`` with MACsec, VLAN tags, 802.3/LLC/SNAP and switch tags), the
EtherTypes tcpdump dissects beyond IPv4/ARP/IPv6 (MPLS, PPPoE, PPP), and the link types
PPP (9, 166), PPP_SERIAL (50), PPP_ETHER (51), Cisco HDLC (104, with SLARP), Frame Relay
(107: IP behind Cisco's EtherType or an NLPID), IPoIB (242), Solaris ipnet (226), ARCNET
(7, 129) and the DSA/EDSA/Broadcom switch tags (284, 285, 281).  The methods follow the
formatter's conventions: ``data`` is the whole frame, ``p`` where the header starts,
``length`` what the wire says is left, ``end`` the end of the captured bytes (tcpdump's
snapend) for this layer; ``_Trunc`` is tcpdump's longjmp on a failed fetch and
``_trunc_mark`` its soft ``[|proto]``.

Checked against tcpdump 4.99.3 on the corpus captures and crafted ones (the golden tests
of ``tests/test_tcpdump_format.py``, ``scripts/compare_tcpdump.py``); the text of
protocols that are neither ICMP nor ARP (LCP options, STP, CDP, IPX, ...) is best effort,
as everywhere in the formatter.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

from pcapping.tcpdump.common import Trunc as _Trunc
from pcapping.tcpdump.common import hex_ascii

_H = struct.Struct("!H").unpack_from
_I = struct.Struct("!I").unpack_from


def tok2str(table: dict[int, str], fmt: str, value: int) -> str:
    """tcpdump's tok2str: the name, or ``fmt`` formatted with the value."""
    name = table.get(value)
    if name is not None:
        return name
    return fmt % value if "%" in fmt else fmt


def bittok2str(table: tuple[tuple[int, str], ...], fmt: str, value: int,
               sep: str = ", ") -> str:
    """tcpdump's bittok2str: the names of the bits set, in table order."""
    names = [name for bit, name in table if bit and value & bit == bit]
    if names:
        return sep.join(names)
    return fmt % value if "%" in fmt else fmt


def hex_print(data: bytes, ident: str) -> str:
    """tcpdump's hex_print: 16-bit words, 8 a line, each line opened by ``ident``."""
    out = []
    n = len(data)
    i = 0
    for k in range(0, n - 1, 2):
        if i % 8 == 0:
            out.append(f"{ident}0x{k:04x}: ")
        out.append(f" {data[k]:02x}{data[k + 1]:02x}")
        i += 1
    if n & 1:
        if i % 8 == 0:
            out.append(f"{ident}0x{n - 1:04x}: ")
        out.append(f" {data[-1]:02x}")
    return "".join(out)


# tcpdump's ethertype_values (print-ether.c), the first name of a value wins
ETHERTYPES = {
    0x0800: "IPv4", 0x8847: "MPLS unicast", 0x8848: "MPLS multicast", 0x86DD: "IPv6",
    0x8100: "802.1Q", 0x9100: "802.1Q-9100", 0x88A8: "802.1Q-QinQ", 0x9200: "802.1Q-9200",
    0x88E5: "802.1AE MACsec", 0x0200: "PUP", 0x0806: "ARP", 0x8035: "Reverse ARP",
    0x0600: "NS", 0x0500: "Sprite", 0x1000: "Trail", 0x6001: "MOP DL", 0x6002: "MOP RC",
    0x6003: "DN", 0x6004: "LAT", 0x6007: "SCA", 0x6558: "TEB", 0x8038: "Lanbridge",
    0x803C: "DEC DNS", 0x803E: "DEC DTS", 0x805B: "VEXP", 0x805C: "VPROD",
    0x809B: "Appletalk", 0x80F3: "Appletalk ARP", 0x8137: "IPX", 0x880B: "PPP",
    0x8808: "MPCP", 0x8809: "Slow Protocols", 0x8863: "PPPoE D", 0x8864: "PPPoE S",
    0x888E: "EAPOL", 0x8899: "Realtek protocols", 0x886F: "MS NLB heartbeat",
    0x8870: "Jumbo", 0x894F: "NSH", 0x9000: "Loopback", 0xFEFE: "OSI", 0x00FE: "GRE-OSI",
    0xABCD: "CFM (old)", 0x8902: "CFM", 0x893A: "IEEE1905.1", 0x88CC: "LLDP",
    0x88CA: "TIPC", 0x0707: "GeoNet (old)", 0x8947: "GeoNet", 0x1111: "CALM FAST",
    0x88A2: "AoE", 0x88F7: "PTP", 0xD28B: "Arista Vendor Specific Protocol",
}
_TAG_TYPES = frozenset((0x8100, 0x88A8, 0x9100, 0x9200))

_LLC_SAPS = {0x00: "Null", 0xFF: "Global", 0x02: "802.1B I", 0x03: "802.1B G", 0x06: "IP",
             0x04: "SNA", 0x0E: "ProWay NM", 0x42: "STP", 0x4E: "RS511", 0x7E: "ISO8208",
             0x8E: "ProWay", 0xAA: "SNAP", 0xE0: "IPX", 0xF0: "NetBeui", 0xFE: "OSI"}
_LLC_CMDS = {0x03: "ui", 0xE3: "test", 0xAF: "xid", 0x63: "ua", 0x43: "disc", 0x0F: "dm",
             0x6F: "sabme", 0x87: "frmr"}
_LLC_FLAGS = {0: "Command", 1: "Response", 0x10: "Poll", 0x11: "Final", 0x100: "Poll",
              0x101: "Final"}
_LLC_SUPERVISORY = {0: "Receiver Ready", 1: "Receiver not Ready", 2: "Reject"}
OUIS = {0x000000: "Ethernet", 0x00000C: "Cisco", 0x00005E: "IANA",
        0x000081: "Nortel Networks SONMP", 0x0000F8: "Cisco bridged",
        0x0080C2: "Ethernet bridged", 0x00A03E: "ATM Forum", 0x00E02F: "DOCSIS Spanning Tree",
        0x080007: "Appletalk", 0x009069: "Juniper", 0x080009: "Hewlett-Packard",
        0x00120F: "IEEE 802.3 Private", 0x0012BB: "ANSI/TIA", 0x001B21: "DCBX",
        0x002320: "Nicira Networks", 0x5C16C7: "Big Switch Networks",
        0xB0D2F5: "Vello Systems", 0x002481: "HP", 0x0004EA: "HP-Labs",
        0x748771: "Infoblox Inc", 0xA42305: "Open Networking Lab", 0x00049F: "Freescale",
        0x0015AD: "Netronome", 0x001018: "Broadcom", 0x00E004: "PMC-Sierra",
        0xD0F0DB: "Ericsson"}
_CISCO_PIDS = {0x2000: "CDP", 0x2003: "VTP", 0x2004: "DTP", 0x0111: "UDLD", 0x010B: "PVST",
               0x010C: "VLAN Bridge"}
_BRIDGED_PIDS = {1: "Ethernet + FCS", 7: "Ethernet w/o FCS", 2: "802.4 + FCS",
                 8: "802.4 w/o FCS", 3: "Token Ring + FCS", 9: "Token Ring w/o FCS",
                 4: "FDDI + FCS", 10: "FDDI w/o FCS", 5: "802.6 + FCS", 11: "802.6 w/o FCS",
                 14: "BPDU"}
_OUI_PIDS = {0x000000: ETHERTYPES, 0x0000F8: ETHERTYPES, 0x080007: ETHERTYPES,
             0x00000C: _CISCO_PIDS, 0x0080C2: _BRIDGED_PIDS}

PPP_TYPES = {
    0x0021: "IP", 0x0023: "OSI", 0x0025: "NS", 0x0027: "DECNET", 0x0029: "APPLE",
    0x002B: "IPX", 0x002D: "VJC IP", 0x002F: "VJNC IP", 0x0031: "BRPDU", 0x0033: "STII",
    0x0035: "VINES", 0x0281: "MPLS", 0x0283: "MPLS", 0x00FD: "Compressed", 0x003D: "MLPPP",
    0x0057: "IP6", 0x0201: "HELLO", 0x0231: "LUXCOM", 0x0233: "SNS", 0x8021: "IPCP",
    0x8023: "OSICP", 0x8025: "NSCP", 0x8027: "DECNETCP", 0x8029: "APPLECP",
    0x802B: "IPXCP", 0x8033: "STIICP", 0x8035: "VINESCP", 0x8057: "IP6CP",
    0x8281: "MPLSCP", 0xC021: "LCP", 0xC023: "PAP", 0xC025: "LQM", 0xC223: "CHAP",
    0xC227: "EAP", 0xC027: "SPAP", 0xC123: "Old-SPAP", 0xC02B: "BACP", 0xC02D: "BAP",
    0xC03D: "MLPPP-CP", 0x80FD: "CCP",
}
_PPP_CTRL = frozenset((0xC021, 0x8021, 0x8023, 0x8281, 0x8057, 0x80FD, 0xC02B))
_CP_CODES = {0: "Vendor-Extension", 1: "Conf-Request", 2: "Conf-Ack", 3: "Conf-Nack",
             4: "Conf-Reject", 5: "Term-Request", 6: "Term-Ack", 7: "Code-Reject",
             8: "Prot-Reject", 9: "Echo-Request", 10: "Echo-Reply", 11: "Disc-Req",
             12: "Ident", 13: "Time-Rem", 14: "Reset-Req", 15: "Reset-Ack"}
_PPPOE_CODES = {0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xA7: "PADT",
                0: ""}
_PPPOE_TAGS = {0: "EOL", 0x0101: "Service-Name", 0x0102: "AC-Name", 0x0103: "Host-Uniq",
               0x0104: "AC-Cookie", 0x0105: "Vendor-Specific", 0x0110: "Relay-Session-ID",
               0x0120: "PPP-Max-Payload", 0x0201: "Service-Name-Error",
               0x0202: "AC-System-Error", 0x0203: "Generic-Error"}
_MPLS_LABEL_NAMES = ("IPv4 explicit NULL", "router alert", "IPv6 explicit NULL",
                     "implicit NULL") + ("rsvd",) * 12
_MACSEC_FLAGS = ((0x08, "E"), (0x04, "C"), (0x40, "S"), (0x10, "B"), (0x20, "I"))
_ARC_TYPES = {240: "oldip", 241: "oldarp", 212: "ip", 213: "arp", 214: "rarp",
              221: "atalk", 247: "banyan", 250: "ipx", 0xC4: "ipv6", 0x80: "diag"}
_FR_FLAGS = ((0x02000000, "C!"), (0x00020000, "DE"), (0x00040000, "BECN"),
             (0x00080000, "FECN"), (0x2, "sdlcore"))
_NLPIDS = {0x00: "NULL", 0x08: "Q.933", 0x09: "LMI", 0x80: "SNAP", 0x81: "CLNP",
           0x82: "ES-IS", 0x83: "IS-IS", 0x84: "CONS", 0x85: "IDRP", 0xC1: "ISIS_SPB",
           0xB1: "FRF.15", 0xCC: "IPv4", 0xCF: "PPP", 0x8A: "X25 ES-IS", 0x8E: "IPv6"}
_DSA_MODES = {0: "To CPU", 1: "From CPU", 2: "To Sniffer", 3: "Forward"}
_DSA_CODES = {0: "BPDU (MGMT) Trap", 1: "Frame2Reg", 2: "IGMP/MLD Trap", 3: "Policy Trap",
              4: "ARP Mirror", 5: "Policy Mirror"}
_BRCM_TE = {0: "None", 1: "Untag", 2: "Header", 3: "Reserved"}
_BRCM_RC = {1: "mirror", 2: "MAC learning", 4: "switching", 8: "prot term",
            16: "prot snoop", 32: "exception"}


def _mac(b: bytes) -> str:
    return b.hex(":")


class LinkPrinters:
    """Mixin: link layers and the EtherTypes beyond IPv4/ARP/IPv6 (see the module)."""

    # provided by TcpdumpFormatter
    _out: list[str]
    _proto: str
    _hdrlen: int
    link: bool
    verbose: int
    xdump: int
    _suppress: bool
    _ip: Callable[..., None]
    _ethertype: Callable[..., bool]
    _trunc_mark: Callable[[str], None]
    _arp: Callable[..., None]

    # -- Ethernet at any depth ----------------------------------------------------------

    def _default_print(self, data: bytes, p: int, end: int) -> None:
        """ND_DEFAULTPRINT: the undissected bytes in hex and ASCII, unless -x/-X is on."""
        if not self._suppress:
            self._out.append(hex_ascii(data[p:end]))

    def _ether_at(self, data: bytes, p: int, length: int, end: int,
                  switch_tag: tuple[Callable[[bytes, int], None], int] | None = None) -> int:
        """tcpdump's ether_common_print for the frame at ``data[p:end]``; returns the
        length of the link-layer headers it consumed (for -X)."""
        out = self._out
        caplen = end - p
        if length < caplen:
            out.append(f"[length {length} < caplen {caplen}] (invalid)")
            return length
        taglen = 0 if switch_tag is None else switch_tag[1]
        if caplen < 14 + taglen:
            self._trunc_mark(self._proto)
            return caplen
        orig = length
        dst, src = data[p: p + 6], data[p + 6: p + 12]
        p += 12
        length -= 12
        hdrlen = 12
        if self.link:
            out.append(f"{_mac(src)} > {_mac(dst)}, ")
        if switch_tag is not None:
            switch_tag[0](data, p)
            p += taglen
            length -= taglen
            hdrlen += taglen
        etype = _H(data, p)[0]
        p += 2
        length -= 2
        hdrlen += 2
        printed_length = False
        cap = end  # tcpdump's caplen, as an end offset: MACsec's short length lowers it alone
        if etype == 0x88E5:
            if self.link:
                out.append(f"ethertype 802.1AE MACsec (0x88e5), length {orig}: ")
                printed_length = True
            status, p, length, end, cap, used = self._macsec(data, p, length, end, src, dst)
            hdrlen += used
            if status == "encrypted":
                self._default_print(data, p, end)
                return hdrlen
            if status == "stop":
                return hdrlen + (end - p)
            self._proto = "ether"
            if p + 2 > end:
                raise _Trunc
            etype = _H(data, p)[0]
            p += 2
            length -= 2
            hdrlen += 2
        while etype in _TAG_TYPES:
            if cap - p < 4 or length < 4:
                self._proto = "vlan"
                self._trunc_mark("vlan")
                return hdrlen + min(cap - p, length)
            if self.link:
                out.append(f"ethertype {ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x})")
                out.append(", " if printed_length else f", length {orig}: ")
                printed_length = True
                tci = _H(data, p)[0]
                out.append(f"vlan {tci & 0xFFF}, p {tci >> 13}"
                           f"{', DEI' if tci & 0x1000 else ''}, ")
            etype = _H(data, p + 2)[0]
            p += 4
            length -= 4
            hdrlen += 4
        if etype <= 1500:
            if etype < length:
                length = etype
                end = min(end, p + length)
                cap = min(cap, end)
            if self.link:
                out.append("802.3")
                if not printed_length:
                    out.append(f", length {length}: ")
            llc = self._llc(data, p, length, min(cap, end), src, dst)
            if llc < 0:
                self._default_print(data, p, cap)
                llc = -llc
            return hdrlen + llc
        if etype == 0x8870:  # Alteon jumbo frames: an LLC header follows
            llc = self._llc(data, p, length, min(cap, end), src, dst)
            if llc < 0:
                self._default_print(data, p, cap)
                llc = -llc
            return hdrlen + llc
        if self.link:
            out.append(f"ethertype {ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x})")
            out.append(", " if printed_length else f", length {orig}: ")
        if not self._ethertype(etype, data, p, length, end, src, dst):
            if not self.link:
                out.append(f"{_mac(src)} > {_mac(dst)}, ethertype "
                           f"{ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x}), "
                           f"length {orig}: ")
            self._default_print(data, p, cap)
        return hdrlen

    def _ethertype_more(self, etype: int, data: bytes, p: int, length: int, end: int,
                        src: bytes | None = None, dst: bytes | None = None) -> bool:
        """The rest of tcpdump's ethertype_print that pcapping reproduces."""
        if etype == 0x8847 or etype == 0x8848:
            self._mpls(data, p, length, end)
        elif etype in (0x8863, 0x8864, 0x3C12, 0x3C13):
            self._pppoe(data, p, length, end)
        elif etype == 0x880B:
            if length:
                self._out.append(": ")
                self._ppp(data, p, length, end)
        else:
            return False
        return True

    def _macsec(self, data: bytes, p: int, length: int, end: int, src: bytes, dst: bytes
                ) -> tuple[str, int, int, int, int, int]:
        """tcpdump's macsec_print: ("go", ...) to carry on with the EtherType after the
        SecTAG, "encrypted" to dump the rest, "stop" when it printed a problem; also the
        new snapend (the ICV cut off) and caplen (the short length applied) as offsets."""
        out = self._out
        caplen = end - p
        if caplen < 6 or length < 6:
            self._trunc_mark("macsec")
            return "stop", p, length, end, end, 0
        tci, sl = data[p], data[p + 1]
        taglen = 14 if tci & 0x20 else 6
        if caplen < taglen or length < taglen:
            self._trunc_mark("macsec")
            return "stop", p, length, end, end, 0
        if sl & 0xC0 or tci & 0x80:
            out.append(" (invalid)")
            return "stop", p, length, end, end, 0
        short = sl & 0x3F
        head = (f"an {tci & 3}, pn {_I(data, p + 2)[0]}, flags "
                f"{bittok2str(_MACSEC_FLAGS, 'none', tci & 0x7C, '')}"
                f"{f', sl {short}' if short else ''}"
                f"{f', sci {data[p + 6: p + 14].hex()}' if tci & 0x20 else ''}, ")
        if self.link:
            out.append(head)
        p += taglen
        length -= taglen
        if tci & 0x0C:
            if not self.link:
                out.append(f"{_mac(src)} > {_mac(dst)} 802.1AE MACsec, {head}")
            return "encrypted", p, length, end, end, taglen
        if length < 16 or end - p < 16:
            self._trunc_mark("macsec")
            return "stop", p, length, end, end, taglen
        length -= 16
        end -= 16  # the snapend moves before the ICV
        cap = end
        if short:
            if short > length or short > end - p:
                self._trunc_mark("macsec")
                return "stop", p, length, end, end, taglen
            length = min(length, short)
            cap = min(cap, p + short)  # caplen only: the snapend stays
        return "go", p, length, end, cap, taglen

    # -- 802.2 LLC and SNAP ----------------------------------------------------------------

    def _llc(self, data: bytes, p: int, length: int, end: int, src: bytes | None,
             dst: bytes | None) -> int:
        """tcpdump's llc_print: the header length it consumed, negative when the payload
        is of a kind it does not know (the caller then dumps it)."""
        out = self._out
        self._proto = "llc"
        caplen = end - p
        if caplen < 3 or length < 3:  # (tcpdump dumps these bytes even under -x/-X)
            self._trunc_mark("llc")
            out.append(hex_ascii(data[p:end]))
            return caplen if caplen < 3 else length
        dsap_f, ssap_f, control = data[p], data[p + 1], data[p + 2]
        is_u = control & 3 == 3
        hdrlen = 3
        if not is_u:
            if caplen < 4 or length < 4:
                self._trunc_mark("llc")
                out.append(hex_ascii(data[p:end]))
                return caplen if caplen < 4 else length
            control |= data[p + 3] << 8
            hdrlen = 4
        if dsap_f == 0xFF and ssap_f == 0xFF:  # Novell "raw" 802.3 IPX
            if self.link:
                out.append("IPX 802.3: ")
            out.append(f"IPX, length {length}")  # best effort: tcpdump's IPX printer
            return 0
        dsap, ssap = dsap_f & 0xFE, ssap_f & 0xFE
        if self.link:
            out.append(f"LLC, dsap {_LLC_SAPS.get(dsap, 'Unknown')} (0x{dsap:02x}) "
                       f"{'Group' if dsap_f & 1 else 'Individual'}, ssap "
                       f"{_LLC_SAPS.get(ssap, 'Unknown')} (0x{ssap:02x}) "
                       f"{'Response' if ssap_f & 1 else 'Command'}")
            out.append(f", ctrl 0x{control:02x}: " if is_u else f", ctrl 0x{control:04x}: ")
        p += hdrlen
        length -= hdrlen
        if ssap == 0xAA and dsap == 0xAA and control == 3:
            return hdrlen + 5 if self._snap(data, p, length, end, src, dst) else -(hdrlen + 5)
        if ssap == 0x42 and dsap == 0x42 and control == 3:
            out.append(f"STP, length {length}")  # best effort: tcpdump's STP printer
            return hdrlen
        if ssap == 0x06 and dsap == 0x06 and control == 3:
            self._ip(data, p, length, end)
            return hdrlen
        if ssap == 0xE0 and dsap == 0xE0 and control == 3:
            if self.link:
                out.append("IPX 802.2: ")
            out.append(f"IPX, length {length}")  # best effort
            return hdrlen
        if ssap == 0xFE and dsap == 0xFE and control == 3:
            out.append(f"OSI, length {length}")  # best effort: tcpdump's ISO printers
            return hdrlen
        if not self.link:
            if ssap == dsap:
                name = _LLC_SAPS.get(dsap) or f"Unknown DSAP 0x{dsap:02x}"
                out.append(f"{_mac(src)} > {_mac(dst)} {name} " if src is not None and
                           dst is not None else f"{name} ")
            else:
                sname = _LLC_SAPS.get(ssap) or f"Unknown SSAP 0x{ssap:02x}"
                dname = _LLC_SAPS.get(dsap) or f"Unknown DSAP 0x{dsap:02x}"
                out.append(f"{_mac(src)} {sname} > {_mac(dst)} {dname} " if src is not None
                           and dst is not None else f"{sname} > {dname} ")
        if is_u:
            cmd = control & 0xEF
            flags = (ssap_f & 1) | (control & 0x10)
            out.append(f"Unnumbered, {_LLC_CMDS.get(cmd, f'{cmd:02x}')}, Flags "
                       f"[{_LLC_FLAGS.get(flags, '?')}], length {length + hdrlen}")
            if control & 0xEF == 0xAF:  # XID
                if length == 0:
                    return hdrlen
                if end - p < 1:
                    self._trunc_mark("llc")
                    return hdrlen
                if data[p] == 0x81:
                    if end - p < 3 or length < 3:
                        self._trunc_mark("llc")
                        out.append(hex_ascii(data[p:end]))
                    else:
                        out.append(f": {data[p + 1]:02x} {data[p + 2]:02x}")
                    return hdrlen
        elif control & 1:
            flags = (ssap_f & 1) | (control & 0x100)
            out.append(f"Supervisory, {_LLC_SUPERVISORY.get((control >> 2) & 3, '?')}, rcv "
                       f"seq {(control >> 9) & 0x7F}, Flags [{_LLC_FLAGS.get(flags, '?')}], "
                       f"length {length + hdrlen}")
            return hdrlen
        else:
            flags = (ssap_f & 1) | (control & 0x100)
            out.append(f"Information, send seq {(control >> 1) & 0x7F}, rcv seq "
                       f"{(control >> 9) & 0x7F}, Flags [{_LLC_FLAGS.get(flags, '?')}], "
                       f"length {length + hdrlen}")
        return -hdrlen

    def _snap(self, data: bytes, p: int, length: int, end: int, src: bytes | None,
              dst: bytes | None) -> bool:
        """tcpdump's snap_print; False for an unknown OUI/PID (the caller dumps it)."""
        out = self._out
        self._proto = "snap"
        if end - p < 5 or length < 5:
            self._trunc_mark("snap")
            return True
        oui = int.from_bytes(data[p: p + 3], "big")
        pid = _H(data, p + 3)[0]
        pids = _OUI_PIDS.get(oui, {})
        if self.link:
            out.append(f"oui {OUIS.get(oui, 'Unknown')} (0x{oui:06x}), "
                       f"{'ethertype' if oui == 0 else 'pid'} {pids.get(pid, 'Unknown')} "
                       f"(0x{pid:04x}), length {length - 5}: ")
        p += 5
        length -= 5
        if oui in (0, 0xF8) or (oui == 0x080007 and pid == 0x809B):
            if self._ethertype(pid, data, p, length, end, src, dst):
                return True
        elif oui == 0x0080C2 and pid in (1, 7):  # bridged Ethernet, 2 bytes of padding
            if end - p < 2:
                self._trunc_mark("snap")
                return True
            self._ether_at(data, p + 2, length - 2, end)
            return True
        if not self.link:
            if src is not None and dst is not None:
                out.append(f"{_mac(src)} > {_mac(dst)} ")
            if oui == 0:
                out.append(f"SNAP, ethertype {ETHERTYPES.get(pid, 'Unknown')} (0x{pid:04x}), "
                           f"length {length}: ")
            else:
                out.append(f"SNAP, oui {OUIS.get(oui, 'Unknown')} (0x{oui:06x}), pid "
                           f"{pids.get(pid, 'Unknown')} (0x{pid:04x}), length {length}: ")
        return False

    # -- MPLS ------------------------------------------------------------------------------

    def _mpls(self, data: bytes, p: int, length: int, end: int) -> None:
        """tcpdump's mpls_print: the label stack, then IPv4/IPv6 by label or first nibble."""
        out = self._out
        self._proto = "mpls"
        out.append("MPLS")
        depth = 0
        while True:
            if length < 4:
                out.append(" (invalid)")
                if p + length > end:
                    raise _Trunc
                return
            if p + 4 > end:
                raise _Trunc
            entry = _I(data, p)[0]
            label = entry >> 12
            out.append(f"{chr(10) + chr(9) if depth and self.verbose else ' '}(label {label}")
            depth += 1
            if self.verbose and label < 16:
                out.append(f" ({_MPLS_LABEL_NAMES[label]})")
            out.append(f", tc {(entry >> 9) & 7}")
            if entry & 0x100:
                out.append(", [S]")
            out.append(f", ttl {entry & 0xFF})")
            p += 4
            length -= 4
            if entry & 0x100:
                break
        if label in (0, 3):
            kind = 4
        elif label == 2:
            kind = 6
        else:
            if length < 1:
                return
            if p >= end:
                raise _Trunc
            first = data[p]
            kind = 4 if 0x45 <= first <= 0x4F else 6 if 0x60 <= first <= 0x6F else \
                7 if 0x81 <= first <= 0x83 else 0
        if kind == 0:
            self._default_print(data, p, min(end, p + length))
            return
        out.append("\n\t" if self.verbose else " ")
        if kind == 4:
            self._ip(data, p, length, end)
        elif kind == 6:
            self._ethertype(0x86DD, data, p, length, end)
        else:
            out.append(f"OSI, length {length}")  # best effort: tcpdump's ISO printers

    # -- PPP, PPPoE ------------------------------------------------------------------------

    def _ppp(self, data: bytes, p: int, length: int, end: int) -> int:
        """tcpdump's ppp_print; returns the header length."""
        out = self._out
        self._proto = "ppp"
        olen = length
        hdr = 0
        if length < 2:
            self._trunc_mark("ppp")
            return 0
        if p + 2 > end:
            raise _Trunc
        head = _H(data, p)[0]
        if head in (0xFF03, 0x0003, 0x0103):
            if self.link and head == 0x0003:
                out.append("In  ")
            elif self.link and head == 0x0103:
                out.append("Out ")
            p += 2
            length -= 2
            hdr += 2
        if length < 2:
            self._trunc_mark("ppp")
            return 0
        if p + 1 > end:
            raise _Trunc
        if data[p] & 1:
            proto = data[p]
            p += 1
            length -= 1
            hdr += 1
        else:
            if p + 2 > end:
                raise _Trunc
            proto = _H(data, p)[0]
            p += 2
            length -= 2
            hdr += 2
        if self.link:
            name = PPP_TYPES.get(proto, "unknown")
            out.append(f"{name} (0x{proto:04x}), length {olen}")
            if name == "unknown":
                return hdr
            out.append(": ")
        self._handle_ppp(proto, data, p, length, end)
        return hdr

    def _handle_ppp(self, proto: int, data: bytes, p: int, length: int, end: int) -> None:
        out = self._out
        if proto & 0xFF00 == 0x7E00:
            self._ppp_hdlc(data, p - 1, length, end)
            return
        if proto in _PPP_CTRL:
            self._ppp_ctrl(proto, data, p, length, end)
        elif proto in (0x0800, 0x002F, 0x0021):
            self._ip(data, p, length, end)
        elif proto in (0x86DD, 0x0057):
            self._ethertype(0x86DD, data, p, length, end)
        elif proto in (0x0281, 0x0283):
            self._mpls(data, p, length, end)
        elif proto == 0x00FD:
            out.append("compressed PPP data")
        elif proto in (0x003D, 0xC223, 0xC023, 0xC02D, 0x8137, 0x002B, 0x0023):
            out.append(f"{PPP_TYPES.get(proto, 'IPX')}, length {length}")  # best effort
        else:
            out.append(f"{PPP_TYPES.get(proto) or f'unknown PPP protocol (0x{proto:04x})'} ")
            if p > end:
                out.append("\n\tDissector error: print_unknown_data called with pointer past "
                           "end of packet")
            else:
                out.append(hex_print(data[p: min(end, p + length)], "\n\t"))

    def _ppp_ctrl(self, proto: int, data: bytes, p: int, length: int, end: int) -> None:
        """The first line of tcpdump's handle_ctrl_proto (LCP, IPCP, ...); options are
        not decoded (best effort under -v)."""
        out = self._out
        name = PPP_TYPES.get(proto) or f"unknown ctrl-proto (0x{proto:04x})"
        out.append(f"{name}, ")
        if length < 4 or p + 2 > end:
            out.append(f"[|{name}]")
            return
        code = data[p]
        out.append(f"{_CP_CODES.get(code, 'Unknown Opcode')} (0x{code:02x}), id {data[p + 1]}, "
                   f"length {length + 2}")
        if not self.verbose:
            return
        if p + 4 > end:
            raise _Trunc
        clen = _H(data, p + 2)[0]
        if clen < 4:
            out.append(f"\n\tencoded length {clen} (< 4))")
        elif clen > length:
            out.append(f"\n\tencoded length {clen} (> packet length {length}))")
        else:
            out.append(f"\n\tencoded length {clen} (=Option(s) length {clen - 4})")

    def _ppp_hdlc(self, data: bytes, p: int, length: int, end: int) -> None:
        """tcpdump's ppp_hdlc: undo the 0x7d escapes of the captured bytes, then guess."""
        if end - p <= 0 or length == 0:
            return
        buf = bytearray()
        i = p
        while i < end:
            c = data[i]
            i += 1
            if c == 0x7D:
                if i >= end:
                    break
                c = data[i] ^ 0x20
                i += 1
            buf.append(c)
        b = bytes(buf)
        n = len(b)
        saved = self._proto
        try:
            if n < 1:
                self._trunc_mark(self._proto)
                return
            if b[0] == 0x21:
                self._ip(b, 1, n - 1, n)
                return
            if b[0] == 0x57:
                self._ethertype(0x86DD, b, 1, n - 1, n)
                return
            if n < 2:
                self._trunc_mark(self._proto)
                return
            proto = _H(b, 0)[0]
            q = 2
            if proto == 0xFF03:
                if n < 4:
                    self._trunc_mark(self._proto)
                    return
                proto = _H(b, 2)[0]
                q = 4
            if proto & 0xFF00 == 0x7E00:
                self._out.append(f"(protocol 0x{proto:04x} invalid)")
            else:
                self._handle_ppp(proto, b, q, n - q, n)
        except _Trunc:
            self._proto = saved or self._proto
            raise

    def _pppoe(self, data: bytes, p: int, length: int, end: int) -> int:
        """tcpdump's pppoe_print; returns the header length (for PPP_ETHER's -X)."""
        out = self._out
        self._proto = "pppoe"
        if length < 6:
            out.append(f" (length {length} < 6) (invalid)")
            return 0
        length -= 6
        if p + 6 > end:
            raise _Trunc
        ver, ptype, code = data[p] >> 4, data[p] & 15, data[p + 1]
        session, plen = _H(data, p + 2)[0], _H(data, p + 4)[0]
        if ver != 1:
            out.append(f" [ver {ver}]")
        if ptype != 1:
            out.append(f" [type {ptype}]")
        out.append(f"PPPoE {tok2str(_PPPOE_CODES, 'PAD-%x', code)}")
        if code == 0x09 and plen > 1484 - 6:
            out.append(f" [len {plen}!]")
        if plen > length:
            out.append(f" [len {plen} > {length}!]")
            plen = length
        if session:
            out.append(f" [ses 0x{session:x}]")
        q = p + 6
        if code:
            tag_type = 0xFFFF
            stop = q + plen
            while tag_type and q < stop:
                if q + 4 > end:
                    raise _Trunc
                tag_type, tag_len = _H(data, q)[0], _H(data, q + 2)[0]
                q += 4
                name = _PPPOE_TAGS.get(tag_type) or f"TAG-0x{tag_type:x}"
                if tag_len:
                    if q + tag_len > end:
                        raise _Trunc
                    value = data[q: q + tag_len]
                    shown = value[:79]
                    text = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in shown)
                    ascii_n = sum(1 for c in shown if 0x20 <= c < 0x7F)
                    if ascii_n > len(shown) - ascii_n:
                        out.append(f' [{name} "{text}"]')
                    else:
                        out.append(f" [{name} 0x{value.hex().upper()}]")
                else:
                    out.append(f" [{name}]")
                q += tag_len
            return 6
        out.append(" ")
        return 6 + self._ppp(data, q, plen, end)

    # -- link types -----------------------------------------------------------------------

    def _ppp_if(self, data: bytes, length: int) -> None:
        self._proto = "ppp"
        if len(data) < 4:
            self._trunc_mark("ppp")
            self._hdrlen = len(data)
            return
        self._hdrlen = 4
        self._ppp(data, 0, length, len(data))

    def _ppp_hdlc_if(self, data: bytes, length: int) -> None:
        out = self._out
        caplen = len(data)
        self._proto = "ppp_hdlc"
        if caplen < 2:
            self._trunc_mark("ppp_hdlc")
            self._hdrlen = caplen
            return
        first = data[0]
        if first in (0x0F, 0x8F):
            self._chdlc_if(data, length)
            return
        if caplen < 4:
            self._trunc_mark("ppp_hdlc")
            self._hdrlen = caplen
            return
        if self.link:
            out.append(f"{data[0]:02x} {data[1]:02x} {length} ")
        self._hdrlen = 2
        if first != 0xFF:
            out.append(f"unknown addr {data[2]:02x}; ctrl {data[3]:02x}")
            return
        self._hdrlen = 4
        proto = _H(data, 2)[0]
        out.append(f"{PPP_TYPES.get(proto) or f'unknown PPP protocol (0x{proto:04x})'}: ")
        self._handle_ppp(proto, data, 4, length - 4, caplen)

    def _pppoe_if(self, data: bytes, length: int) -> None:
        self._proto = "pppoe"
        self._hdrlen = self._pppoe(data, 0, length, len(data))

    def _chdlc_if(self, data: bytes, length: int) -> None:
        out = self._out
        self._proto = "chdlc"
        self._hdrlen = 4
        if length < 4:
            self._trunc_mark("chdlc")
            self._hdrlen = len(data)
            return
        if len(data) < 4:
            raise _Trunc
        proto = _H(data, 2)[0]
        if self.link:
            cast = {0x0F: "unicast", 0x8F: "bcast"}.get(data[0], f"0x{data[0]:02x}")
            out.append(f"{cast}, ethertype {ETHERTYPES.get(proto, 'Unknown')} (0x{proto:04x}), "
                       f"length {length}: ")
        length -= 4
        end = len(data)
        if proto == 0x0800:
            self._ip(data, 4, length, end)
        elif proto == 0x86DD:
            self._ethertype(0x86DD, data, 4, length, end)
        elif proto == 0x8035:
            self._slarp(data, 4, length, end)
        elif proto in (0x8847, 0x8848):
            self._mpls(data, 4, length, end)
        elif proto == 0xFEFE:
            out.append(f"OSI, length {length}")  # best effort
        elif not self.link:
            out.append(f"unknown CHDLC protocol (0x{proto:04x})")

    def _slarp(self, data: bytes, p: int, length: int, end: int) -> None:
        out = self._out
        self._proto = "chdlc_slarp"
        out.append(f"SLARP (length: {length}), ")
        if length < 14 or p + 14 > end:
            self._trunc_mark("chdlc_slarp")
            return
        code = _I(data, p)[0]
        cp = p  # tcpdump moves past the fixed part when it prints the uptime
        if code == 0:
            out.append("request")
        elif code == 1:
            from socket import inet_ntoa

            out.append(f"reply {inet_ntoa(data[p + 4: p + 8])}/{inet_ntoa(data[p + 8: p + 12])}")
        elif code == 2:
            out.append(f"keepalive: mineseen=0x{_I(data, p + 4)[0]:08x}, "
                       f"yourseen=0x{_I(data, p + 8)[0]:08x}, "
                       f"reliability=0x{_H(data, p + 12)[0]:04x}")
            if length >= 18:
                if p + 18 > end:
                    raise _Trunc
                cp = p + 14
                sec = _I(data, cp)[0] // 1000
                mins, sec = divmod(sec, 60)
                hrs, mins = divmod(mins, 60)
                days, hrs = divmod(hrs, 24)
                out.append(f", link uptime={days}d{hrs}h{mins}m{sec}s")
        else:
            out.append(f"0x{code:02x} unknown")
            if self.verbose <= 1:
                out.append(hex_print(data[p + 4: min(end, p + length)], "\n\t"))
        if length > 18 and self.verbose:
            out.append(f", (trailing junk: {length - 18} bytes)")
        if self.verbose > 1:
            out.append(hex_print(data[cp + 4: min(end, cp + length)], "\n\t"))

    def _ipoib_if(self, data: bytes, length: int) -> None:
        out = self._out
        caplen = len(data)
        self._proto = "ipoib"
        if caplen < 44 or length < 44:
            self._trunc_mark("ipoib")
            self._hdrlen = min(caplen, length)
            return
        etype = _H(data, 40)[0]
        head = f", ethertype {ETHERTYPES.get(etype, 'Unknown')} (0x{etype:04x}), length {length}: "
        if self.link:
            out.append("IPOIB" + head)
        self._hdrlen = 44
        if not self._ethertype(etype, data, 44, length - 44, caplen):
            if not self.link:
                out.append(head)
            self._default_print(data, 44, caplen)

    def _ipnet_if(self, data: bytes, length: int) -> None:
        out = self._out
        self._proto = "ipnet"
        if len(data) < 24:
            raise _Trunc
        self._hdrlen = 24
        family = data[1]

        def head(n: int) -> str:
            name = {2: "IPv4", 26: "IPv6"}.get(family, "Unknown")
            return f"{_I(data, 16)[0]} > {_I(data, 20)[0]}, family {name} ({family}), length {n}: "

        if self.link:
            out.append(head(length))
        if family == 2:
            self._ip(data, 24, length - 24, len(data))
        elif family == 26:
            self._ethertype(0x86DD, data, 24, length - 24, len(data))
        else:
            if not self.link:
                out.append(head(length))
            self._default_print(data, 24, len(data))

    def _arcnet_head(self, data: bytes, length: int, phds: bool, flag: int, seqid: int
                     ) -> str:
        name = _ARC_TYPES.get(data[2]) or f"{data[2]:02x}"
        ids = f"{data[0]:02x} {data[1]:02x} {name}"
        if not phds:
            return f"{ids} {length}: "
        if flag == 0:
            return f"{ids} seqid {seqid:04x} {length}: "
        if flag & 1:
            return f"{ids} seqid {seqid:04x} (first of {(flag + 3) // 2} fragments) {length}: "
        return f"{ids} seqid {seqid:04x} (fragment {flag // 2 + 1}) {length}: "

    def _arcnet_if(self, data: bytes, length: int) -> None:
        out = self._out
        caplen = len(data)
        self._proto = "arcnet"
        if caplen < 3:
            self._hdrlen = caplen
            raise _Trunc
        arc_type = data[2]
        phds = arc_type not in (240, 241, 0x80)
        flag = seqid = 0
        hdrlen = 3
        if phds:
            if caplen < 6:
                out.append(self._arcnet_head(data, length, False, 0, 0) + " phds")
                raise _Trunc
            flag = data[3]
            if flag == 0xFF:
                if caplen < 10:
                    out.append(self._arcnet_head(data, length, False, 0, 0) + " phds extended")
                    raise _Trunc
                flag, seqid, hdrlen = data[7], _H(data, 8)[0], 10
            else:
                seqid, hdrlen = _H(data, 4)[0], 6
        if self.link:
            out.append(self._arcnet_head(data, length, phds, flag, seqid))
        self._hdrlen = hdrlen
        if phds and flag and not flag & 1:
            return  # a middle fragment
        if not self._arcnet_encap(arc_type, data, hdrlen, length - hdrlen, caplen):
            out.append(hex_ascii(data[hdrlen:]))

    def _arcnet_linux_if(self, data: bytes, length: int) -> None:
        out = self._out
        caplen = len(data)
        self._proto = "arcnet_linux"
        if caplen < 5:
            self._hdrlen = caplen
            raise _Trunc
        arc_type = data[4]
        hdrlen = 5 if arc_type in (240, 241, 0x80) else 8
        if caplen < hdrlen:
            self._hdrlen = caplen
            raise _Trunc
        if self.link:
            out.append(self._arcnet_head(data, length, False, 0, 0))
        self._hdrlen = hdrlen
        if not self._arcnet_encap(arc_type, data, hdrlen, length - hdrlen, caplen):
            out.append(hex_ascii(data[hdrlen:]))

    def _arcnet_encap(self, arc_type: int, data: bytes, p: int, length: int, end: int
                      ) -> bool:
        if arc_type in (240, 212):
            self._ip(data, p, length, end)
        elif arc_type == 0xC4:
            self._ethertype(0x86DD, data, p, length, end)
        elif arc_type in (241, 213, 214):
            self._arp(data, p, length, end)
        elif arc_type in (221, 250):
            self._out.append(f"{'IPX' if arc_type == 250 else 'Appletalk'}, length {length}")
        else:
            return False
        return True

    # -- Frame Relay -------------------------------------------------------------------

    def _fr_if(self, data: bytes, length: int) -> None:
        self._proto = "fr"
        if len(data) < 4:
            self._trunc_mark("fr")
            self._hdrlen = len(data)
            return
        self._hdrlen = self._fr(data, 0, length, len(data))

    def _fr_head(self, length: int, addr_len: int, dlci: int, flags: int, proto: int) -> str:
        names = bittok2str(_FR_FLAGS, "none", flags)
        if proto <= 0xFF:
            return (f"Q.922, hdr-len {addr_len}, DLCI {dlci}, Flags [{names}], NLPID "
                    f"{_NLPIDS.get(proto, 'unknown')} (0x{proto:02x}), length {length}: ")
        return (f"Q.922, hdr-len {addr_len}, DLCI {dlci}, Flags [{names}], cisco-ethertype "
                f"{ETHERTYPES.get(proto, 'unknown')} (0x{proto:04x}), length {length}: ")

    def _fr(self, data: bytes, p: int, length: int, end: int) -> int:
        """tcpdump's fr_print; returns the header length."""
        from pcapping.errors import Malformed, Truncated
        from pcapping.wire.links import q922_address

        out = self._out
        try:
            dlci, addr_len, flags = q922_address(data[p: min(end, p + length)])
        except Truncated:
            self._trunc_mark("fr")
            return 0
        except Malformed:
            out.append("Q.922, invalid address")
            return 0
        if p + addr_len >= end or length < addr_len + 1:
            self._trunc_mark("fr")
            return 0
        ctrl = data[p + addr_len]
        if ctrl != 0x03 and dlci != 0:
            if p + addr_len + 2 > end or length < addr_len + 2:
                out.append(f"UI {ctrl:02x}! ")
            else:
                etype = _H(data, p + addr_len)[0]
                if self.link:
                    out.append(self._fr_head(length, addr_len, dlci, flags, etype))
                if self._ethertype(etype, data, p + addr_len + 2, length - addr_len - 2, end):
                    return addr_len + 2
                out.append(f"UI {ctrl:02x}! ")
        if p + addr_len + 1 >= end or length < addr_len + 2:
            self._trunc_mark("fr")
            return 0
        if data[p + addr_len + 1] == 0:
            if addr_len != 3:
                out.append("Pad! ")
            hdr_len = addr_len + 3
        else:
            if addr_len == 3:
                out.append("No pad! ")
            hdr_len = addr_len + 2
        if p + hdr_len > end or length < hdr_len:
            self._trunc_mark("fr")
            return 0
        nlpid = data[p + hdr_len - 1]
        if self.link:
            out.append(self._fr_head(length, addr_len, dlci, flags, nlpid))
        q, left = p + hdr_len, length - hdr_len
        if nlpid == 0xCC:
            self._ip(data, q, left, end)
        elif nlpid == 0x8E:
            self._ethertype(0x86DD, data, q, left, end)
        elif nlpid == 0xCF:
            self._ppp(data, q, left, end)
        elif nlpid == 0x80:
            if not self._snap(data, q, left, end, None, None):
                if not self.link:
                    out.append(self._fr_head(length, hdr_len, dlci, flags, nlpid))
                self._default_print(data, p, min(end, p + length))
        elif nlpid in (0x81, 0x82, 0x83, 0x08, 0xB1):
            out.append(f"{_NLPIDS.get(nlpid)}, length {left}")  # best effort
        else:
            if not self.link:
                out.append(self._fr_head(length, addr_len, dlci, flags, nlpid))
            if not self.xdump:
                out.append(hex_ascii(data[q: min(end, q + left)]))
        return hdr_len

    # -- switch tags (Ethernet with a tag after the source MAC) --------------------------

    def _dsa_common(self, tag: bytes) -> str:
        mode, dev, port = tag[0] >> 6, tag[0] & 0x1F, tag[1] >> 3
        trunk = "trunk" if tag[1] & 4 else "port"
        vid = ((tag[2] & 0x0F) << 8) | tag[3]
        tagged = tag[0] & 0x20
        if self.link:
            parts = [f"mode {_DSA_MODES.get(mode, 'unknown')}, "]
            if mode == 3:
                parts.append(f"dev {dev}, {trunk} {port}, ")
            elif mode == 1:
                parts.append(f"target dev {dev}, port {port}, ")
            elif mode == 0:
                code = (((tag[1] >> 1) & 3) << 1) | ((tag[2] >> 4) & 1)
                parts.append(f"source dev {dev}, port {port}, code "
                             f"{_DSA_CODES.get(code, 'reserved')}, ")
            else:
                parts.append(f"source dev {dev}, port {port}, "
                             f"{'ingress' if tag[1] & 4 else 'egress'} sniff, ")
            parts.append(f"{'tagged' if tagged else 'untagged'}, ")
            parts.append("CFI, " if tag[1] & 1 else "")
            parts.append(f"VID {vid}, FPri {tag[2] >> 5}, ")
            return "".join(parts)
        if mode == 3:
            head = f"Forward {trunk} {dev}.{port}, "
        elif mode == 1:
            head = f"CPU > port {dev}.{port}, "
        elif mode == 0:
            head = f"port {dev}.{port} > CPU, "
        else:
            head = f"port {dev}.{port} > {'Rx' if tag[1] & 4 else 'Tx'} Sniffer, "
        return f"{head}VLAN {vid}{'t' if tagged else 'u'}, "

    def _dsa_tag(self, data: bytes, p: int) -> None:
        self._out.append(("Marvell DSA " if self.link else "DSA ")
                         + self._dsa_common(data[p: p + 4]))

    def _edsa_tag(self, data: bytes, p: int) -> None:
        etype = _H(data, p)[0]
        if self.link:
            self._out.append(f"Marvell EDSA ethertype 0x{etype:04x} "
                             f"({ETHERTYPES.get(etype, 'Unknown')}), "
                             f"rsvd {data[p + 2]} {data[p + 3]}, ")
        else:
            self._out.append(f"EDSA 0x{etype:04x}, ")
        self._out.append(self._dsa_common(data[p + 4: p + 8]))

    def _brcm_tag(self, data: bytes, p: int) -> None:
        tag = data[p: p + 4]
        parts = [f"BRCM tag OP: {'IG' if tag[0] else 'EG'}"]
        if tag[0] & 0x20:
            parts.append(f", TC: {(tag[1] >> 2) & 7}, TE: {_BRCM_TE.get(tag[1] & 3, 'unknown')}"
                         f", TS: {tag[1] >> 7}, DST map: 0x{(tag[2] << 8 | tag[3]) & 0x1FF:04x}")
        else:
            parts.append(f", CID: {tag[1]}, RC: {_BRCM_RC.get(tag[2], 'reserved')}, "
                         f"TC: {(tag[3] >> 5) & 7}, port: {tag[3] & 0x1F}")
        self._out.append("".join(parts) + ", ")

    def _switch_if(self, data: bytes, length: int, proto: str,
                   tag: Callable[[bytes, int], None], taglen: int) -> None:
        self._proto = proto
        self._hdrlen = self._ether_at(data, 0, length, len(data), (tag, taglen))

    def _dsa_if(self, data: bytes, length: int) -> None:
        self._switch_if(data, length, "dsa", self._dsa_tag, 4)

    def _edsa_if(self, data: bytes, length: int) -> None:
        self._switch_if(data, length, "edsa", self._edsa_tag, 8)

    def _brcm_if(self, data: bytes, length: int) -> None:
        self._switch_if(data, length, "brcm-tag", self._brcm_tag, 4)


# link type -> LinkPrinters method, for TcpdumpFormatter._link_print
LINK_PRINTERS = {
    9: "_ppp_if", 166: "_ppp_if", 50: "_ppp_hdlc_if", 51: "_pppoe_if", 104: "_chdlc_if",
    242: "_ipoib_if", 226: "_ipnet_if", 7: "_arcnet_if", 129: "_arcnet_linux_if",
    107: "_fr_if",
    284: "_dsa_if", 285: "_edsa_if", 281: "_brcm_if",
}

__all__ = ["ETHERTYPES", "LINK_PRINTERS", "LinkPrinters", "bittok2str", "hex_print",
           "tok2str"]
