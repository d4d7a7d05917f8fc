#!/usr/bin/env python3
"""Record live fixtures from the lab into captures/lab/ (needs root; rerun any time).

Builds a private lab (prefix ``pcrec-``, addresses 10.77.x as in the README), runs
``pcapping send --write`` inside the client namespace for each scenario, so each pcap holds
what pcapping injected and what the real kernel routers answered, then removes the lab.

    sudo .venv/bin/python scripts/record_lab_captures.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcapping import lab  # noqa: E402

SPEC = lab.LabSpec(prefix="pcrec-", net="10.77")
SCENARIOS = {
    "lab-echo": ["-c", "3", "-i", "0.2", SPEC.addr("target")],
    "lab-ttl-r1": ["-c", "1", "-t", "1", SPEC.addr("target")],
    "lab-ttl-r2": ["-c", "1", "-t", "2", SPEC.addr("target")],
    "lab-host-unreachable": ["-c", "1", SPEC.unreachable_addr],
    "lab-prohibited": ["-c", "1", SPEC.prohibited_addr],
    "lab-frag-needed": ["-c", "1", "-s", "1300", "-M", "do", SPEC.addr("target")],
    "lab-arp-failure": ["-c", "1", "-W", "2", SPEC.absent_addr],
    "lab-loopback": ["-c", "2", "-i", "0.2", "127.0.0.1"],
}


def main() -> int:
    out_dir = ROOT / "captures" / "lab"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    lab.up(SPEC)
    try:
        for name, argv in SCENARIOS.items():
            path = out_dir / f"{name}.pcap"
            cmd = ["ip", "netns", "exec", SPEC.ns("client"), sys.executable, "-m", "pcapping",
                   "send", "--write", str(path), *argv]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
            print(f"== {name}: pcapping send {' '.join(argv)} (exit {res.returncode})")
            print(res.stdout.rstrip())
            if res.returncode not in (0, 1):
                print(res.stderr.rstrip(), file=sys.stderr)
                return 1
    finally:
        lab.down(SPEC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
