#!/usr/bin/env python3
"""Throw mutated frames at every decode path and count what breaks.

For every supported link type, and for every tunnel and encapsulation (VXLAN, OTV, Geneve,
MPLS over UDP, the Broadcom LI shim, GRE with IPv4, Ethernet, ERSPAN II/III and PPTP, IP in
IP, PIM register, MPLS, PPPoE, MACsec, LLC/SNAP, 802.1Q), IPv4 datagrams from captures/
(IPv6 ones too, as EtherType 0x86dd, SLL protocol, NULL/LOOP families 24/28/30/10, raw by
version nibble) are framed that way and mutated (bit flips, byte overwrites, cuts,
insertions, random bytes), and whole frames of every capture are mutated on their own link
type; each goes to ``decode_frame``, ``Decoded.to_dict`` (through ``json.dumps``), the
tcpdump formatter (flag sets from plain to -vv -e -X, -x, -A, -#, -ttt) and the ``tally``
fast path, which must agree with ``Tally.add(decode_frame(...))``.

    python scripts/fuzz_decode.py --frames 300000 --seed 1
    python scripts/fuzz_decode.py --frames 20000 --only vxlan,gre,ppp

Prints one line per framing and exits 1 if anything raised or disagreed.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcapping.decode import Tally, decode_frame, tally  # noqa: E402
from pcapping.io.pcapfile import PcapReader  # noqa: E402

MACS = bytes.fromhex("020000000002020000000001")


def _eth(etype: int, payload: bytes) -> bytes:
    return MACS + struct.pack("!H", etype) + payload


def _v6(ip: bytes) -> bool:
    return bool(ip) and ip[0] >> 4 == 6


def _et(ip: bytes) -> bytes:
    """The EtherType bytes of a datagram, by its version nibble."""
    return b"\x86\xdd" if _v6(ip) else b"\x08\x00"


def _eip(ip: bytes) -> bytes:
    """An Ethernet frame carrying the datagram (IPv4 or IPv6)."""
    return MACS + _et(ip) + ip


_FAMILY6 = (24, 28, 30, 10)


def _ip(proto: int, payload: bytes) -> bytes:
    """An outer IPv4 header (right checksum) carrying ``payload``."""
    from pcapping.wire.ipv4 import IPv4Header

    return IPv4Header(b"\xc0\x00\x02\x01", b"\xc0\x00\x02\x02", proto).encode(payload)


def _udp(dport: int, payload: bytes, sport: int = 40000) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


# name -> (link type, framing of an IPv4 datagram)
FRAMINGS = {
    "ethernet": (1, _eip),
    "sll": (113, lambda ip: bytes.fromhex("0000000100060200000000010000") + _et(ip) + ip),
    "sll2": (276, lambda ip: _et(ip) + b"\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06" + bytes(8)
             + ip),
    "raw": (101, lambda ip: ip),
    "ipv4": (228, lambda ip: ip),
    "ipv6": (229, lambda ip: ip),
    "raw12": (12, lambda ip: ip),
    "null": (0, lambda ip: (bytes([_FAMILY6[len(ip) % 4]]) if _v6(ip) else b"\x02")
             + b"\x00\x00\x00" + ip),
    "loop": (108, lambda ip: b"\x00\x00\x00" + (bytes([_FAMILY6[len(ip) % 3]]) if _v6(ip)
                                                else b"\x02") + ip),
    # link types decoded by pcapping.decap
    "ppp": (9, lambda ip: b"\xff\x03\x00\x21" + ip),
    "ppp-pfc": (9, lambda ip: b"\x21" + ip),
    "pppd": (166, lambda ip: b"\x01\x03\x00\x21" + ip),
    "ppp-serial": (50, lambda ip: b"\xff\x03\x00\x21" + ip),
    "ppp-ether": (51, lambda ip: struct.pack("!BBHH", 0x11, 0, 1, len(ip) + 2) + b"\x00\x21"
                  + ip),
    "chdlc": (104, lambda ip: b"\x0f\x00\x08\x00" + ip),
    "fr": (107, lambda ip: b"\x18\x41\x03\xcc" + ip),
    "fr-cisco": (107, lambda ip: b"\x18\x41\x08\x00" + ip),
    "ipoib": (242, lambda ip: bytes(40) + b"\x08\x00\x00\x00" + ip),
    "ipnet": (226, lambda ip: struct.pack("!BBHIIIII", 1, 2, 0, len(ip), 2, 0, 0, 0) + ip),
    "arcnet": (7, lambda ip: b"\xbe\x50\xd4\x00\x01\x02" + ip),
    "arcnet-linux": (129, lambda ip: b"\xbe\x50\x00\x00\xd4\x00\x01\x02" + ip),
    "dsa": (284, lambda ip: MACS + b"\xc0\x0a\x00\x00\x08\x00" + ip),
    "edsa": (285, lambda ip: MACS + b"\xda\xda\x00\x00\xc0\x00\x00\x00\x08\x00" + ip),
    "brcm": (281, lambda ip: MACS + b"\x00\x00\x00\x00\x08\x00" + ip),
    # tunnels and encapsulations, over Ethernet
    "vxlan": (1, lambda ip: _eth(0x0800, _ip(17, _udp(4789, bytes.fromhex("0800000000006400")
                                                      + _eip(ip))))),
    "otv": (1, lambda ip: _eth(0x0800, _ip(17, _udp(8472, bytes.fromhex("0800000000002a00")
                                                    + _eip(ip))))),
    "geneve": (1, lambda ip: _eth(0x0800, _ip(17, _udp(6081, bytes.fromhex(
        "0240655800000a00010380010000002a") + _eip(ip))))),
    "geneve-ip": (1, lambda ip: _eth(0x0800, _ip(17, _udp(6081, bytes.fromhex(
        "0000080000000b00") + ip)))),
    "mpls-udp": (1, lambda ip: _eth(0x0800, _ip(17, _udp(6635, b"\x00\x01\x51\x3f" + ip)))),
    "bcm-li": (1, lambda ip: _eth(0x0800, _ip(17, _udp(49153, b"\x6a\x81\x04\x6a" + ip,
                                                       sport=49152)))),
    "gre": (1, lambda ip: _eth(0x0800, _ip(47, b"\x30\x00\x08\x00" + bytes(8) + ip))),
    "gre-teb": (1, lambda ip: _eth(0x0800, _ip(47, b"\x00\x00\x65\x58" + _eip(ip)))),
    "erspan2": (1, lambda ip: _eth(0x0800, _ip(47, b"\x10\x00\x88\xbe" + bytes(4)
                                               + bytes.fromhex("100a006400000005")
                                               + _eip(ip)))),
    "erspan3": (1, lambda ip: _eth(0x0800, _ip(47, b"\x00\x00\x22\xeb"
                                               + bytes.fromhex("201400c8010203040000000700")
                                               [:12] + _eip(ip)))),
    "pptp": (1, lambda ip: _eth(0x0800, _ip(47, b"\x30\x81\x88\x0b" + bytes(12)
                                            + b"\xff\x03\x00\x21" + ip))),
    "ipip": (1, lambda ip: _eth(0x0800, _ip(4, ip))),
    "pim": (1, lambda ip: _eth(0x0800, _ip(103, b"\x21\x00\x00\x00" + bytes(4) + ip))),
    "mpls": (1, lambda ip: _eth(0x8847, b"\x00\x01\x0a\x40\x00\x01\x11\x3f" + ip)),
    "pppoe": (1, lambda ip: _eth(0x8864, struct.pack("!BBHH", 0x11, 0, 0x1c, len(ip) + 2)
                                 + b"\x00\x21" + ip)),
    "macsec": (1, lambda ip: _eth(0x88E5, bytes.fromhex("2000000000442eb73f3995c30001")
                                  + b"\x08\x00" + ip + bytes(16))),
    "snap": (1, lambda ip: MACS + struct.pack("!H", min(len(ip) + 8, 1500))
             + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip),
    "qinq": (1, lambda ip: _eth(0x88A8, b"\x00\xc8\x81\x00\x00\x0a\x08\x00" + ip)),
}


def seeds() -> tuple[list[bytes], list[tuple[bytes, int]]]:
    """IPv4 and IPv6 datagrams taken from every capture we ship (the innermost ones), and
    every frame of every capture with its link type."""
    datagrams, frames = [], []
    for path in sorted((ROOT / "captures").rglob("*.pcap*")):
        try:
            for rec in PcapReader(str(path)):
                if len(rec.data) > 4000:
                    continue
                frames.append((rec.data, rec.linktype))
                d = decode_frame(rec.data, rec.linktype)
                if d.ethertype == 0x0800 and d.ip is not None:
                    end = d.l3_offset + d.ip.total_length
                    datagrams.append(d.data[d.l3_offset: max(end, d.l3_offset + 20)])
                elif d.ethertype == 0x86DD and d.ip6 is not None:
                    end = d.l3_offset + 40 + d.ip6.payload_length
                    datagrams.append(d.data[d.l3_offset: max(end, d.l3_offset + 40)])
        except Exception:  # noqa: BLE001 - a damaged fixture is still a fine seed source
            continue
    return datagrams, frames


def mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if not b:
            b = bytearray(rng.randbytes(rng.randint(0, 40)))
        elif kind < 0.35:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif kind < 0.6:
            b[rng.randrange(len(b))] = rng.choice((0, 0xFF, rng.randrange(256)))
        elif kind < 0.8:
            del b[rng.randrange(len(b) + 1) :]
        elif kind < 0.9:
            i = rng.randrange(len(b) + 1)
            b[i:i] = rng.randbytes(rng.randint(1, 8))
        else:
            b = bytearray(rng.randbytes(rng.randint(0, 120)))
    return bytes(b)


def check(data: bytes, linktype: int, i: int, formatters: list) -> None:  # noqa: ANN001
    d = decode_frame(data, linktype, frame=i + 1)
    json.dumps(d.to_dict())
    for f in formatters[i % len(formatters): i % len(formatters) + 1] if formatters else ():
        f.format(d)
    ref, fast = Tally(), Tally()
    ref.add(d)
    tally(fast, data, linktype)
    if ref.as_tuple() != fast.as_tuple():
        raise AssertionError(f"tally {fast.as_tuple()} != {ref.as_tuple()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="per framing")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-format", action="store_true", help="skip the text formatter")
    parser.add_argument("--only", default="", help="comma-separated framings (and 'native')")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    datagrams, frames = seeds()
    formatters = []
    if not args.no_format:
        from pcapping.tcpdump.formatter import TcpdumpFormatter

        formatters = [TcpdumpFormatter(verbose=v, link=e, hexdump=x, xdump=xx, ascii=a,
                                       number=n, tflag=t)
                      for v, e, x, xx, a, n, t in (
                          (0, False, 0, 0, 0, False, 0), (1, False, 0, 0, 0, False, 0),
                          (1, True, 0, 0, 0, False, 0), (2, True, 1, 0, 0, False, 0),
                          (0, False, 0, 2, 0, True, 0), (1, False, 0, 0, 1, False, 3),
                          (0, True, 2, 0, 0, False, 5), (3, True, 0, 1, 2, True, 2))]
    only = {x for x in args.only.split(",") if x}
    jobs = [(name, lt, frame) for name, (lt, frame) in FRAMINGS.items()
            if not only or name in only]
    failures = 0
    for name, linktype, frame_it in [*jobs, ("native", None, None)]:
        if only and name not in only:
            continue
        start = time.perf_counter()
        for i in range(args.frames):
            if frame_it is None:  # whole fixture frames, on their own link type
                raw, lt = rng.choice(frames)
                data = mutate(rng, raw)
            else:
                lt = linktype
                data = mutate(rng, frame_it(rng.choice(datagrams)))
            try:
                check(data, lt, i, formatters)
            except Exception:  # noqa: BLE001 - counting is the point
                failures += 1
                if failures <= 5:
                    print(f"{name} linktype {lt} frame {data.hex()}", file=sys.stderr)
                    traceback.print_exc()
        took = time.perf_counter() - start
        print(f"{name:>13}: {args.frames} mutated frames, {took:.1f} s")
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
