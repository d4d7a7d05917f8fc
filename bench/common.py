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
