"""The lab's features, checked with the kernel's own tools from the client namespace.

IPv6 (kernel ``ping -6``), the tun hop, the trace path (``traceroute`` UDP/ICMP/TCP, both
families), the sweep block (``ping``, ``fping``, a raw-socket burst), RFC 8335 PROBE (a raw
socket: iputils 20221126 has no PROBE client) and the sysctls on the sweep path.  Every
address comes from the ``LabSpec``.  The rate-limited router is tested last: its token
bucket (per destination, shared by all flows behind the NAT) is what the traceroutes before
it need.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import netns_run

from pcapping import lab as labmod
from pcapping.lab import LabSpec

pytestmark = pytest.mark.live

needs_ping = pytest.mark.skipif(shutil.which("ping") is None, reason="kernel ping not installed")
needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
needs_traceroute = pytest.mark.skipif(shutil.which("traceroute") is None,
                                      reason="traceroute not installed")  # fmt: skip


def _need(lab: LabSpec, *features: str) -> None:
    """Skip when a feature the test needs is missing (e.g. nft not installed)."""
    missing = labmod.missing_features(lab)
    for name in features:
        if name in missing:
            pytest.skip(f"lab feature {name!r} missing: {missing[name]}")


def _parallel(lab: LabSpec, host: str, commands: Mapping[str, Sequence[str]],
              timeout_s: float = 30) -> dict[str, str]:
    """Run commands at the same time in one namespace; stdout+stderr of each, by key."""
    procs = {
        key: subprocess.Popen(["ip", "netns", "exec", lab.ns(host), *argv],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for key, argv in commands.items()
    }  # fmt: skip
    return {key: p.communicate(timeout=timeout_s)[0] for key, p in procs.items()}


@contextmanager
def _capture(lab: LabSpec, host: str, iface: str, bpf: str, path: Path) -> Iterator[str]:
    """tcpdump writing ``path`` in a namespace; yields its 'listening on' line.  Immediate
    mode: otherwise libpcap (TPACKET_V3) holds the last packets until its 1 s block timeout,
    and a tcpdump stopped sooner writes none of them."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns(host), "tcpdump", "-n", "-U", "--immediate-mode",
         "-i", iface, "-w", str(path), *bpf.split()],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "tcpdump: listening on IFACE, link-type ..."
    if "listening on" not in line:
        proc.kill()
        pytest.fail(f"tcpdump in {lab.ns(host)}: {line}{proc.communicate(timeout=10)[1]}")
    try:
        yield line
    finally:
        time.sleep(0.2)
        proc.terminate()
        proc.wait(timeout=10)


def _records(path: Path, *opts: str) -> list[str]:
    """tcpdump's text for a capture, one string per packet (``-v`` continuations joined)."""
    text = subprocess.run(["tcpdump", "-n", *opts, "-r", str(path)], capture_output=True,
                          text=True, timeout=30).stdout  # fmt: skip
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and out:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def _ping(*args: str) -> list[str]:
    return ["ping", "-n", "-c", "1", *args]


def _expect(outputs: Mapping[str, str], expected: Mapping[str, str]) -> None:
    for key, fragment in expected.items():
        assert fragment in outputs[key], f"{key}: {fragment!r} not in:\n{outputs[key]}"


# --- IPv6 on the core ---


