#!/usr/bin/env python3
"""Random ICMP/ARP frames inside every tunnel, encapsulation and link type, for
compare_tcpdump.py.

    scripts/random_encap_pcaps.py OUTDIR [--seed N] [--count N]
    scripts/compare_tcpdump.py OUTDIR/*.pcap --flags=-nv

One pcap per framing of ``fuzz_decode.FRAMINGS`` (VXLAN, Geneve, GRE, ERSPAN, MPLS,
PPPoE, MACsec, LLC/SNAP, PPP, Cisco HDLC, Frame Relay, IPoIB, ipnet, ARCNET, switch
tags, ...): the inner datagrams are ``random_icmp_pcaps``' random ICMP messages (every
type, bad checksums, options, quotes), and each frame is written whole, cut at a random
byte (caplen below the wire length), or with one to three bytes of its first 64 changed
(the encapsulation headers live there), so tcpdump's partial output on cut and invalid
headers is compared too.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from fuzz_decode import FRAMINGS  # noqa: E402
from random_icmp_pcaps import ip_icmp  # noqa: E402

from pcapping.io.pcapfile import PcapWriter  # noqa: E402


def frames(rng: random.Random, frame, count: int):  # noqa: ANN001, ANN201
    """(captured bytes, wire length) of ``count`` random frames of one framing."""
    for _ in range(count):
        inner = ip_icmp(rng, rng.randrange(256) if rng.random() < 0.3 else
                        rng.choice((0, 3, 8, 11, 5, 12, 13, 14)), rng.randrange(16))
        data = bytearray(frame(inner))
        kind = rng.random()
        if kind < 0.3:
            cut = rng.randrange(1, len(data))
            yield bytes(data[:cut]), len(data)
            continue
        if kind < 0.6:
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(min(64, len(data)))
                data[i] = rng.choice((0, 0xFF, rng.randrange(256), data[i] ^ 1))
        yield bytes(data), len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=500, help="frames per framing")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for name, (linktype, frame) in FRAMINGS.items():
        with PcapWriter(str(args.outdir / f"{name}.pcap"), linktype) as w:
            for i, (data, length) in enumerate(frames(rng, frame, args.count)):
                w.write(1_000_000 + i, 0, data, length)
    print(f"{len(FRAMINGS)} files of {args.count} frames in {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
