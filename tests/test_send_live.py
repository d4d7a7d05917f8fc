"""``pcapping send`` in the lab, with kernel ``ping`` as the referee (root, namespaces).

Each scenario runs kernel ``ping`` and ``pcapping send`` on the same path and compares
their output line for line, with the times masked.  Counts stay small where r2's
``ip_error`` token bucket applies (unreachable/prohibited: 5 answers, then 1/s).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, netns_run, repo_env

from pcapping.io.pcapfile import PcapReader
from pcapping.lab import LabSpec, flush_pmtu

pytestmark = pytest.mark.live

PCAPPING = [sys.executable, "-m", "pcapping", "send"]


def send(lab: LabSpec, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return netns_run(lab, "client", [*PCAPPING, *args], env=repo_env(), cwd=REPO_ROOT, **kw)


def kping(lab: LabSpec, *args: str) -> subprocess.CompletedProcess[str]:
    return netns_run(lab, "client", ["ping", *args])


def masked(text: str) -> list[str]:
    text = re.sub(r"time=[0-9.]+ ms", "time=T ms", text)
    text = re.sub(r"time \d+ms", "time Tms", text)
    text = re.sub(r"mdev = [0-9./]+ ms", "mdev = T ms", text)
    return text.splitlines()


def same_as_kernel(lab: LabSpec, *args: str) -> subprocess.CompletedProcess[str]:
    ours = send(lab, *args)
    kernel = kping(lab, *args)
    assert "Traceback" not in ours.stderr
    assert masked(ours.stdout) == masked(kernel.stdout), (ours.stdout, kernel.stdout)
    assert ours.returncode == kernel.returncode
    return ours


def test_reply_ttl62_text(lab: LabSpec) -> None:
    out = same_as_kernel(lab, lab.addr("target"), "-c", "2", "-i", "0.2")
    t = lab.addr("target")
    assert re.fullmatch(
        rf"64 bytes from {t}: icmp_seq=1 ttl=62 time=\d+\.\d{{3}} ms", out.stdout.splitlines()[1])
    assert out.returncode == 0


def test_reply_json(lab: LabSpec) -> None:
    out = send(lab, lab.addr("target"), "-c", "2", "-i", "0.2", "--json")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["event"] for e in events] == ["start", "reply", "reply", "summary"]
    start, first, summary = events[0], events[1], events[-1]
    assert start["interface"] == "pc0" and start["next_hop"] == lab.addr("r1")
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", start["next_hop_mac"])
    assert first["ttl"] == 62 and first["bytes"] == 64 and first["checksum_ok"] is True
    assert isinstance(first["rtt_ms"], float) and isinstance(first["ts"], float)
    assert summary["received"] == 2 and summary["loss_pct"] == 0.0
    assert isinstance(summary["rtt_avg_ms"], float)


@pytest.mark.parametrize(("ttl", "router"), [("1", "r1"), ("2", "r2")])
def test_ttl_expiry_at_each_router(lab: LabSpec, ttl: str, router: str) -> None:
    out = same_as_kernel(lab, lab.addr("target"), "-t", ttl, "-c", "1")
    assert f"From {lab.addr(router) if router == 'r1' else lab.ip(2, 2)} icmp_seq=1 " \
        "Time to live exceeded" in out.stdout
    assert out.returncode == 1


def test_host_unreachable(lab: LabSpec) -> None:
    out = same_as_kernel(lab, lab.unreachable_addr, "-c", "1")
    assert f"From {lab.ip(2, 2)} icmp_seq=1 Destination Host Unreachable" in out.stdout


def test_admin_prohibited(lab: LabSpec) -> None:
    out = same_as_kernel(lab, lab.prohibited_addr, "-c", "1")
    assert f"From {lab.ip(2, 2)} icmp_seq=1 Packet filtered" in out.stdout


def test_frag_needed_mtu_1280(lab: LabSpec) -> None:
    flush_pmtu(lab)
    try:
        out = same_as_kernel(lab, lab.addr("target"), "-s", "1300", "-M", "do", "-c", "1")
    finally:
        flush_pmtu(lab)
    assert "PING" in out.stdout and "1300(1328) bytes of data." in out.stdout
    assert "Frag needed and DF set (mtu = 1280)" in out.stdout


def test_on_link_host_never_answers_arp(lab: LabSpec) -> None:
    out = send(lab, lab.absent_addr, "-c", "1", "-W", "4")
    kernel = kping(lab, lab.absent_addr, "-c", "1", "-W", "4")
    assert masked(out.stdout) == masked(kernel.stdout), (out.stdout, kernel.stdout)
    assert f"From {lab.addr('client')} icmp_seq=1 Destination Host Unreachable" in out.stdout
    assert out.returncode == 1


@pytest.mark.parametrize("where", ["127.0.0.1", "own"])
def test_loopback(lab: LabSpec, where: str) -> None:
    address = lab.addr("client") if where == "own" else where
    out = same_as_kernel(lab, address, "-c", "2", "-i", "0.2")
    assert f"64 bytes from {address}: icmp_seq=2 ttl=64 time=" in out.stdout


def test_write_pcap_read_back(lab: LabSpec, tmp_path: Path) -> None:
    path = tmp_path / "run.pcap"
    out = send(lab, lab.addr("target"), "-c", "3", "-i", "0.1", "--write", str(path))
    assert out.returncode == 0, out.stderr
    records = list(PcapReader(str(path)))
    from pcapping.decode import decode_frame

    decoded = [decode_frame(r.data, r.linktype) for r in records]
    arp = [d for d in decoded if d.arp is not None]
    icmp = [(d.icmp.icmp_type, d.icmp.seq) for d in decoded if d.icmp is not None]
    assert [a.arp.op for a in arp] == [1, 2]
    assert icmp == [(8, 1), (0, 1), (8, 2), (0, 2), (8, 3), (0, 3)]
    stamps = [r.ts_sec + r.ts_usec / 1e6 for r in records]
    assert stamps == sorted(stamps)
    if shutil.which("tcpdump"):
        dump = subprocess.run(["tcpdump", "-nr", str(path)], capture_output=True, text=True,
                              timeout=20, check=False)
        assert dump.returncode == 0, dump.stderr
        assert len(dump.stdout.splitlines()) == 8
        assert "ICMP echo reply" in dump.stdout


def test_rtt_referee_kernel_ping(lab: LabSpec) -> None:
    """Same path, same run: pcapping's median RTT vs kernel ping's (loose sanity bound)."""
    target = lab.addr("target")
    ours = send(lab, target, "-c", "20", "-i", "0.02", "--json")
    kernel = kping(lab, target, "-c", "20", "-i", "0.02")
    rtts = [e["rtt_ms"] for e in map(json.loads, ours.stdout.splitlines())
            if e["event"] == "reply"]
    kr = [float(m) for m in re.findall(r"time=([0-9.]+) ms", kernel.stdout)]
    assert len(rtts) == 20 and len(kr) == 20
    ratio = statistics.median(rtts) / statistics.median(kr)
    print(f"\nRTT median pcapping {statistics.median(rtts):.3f} ms, kernel ping "
          f"{statistics.median(kr):.3f} ms, ratio {ratio:.2f}")
    assert ratio < 5


FORGER = r"""
import sys, time
from pcapping.io.capture import LiveCapture
from pcapping.decode import decode_frame
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.icmp import ICMPEcho
from pcapping.wire.ipv4 import IPv4Header
cap = LiveCapture("pc0", bpf="icmp[0] = 8", timeout_ms=1)
print("ready", flush=True)
end = time.time() + float(sys.argv[1])
forged = 0
while time.time() < end:
    c = cap.read()
    if c is None:
        cap.wait(0.05)
        continue
    d = decode_frame(c.data)
    if not isinstance(d.icmp, ICMPEcho) or d.icmp.is_reply:
        continue
    payload = bytes(b ^ 0xFF for b in d.icmp.payload[:8]) + d.icmp.payload[8:]
    icmp = ICMPEcho(True, d.icmp.ident, d.icmp.seq, payload).encode()
    ip = IPv4Header(d.ip.dst, d.ip.src, 1, ttl=62).encode(icmp)
    cap.inject(EthernetHeader(d.link.src, d.link.dst, 0x0800).encode() + ip)
    forged += 1
