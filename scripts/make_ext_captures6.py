#!/usr/bin/env python3
"""Write ``captures/icmp6-extensions.pcap``: ICMPv6 errors carrying RFC 4884 extensions.

Run from the repository root (rerunnable, byte-for-byte deterministic)::

    python scripts/make_ext_captures6.py [--readme]

What the lab cannot make (Linux routers send no MPLS labels or interface objects, and the
kernel has no MPLS here), for IPv6: Time Exceeded and Destination Unreachable messages
(the two ICMPv6 types RFC 4884 extends; its length field is the first byte after the
checksum, in 64-bit words) as ``trace -6`` sees them from MPLS (RFC 4950) and RFC 5837
routers: compliant (length set, the quote padded to 128 bytes) and older (length 0, the
structure at 128), one and several MPLS label stack entries, Interface Information
objects with IPv6 and IPv4 addresses, names and MTUs in each role, unknown objects and
c-types, a wrong and a zero extension checksum, version 1, an object longer than the
structure, a length field pointing past the message, a Packet Too Big and a Parameter
Problem with bytes after the quote (no extension: RFC 4884 does not extend them), and a
frame cut inside the extension.  Each quotes a probe of ``trace -6`` (``ProbeBuilder``:
UDP 80 bytes, ICMPv6 echo, TCP SYN; source port 40000, nonce ``PCAP``, identifier
0x1234, flow label 0x12345) from the client fd00:10:77:1::2 to fd00:10:77:27::2, as the
router that expired it quotes it (hop limit 1); the routers are fd00:10:77:30::1 up.

Frames are built with pcapping's own encoders (``ProbeBuilder``, ``ICMP6Error.build``,
``ICMPExtension``, ``mpls_object``, ``InterfaceInfo``) and patched as raw bytes only
where the point is damage (the ICMPv6 checksum is then recomputed, so only the
extension's own verdict is wrong).  ``tests/test_tcpdump_format.py`` holds ``sniff`` on
this file to tcpdump 4.99.3 byte for byte (every flag set); ``tests/test_trace6_ext_
captures.py`` checks what ``trace -6`` reads from each frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcapping.io.pcapfile import PcapWriter  # noqa: E402
from pcapping.probe.flows import ProbeBuilder  # noqa: E402
from pcapping.wire.ethernet import EthernetHeader  # noqa: E402
from pcapping.wire.ext import (  # noqa: E402
    ExtObject,
    ICMPExtension,
    InterfaceInfo,
    MplsEntry,
    mpls_object,
)
from pcapping.wire.icmp6 import ICMP6Error, icmp6_checksum  # noqa: E402
from pcapping.wire.ipv6 import IPv6Header, ip6_bytes  # noqa: E402

OUT = ROOT / "captures" / "icmp6-extensions.pcap"
T0 = 1763800000  # 2025-11-22 08:26:40 UTC, as the other fixtures
CLIENT_MAC = bytes.fromhex("020000000102")
ROUTER_MAC = bytes.fromhex("020000000101")
CLIENT = ip6_bytes("fd00:10:77:1::2")
TARGET = ip6_bytes("fd00:10:77:27::2")
ROUTERS = [ip6_bytes(f"fd00:10:77:{n}::1") for n in range(30, 50)]
FLOW_LABEL = 0x12345

DESCRIPTIONS: list[str] = []


def probe(method: str, tag: int, hop_limit: int) -> bytes:
    b = ProbeBuilder(method, CLIENT, TARGET, sport=40000, nonce=b"PCAP", ident=0x1234,
                     flow_label=FLOW_LABEL)
    return b.build(tag, hop_limit).datagram


def quoted_as_received(datagram: bytes) -> bytes:
    """The probe as the router that expired it quotes it: hop limit 1."""
    q = bytearray(datagram)
    q[7] = 1
    return bytes(q)


def error_frame(router: bytes, itype: int, code: int, quote: bytes,
                extension: ICMPExtension | None, *, compliant: bool = True,
                mtu: int | None = None, pointer: int | None = None, patch: object = None,
                tail: bytes = b"") -> bytes:
    msg = ICMP6Error.build(itype, code, quote, mtu=mtu, pointer=pointer, extension=extension)
    if extension is not None and not compliant:  # the structure at 128, length field 0
        msg = msg._replace(rest=b"\0" + msg.rest[1:])
    if tail:
        msg = msg._replace(payload=msg.payload + tail)
    icmp = bytearray(msg.encode(router, CLIENT))
    if patch is not None:
        patch(icmp)  # type: ignore[operator]
        icmp[2:4] = b"\0\0"
        icmp[2:4] = icmp6_checksum(router, CLIENT, bytes(icmp)).to_bytes(2, "big")
    ip = IPv6Header(router, CLIENT, 58, hop_limit=250 - len(DESCRIPTIONS),
                    traffic_class=0xC0).encode(bytes(icmp))
    return EthernetHeader(CLIENT_MAC, ROUTER_MAC, 0x86DD).encode() + ip


def mpls(*labels: tuple[int, int, int]) -> ExtObject:
    """An RFC 4950 object: (label, tc, ttl) per entry, bottom of stack on the last."""
    return mpls_object([MplsEntry(lab, tc, i == len(labels) - 1, ttl)
                        for i, (lab, tc, ttl) in enumerate(labels)])


def ext(*objects: ExtObject) -> ICMPExtension:
    return ICMPExtension(tuple(objects))


AT = 8 + 128  # where the structure starts in the ICMPv6 message (after a 128-byte quote)


def frames() -> list[tuple[bytes, int | None]]:
    """(frame, caplen or None) in file order."""
    out: list[tuple[bytes, int | None]] = []

    def add(text: str, frame: bytes, caplen: int | None = None) -> None:
        DESCRIPTIONS.append(text)
        out.append((frame, caplen))

    udp = [quoted_as_received(probe("udp", 100 + i, 5 + i)) for i in range(20)]
    r = ROUTERS
    add("time exceeded, RFC 4884, one MPLS label (16, tc 0, S, ttl 1), whole UDP probe",
        error_frame(r[0], 3, 0, udp[0], ext(mpls((16, 0, 1)))))
    add("time exceeded, RFC 4884, a three-label stack (24001/tc 5/ttl 254, 16004, 3)",
        error_frame(r[1], 3, 0, udp[1], ext(mpls((24001, 5, 254), (16004, 0, 253),
                                                 (3, 0, 1)))))
    add("time exceeded from a router older than RFC 4884: length 0, structure at 128, "
        "quote of the header and 8 bytes padded",
        error_frame(r[2], 3, 0, udp[2][:48], ext(mpls((299776, 0, 1))), compliant=False))
    add("time exceeded, RFC 5837 incoming interface: ifIndex 15, IPv6 address, name, MTU",
        error_frame(r[3], 3, 0, udp[3], ext(InterfaceInfo(
            0, ifindex=15, address=ip6_bytes("fd00:10:77:33::1"), name="ge-0/0/1.0",
            mtu=1500).to_object())))
    add("time exceeded, RFC 5837 incoming (ifIndex, name) and outgoing (IPv4 address, "
        "MTU) interfaces after an MPLS label",
        error_frame(r[4], 3, 0, udp[4], ext(
            mpls((18, 1, 1)),
            InterfaceInfo(0, ifindex=7, name="xe-1/2/0").to_object(),
            InterfaceInfo(2, address=bytes([10, 77, 35, 1]), mtu=9000).to_object())))
    add("time exceeded, RFC 5837 next hop (IPv6 address only) and sub-IP (MTU only)",
        error_frame(r[5], 3, 0, udp[5], ext(
            InterfaceInfo(3, address=ip6_bytes("fd00:10:77:36::2")).to_object(),
            InterfaceInfo(1, mtu=1492).to_object())))
    add("port unreachable (1/4) from the destination with an MPLS label",
        error_frame(TARGET, 1, 4, udp[6], ext(mpls((17, 0, 1)))))
    add("address unreachable (1/3) with an MPLS label",
        error_frame(r[6], 1, 3, udp[7], ext(mpls((19, 0, 1)))))
    add("time exceeded with an unknown object (class 9, c-type 3, 8 bytes)",
        error_frame(r[7], 3, 0, udp[8], ext(ExtObject(9, 3, bytes.fromhex("deadbeef01020304")))))
    add("time exceeded with an MPLS-class object of unknown c-type 2",
        error_frame(r[8], 3, 0, udp[9], ext(ExtObject(1, 2, bytes.fromhex("00010101")))))

    def spoil_checksum(icmp: bytearray) -> None:
        icmp[AT + 2] ^= 0x5A

    add("time exceeded, RFC 4884 length set, extension checksum wrong",
        error_frame(r[9], 3, 0, udp[10], ext(mpls((21, 0, 1))), patch=spoil_checksum))
    add("time exceeded, length 0, extension checksum wrong (not taken for an extension)",
        error_frame(r[10], 3, 0, udp[11][:48], ext(mpls((22, 0, 1))), compliant=False,
                    patch=spoil_checksum))

    def zero_checksum(icmp: bytearray) -> None:
        icmp[AT + 2:AT + 4] = b"\0\0"

    add("time exceeded, RFC 4884 length set, extension checksum 0",
        error_frame(r[11], 3, 0, udp[12], ext(mpls((23, 0, 1))), patch=zero_checksum))

    def version1(icmp: bytearray) -> None:
        icmp[AT] = 0x10

    add("time exceeded, RFC 4884 length set, extension version 1",
        error_frame(r[12], 3, 0, udp[13], ext(mpls((24, 0, 1))), patch=version1))

    def overlong(icmp: bytearray) -> None:
        icmp[AT + 4:AT + 6] = (40).to_bytes(2, "big")

    add("time exceeded whose MPLS object claims 40 bytes in a 12-byte structure",
        error_frame(r[13], 3, 0, udp[14], ext(mpls((25, 0, 1))), patch=overlong))

    def too_long(icmp: bytearray) -> None:
        icmp[4] = 40  # 320 bytes of quote: past the message

    add("time exceeded whose length field (40 words) points past the message",
        error_frame(r[14], 3, 0, udp[15], ext(mpls((26, 0, 1))), patch=too_long))
    icmp_probe = quoted_as_received(probe("icmp", 200, 3))
    add("time exceeded quoting an ICMPv6 echo probe, with an MPLS label",
        error_frame(r[15], 3, 0, icmp_probe, ext(mpls((27, 0, 1)))))
    tcp_probe = quoted_as_received(probe("tcp", 300, 3))
    add("time exceeded quoting a TCP SYN probe, with two MPLS labels",
        error_frame(r[16], 3, 0, tcp_probe, ext(mpls((28, 0, 2), (29, 0, 1)))))
    add("packet too big (mtu 1280) quoting a probe, with zeros and a structure after it "
        "(no extension: RFC 4884 does not extend type 2)",
        error_frame(r[17], 2, 0, udp[16], None, mtu=1280,
                    tail=bytes(48) + ext(mpls((30, 0, 1))).encode()))
    add("parameter problem (4/0, pointer 6) quoting a probe, nothing after it",
        error_frame(r[18], 4, 0, udp[17], None, pointer=6))
    frame = error_frame(r[19], 3, 0, udp[18], ext(mpls((31, 0, 1)),
                                                  InterfaceInfo(0, ifindex=3).to_object()))
    add("the same kind of frame, captured to 14+40+8+128+10 bytes: cut inside the extension",
        frame, 14 + 40 + 8 + 128 + 10)
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