@needs_ping
@needs_tcpdump
def test_kernel_ping6_scenarios(lab: LabSpec, tmp_path: Path) -> None:
    """Every IPv6 scenario of the core, as kernel ``ping -6`` words it, and on the wire."""
    t6, r1, r2 = lab.addr6("target"), lab.addr6("r1"), lab.addr6("r2")
    client = lab.addr6("client")
    cases = {
        "reply": (_ping("-6", "-W", "2", t6), f"64 bytes from {t6}: icmp_seq=1 ttl=62 time="),
        "ttl1": (_ping("-6", "-W", "2", "-t", "1", t6),
                 f"From {r1} icmp_seq=1 Time exceeded: Hop limit"),
        "ttl2": (_ping("-6", "-W", "2", "-t", "2", t6),
                 f"From {r2} icmp_seq=1 Time exceeded: Hop limit"),
        "noroute": (_ping("-6", "-W", "2", lab.unreachable_addr6),
                    f"From {r2} icmp_seq=1 Destination unreachable: No route"),
        "prohibited": (_ping("-6", "-W", "2", lab.prohibited_addr6),
                       f"From {r2} icmp_seq=1 Destination unreachable: Administratively "
                       "prohibited"),
        "too_big": (_ping("-6", "-W", "2", "-s", "1300", "-M", "do", t6),
                    f"From {r2} icmp_seq=1 Packet too big: mtu=1280"),
        # NDP gives up after 3 solicitations, about 3 s
        "ndp": (_ping("-6", "-W", "5", lab.absent_addr6),
                f"From {client} icmp_seq=1 Destination unreachable: Address unreachable"),
    }  # fmt: skip
    labmod.flush_pmtu(lab)
    netns_run(lab, "client", ["ip", "-6", "neigh", "flush", "dev", lab.client_iface])
    pcap = tmp_path / "client6.pcap"
    try:
        with _capture(lab, "client", lab.client_iface, "icmp6", pcap):
            outputs = _parallel(lab, "client", {k: argv for k, (argv, _) in cases.items()})
    finally:
        labmod.flush_pmtu(lab)
    _expect(outputs, {k: text for k, (_, text) in cases.items()})
    wire = "\n".join(_records(pcap))
    for fragment in (
        f"IP6 {t6} > {client}: ICMP6, echo reply",
        f"IP6 {r1} > {client}: ICMP6, time exceeded in-transit",
        f"IP6 {r2} > {client}: ICMP6, time exceeded in-transit",
        f"IP6 {r2} > {client}: ICMP6, destination unreachable, unreachable route "
        f"{lab.unreachable_addr6}",
        # (tcpdump 4.99.3 prints two spaces before "unreachable prohibited")
        f"IP6 {r2} > {client}: ICMP6, destination unreachable,  unreachable prohibited "
        f"{lab.prohibited_addr6}",
        f"IP6 {r2} > {client}: ICMP6, packet too big, mtu 1280",
        # the default router is a link-local address: NDP for it, answered
        f"ICMP6, neighbor solicitation, who has {lab.gateway6}",
        f"IP6 {lab.gateway6} > ",
        f"ICMP6, neighbor advertisement, tgt is {lab.gateway6}",
        f"ICMP6, neighbor solicitation, who has {lab.absent_addr6}",
    ):
        assert fragment in wire, f"{fragment!r} not in:\n{wire}"
    assert f"neighbor advertisement, tgt is {lab.absent_addr6}" not in wire


def test_client_ipv6_routes_and_router_link_local(lab: LabSpec) -> None:
    default = netns_run(lab, "client", ["ip", "-6", "route", "show", "default"]).stdout
    assert default.startswith(f"default via {lab.gateway6} dev {lab.client_iface} ")
    addrs = netns_run(lab, "r1", ["ip", "-6", "-o", "addr", "show", "dev", "to-client"]).stdout
    assert f" {lab.gateway6}/64 " in addrs and f" {lab.addr6('r1')}/64 " in addrs
    # no address is tentative (no DAD) and none was made by the kernel (fixed link-locals)
    for host in ("client", "r1", "r2", "target"):
        out = netns_run(lab, host, ["ip", "-6", "-o", "addr", "show"]).stdout
        assert "tentative" not in out, out
        assert not re.search(r"fe80::[0-9a-f]+:[0-9a-f]+:[0-9a-f]+:[0-9a-f]+/64", out), out
    mtu = netns_run(lab, "target", ["ip", "-6", "route", "get", lab.addr6("client")]).stdout
    assert " dev to-r2 " in mtu


