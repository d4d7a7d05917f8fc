"""Checksum micro-benchmark: pcapping.wire.checksum vs dpkt.in_cksum (and scapy, for reference).

    python bench/bench_checksum.py [--repeat 7] [--calls 20000] [--seed 1]

For 20, 64, 576 and 1500-byte buffers of random bytes (256 different buffers per size,
cycled), the time per call of:

- ``pcapping.wire.checksum.internet_checksum(buf)`` (the value to store in the field);
- ``pcapping.wire.checksum.checksum_ok(buf)`` (verify a buffer that carries its checksum: the
  question a decoder asks; the buffers here are made to verify);
- ``dpkt.in_cksum(buf)`` (computes the same value as ``internet_checksum``; a decoder
  using dpkt verifies with ``in_cksum(buf) == 0``);
- ``scapy.utils.checksum(buf)``, for reference.

Each figure is the best and the median of ``--repeat`` timings of ``--calls`` calls.
The results are checked against each other before timing.
"""

from __future__ import annotations

import argparse
import random
import sys
import timeit
from collections.abc import Callable

import dpkt
from common import best_median

from pcapping.wire.checksum import checksum_ok, internet_checksum

SIZES = (20, 64, 576, 1500)


def buffers(size: int, rng: random.Random, count: int = 256) -> tuple[list[bytes], list[bytes]]:
    """Random buffers, and the same buffers with a valid checksum in bytes 2..3."""
    raw = [rng.randbytes(size) for _ in range(count)]
    valid = []
    for b in raw:
        z = b[:2] + b"\0\0" + b[4:]
        valid.append(z[:2] + internet_checksum(z).to_bytes(2, "big") + z[4:])
    return raw, valid


def per_call(fn: Callable[[bytes], object], bufs: list[bytes], calls: int,
             repeat: int) -> tuple[float, float]:
    """(best, median) µs per call."""
    rounds = max(1, calls // len(bufs))

    def loop() -> None:
        for _ in range(rounds):
            for b in bufs:
                fn(b)

    samples = timeit.repeat(loop, number=1, repeat=repeat)
    n = rounds * len(bufs)
    best, med = best_median(samples)
    return best / n * 1e6, med / n * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        from scapy.utils import checksum as scapy_checksum
    except ImportError:  # scapy is optional here
        scapy_checksum = None
    rng = random.Random(args.seed)
    rows = []
    for size in SIZES:
        raw, valid = buffers(size, rng)
        for b, v in zip(raw, valid, strict=True):  # agree before timing
            assert internet_checksum(b) == dpkt.in_cksum(b), b.hex()
            assert checksum_ok(v) and dpkt.in_cksum(v) == 0, v.hex()
            if scapy_checksum is not None:
                assert scapy_checksum(b) == internet_checksum(b), b.hex()
        ic = per_call(internet_checksum, raw, args.calls, args.repeat)
        ok = per_call(checksum_ok, valid, args.calls, args.repeat)
        dp = per_call(dpkt.in_cksum, raw, args.calls, args.repeat)
        sc = (per_call(scapy_checksum, raw, args.calls, args.repeat)
              if scapy_checksum is not None else (float("nan"),) * 2)
        rows.append((size, ic, ok, dp, sc))

    print("µs per call, best (median) of "
          f"{args.repeat} x {args.calls} calls; ratio = dpkt time / pcapping time")
    print(f"{'bytes':>6} {'internet_checksum':>19} {'checksum_ok':>17} {'dpkt.in_cksum':>17} "
          f"{'scapy checksum':>17} {'dpkt/ic':>8} {'dpkt/ok':>8}")
    for size, ic, ok, dp, sc in rows:
        print(f"{size:6d} {ic[0]:8.3f} ({ic[1]:7.3f}) {ok[0]:7.3f} ({ok[1]:7.3f}) "
              f"{dp[0]:7.3f} ({dp[1]:7.3f}) {sc[0]:7.3f} ({sc[1]:7.3f}) "
              f"{dp[0] / ic[0]:8.2f} {dp[0] / ok[0]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
