"""pcapping.lab: the namespace lab, checked with the kernel's own ping and tcpdump."""

from __future__ import annotations

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


# --- no root needed ---


def test_spec_names_and_addresses() -> None:
    spec = LabSpec()
    assert spec.namespaces == ("pcping-client", "pcping-r1", "pcping-r2", "pcping-target")
    addrs = [spec.addr(h) for h in labmod.HOSTS]
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
    proc = subprocess.run(
        [sys.executable, "-m", "pcapping", "lab", "status"],
        capture_output=True, text=True, env=repo_env(), timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pcping-client" in proc.stdout and "10.77.3.2" in proc.stdout


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
        before = _netns_list()
        labmod.down(spec)
        after = _netns_list()
        assert before - after == set(spec.namespaces)
        assert {unrelated, same_prefix_not_ours} | set(lab.namespaces) <= after
        assert not labmod.is_up(spec)
        labmod.down(spec)  # down again: nothing to do, no error
    finally:
        labmod.down(spec)
        for name in (unrelated, same_prefix_not_ours):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    assert labmod.is_up(lab)