# --- the tun hop ---


@needs_ping
@needs_tcpdump
def test_tun_hop_kernel_ping(lab: LabSpec, tmp_path: Path) -> None:
    """Over pctun0 (raw IP): echo reply, Time exceeded at both routers, unreachable."""
    _need(lab, "tun")
    hops, hops6 = lab.tun_hops(), lab.tun_hops6()
    r2, r2_6 = hops[1][0], hops6[1][0]
    cases = {
        "reply": (_ping("-W", "2", lab.tun_target),
                  f"64 bytes from {lab.tun_target}: icmp_seq=1 ttl=62 time="),
        "ttl1": (_ping("-W", "2", "-t", "1", lab.tun_target),
                 f"From {hops[0][0]} icmp_seq=1 Time to live exceeded"),
        "ttl2": (_ping("-W", "2", "-t", "2", lab.tun_target),
                 f"From {r2} icmp_seq=1 Time to live exceeded"),
        "unreachable": (_ping("-W", "2", lab.tun_unreachable),
                        f"From {r2} icmp_seq=1 Destination Host Unreachable"),
        "reply6": (_ping("-6", "-W", "2", lab.tun_target6),
                   f"64 bytes from {lab.tun_target6}: icmp_seq=1 ttl=62 time="),
        "ttl1_6": (_ping("-6", "-W", "2", "-t", "1", lab.tun_target6),
                   f"From {hops6[0][0]} icmp_seq=1 Time exceeded: Hop limit"),
        "ttl2_6": (_ping("-6", "-W", "2", "-t", "2", lab.tun_target6),
                   f"From {r2_6} icmp_seq=1 Time exceeded: Hop limit"),
        "unreachable6": (_ping("-6", "-W", "2", lab.tun_unreachable6),
                         f"From {r2_6} icmp_seq=1 Destination unreachable: No route"),
    }  # fmt: skip
    pcap = tmp_path / "tun.pcap"
    with _capture(lab, "client", lab.tun_iface, "", pcap) as listening:
        outputs = _parallel(lab, "client", {k: argv for k, (argv, _) in cases.items()})
    assert f"listening on {lab.tun_iface}, link-type RAW (Raw IP)" in listening
    _expect(outputs, {k: text for k, (_, text) in cases.items()})
    wire = "\n".join(_records(pcap))
    assert f"IP {lab.tun_target} > {lab.tun_local}: ICMP echo reply" in wire
    assert f"IP6 {lab.tun_target6} > {lab.tun_local6}: ICMP6, echo reply" in wire
    # the client's kernel routes these prefixes over the tun, and only these
    for dst in (lab.tun_target, lab.tun_target6):
        route = netns_run(lab, "client", ["ip", "route", "get", dst]).stdout
        assert f" dev {lab.tun_iface} " in route, route
    route = netns_run(lab, "client", ["ip", "route", "get", lab.addr("target")]).stdout
    assert f" dev {lab.client_iface} " in route


def test_tun_relay_process(lab: LabSpec) -> None:
    pid = labmod.relay_pid(lab)
    assert pid is not None
    assert Path(lab.relay_pidfile).read_text().strip() == str(pid)
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"pcapping.lab.tunrelay" in argv and lab.ns("client").encode() in argv
    link = netns_run(lab, "r1", ["ip", "-d", "link", "show", lab.tun_peer_iface]).stdout
    assert "tun type tun" in link and "POINTOPOINT" in link


# --- the trace path ---


def _traceroute_hops(text: str) -> dict[int, list[str]]:
    """traceroute -n output as TTL -> answering addresses (``*`` for a probe unanswered)."""
    hops: dict[int, list[str]] = {}
    for line in text.splitlines()[1:]:
        words = line.split()
        if not words or not words[0].isdigit():
            continue
        seen: list[str] = []
        for word in words[1:]:
            if word == "*":
                seen.append("*")
                continue
            try:
                seen.append(str(ipaddress.ip_address(word)))
            except ValueError:
                pass
        hops[int(words[0])] = seen
    return hops


