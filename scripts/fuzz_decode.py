#!/usr/bin/env python3
"""Throw mutated frames at every decode path and count what breaks.

For every supported link type, IPv4 and IPv6 datagrams from every capture in captures/
(re-framed for that link type: EtherType 0x0800/0x86dd, SLL protocol,
NULL/LOOP families 2 and 24/28/30/10, raw by version nibble) are mutated (bit
flips, byte overwrites, cuts, insertions, length fields set to extremes) and fed
to ``decode_frame``, ``Decoded.to_dict`` (through ``json.dumps``), the tcpdump
formatter (all flag sets) and the ``tally`` fast path, which must agree with
``Tally.add(decode_frame(...))``.

    python scripts/fuzz_decode.py --frames 300000 --seed 1

Prints one line per link type and exits 1 if anything raised or disagreed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcapping.decode import Tally, decode_frame, tally  # noqa: E402
from pcapping.io.pcapfile import PcapReader  # noqa: E402


def _v6(ip: bytes) -> bool:
    return bool(ip) and ip[0] >> 4 == 6


def _etype(ip: bytes) -> bytes:
    return b"\x86\xdd" if _v6(ip) else b"\x08\x00"


_FAMILY6 = (24, 28, 30, 10)
LINKTYPES = {
    1: lambda ip: bytes.fromhex("020000000002020000000001") + _etype(ip) + ip,
    113: lambda ip: bytes.fromhex("0000000100060200000000010000") + _etype(ip) + ip,
    276: lambda ip: _etype(ip) + b"\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06" + bytes(8) + ip,
    101: lambda ip: ip,
    228: lambda ip: ip,
    229: lambda ip: ip,
    12: lambda ip: ip,
    0: lambda ip: (bytes([_FAMILY6[len(ip) % 4]]) if _v6(ip) else b"\x02") + b"\x00\x00\x00"
    + ip,
    108: lambda ip: b"\x00\x00\x00" + (bytes([_FAMILY6[len(ip) % 3]]) if _v6(ip) else b"\x02")
    + ip,
}


def seeds() -> list[bytes]:
    """IPv4 and IPv6 datagrams taken from every capture we ship (any link type)."""
    out = []
    for path in sorted((ROOT / "captures").rglob("*.pcap*")):
        try:
            for d in map(lambda r: decode_frame(r.data, r.linktype), PcapReader(str(path))):
                if (d.ethertype == 0x0800 and d.ip is not None) or (
                        d.ethertype == 0x86DD and d.ip6 is not None):
                    out.append(d.data[d.l3_offset :])
        except Exception:  # noqa: BLE001 - a damaged fixture is still a fine seed source
            continue
    return out


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="per link type")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-format", action="store_true", help="skip the text formatter")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = seeds()
    formatters = []
    if not args.no_format:
        from pcapping.tcpdump.formatter import TcpdumpFormatter

        formatters = [TcpdumpFormatter(verbose=v, link=e, hexdump=x)
                      for v, e, x in ((0, False, False), (1, False, False), (1, True, False),
                                      (2, True, True))]
    failures = 0
    for linktype, frame_it in LINKTYPES.items():
        start = time.perf_counter()
        v6 = 0
        for i in range(args.frames):
            seed = rng.choice(base)
            v6 += _v6(seed)
            data = mutate(rng, frame_it(seed))
            try:
                d = decode_frame(data, linktype, frame=i + 1)
                json.dumps(d.to_dict())
                for f in formatters[i % 8 : i % 8 + 1] if formatters else ():
                    f.format(d)
                ref, fast = Tally(), Tally()
                ref.add(d)
                tally(fast, data, linktype)
                if ref.as_tuple() != fast.as_tuple():
                    raise AssertionError(f"tally {fast.as_tuple()} != {ref.as_tuple()}")
            except Exception:  # noqa: BLE001 - counting is the point
                failures += 1
                if failures <= 5:
                    print(f"linktype {linktype} frame {data.hex()}", file=sys.stderr)
                    traceback.print_exc()
        took = time.perf_counter() - start
        print(f"linktype {linktype:3}: {args.frames} mutated frames ({v6} IPv6), {took:.1f} s")
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
