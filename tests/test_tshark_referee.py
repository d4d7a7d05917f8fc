"""`sniff --json` fields and checksum verdicts against tshark's dissection of the same frames.

Runs where tshark is installed (CI installs it); every capture under captures/ is dissected
once by tshark (IPv4 checksum verification on) and once by pcapping, and the fields both
decoded must agree: link headers of every link type, every encapsulation record (VXLAN,
Geneve, GRE, ERSPAN, MPLS, PPPoE, LLC/SNAP, PIM, MACsec), and each IPv4 header in wire order
(``outer_ip``, the IPv4 entries of ``encap``, ``ip``, then the datagram an ICMP error
quotes) against tshark's occurrences of the ``ip`` fields, which are in the same order; ICMP
is compared when tshark reached the same innermost IPv4 header. Where tshark stops earlier
(it has no dissector for UDP port 8472 or the Broadcom LI shim), the layers it did decode
are still compared. IPv6 (addresses, hop limit, next header, payload length, flow label,
traffic class) and ICMPv6 (type, code, checksum and its verdict, echo id/seq, MTU, pointer,
NDP targets, flags, link-layer addresses, RA fields, prefixes, MTU option, MLD group, and
the quoted datagram's addresses) too; tshark always verifies ICMPv6 checksums.
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
    # encapsulations
    "udp.srcport", "udp.dstport", "vxlan.vni", "geneve.vni", "geneve.proto_type", "gre.key",
    "gre.sequence_number", "gre.proto", "erspan.version", "erspan.spanid", "mpls.label",
    "mpls.ttl", "mpls.bottom", "pppoe.code", "pppoe.session_id", "llc.dsap", "llc.ssap",
    "llc.oui", "llc.pid", "pim.type", "pim.cksum.status", "macsec.AN", "macsec.PN",
    # link types
    "ppp.protocol", "chdlc.address", "chdlc.protocol", "ipoib.type", "ipoib.daddr.qpn",
    "ipnet.family", "ipnet.ifindex", "ipnet.zsrc", "ipnet.zdst", "arcnet.src", "arcnet.dst",
    "arcnet.protID", "sll.ifindex", "sll.pkttype", "fr.dlci", "fr.nlpid",
]
TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def _tshark(path: Path) -> dict[int, dict[str, list[str]]]:
    argv = [TSHARK, "-r", str(path), "-o", "ip.check_checksum:TRUE",
            "-T", "fields",
            "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;"]
    for field in FIELDS:
        argv += ["-e", field]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert "aren't valid" not in res.stderr, res.stderr
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


def _flag(text: str) -> bool:
    return text in ("1", "True")


def _ip_layers(ours: dict[str, Any]) -> list[dict[str, Any]]:
    """pcapping's IPv4 headers in wire order (the quoted one excluded)."""
    layers = [ours["outer_ip"]] if "outer_ip" in ours else []
    layers += [e for e in ours.get("encap", ()) if e["type"] == "ipv4"]
    if "ip" in ours:
        layers.append(ours["ip"])
    return layers


