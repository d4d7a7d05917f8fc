"""Shared helpers for the benchmarks: make ``pcapping`` importable from a checkout.

Importing this module puts the repository root first on ``sys.path`` so the scripts run
against the working tree (``python bench/bench_decode.py``) with or without
``pip install -e .``.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def best_median(samples: list[float]) -> tuple[float, float]:
    return min(samples), statistics.median(samples)


def run_in_lab_client(script: str, prefix: str, net: str, inner_args: list[str],
                      keep: bool = False) -> int:
    """Re-run ``script --inner TARGET ARGS`` inside the client namespace of a private lab.

    The lab (``prefix``, address block ``net``) is built unless already up, and taken
    down afterwards unless it was up before or ``keep`` is set.
    """
    import os
    import subprocess

    from pcapping import lab

    spec = lab.LabSpec(prefix=prefix, net=net)
    was_up = lab.is_up(spec)
    if not was_up:
        lab.up(spec)
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        return subprocess.call(
            ["ip", "netns", "exec", spec.ns("client"), sys.executable, script, "--inner",
             spec.addr("target"), *inner_args], env=env, cwd=ROOT)
    finally:
        if not was_up and not keep:
            lab.down(spec)