@needs_traceroute
def test_traceroute_shows_every_hop(lab: LabSpec) -> None:
    """UDP, ICMP (-I) and TCP (-T) traceroutes, IPv4 and IPv6: every hop's address, ``*`` at
    the silent router, the destination reached (Port unreachable, echo reply, RST)."""
    missing = labmod.missing_features(lab)
    base = ["traceroute", "-n", "-q", "1", "-w", "1", "-m", "10"]
    runs = {}
    for mode, extra in (("udp", []), ("icmp", ["-I"]), ("tcp", ["-T"])):
        runs[mode] = [*base, *extra, lab.trace_target]
        runs[f"{mode}6"] = [*base, "-6", *extra, lab.trace_target6]
    outputs = _parallel(lab, "client", runs)
    for key, text in outputs.items():
        expected = lab.trace_hops6() if key.endswith("6") else lab.trace_hops()
        silent_ttl = lab.trace_ttl("silent")
        if "silent" in missing:  # without nft the silent router answers like the others
            expected[silent_ttl - 1] = ((lab.silent_hop6 if key.endswith("6")
                                         else lab.silent_hop),)  # fmt: skip
        hops = _traceroute_hops(text)
        assert sorted(hops) == list(range(1, len(expected) + 1)), text
        for ttl, want in enumerate(expected, start=1):
            if want == ():
                assert hops[ttl] == ["*"], f"{key} TTL {ttl}:\n{text}"
            else:
                assert hops[ttl] and set(hops[ttl]) <= set(want), f"{key} TTL {ttl}:\n{text}"
        assert hops[len(expected)] == [expected[-1][0]]


@needs_traceroute
def test_ecmp_flows_take_both_routers_each_one_path(lab: LabSpec) -> None:
    """16 UDP flows (fixed ports: ``traceroute -U --sport``), both families: together they
    reach both equal-cost routers; each flow stays on one of ``ecmp_paths()`` (same router
    for every probe, and the NAT router answers from the link of that path)."""
    ttl = lab.trace_ttl("ecmpa")
    assert lab.trace_ttl("nat") == ttl + 1
    runs = {}
    for i in range(16):
        # Source ports below the ephemeral range, and not the same for both families: an
        # IPv6 socket bound to a port (dual-stack) holds it for IPv4 too.
        for family, target, port in (("v4", lab.trace_target, 20000 + i),
                                     ("v6", lab.trace_target6, 21000 + i)):  # fmt: skip
            runs[f"{family}-{i}"] = [
                "traceroute", "-n", "-U", f"--sport={port}", "-f", str(ttl),
                "-m", str(ttl + 1), "-q", "3", "-w", "1",
                *(["-6"] if family == "v6" else []), target]  # fmt: skip
    outputs = _parallel(lab, "client", runs)
    taken: dict[str, set[tuple[str, str]]] = {"v4": set(), "v6": set()}
    for key, text in outputs.items():
        hops = _traceroute_hops(text)
        first, second = set(hops.get(ttl, [])), set(hops.get(ttl + 1, []))
        assert len(first) == 1 and len(second) == 1, f"{key}: one path per flow\n{text}"
        taken[key[:2]].add((first.pop(), second.pop()))
    assert taken["v4"] == set(lab.ecmp_paths()), outputs
    assert taken["v6"] == set(lab.ecmp_paths6()), outputs


