"""Random ICMP messages in every tunnel, encapsulation and link type, whole, cut and with
damaged headers (scripts/random_encap_pcaps.py), printed as tcpdump 4.99.3 prints them.

Runs where tcpdump is installed; every ICMP/ARP frame must be identical with -n, -nv and
-nev.  (An ICMP error quoting a protocol pcapping does not dissect, VRRP for one, would
differ under -v; the README lists them; this seed draws none.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")


@pytest.fixture(scope="module")
def random_pcaps(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("encap")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "random_encap_pcaps.py"), str(out),
                    "--count", "80", "--seed", "3"], check=True, capture_output=True)
    return sorted(str(p) for p in out.glob("*.pcap"))


@pytest.mark.parametrize("flags", ["-n", "-nv", "-nev"])
def test_random_encapsulated_icmp_matches_tcpdump(random_pcaps: list[str], flags: str) -> None:
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_tcpdump.py"),
                          *random_pcaps, f"--flags={flags}"], capture_output=True, text=True)
    summary = res.stdout.splitlines()[-1]
    assert res.returncode == 0, "\n".join(res.stdout.splitlines()[-40:])
    same, total = summary.split(": ")[1].split()[0].split("/")
    assert same == total and int(total) > 2000