print("forged", forged, flush=True)
"""


def test_other_pinger_same_ident_not_counted(lab: LabSpec) -> None:
    """A forged reply with our identifier and sequence but not our nonce is never ours."""
    forger = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-c", FORGER, "4"],
        stdout=subprocess.PIPE, text=True, env=repo_env(), cwd=REPO_ROOT)
    try:
        assert forger.stdout is not None
        assert forger.stdout.readline().strip() == "ready"
        out = send(lab, lab.addr("target"), "-c", "3", "-i", "0.2")
    finally:
        rest, _ = forger.communicate(timeout=10)
    assert int(rest.split()[-1]) >= 3, rest  # the forger did answer every request
    assert "DUP" not in out.stdout and "duplicates" not in out.stdout
    assert "3 packets transmitted, 3 received, 0% packet loss" in out.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["nosuch.invalid", "-c", "1"], "nosuch.invalid: "),
    (["-I", "nope0", "TARGET", "-c", "1"], "nope0"),
    (["-t", "300", "TARGET"], "out of range: 0 <= value <= 255"),
    (["-s", "-1", "TARGET"], "invalid argument: '-1'"),
    (["-s", "70000", "TARGET"], "packet size 70000 is too large"),
    (["-M", "maybe", "TARGET"], "invalid -M argument: maybe"),
    (["-i", "-1", "TARGET"], "bad timing interval: -1"),
    (["-p", "xyz", "TARGET"], "patterns must be specified as hex digits"),
])
def test_bad_input_exit_2_one_line(lab: LabSpec, args: list[str], words: str) -> None:
    argv = [lab.addr("target") if a == "TARGET" else a for a in args]
    out = send(lab, *argv)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcapping: ") and words in lines[0]


def test_unprivileged_exit_2_one_line(lab: LabSpec) -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not installed")
    out = netns_run(lab, "client", ["setpriv", "--reuid=65534", "--regid=65534",
                                    "--clear-groups", *PCAPPING, lab.addr("target"), "-c", "1"],
                    env=repo_env(), cwd=REPO_ROOT)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "run with sudo" in lines[0], out.stderr
    assert "setcap" not in lines[0]  # never advise giving the interpreter capabilities


def test_ctrl_c_prints_statistics_and_leaves_pcap_whole(lab: LabSpec, tmp_path: Path) -> None:
    path = tmp_path / "int.pcap"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("client"), *PCAPPING, lab.addr("target"), "-i", "0.2",
         "--write", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=repo_env(),
        cwd=REPO_ROOT)
    time.sleep(1.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"--- {lab.addr('target')} ping statistics ---" in out
    assert re.search(r"\d+ packets transmitted, \d+ received, 0% packet loss", out), out
    records = list(PcapReader(str(path)))
    assert len(records) >= 6