@needs_ping
@needs_tcpdump
def test_nat_and_dscp_as_the_destination_sees_them(lab: LabSpec, tmp_path: Path) -> None:
    """Beyond the NAT the source is the NAT's outside address; beyond the DSCP router the
    TOS / traffic class is cs1 (0x20), and before it still 0."""
    _need(lab, "nat", "dscp")
    far, before = tmp_path / "dest.pcap", tmp_path / "before-dscp.pcap"
    tos = f"0x{lab.dscp_value << 2:x}"
    with (_capture(lab, "dest", "to-ratelimit", "icmp or icmp6", far),
          _capture(lab, "dscp", "to-nat", "icmp or icmp6", before)):  # fmt: skip
        outputs = _parallel(lab, "client", {
            "v4": _ping("-W", "2", lab.trace_target),
            "v6": _ping("-6", "-W", "2", lab.trace_target6),
        })  # fmt: skip
    _expect(outputs, {"v4": "1 received", "v6": "1 received"})
    seen = _records(far, "-v")
    requests = [r for r in seen if "echo request" in r]
    assert len(requests) == 2, seen
    v4 = [r for r in requests if r.startswith(f"{r.split()[0]} IP (")]
    v6 = [r for r in requests if " IP6 (" in r]
    assert len(v4) == 1 and len(v6) == 1, requests
    assert f"{lab.nat_outside} > {lab.trace_target}: ICMP echo request" in v4[0]
    assert f"(tos {tos}," in v4[0]
    assert f"{lab.nat_outside6} > {lab.trace_target6}: " in v6[0]
    assert f"(class {tos}," in v6[0]
    assert not any(lab.addr("client") in r or lab.addr6("client") in r for r in seen)
    upstream = [r for r in _records(before, "-v") if "echo request" in r]
    assert len(upstream) == 2 and all("class 0x" not in r for r in upstream), upstream
    assert any("(tos 0x0," in r for r in upstream), upstream


@needs_ping
def test_silent_router_still_answers_echo(lab: LabSpec) -> None:
    outputs = _parallel(lab, "client", {
        "v4": _ping("-W", "2", lab.silent_hop), "v6": _ping("-6", "-W", "2", lab.silent_hop6)})
    _expect(outputs, {"v4": f"64 bytes from {lab.silent_hop}:",
                      "v6": f"64 bytes from {lab.silent_hop6}:"})  # fmt: skip


# --- the sweep block ---


@needs_ping
def test_sweep_block_kernel_ping(lab: LabSpec) -> None:
    """One address in each part of the /16 (and of its IPv6 twin)."""
    _need(lab, "sweep-errors")
    r2, r2_6 = lab.sweep_error_hop, lab.sweep_error_hop6
    block = ipaddress.ip_network(lab.sweep_block)
    first, last = str(block.network_address + 1), str(block.broadcast_address - 1)

    def one(cidr: str) -> str:
        return str(next(ipaddress.ip_network(cidr).hosts()))

    cases = {
        "first": (_ping("-W", "2", first), f"64 bytes from {first}: icmp_seq=1 ttl=62"),
        "last": (_ping("-W", "2", last), f"64 bytes from {last}: icmp_seq=1 ttl=62"),
        "alive": (_ping("-W", "2", one(lab.sweep_alive)), "ttl=62"),
        "unreachable": (_ping("-W", "2", one(lab.sweep_unreachable)),
                        f"From {r2} icmp_seq=1 Destination Host Unreachable"),
        "prohibited": (_ping("-W", "2", one(lab.sweep_prohibited)),
                       f"From {r2} icmp_seq=1 Packet filtered"),
        "dropped": (_ping("-W", "1", one(lab.sweep_dropped)), "1 packets transmitted, 0 received"),
        "alive6": (_ping("-6", "-W", "2", one(lab.sweep_alive6)), "ttl=62"),
        "unreachable6": (_ping("-6", "-W", "2", one(lab.sweep_unreachable6)),
                         f"From {r2_6} icmp_seq=1 Destination unreachable: Address unreachable"),
        "prohibited6": (_ping("-6", "-W", "2", one(lab.sweep_prohibited6)),
                        f"From {r2_6} icmp_seq=1 Destination unreachable: Administratively "
                        "prohibited"),
        "dropped6": (_ping("-6", "-W", "1", one(lab.sweep_dropped6)),
                     "1 packets transmitted, 0 received"),
    }  # fmt: skip
    outputs = _parallel(lab, "client", {k: argv for k, (argv, _) in cases.items()})
    _expect(outputs, {k: text for k, (_, text) in cases.items()})
    for key in ("dropped", "dropped6"):
        assert "From " not in outputs[key], outputs[key]


