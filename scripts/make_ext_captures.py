#!/usr/bin/env python3
"""Write ``captures/icmp-extensions.pcap``: ICMP errors carrying RFC 4884 extensions.

Run from the repository root (rerunnable, byte-for-byte deterministic)::

    python scripts/make_ext_captures.py

What the lab cannot make (Linux routers send no MPLS labels or interface objects, and the
kernel has no MPLS here): Time Exceeded, Destination Unreachable and Parameter Problem
messages as a traceroute sees them from MPLS and RFC 5837 routers, RFC 4884-compliant
(length field set, quote padded to 128 bytes) and older (length 0, structure at 128),
with one or more MPLS label stack entries, Interface Information objects in each role
and with each part, unknown objects and c-types, a wrong extension checksum (both with
the length field set and without), a zero checksum, version 1, an object longer than the
structure, and a frame cut inside the extension.  Each quotes a probe pcapping sends
(UDP 60 bytes, ICMP echo, TCP SYN; whole, as Linux quotes, or header and 8 bytes).

Frames are built with pcapping's own encoders (``ProbeBuilder``, ``ICMPError.build``,
``ICMPExtension``, ``mpls_object``, ``InterfaceInfo``) and patched as raw bytes only
where the point is damage.  ``tests/test_tcpdump_format.py`` holds ``sniff`` on this file
to tcpdump 4.99.3 byte for byte (``-n``, ``-nv``, ``-ne``, ``-nev``, ``-nX``);
``tests/test_trace_ext_captures.py`` checks what ``trace`` reads from each frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcapping.io.pcapfile import PcapWriter  # noqa: E402
from pcapping.probe.flows import ProbeBuilder  # noqa: E402
from pcapping.wire.checksum import internet_checksum  # noqa: E402
from pcapping.wire.ethernet import EthernetHeader  # noqa: E402
from pcapping.wire.ext import (  # noqa: E402
    ExtObject,
    ICMPExtension,
    InterfaceInfo,
    MplsEntry,
    mpls_object,
)
from pcapping.wire.icmp import ICMPError  # noqa: E402
from pcapping.wire.ipv4 import IPv4Header, ip_bytes  # noqa: E402

OUT = ROOT / "captures" / "icmp-extensions.pcap"
T0 = 1763800000  # 2025-11-22 08:26:40 UTC, as the other fixtures
CLIENT_MAC = bytes.fromhex("020000000102")
ROUTER_MAC = bytes.fromhex("020000000101")
CLIENT = ip_bytes("10.77.1.2")
TARGET = ip_bytes("10.77.27.2")
ROUTERS = [ip_bytes(f"10.77.{n}.1") for n in range(30, 50)]

# (what the frame shows, for captures/README.md and the tests)
DESCRIPTIONS: list[str] = []


def probe(method: str, tag: int, ttl: int) -> bytes:
    b = ProbeBuilder(method, CLIENT, TARGET, sport=40000, nonce=b"PCAP", ident=0x1234)
    return b.build(tag, ttl).datagram


def quoted_as_received(datagram: bytes) -> bytes:
    """The probe as the router that expired it quotes it: TTL 1, checksum fixed."""
    q = bytearray(datagram)
    q[8] = 1
    q[10:12] = b"\0\0"
    q[10:12] = internet_checksum(bytes(q[:20])).to_bytes(2, "big")
    return bytes(q)


def error_frame(router: bytes, itype: int, code: int, quote: bytes, ext: bytes | None,
                *, compliant: bool = True, rest: bytes = b"\0\0\0\0",
                patch: object = None) -> bytes:
    msg = ICMPError.build(itype, code, quote, rest=rest, extension=ext, compliant=compliant)
    icmp = bytearray(msg.encode())
    if patch is not None:
        patch(icmp)  # type: ignore[operator]
        icmp[2:4] = b"\0\0"
        icmp[2:4] = internet_checksum(bytes(icmp)).to_bytes(2, "big")
    ip = IPv4Header(router, CLIENT, 1, ttl=250, ident=0x3000 + len(DESCRIPTIONS),
                    tos=0xC0).encode(bytes(icmp))
    return EthernetHeader(CLIENT_MAC, ROUTER_MAC, 0x0800).encode() + ip


def mpls(*labels: tuple[int, int, int]) -> ExtObject:
    """An RFC 4950 object: (label, tc, ttl) per entry, bottom of stack on the last."""
    return mpls_object([MplsEntry(lab, tc, i == len(labels) - 1, ttl)
                        for i, (lab, tc, ttl) in enumerate(labels)])


def ext(*objects: ExtObject) -> bytes:
    return ICMPExtension(tuple(objects)).encode()


def frames() -> list[tuple[bytes, int | None]]:
    """(frame, caplen or None) in file order."""
    out: list[tuple[bytes, int | None]] = []

    def add(text: str, frame: bytes, caplen: int | None = None) -> None:
        DESCRIPTIONS.append(text)
        out.append((frame, caplen))

    udp = [quoted_as_received(probe("udp", 100 + i, 5 + i)) for i in range(20)]
    r = ROUTERS
    add("time exceeded, RFC 4884, one MPLS label (16, tc 0, S, ttl 1), whole UDP probe",
        error_frame(r[0], 11, 0, udp[0], ext(mpls((16, 0, 1)))))
    add("time exceeded, RFC 4884, a three-label stack (24001/tc 5/ttl 254, 16004, 3)",
        error_frame(r[1], 11, 0, udp[1], ext(mpls((24001, 5, 254), (16004, 0, 253),
                                                  (3, 0, 1)))))
    add("time exceeded from a router older than RFC 4884: length 0, structure at 128, "
        "quote of header and 8 bytes padded",
        error_frame(r[2], 11, 0, udp[2][:28], ext(mpls((299776, 0, 1))), compliant=False))
    add("time exceeded, RFC 5837 incoming interface: ifIndex 15, IPv4 address, name, MTU",
        error_frame(r[3], 11, 0, udp[3], ext(InterfaceInfo(
            0, ifindex=15, address=ip_bytes("10.77.33.1"), name="ge-0/0/1.0",
            mtu=1500).to_object())))
    add("time exceeded, RFC 5837 incoming (ifIndex, name) and outgoing (IPv6 address, MTU) "
        "interfaces after an MPLS label",
        error_frame(r[4], 11, 0, udp[4], ext(
            mpls((18, 1, 1)),
            InterfaceInfo(0, ifindex=7, name="xe-1/2/0").to_object(),
            InterfaceInfo(2, address=bytes.fromhex("fd00" + "00" * 13 + "21"),
                          mtu=9000).to_object())))
    add("time exceeded, RFC 5837 next hop (address only) and sub-IP (MTU only)",
        error_frame(r[5], 11, 0, udp[5], ext(
            InterfaceInfo(3, address=ip_bytes("10.77.36.2")).to_object(),
            InterfaceInfo(1, mtu=1492).to_object())))
    add("port unreachable from the destination with an MPLS label (an MPLS VPN egress)",
        error_frame(TARGET, 3, 3, udp[6], ext(mpls((17, 0, 1)))))
    add("frag needed (mtu 1400) with an MPLS label",
        error_frame(r[6], 3, 4, udp[7], ext(mpls((19, 0, 1))),
                    rest=b"\0\0" + (1400).to_bytes(2, "big")))
    add("parameter problem (pointer 0) with an MPLS label",
        error_frame(r[7], 12, 0, udp[8], ext(mpls((20, 0, 1))), rest=b"\0\0\0\0"))
    add("time exceeded with an unknown object (class 9, c-type 3, 8 bytes)",
        error_frame(r[8], 11, 0, udp[9], ext(ExtObject(9, 3, bytes.fromhex("deadbeef01020304")))))
    add("time exceeded with an MPLS-class object of unknown c-type 2",
        error_frame(r[9], 11, 0, udp[10], ext(ExtObject(1, 2, bytes.fromhex("00010101")))))

    def spoil_checksum(icmp: bytearray) -> None:
        icmp[8 + 128 + 2] ^= 0x5A

    add("time exceeded, RFC 4884 length set, extension checksum wrong",
        error_frame(r[10], 11, 0, udp[11], ext(mpls((21, 0, 1))), patch=spoil_checksum))
    add("time exceeded, length 0, extension checksum wrong (not taken for an extension)",
        error_frame(r[11], 11, 0, udp[12][:28], ext(mpls((22, 0, 1))), compliant=False,
                    patch=spoil_checksum))

    def zero_checksum(icmp: bytearray) -> None:
        icmp[8 + 128 + 2:8 + 128 + 4] = b"\0\0"

    add("time exceeded, RFC 4884 length set, extension checksum 0",
        error_frame(r[12], 11, 0, udp[13], ext(mpls((23, 0, 1))), patch=zero_checksum))

    def version1(icmp: bytearray) -> None:
        icmp[8 + 128] = 0x10

    add("time exceeded, RFC 4884 length set, extension version 1",
        error_frame(r[13], 11, 0, udp[14], ext(mpls((24, 0, 1))), patch=version1))

    def overlong(icmp: bytearray) -> None:
        icmp[8 + 128 + 4:8 + 128 + 6] = (40).to_bytes(2, "big")

    add("time exceeded whose MPLS object claims 40 bytes in an 12-byte structure",
        error_frame(r[14], 11, 0, udp[15], ext(mpls((25, 0, 1))), patch=overlong))
    icmp_probe = quoted_as_received(probe("icmp", 200, 3))
    add("time exceeded quoting an ICMP echo probe, with an MPLS label",
        error_frame(r[15], 11, 0, icmp_probe, ext(mpls((26, 0, 1)))))
    tcp_probe = quoted_as_received(probe("tcp", 300, 3))
    add("time exceeded quoting a TCP SYN probe, with two MPLS labels",
        error_frame(r[16], 11, 0, tcp_probe, ext(mpls((27, 0, 2), (28, 0, 1)))))
    frame = error_frame(r[17], 11, 0, udp[16], ext(mpls((29, 0, 1)),
                                                 InterfaceInfo(0, ifindex=3).to_object()))
    add("the same kind of frame, captured to 14+20+8+128+10 bytes: cut inside the extension",
        frame, 14 + 20 + 8 + 128 + 10)
    return out


def readme_table() -> str:
    rows = [f"| {i + 1} | {text} |" for i, text in enumerate(DESCRIPTIONS)]
    return "\n".join(["| frame | what it holds |", "|---|---|", *rows])


def main() -> int:
    items = frames()
    with PcapWriter(str(OUT), linktype=1, snaplen=262144) as w:
        for i, (frame, caplen) in enumerate(items):
            data = frame if caplen is None else frame[:caplen]
            w.write(T0 + i // 100, (i % 100) * 10000, data, length=len(frame))
    print(f"{OUT.relative_to(ROOT)}: {len(items)} frames")
    if "--readme" in sys.argv:
        print(readme_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
