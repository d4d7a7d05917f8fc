"""``sniff`` beside tcpdump (and tshark) in the same run: files and live capture.

    python bench/bench_sniff.py [--frames 1000000] [--rounds 3] [--tshark]
    sudo python bench/bench_sniff.py --live [--rates 400000,800000] [--seconds 3]

Files: the mix of ``make_mix.py`` (generated into ``bench/out/`` when missing); each
round runs, one after another, ``tcpdump -n -r``, ``tcpdump -nv -r`` and pcapping's
``sniff -r``, ``sniff -v -r``, ``sniff --json -r`` and ``sniff -q -r`` (and with
``--tshark`` ``tshark -r`` on the first 100,000 frames, per frame), every one writing to
/dev/null, whole process timed (wall, and CPU from the children's rusage).  Printed: the
median and best of the rounds, frames/s, and pcapping's time over tcpdump's (text and
JSON against ``tcpdump -n``, ``-v`` against ``tcpdump -nv``).

Live (root): a private pair of namespaces joined by a veth (prefix ``pcbs<pid>-``,
addresses 10.93.0.1/2, removed afterwards), ``loadgen.py`` sending echo requests out of
one end at each rate for ``--seconds``, and on the other end ``tcpdump -w /dev/null`` and
``pcapping sniff -q`` (``-j 1`` and ``-j 2``: one process, or two PACKET_FANOUT workers)
capturing the same frames at the same time; printed: sent, and each one's captured /
received / dropped counts.  Nothing leaves the two namespaces.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

from common import OUT, ROOT

PY = sys.executable


def _timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process, output to /dev/null."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def files(frames: int, rounds: int, tshark: bool, pcapng: bool = False) -> None:
    mix = OUT / f"mix-{frames}-s1.pcap"
    if not mix.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run([PY, str(ROOT / "bench" / "make_mix.py"), str(frames), str(mix)],
                       check=True)
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(ROOT))
    sniff = [PY, "-m", "pcapping", "sniff"]
    runs = {
        "tcpdump -n -r": ["tcpdump", "-n", "-r", str(mix)],
        "tcpdump -nv -r": ["tcpdump", "-nv", "-r", str(mix)],
        "sniff -r": [*sniff, "-r", str(mix)],
        "sniff -v -r": [*sniff, "-v", "-r", str(mix)],
        "sniff --json -r": [*sniff, "--json", "-r", str(mix)],
        "sniff -q -r": [*sniff, "-q", "-r", str(mix)],
        # --icmp's nearest tcpdump expression (it shows tagged frames too, not tunnelled)
        "tcpdump -n -r F ICMP": ["tcpdump", "-n", "-r", str(mix), "icmp or arp or icmp6 or "
                                 "(vlan and (icmp or arp or icmp6))"],
        "sniff --icmp -r": [*sniff, "--icmp", "-r", str(mix)],  # (tunnelled ICMP too)
        "sniff --icmp --json -r": [*sniff, "--icmp", "--json", "-r", str(mix)],
        "sniff -j 1 -r": [*sniff, "-j", "1", "-r", str(mix)],  # one process, for scale
        "sniff -j 1 -v -r": [*sniff, "-j", "1", "-v", "-r", str(mix)],
    }
    if pcapng:  # the same frames as pcapng (Wireshark's and dumpcap's format)
        ng = OUT / f"mix-{frames}-s1.pcapng"
        if not ng.exists():
            subprocess.run(["editcap", "-F", "pcapng", str(mix), str(ng)], check=True)
        runs.update({
            "tcpdump -n -r (pcapng)": ["tcpdump", "-n", "-r", str(ng)],
            "tcpdump -nv -r (pcapng)": ["tcpdump", "-nv", "-r", str(ng)],
            "sniff -r (pcapng)": [*sniff, "-r", str(ng)],
            "sniff -v -r (pcapng)": [*sniff, "-v", "-r", str(ng)],
            "sniff --json -r (pcapng)": [*sniff, "--json", "-r", str(ng)],
        })
    small = OUT / "mix-100000-s1.pcap"
    if tshark:
        if not small.exists():
            subprocess.run([PY, str(ROOT / "bench" / "make_mix.py"), "100000", str(small)],
                           check=True)
        runs["tshark -r (100k, per frame)"] = ["tshark", "-n", "-r", str(small)]
    walls: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, argv in runs.items():
            wall, cpu = _timed(argv, env)
            if name.startswith("tshark"):
                wall, cpu = wall * frames / 100000, cpu * frames / 100000
            walls[name].append(wall)
            cpus[name].append(cpu)
    med = {k: statistics.median(v) for k, v in walls.items()}
    ref = {"sniff -r": "tcpdump -n -r", "sniff --json -r": "tcpdump -n -r",
           "sniff -q -r": "tcpdump -n -r", "sniff -v -r": "tcpdump -nv -r",
           "sniff -j 1 -r": "tcpdump -n -r", "sniff -j 1 -v -r": "tcpdump -nv -r",
           "sniff --icmp -r": "tcpdump -n -r F ICMP",
           "sniff --icmp --json -r": "tcpdump -n -r F ICMP",
           "sniff -r (pcapng)": "tcpdump -n -r (pcapng)",
           "sniff -v -r (pcapng)": "tcpdump -nv -r (pcapng)",
           "sniff --json -r (pcapng)": "tcpdump -n -r (pcapng)"}
    print(f"{frames} frames ({mix.name}), {rounds} rounds, whole process, output to /dev/null")
    print("| run | median s | best s | CPU s (median) | frames/s (median) | vs tcpdump |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in runs:
        vs = ""
        if name in ref:
            vs = f"{med[name] / med[ref[name]]:.2f}x the time of `{ref[name]}`"
        print(f"| `{name}` | {med[name]:.2f} | {min(walls[name]):.2f} | "
              f"{statistics.median(cpus[name]):.2f} | {frames / med[name]:,.0f} | {vs} |")


def _ns(prefix: str) -> tuple[str, str]:
    return f"{prefix}a", f"{prefix}b"


def _lab_up(prefix: str) -> None:
    a, b = _ns(prefix)
    va, vb = f"{prefix}va", f"{prefix}vb"
    for cmd in (["ip", "netns", "add", a], ["ip", "netns", "add", b],
                ["ip", "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb,
                 "netns", b],
                ["ip", "-n", a, "link", "set", va, "up"], ["ip", "-n", b, "link", "set", vb, "up"],
                ["ip", "-n", a, "addr", "add", "10.93.0.1/24", "dev", va],
                ["ip", "-n", b, "addr", "add", "10.93.0.2/24", "dev", vb]):
        subprocess.run(cmd, check=True)


def _lab_down(prefix: str) -> None:
    for ns in _ns(prefix):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, check=False)


def _counts(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        for key in ("captured", "received by filter", "dropped by kernel"):
            if line.endswith(f"packets {key}"):
                out[key] = int(line.split()[0])
    return out


def live(rates: list[int], seconds: float, jobs: list[int]) -> None:
    prefix = f"pcbs{os.getpid()}-"
    a, b = _ns(prefix)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    _lab_up(prefix)
    try:
        print(f"live: veth between two namespaces, {seconds:g} s of 60-byte echo requests "
              "per rate; tcpdump -w /dev/null and sniff -q capture the same frames at once")
        print("| rate asked | sent/s | tcpdump captured / dropped | sniff -q -j N "
              "captured / dropped |")
        print("|---:|---:|---|---|")
        for rate in rates:
            for j in jobs:
                td = subprocess.Popen(["ip", "netns", "exec", b, "tcpdump", "-n", "-i",
                                       f"{prefix}vb", "-w", "/dev/null"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
                pc = subprocess.Popen(["ip", "netns", "exec", b, PY, "-m", "pcapping",
                                       "sniff", "-q", "-j", str(j), "-i", f"{prefix}vb"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True, env=env)
                time.sleep(1.5)
                gen = subprocess.run(["ip", "netns", "exec", a, PY,
                                      str(ROOT / "bench" / "loadgen.py"), f"{prefix}va",
                                      "--rate", str(rate), "--seconds", str(seconds)],
                                     capture_output=True, text=True, env=env, check=True)
                time.sleep(0.5)
                for p in (td, pc):
                    p.send_signal(signal.SIGINT)
                td_err = td.communicate(timeout=60)[1]
                pc_err = pc.communicate(timeout=60)[1]
                t, s = _counts(td_err), _counts(pc_err)
                sent = gen.stdout.split()
                print(f"| {rate:,} | {float(sent[-2]):,.0f} | {t.get('captured')} / "
                      f"{t.get('dropped by kernel')} | -j {j}: {s.get('captured')} / "
                      f"{s.get('dropped by kernel')} |", flush=True)
    finally:
        _lab_down(prefix)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tshark", action="store_true")
    ap.add_argument("--pcapng", action="store_true",
                    help="also the mix as pcapng (made with editcap)")
    ap.add_argument("--live", action="store_true", help="the live part (root)")
    ap.add_argument("--rates", default="400000,800000,1200000")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--jobs", default="1,2")
    args = ap.parse_args(argv)
    if args.live:
        live([int(r) for r in args.rates.split(",")], min(args.seconds, 20.0),
             [int(j) for j in args.jobs.split(",")])
    else:
        files(args.frames, args.rounds, args.tshark, args.pcapng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