@pytest.mark.skipif(shutil.which("fping") is None, reason="fping not installed")
def test_sweep_fping_ranges(lab: LabSpec) -> None:
    """``fping -g`` over a /28 of each part: 14 alive, or 14 unreachable (with the ICMP
    errors from r2 where there are any)."""
    _need(lab, "sweep-errors")
    parts = {"alive": lab.sweep_alive, "unreachable": lab.sweep_unreachable,
             "prohibited": lab.sweep_prohibited, "dropped": lab.sweep_dropped}  # fmt: skip
    runs = {k: ["fping", "-r", "0", "-t", "500", "-g", cidr.replace(".0/24", ".0/28")]
            for k, cidr in parts.items()}  # fmt: skip
    out = _parallel(lab, "client", runs)
    r2 = lab.sweep_error_hop
    assert out["alive"].count(" is alive") == 14, out["alive"]
    for key in ("unreachable", "prohibited", "dropped"):
        assert out[key].count(" is unreachable") == 14 and " is alive" not in out[key], out[key]
    assert out["unreachable"].count(f"ICMP Host Unreachable from {r2} for ICMP Echo") == 14
    assert out["prohibited"].count(f"Administratively Prohibited) from {r2} for ICMP Echo") == 14
    assert "ICMP" not in out["dropped"]


_BURST = r"""
import ipaddress, json, select, socket, struct, sys
def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
plan = json.loads(sys.argv[1])  # part -> list of addresses
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE: hold every answer
s.setblocking(False)
part_of = {a: part for part, addrs in plan.items() for a in addrs}
got = {part: {} for part in plan}
def drain(wait):
    while select.select([s], [], [], wait)[0]:
        data = s.recv(4096)
        ip = data[: (data[0] & 15) * 4]
        icmp = data[len(ip):]
        if icmp[0] == 0:
            dst = socket.inet_ntoa(ip[12:16])
        elif icmp[0] == 3:
            inner = icmp[8:]
            dst = socket.inet_ntoa(inner[16:20])
        else:
            continue
        key = f"{icmp[0]}/{icmp[1]} from {socket.inet_ntoa(ip[12:16]) if icmp[0] else 'dst'}"
        part = part_of.get(dst)
        if part is not None:
            got[part][key] = got[part].get(key, 0) + 1
sent = 0
for addr in part_of:
    m = struct.pack("!BBHHH", 8, 0, 0, 0x7E57, sent & 0xFFFF) + b"pcapping-burst!!"
    s.sendto(m[:2] + struct.pack("!H", csum(m)) + m[4:], (addr, 0))
    sent += 1
drain(1.0)
print(json.dumps(got))
"""


