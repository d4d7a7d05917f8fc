"""``send`` over IPv6, over the raw-IP (tun) hop, and RFC 8335 PROBE, in the lab: text
lines identical to kernel ping's (iputils 20221126) on the same path (root, namespaces)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import netns_run
from test_send_engine_live import Tcpdump, masked, same_as_kernel, send

from pcapping.lab import LabSpec, missing_features

pytestmark = pytest.mark.live


def test_echo_and_header_like_ping6(lab: LabSpec) -> None:
    t = lab.addr6("target")
    out = same_as_kernel(lab, "-6", "-c", "2", "-i", "0.2", t)
    assert out.stdout.splitlines()[0] == f"PING {t}({t}) 56 data bytes"
    assert re.search(rf"^64 bytes from {t}: icmp_seq=1 ttl=62 time=", out.stdout, re.M)


@pytest.mark.parametrize("ttl", ["1", "2"])
def test_hop_limit_exceeded_at_each_router(lab: LabSpec, ttl: str) -> None:
    out = same_as_kernel(lab, "-6", "-c", "1", "-t", ttl, lab.addr6("target"))
    assert "Time exceeded: Hop limit" in out.stdout


@pytest.mark.parametrize(("where", "words"), [
    ("unreachable_addr6", "Destination unreachable: No route"),
    ("prohibited_addr6", "Destination unreachable: Administratively prohibited"),
])
def test_unreachable_and_prohibited(lab: LabSpec, where: str, words: str) -> None:
    out = same_as_kernel(lab, "-6", "-c", "1", getattr(lab, where))
    assert words in out.stdout


def test_ndp_failure_is_address_unreachable(lab: LabSpec) -> None:
    out = same_as_kernel(lab, "-6", "-c", "1", "-W", "4", lab.absent_addr6)
    assert f"From {lab.addr6('client')} icmp_seq=1 Destination unreachable: " \
        "Address unreachable" in out.stdout


def test_packet_too_big_then_fragmented_requests(lab: LabSpec, tmp_path: Path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump missing")
    out = same_as_kernel(lab, "-6", "-c", "3", "-i", "0.2", "-s", "1400", lab.addr6("target"))
    assert "Packet too big: mtu=1280" in out.stdout
    assert len(re.findall(r"^1408 bytes from", out.stdout, re.M)) == 2
    # on the wire: the later requests leave in pieces that fit 1280, with a Fragment header
    from pcapping.lab import flush_pmtu

    flush_pmtu(lab)
    referee = Tcpdump(lab, tmp_path / "frag6.pcap", "ip6 and src " + lab.addr6("client"))
    send(lab, "-6", "-c", "3", "-i", "0.2", "-s", "1400", lab.addr6("target"))
    seen = referee.stop()
    flush_pmtu(lab)
    sizes = [len(d.data) - 14 for d in seen if d.ip6 is not None and (
        d.icmp6 is None or d.icmp6.icmp_type == 128 or d.ip6_ext.is_fragmented)]
    fragments = [d for d in seen if d.ip6_ext is not None and d.ip6_ext.is_fragmented]
    assert sizes[0] == 1448 and len(fragments) == 4 and max(len(d.data) - 14
                                                             for d in fragments) <= 1280


def test_do_refuses_with_the_ipv6_wording(lab: LabSpec) -> None:
    out = same_as_kernel(lab, "-6", "-c", "2", "-i", "0.2", "-s", "1400", "-M", "do",
                         lab.addr6("target"), stderr=True)
    assert "local error: message too long, mtu: 1280" in out.stderr


def test_loopback_and_own_address_over_ipv6(lab: LabSpec) -> None:
    same_as_kernel(lab, "-6", "-c", "2", "-i", "0.2", "::1")
    same_as_kernel(lab, "-6", "-c", "2", "-i", "0.2", lab.addr6("client"))


def test_fast_ipv6_run_loses_nothing(lab: LabSpec) -> None:
    out = send(lab, "-6", "-c", "3000", "-i", "0", "-q", lab.addr6("target"))
    assert "3000 packets transmitted, 3000 received, 0% packet loss" in out.stdout


def test_json_events_over_ipv6(lab: LabSpec) -> None:
    out = send(lab, "-6", "-c", "1", "--json", lab.addr6("target"))
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["next_hop"] == lab.gateway6
    assert events[1]["from"] == lab.addr6("target") and events[1]["ttl"] == 62


# --- the raw-IP (tun) hop ---

def _needs_tun(lab: LabSpec) -> None:
    why = missing_features(lab).get("tun")
    if why:
        pytest.skip(f"no tun hop in this lab: {why}")


@pytest.mark.parametrize("family", ["4", "6"])
def test_tun_hop_replies_expiry_and_unreachable(lab: LabSpec, family: str) -> None:
    _needs_tun(lab)
    six = family == "6"
    target = lab.tun_target6 if six else lab.tun_target
    out = same_as_kernel(lab, f"-{family}", "-c", "2", "-i", "0.2", target)
    assert "ttl=62" in out.stdout
    hops = lab.tun_hops6() if six else lab.tun_hops()
    for ttl in ("1", "2"):
        out = same_as_kernel(lab, f"-{family}", "-c", "1", "-t", ttl, target)
        assert f"From {hops[int(ttl) - 1][0]} icmp_seq=1 " in out.stdout  # (tuples per TTL)
    unreachable = lab.tun_unreachable6 if six else lab.tun_unreachable
    out = same_as_kernel(lab, f"-{family}", "-c", "1", unreachable)
    assert "nreachable" in out.stdout


def test_tun_hop_is_a_raw_ip_link(lab: LabSpec, tmp_path: Path) -> None:
    _needs_tun(lab)
    path = tmp_path / "tun.pcap"
    out = send(lab, "-c", "2", "-i", "0.1", "--write", str(path), lab.tun_target)
    assert out.returncode == 0
    from pcapping.io.pcapfile import PcapReader

    reader = PcapReader(str(path))
    assert reader.linktype == 101 and len(list(reader)) == 4  # no Ethernet, no ARP


# --- RFC 8335 PROBE ---

@pytest.mark.parametrize("family", ["4", "6"])
def test_probe_existing_and_missing_interface(lab: LabSpec, family: str) -> None:
    six = family == "6"
    target = lab.addr6("target") if six else lab.addr("target")
    iface = next(i for h, i, _a, _m in lab.interfaces() if h == "target" and i != "lo")
    out = send(lab, f"-{family}", "-c", "1", "--probe-if", iface, target)
    assert out.returncode == 0, out.stderr
    assert re.search(rf"icmp_seq=1 interface {iface}: No Error, active, IPv4, IPv6 ttl=62 "
                     r"time=\d", out.stdout), out.stdout
    missing = send(lab, f"-{family}", "-c", "1", "--probe-if", "nosuch9", target)
    assert "interface nosuch9: No Such Interface" in missing.stdout
    by_addr = send(lab, f"-{family}", "-c", "1", "--json", "--probe-if", target, target)
    answer = [json.loads(x) for x in by_addr.stdout.splitlines()][1]
    assert answer["event"] == "probe" and answer["code"] == 0 and answer["active"] is True


def test_probe_is_what_the_target_says_on_the_wire(lab: LabSpec, tmp_path: Path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump missing")
    referee = Tcpdump(lab, tmp_path / "probe.pcap", "icmp")
    send(lab, "-c", "1", "--probe-if", "nosuch9", lab.addr("target"))
    seen = referee.stop()
    kinds = [(d.icmp.icmp_type, d.icmp.code) for d in seen if d.icmp is not None]
    assert kinds == [(42, 0), (43, 2)]  # request, then "no such interface"


def test_family_flags_and_names(lab: LabSpec) -> None:
    both = send(lab, "-4", "-6", "-c", "1", lab.addr("target"))
    assert both.returncode == 2 and "not allowed with" in both.stderr
    wrong = send(lab, "-6", "-c", "1", lab.addr("target"))
    kernel = netns_run(lab, "client", ["ping", "-6", "-c", "1", lab.addr("target")])
    assert wrong.returncode == kernel.returncode == 2
    assert masked(wrong.stdout) == masked(kernel.stdout)


@pytest.mark.parametrize("family", ["4", "6"])
def test_rtt_agrees_with_an_independent_capture(lab: LabSpec, family: str,
                                                tmp_path: Path) -> None:
    """Wire-clock RTT: each reply's time equals what tcpdump's own capture of the same
    exchange says (request leaving to reply arriving), within a few microseconds."""
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump missing")
    six = family == "6"
    target = lab.addr6("target") if six else lab.addr("target")
    referee = Tcpdump(lab, tmp_path / "rtt.pcap", "icmp6" if six else "icmp")
    out = send(lab, f"-{family}", "-c", "20", "-i", "0.05", "--json", target)
    seen = referee.stop()
    ours = {e["seq"]: e["rtt_ms"] for e in map(json.loads, out.stdout.splitlines())
            if e["event"] == "reply"}
    sent: dict[int, float] = {}
    theirs: dict[int, float] = {}
    for d in seen:
        msg = d.icmp6 if six else d.icmp
        if msg is None or getattr(msg, "seq", None) is None:
            continue
        kind = msg.icmp_type
        if kind in (8, 128):
            sent.setdefault(msg.seq, d.ts)
        elif kind in (0, 129) and msg.seq in sent:
            theirs[msg.seq] = (d.ts - sent[msg.seq]) * 1000
    assert len(ours) == 20 and set(ours) <= set(theirs)
    worst = max(abs(ours[s] - theirs[s]) for s in ours)
    assert worst <= 0.005, (worst, ours, theirs)  # 5 µs
