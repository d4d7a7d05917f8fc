"""pcapping.lab: the namespace lab, checked with the kernel's own ping and tcpdump."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import netns_run, repo_env

from pcapping import lab as labmod
from pcapping.errors import PcappingError
from pcapping.lab import LabSpec


def _netns_list() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pcapping", "lab", *args],
                          capture_output=True, text=True, env=repo_env(), timeout=60)  # fmt: skip


def _leftovers(spec: LabSpec) -> list[str]:
    """What a lab that is down must not leave: namespaces, relay process, files."""
    left = sorted(set(spec.namespaces) & _netns_list())
    left += [p for p in (spec.relay_pidfile, spec.state_file) if os.path.exists(p)]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if spec.relay_pidfile.encode() in argv:
                left.append(f"relay process {pid}")
    return left


def _wait_listening(proc: subprocess.Popen[str]) -> None:
    """Return once tcpdump says its handle is open."""
    assert proc.stderr is not None
    lines = []
    while True:
        line = proc.stderr.readline()
        lines.append(line)
        if not line or line.startswith("listening on"):
            break
    assert line.startswith("listening on"), "".join(lines)


# --- no root needed ---


def test_spec_names_and_addresses() -> None:
    spec = LabSpec()
    assert spec.namespaces[:4] == ("pcping-client", "pcping-r1", "pcping-r2", "pcping-target")
    assert spec.namespaces == tuple(f"pcping-{h}" for h in labmod.HOSTS)
    addrs = [spec.addr(h) for h in labmod.HOSTS[:4]]
    assert addrs == ["10.77.1.2", "10.77.1.1", "10.77.2.2", "10.77.3.2"]
    assert (spec.unreachable_addr, spec.prohibited_addr, spec.absent_addr) == (
        "10.77.4.1",
        "10.77.5.1",
        "10.77.1.99",
    )
    assert spec.client_iface == "pc0"
    other = LabSpec(prefix="pcpt-", net="10.78")
    assert other.ns("r2") == "pcpt-r2" and other.addr("target") == "10.78.3.2"


@pytest.mark.parametrize(
    "kwargs", [{"prefix": ""}, {"prefix": "a b"}, {"prefix": "x" * 17}, {"net": "10"},
               {"net": "10.300"}, {"net": "10.77.1"}, {"net": "a.b"}]
)  # fmt: skip
def test_spec_rejects_bad_values(kwargs: dict[str, str]) -> None:
    with pytest.raises(PcappingError):
        LabSpec(**kwargs)


def test_ipv6_twins() -> None:
    spec = LabSpec(net="10.78")
    assert spec.to6("10.78.3.2") == "fd00:10:78:3::2" == spec.addr6("target")
    assert spec.to6("10.78.4.0/24") == "fd00:10:78:4::/64"
    assert spec.to6("10.178.0.0/16") == "fd00:10:178::/48" == spec.sweep_block6
    assert spec.ip6(1, 99) == spec.absent_addr6 == "fd00:10:78:1::99"
    assert spec.gateway6 == "fe80::1"
    assert (spec.unreachable_addr6, spec.prohibited_addr6) == ("fd00:10:78:4::1", "fd00:10:78:5::1")
    assert LabSpec(net="10.0").to6("10.0.1.2") == "fd00:10:0:1::2"
    with pytest.raises(PcappingError):
        spec.to6("10.78.0.0/20")
    # every global IPv6 address is the twin of the IPv4 one on the same interface
    v4 = {(h, i): c for h, i, c, _ in spec.interfaces()}
    for host, iface, cidr6, _ll in spec.interfaces6():
        assert cidr6.split("/")[0] == spec.to6(v4[(host, iface)].split("/")[0])
    r1_to_client = [ll for h, i, _c, ll in spec.interfaces6() if (h, i) == ("r1", "to-client")]
    assert r1_to_client == [spec.gateway6]


def test_topology_is_consistent() -> None:
    spec = LabSpec()
    names = [(h, i) for h, i, _c, _m in spec.interfaces()]
    assert len(names) == len(set(names))
    assert all(len(i) <= 15 for _h, i in names)
    assert {h for h, _i in names} == set(labmod.HOSTS)
    addrs = [c.split("/")[0] for _h, _i, c, _m in spec.interfaces()]
    assert len(addrs) == len(set(addrs))
    for host in labmod.HOSTS:
        assert spec.addr(host) in addrs
        assert spec.ns(host) in spec.namespaces
    # the trace path: one tuple per TTL, both ECMP routers at one TTL, the silent one empty
    hops = spec.trace_hops()
    assert len(hops) == len(spec.trace_path) == spec.trace_ttl("dest")
    assert hops[spec.trace_ttl("ecmpa") - 1] == spec.ecmp_hops
    assert spec.trace_ttl("ecmpa") == spec.trace_ttl("ecmpb")
    assert hops[spec.trace_ttl("silent") - 1] == ()
    assert hops[0] == (spec.addr("r1"),) and hops[-1] == (spec.trace_target,)
    for name in ("dscp", "ratelimit"):
        assert hops[spec.trace_ttl(name) - 1] == (getattr(spec, f"{name}_hop"),)
    assert hops[spec.trace_ttl("nat") - 1] == spec.nat_hops and spec.nat_hop in spec.nat_hops
    paths = spec.ecmp_paths()
    assert [p[0] for p in paths] == list(spec.ecmp_hops)
    assert [p[1] for p in paths] == list(spec.nat_hops)
    assert spec.trace_hops6() == [tuple(spec.to6(a) for a in h) for h in hops]
    assert spec.tun_hops() == [(spec.tun_peer,), (spec.addr("r2"),), (spec.tun_target,)]
    with pytest.raises(PcappingError, match="not on the trace path"):
        spec.trace_ttl("target")


def test_sweep_block_is_derived_from_net() -> None:
    assert LabSpec(net="10.77").sweep_block == "10.177.0.0/16"
    assert LabSpec(net="10.200").sweep_block == "10.44.0.0/16"  # wraps, never NET itself
    spec = LabSpec(net="10.78")
    block = ipaddress.ip_network(spec.sweep_block)
    parts = [spec.sweep_alive, spec.sweep_unreachable, spec.sweep_prohibited, spec.sweep_dropped]
    nets = [ipaddress.ip_network(p) for p in parts]
    assert all(n.subnet_of(block) and n.prefixlen == 24 for n in nets)
    assert len(set(nets)) == 4
    assert not block.overlaps(ipaddress.ip_network(f"{spec.net}.0.0/16"))
    assert spec.sweep_error_hop == spec.addr("r2")
    parts6 = [spec.sweep_alive6, spec.sweep_unreachable6, spec.sweep_prohibited6,
              spec.sweep_dropped6]  # fmt: skip
    assert parts6 == [spec.to6(p) for p in parts]


def test_sysctls_and_rulesets() -> None:
    spec = LabSpec()
    for host in labmod.HOSTS:
        values = spec.sysctls(host)
        assert values["net/ipv6/conf/default/disable_ipv6"] == 0
        assert values["net/ipv6/conf/default/accept_dad"] == 0
        assert values["net/ipv6/conf/default/router_solicitations"] == 0
        limited = host == "ratelimit"
        assert ("net/ipv4/icmp_ratelimit" in values) is not limited
        assert ("net/ipv6/icmp/ratelimit" in values) is not limited
        assert (values.get("net/ipv4/ip_forward") == 1) is (host in labmod.ROUTERS)
        assert "mld2-listener-report" in spec.nft_ruleset(host)
    assert spec.sysctls("target")["net/ipv4/icmp_echo_enable_probe"] == 1
    assert spec.sysctls("r1")["net/ipv4/fib_multipath_hash_policy"] == 3
    assert spec.sysctls("r1")["net/ipv6/fib_multipath_hash_fields"] == 0x37
    assert 'oifname "to-dscp" masquerade' in spec.nft_ruleset("nat")
    assert "ip dscp set cs1" in spec.nft_ruleset("dscp")
    assert "icmpv6 type time-exceeded drop" in spec.nft_ruleset("silent")
    assert f"ip daddr {spec.sweep_dropped} drop" in spec.nft_ruleset("r2")


def test_cli_status_of_a_lab_that_is_down_exits_1() -> None:
    proc = _cli("status", "--prefix", "pcnone-", "--net", "10.81")
    assert proc.returncode == 1
    assert "(pcnone-*, 10.81.0.0/16): down" in proc.stdout
    assert "pcapping lab up --prefix pcnone- --net 10.81" in proc.stdout


@pytest.mark.parametrize("args", [["--net", "10.300"], ["--prefix", "a b"], ["--net", "x"]])
def test_cli_bad_lab_options_are_one_line(args: list[str]) -> None:
    proc = _cli("status", *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("pcapping: bad lab ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_unknown_host_is_an_error() -> None:
    with pytest.raises(PcappingError, match="no host"):
        LabSpec().ns("r3")


def test_not_root_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for action in (labmod.up, labmod.down, labmod.demo):
        with pytest.raises(PcappingError, match="lab needs root"):
            action(LabSpec(prefix="pcnr-", net="10.80"))


def test_status_text_for_a_lab_that_is_down() -> None:
    spec = LabSpec(prefix="pcnone-", net="10.81")
    text = labmod.status(spec)
    assert ": down" in text and "pcapping lab up" in text
    assert "sudo ip netns exec pcnone-client pcapping send 10.81.3.2" in text


# --- live ---


@pytest.mark.live
def test_lab_namespaces_exist(lab: LabSpec) -> None:
    assert set(lab.namespaces) <= _netns_list()
    assert all(n.startswith(lab.prefix) for n in lab.namespaces)
    assert labmod.is_up(lab)
    links = netns_run(lab, "target", ["ip", "-o", "link", "show", "to-r2"]).stdout
    assert " mtu 1280 " in links


@pytest.mark.live
def test_status_mentions_addresses(lab: LabSpec) -> None:
    text = labmod.status(lab)
    assert ": up" in text
    for host in labmod.HOSTS:
        assert lab.ns(host) in text and lab.addr(host) in text
    for addr in (lab.unreachable_addr, lab.prohibited_addr, lab.absent_addr):
        assert addr in text
    run_in = f"sudo ip netns exec {lab.ns('client')} pcapping send"
    target = lab.addr("target")
    for args in (target, f"{target} -t 1", f"{target} -t 2", f"{target} -s 1300 -M do",
                 lab.unreachable_addr, lab.prohibited_addr, lab.absent_addr):  # fmt: skip
        assert f"{run_in} {args}" in text
    assert f"exec {lab.ns('client')} pcapping sniff --icmp -i pc0" in text


@pytest.mark.live
def test_cli_status(lab: LabSpec) -> None:
    """``--prefix``/``--net`` select the lab; status exits 0 for a lab that is up."""
    proc = _cli("status", "--prefix", lab.prefix, "--net", lab.net)
    assert proc.returncode == 0, proc.stderr
    assert f"({lab.prefix}*, {lab.net}.0.0/16): up" in proc.stdout
    assert lab.ns("client") in proc.stdout and lab.addr("target") in proc.stdout


@pytest.mark.live
@pytest.mark.skipif(shutil.which("ping") is None, reason="kernel ping (iputils) not installed")
def test_kernel_ping_scenarios(lab: LabSpec, tmp_path: Path) -> None:
    """Every scenario, answered as the docstring of pcapping.lab says, and seen on the wire."""
    target, r1, r2 = lab.addr("target"), lab.addr("r1"), lab.addr("r2")
    client = lab.addr("client")
    pcap = tmp_path / "client.pcap"
    sniffer = None
    if shutil.which("tcpdump"):
        sniffer = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), "tcpdump", "-n", "-U", "-i", "pc0",
             "-w", str(pcap), "icmp or arp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert sniffer.stderr is not None
        assert "listening on pc0" in sniffer.stderr.readline()
    cases = {
        # argv after `ping -c 1 -n`: the line iputils prints
        ("-W", "2", target): f"64 bytes from {target}: icmp_seq=1 ttl=62 time=",
        ("-W", "2", "-t", "1", target): f"From {r1} icmp_seq=1 Time to live exceeded",
        ("-W", "2", "-t", "2", target): f"From {r2} icmp_seq=1 Time to live exceeded",
        ("-W", "2", lab.unreachable_addr): f"From {r2} icmp_seq=1 Destination Host Unreachable",
        ("-W", "2", lab.prohibited_addr): f"From {r2} icmp_seq=1 Packet filtered",
        ("-W", "2", "-s", "1300", "-M", "do", target):
            f"From {r2} icmp_seq=1 Frag needed and DF set (mtu = 1280)",
        # the kernel gives up on ARP after 3 probes, about 3 s
        ("-W", "5", lab.absent_addr): f"From {client} icmp_seq=1 Destination Host Unreachable",
    }  # fmt: skip
    labmod.flush_pmtu(lab)  # an earlier Frag-needed would make ping fail locally
    try:
        procs = {
            args: subprocess.Popen(
                ["ip", "netns", "exec", lab.ns("client"), "ping", "-c", "1", "-n", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            for args in cases
        }
        outputs = {args: p.communicate(timeout=15)[0] for args, p in procs.items()}
    finally:
        labmod.flush_pmtu(lab)
        if sniffer is not None:
            time.sleep(0.2)
            sniffer.terminate()
            sniffer.wait(timeout=10)
    for args, expected in cases.items():
        assert expected in outputs[args], f"ping {' '.join(args)}:\n{outputs[args]}"

    if sniffer is None:
        return
    wire = subprocess.run(
        ["tcpdump", "-n", "-r", str(pcap)], capture_output=True, text=True, timeout=30
    ).stdout
    for fragment in (
        f"IP {target} > {client}: ICMP echo reply",
        f"IP {r1} > {client}: ICMP time exceeded in-transit",
        f"IP {r2} > {client}: ICMP time exceeded in-transit",
        f"IP {r2} > {client}: ICMP host {lab.unreachable_addr} unreachable,",
        f"IP {r2} > {client}: ICMP host {lab.prohibited_addr} unreachable - admin prohibited",
        f"IP {r2} > {client}: ICMP {target} unreachable - need to frag (mtu 1280)",
        f"ARP, Request who-has {lab.absent_addr} tell {client}",
    ):
        assert fragment in wire, f"{fragment!r} not in:\n{wire}"
    assert f"Reply {lab.absent_addr} is-at" not in wire


@pytest.mark.live
def test_up_is_idempotent_and_down_removes_only_its_own(lab: LabSpec) -> None:
    spec = LabSpec(prefix=f"pcpd{os.getpid()}-", net="10.79")
    unrelated = f"other-{uuid.uuid4().hex[:8]}"
    same_prefix_not_ours = f"{spec.prefix}keep{uuid.uuid4().hex[:4]}"
    for name in (unrelated, same_prefix_not_ours):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "add", spec.ns("client")], check=True)  # half-built
        labmod.up(spec)
        assert labmod.is_up(spec)
        labmod.up(spec)  # again: rebuilt, not an error
        assert labmod.is_up(spec)
        # both labs at once, each on its own addresses
        proc = netns_run(spec, "client", ["ping", "-c", "1", "-W", "2", spec.addr("target")])
        if shutil.which("ping"):
            assert "ttl=62" in proc.stdout, proc.stdout + proc.stderr
        relay = labmod.relay_pid(spec)
        assert relay is not None and relay != labmod.relay_pid(lab)
        before = _netns_list()
        labmod.down(spec)
        after = _netns_list()
        assert before - after == set(spec.namespaces)
        assert {unrelated, same_prefix_not_ours} | set(lab.namespaces) <= after
        assert not labmod.is_up(spec)
        assert _leftovers(spec) == []  # namespaces, relay process, pid and state files
        labmod.down(spec)  # down again: nothing to do, no error
    finally:
        labmod.down(spec)
        for name in (unrelated, same_prefix_not_ours):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    assert labmod.is_up(lab)


@pytest.mark.live
def test_cli_up_status_down_private_lab(lab: LabSpec) -> None:
    """``pcapping lab up/status/down --prefix --net``; status exit 0 when up, 1 when down."""
    spec = LabSpec(prefix=f"pcpc{os.getpid()}-", net="10.84")
    opts = ["--prefix", spec.prefix, "--net", spec.net]
    try:
        built = _cli("up", *opts)
        assert built.returncode == 0, built.stderr
        assert f"({spec.prefix}*, {spec.net}.0.0/16): up" in built.stdout
        assert "Traceback" not in built.stderr
        shown = _cli("status", *opts)
        assert shown.returncode == 0 and shown.stdout == labmod.status(spec)
        assert labmod.relay_pid(spec) is not None
        gone = _cli("down", *opts)
        assert gone.returncode == 0 and f"lab {spec.prefix}* is down" in gone.stdout
        after = _cli("status", *opts)
        assert after.returncode == 1 and ": down" in after.stdout
        assert _leftovers(spec) == []
    finally:
        labmod.down(spec)
    assert labmod.is_up(lab)


@pytest.mark.live
def test_a_failed_build_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = LabSpec(prefix=f"pcpf{os.getpid()}-", net="10.85")
    real_routes = LabSpec.routes

    def broken(self: LabSpec) -> dict[str, list[str]]:
        routes = real_routes(self)
        routes["dest"] = [*routes["dest"], "192.0.2.0/24 via 198.51.100.1"]  # no such gateway
        return routes

    monkeypatch.setattr(LabSpec, "routes", broken)
    try:
        with pytest.raises(PcappingError) as info:
            labmod.up(spec)
        assert "\n" not in str(info.value) and spec.ns("dest") in str(info.value)
        assert _leftovers(spec) == []
    finally:
        labmod.down(spec)


@pytest.mark.live
def test_without_nft_the_rest_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = LabSpec(prefix=f"pcpn{os.getpid()}-", net="10.85")
    real_which = shutil.which
    monkeypatch.setattr(labmod.build.shutil, "which",
                        lambda name, *a, **k: None if name == "nft" else real_which(name, *a, **k))
    try:
        labmod.up(spec)
        missing = labmod.missing_features(spec)
        assert set(missing) == {"nat", "dscp", "silent", "sweep-errors", "quiet-ipv6"}
        assert all("not installed" in why for why in missing.values())
        text = labmod.status(spec)
        assert "Missing features:" in text and "NAT router (nftables masquerade): nft" in text
        tables = netns_run(spec, "nat", ["nft", "list", "tables"]) if real_which("nft") else None
        assert tables is None or "pcapping" not in tables.stdout
        if shutil.which("ping"):
            for dst in (spec.trace_target, spec.tun_target, spec.addr6("target")):
                proc = netns_run(spec, "client", ["ping", "-c", "1", "-W", "2", dst])
                assert " 0% packet loss" in proc.stdout, proc.stdout + proc.stderr
    finally:
        labmod.down(spec)
    assert _leftovers(spec) == []


@pytest.mark.live
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_ipv6_is_quiet_after_up(lab: LabSpec) -> None:
    """No DAD, no router solicitation, no MLD: nothing on the wire in the 1.5 s after ``up``
    (MLD's unsolicited reports repeat within 1 s by default; the lab sends them at once)."""
    missing = labmod.missing_features(lab)
    if "quiet-ipv6" in missing:
        pytest.skip(f"MLD filter missing: {missing['quiet-ipv6']}")
    spec = LabSpec(prefix=f"pcpq{os.getpid()}-", net="10.86")
    watched = [("client", spec.client_iface), ("client", spec.tun_iface), ("r1", "to-r2"),
               ("nat", "to-dscp"), ("target", "to-r2")]  # fmt: skip
    try:
        labmod.up(spec)
        sniffers = []
        for host, iface in watched:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", spec.ns(host), "tcpdump", "-n", "-l", "-i", iface],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
            _wait_listening(proc)
            sniffers.append(proc)
        time.sleep(1.5)
        seen = {}
        for (host, iface), proc in zip(watched, sniffers, strict=True):
            proc.terminate()
            seen[f"{host}:{iface}"] = proc.communicate(timeout=10)[0]
        assert all(text.strip() == "" for text in seen.values()), seen
    finally:
        labmod.down(spec)