def test_sweep_burst_is_not_rate_limited(lab: LabSpec) -> None:
    """Thousands of probes sent back to back: every alive address answers, every probe to
    an error /24 gets its error from r2, the dropped /24 gets nothing."""
    _need(lab, "sweep-errors")
    block = ipaddress.ip_network(lab.sweep_block)
    error_parts = {ipaddress.ip_network(p) for p in (
        lab.sweep_unreachable, lab.sweep_prohibited, lab.sweep_dropped)}  # fmt: skip
    alive: list[str] = []
    for sub in block.subnets(new_prefix=24):
        if sub not in error_parts:
            alive += [str(a) for a in sub.hosts()]
        if len(alive) >= 3000:
            break
    plan = {"alive": alive[:3000]}
    for name in ("unreachable", "prohibited", "dropped"):
        plan[name] = [str(a) for a in ipaddress.ip_network(getattr(lab, f"sweep_{name}")).hosts()]
    proc = netns_run(lab, "client", [sys.executable, "-c", _BURST, json.dumps(plan)], timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    r2 = lab.sweep_error_hop
    assert got["alive"] == {"0/0 from dst": 3000}
    assert got["unreachable"] == {"3/1 from " + r2: 254}
    assert got["prohibited"] == {"3/13 from " + r2: 254}
    assert got["dropped"] == {}


def test_rate_limit_sysctls_on_the_sweep_path(lab: LabSpec) -> None:
    """Nothing on client -> r1 -> r2 -> target limits echo replies or ICMP errors; the
    ``ratelimit`` router alone keeps the kernel's defaults."""
    keys = ["net/ipv4/icmp_ratelimit", "net/ipv4/icmp_ratemask", "net/ipv4/icmp_msgs_per_sec",
            "net/ipv4/icmp_msgs_burst", "net/ipv4/icmp_echo_ignore_all",
            "net/ipv6/icmp/ratelimit", "net/ipv6/icmp/ratemask", "net/ipv6/icmp/echo_ignore_all"]
    script = "for k in " + " ".join(keys) + "; do echo \"$k=$(cat /proc/sys/$k)\"; done"

    def values(host: str) -> dict[str, str]:
        out = netns_run(lab, host, ["sh", "-c", script]).stdout
        return dict(line.split("=", 1) for line in out.splitlines())

    for host in ("client", "r1", "r2", "target"):
        v = values(host)
        assert v["net/ipv4/icmp_ratelimit"] == "0" and v["net/ipv4/icmp_ratemask"] == "0", v
        assert int(v["net/ipv4/icmp_msgs_per_sec"]) >= 1_000_000
        assert int(v["net/ipv4/icmp_msgs_burst"]) >= 1_000_000
        assert v["net/ipv6/icmp/ratelimit"] == "0" and v["net/ipv6/icmp/ratemask"] == "", v
        assert v["net/ipv4/icmp_echo_ignore_all"] == "0" == v["net/ipv6/icmp/echo_ignore_all"]
    limited = values("ratelimit")
    assert limited["net/ipv4/icmp_ratelimit"] != "0" and limited["net/ipv4/icmp_ratemask"] != "0"
    assert limited["net/ipv6/icmp/ratelimit"] != "0" and limited["net/ipv6/icmp/ratemask"] != ""


# --- RFC 8335 PROBE ---


_PROBE = r"""
import json, select, socket, struct, sys, time
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
socks = {4: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
         6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)}
queries = json.loads(sys.argv[1])
answers = {f"{d} {n}": None for d, n in queries}
for ident, (dst, name) in enumerate(queries, start=0x8300):
    v6 = ":" in dst
    label = name.encode() + b"\0" * (-len(name) % 4)
    obj = struct.pack("!HBB", 4 + len(label), 3, 1) + label  # Interface Identification, by name
    ext = struct.pack("!BBH", 0x20, 0, 0) + obj  # extension header, version 2
    ext = ext[:2] + struct.pack("!H", csum(ext)) + ext[4:]
    msg = struct.pack("!BBHHBB", 160 if v6 else 42, 0, 0, ident, 1, 1) + ext  # L-bit set
    if not v6:
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    socks[6 if v6 else 4].sendto(msg, (dst, 0))
deadline = time.monotonic() + 1.0
while (left := deadline - time.monotonic()) > 0:
    for sock in select.select(list(socks.values()), [], [], left)[0]:
        data = sock.recv(2000)
        if sock is socks[4]:
            data = data[(data[0] & 15) * 4:]
        ident = struct.unpack("!H", data[4:6])[0] - 0x8300
        if data[0] in (43, 161) and 0 <= ident < len(queries):
            dst, name = queries[ident]
            answers[f"{dst} {name}"] = {"code": data[1], "state": data[7]}
print(json.dumps(answers))
"""


def _probe(lab: LabSpec, queries: list[tuple[str, str]]) -> dict[str, dict[str, int] | None]:
    proc = netns_run(lab, "client", [sys.executable, "-c", _PROBE, json.dumps(queries)])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_probe_answered_by_the_target_both_families(lab: LabSpec) -> None:
    """RFC 8335 PROBE: the target (``icmp_echo_enable_probe=1``) answers for an interface it
    has (code 0, active, IPv4 and IPv6 running) and one it lacks (code 2, No Such Interface);
    r2 (sysctl 0) does not answer.  Turning the IPv4 sysctl off silences IPv6 PROBE too."""
    knob = "/proc/sys/net/ipv4/icmp_echo_enable_probe"
    assert netns_run(lab, "target", ["cat", knob]).stdout.strip() == "1"
    t4, t6 = lab.addr("target"), lab.addr6("target")
    got = _probe(lab, [(t4, "to-r2"), (t6, "to-r2"), (t4, "nosuch0"), (t6, "nosuch0"),
                       (lab.addr("r2"), "to-r1"), (lab.addr6("r2"), "to-r1")])  # fmt: skip
    for dst in (t4, t6):
        assert got[f"{dst} to-r2"] == {"code": 0, "state": 0b111}  # A, 4 and 6 bits
        assert got[f"{dst} nosuch0"] is not None and got[f"{dst} nosuch0"]["code"] == 2
    assert got[f"{lab.addr('r2')} to-r1"] is None and got[f"{lab.addr6('r2')} to-r1"] is None
    try:
        netns_run(lab, "target", ["sh", "-c", f"echo 0 > {knob}"])
        off = _probe(lab, [(t6, "to-r2")])
    finally:
        netns_run(lab, "target", ["sh", "-c", f"echo 1 > {knob}"])
    assert off == {f"{t6} to-r2": None}
    assert netns_run(lab, "target", ["cat", knob]).stdout.strip() == "1"


# --- last: the rate-limited router (its bucket is what the traceroutes above needed) ---


@needs_ping
def test_ratelimit_router_answers_fewer_than_it_gets(lab: LabSpec) -> None:
    """A burst of 20 TTL-expiring probes: the ``ratelimit`` router answers fewer than 20 (at
    least one); the router before it and the destination after it answer all 20."""
    target, target6 = lab.trace_target, lab.trace_target6
    ttl = lab.trace_ttl("ratelimit")
    burst = ["ping", "-n", "-c", "20", "-i", "0.01", "-W", "1"]
    runs = {
        "limited": [*burst, "-t", str(ttl), target],
        "limited6": [*burst, "-6", "-t", str(ttl), target6],
        "before": [*burst, "-t", str(lab.trace_ttl("dscp")), target],
        "before6": [*burst, "-6", "-t", str(lab.trace_ttl("dscp")), target6],
        "after": [*burst, "-t", str(lab.trace_ttl("dest")), target],
        "after6": [*burst, "-6", "-t", str(lab.trace_ttl("dest")), target6],
    }
    out = _parallel(lab, "client", runs)
    limited = out["limited"].count(f"From {lab.ratelimit_hop} icmp_seq=")
    limited6 = out["limited6"].count(f"From {lab.ratelimit_hop6} icmp_seq=")
    assert 1 <= limited < 20, out["limited"]
    assert 1 <= limited6 < 20, out["limited6"]
    assert out["before"].count(f"From {lab.dscp_hop} icmp_seq=") == 20, out["before"]
    assert out["before6"].count(f"From {lab.dscp_hop6} icmp_seq=") == 20, out["before6"]
    assert out["after"].count(f"bytes from {target}: icmp_seq=") == 20, out["after"]
    assert out["after6"].count(f"bytes from {target6}: icmp_seq=") == 20, out["after6"]
