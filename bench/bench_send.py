"""``send`` under load, same run, same path: flood rate, memory and every reply matched,
beside kernel ping, nping and hping3.

    sudo python bench/bench_send.py [-n 50000] [--rounds 5]

Builds a private lab (prefix ``pcbs-``, block 10.84) unless it is up, re-runs itself inside
the client namespace, and measures to the target (two routed veth hops):

- flood rate: ``ping -f -c N`` and ``pcapping send -f -c N`` (dots to /dev/null), rounds
  interleaved; the rate is N / the "time" both print (first to last request), and the
  whole-process wall time is shown too; every round must report N received;
- ``-i 0 -q``: the same without the dots;
- nping (``--icmp --rate 1000000 -c N``) and hping3 (``-1 -i u1 -c N``, and ``-i u100``:
  at u1 hping3 sends faster than its own receive loop and counts almost no replies), where
  installed: their own counts and the wall time (they wait for replies differently; shown
  for scale);
- memory: peak RSS of ``pcapping send -f -q`` at 10k and 200k requests (``os.wait4``).

Medians of the rounds, and ratios to kernel ping.  Bounded counts; packets only go to
the lab's own namespaces.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PCAPPING = [sys.executable, "-m", "pcapping", "send"]


def run_rss(argv: list[str]) -> tuple[str, int]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, _, usage = os.wait4(proc.pid, 0)
    return out, usage.ru_maxrss


_STATS = re.compile(r"(\d+) packets transmitted, (\d+) received.*time (\d+)ms")


def ping_rate(out: str) -> tuple[int, int, float]:
    m = _STATS.search(out)
    if not m:
        raise SystemExit(f"no statistics in:\n{out[-500:]}")
    sent, got, ms = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return sent, got, sent / (ms / 1000) if ms else float("inf")


def inner(target: str, n: int, rounds: int) -> None:
    cases = {
        "kernel ping -f": ["ping", "-f", "-c", str(n), target],
        "pcapping send -f": [*PCAPPING, "-f", "-c", str(n), target],
        "kernel ping -i 0 -q": ["ping", "-i", "0", "-q", "-c", str(n), target],
        "pcapping -i 0 -q": [*PCAPPING, "-i", "0", "-q", "-c", str(n), target],
    }
    rates: dict[str, list[float]] = {k: [] for k in cases}
    walls: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, argv in cases.items():
            out, _ = run_rss(argv)
            t0 = time.perf_counter()
            sent, got, rate = ping_rate(out)
            if got != n:
                print(f"!! {name}: {got} of {n} replies counted")
            rates[name].append(rate)
            walls[name].append(time.perf_counter() - t0)
    print(f"flood, {n} requests to {target}, {rounds} rounds (median of each; rate = "
          "requests / the run's own 'time')")
    base = statistics.median(rates["kernel ping -f"])
    base_q = statistics.median(rates["kernel ping -i 0 -q"])
    for name in cases:
        med = statistics.median(rates[name])
        ref = base_q if "-q" in name else base
        print(f"  {name:<22} {med:>10,.0f} requests/s   ratio to kernel ping {med / ref:5.2f}"
              f"   (min {min(rates[name]):,.0f}, max {max(rates[name]):,.0f})")
    for name, argv in (("nping --rate 1e6", ["nping", "--icmp", "--rate", "1000000", "-c",
                                            str(n), "-q", target]),
                       ("hping3 -i u1", ["hping3", "-1", "-i", "u1", "-c", str(n), "-q",
                                         target]),
                       ("hping3 -i u100", ["hping3", "-1", "-i", "u100", "-c", str(n), "-q",
                                           target])):
        if shutil.which(argv[0]) is None:
            print(f"  {name:<22} (not installed)")
            continue
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        wall = time.perf_counter() - t0
        text = proc.stdout + proc.stderr
        got = re.search(r"Rcvd: (\d+)|(\d+) packets received", text)
        received = next((g for g in got.groups() if g), "?") if got else "?"
        print(f"  {name:<22} {n / wall:>10,.0f} requests/s whole process, "
              f"{received} replies counted")
    print("memory: peak RSS of pcapping send -f -q")
    for count in (10_000, 200_000):
        out, rss = run_rss([*PCAPPING, "-f", "-q", "-c", str(count), target])
        sent, got, rate = ping_rate(out)
        print(f"  -c {count:<8} {rss / 1024:6.1f} MiB   ({got}/{sent} replies, "
              f"{rate:,.0f}/s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--inner", metavar="TARGET")
    ap.add_argument("--keep", action="store_true", help="leave the lab up")
    args = ap.parse_args()
    if args.inner:
        inner(args.inner, args.n, args.rounds)
        return 0
    if args.n > 1_000_000:
        raise SystemExit("at most 1,000,000 requests per run")
    from common import run_in_lab_client

    return run_in_lab_client(__file__, "pcbs-", "10.84", ["-n", str(args.n), "--rounds",
                                                          str(args.rounds)], args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