def _compare(ours: dict[str, Any], theirs: dict[str, list[str]]) -> list[str]:
    """The fields on which pcapping and tshark disagree (only where both decoded them)."""
    diffs: list[str] = []

    def check(name: str, mine: Any, field: str, index: int = 0, conv=str) -> None:
        values = theirs.get(field, [])
        if index < len(values) and mine is not None and values[index] != "":
            if conv(values[index]) != mine:
                diffs.append(f"{name}: pcapping {mine!r}, tshark {values[index]!r}")

    encap = ours.get("encap", [])
    eth = ours.get("eth")
    tags = list(eth.get("vlan", [])) if eth else []
    for e in encap:
        tags += e.get("vlan", []) if e["type"] == "eth" else []
        tags += [e["vid"]] if e["type"] == "vlan" else []
    if tags:
        # tshark names 802.1ad service tags apart, so compare the sets of ids
        got = sorted(_int(v) for v in theirs.get("ieee8021ad.id", []) + theirs.get("vlan.id", []))
        if got and got != sorted(tags):
            diffs.append(f"vlan: pcapping {sorted(tags)}, tshark {got}")
    if "arp" in ours and theirs.get("arp.opcode"):
        arp = ours["arp"]
        check("arp.op", arp["op"], "arp.opcode", conv=_int)
        if arp["htype"] == 1 and arp["ptype"] == 0x0800:
            check("arp.sha", arp["sha"], "arp.src.hw_mac")
            check("arp.spa", arp["spa"], "arp.src.proto_ipv4")
            check("arp.tpa", arp["tpa"], "arp.dst.proto_ipv4")
    layers = _ip_layers(ours)
    for i, ip in enumerate(layers):
        check(f"ip[{i}].src", ip["src"], "ip.src", i)
        if ip["ihl"] == 5:  # (tshark's ip.dst is a source route's last hop)
            check(f"ip[{i}].dst", ip["dst"], "ip.dst", i)
        check(f"ip[{i}].ttl", ip["ttl"], "ip.ttl", i, conv=_int)
        check(f"ip[{i}].proto", ip["proto"], "ip.proto", i, conv=_int)
        check(f"ip[{i}].id", ip["id"], "ip.id", i, conv=_int)
        if ip["len"]:  # tshark reports a zero total length (TSO) as the frame's
            check(f"ip[{i}].len", ip["len"], "ip.len", i, conv=_int)
        check(f"ip[{i}].checksum", ip["checksum"], "ip.checksum", i, conv=_int)
        check(f"ip[{i}].checksum_ok", ip["checksum_ok"], "ip.checksum.status", i,
              conv=_verdict)
        check(f"ip[{i}].df", ip["df"], "ip.flags.df", i, conv=_flag)
        check(f"ip[{i}].mf", ip["mf"], "ip.flags.mf", i, conv=_flag)
    icmp = ours.get("icmp")
    reached = len(theirs.get("ip.src", [])) >= len(layers)
    if icmp and theirs.get("icmp.type") and reached:
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
        n = len(layers)
        if quoted and len(theirs.get("ip.src", [])) > n:
            check("quoted.src", quoted["src"], "ip.src", n)
            check("quoted.dst", quoted["dst"], "ip.dst", n)
            check("quoted.proto", quoted["proto"], "ip.proto", n, conv=_int)
    diffs += _compare_encap(encap, check)
    diffs += _compare_link(ours, check)
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


def _compare_encap(encap: list[dict[str, Any]], check) -> list[str]:
    """Each encapsulation's first record against tshark's first occurrence of its fields."""
    seen: set[str] = set()
    labels: list[dict[str, Any]] = []
    for e in encap:
        kind = e["type"]
        if kind == "mpls":
            labels += e["labels"]
        if kind in seen:
            continue
        seen.add(kind)
        if kind == "udp":
            check("udp.sport", e["sport"], "udp.srcport", conv=_int)
            check("udp.dport", e["dport"], "udp.dstport", conv=_int)
        elif kind == "vxlan":
            check("vxlan.vni", e["vni"], "vxlan.vni", conv=_int)
        elif kind == "geneve":
            check("geneve.vni", e["vni"], "geneve.vni", conv=_int)
            check("geneve.protocol", e["protocol"], "geneve.proto_type", conv=_int)
        elif kind == "gre":
            check("gre.protocol", e["protocol"], "gre.proto", conv=_int)
            same_layout = not (e["version"] == 1 and e["flags"] & 0xC000)  # (tshark reads
            if "key" in e and same_layout:  # a version-1 checksum field tcpdump does not)
                check("gre.key", e["key"], "gre.key", conv=_int)
            if "seq" in e and same_layout:
                check("gre.seq", e["seq"], "gre.sequence_number", conv=_int)
        elif kind == "erspan" and e["version"]:
            check("erspan.version", e["version"], "erspan.version", conv=_int)
            check("erspan.session", e["session"], "erspan.spanid", conv=_int)
        elif kind == "pppoe":
            check("pppoe.code", e["code"], "pppoe.code", conv=_int)
            check("pppoe.session", e["session"], "pppoe.session_id", conv=_int)
        elif kind == "ppp" and e["address"] == 0xFF:  # (tshark guesses other framings apart)
            check("ppp.protocol", e["protocol"], "ppp.protocol", conv=_int)
        elif kind == "llc":
            check("llc.dsap", e["dsap"], "llc.dsap", conv=_int)
            check("llc.ssap", e["ssap"], "llc.ssap", conv=_int)
        elif kind == "snap":
            check("snap.oui", e["oui"], "llc.oui", conv=_int)
            check("snap.pid", e["pid"], "llc.pid", conv=_int)
        elif kind == "pim":
            check("pim.type", e["ptype"], "pim.type", conv=_int)
            if "checksum_ok" in e:
                check("pim.checksum_ok", e["checksum_ok"], "pim.cksum.status", conv=_verdict)
        elif kind == "macsec":
            check("macsec.an", e["an"], "macsec.AN", conv=_int)
            check("macsec.pn", e["pn"], "macsec.PN", conv=_int)
    for i, m in enumerate(labels):
        check(f"mpls[{i}].label", m["label"], "mpls.label", i, conv=_int)
        check(f"mpls[{i}].ttl", m["ttl"], "mpls.ttl", i, conv=_int)
        check(f"mpls[{i}].bottom", m["bottom"], "mpls.bottom", i, conv=_flag)
    return []


