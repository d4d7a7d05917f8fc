"""``trace`` whole-process time on a 7-hop path with a silent hop, beside traceroute and mtr.

    sudo python bench/bench_trace.py [--rounds 10] [--keep] [--family 4|6|both]

Builds a private lab (prefix ``pcbt-``, block 10.88) unless it is up, switches off the
ICMP rate limits (IPv4 and IPv6) of its ``ratelimit`` router (so that repeated runs keep
meeting the same path: seven hops, three probes a hop, the fifth silent), re-runs itself
inside the client namespace and times, rounds interleaved (a load spike hits every tool
alike), for each family (``-6``: the same path in IPv6, ``trace_target6``):

- ``traceroute -n`` (UDP, 16 probes at once) and ``traceroute -n -I``;
- ``pcapping trace -n`` and ``pcapping trace -n -I`` (Paris UDP / ICMP);
- ``mtr -r -n -c 1 -i 0.1`` (one report cycle, for scale: mtr paces its probes);
- ``python -c pass`` and the imports ``trace`` needs (the interpreter's share).

Every run's hop list is checked against the lab's (``trace_hops()`` / ``trace_hops6()``);
wall time is ``time.perf_counter`` around the whole process.  Packets go only to the lab.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PREFIX, NET = "pcbt-", "10.88"
PCAPPING = [sys.executable, "-m", "pcapping", "trace"]


def hops_of(text: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for line in text.splitlines():
        words = line.replace("|--", " ").split()
        if not words:
            continue
        head = words[0].rstrip(".")
        if not head.isdigit():
            continue
        seen = set()
        for w in words[1:]:
            if w in ("*", "???"):
                seen.add("*")
                continue
            try:
                seen.add(str(ipaddress.ip_address(w)))
            except ValueError:
                pass
        out[int(head)] = seen
    return out


def check(name: str, text: str, expected: list[tuple[str, ...]]) -> str | None:
    got = hops_of(text)
    if sorted(got) != list(range(1, len(expected) + 1)):
        return f"{name}: TTLs {sorted(got)}"
    for ttl, want in enumerate(expected, 1):
        if want == () and got[ttl] != {"*"}:
            return f"{name}: TTL {ttl} {got[ttl]} (silent expected)"
        if want and not (got[ttl] - {"*"}) <= set(want):
            return f"{name}: TTL {ttl} {got[ttl]} not in {want}"
    return None


def timed(argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return time.perf_counter() - t0, proc.stdout


def _cases(target: str, six: bool) -> dict[str, list[str]]:
    f = ["-6"] if six else []
    tag = " -6" if six else ""
    return {
        f"traceroute{tag} -n": ["traceroute", *f, "-n", target],
        f"pcapping trace{tag} -n": [*PCAPPING, *f, "-n", target],
        f"traceroute{tag} -n -I": ["traceroute", *f, "-n", "-I", target],
        f"pcapping trace{tag} -n -I": [*PCAPPING, *f, "-n", "-I", target],
        f"mtr{tag} -r -n -c 1 -i 0.1": ["mtr", *f, "-r", "-n", "-c", "1", "-i", "0.1",
                                        target],
    }


def inner(targets: dict[int, tuple[str, list[tuple[str, ...]]]], rounds: int) -> int:
    """Time every case of every family in ``targets`` (family -> target, hops)."""
    cases: dict[str, tuple[list[str], list[tuple[str, ...]] | None]] = {}
    for family, (target, expected) in targets.items():
        for name, argv in _cases(target, family == 6).items():
            cases[name] = (argv, expected)
    cases["python -c pass"] = ([sys.executable, "-c", "pass"], None)
    cases["python: trace's imports"] = ([sys.executable, "-c",
                                         "import pcapping.trace, pcapping.probe.trace, "
                                         "pcapping.probe.session, pcapping.io.capture, "
                                         "pcapping.report.trace"], None)
    for name in list(cases):
        argv = cases[name][0]
        if shutil.which(argv[0]) is None and not argv[0].startswith("/"):
            print(f"  {name}: not installed")
            del cases[name]
    times: dict[str, list[float]] = {k: [] for k in cases}
    bad = 0
    last: dict[str, str] = {}
    for _ in range(rounds):
        for name, (argv, expected) in cases.items():
            wall, out = timed(argv)
            times[name].append(wall)
            last[name] = out
            if expected is not None:
                problem = check(name, out, expected)
                if problem:
                    bad += 1
                    print(f"!! {problem}\n{out}")
    for family, (target, expected) in targets.items():
        print(f"IPv{family}: {len(expected)}-hop path to {target} (TTL 5 silent), "
              "3 probes a hop")
    print(f"{rounds} rounds interleaved; whole-process wall time")
    print(f"  {'':<29} {'best s':>8} {'median s':>9} {'max s':>7}")
    for name, samples in times.items():
        print(f"  {name:<29} {min(samples):8.3f} {statistics.median(samples):9.3f} "
              f"{max(samples):7.3f}")
    for family in targets:
        tag = " -6" if family == 6 else ""
        ours = statistics.median(times[f"pcapping trace{tag} -n"])
        theirs = statistics.median(times.get(f"traceroute{tag} -n", [float("nan")]))
        print(f"pcapping trace{tag} -n: median {ours:.3f} s (goal < 0.5 s, target 0.2 s); "
              f"traceroute{tag} -n {theirs:.3f} s")
    for family in targets:
        name = f"pcapping trace{' -6' if family == 6 else ''} -n"
        print(f"last {name} output:")
        print(last.get(name, ""))
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--family", choices=("4", "6", "both"), default="both")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help="leave the lab up")
    args = ap.parse_args()
    from pcapping import lab

    spec = lab.LabSpec(prefix=PREFIX, net=NET)
    targets: dict[int, tuple[str, list[tuple[str, ...]]]] = {}
    if args.family in ("4", "both"):
        targets[4] = (spec.trace_target, spec.trace_hops())
    if args.family in ("6", "both"):
        targets[6] = (spec.trace_target6, spec.trace_hops6())
    if args.inner:
        return inner(targets, min(args.rounds, 100))
    was_up = lab.is_up(spec)
    if not was_up:
        lab.up(spec)
    try:
        missing = lab.missing_features(spec)
        if "silent" in missing:
            raise SystemExit(f"the lab has no silent router: {missing['silent']}")
        subprocess.run(["ip", "netns", "exec", spec.ns("ratelimit"), "sh", "-c",
                        "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit; "
                        "echo 0 > /proc/sys/net/ipv6/icmp/ratelimit"], check=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        return subprocess.call(
            ["ip", "netns", "exec", spec.ns("client"), sys.executable, __file__, "--inner",
             "--family", args.family, "--rounds", str(args.rounds)], env=env, cwd=ROOT)
    finally:
        if not was_up and not args.keep:
            lab.down(spec)


if __name__ == "__main__":
    raise SystemExit(main())
