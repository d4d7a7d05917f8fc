"""The lab: how long ``up``/``down`` take, and how fast the sweep block answers.

    sudo python bench/bench_lab.py [-n 5] [--probes 65000]

Builds a private lab (prefix ``pcbl-``, block 10.87) N times to time ``up`` and ``down``,
then inside the client namespace sends echo requests back to back from one raw socket (one
per address of the sweep block, in order) and counts what comes back, beside ``fping -i 0``
on part of the block in the same run.  Packets only go to the lab's own namespaces.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time

import common  # noqa: F401  (puts the checkout on sys.path)

from pcapping import lab

SPEC = lab.LabSpec(prefix="pcbl-", net="10.87")

_BLAST = r"""
import ipaddress, json, select, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
block, count = ipaddress.ip_network(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
s.setblocking(False)
probes = []
for i, addr in enumerate(block.hosts()):
    if i == count:
        break
    m = struct.pack("!BBHHH", 8, 0, 0, 0xB1A5, i & 0xFFFF) + b"pcapping-bench!!"
    probes.append((m[:2] + struct.pack("!H", csum(m)) + m[4:], (str(addr), 0)))
got = {}
def drain(wait):
    while select.select([s], [], [], wait)[0]:
        try:
            data = s.recv(4096)
        except BlockingIOError:
            return
        icmp = data[(data[0] & 15) * 4:]
        if icmp[0] != 8:
            key = f"{icmp[0]}/{icmp[1]}"
            got[key] = got.get(key, 0) + 1
t0 = time.perf_counter()
for n, (m, a) in enumerate(probes, 1):
    s.sendto(m, a)
    if n % 256 == 0:
        drain(0)
elapsed = time.perf_counter() - t0
drain(1.0)
print(json.dumps({"sent": len(probes), "seconds": elapsed, "answers": got}))
"""


def _client(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", SPEC.ns("client"), *argv],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5, help="up/down cycles (default 5)")
    ap.add_argument("--probes", type=int, default=65000, help="sweep probes (default 65000)")
    args = ap.parse_args()
    ups, downs = [], []
    for _ in range(args.n):
        t0 = time.perf_counter()
        lab.up(SPEC)
        ups.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        lab.down(SPEC)
        downs.append(time.perf_counter() - t0)
    print(f"lab up   ({len(lab.HOSTS)} namespaces): median {statistics.median(ups):.3f} s, "
          f"min {min(ups):.3f}, max {max(ups):.3f}  (n={args.n})")
    print(f"lab down: median {statistics.median(downs):.3f} s, min {min(downs):.3f}, "
          f"max {max(downs):.3f}")
    lab.up(SPEC)
    try:
        missing = lab.missing_features(SPEC)
        if missing:
            print(f"(missing: {', '.join(missing)})")
        proc = _client([sys.executable, "-c", _BLAST, SPEC.sweep_block, str(args.probes)])
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        res = json.loads(proc.stdout)
        rate = res["sent"] / res["seconds"]
        answered = sum(res["answers"].values())
        print(f"raw socket, one process: {res['sent']} probes in {res['seconds']:.3f} s = "
              f"{rate:,.0f}/s; answers {answered} ({res['answers']}; 0/0 echo reply, 3/1 host "
              f"unreachable, 3/13 prohibited; {SPEC.sweep_dropped} is dropped)")
        if shutil.which("fping"):
            part = SPEC.sweep_block.replace(".0.0/16", ".16.0/20")
            t0 = time.perf_counter()
            out = _client(["fping", "-g", part, "-i", "0", "-r", "0", "-t", "500", "-q", "-s"])
            wall = time.perf_counter() - t0
            sent = re.search(r"(\d+) ICMP Echos sent", out.stderr)
            replies = re.search(r"(\d+) ICMP Echo Replies received", out.stderr)
            took = re.search(r"([\d.]+) sec \(elapsed real time\)", out.stderr)
            if sent and replies and took:
                print(f"fping -i 0 -g {part}: {sent.group(1)} sent, {replies.group(1)} replies,"
                      f" {took.group(1)} s by fping's clock"
                      f" (at least {int(sent.group(1)) / max(float(took.group(1)), 1e-3):,.0f}"
                      f" probes/s: that clock includes waiting for the last replies),"
                      f" {wall:.2f} s wall")
    finally:
        lab.down(SPEC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
