#!/usr/bin/env python3
"""Write a randomised set of ICMP/ARP frames to pcap files, for compare_tcpdump.py.

    scripts/random_icmp_pcaps.py OUTDIR [--seed N] [--count N]

Covers every ICMP type 0-255 with codes 0-20, every unreachable code, frag
needed with MTU, redirect, parameter problem, timestamps, echo of odd/even
lengths, IP options (RR, TS, RA, NOP/EOL, malformed), fragments and flags,
TOS/ECN, TTL, bad IP/ICMP checksums, total length vs caplen/wire length,
IHL < 5, version != 4, non-zero Ethernet padding, VLAN/QinQ, SLL/SLL2 with
every packet type, NULL/LOOP in both byte orders, ARP/RARP/InARP with odd
lengths, and cuts at every byte offset of some frames.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcapping.io.pcapfile import PcapWriter  # noqa: E402
from pcapping.wire.checksum import internet_checksum  # noqa: E402

SAFE_UDP_PORTS = (1234, 40000, 33434, 33435, 45678, 60001)
SAFE_TCP_PORTS = (1234, 40000, 45678, 60001, 8888)


def ipv4(rng: random.Random, proto: int, payload: bytes, **kw) -> bytes:  # noqa: ANN003
    opts = kw.get("opts", b"")
    hl = 20 + len(opts)
    vihl = kw.get("vihl", 0x40 | (hl // 4))
    total = kw.get("total", hl + len(payload))
    frag = kw.get("frag", 0)
    head = struct.pack("!BBHHHBBH4s4s", vihl, kw.get("tos", 0), total & 0xFFFF,
                       kw.get("ident", rng.randrange(65536)), frag, kw.get("ttl", 64), proto, 0,
                       kw.get("src", bytes([10, 0, 0, rng.randrange(1, 255)])),
                       kw.get("dst", bytes([10, 0, 1, rng.randrange(1, 255)]))) + opts
    csum = internet_checksum(head)
    if kw.get("bad_sum"):
        csum ^= rng.randrange(1, 65536)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def icmp(rng: random.Random, t: int, c: int, rest: bytes, payload: bytes,
         bad: bool = False) -> bytes:
    h = bytes([t, c]) + b"\0\0" + rest + payload
    s = internet_checksum(h)
    if bad:
        s ^= rng.randrange(1, 65536)
    return h[:2] + struct.pack("!H", s) + h[4:]


def quoted(rng: random.Random) -> bytes:
    """A datagram as an ICMP error quotes it: header + 8 bytes, or more."""
    kind = rng.choice(("icmp", "udp", "tcp", "other", "icmp_full", "udp_full", "cut"))
    ttl = rng.choice((1, 2, 64))
    if kind.startswith("icmp"):
        n = 8 + rng.randrange(0, 40) if kind == "icmp_full" else 56
        inner = icmp(rng, rng.choice((8, 0, 13, 3)), 0, struct.pack("!HH", rng.randrange(65536),
                     rng.randrange(65536)), bytes(rng.randrange(256) for _ in range(n - 8)))
        dg = ipv4(rng, 1, inner, ttl=ttl, bad_sum=rng.random() < 0.1)
        return dg if kind == "icmp_full" else dg[:28]
    if kind.startswith("udp") or kind == "cut":
        n = rng.randrange(0, 30)
        body = bytes(rng.randrange(256) for _ in range(n))
        udp = struct.pack("!HHHH", rng.choice(SAFE_UDP_PORTS), rng.choice(SAFE_UDP_PORTS),
                          8 + n, rng.randrange(65536)) + body
        dg = ipv4(rng, 17, udp, ttl=ttl)
        if kind == "udp":
            return dg[:28]
        if kind == "cut":
            return dg[: rng.randrange(0, len(dg) + 1)]
        return dg
    if kind == "tcp":
        tcp = struct.pack("!HHIIBBHHH", rng.choice(SAFE_TCP_PORTS), rng.choice(SAFE_TCP_PORTS),
                          rng.randrange(2**32), 0, 0x50, 2, 65535, 0, 0)
        return ipv4(rng, 6, tcp, ttl=ttl)[:28]
    proto = rng.choice((3, 5, 7, 99, 200, 253))
    return ipv4(rng, proto, bytes(8), ttl=ttl)[:28]


def rest_for(rng: random.Random, t: int, c: int) -> bytes:
    if t == 3 and c == 4:
        return struct.pack("!HH", 0, rng.choice((0, 576, 1280, 1492, 1500)))
    if t == 5:
        return bytes([10, 0, 0, 254])
    if t == 12:
        return bytes([rng.randrange(60), 0, 0, 0])
    if t == 9:
        return bytes([rng.randrange(4), rng.choice((2, 2, 3))]) + struct.pack(
            "!H", rng.choice((30, 1800, 9000)))
    return struct.pack("!HH", rng.randrange(65536), rng.randrange(65536))


def icmp_message(rng: random.Random, t: int, c: int) -> bytes:
    rest = rest_for(rng, t, c)
    if t in (3, 4, 5, 11, 12):
        payload = quoted(rng)
    elif t in (13, 14):
        payload = struct.pack("!III", *(rng.randrange(0, 90_000_000) for _ in range(3)))
    elif t == 9:
        payload = b"".join(bytes([192, 168, 0, i]) + struct.pack("!I", rng.randrange(2**32))
                           for i in range(rest[0]))
    elif t in (17, 18):
        payload = b"\xff\xff\xff\x00"
    else:
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
    return icmp(rng, t, c, rest, payload, bad=rng.random() < 0.1)


def options(rng: random.Random) -> bytes:
    choice = rng.choice(("rr", "ts", "tsonly", "ra", "nop", "bad", "lsrr", "none", "none"))
    if choice == "rr":
        o = bytes([7, 11, rng.choice((4, 8, 12))]) + bytes(8) + b"\0"
    elif choice == "lsrr":
        o = bytes([131, 7, 4, 10, 0, 0, 1, 0])
    elif choice == "ts":
        o = bytes([68, 12, rng.choice((5, 13)), 0x01]) + bytes([10, 0, 0, 1]) + struct.pack(
            "!I", 123456)
    elif choice == "tsonly":
        o = bytes([68, 8, 5, 0x10]) + struct.pack("!I", 42)
    elif choice == "ra":
        o = bytes([148, 4, 0, rng.choice((0, 1))])
    elif choice == "nop":
        o = bytes([1, 1, 1, 0])
    elif choice == "bad":
        o = bytes([rng.choice((7, 68, 148, 200)), rng.choice((0, 1, 3, 40)), 0, 0])
    else:
        return b""
    return o + b"\0" * (-len(o) % 4)


def ip_icmp(rng: random.Random, t: int, c: int) -> bytes:
    msg = icmp_message(rng, t, c)
    r = rng.random()
    kw: dict = {"tos": rng.choice((0, 0, 1, 2, 3, 0xB8)), "ttl": rng.choice((0, 1, 63, 64, 255)),
                "bad_sum": rng.random() < 0.1}
    if r < 0.15:
        kw["opts"] = options(rng)
    elif r < 0.25:
        kw["frag"] = rng.choice((0x2000, 0x4000, 0x8000, 0x2001, 0x00B9, 0x6000))
    elif r < 0.3:
        kw["total"] = rng.choice((0, 10, 19, 20, 27, 28 + len(msg) + 10))
    elif r < 0.33:
        kw["vihl"] = rng.choice((0x44, 0x43, 0x46, 0x55, 0x65, 0x35))
    return ipv4(rng, 1, msg, **kw)


def arp(rng: random.Random) -> bytes:
    hln = rng.choice((6, 6, 6, 0, 4, 8))
    pln = rng.choice((4, 4, 4, 6, 0))
    op = rng.choice((1, 2, 3, 4, 8, 9, 10, 5))
    pro = rng.choice((0x0800, 0x0800, 0x86DD, 0x1000))
    hrd = rng.choice((1, 1, 6, 15, 12345))
    tha = bytes(hln) if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(hln))
    return (struct.pack("!HHBBH", hrd, pro, hln, pln, op)
            + bytes(rng.randrange(256) for _ in range(hln)) + bytes([10, 0, 0, 1, 9, 9][:pln])
            + tha + bytes([10, 0, 0, 2, 9, 9][:pln]))


def ether(rng: random.Random, etype: int, payload: bytes) -> bytes:
    tags = b""
    r = rng.random()
    if r < 0.15:
        tags = struct.pack("!HH", 0x8100, rng.randrange(65536))
    elif r < 0.25:
        tags = struct.pack("!HHHH", 0x88A8, rng.randrange(65536), 0x8100, rng.randrange(65536))
    elif r < 0.28:
        tags = struct.pack("!HH", 0x9100, rng.randrange(65536))
    frame = (bytes([2, 0, 0, 0, 0, rng.randrange(256)]) + bytes([2, 0, 0, 0, 0, 1]) + tags
             + struct.pack("!H", etype) + payload)
    if len(frame) < 60 and rng.random() < 0.7:
        frame += bytes(rng.randrange(256) for _ in range(60 - len(frame)))
    return frame


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    ts = [1_700_000_000]

    def writer(name: str, lt: int) -> PcapWriter:
        return PcapWriter(str(out / name), lt)

    def put(w: PcapWriter, data: bytes, length: int | None = None) -> None:
        ts[0] += 1
        w.write(ts[0], rng.randrange(1_000_000), data, length=length)

    # Ethernet: all types and codes, ARP, cuts.
    w = writer("eth-types.pcap", 1)
    for t in range(256):
        for c in range(0, 21) if t in (3, 5, 11, 12) else range(0, 21, 7):
            put(w, ether(rng, 0x0800, ip_icmp(rng, t, c)))
    for _ in range(1500):
        t = rng.choice((0, 8, 3, 3, 3, 4, 5, 9, 11, 11, 12, 13, 14, 15, 16, 17, 18))
        put(w, ether(rng, 0x0800, ip_icmp(rng, t, rng.randrange(16))))
    w.close()
    w = writer("eth-arp.pcap", 1)
    for _ in range(600):
        put(w, ether(rng, rng.choice((0x0806, 0x0806, 0x8035)), arp(rng)))
    w.close()
    w = writer("eth-cuts.pcap", 1)
    for _ in range(25):
        t = rng.choice((0, 8, 3, 5, 9, 11, 12, 13, 14, 17, 18))
        frame = ether(rng, 0x0800, ip_icmp(rng, t, rng.randrange(5)))
        for cut in range(1, len(frame) + 1):
            put(w, frame[:cut], length=len(frame))
    for _ in range(10):
        frame = ether(rng, 0x0806, arp(rng))
        for cut in range(1, len(frame) + 1):
            put(w, frame[:cut], length=len(frame))
    for _ in range(200):  # snapped frames whose wire length is not the IP total length
        frame = ether(rng, 0x0800, ip_icmp(rng, rng.choice((0, 8, 3, 11)), 0))
        cut = rng.randrange(14, len(frame) + 1)
        put(w, frame[:cut], length=cut + rng.randrange(0, 20))
    w.close()
    # Other link types.
    for lt in (113, 276):
        w = writer(f"sll{lt}.pcap", lt)
        for i in range(400):
            pkttype = i % 6
            is_arp = rng.random() < 0.2
            etype = 0x0806 if is_arp else 0x0800
            body = arp(rng) if is_arp else ip_icmp(rng, rng.choice((0, 8, 3, 11, 5, 13)), 0)
            if rng.random() < 0.1:
                body = struct.pack("!HH", rng.randrange(65536), etype) + body
                etype = 0x8100
            halen = rng.choice((6, 6, 0, 4, 8))
            addr = bytes(rng.randrange(256) for _ in range(8))
            if lt == 113:
                head = struct.pack("!HHH8sH", pkttype, 1, halen, addr, etype)
            else:
                head = struct.pack("!HHIHBB8s", etype, 0, rng.choice((1, 2, 1000)), 1, pkttype,
                                   halen, addr)
            frame = head + body
            if rng.random() < 0.2:
                frame = frame[: rng.randrange(1, len(frame) + 1)]
            put(w, frame, length=len(head) + len(body))
        w.close()
    for lt in (0, 108, 101, 12, 228):
        w = writer(f"link{lt}.pcap", lt)
        for _ in range(300):
            body = ip_icmp(rng, rng.choice((0, 8, 3, 11, 12, 4, 14)), rng.randrange(4))
            if lt in (0, 108):
                fam = rng.choice((2, 2, 2, 24, 7))
                order = rng.choice(("<", ">")) if lt == 0 else ">"
                frame = struct.pack(order + "I", fam) + body
            else:
                frame = body
            if rng.random() < 0.15:
                frame = frame[: rng.randrange(1, len(frame) + 1)]
            put(w, frame, length=len(frame) if rng.random() < 0.8 else len(frame) + 4)
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
