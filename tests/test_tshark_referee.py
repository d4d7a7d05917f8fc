"""`sniff --json` fields and checksum verdicts against tshark's dissection of the same frames.

Runs where tshark is installed (CI installs it); every capture under captures/ is dissected
once by tshark (IPv4 checksum verification on; tshark always verifies ICMPv6 checksums) and
once by pcapping, and the fields both decoded must agree: Ethernet/VLAN, ARP, IPv4 and ICMP,
IPv6 (addresses, hop limit, next header, payload length, flow label, traffic class) and
ICMPv6 (type, code, checksum and its verdict, echo id/seq, MTU, pointer, NDP targets, flags,
link-layer addresses, RA fields, prefixes, MTU option, MLD group, and the quoted datagram's
addresses).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pcapping
from pcapping.wire.ipv6 import ip6_bytes, ip6_str

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FILES = sorted(p for p in CAPTURES.rglob("*") if p.suffix in (".pcap", ".pcapng"))
FIELDS = [
    "frame.number", "ieee8021ad.id", "vlan.id", "arp.opcode", "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac", "arp.dst.proto_ipv4", "ip.src", "ip.dst", "ip.ttl", "ip.proto", "ip.id",
    "ip.len", "ip.checksum", "ip.checksum.status", "ip.flags.df", "ip.flags.mf",
    "icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status", "icmp.ident",
    "icmp.seq", "icmp.mtu",
    "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.nxt", "ipv6.plen", "ipv6.flow", "ipv6.tclass",
    "icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.checksum.status",
    "icmpv6.echo.identifier", "icmpv6.echo.sequence_number", "icmpv6.mtu", "icmpv6.pointer",
    "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address", "icmpv6.opt.linkaddr",
    "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
    "icmpv6.nd.ra.cur_hop_limit", "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.prefix",
    "icmpv6.opt.mtu", "icmpv6.mld.multicast_address",
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
    diffs += _compare6(ours, theirs, check)
    return diffs


def _a6(text: str) -> str:
    """tshark's address text in pcapping's (RFC 5952) form: tshark writes the deprecated
    IPv4-compatible ::a.b.c.d in dotted form, RFC 5952 only IPv4-mapped ones."""
    return ip6_str(ip6_bytes(text))


def _compare6(ours: dict[str, Any], theirs: dict[str, list[str]], check) -> list[str]:
    diffs: list[str] = []
    ip6 = ours.get("ip6")
    if ip6 and theirs.get("ipv6.src"):
        check("ip6.src", ip6["src"], "ipv6.src", conv=_a6)
        check("ip6.dst", ip6["dst"], "ipv6.dst", conv=_a6)
        check("ip6.hlim", ip6["hlim"], "ipv6.hlim", conv=_int)
        check("ip6.nxt", ip6["nxt"], "ipv6.nxt", conv=_int)
        check("ip6.plen", ip6["plen"], "ipv6.plen", conv=_int)
        check("ip6.flow", ip6["flow"], "ipv6.flow", conv=_int)
        check("ip6.tclass", ip6["tclass"], "ipv6.tclass", conv=_int)
    icmp6 = ours.get("icmp6")
    if not icmp6 or not theirs.get("icmpv6.type"):
        return diffs
    check("icmp6.type", icmp6["type"], "icmpv6.type", conv=_int)
    check("icmp6.code", icmp6["code"], "icmpv6.code", conv=_int)
    check("icmp6.checksum", icmp6["checksum"], "icmpv6.checksum", conv=_int)
    if icmp6["checksum_ok"] is not None:
        check("icmp6.checksum_ok", icmp6["checksum_ok"], "icmpv6.checksum.status",
              conv=_verdict)
    if icmp6["type"] in (128, 129):
        check("icmp6.id", icmp6["id"], "icmpv6.echo.identifier", conv=_int)
        check("icmp6.seq", icmp6["seq"], "icmpv6.echo.sequence_number", conv=_int)
    if "mtu" in icmp6:
        check("icmp6.mtu", icmp6["mtu"], "icmpv6.mtu", conv=_int)
    if "pointer" in icmp6:
        check("icmp6.pointer", icmp6["pointer"], "icmpv6.pointer", conv=_int)
    if icmp6["type"] == 135 and "target" in icmp6:
        check("ns.target", icmp6["target"], "icmpv6.nd.ns.target_address", conv=_a6)
    if icmp6["type"] == 136 and "target" in icmp6:
        check("na.target", icmp6["target"], "icmpv6.nd.na.target_address", conv=_a6)
        flag = lambda v: v in ("1", "True")  # noqa: E731
        check("na.router", icmp6["router"], "icmpv6.nd.na.flag.r", conv=flag)
        check("na.solicited", icmp6["solicited"], "icmpv6.nd.na.flag.s", conv=flag)
        check("na.override", icmp6["override"], "icmpv6.nd.na.flag.o", conv=flag)
    if icmp6["type"] == 134 and "hop_limit" in icmp6:
        check("ra.hop_limit", icmp6["hop_limit"], "icmpv6.nd.ra.cur_hop_limit", conv=_int)
        check("ra.lifetime", icmp6["router_lifetime"], "icmpv6.nd.ra.router_lifetime",
              conv=_int)
    options = icmp6.get("options", [])
    ll = [o["lladdr"] for o in options if "lladdr" in o and len(o["lladdr"]) == 17]
    if ll and theirs.get("icmpv6.opt.linkaddr"):
        if ll != theirs["icmpv6.opt.linkaddr"][: len(ll)]:
            diffs.append(f"nd lladdr: pcapping {ll}, tshark {theirs['icmpv6.opt.linkaddr']}")
    prefixes = [o["prefix"] for o in options if o["type"] == 3 and "prefix" in o]
    if prefixes and theirs.get("icmpv6.opt.prefix"):
        if prefixes != [_a6(v) for v in theirs["icmpv6.opt.prefix"]][: len(prefixes)]:
            diffs.append(f"nd prefixes: pcapping {prefixes}, tshark "
                         f"{theirs['icmpv6.opt.prefix']}")
    mtus = [o["mtu"] for o in options if "mtu" in o]
    if mtus and theirs.get("icmpv6.opt.mtu"):
        if mtus != [_int(v) for v in theirs["icmpv6.opt.mtu"]][: len(mtus)]:
            diffs.append(f"nd mtu: pcapping {mtus}, tshark {theirs['icmpv6.opt.mtu']}")
    mld = icmp6.get("mld")
    if mld and "group" in mld:
        check("mld.group", mld["group"], "icmpv6.mld.multicast_address", conv=_a6)
    quoted = icmp6.get("quoted", {}).get("ip6")
    if quoted and len(theirs.get("ipv6.src", [])) > 1:
        check("quoted6.src", quoted["src"], "ipv6.src", 1, conv=_a6)
        check("quoted6.dst", quoted["dst"], "ipv6.dst", 1, conv=_a6)
        check("quoted6.nxt", quoted["nxt"], "ipv6.nxt", 1, conv=_int)
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
