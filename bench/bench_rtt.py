"""RTT on one lab path, same run: pcapping vs kernel ping vs scapy ``sr1``.

    sudo python bench/bench_rtt.py [-n 200] [--interval 0.01]

Builds a private lab (prefix ``pcbr-``, block 10.81) unless ``--keep`` finds it up,
re-runs itself inside the client namespace and prints median and p99 RTT of each
pinger to the target (two routed hops) and their ratio to kernel ping.  Packets only
go to the lab's own namespaces.

- pcapping: ``pcapping.ping()``; RTT from capture timestamps (request leaving, reply in).
- kernel ping: iputils ``ping -i INTERVAL``; its printed times (microsecond resolution).
- ping (wire): the same kernel ping exchanges timed by a capture handle on the client's
  interface (request leaving, reply in): the clock pcapping's own RTT uses.  The gap to
  the printed times is kernel ping's send path (user space to the wire).
- scapy: ``sr1`` on the client's interface; ``reply.time - request.sent_time``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def inner(target: str, n: int, interval: float) -> None:
    from pcapping.send import ping

    result = ping(target, count=n, interval_s=interval, timeout_s=1.0)
    ours = [e["rtt_ms"] for e in result.events if e["event"] == "reply"]

    # Kernel ping, with a capture handle watching its frames: what ping prints, and the
    # same exchanges timed on the wire (the clock pcapping uses for its own RTT).
    from pcapping.decode import decode_frame
    from pcapping.io.capture import LiveCapture
    from pcapping.io.netinfo import route_get

    iface = route_get(bytes(int(x) for x in target.split("."))).interface
    watch = LiveCapture(iface, bpf=f"icmp and host {target}", timeout_ms=1)
    proc = subprocess.run(["ping", "-c", str(n), "-i", str(interval), target],
                          capture_output=True, text=True, check=False)
    kernel = [float(x) for x in re.findall(r"time=([0-9.]+) ms", proc.stdout)]
    sent: dict[int, float] = {}
    wire: list[float] = []
    watch.wait(0.05)
    while (rec := watch.read()) is not None or watch.wait(0.05):
        if rec is None:
            continue
        d = decode_frame(rec.data, rec.linktype, ts_sec=rec.ts_sec, ts_usec=rec.ts_usec)
        seq = getattr(d.icmp, "seq", None)
        if d.icmp is not None and d.icmp.icmp_type == 8:
            sent[seq] = d.ts
        elif d.icmp is not None and d.icmp.icmp_type == 0 and seq in sent:
            wire.append((d.ts - sent.pop(seq)) * 1000)
    watch.close()

    scapy_rtts: list[float] | None = []
    try:
        from scapy.all import ICMP, IP, conf, sr1  # type: ignore[import-untyped]

        conf.verb = 0
        for i in range(n):
            req = IP(dst=target) / ICMP(id=0x5CA9, seq=i + 1) / (b"x" * 56)
            ans = sr1(req, timeout=1, verbose=0)
            if ans is not None:
                scapy_rtts.append((ans.time - req.sent_time) * 1000)
            time.sleep(interval)
    except ImportError:
        scapy_rtts = None  # (the bench extra: pip install -e '.[bench]')

    kmed = statistics.median(kernel) if kernel else float("nan")
    print(f"path: client -> {target} (2 routed hops, veth), n={n}, interval={interval}s")
    print(f"{'pinger':<12} {'replies':>7} {'median ms':>10} {'p99 ms':>8} {'ratio':>6}")
    rows = (("pcapping", ours), ("kernel ping", kernel), ("ping (wire)", wire),
            ("scapy sr1", scapy_rtts))
    for name, rtts in rows:
        if rtts is None:
            print(f"{name:<12} (not installed)")
            continue
        if not rtts:
            print(f"{name:<12} {0:>7}")
            continue
        med = statistics.median(rtts)
        print(f"{name:<12} {len(rtts):>7} {med:>10.3f} {pct(rtts, 99):>8.3f} "
              f"{med / kmed:>6.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--inner", metavar="TARGET")
    ap.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = ap.parse_args()
    if args.inner:
        inner(args.inner, args.n, args.interval)
        return 0
    from common import run_in_lab_client

    inner_args = ["-n", str(args.n), "--interval", str(args.interval)]
    return run_in_lab_client(__file__, "pcbr-", "10.81", inner_args, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
