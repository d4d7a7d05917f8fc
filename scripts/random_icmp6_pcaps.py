#!/usr/bin/env python3
"""Write randomised IPv6/ICMPv6 frames to pcap files, for compare_tcpdump.py.

    scripts/random_icmp6_pcaps.py OUTDIR [--seed N] [--count N]
    scripts/compare_tcpdump.py OUTDIR/*.pcap --flags=-nv

Every ICMPv6 type 0-255 with random codes and bodies; errors quoting datagrams with
and without extension headers (UDP, TCP, ICMPv6, cut quotes); NDP messages with
random option lists (every known option type, unknown ones, zero and overlong
lengths, DNSSL names with pointers); MLD v1/v2 with random records; node
information, router renumbering and RPL bodies; extension chains (hop-by-hop with
every option tcpdump knows, destination options, routing types 0/2/4/other,
fragments, AH, ESP, no next header) in random order; addresses with zero runs of
every length (the ``::`` placement), IPv4-mapped and -compatible ones; flow labels and
traffic classes; bad checksums; payload length against caplen and wire length; cuts at
every layer; VLAN tags, SLL/SLL2, raw, NULL/LOOP.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcapping.io.pcapfile import PcapWriter  # noqa: E402
from pcapping.wire.ipv6 import upper_checksum  # noqa: E402


def addr(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return b"\xfe\x80" + bytes(6) + rng.randbytes(8)
    if kind < 0.25:
        return bytes(10) + b"\xff\xff" + rng.randbytes(4)
    if kind < 0.3:
        return bytes(12) + rng.randbytes(4)
    if kind < 0.35:
        return b"\xff\x02" + bytes(9) + b"\x01\xff" + rng.randbytes(3)
    words = [rng.choice((0, 0, 0, 1, 0xFFFF, rng.randrange(65536))) for _ in range(8)]
    return struct.pack("!8H", *words)


def icmp6(rng: random.Random, src: bytes, dst: bytes, t: int, c: int, body: bytes,
          bad: bool = False) -> bytes:
    msg = bytes([t, c, 0, 0]) + body
    s = upper_checksum(src, dst, 58, msg)
    if bad:
        s ^= rng.randrange(1, 65536)
    return msg[:2] + struct.pack("!H", s) + msg[4:]


def options(rng: random.Random) -> bytes:
    out = b""
    for _ in range(rng.randrange(0, 5)):
        t = rng.choice((1, 2, 3, 4, 5, 7, 8, 14, 24, 25, 31, rng.randrange(256)))
        if t in (1, 2):
            data = rng.randbytes(6 + 8 * rng.randrange(0, 2))
        elif t == 3:
            data = struct.pack("!BBII", rng.randrange(129), rng.randrange(256),
                               rng.choice((0xFFFFFFFF, rng.randrange(2**32))),
                               rng.choice((0xFFFFFFFF, rng.randrange(2**32)))) + bytes(4) + (
                addr(rng))
        elif t == 31:
            names = b""
            for _ in range(rng.randrange(0, 3)):
                for _ in range(rng.randrange(1, 3)):
                    label = bytes(rng.choice(b"abcxyz09-") for _ in range(rng.randrange(1, 8)))
                    names += bytes([len(label)]) + label
                names += b"\0" if rng.random() < 0.9 else b"\xc0\x02"
            data = b"\0\0" + struct.pack("!I", rng.randrange(2**32)) + names
        elif t == 25:
            data = b"\0\0" + struct.pack("!I", rng.randrange(2**32)) + b"".join(
                addr(rng) for _ in range(rng.randrange(0, 3)))
        elif t == 24:
            data = struct.pack("!BBI", rng.randrange(129), rng.randrange(256),
                               rng.randrange(2**32)) + rng.randbytes(rng.choice((0, 8, 16, 4)))
        else:
            data = rng.randbytes(rng.choice((6, 14, 22, rng.randrange(0, 30))))
        size = 2 + len(data)
        pad = -size % 8
        units = (size + pad) // 8
        if rng.random() < 0.05:
            units = rng.choice((0, units + 1, 255))
        out += bytes([t, units]) + data + bytes(pad)
    return out


def body_for(rng: random.Random, t: int) -> bytes:
    if t in (1, 2, 3, 4):
        return rng.randbytes(4) + quoted(rng)
    if t in (128, 129):
        return rng.randbytes(4) + rng.randbytes(rng.randrange(0, 64))
    if t == 133:
        return bytes(4) + options(rng)
    if t == 134:
        return rng.randbytes(12) + options(rng)
    if t in (135, 136):
        return rng.randbytes(4) + addr(rng) + options(rng)
    if t == 137:
        return bytes(4) + addr(rng) + addr(rng) + options(rng)
    if t in (130, 131, 132):
        n = rng.choice((20, 20, 24, 24 + 16 * rng.randrange(0, 3), rng.randrange(0, 40)))
        b = rng.randbytes(4) + addr(rng) + rng.randbytes(max(0, n - 20))
        if n >= 24:
            b = b[:22] + struct.pack("!H", rng.choice(((n - 24) // 16, rng.randrange(5)))) + b[24:]
        return b[:n]
    if t == 143:
        recs = b""
        count = rng.randrange(0, 4)
        for _ in range(count):
            ns = rng.randrange(0, 3)
            aux = rng.randrange(0, 2)
            recs += struct.pack("!BBH", rng.randrange(8), aux, ns) + addr(rng) + b"".join(
                addr(rng) for _ in range(ns)) + bytes(4 * aux)
        return struct.pack("!HH", 0, rng.choice((count, count, count + 1))) + recs
    if t in (139, 140):
        return struct.pack("!HH", rng.randrange(5), rng.randrange(65536)) + rng.randbytes(8) + (
            rng.choice((b"", addr(rng), rng.randbytes(4), b"\x03abc\x02de\x00",
                        b"\x05hello", rng.randbytes(rng.randrange(24)))))
    if t == 138:
        return rng.randbytes(12) + rng.randbytes(rng.randrange(0, 80))
    if t == 155:
        return rng.randbytes(rng.randrange(0, 48))
    if t in (160, 161):
        return rng.randbytes(4) + rng.randbytes(rng.randrange(0, 24))
    return rng.randbytes(4 + rng.randrange(0, 30))


def exts(rng: random.Random, upper: int) -> tuple[int, bytes]:
    """(first next header, the chain's bytes) of a random extension chain."""
    kinds = [rng.choice((0, 60, 43, 44, 51, 60, 0)) for _ in range(rng.randrange(0, 4))]
    if kinds and rng.random() < 0.8 and 0 in kinds:
        kinds.remove(0)
        kinds.insert(0, 0)
    chain = b""
    for i, kind in enumerate(kinds):
        nxt = kinds[i + 1] if i + 1 < len(kinds) else upper
        if kind in (0, 60):
            opts = b""
            for _ in range(rng.randrange(0, 4)):
                ot = rng.choice((0, 1, 5, 0xC2, 0xC9, 0x1E, 4, rng.randrange(256)))
                if ot == 0:
                    opts += b"\0"
                    continue
                n = {5: 2, 0xC2: 4, 0xC9: 16}.get(ot, rng.randrange(0, 6))
                if rng.random() < 0.1:
                    n = rng.randrange(0, 20)
                opts += bytes([ot, n]) + rng.randbytes(n)
            pad = -(len(opts) + 2) % 8
            opts += (b"\x01" + bytes([pad - 2]) + bytes(pad - 2)) if pad > 1 else bytes(pad)
            chain += bytes([nxt, (len(opts) + 2) // 8 - 1]) + opts
        elif kind == 43:
            rtype = rng.choice((0, 2, 4, 3))
            n = rng.randrange(0, 3)
            head = bytes([nxt, 2 * n, rtype, rng.randrange(0, n + 1)])
            head += (bytes([max(n - 1, 0), rng.choice((0, 1)), 0, rng.randrange(3)])
                     if rtype == 4 else bytes(4))
            chain += head + b"".join(addr(rng) for _ in range(n))
        elif kind == 44:
            off = rng.choice((0, 0, rng.randrange(1, 8192)))
            chain += struct.pack("!BBHI", nxt, 0, (off << 3) | rng.randrange(2),
                                 rng.randrange(2**32))
        else:
            icv = rng.choice((4, 12))
            chain += struct.pack("!BBHII", nxt, (12 + icv) // 4 - 2, 0, rng.randrange(2**32),
                                 rng.randrange(2**32)) + rng.randbytes(icv)
    first = kinds[0] if kinds else upper
    return first, chain


def datagram(rng: random.Random, nh: int, payload: bytes, src: bytes, dst: bytes,
             plen: int | None = None) -> bytes:
    word = (6 << 28) | (rng.choice((0, 0, rng.randrange(256))) << 20) | rng.choice(
        (0, 0, rng.randrange(1 << 20)))
    n = len(payload) if plen is None else plen
    return struct.pack("!IHBB", word, n & 0xFFFF, nh, rng.choice((1, 64, 255, 0))) + src + (
        dst) + payload


def quoted(rng: random.Random) -> bytes:
    src, dst = addr(rng), addr(rng)
    upper = rng.choice((17, 6, 58, 58, 59, 132))
    first, chain = exts(rng, upper) if rng.random() < 0.3 else (upper, b"")
    if upper == 17:
        l4 = struct.pack("!HHHH", rng.randrange(65536), rng.randrange(65536), 16, 0) + bytes(8)
    elif upper == 6:
        l4 = struct.pack("!HHII", rng.randrange(65536), rng.randrange(65536), 0, 0) + bytes(12)
    elif upper == 58:
        l4 = icmp6(rng, src, dst, 128, 0, rng.randbytes(4 + rng.randrange(40)))
    else:
        l4 = rng.randbytes(rng.randrange(20))
    dg = datagram(rng, first, chain + l4, src, dst)
    return dg[: rng.choice((len(dg), len(dg), 40 + rng.randrange(0, 16), rng.randrange(0, 60)))]


def frame(rng: random.Random) -> bytes:
    src, dst = addr(rng), addr(rng)
    t = rng.choice((1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
                    140, 141, 142, 143, 144, 145, 146, 147, 155, 160, 161, 200, 201,
                    rng.randrange(256)))
    code = rng.choice((0, 0, 1, 2, 3, 4, 5, rng.randrange(256)))
    msg = icmp6(rng, src, dst, t, code, body_for(rng, t), bad=rng.random() < 0.15)
    first, chain = exts(rng, 58) if rng.random() < 0.3 else (58, b"")
    payload = chain + msg
    plen = None
    r = rng.random()
    if r < 0.05:
        plen = len(payload) + rng.randrange(1, 40)
    elif r < 0.1:
        plen = max(0, len(payload) - rng.randrange(1, 20))
    elif r < 0.12:
        plen = 0
    return datagram(rng, first, payload, src, dst, plen)


LINKS = {
    1: lambda ip, rng: b"\x33\x33\x00\x00\x00\x01\x02\x00\x00\x00\x00\x01\x86\xdd" + ip,
    113: lambda ip, rng: struct.pack("!HHH", rng.randrange(5), 1, 6) + b"\x02\x00\x00\x00\x00"
    b"\x01\x00\x00\x86\xdd" + ip,
    276: lambda ip, rng: b"\x86\xdd\x00\x00\x00\x00\x00\x02\x00\x01" + bytes([rng.randrange(5)])
    + b"\x06" + bytes(8) + ip,
    101: lambda ip, rng: ip,
    229: lambda ip, rng: ip,
    0: lambda ip, rng: struct.pack("<I", rng.choice((24, 28, 30))) + ip,
    108: lambda ip, rng: struct.pack("!I", rng.choice((24, 28, 30))) + ip,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=2000, help="frames per link type")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for linktype, wrap in LINKS.items():
        with PcapWriter(str(args.outdir / f"random6-{linktype}.pcap"), linktype) as w:
            for i in range(args.count):
                data = wrap(frame(rng), rng)
                if linktype == 1 and rng.random() < 0.1:
                    data = data[:12] + b"\x81\x00" + struct.pack("!H", rng.randrange(4096)) + (
                        data[12:])
                wire = len(data)
                if rng.random() < 0.15:
                    data = data[: rng.randrange(1, len(data) + 1)]  # caplen 0: tcpdump's own line
                w.write(1_700_000_000 + i, i, data, wire)
    return 0


if __name__ == "__main__":
    sys.exit(main())