def _compare_link(ours: dict[str, Any], check) -> list[str]:
    if "ppp" in ours and ours["ppp"]["address"] == 0xFF:
        check("ppp.protocol", ours["ppp"]["protocol"], "ppp.protocol", conv=_int)
    if "chdlc" in ours:
        check("chdlc.address", ours["chdlc"]["address"], "chdlc.address", conv=_int)
        check("chdlc.protocol", ours["chdlc"]["protocol"], "chdlc.protocol", conv=_int)
    if "ipoib" in ours:
        check("ipoib.type", ours["ipoib"]["type"], "ipoib.type", conv=_int)
        check("ipoib.dst_qpn", ours["ipoib"]["dst_qpn"], "ipoib.daddr.qpn", conv=_int)
    if "ipnet" in ours:
        ipnet = ours["ipnet"]
        check("ipnet.family", ipnet["family"], "ipnet.family", conv=_int)
        check("ipnet.ifindex", ipnet["ifindex"], "ipnet.ifindex", conv=_int)
        check("ipnet.zsrc", ipnet["zsrc"], "ipnet.zsrc", conv=_int)
        check("ipnet.zdst", ipnet["zdst"], "ipnet.zdst", conv=_int)
    if "arcnet" in ours:
        arc = ours["arcnet"]
        check("arcnet.src", arc["src"], "arcnet.src", conv=_int)
        check("arcnet.dst", arc["dst"], "arcnet.dst", conv=_int)
        check("arcnet.type", arc["type"], "arcnet.protID", conv=_int)
    if "fr" in ours and ours["fr"]["address_length"] == 2:  # (longer: tshark counts apart)
        check("fr.dlci", ours["fr"]["dlci"], "fr.dlci", conv=_int)
        if "nlpid" in ours["fr"]:  # the last: tshark lists a pad byte as an NLPID too
            check("fr.nlpid", ours["fr"]["nlpid"], "fr.nlpid", -1, conv=_int)
    if "sll" in ours and "ifindex" in ours["sll"]:
        check("sll.ifindex", ours["sll"]["ifindex"], "sll.ifindex", conv=_int)
        check("sll.pkttype", ours["sll"]["pkttype"], "sll.pkttype", conv=_int)
    return []


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


def test_the_referee_sees_every_new_encapsulation_and_link_type() -> None:
    """The fixtures give the referee something to compare for each of them."""
    kinds: set[str] = set()
    for path in FILES:
        for d in pcapping.read_capture(str(path)):
            ours = d.to_dict()
            kinds |= {e["type"] for e in ours.get("encap", ())}
            kinds |= {k for k in ("ppp", "chdlc", "ipoib", "ipnet", "arcnet", "pppoe", "fr")
                      if k in ours}
    assert {"vxlan", "otv", "geneve", "gre", "erspan", "ipip", "mpls", "pppoe", "ppp",
            "llc", "snap", "pim", "macsec", "bcm_li", "eth", "udp", "dsa", "edsa",
            "brcm"} <= kinds
    assert {"ppp", "chdlc", "ipoib", "ipnet", "arcnet", "fr"} <= kinds
