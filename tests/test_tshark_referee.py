"""`sniff --json` fields and checksum verdicts against tshark's dissection of the same frames.

Runs where tshark is installed (CI installs it); every capture under captures/ is dissected
once by tshark (IPv4 checksum verification on) and once by pcapping, and the fields both
decoded must agree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pcapping

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FILES = sorted(p for p in CAPTURES.rglob("*") if p.suffix in (".pcap", ".pcapng"))
FIELDS = [
    "frame.number", "ieee8021ad.id", "vlan.id", "arp.opcode", "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac", "arp.dst.proto_ipv4", "ip.src", "ip.dst", "ip.ttl", "ip.proto", "ip.id",
    "ip.len", "ip.checksum", "ip.checksum.status", "ip.flags.df", "ip.flags.mf",
    "icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status", "icmp.ident",
    "icmp.seq", "icmp.mtu",
]
TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def _tshark(path: Path) -> dict[int, dict[str, list[str]]]:
    argv = [TSHARK, "-r", str(path), "-o", "ip.check_checksum:TRUE", "-T", "fields",
            "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;"]
    for field in FIELDS:
        argv += ["-e", field]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    rows: dict[int, dict[str, list[str]]] = {}
    for line in res.stdout.splitlines():
        values = line.split("|")
        row = {f: (v.split(";") if v else []) for f, v in zip(FIELDS, values, strict=False)}
        rows[int(row["frame.number"][0])] = row
    return rows


def _int(text: str) -> int:
    return int(text, 0)


def _verdict(status: str) -> bool | None:
    return {"1": True, "0": False}.get(status)


def _compare(ours: dict[str, Any], theirs: dict[str, list[str]]) -> list[str]:
    """The fields on which pcapping and tshark disagree (only where both decoded them)."""
    diffs: list[str] = []

    def check(name: str, mine: Any, field: str, index: int = 0, conv=str) -> None:
        values = theirs.get(field, [])
        if index < len(values) and mine is not None:
            if conv(values[index]) != mine:
                diffs.append(f"{name}: pcapping {mine!r}, tshark {values[index]!r}")

    eth = ours.get("eth")
    if eth and eth.get("vlan"):
        # tshark names an 802.1ad service tag apart; it comes first on the wire.
        tags = theirs.get("ieee8021ad.id", []) + theirs.get("vlan.id", [])
        got = [_int(v) for v in tags]
        if got and got != eth["vlan"]:
            diffs.append(f"vlan: pcapping {eth['vlan']}, tshark {got}")
    if "arp" in ours and theirs.get("arp.opcode"):
        arp = ours["arp"]
        check("arp.op", arp["op"], "arp.opcode", conv=_int)
        if arp["htype"] == 1 and arp["ptype"] == 0x0800:
            check("arp.sha", arp["sha"], "arp.src.hw_mac")
            check("arp.spa", arp["spa"], "arp.src.proto_ipv4")
            check("arp.tpa", arp["tpa"], "arp.dst.proto_ipv4")
    ip = ours.get("ip")
    if ip and theirs.get("ip.src"):
        check("ip.src", ip["src"], "ip.src")
        check("ip.dst", ip["dst"], "ip.dst")
        check("ip.ttl", ip["ttl"], "ip.ttl", conv=_int)
        check("ip.proto", ip["proto"], "ip.proto", conv=_int)
        check("ip.id", ip["id"], "ip.id", conv=_int)
        check("ip.len", ip["len"], "ip.len", conv=_int)
        check("ip.checksum", ip["checksum"], "ip.checksum", conv=_int)
        check("ip.checksum_ok", ip["checksum_ok"], "ip.checksum.status", conv=_verdict)
        check("ip.df", ip["df"], "ip.flags.df", conv=lambda v: v in ("1", "True"))
        check("ip.mf", ip["mf"], "ip.flags.mf", conv=lambda v: v in ("1", "True"))
    icmp = ours.get("icmp")
    if icmp and theirs.get("icmp.type"):
        check("icmp.type", icmp["type"], "icmp.type", conv=_int)
        check("icmp.code", icmp["code"], "icmp.code", conv=_int)
        check("icmp.checksum", icmp["checksum"], "icmp.checksum", conv=_int)
        if icmp["checksum_ok"] is not None:
            check("icmp.checksum_ok", icmp["checksum_ok"], "icmp.checksum.status",
                  conv=_verdict)
        if icmp["type"] in (0, 8):
            check("icmp.id", icmp["id"], "icmp.ident", conv=_int)
            check("icmp.seq", icmp["seq"], "icmp.seq", conv=_int)
        if "mtu" in icmp:
            check("icmp.mtu", icmp["mtu"], "icmp.mtu", conv=_int)
        quoted = icmp.get("quoted", {}).get("ip")
        if quoted and len(theirs.get("ip.src", [])) > 1:
            check("quoted.src", quoted["src"], "ip.src", 1)
            check("quoted.dst", quoted["dst"], "ip.dst", 1)
            check("quoted.proto", quoted["proto"], "ip.proto", 1, conv=_int)
    return diffs


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CAPTURES)) for p in FILES])
def test_json_agrees_with_tshark(path: Path) -> None:
    theirs = _tshark(path)
    problems = []
    compared = 0
    for d in pcapping.read_capture(str(path)):
        ours = d.to_dict()
        row = theirs.get(d.frame)
        if row is None:
            continue
        compared += 1
        problems += [f"frame {d.frame}: {diff}" for diff in _compare(ours, row)]
    assert compared or not theirs
    assert not problems, "\n".join(problems[:40])
