#!/usr/bin/env python3
"""Write the crafted fixtures in ``captures/`` (rerunnable, byte-for-byte deterministic).

Run from the repository root::

    python scripts/make_captures.py            # crafted fixtures into captures/
    python scripts/make_captures.py --corpus /work/shared/corpus
                                               # also copy the third-party captures

Every frame is built with the project's own encoders (``EthernetHeader``,
``IPv4Header``, ``ICMPEcho``, ``ICMPError``, ``ICMPOther``, ``ARPPacket``,
``LinuxSLL``, ``LinuxSLL2``, ``NullHeader``) where they can express it, and
patched as raw bytes where the point is damage they refuse to produce (wrong
checksums, IHL < 5, cut frames).  Timestamps, identifiers and payloads are
fixed, so two runs write identical files.  ``captures/README.md`` lists every
file.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcapping.io.pcapfile import PcapReader, PcapWriter  # noqa: E402
from pcapping.wire.arp import ARPPacket  # noqa: E402
from pcapping.wire.checksum import internet_checksum  # noqa: E402
from pcapping.wire.encap import (  # noqa: E402
    ERSPAN,
    GRE,
    LLC,
    PIM,
    SNAP,
    VXLAN,
    BCMLIShim,
    Geneve,
    MACsecTag,
    MPLSLabel,
    PPPoE,
    UDPHeader,
)
from pcapping.wire.ethernet import BROADCAST, ZERO_MAC, EthernetHeader, VLANTag  # noqa: E402
from pcapping.wire.icmp import ICMPEcho, ICMPError, ICMPOther  # noqa: E402
from pcapping.wire.ipv4 import DF, MF, IPv4Header, ip_bytes  # noqa: E402
from pcapping.wire.links import (  # noqa: E402
    ARCnetHeader,
    CiscoHDLC,
    IPNetHeader,
    PPPHeader,
)
from pcapping.wire.sll import LinuxSLL, LinuxSLL2, NullHeader  # noqa: E402

OUT = ROOT / "captures"
T0 = 1763800000  # 2025-11-22 08:26:40 UTC: every file starts here

CLIENT_MAC = bytes.fromhex("020000000102")
ROUTER_MAC = bytes.fromhex("020000000101")
OTHER_MAC = bytes.fromhex("02000000fe01")
CLIENT = ip_bytes("10.77.1.2")
ROUTER1 = ip_bytes("10.77.1.1")
ROUTER2 = ip_bytes("10.77.2.2")
TARGET = ip_bytes("10.77.3.2")
NOBODY = ip_bytes("10.77.1.99")
IDENT = 0x1234


# -- building blocks ----------------------------------------------------------

def ping_payload(seq: int, size: int = 56) -> bytes:
    """What iputils ping sends: an 8-byte timestamp, then 0x10, 0x11, ... (deterministic)."""
    stamp = (T0 + seq).to_bytes(4, "little") + (seq * 1000).to_bytes(4, "little")
    body = bytes((0x10 + i) & 0xFF for i in range(max(size - 8, 0)))
    return (stamp + body)[:size]


def ipv4(src: bytes, dst: bytes, payload: bytes, *, proto: int = 1, ttl: int = 64,
         ident: int = 0x4000, flags: int = DF, frag: int = 0, options: bytes = b"",
         tos: int = 0) -> bytes:
    return IPv4Header(src, dst, proto, ttl, ident, tos, flags, frag, 20,
                      options).encode(payload)


def eth(payload: bytes, *, dst: bytes = ROUTER_MAC, src: bytes = CLIENT_MAC,
        ethertype: int = 0x0800, vlans: tuple[VLANTag, ...] = ()) -> bytes:
    return EthernetHeader(dst, src, ethertype, vlans).encode() + payload


def echo(seq: int, reply: bool = False, size: int = 56, ident: int = IDENT) -> bytes:
    return ICMPEcho(reply, ident, seq, ping_payload(seq, size)).encode()


def echo_ip(seq: int, reply: bool = False, *, src: bytes = CLIENT, dst: bytes = TARGET,
            ttl: int = 64, size: int = 56, ident: int = IDENT) -> bytes:
    """The IPv4 datagram of an echo request (client -> target) or reply (target -> client)."""
    if reply:
        src, dst = dst, src
    return ipv4(src, dst, echo(seq, reply, size, ident), ttl=ttl,
                ident=0x4000 + seq + (0x100 if reply else 0), flags=0 if reply else DF)


def error_ip(icmp_type: int, code: int, quoted: bytes, *, src: bytes = ROUTER1,
             dst: bytes = CLIENT, rest: bytes = b"\0\0\0\0", ttl: int = 64,
             ident: int = 0x7000) -> bytes:
    """An ICMP error datagram from ``src`` to ``dst`` (the client) quoting ``quoted``."""
    msg = ICMPError(icmp_type, code, quoted, rest).encode()
    return ipv4(src, dst, msg, ttl=ttl, ident=ident, flags=0, tos=0xC0)


def pad60(frame: bytes, fill: int = 0) -> bytes:
    """Ethernet minimum frame (without FCS): pad to 60 bytes with ``fill``."""
    return frame + bytes([fill]) * max(0, 60 - len(frame))


def set_word(buf: bytes, offset: int, value: int) -> bytes:
    """``buf`` with the 16-bit big-endian word at ``offset`` replaced."""
    return buf[:offset] + value.to_bytes(2, "big") + buf[offset + 2 :]


def arp(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    return ARPPacket(op, sha, spa, tha, tpa).encode()


class Capture:
    """Frames for one pcap file, with fixed timestamps 10 ms apart from ``T0``."""

    def __init__(self, name: str, linktype: int = 1) -> None:
        self.name = name
        self.linktype = linktype
        self.records: list[tuple[bytes, int]] = []

    def add(self, frame: bytes, caplen: int | None = None) -> None:
        """Add ``frame``; ``caplen`` cuts the captured bytes (wire length stays whole)."""
        data = frame if caplen is None else frame[:caplen]
        self.records.append((data, len(frame)))

    def write(self, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with PcapWriter(str(out / self.name), self.linktype) as w:
            for i, (data, length) in enumerate(self.records):
                usec = i * 10_000
                w.write(T0 + usec // 1_000_000, usec % 1_000_000, data, length)


# -- the themes ---------------------------------------------------------------

def echo_pcap() -> Capture:
    c = Capture("echo.pcap")
    for seq in (1, 2, 3):
        c.add(eth(echo_ip(seq)))
        c.add(eth(echo_ip(seq, reply=True, ttl=62), dst=CLIENT_MAC, src=ROUTER_MAC))
    c.add(eth(echo_ip(4, size=1472)))  # full 1500-byte datagram
    c.add(eth(echo_ip(4, reply=True, ttl=62, size=1472), dst=CLIENT_MAC, src=ROUTER_MAC))
    c.add(eth(echo_ip(5, size=16)))
    c.add(eth(echo_ip(5, reply=True, ttl=62, size=16), dst=CLIENT_MAC, src=ROUTER_MAC))
    # another pinger on the same host: same ident, other payload
    c.add(eth(echo_ip(1, ident=0x4321)))
    return c


def time_exceeded_pcap() -> Capture:
    c = Capture("time-exceeded.pcap")
    req1 = echo_ip(1, ttl=1)
    c.add(eth(req1))
    c.add(eth(error_ip(11, 0, req1), dst=CLIENT_MAC, src=ROUTER_MAC))  # Linux: whole datagram
    req2 = echo_ip(2, ttl=2)
    c.add(eth(req2))
    c.add(eth(error_ip(11, 0, req2[:28], src=ROUTER2, ttl=63), dst=CLIENT_MAC,
              src=ROUTER_MAC))  # RFC 792: header + 8 bytes
    c.add(eth(error_ip(11, 1, req2[:28], src=TARGET, ttl=62), dst=CLIENT_MAC,
              src=ROUTER_MAC))  # fragment reassembly time exceeded
    return c


def unreach_codes_pcap() -> Capture:
    c = Capture("unreach-codes.pcap")
    for code in range(16):
        req = echo_ip(code + 1)
        rest = (1280).to_bytes(4, "big") if code == 4 else b"\0\0\0\0"
        src = ROUTER2 if code == 4 else ROUTER1
        c.add(eth(error_ip(3, code, req, src=src, rest=rest), dst=CLIENT_MAC, src=ROUTER_MAC))
    # port unreachable quoting a UDP datagram (what traceroute gets)
    udp = bytes.fromhex("a5c1829a0010") + b"\0\0" + b"8 bytes."
    probe = ipv4(CLIENT, TARGET, udp, proto=17, ttl=64, ident=0x5000, flags=0)
    c.add(eth(error_ip(3, 3, probe, src=TARGET), dst=CLIENT_MAC, src=ROUTER_MAC))
    # RFC 1191 router that predates it: frag needed with MTU 0
    c.add(eth(error_ip(3, 4, echo_ip(17)[:28], src=ROUTER2), dst=CLIENT_MAC, src=ROUTER_MAC))
    return c


def redirect_param_ts_pcap() -> Capture:
    c = Capture("redirect-param-ts.pcap")
    for code in range(4):  # net, host, TOS+net, TOS+host
        c.add(eth(error_ip(5, code, echo_ip(code + 1)[:28], rest=ROUTER2), dst=CLIENT_MAC,
                  src=ROUTER_MAC))
    c.add(eth(error_ip(4, 0, echo_ip(5)[:28], src=TARGET), dst=CLIENT_MAC, src=ROUTER_MAC))
    c.add(eth(error_ip(12, 0, echo_ip(6)[:28], src=ROUTER1, rest=bytes([8, 0, 0, 0])),
              dst=CLIENT_MAC, src=ROUTER_MAC))  # pointer 8: the TTL byte
    c.add(eth(error_ip(12, 1, echo_ip(7)[:28], rest=b"\0\0\0\0"), dst=CLIENT_MAC,
              src=ROUTER_MAC))  # missing a required option
    stamps = (30_000_000).to_bytes(4, "big") + b"\0" * 8
    req = ICMPOther(13, 0, (IDENT).to_bytes(2, "big") + (1).to_bytes(2, "big"), stamps).encode()
    c.add(eth(ipv4(CLIENT, TARGET, req, ident=0x4100)))
    replied = stamps[:4] + (30_000_120).to_bytes(4, "big") + (30_000_121).to_bytes(4, "big")
    rep = ICMPOther(14, 0, (IDENT).to_bytes(2, "big") + (1).to_bytes(2, "big"), replied).encode()
    c.add(eth(ipv4(TARGET, CLIENT, rep, ttl=62, ident=0x4101, flags=0), dst=CLIENT_MAC,
              src=ROUTER_MAC))
    unknown = ICMPOther(99, 7, b"\xde\xad\xbe\xef", b"unknown type").encode()
    c.add(eth(ipv4(CLIENT, TARGET, unknown, ident=0x4102)))
    mask = ICMPOther(17, 0, (IDENT).to_bytes(2, "big") + (2).to_bytes(2, "big"),
                     b"\0\0\0\0").encode()
    c.add(eth(ipv4(CLIENT, TARGET, mask, ident=0x4103)))
    return c


def bad_checksums_pcap() -> Capture:
    c = Capture("bad-checksums.pcap")
    good = echo_ip(1, reply=True, ttl=62)
    c.add(eth(good, dst=CLIENT_MAC, src=ROUTER_MAC))
    c.add(eth(set_word(good, 10, 0x1234), dst=CLIENT_MAC, src=ROUTER_MAC))  # IP cksum
    c.add(eth(set_word(good, 22, 0x5678), dst=CLIENT_MAC, src=ROUTER_MAC))  # ICMP cksum
    both = set_word(set_word(good, 10, 0xBEEF), 22, 0xCAFE)
    c.add(eth(both, dst=CLIENT_MAC, src=ROUTER_MAC))
    # NAT: the quoted header's checksum is stale, the outer message is correct
    inner = set_word(echo_ip(2, ttl=1), 10, 0xABCD)
    c.add(eth(error_ip(11, 0, inner[:28]), dst=CLIENT_MAC, src=ROUTER_MAC))
    # quoted whole echo whose own ICMP checksum is wrong (outer still right)
    inner = set_word(echo_ip(3, ttl=1), 22, 0x0001)
    c.add(eth(error_ip(11, 0, inner), dst=CLIENT_MAC, src=ROUTER_MAC))
    # an outbound request seen with checksum offload: IP checksum left at 0
    c.add(eth(set_word(echo_ip(4), 10, 0)))
    # an ICMP checksum of 0xffff where 0x0000 is computed: -0 vs +0
    zero = ICMPEcho(False, 0, 0).encode()  # 08 00 f7 ff 00 00 00 00
    c.add(eth(ipv4(CLIENT, TARGET, zero, ident=0)))
    return c


def padding_pcap() -> Capture:
    c = Capture("padding.pcap")
    c.add(pad60(eth(echo_ip(1, size=0)), 0xAA))  # 42-byte frame, 18 bytes of 0xaa
    c.add(pad60(eth(echo_ip(1, reply=True, ttl=62, size=0), dst=CLIENT_MAC, src=ROUTER_MAC),
                0x55))
    c.add(pad60(eth(echo_ip(2, size=4)), 0xFF))
    c.add(pad60(eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1), dst=BROADCAST,
                    ethertype=0x0806), 0xA5))
    c.add(pad60(eth(arp(2, ROUTER_MAC, ROUTER1, CLIENT_MAC, CLIENT), dst=CLIENT_MAC,
                    src=ROUTER_MAC, ethertype=0x0806), 0x01))
    # a time-exceeded that quotes header + 8 (56-byte datagram) padded with junk
    c.add(pad60(eth(error_ip(11, 0, echo_ip(3, ttl=1)[:28]), dst=CLIENT_MAC, src=ROUTER_MAC),
                0x99) + b"\x99" * 4)
    return c


def vlan_qinq_pcap() -> Capture:
    c = Capture("vlan-qinq.pcap")
    dot1q = (VLANTag(0x8100, 0, 0, 100),)
    qinq = (VLANTag(0x88A8, 0, 0, 200), VLANTag(0x8100, 0, 0, 100))
    old = (VLANTag(0x9100, 0, 0, 300), VLANTag(0x8100, 0, 0, 10))
    prio = (VLANTag(0x8100, 5, 1, 4094),)
    for tags in (dot1q, qinq, old, prio):
        c.add(eth(echo_ip(1), vlans=tags))
        c.add(eth(echo_ip(1, reply=True, ttl=62), dst=CLIENT_MAC, src=ROUTER_MAC, vlans=tags))
        c.add(eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1), dst=BROADCAST,
                  ethertype=0x0806, vlans=tags))
    c.add(eth(error_ip(11, 0, echo_ip(2, ttl=1)), dst=CLIENT_MAC, src=ROUTER_MAC, vlans=qinq))
    c.add(pad60(eth(echo_ip(3, size=0), vlans=dot1q), 0x77))  # tagged and padded
    return c


def _cooked(packet_type: int, addr: bytes, proto: int, payload: bytes, sll2: bool) -> bytes:
    if sll2:
        return LinuxSLL2(proto, 2, 1, packet_type, addr).encode() + payload
    return LinuxSLL(packet_type, 1, addr, proto).encode() + payload


def sll_pcap(sll2: bool) -> Capture:
    c = Capture("sll2.pcap" if sll2 else "sll.pcap", 276 if sll2 else 113)
    c.add(_cooked(4, CLIENT_MAC, 0x0800, echo_ip(1), sll2))  # outgoing
    c.add(_cooked(0, ROUTER_MAC, 0x0800, echo_ip(1, reply=True, ttl=62), sll2))  # to us
    c.add(_cooked(1, OTHER_MAC, 0x0806, arp(1, OTHER_MAC, NOBODY, ZERO_MAC, CLIENT), sll2))
    c.add(_cooked(4, CLIENT_MAC, 0x0806, arp(2, CLIENT_MAC, CLIENT, OTHER_MAC, NOBODY), sll2))
    c.add(_cooked(0, ROUTER_MAC, 0x0800, error_ip(3, 1, echo_ip(2)[:28]), sll2))
    c.add(_cooked(2, OTHER_MAC, 0x0800, ipv4(NOBODY, ip_bytes("224.0.0.1"), echo(3), ttl=1),
                  sll2))  # multicast
    c.add(_cooked(3, OTHER_MAC, 0x0800, echo_ip(4, src=NOBODY), sll2))  # other host
    # loopback (ARPHRD_LOOPBACK, no address), as the "any" device records lo
    lo = ipv4(ip_bytes("127.0.0.1"), ip_bytes("127.0.0.1"), echo(5))
    if sll2:
        c.add(LinuxSLL2(0x0800, 1, 772, 0, b"", 0).encode() + lo)
    else:
        c.add(LinuxSLL(0, 772, b"", 0x0800, 0).encode() + lo)
    return c


def raw_pcap(linktype: int) -> Capture:
    c = Capture("raw-ipv4.pcap" if linktype == 101 else "linktype-ipv4.pcap", linktype)
    c.add(echo_ip(1))
    c.add(echo_ip(1, reply=True, ttl=62))
    c.add(error_ip(11, 0, echo_ip(2, ttl=1)[:28]))
    c.add(set_word(echo_ip(3), 10, 0x0BAD))  # bad IP checksum
    return c


def null_pcap(linktype: int) -> Capture:
    c = Capture("null.pcap" if linktype == 0 else "loop.pcap", linktype)
    lo = ip_bytes("127.0.0.1")
    orders = (False, True) if linktype == 0 else (True,)
    for big in orders:
        head = NullHeader(2, big).encode()
        c.add(head + echo_ip(1, src=lo, dst=lo))
        c.add(head + echo_ip(1, reply=True, src=lo, dst=lo))
        c.add(head + error_ip(3, 3, ipv4(lo, lo, b"\x30\x39\x00\x35\x00\x10\x00\x00" * 2,
                                             proto=17), src=lo, dst=lo))
    return c


def arp_pcap() -> Capture:
    c = Capture("arp.pcap")
    c.add(eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1), dst=BROADCAST, ethertype=0x0806))
    c.add(eth(arp(2, ROUTER_MAC, ROUTER1, CLIENT_MAC, CLIENT), dst=CLIENT_MAC, src=ROUTER_MAC,
              ethertype=0x0806))
    # gratuitous request and reply: sender = target address
    c.add(eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, CLIENT), dst=BROADCAST, ethertype=0x0806))
    c.add(eth(arp(2, CLIENT_MAC, CLIENT, BROADCAST, CLIENT), dst=BROADCAST, ethertype=0x0806))
    # RFC 5227 probe (sender 0.0.0.0) and a request nobody answers
    c.add(eth(arp(1, CLIENT_MAC, bytes(4), ZERO_MAC, CLIENT), dst=BROADCAST, ethertype=0x0806))
    for _ in range(3):
        c.add(eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, NOBODY), dst=BROADCAST,
                  ethertype=0x0806))
    # unicast re-validation request (kernel's REACHABLE probe)
    c.add(eth(arp(1, CLIENT_MAC, CLIENT, ROUTER_MAC, ROUTER1), dst=ROUTER_MAC,
              ethertype=0x0806))
    return c


def ip_options_pcap() -> Capture:
    c = Capture("ip-options.pcap")
    rr = bytes([7, 39, 4]) + bytes(36) + b"\x00"  # record route, 9 empty slots, EOL
    rr_used = bytes([7, 11, 12]) + CLIENT + ROUTER1 + b"\x00"  # two addresses recorded
    alert = bytes([148, 4, 0, 0])  # router alert
    nops = b"\x01\x01\x01\x01"
    for n, opts in enumerate((rr, rr_used, alert, nops, nops + alert)):
        payload = echo(n + 1)
        c.add(eth(ipv4(CLIENT, TARGET, payload, options=opts, ident=0x4200 + n)))
    reply = ipv4(TARGET, CLIENT, echo(1, reply=True), ttl=62, options=rr_used, flags=0)
    c.add(eth(reply, dst=CLIENT_MAC, src=ROUTER_MAC))
    # an error quoting a datagram that had options (IHL 7 inside the quote)
    quoted = ipv4(CLIENT, TARGET, echo(6), options=nops + alert, ttl=1, ident=0x4206)
    c.add(eth(error_ip(11, 0, quoted[:36]), dst=CLIENT_MAC, src=ROUTER_MAC))
    return c


def fragments_pcap() -> Capture:
    c = Capture("fragments.pcap")
    msg = echo(1, size=3000)  # 3008 bytes of ICMP: 1480 + 1480 + 48
    for ident, reply in ((0x4300, False), (0x4301, True)):
        body = echo(1, reply=reply, size=3000) if reply else msg
        src, dst = (TARGET, CLIENT) if reply else (CLIENT, TARGET)
        for off in range(0, len(body), 1480):
            part = body[off : off + 1480]
            more = MF if off + 1480 < len(body) else 0
            c.add(eth(ipv4(src, dst, part, ident=ident, flags=more, frag=off // 8)))
    # a lone last fragment, and a first fragment smaller than the ICMP header
    c.add(eth(ipv4(CLIENT, TARGET, msg[2960:], ident=0x4302, flags=0, frag=370)))
    c.add(pad60(eth(ipv4(CLIENT, TARGET, msg[:4], ident=0x4303, flags=MF))))
    return c


def truncated_pcap() -> Capture:
    c = Capture("truncated.pcap")
    req = eth(echo_ip(1))  # 98 bytes
    tagged = eth(echo_ip(2), vlans=(VLANTag(0x8100, 0, 0, 100),))
    opts = eth(ipv4(CLIENT, TARGET, echo(3), options=b"\x01\x01\x01\x01" + bytes([148, 4, 0, 0])))
    err = eth(error_ip(11, 0, echo_ip(4, ttl=1)), dst=CLIENT_MAC, src=ROUTER_MAC)
    arp_req = eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1), dst=BROADCAST,
                  ethertype=0x0806)
    c.add(req, 10)  # inside the Ethernet header
    c.add(req, 14)  # exactly the Ethernet header
    c.add(tagged, 16)  # inside the 802.1Q tag
    c.add(req, 14 + 12)  # inside the IPv4 header
    c.add(opts, 14 + 24)  # inside the IP options (IHL 7)
    c.add(req, 14 + 20)  # IP header, no ICMP
    c.add(req, 14 + 20 + 4)  # inside the ICMP header
    c.add(req, 14 + 20 + 8)  # ICMP header only
    c.add(req, 14 + 20 + 8 + 10)  # inside the echo payload
    c.add(err, 14 + 20 + 8 + 10)  # inside the quoted IP header
    c.add(err, 14 + 20 + 8 + 20 + 4)  # inside the quoted ICMP header
    c.add(err, 14 + 20 + 8 + 20 + 8 + 8)  # inside the quoted echo payload
    c.add(arp_req, 14 + 6)  # inside the ARP fixed part
    c.add(arp_req, 14 + 20)  # inside the ARP addresses
    c.add(req, 68)  # tcpdump's old default snaplen
    return c


def malformed_pcap() -> Capture:
    c = Capture("malformed.pcap")
    good = echo_ip(1)
    for ihl in (0, 4):
        c.add(eth(bytes([0x40 | ihl]) + good[1:]))
    c.add(eth(bytes([0x65]) + good[1:]))  # version 6 under EtherType 0x0800
    c.add(eth(bytes([0x45]) + good[1:]))  # (the well-formed original, for contrast)
    c.add(eth(set_word(good, 2, 16)))  # total length 16 < 20
    c.add(eth(set_word(good, 2, 0)))  # total length 0 (as GSO captures show)
    c.add(eth(set_word(good, 2, 1500)))  # total length beyond the frame
    c.add(eth(bytes([0x4F]) + good[1:]))  # IHL 15 but no options: header eats the ICMP
    c.add(eth(b"\x00\x01\x08\x00\x00\x00\x00\x01" + b"\xff" * 20, dst=BROADCAST,
              ethertype=0x0806))  # ARP with hardware length 0, protocol length 0
    c.add(eth(b"", ethertype=0x0800))  # IPv4 ethertype, no bytes at all
    c.add(eth(b"\x86\xdd" * 10, ethertype=0x88B5))  # local experimental EtherType
    return c


# -- tunnels, encapsulations, link types -----------------------------------------

VTEP_A, VTEP_B = ip_bytes("192.0.2.1"), ip_bytes("192.0.2.2")  # tunnel endpoints
VTEP_A_MAC, VTEP_B_MAC = bytes.fromhex("02000000aa01"), bytes.fromhex("02000000aa02")


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return UDPHeader(sport, dport, 8 + len(payload)).encode() + payload


def underlay(payload: bytes, proto: int, ident: int, reply: bool = False) -> bytes:
    """An Ethernet frame between the tunnel endpoints carrying ``payload``."""
    src, dst = (VTEP_B, VTEP_A) if reply else (VTEP_A, VTEP_B)
    macs = (VTEP_A_MAC, VTEP_B_MAC) if reply else (VTEP_B_MAC, VTEP_A_MAC)
    return eth(ipv4(src, dst, payload, proto=proto, ident=ident), dst=macs[0], src=macs[1])


def overlay_eth(seq: int, reply: bool = False, vlans: tuple[VLANTag, ...] = ()) -> bytes:
    """The client's (or target's) echo as a whole Ethernet frame, for L2 tunnels."""
    if reply:
        return eth(echo_ip(seq, reply=True, ttl=62), dst=CLIENT_MAC, src=ROUTER_MAC,
                   vlans=vlans)
    return eth(echo_ip(seq), vlans=vlans)


def overlay_arp() -> bytes:
    return eth(arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1), dst=BROADCAST, ethertype=0x0806)


def with_cuts(c: Capture, frame: bytes, cuts: tuple[int, ...]) -> None:
    """The frame whole, then cut to each of ``cuts`` captured bytes."""
    c.add(frame)
    for n in cuts:
        c.add(frame, n)


def udp_tunnels_pcap() -> Capture:
    c = Capture("udp-tunnels.pcap")
    vx = VXLAN(vni=100).encode()
    # VXLAN (4789): echo request and reply, ARP, a tagged inner frame, flags without I
    with_cuts(c, underlay(udp(45149, 4789, vx + overlay_eth(1)), 17, 0x5101),
              (14 + 20 + 4, 14 + 20 + 8 + 4, 14 + 20 + 16 + 10, 14 + 20 + 16 + 14 + 12))
    c.add(underlay(udp(32894, 4789, vx + overlay_eth(1, reply=True)), 17, 0x5102, True))
    c.add(underlay(udp(42710, 4789, vx + overlay_arp()), 17, 0x5103))
    c.add(underlay(udp(45149, 4789, vx + overlay_eth(2, vlans=(VLANTag(0x8100, 0, 0, 10),))),
                   17, 0x5104))
    c.add(underlay(udp(45149, 4789, VXLAN(0, 100).encode() + overlay_eth(3)), 17, 0x5105))
    c.add(underlay(udp(45149, 4789, vx[:5]), 17, 0x5106))  # shorter than a VXLAN header
    # Linux's VXLAN port 8472: tcpdump prints it as OTV
    c.add(underlay(udp(45150, 8472, VXLAN(vni=42).encode() + overlay_eth(4)), 17, 0x5107))
    # a source port tcpdump decodes first (DNS) wins over the VXLAN destination port
    c.add(underlay(udp(53, 4789, vx + overlay_eth(5)), 17, 0x5108))
    # Geneve (6081): critical option and an inner Ethernet frame; IPv4 directly; version 1
    opt = struct.pack("!HBB", 0x0103, 0x80, 1) + b"\x00\x00\x00\x2a"
    gen = Geneve(0x6558, 10, opt, 0x40).encode()
    with_cuts(c, underlay(udp(12618, 6081, gen + overlay_eth(6)), 17, 0x5109),
              (14 + 20 + 8 + 6, 14 + 20 + 8 + 12, 14 + 20 + 8 + 16 + 20))
    c.add(underlay(udp(50525, 6081, Geneve(0x0800, 11).encode() + echo_ip(6, reply=True)),
                   17, 0x510A, True))
    c.add(underlay(udp(50525, 6081, b"\x40" + Geneve(0x0800, 11).encode()[1:] + echo_ip(7)),
                   17, 0x510B))
    # MPLS over UDP (6635)
    mpls = MPLSLabel(21, 0, True, 63).encode()
    with_cuts(c, underlay(udp(58699, 6635, mpls + echo_ip(8)), 17, 0x510C),
              (14 + 20 + 8 + 2, 14 + 20 + 8 + 4 + 10))
    # Broadcom LI shim (from UDP port 49152): IPv4, undecided (by version), Ethernet
    for n, kind in enumerate((5, 4, 7)):
        shim = BCMLIShim(3, kind, 2, 66666).encode()
        inner = overlay_eth(9 + n) if kind == 7 else echo_ip(9 + n)
        c.add(underlay(udp(49152, 49153, shim + inner), 17, 0x510D + n))
    # an echo whose ICMP checksum is wrong, inside VXLAN
    bad = bytearray(overlay_eth(12))
    bad[14 + 20 + 2] ^= 0xFF
    c.add(underlay(udp(45149, 4789, vx + bytes(bad)), 17, 0x5110))
    return c


def gre_pcap() -> Capture:
    c = Capture("gre-erspan.pcap")
    # GRE with IPv4 inside: plain, with key and sequence number, with checksum and key
    c.add(underlay(GRE(0x0800).encode() + echo_ip(1), 47, 0x5201))
    c.add(underlay(GRE(0x0800, 0x3000, key=0x1234, seq=7).encode()
                   + echo_ip(1, reply=True, ttl=62), 47, 0x5202, True))
    body = echo_ip(2)
    csum = GRE(0x0800, 0xA000, 0, 0, key=99).encode() + body
    ck = internet_checksum(csum)
    c.add(underlay(csum[:4] + struct.pack("!H", ck) + csum[6:], 47, 0x5203))
    # transparent Ethernet bridging: a whole frame (ARP, then an echo)
    c.add(underlay(GRE(0x6558).encode() + overlay_arp(), 47, 0x5204))
    c.add(underlay(GRE(0x6558, 0x2000, key=5).encode() + overlay_eth(3), 47, 0x5205))
    # PPTP's enhanced GRE (version 1) with PPP inside; one without payload (ack only)
    ppp_echo = PPPHeader(0x0021).encode() + echo_ip(4)
    c.add(underlay(GRE(0x880B, 0x3081, key=(len(ppp_echo) << 16) | 7, seq=1, ack=0).encode()
                   + ppp_echo, 47, 0x5206))
    c.add(underlay(GRE(0x880B, 0x2081, key=7, ack=1).encode(), 47, 0x5207, True))
    # ERSPAN type I (0x88be without sequence number), II (with), III (0x22eb), III with
    # the platform-specific subheader; tcpdump 4.99.3 prints these as gre-proto-...
    c.add(underlay(GRE(0x88BE).encode() + overlay_eth(5), 47, 0x5208))
    span2 = ERSPAN(1, 100, vlan=10, index=5).encode()
    c.add(underlay(GRE(0x88BE, 0x1000, seq=3).encode() + span2 + overlay_eth(6), 47, 0x5209))
    span3 = ERSPAN(2, 200, vlan=20, timestamp=0x01020304, word3=0x0006).encode()
    c.add(underlay(GRE(0x22EB).encode() + span3 + overlay_eth(7), 47, 0x520A))
    span3o = ERSPAN(2, 201, timestamp=5, word3=0x0007, platform=bytes(range(8))).encode()
    c.add(underlay(GRE(0x22EB).encode() + span3o + overlay_eth(8), 47, 0x520B))
    # source routing (IPv4 and AS entries), an unknown version, a cut header
    sre = struct.pack("!HBB", 0x0800, 4, 8) + VTEP_A + VTEP_B + bytes(4)
    c.add(underlay(GRE(0x0800, 0x4000, 0, 0, routing=sre).encode() + echo_ip(9), 47, 0x520C))
    c.add(underlay(struct.pack("!HH", 0x0002, 0x0800) + echo_ip(10), 47, 0x520D))
    with_cuts(c, underlay(GRE(0x0800, 0x3000, key=1, seq=2).encode() + echo_ip(11), 47,
                          0x520E), (14 + 20 + 2, 14 + 20 + 6, 14 + 20 + 12 + 10))
    return c


def ipip_pim_pcap() -> Capture:
    c = Capture("ipip-pim.pcap")
    # IP in IP: an echo, and a time exceeded quoting an echo
    with_cuts(c, underlay(echo_ip(1), 4, 0x5301), (14 + 20 + 10,))
    c.add(underlay(error_ip(11, 0, echo_ip(2, ttl=1)[:28]), 4, 0x5302, True))
    # PIM register carrying an echo to a group (checksum over the header only); the
    # null-register bit; a register stop; a hello
    group = ip_bytes("239.1.2.3")
    inner = ipv4(CLIENT, group, echo(3), ttl=254, ident=15, flags=0)

    def pim(version_type: int, rest: bytes, cover: int | None = None) -> bytes:
        head = bytes((version_type, 0, 0, 0)) + rest
        ck = internet_checksum(head[: cover if cover else len(head)])
        return head[:2] + struct.pack("!H", ck) + head[4:]

    reg = pim(0x21, b"\x00\x00\x00\x00" + inner, 8)
    with_cuts(c, underlay(reg, 103, 0x5303), (14 + 20 + 6, 14 + 20 + 8 + 10))
    c.add(underlay(pim(0x21, b"\x40\x00\x00\x00" + inner[:20], 8), 103, 0x5304))
    stop = pim(0x22, bytes((1, 0, 0, 32)) + group + bytes((1, 0)) + CLIENT)
    c.add(underlay(stop, 103, 0x5305, True))
    c.add(underlay(pim(0x20, struct.pack("!HHH", 1, 2, 105)), 103, 0x5306))
    assert PIM.parse(reg).register_flags == 0
    return c


def six_in_four_pcap() -> Capture:
    """IPv6 in IPv4 (protocol 41) and IPv4 claiming to carry ICMPv6 (protocol 58)."""
    from pcapping.wire.icmp6 import ICMP6Echo, ICMP6Error
    from pcapping.wire.ipv6 import IPv6Header, ip6_bytes

    c = Capture("six-in-four.pcap")
    a, b = ip6_bytes("2001:db8:77:1::2"), ip6_bytes("2001:db8:77:3::2")
    r = ip6_bytes("2001:db8:77:2::2")
    request = IPv6Header(a, b, 58).encode(ICMP6Echo(False, 0x1234, 1, bytes(16)).encode(a, b))
    reply = IPv6Header(b, a, 58, hop_limit=62).encode(
        ICMP6Echo(True, 0x1234, 1, bytes(16)).encode(b, a))
    exceeded = IPv6Header(r, a, 58, hop_limit=63).encode(
        ICMP6Error.build(3, 0, request[:48]).encode(r, a))
    with_cuts(c, underlay(request, 41, 0x5401), (14 + 20 + 20, 14 + 20 + 44))
    c.add(underlay(reply, 41, 0x5402, True))
    c.add(underlay(exceeded, 41, 0x5403, True))
    c.add(underlay(ICMP6Echo(False, 0x1234, 2, bytes(8)).encode(a, b), 58, 0x5404))
    return c


def mpls_pcap() -> Capture:
    c = Capture("mpls.pcap")
    one = MPLSLabel(100704, 0, True, 64).encode()
    two = MPLSLabel(16, 5, False, 64).encode() + MPLSLabel(17, 0, True, 63).encode()
    with_cuts(c, eth(one + echo_ip(1), ethertype=0x8847), (14 + 2, 14 + 4 + 12))
    c.add(eth(two + echo_ip(1, reply=True, ttl=62), ethertype=0x8847, dst=CLIENT_MAC,
              src=ROUTER_MAC))
    c.add(eth(MPLSLabel(0, 0, True, 64).encode() + echo_ip(2), ethertype=0x8847))  # IPv4 null
    c.add(eth(MPLSLabel(3, 0, True, 64).encode() + echo_ip(3), ethertype=0x8848))  # multicast
    c.add(eth(MPLSLabel(1, 0, True, 1).encode() + MPLSLabel(200, 0, True, 1).encode(),
              ethertype=0x8847))  # router alert, then a stack that ends before any payload
    c.add(eth(MPLSLabel(300, 0, True, 64).encode() + b"\x99" * 20, ethertype=0x8847))
    quoted = echo_ip(4, ttl=1)
    c.add(eth(one + error_ip(11, 0, quoted[:28], src=ROUTER2), ethertype=0x8847,
              dst=CLIENT_MAC, src=ROUTER_MAC))
    return c


def pppoe_pcap() -> Capture:
    c = Capture("pppoe.pcap")

    def session(ppp: bytes, sid: int = 0x1C, extra: int = 0) -> bytes:
        return PPPoE(0, sid, len(ppp) + extra).encode() + ppp

    ppp_ip = PPPHeader(0x0021, None).encode()
    with_cuts(c, eth(session(ppp_ip + echo_ip(1)), ethertype=0x8864), (14 + 4, 14 + 7,
                                                                       14 + 8 + 10))
    c.add(eth(session(ppp_ip + echo_ip(1, reply=True, ttl=62)), ethertype=0x8864,
              dst=CLIENT_MAC, src=ROUTER_MAC))
    lcp = PPPHeader(0xC021, None).encode() + bytes((9, 1, 0, 8)) + b"\x12\x34\x56\x78"
    c.add(eth(session(lcp), ethertype=0x8864))
    c.add(eth(session(ppp_ip + echo_ip(2), extra=40), ethertype=0x8864))  # length too big
    tags = struct.pack("!HH", 0x0101, 0) + struct.pack("!HH", 0x0103, 4) + b"\xde\xad\xbe\xef"
    tags += struct.pack("!HH", 0x0102, 3) + b"isp"
    c.add(eth(PPPoE(0x09, 0, len(tags)).encode() + tags, dst=BROADCAST, ethertype=0x8863))
    c.add(eth(session(ppp_ip + echo_ip(3)), ethertype=0x8864,
              vlans=(VLANTag(0x88A8, 0, 0, 200), VLANTag(0x8100, 0, 0, 10))))
    return c


def llc_snap_pcap() -> Capture:
    c = Capture("llc-snap.pcap")

    def dot3(payload: bytes, dst: bytes = BROADCAST, pad: bool = True) -> bytes:
        frame = EthernetHeader(dst, CLIENT_MAC, len(payload)).encode() + payload
        return pad60(frame) if pad else frame

    snap = LLC(0xAA, 0xAA, 3).encode()
    snap_arp = snap + SNAP(0, 0x0806).encode() + arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1)
    with_cuts(c, dot3(snap_arp), (14 + 2, 14 + 6, 14 + 8 + 10))
    c.add(dot3(snap + SNAP(0, 0x0800).encode() + echo_ip(1), ROUTER_MAC))
    c.add(dot3(LLC(0x06, 0x06, 3).encode() + echo_ip(2), ROUTER_MAC))  # RFC 948
    c.add(dot3(LLC(0x42, 0x42, 3).encode() + bytes(35)))  # STP BPDU
    c.add(dot3(LLC(0x04, 0x05, 0x03).encode() + b"sna!"))  # unnumbered, response
    c.add(dot3(LLC(0xF0, 0xF0, 0x0102).encode() + b"netbios"))  # I frame
    c.add(dot3(LLC(0x04, 0x04, 0x0301).encode()))  # S frame
    c.add(dot3(LLC(0x00, 0x01, 0xAF).encode() + b"\x81\x01\x00"))  # XID
    c.add(dot3(snap + SNAP(0x00000C, 0x2000).encode() + b"cdp-ish"))  # Cisco OUI
    c.add(dot3(snap + SNAP(0x0080C2, 0x0007).encode() + b"\x00\x00" + overlay_arp()))
    return c


def macsec_pcap() -> Capture:
    c = Capture("macsec.pcap")
    sci = int.from_bytes(CLIENT_MAC + b"\x00\x01", "big")
    icv = bytes(range(16))

    def sec(tag: MACsecTag, body: bytes) -> bytes:
        return eth(tag.encode() + body + icv, ethertype=0x88E5)

    with_cuts(c, sec(MACsecTag(0x20, 68, 0, sci), b"\x08\x00" + echo_ip(1)),
              (14 + 4, 14 + 10, 14 + 14 + 2 + 10))
    c.add(sec(MACsecTag(0x00, 69), b"\x08\x00" + echo_ip(1, reply=True, ttl=62)))
    c.add(sec(MACsecTag(0x01, 70, 30), b"\x08\x06" + arp(1, CLIENT_MAC, CLIENT, ZERO_MAC,
                                                          ROUTER1)))  # short length
    c.add(sec(MACsecTag(0x2C, 71, 0, sci), b"\x8a\x11" + bytes(40)))  # encrypted
    c.add(sec(MACsecTag(0x20, 72, 0, sci), b"\x81\x00\x00\x0a\x08\x00" + echo_ip(2)))
    c.add(eth(b"\xa0\x00" + bytes(30), ethertype=0x88E5))  # version bit set: invalid
    return c


def ppp_pcaps() -> list[Capture]:
    ppp = Capture("ppp.pcap", 9)
    ppp.add(PPPHeader(0x0021).encode() + echo_ip(1))
    ppp.add(PPPHeader(0x0021, None).encode() + echo_ip(1, reply=True, ttl=62))
    ppp.add(PPPHeader(0x21, None, short_protocol=True).encode() + echo_ip(2))
    ppp.add(PPPHeader(0x0281).encode() + MPLSLabel(16, 0, True, 1).encode() + echo_ip(3))
    ppp.add(PPPHeader(0xC021).encode() + bytes((1, 5, 0, 10, 5, 6)) + b"\x12\x34\x56\x78")
    ppp.add(PPPHeader(0x8021).encode() + bytes((1, 6, 0, 10, 3, 6)) + CLIENT)
    ppp.add(PPPHeader(0x1235).encode() + b"\x00\x01\x02")
    with_cuts(ppp, PPPHeader(0x0021).encode() + error_ip(11, 0, echo_ip(4, ttl=1)[:28]),
              (3, 4 + 10, 4 + 20 + 4))
    pppd = Capture("ppp-pppd.pcap", 166)
    pppd.add(PPPHeader(0x0021, 0x01).encode() + echo_ip(1))
    pppd.add(PPPHeader(0x0021, 0x00).encode() + echo_ip(1, reply=True, ttl=62))
    serial = Capture("ppp-serial.pcap", 50)
    serial.add(PPPHeader(0x0021).encode() + echo_ip(1))
    serial.add(CiscoHDLC(0x0F, 0x0800).encode() + echo_ip(1, reply=True, ttl=62))
    serial.add(b"\x03\x00\x00\x21" + echo_ip(2))  # unknown address
    ether = Capture("ppp-ether.pcap", 51)
    body = PPPHeader(0x0021, None).encode() + echo_ip(1)
    ether.add(PPPoE(0, 0x1C, len(body)).encode() + body)
    tags = struct.pack("!HH", 0x0101, 0)
    ether.add(PPPoE(0x09, 0, len(tags)).encode() + tags)
    return [ppp, pppd, serial, ether]


def chdlc_pcap() -> Capture:
    c = Capture("chdlc.pcap", 104)
    c.add(CiscoHDLC(0x0F, 0x0800).encode() + echo_ip(1))
    c.add(CiscoHDLC(0x0F, 0x0800).encode() + echo_ip(1, reply=True, ttl=62))
    keep = struct.pack("!IIIH", 2, 5, 2, 0xFFFF) + struct.pack("!I", 7925000)
    c.add(CiscoHDLC(0x8F, 0x8035).encode() + keep + b"\x00\x00")
    c.add(CiscoHDLC(0x8F, 0x8035).encode() + struct.pack("!I", 0) + bytes(10))
    c.add(CiscoHDLC(0x8F, 0x8035).encode() + struct.pack("!I", 1) + CLIENT
          + ip_bytes("255.255.255.0") + b"\xff\xff")
    c.add(CiscoHDLC(0x0F, 0x8847).encode() + MPLSLabel(16, 0, True, 64).encode() + echo_ip(2))
    c.add(CiscoHDLC(0x0F, 0x2000).encode() + b"cdp")
    with_cuts(c, CiscoHDLC(0x0F, 0x0800).encode() + echo_ip(3), (3, 4 + 12))
    return c


def ipnet_pcap() -> Capture:
    c = Capture("ipnet.pcap", 226)
    req, rep = echo_ip(1), echo_ip(1, reply=True, ttl=62)
    c.add(IPNetHeader(2, 0, len(req), 2, 0, 0xFFFFFFFF, 0).encode() + req)
    c.add(IPNetHeader(2, 1, len(rep), 2, 0, 0, 0xFFFFFFFF).encode() + rep)
    c.add(IPNetHeader(99, 0, 4, 2).encode() + b"\x01\x02\x03\x04")
    with_cuts(c, IPNetHeader(2, 0, len(req), 3).encode() + echo_ip(2), (20, 24 + 12))
    return c


def arcnet_pcap() -> Capture:
    c = Capture("arcnet-bsd.pcap", 7)
    a_req = arp(1, b"\xbe", CLIENT, b"\x00", ROUTER1)
    a_req = b"\x00\x07\x08\x00\x01\x04" + a_req[6:]  # ARCnet hardware, 1-byte address
    c.add(ARCnetHeader(0xBE, 0x00, 213, 0, 0x0165).encode() + a_req)
    c.add(ARCnetHeader(0xBE, 0x50, 240).encode() + echo_ip(1))  # RFC 1051
    c.add(ARCnetHeader(0x50, 0xBE, 212, 0, 0x0166).encode() + echo_ip(1, reply=True))
    c.add(ARCnetHeader(0xBE, 0x50, 212, 1, 0x0167).encode() + echo_ip(2)[:40])  # first part
    c.add(ARCnetHeader(0xBE, 0x50, 212, 2, 0x0167).encode() + echo_ip(2)[40:])  # second
    c.add(ARCnetHeader(0xBE, 0x50, 212, 0, 0x0168, exception=True).encode() + echo_ip(3))
    with_cuts(c, ARCnetHeader(0xBE, 0x50, 212, 0, 0x0169).encode() + echo_ip(4), (2, 5, 12))
    return c


def frame_relay_pcap() -> Capture:
    c = Capture("frame-relay.pcap", 107)
    dlci100 = bytes((0x18, 0x41))  # DLCI 100, 2-byte address
    c.add(dlci100 + b"\x08\x00" + echo_ip(1))  # Cisco encapsulation: an EtherType
    c.add(dlci100 + b"\x03\xcc" + echo_ip(1, reply=True, ttl=62))  # UI, NLPID IPv4
    c.add(bytes((0x18, 0x40, 0x01)) + b"\x03\x00\xcc" + echo_ip(2))  # 3 bytes + pad
    c.add(dlci100 + b"\x03\x80" + SNAP(0, 0x0806).encode()
          + arp(1, CLIENT_MAC, CLIENT, ZERO_MAC, ROUTER1))  # SNAP
    c.add(bytes((0x18, 0x4B)) + b"\x08\x00" + echo_ip(3))  # FECN, BECN, DE set
    c.add(b"\x19\x41\x08\x00" + echo_ip(4))  # EA set in the first byte: invalid
    c.add(b"\x00\x01\x03\x08" + bytes(10))  # DLCI 0, Q.933 (LMI)
    with_cuts(c, dlci100 + b"\x03\xcc" + echo_ip(5), (1, 3, 4 + 10))
    return c


def sll2_names_pcap() -> Capture:
    """SLL2 with interface index 1 (lo, the same name on every Linux host) and one no
    host has, as tcpdump prints it: name (or ?) and direction columns."""
    c = Capture("sll2-ifnames.pcap", 276)
    lo = ip_bytes("127.0.0.1")
    req, rep = echo_ip(1, src=lo, dst=lo), echo_ip(1, reply=True, src=lo, dst=lo)
    c.add(LinuxSLL2(0x0800, 1, 772, 4, b"", 0).encode() + req)  # Out
    c.add(LinuxSLL2(0x0800, 1, 772, 0, b"", 0).encode() + rep)  # In
    c.add(LinuxSLL2(0x0806, 99999, 1, 1, OTHER_MAC).encode()
          + arp(1, OTHER_MAC, NOBODY, ZERO_MAC, CLIENT))  # broadcast, unknown interface
    c.add(LinuxSLL2(0x0800, 99999, 1, 2, OTHER_MAC).encode() + echo_ip(2))  # multicast
    c.add(LinuxSLL2(0x0800, 99999, 1, 3, OTHER_MAC).encode() + echo_ip(3))  # other host
    c.add(LinuxSLL2(0x0800, 1, 772, 7, b"", 0).encode() + echo_ip(4))  # unknown type
    return c


THEMES = (
    echo_pcap, time_exceeded_pcap, unreach_codes_pcap, redirect_param_ts_pcap,
    bad_checksums_pcap, padding_pcap, vlan_qinq_pcap, lambda: sll_pcap(False),
    lambda: sll_pcap(True), lambda: raw_pcap(101), lambda: raw_pcap(228),
    lambda: null_pcap(0), lambda: null_pcap(108), arp_pcap, ip_options_pcap,
    fragments_pcap, truncated_pcap, malformed_pcap, udp_tunnels_pcap, gre_pcap,
    ipip_pim_pcap, six_in_four_pcap, mpls_pcap, pppoe_pcap, llc_snap_pcap, macsec_pcap,
    *(lambda cap=cap: cap for cap in ppp_pcaps()), chdlc_pcap, ipnet_pcap, arcnet_pcap,
    frame_relay_pcap, sll2_names_pcap,
)


# -- third-party captures -----------------------------------------------------

# tcpdump tests (tests/TESTLIST name, pcap, options) on supported link types.
TCPDUMP_TESTS = (
    ("802.1ad_QinQ", "802.1ad_QinQ.pcap", "-e"),
    ("802.1ad_QinQv", "802.1ad_QinQ.pcap", "-e -v"),
    ("LINKTYPE_IPV4", "LINKTYPE_IPV4.pcap", ""),
    ("LINKTYPE_IPV4_invalid", "LINKTYPE_IPV4_invalid.pcap", ""),
    ("LINKTYPE_RAW_ipv4", "LINKTYPE_RAW_ipv4.pcap", ""),
    ("arp-too-long-tha", "arp-too-long-tha.pcap", "-v"),
    ("bad-ipv4-version-pgm-heapoverflow", "bad-ipv4-version-pgm-heapoverflow.pcap", "-v"),
    ("dhcp-rfc4388", "dhcp-rfc4388.pcap", "-v"),
    ("extract_read2_asan", "extract_read2_asan.pcap", "-v"),
    ("heapoverflow-in_checksum", "heapoverflow-in_checksum.pcap", "-v"),
    ("icmp-cksum-oobr-1", "icmp-cksum-oobr-1.pcap", "-vvv -e"),
    ("icmp-cksum-oobr-3", "icmp-cksum-oobr-3.pcapng", "-vvv -e"),
    ("icmp-icmp_print-oobr-1", "icmp-icmp_print-oobr-1.pcap", "-v"),
    ("icmp-length-zero", "icmp-length-zero.pcapng", "-v"),
    ("icmp-rfc8335", "icmp-rfc8335.pcap", ""),
    ("icmp-rfc8335-v", "icmp-rfc8335.pcap", "-v"),
    ("icmp-rfc8335-missing-bytes", "icmp-rfc8335-missing-bytes.pcap", "-v"),
    ("icmp_ext_oob_poc", "icmp_ext_oob_poc.pcap", "-v"),
    ("ip_printroute_asan", "ip_printroute_asan.pcap", "-v"),
    ("ip_ts_opts_asan", "ip_ts_opts_asan.pcap", "-v"),
    ("ipv4_invalid_hdr_length", "ipv4_invalid_hdr_length.pcap", "-v"),
    ("ipv4_invalid_length", "ipv4_invalid_length.pcap", "-v"),
    ("ipv4_invalid_total_length", "ipv4_invalid_total_length.pcap", "-v"),
    ("ipv4_invalid_total_length_2", "ipv4_invalid_total_length_2.pcap", "-v"),
    ("gso-ipv4", "gso-ipv4.pcap", "-v"),
    ("afs-icmp", "afs-icmp.pcap", "-v"),
    ("afs-icmp-vv", "afs-icmp.pcap", "-vv"),
    # tunnels and encapsulations
    ("vxlan", "vxlan.pcap", "-e"),
    ("vxlan_port_8472", "vxlan_port_8472.pcap", "-e"),
    ("geneve-vv", "geneve.pcap", "-vv"),
    ("mpls-over-udp", "mpls-over-udp.pcap", ""),
    ("mpls-over-udp-v", "mpls-over-udp.pcap", "-v"),
    ("erspan-type-i-1", "erspan-type-i-1.pcap", "-v"),
    ("erspan-type-i-2", "erspan-type-i-2.pcap", "-v"),
    ("erspan-type-iii-ft-0", "erspan-type-iii-ft-0.pcap", "-v"),
    ("macsec-integonly", "macsec-integonly.pcap", "-e"),
    ("pimv2_register-v", "PIM_register_register-stop.pcap", "-v"),
    ("bcm-li-v", "bcm-li.pcap", "-v"),
    # link types
    ("mpls-traceroute", "mpls-traceroute.pcap", ""),
    ("mpls-traceroute-v", "mpls-traceroute.pcap", "-v"),
    ("icmp-cksum-oobr-2", "icmp-cksum-oobr-2.pcap", "-vvv -e"),
    ("icmp-cksum-oobr-4", "icmp-cksum-oobr-4.pcapng", "-vvv -e"),
    ("rfc5837", "icmp-rfc5837.pcap", "-v"),
    ("icmp_inft_name_length_zero", "icmp_inft_name_length_zero.pcap", "-v"),
    ("hdlc3", "HDLC.pcap", ""),
    ("ipoib", "ipoib.pcap", ""),
    ("ipoib-e", "ipoib.pcap", "-e"),
    ("e1000g", "e1000g.pcap", ""),
    ("e1000g-e", "e1000g.pcap", "-e"),
    ("arcnet-rfc1051-arp-icmp-http-e", "arcnet-rfc1051-arp-icmp-http.pcap", "-e"),
    ("arcnet-rfc1201-arp-icmp-http-e", "arcnet-rfc1201-arp-icmp-http.pcap", "-e"),
    ("dsa", "dsa.pcap", ""),
    ("dsa-e", "dsa.pcap", "-e"),
    ("edsa", "edsa.pcap", ""),
    ("edsa-e", "edsa.pcap", "-e"),
    ("brcmtag", "brcm-tag.pcap", ""),
    ("brcmtag-e", "brcm-tag.pcap", "-e"),
    ("icmp-icmp_print-oobr-2", "icmp-icmp_print-oobr-2.pcap", "-v"),
)
RX_SNAP = 160  # bytes kept of each RX frame in afs-icmp.pcap


def trim_afs(src: Path, dst: Path) -> None:
    """afs-icmp.pcap: afs.pcap's ICMP frames whole, and its AFS/RX frames (UDP ports
    7000-7009) cut to RX_SNAP bytes; tcpdump decodes an RX reply an ICMP error quotes
    only after it saw the call, so the calls stay, in order."""
    with PcapWriter(str(dst)) as out:
        for cap in PcapReader(str(src)):
            data = cap.data  # Ethernet, untagged IPv4 throughout
            if data[12:14] != b"\x08\x00":
                continue
            udp = 14 + (data[14] & 15) * 4
            ports = struct.unpack_from("!HH", data, udp) if data[23] == 17 else ()
            if data[23] == 1:
                out.write(cap.ts_sec, cap.ts_usec, data, cap.length)
            elif any(7000 <= port <= 7009 for port in ports):
                out.write(cap.ts_sec, cap.ts_usec, data[:RX_SNAP], cap.length)


def copy_corpus(corpus: Path) -> None:
    """Copy the chosen third-party captures, their licences, and tcpdump's outputs."""
    td_dir = OUT / "tcpdump"
    td_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(corpus / "tcpdump" / "LICENSE-tcpdump", td_dir / "LICENSE")
    tcpdump = shutil.which("tcpdump")
    lines = ["test_name\tpcap\tout\toptions"]
    trim_afs(corpus / "tcpdump" / "afs.pcap", td_dir / "afs-icmp.pcap")
    for name, pcap, options in TCPDUMP_TESTS:
        if pcap != "afs-icmp.pcap":
            shutil.copy2(corpus / "tcpdump" / pcap, td_dir / pcap)
        lines.append(f"{name}\t{pcap}\t{name}.out\t{options}")
        if tcpdump is None:
            continue
        run = subprocess.run(
            [tcpdump, "-n", *options.split(), "-r", pcap], cwd=td_dir, capture_output=True,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}, check=False,
        )
        (td_dir / f"{name}.out").write_bytes(run.stdout)
    (td_dir / "TESTLIST.tsv").write_text("\n".join(lines) + "\n")
    other = corpus / "other"
    for project in ("zeek", "dpkt", "pcapy-ng"):
        dest = OUT / project
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(other / project, dest)
        shutil.copy2(other / f"LICENSE-{project}", dest / "LICENSE")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="also copy third-party captures from here")
    args = ap.parse_args(argv)
    for theme in THEMES:
        cap = theme()
        cap.write(OUT)
        print(f"captures/{cap.name}: {len(cap.records)} frames")
    from make_captures6 import all_captures  # the IPv6 fixtures

    for cap in all_captures():
        cap.write(OUT)
        print(f"captures/{cap.name}: {len(cap.records)} frames")
    if args.corpus:
        copy_corpus(args.corpus)
        print(f"third-party captures copied from {args.corpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
