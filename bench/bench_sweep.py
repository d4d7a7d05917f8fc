"""A /16 sweep (65,534 targets), same run, same lab: pcapping beside fping, nping and nmap.

    sudo python bench/bench_sweep.py [--rates 50000,100000,150000] [--rounds 1] [--keep]
                                     [--skip nmap,nping] [--fping-interval-ms 0]

Builds a private lab (prefix ``pcbw-``, block 10.88, sweep block 10.188.0.0/16) unless it
is up, and from its client namespace sweeps the lab's sweep block, which the target answers
entirely except three /24s (host unreachable, prohibited, dropped by r2), so 64,766 targets
must be reported alive.  For every run it reports:

- **wire rate**: echo requests per second as an independent capture on r1's interface to the
  client saw them arrive (tcpdump, first to last request, one target in 16 sampled by
  address): the same clock for every tool;
- **alive / missed**: how many targets the tool itself reported alive, and how many of the
  64,766 it missed (0 is the bar);
- wall time of the whole process and its peak RSS (``os.wait4``).

Tools: ``pcapping send -g BLOCK --rate R -r 0 -a -s`` at each rate (its ``--rate`` figure
too: the rate it held while the first round went out); ``fping -g BLOCK -r 0 -i 0 -a``
(fping's fastest: no gap; its seqmap allows 65,535 probes per 10 s, just a /16);
``nping --icmp -c 1 --rate R`` (where installed); ``nmap -sn -n -PE --max-retries 0
--min-rate R`` (where installed).  Then pcapping's peak RSS for a /24 and for the /16.

Packets go only into the lab's namespaces; every run is bounded (one probe per target).
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcapping import lab  # noqa: E402
from pcapping.io.pcapfile import PcapReader  # noqa: E402

SPEC = lab.LabSpec(prefix="pcbw-", net="10.88")
PCAPPING = [sys.executable, "-m", "pcapping", "send"]
TIME = "/usr/bin/time"


def in_ns(host: str, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", SPEC.ns(host), *argv]


def run(argv: list[str], timeout: float = 600) -> tuple[str, str, int, float, int]:
    """(stdout, stderr, status, wall seconds, peak RSS KiB) of one process.  The RSS comes
    from GNU time, whose own small process forks the tool (``wait4`` here would count this
    script's own pages too: a forked child's high-water mark survives its exec)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([TIME, "-f", "RSS_KB=%M", *argv], capture_output=True,
                              text=True, timeout=timeout, check=False,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        return exc.stdout or "", exc.stderr or "", -9, time.perf_counter() - t0, 0
    wall = time.perf_counter() - t0
    err = proc.stderr
    m = re.search(r"RSS_KB=(\d+)\s*$", err)
    rss = int(m.group(1)) if m else 0
    if m:
        err = err[:m.start()]
    return proc.stdout, err, proc.returncode, wall, rss


def expected_alive() -> set[str]:
    base = SPEC.sweep_block.split("/")[0].rsplit(".", 2)[0]
    errors = {p.split("/")[0].rsplit(".", 1)[0] for p in (
        SPEC.sweep_unreachable, SPEC.sweep_prohibited, SPEC.sweep_dropped)}
    out = set()
    for c in range(256):
        for d in range(256):
            if (c, d) in ((0, 0), (255, 255)):
                continue
            a = f"{base}.{c}.{d}"
            if a.rsplit(".", 1)[0] not in errors:
                out.add(a)
    return out


SAMPLE = 16  # the watcher sees the targets whose last octet is a multiple of this


class Watch:
    """tcpdump on r1's interface to the client (the first hop: it sees every request, also
    those r2 rejects or drops later): when echo requests arrived, for one target in SAMPLE
    (chosen by address, the same for every tool; a full capture would take a core of the
    two from the tools)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        iface = "to-client"
        self.proc = subprocess.Popen(
            in_ns("r1", ["tcpdump", "-i", iface, "-w", str(path), "-s", "64", "-B",
                             "16384", "-U",
                             f"icmp and icmp[0] == 8 and ip[19] % {SAMPLE} == 0"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        self.proc.stderr.readline()  # "listening on ..."

    def stop(self) -> tuple[int, float | None, int]:
        """(requests, wire rate first to last, kernel drops)."""
        time.sleep(0.3)
        self.proc.send_signal(2)
        _, err = self.proc.communicate(timeout=20)
        drops = re.search(r"(\d+) packets dropped by kernel", err or "")
        times = [r.ts_sec + r.ts_usec / 1e6 for r in PcapReader(str(self.path))]
        self.path.unlink(missing_ok=True)
        dropped = int(drops.group(1)) if drops else 0
        if len(times) < 2:
            return len(times) * SAMPLE, None, dropped
        return len(times) * SAMPLE, (len(times) - 1) * SAMPLE / (times[-1] - times[0]), dropped


def alive_from(out: str) -> set[str]:
    return {w for w in out.split() if w.count(".") == 3}


def nping_alive(out: str) -> set[str]:
    return set(re.findall(r"RCVD \(.*?\) ICMP \[([\d.]+) > [\d.]+ Echo reply", out))


def nmap_alive(out: str) -> set[str]:
    return set(re.findall(r"Nmap scan report for ([\d.]+)", out))


def measure(name: str, argv: list[str], parse: Any, want: set[str], rows: list[dict],
            extra: Any = None) -> None:
    tmp = Path("/tmp") / f"bench_sweep_{os.getpid()}.pcap"
    watch = Watch(tmp)
    out, err, status, wall, rss = run(in_ns("client", argv))
    requests, rate, drops = watch.stop()
    got = parse(out) & want
    row = {"tool": name, "wire_rate": rate, "requests": requests, "alive": len(got),
           "missed": len(want - got), "wall": wall, "rss_mb": rss / 1024, "drops": drops,
           "status": status}
    if extra is not None:
        row.update(extra(out, err))
    rows.append(row)
    note = f" (capture dropped {drops})" if drops else ""
    print(f"  {name:44s} {_fmt_rate(rate):>10s}/s on the wire, {len(got):6d} alive, "
          f"missed {len(want - got):5d}, {wall:6.2f} s, {rss / 1024:6.1f} MB{note}",
          flush=True)


def _fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def pcapping_extra(out: str, err: str) -> dict[str, Any]:
    m = re.search(r"(\d+) probes/s while the first round was sent \((\d+) probes in "
                  r"([\d.]+) s; --rate ([\d.]+)\)", err)
    if not m:
        return {}
    return {"held": int(m.group(1)), "set": float(m.group(4))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="50000,100000,150000")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="leave the lab up")
    ap.add_argument("--skip", default="", help="comma list of tools to skip: fping,nping,nmap")
    ap.add_argument("--fping-interval-ms", default="0")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (namespaces)", file=sys.stderr)
        return 2
    if not os.access(TIME, os.X_OK):
        print(f"needs GNU time ({TIME}) for the peak RSS figures", file=sys.stderr)
        return 2
    skip = set(filter(None, args.skip.split(",")))
    rates = [int(r) for r in args.rates.split(",")]
    was_up = lab.is_up(SPEC)
    if not was_up:
        lab.up(SPEC)
    try:
        missing = lab.missing_features(SPEC).get("sweep-errors")
        if missing:
            print(f"warning: the sweep block's error /24s are missing ({missing})")
        block = SPEC.sweep_block
        want = expected_alive()
        print(f"sweep of {block} (65,534 targets, {len(want)} alive) from {SPEC.ns('client')}"
              f", {args.rounds} round(s)", flush=True)
        rows: list[dict] = []
        for _ in range(args.rounds):
            for rate in rates:
                measure(f"pcapping --rate {rate}",
                        [*PCAPPING, "-g", block, "--rate", str(rate), "-r", "0", "-a", "-s"],
                        alive_from, want, rows, pcapping_extra)
            if "fping" not in skip and shutil.which("fping"):
                measure(f"fping -i {args.fping_interval_ms} -r 0",
                        ["fping", "-g", block, "-r", "0", "-i", args.fping_interval_ms, "-a"],
                        alive_from, want, rows)
            if "nping" not in skip and shutil.which("nping"):
                measure(f"nping --icmp --rate {rates[0]}",
                        ["nping", "--icmp", "-c", "1", "--rate", str(rates[0]), block],
                        nping_alive, want, rows)
            if "nmap" not in skip and shutil.which("nmap"):
                measure(f"nmap -sn -PE --min-rate {rates[0]}",
                        ["nmap", "-sn", "-n", "-PE", "--max-retries", "0", "--min-rate",
                         str(rates[0]), block], nmap_alive, want, rows)
        print("\nmedians:")
        for tool in dict.fromkeys(r["tool"] for r in rows):
            rs = [r for r in rows if r["tool"] == tool]
            med = {k: statistics.median(r[k] for r in rs if r.get(k) is not None)
                   for k in ("wire_rate", "alive", "missed", "wall", "rss_mb")
                   if any(r.get(k) is not None for r in rs)}
            held = [r["held"] for r in rs if "held" in r]
            extra = (f", held {statistics.median(held):,.0f}/s of {rs[0]['set']:,.0f}"
                     if held else "")
            print(f"  {tool:44s} wire {_fmt_rate(med.get('wire_rate'))}/s, alive "
                  f"{med['alive']:.0f}, missed {med['missed']:.0f}, {med['wall']:.2f} s, "
                  f"{med['rss_mb']:.1f} MB{extra}")
        print("\npeak RSS of pcapping (default mode, --rate 50000): /24 vs /16")
        for cidr in (SPEC.sweep_alive, block):
            out, err, status, wall, rss = run(in_ns("client", [
                *PCAPPING, "-g", cidr, "--rate", "50000", "-r", "0", "-q"]))
            print(f"  {cidr:20s} {rss / 1024:6.1f} MB peak RSS, {wall:5.2f} s, exit {status}")
    finally:
        if not was_up and not args.keep:
            lab.down(SPEC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
