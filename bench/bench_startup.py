"""Whole-process time of ``pcapping send -c 1`` vs kernel ``ping -c 1``, same run.

    sudo python bench/bench_startup.py [-n 30]

Builds a private lab (prefix ``pcbs-``, block 10.82), and inside the client namespace
times N runs of each command to the target (process start to exit, replies included;
the command itself is not run through ``ip netns exec`` each time).  Prints the median
and the spread.  Packets only go to the lab's own namespaces.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(argv: list[str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - t0)
    return out


def inner(target: str, n: int) -> None:
    cases = {
        "pcapping send -c 1": [sys.executable, "-m", "pcapping", "send", target, "-c", "1"],
        "kernel ping -c 1": ["ping", "-c", "1", target],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    timed(cases["pcapping send -c 1"], 2)  # warm the page cache and __pycache__
    print(f"n={n} runs each, target {target}")
    for name, argv in cases.items():
        t = timed(argv, n)
        print(f"{name:<20} median {statistics.median(t) * 1000:7.1f} ms   "
              f"min {min(t) * 1000:7.1f} ms   max {max(t) * 1000:7.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--inner", metavar="TARGET")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.inner:
        inner(args.inner, args.n)
        return 0
    from common import run_in_lab_client

    return run_in_lab_client(__file__, "pcbs-", "10.82", ["-n", str(args.n)], keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
