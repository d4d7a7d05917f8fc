"""Trace probes: whole IPv4 or IPv6 datagrams for the three methods, one flow at a time.

A *flow* is what a load balancer hashes: addresses, protocol, ports, and for ICMP the
first four bytes of the header (type, code, checksum); for IPv6 also the flow label
(RFC 6438).  Paris traceroute's rule, kept by ``ProbeBuilder``: every probe of one flow
has the same flow fields; what tells probes apart lies in fields no balancer hashes.

- UDP: constant ports; the probe's *tag* is the IP identification **and** the UDP
  checksum (two payload bytes are chosen so that the checksum equals the tag), so a
  middlebox rewriting one of them still leaves the other (Paris traceroute identifies by
  the checksum, Dublin traceroute by the IP ID and reads NAT from the quoted checksum).
- ICMP echo: constant identifier *and* constant checksum (two payload bytes compensate
  the sequence number, which carries the tag), so the type/code/checksum a balancer
  sees never changes within a flow.
- TCP SYN: constant ports; the tag is in the sequence number (and the IP ID).  The SYN
  carries traceroute's options (MSS, SACK permitted, timestamps, window scale): 40
  bytes of TCP header, a 60-byte datagram.

IPv6 (a 16-byte destination) has no identification field: the tag is the UDP checksum
(the two fixer bytes make it so), the ICMPv6 sequence (the checksum, which covers the
pseudo-header, kept constant by the fixer) or the TCP sequence number, and with a
device-completed UDP checksum the fixer bytes alone (unique per probe: they are what
makes the checksum the tag).  The traffic class is ``tos``, the hop limit the TTL, and
the flow label one constant per flow (``flow_label``, random unless given).  The
defaults are traceroute 2.1's for IPv6: 80-byte datagrams (a 40-byte header and 40).

Flows are numbered: flow 0 is the run's own (the source port, or the ICMP checksum,
chosen at start); flow ``f`` moves the source port (UDP, TCP) or the checksum (ICMP) by
``f``, and for IPv6 the flow label by ``f`` too, which is how ``--multipath`` asks for
different paths.  Classic (``paris=False``, traceroute's default method) changes the
flow with every probe as traceroute does: the UDP destination port counts up from
33434, the ICMP checksum follows the sequence, TCP's source port counts up (and the
IPv6 flow label with each probe, as the kernel's automatic labels follow the ports).

With ``offload`` (Ethernet links, ``PacketInjector``'s), UDP and TCP probes leave as the
kernel's own do: the checksum field holds the pseudo-header sum and the device completes
it (a real card computes the final value, the tag for UDP; a virtual link never does).
That is what makes a Linux NAT visible in the quotes of a lab: it updates the partial
value on the way out, and its restore of the quoted datagram on the way back is the
arithmetic of a complete checksum, so the quoted checksum no longer matches.

``identify`` reads a probe's tag back from the datagram an ICMP error quotes (or from
a direct answer: echo reply, TCP SYN-ACK/RST, UDP reply), leniently: quotes are often
cut to the header and 8 bytes.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from pcapping.wire.checksum import checksum_ok, internet_checksum, ones_sum
from pcapping.wire.ipv6 import EXTENSION_TYPES, pseudo_header, walk_extensions

UDP_BASE_PORT = 33434  # traceroute's first port (and pcapping's constant one)
UDP_PORT = 53  # traceroute -U
TCP_PORT = 80  # traceroute -T
DEFAULT_PACKET_LEN = 60  # traceroute: an IP header and 40 bytes
DEFAULT_PACKET_LEN6 = 80  # traceroute -6: the 40-byte IPv6 header and 40 bytes
NONCE_BYTES = 4
FIXER_BYTES = 2
METHODS = ("udp", "icmp", "tcp")
PROTO = {"udp": 17, "icmp": 1, "tcp": 6}
PROTO6 = {"udp": 17, "icmp": 58, "tcp": 6}
TCP_HEADER = 40  # 20 bytes and traceroute's 20 bytes of SYN options


def min_packet_len(method: str, v6: bool = False) -> int:
    """The smallest datagram a method can send (header, transport header, fixer, nonce)."""
    ip = 40 if v6 else 20
    if method == "tcp":
        return ip + TCP_HEADER
    return ip + 8 + FIXER_BYTES + NONCE_BYTES


def _fixer(sum_without: int, target: int) -> int:
    """The 16-bit word that makes a message whose one's-complement sum (checksum field
    and fixer zero) is ``sum_without`` carry ``target`` in its checksum field."""
    x = (sum_without + target) % 0xFFFF
    return (0xFFFF - x) % 0xFFFF


def _ip_header(src: bytes, dst: bytes, proto: int, total: int, ident: int, ttl: int,
               tos: int, df: bool) -> bytearray:
    head = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos & 0xFF, total, ident & 0xFFFF,
                                 0x4000 if df else 0, ttl & 0xFF, proto, 0, src, dst))
    csum = internet_checksum(bytes(head))
    head[10] = csum >> 8
    head[11] = csum & 0xFF
    return head


def _ip6_header(src: bytes, dst: bytes, next_header: int, payload_len: int, hop_limit: int,
                traffic_class: int, flow_label: int) -> bytes:
    word = (6 << 28) | ((traffic_class & 0xFF) << 20) | (flow_label & 0xFFFFF)
    return struct.pack("!IHBB16s16s", word, payload_len, next_header, hop_limit & 0xFF,
                       src, dst)


def quote_l4(quote: bytes) -> int | None:
    """Where the upper layer of a quoted IPv6 datagram starts (after any extension
    headers), or None when the quote does not reach it or holds a later fragment."""
    if len(quote) < 40:
        return None
    nh = quote[6]
    if nh not in EXTENSION_TYPES:
        return 40
    chain = walk_extensions(quote, nh, 40, len(quote))
    if chain.error is not None or not chain.upper_layer_present:
        return None
    return chain.offset


class Sent(NamedTuple):
    """What a built probe is: its datagram and what identifies it."""

    datagram: bytes
    tag: int
    flow: int
    sport: int
    dport: int


class Identified(NamedTuple):
    """A probe recognised in an answer: its tag, and which fields said so."""

    tag: int
    by: str  # "ip_id", "checksum", "seq", "ack", "icmp_seq"
    flow_ports: tuple[int, int] | None = None  # (sport, dport) as quoted, when present


class ProbeBuilder:
    """Builds the probes of one run (see the module docstring).

    ``tag`` is a 16-bit number, never 0 or 0xFFFF (a UDP checksum of 0 means none);
    the caller keeps tags unique among the probes it still expects answers for.
    """

    def __init__(self, method: str, src: bytes, dst: bytes, *, packet_len: int | None = None,
                 sport: int | None = None, dport: int | None = None, tos: int = 0,
                 df: bool = False, paris: bool = True, nonce: bytes | None = None,
                 ident: int | None = None, mss: int = 1460, offload: bool = False,
                 mtu: int = 1500, flow_label: int | None = None) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        if len(src) != len(dst) or len(dst) not in (4, 16):
            raise ValueError("source and destination: both IPv4 or both IPv6")
        rnd = os.urandom(8)
        self.method = method
        self.v6 = v6 = len(dst) == 16
        self.l4 = 40 if v6 else 20  # where the transport header starts in a probe
        self.proto = (PROTO6 if v6 else PROTO)[method]
        self.src = src
        self.dst = dst
        self.tos = tos
        self.df = df
        self.paris = paris
        self.nonce = (nonce or rnd[:NONCE_BYTES])[:NONCE_BYTES]
        if method == "tcp":
            self.packet_len = self.l4 + TCP_HEADER
        else:
            low = min_packet_len(method, v6)
            default = DEFAULT_PACKET_LEN6 if v6 else DEFAULT_PACKET_LEN
            self.packet_len = max(low, default if packet_len is None else packet_len)
        self.sport = (sport if sport is not None
                      else 33000 + int.from_bytes(rnd[4:6], "big") % 28000) & 0xFFFF
        if dport is None:
            dport = {"udp": UDP_BASE_PORT, "tcp": TCP_PORT, "icmp": 0}[method]
        self.dport = dport & 0xFFFF
        # ICMP: the echo identifier, and the flow-0 checksum the fixer keeps
        self.ident = (int.from_bytes(rnd[6:8], "big") if ident is None else ident) & 0xFFFF
        self.icmp_checksum = (self.ident ^ 0x5A5A) or 0x1234
        self.mss = mss
        # the device completes UDP/TCP checksums (PacketInjector's offload): the field
        # holds the pseudo-header sum; never for a datagram the engine must fragment
        self.offload = offload and method != "icmp" and self.packet_len <= mtu
        self.seq_high = int.from_bytes(self.nonce[:2], "big")
        self.counter = 0  # classic mode: probes sent so far
        # IPv6: flow 0's flow label (never 0: RFC 6437's "no label")
        if flow_label is None:
            flow_label = (int.from_bytes(rnd[2:5], "big") & 0xFFFFF) or 1
        self.flow_label = flow_label & 0xFFFFF

    # --- the flow of a probe ---
    def flow_ports(self, flow: int) -> tuple[int, int]:
        """(source port, destination port) of ``flow`` (Paris)."""
        if self.method == "icmp":
            return 0, 0
        return (self.sport + flow) & 0xFFFF or 1, self.dport

    def flow_label_of(self, flow: int) -> int:
        """The IPv6 flow label of ``flow`` (Paris: one per flow)."""
        return (self.flow_label + flow) & 0xFFFFF

    def flow_checksum(self, flow: int) -> int:
        """The ICMP checksum every probe of ``flow`` carries (Paris)."""
        c = (self.icmp_checksum + flow * 0x101) & 0xFFFF
        return c if c not in (0, 0xFFFF) else 0x0101

    def build(self, tag: int, ttl: int, flow: int = 0) -> Sent:
        """One probe: ``tag`` in its identifying fields, ``ttl``, and ``flow`` (Paris);
        classic mode moves the flow itself."""
        if not 0 < tag < 0xFFFF:
            raise ValueError("a tag is 1..65534")
        self.counter += 1
        if self.v6:
            return self._build6(tag, ttl, flow)
        if self.method == "udp":
            return self._udp(tag, ttl, flow)
        if self.method == "icmp":
            return self._icmp(tag, ttl, flow)
        return self._tcp(tag, ttl, flow)

    def _payload(self, size: int) -> bytearray:
        body = bytearray(0x40 + (i & 0x3F) for i in range(size))  # traceroute's bytes
        body[:FIXER_BYTES] = bytes(FIXER_BYTES)  # set last, by the checksum arithmetic
        body[FIXER_BYTES:FIXER_BYTES + NONCE_BYTES] = self.nonce
        return body

    def _udp(self, tag: int, ttl: int, flow: int) -> Sent:
        sport, dport = self.flow_ports(flow)
        if not self.paris:
            dport = (self.dport + self.counter - 1) & 0xFFFF
        length = self.packet_len - 20
        seg = bytearray(struct.pack("!HHHH", sport, dport, length, 0))
        seg += self._payload(length - 8)
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 17, length)
        fix = _fixer(ones_sum(pseudo + bytes(seg)), tag)
        seg[8] = fix >> 8
        seg[9] = fix & 0xFF
        field = ones_sum(pseudo) if self.offload else tag  # the device makes it the tag
        seg[6] = field >> 8
        seg[7] = field & 0xFF
        head = _ip_header(self.src, self.dst, 17, self.packet_len, tag, ttl, self.tos, self.df)
        return Sent(bytes(head + seg), tag, flow, sport, dport)

    def _icmp(self, tag: int, ttl: int, flow: int) -> Sent:
        length = self.packet_len - 20
        msg = bytearray(struct.pack("!BBHHH", 8, 0, 0, self.ident, tag))
        msg += self._payload(length - 8)
        if self.paris:
            target = self.flow_checksum(flow)
            fix = _fixer(ones_sum(bytes(msg)), target)
            msg[8] = fix >> 8
            msg[9] = fix & 0xFF
            csum = target
        else:
            csum = internet_checksum(bytes(msg))
        msg[2] = csum >> 8
        msg[3] = csum & 0xFF
        head = _ip_header(self.src, self.dst, 1, self.packet_len, tag, ttl, self.tos, self.df)
        return Sent(bytes(head + msg), tag, flow, 0, 0)

    def _tcp(self, tag: int, ttl: int, flow: int) -> Sent:
        sport, dport = self.flow_ports(flow)
        if not self.paris:
            sport = (self.sport + self.counter - 1) & 0xFFFF or 1
        seq = (self.seq_high << 16) | tag
        options = self._tcp_options(tag)
        head = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (TCP_HEADER // 4) << 4, 0x02,
                           (4 * self.mss) & 0xFFFF, 0, 0)
        seg = bytearray(head + options)
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 6, len(seg))
        csum = ones_sum(pseudo) if self.offload else internet_checksum(pseudo + bytes(seg))
        seg[16] = csum >> 8
        seg[17] = csum & 0xFF
        ip = _ip_header(self.src, self.dst, 6, 20 + len(seg), tag, ttl, self.tos, self.df)
        return Sent(bytes(ip + seg), tag, flow, sport, dport)

    def _tcp_options(self, tag: int) -> bytes:
        """traceroute's SYN options: MSS, SACK permitted, timestamps (a value that differs
        per probe but follows from the run's nonce), NOP and window scale 2."""
        tsval = (int.from_bytes(self.nonce, "big") ^ (tag * 2654435761)) & 0xFFFFFFFF
        return (struct.pack("!BBH", 2, 4, self.mss) + b"\x04\x02"
                + struct.pack("!BBII", 8, 10, tsval, 0) + b"\x01\x03\x03\x02")

    def _build6(self, tag: int, ttl: int, flow: int) -> Sent:
        """An IPv6 probe: the same transport message as IPv4's, its checksum over the
        RFC 8200 pseudo-header, the flow label of ``flow`` (classic: of each probe)."""
        sport, dport = self.flow_ports(flow)
        label = self.flow_label_of(flow)
        if not self.paris:
            label = self.flow_label_of(self.counter - 1)
        src, dst = self.src, self.dst
        if self.method == "tcp":
            if not self.paris:
                sport = (self.sport + self.counter - 1) & 0xFFFF or 1
            seq = (self.seq_high << 16) | tag
            seg = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, 0,
                                        (TCP_HEADER // 4) << 4, 0x02, (4 * self.mss) & 0xFFFF,
                                        0, 0) + self._tcp_options(tag))
            pseudo = pseudo_header(src, dst, len(seg), 6)
            csum = ones_sum(pseudo) if self.offload else internet_checksum(pseudo + bytes(seg))
            seg[16] = csum >> 8
            seg[17] = csum & 0xFF
        elif self.method == "udp":
            if not self.paris:
                dport = (self.dport + self.counter - 1) & 0xFFFF
            length = self.packet_len - 40
            seg = bytearray(struct.pack("!HHHH", sport, dport, length, 0))
            seg += self._payload(length - 8)
            pseudo = pseudo_header(src, dst, length, 17)
            fix = _fixer(ones_sum(pseudo + bytes(seg)), tag)
            seg[8] = fix >> 8
            seg[9] = fix & 0xFF
            field = ones_sum(pseudo) if self.offload else tag
            seg[6] = field >> 8
            seg[7] = field & 0xFF
        else:
            sport = dport = 0
            length = self.packet_len - 40
            seg = bytearray(struct.pack("!BBHHH", 128, 0, 0, self.ident, tag))
            seg += self._payload(length - 8)
            pseudo = pseudo_header(src, dst, length, 58)
            if self.paris:
                target = self.flow_checksum(flow)
                fix = _fixer(ones_sum(pseudo + bytes(seg)), target)
                seg[8] = fix >> 8
                seg[9] = fix & 0xFF
                csum = target
            else:
                csum = internet_checksum(pseudo + bytes(seg))
            seg[2] = csum >> 8
            seg[3] = csum & 0xFF
        head = _ip6_header(src, dst, self.proto, len(seg), ttl, self.tos, label)
        return Sent(head + bytes(seg), tag, flow, sport, dport)

    # --- reading tags back ---
    def quoted_l4(self, quote: bytes) -> int | None:
        """Where the transport header of a quoted datagram starts (None: not reached)."""
        if self.v6:
            return quote_l4(quote)
        if len(quote) < 20:
            return None
        return (quote[0] & 0x0F) * 4

    def fixer_of(self, datagram: bytes) -> bytes:
        """The fixer bytes of one of our (unfragmented) probes."""
        at = self.l4 + 8
        return datagram[at:at + FIXER_BYTES]

    def dport_of(self, datagram: bytes) -> bytes:
        return datagram[self.l4 + 2:self.l4 + 4]

    def is_ours(self, quote: bytes) -> bool:
        """Whether a quoted datagram can be one of this run's probes (family, protocol,
        destination, identifier and nonce, as far as the quote reaches)."""
        if not self.v6:
            return bool(self.identify_quote(quote))
        if len(quote) < 40 or quote[0] >> 4 != 6 or quote[24:40] != self.dst:
            return False
        at = quote_l4(quote)
        if at is None:
            return False
        chain_proto = quote[6] if at == 40 else walk_extensions(
            quote, quote[6], 40, len(quote)).protocol
        if chain_proto != self.proto:
            return False
        l4 = quote[at:]
        if self.method == "icmp" and len(l4) >= 6 and (
                l4[0] != 128 or ((l4[4] << 8) | l4[5]) != self.ident):
            return False
        if self.method == "tcp":
            return len(l4) < 8 or int.from_bytes(l4[4:6], "big") == self.seq_high
        return self._nonce_ok(l4, 8 + FIXER_BYTES)

    def identify_quote(self, quote: bytes) -> list[Identified]:
        """Candidate tags for a quoted datagram (best first); empty when it cannot be
        ours (another destination, protocol, identifier or nonce)."""
        if self.v6:
            return self._identify_quote6(quote)
        if len(quote) < 20 or quote[0] >> 4 != 4 or quote[9] != self.proto:
            return []
        if quote[16:20] != self.dst:
            return []
        ihl = (quote[0] & 0x0F) * 4
        l4 = quote[ihl:]
        ip_id = (quote[4] << 8) | quote[5]
        out: list[Identified] = []
        if self.method == "udp":
            ports = (l4[0] << 8 | l4[1], l4[2] << 8 | l4[3]) if len(l4) >= 4 else None
            if not self._nonce_ok(l4, 8 + FIXER_BYTES):
                return []
            out.append(Identified(ip_id, "ip_id", ports))
            if len(l4) >= 8 and not self.offload:
                out.append(Identified((l4[6] << 8) | l4[7], "checksum", ports))
        elif self.method == "icmp":
            if len(l4) >= 8:
                if l4[0] != 8 or ((l4[4] << 8) | l4[5]) != self.ident:
                    return []
                if not self._nonce_ok(l4, 8 + FIXER_BYTES):
                    return []
                out.append(Identified((l4[6] << 8) | l4[7], "icmp_seq"))
            out.append(Identified(ip_id, "ip_id"))
        else:
            ports = (l4[0] << 8 | l4[1], l4[2] << 8 | l4[3]) if len(l4) >= 4 else None
            if len(l4) >= 8:
                seq = int.from_bytes(l4[4:8], "big")
                if seq >> 16 == self.seq_high:
                    out.append(Identified(seq & 0xFFFF, "seq", ports))
            out.append(Identified(ip_id, "ip_id", ports))
        return [c for c in out if 0 < c.tag < 0xFFFF]

    def _identify_quote6(self, quote: bytes) -> list[Identified]:
        if not self.is_ours(quote):
            return []
        at = quote_l4(quote)
        assert at is not None
        l4 = quote[at:]
        out: list[Identified] = []
        ports = (l4[0] << 8 | l4[1], l4[2] << 8 | l4[3]) if len(l4) >= 4 else None
        if len(l4) >= 8:
            if self.method == "udp" and not self.offload:
                out.append(Identified((l4[6] << 8) | l4[7], "checksum", ports))
            elif self.method == "icmp":
                out.append(Identified((l4[6] << 8) | l4[7], "icmp_seq"))
            elif self.method == "tcp":
                out.append(Identified(int.from_bytes(l4[6:8], "big"), "seq", ports))
        return [c for c in out if 0 < c.tag < 0xFFFF]

    def _nonce_ok(self, l4: bytes, at: int) -> bool:
        """The nonce, when the quote reaches it (a quote cut before it proves nothing)."""
        got = l4[at:at + NONCE_BYTES]
        return got == self.nonce[:len(got)]

    def identify_echo_reply(self, icmp: bytes) -> int | None:
        """The tag of an echo reply to one of our ICMP probes, or None."""
        if self.method != "icmp" or len(icmp) < 8 or icmp[0] != (129 if self.v6 else 0):
            return None
        if ((icmp[4] << 8) | icmp[5]) != self.ident:
            return None
        if not self._nonce_ok(icmp, 8 + FIXER_BYTES):
            return None
        tag = (icmp[6] << 8) | icmp[7]
        return tag if 0 < tag < 0xFFFF else None

    def identify_tcp(self, seg: bytes) -> int | None:
        """The tag of a TCP answer (SYN-ACK or RST acknowledging our SYN), or None."""
        if self.method != "tcp" or len(seg) < 14:
            return None
        ack = int.from_bytes(seg[8:12], "big")
        seq = (ack - 1) & 0xFFFFFFFF
        if not seg[13] & 0x10 or seq >> 16 != self.seq_high:  # no ACK: not about our SYN
            return None
        tag = seq & 0xFFFF
        return tag if 0 < tag < 0xFFFF else None


def verify(datagram: bytes) -> bool:
    """Whether a probe's IP and transport checksums are right (tests use it)."""
    if datagram[0] >> 4 == 6:
        seg = datagram[40:40 + int.from_bytes(datagram[4:6], "big")]
        return checksum_ok(pseudo_header(datagram[8:24], datagram[24:40], len(seg),
                                         datagram[6]) + seg)
    ihl = (datagram[0] & 0x0F) * 4
    if not checksum_ok(datagram[:ihl]):
        return False
    proto = datagram[9]
    seg = datagram[ihl:]
    if proto == 1:
        return checksum_ok(seg)
    pseudo = datagram[12:20] + struct.pack("!BBH", 0, proto, len(seg))
    return checksum_ok(pseudo + seg)


__all__ = ["DEFAULT_PACKET_LEN", "DEFAULT_PACKET_LEN6", "METHODS", "Identified",
           "ProbeBuilder", "Sent", "min_packet_len", "quote_l4", "verify"]
