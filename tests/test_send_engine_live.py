"""``send`` on the probe engine, in the lab: the wrong answers of the first ``send`` and
the iputils options the engine brought, each against kernel ping or an independent
tcpdump in the same namespace (root, namespaces)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, netns_run, repo_env

from pcapping.decode import decode_frame
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
    text = re.sub(r"= [0-9./]+ ms", "= T ms", text)
    text = re.sub(r"ipg/ewma [0-9./]+ ms", "ipg/ewma T ms", text)
    return text.splitlines()


def same_as_kernel(lab: LabSpec, *args: str, stderr: bool = False,
                   ) -> subprocess.CompletedProcess[str]:
    flush_pmtu(lab)
    ours = send(lab, *args)
    flush_pmtu(lab)
    kernel = kping(lab, *args)
    assert "Traceback" not in ours.stderr
    assert masked(ours.stdout) == masked(kernel.stdout), (ours.stdout, kernel.stdout)
    assert ours.returncode == kernel.returncode
    if stderr:
        assert [ln.replace("pcapping: ", "") for ln in ours.stderr.splitlines()] == [
            ln.replace("ping: ", "") for ln in kernel.stderr.splitlines()]
    return ours


needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")


class Tcpdump:
    """An independent capture in the client namespace (immediate mode), as the referee."""

    def __init__(self, lab: LabSpec, path: Path, expression: str) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), "tcpdump", "-i", "pc0", "-n",
             "--immediate-mode", "-B", "32768", "-w", str(path), expression],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:  # tcpdump says "listening on" once its filter is set
            line = self.proc.stderr.readline()  # type: ignore[union-attr]
            if "listening on" in line or not line:
                break

    def stop(self) -> list[Any]:
        time.sleep(0.2)
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=10)
        return [decode_frame(r.data, r.linktype, ts_sec=r.ts_sec, ts_usec=r.ts_usec)
                for r in PcapReader(str(self.path))]


# --- wrong answers of the first send ---

@needs_tcpdump
def test_fast_run_counts_every_reply_tcpdump_saw(lab: LabSpec, tmp_path: Path) -> None:
    """1. ``-c 5000 -i 0``: no false loss; the last sequences are in the events and the file."""
    referee = Tcpdump(lab, tmp_path / "referee.pcap", "icmp[0] = 0")
    written = tmp_path / "ours.pcap"
    out = send(lab, lab.addr("target"), "-c", "5000", "-i", "0", "--json", "--write",
               str(written))
    seen = referee.stop()
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    replies = [e["seq"] for e in events if e["event"] == "reply" and not e["duplicate"]]
    wire = [d.icmp.seq for d in seen if d.icmp is not None]
    assert len(wire) == 5000  # the referee saw every reply on the wire
    assert sorted(replies) == sorted(wire)  # and pcapping counted every one of them
    assert events[-1]["received"] == 5000 and events[-1]["loss_pct"] == 0.0
    in_file = [d.icmp.seq for d in (decode_frame(r.data) for r in PcapReader(str(written)))
               if d.icmp is not None and d.icmp.icmp_type == 0]
    assert len(in_file) == 5000 and in_file[-1] == 5000


@pytest.mark.parametrize("args", [
    ["-c", "1", "-s", "1300", "-M", "dont"],   # 2. a fragmented reply, timed
    ["-c", "3", "-i", "0.2", "-s", "1400"],     # want: Frag needed, then fragmented requests
    ["-c", "2", "-i", "0.2", "-s", "3000"],     # fragmented from the start
    ["-c", "2", "-i", "0.2", "-s", "3000", "-M", "dont"],
])
def test_fragmented_sizes_are_lines_identical_to_kernel_ping(lab: LabSpec,
                                                             args: list[str]) -> None:
    out = same_as_kernel(lab, lab.addr("target"), *args)
    size = int(args[args.index("-s") + 1])
    assert re.search(rf"^{size + 8} bytes from .* time=\d", out.stdout, re.M)
    assert "truncated" not in out.stdout


def test_do_after_frag_needed_refuses_locally_like_the_kernel(lab: LabSpec) -> None:
    out = same_as_kernel(lab, lab.addr("target"), "-c", "3", "-i", "0.2", "-s", "1400",
                         "-M", "do", stderr=True)
    assert "local error: message too long, mtu=1280" in out.stderr


def test_do_above_the_link_mtu(lab: LabSpec) -> None:
    same_as_kernel(lab, lab.addr("target"), "-c", "1", "-s", "3000", "-M", "do", stderr=True)


def test_deadline_zero_is_no_deadline_and_linger_zero_is_accepted(lab: LabSpec) -> None:
    """3. ``-w 0`` sends (iputils: no deadline); ``-W 0`` is accepted."""
    same_as_kernel(lab, lab.addr("target"), "-c", "2", "-i", "0.2", "-w", "0")
    same_as_kernel(lab, lab.addr("target"), "-c", "2", "-i", "0.2", "-W", "0")


def test_largest_loopback_reply_is_whole(lab: LabSpec) -> None:
    """4. A 65,522-byte datagram on lo fits the snapshot length."""
    out = same_as_kernel(lab, "127.0.0.1", "-c", "1", "-s", "65494")
    assert "65502 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=" in out.stdout


def test_broadcast_needs_b_like_ping(lab: LabSpec) -> None:
    """5. The subnet's broadcast address is refused without -b, in ping's words."""
    bcast = lab.ip(1, 255)
    ours, kernel = send(lab, bcast, "-c", "1"), kping(lab, bcast, "-c", "1")
    assert ours.returncode == kernel.returncode == 2
    assert ours.stderr.replace("pcapping: ", "") == kernel.stderr.replace("ping: ", "")
    with_b = send(lab, bcast, "-c", "1", "-b", "-W", "1")
    assert "WARNING: pinging broadcast address" in with_b.stderr
    assert f"PING {bcast} ({bcast}) 56(84) bytes of data." in with_b.stdout


def test_sigquit_prints_interim_statistics_and_goes_on(lab: LabSpec) -> None:
    """6. Ctrl-\\: iputils' status line on stderr, then the run continues to its end."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("client"), *PCAPPING, lab.addr("target"), "-c", "6",
         "-i", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=repo_env(),
        cwd=REPO_ROOT)  # bytes: text mode would turn the status line's \r into \n
    time.sleep(0.75)
    proc.send_signal(signal.SIGQUIT)
    raw_out, raw_err = proc.communicate(timeout=15)
    out, err = raw_out.decode(), raw_err.decode()
    assert proc.returncode == 0, err
    assert re.search(r"^\r\d/\d packets, \d+% loss, min/avg/ewma/max = [0-9./]+ ms$", err,
                     re.M), err
    assert "6 packets transmitted, 6 received" in out


# --- iputils options on the engine ---

def test_source_address_header_like_ping(lab: LabSpec) -> None:
    out = same_as_kernel(lab, lab.addr("target"), "-c", "1", "-I", lab.addr("client"))
    assert f"from {lab.addr('client')} : 56(84)" in out.stdout
    same_as_kernel(lab, lab.addr("target"), "-c", "1", "-I", "pc0")


def test_preload_pipe_and_outstanding_like_ping(lab: LabSpec) -> None:
    same_as_kernel(lab, lab.addr("target"), "-c", "5", "-l", "3", "-i", "0.2")
    out = same_as_kernel(lab, lab.unreachable_addr, "-c", "2", "-i", "0.3", "-O")
    assert "no answer yet for icmp_seq=1" in out.stdout  # an error is not an answer to -O


@needs_tcpdump
def test_tos_reaches_the_wire(lab: LabSpec, tmp_path: Path) -> None:
    referee = Tcpdump(lab, tmp_path / "tos.pcap", "icmp[0] = 8")
    out = send(lab, lab.addr("target"), "-c", "2", "-i", "0.1", "-Q", "0x28")
    seen = referee.stop()
    assert out.returncode == 0
    assert [d.ip.tos for d in seen] == [0x28, 0x28]
    bad = send(lab, lab.addr("target"), "-Q", "300")
    assert bad.returncode == 2 and "TOS bits must be in range 0-255: 300" in bad.stderr


@needs_tcpdump
def test_flood_matches_every_reply_on_the_wire(lab: LabSpec, tmp_path: Path) -> None:
    referee = Tcpdump(lab, tmp_path / "flood.pcap", "icmp[0] = 0")
    out = send(lab, lab.addr("target"), "-f", "-c", "3000")
    seen = referee.stop()
    assert out.returncode == 0, out.stderr
    assert len([d for d in seen if d.icmp is not None]) == 3000
    assert "3000 packets transmitted, 3000 received, 0% packet loss" in out.stdout
    assert "ipg/ewma" in out.stdout
    dots = out.stdout.split("\n")[1]
    assert set(dots) <= {".", "\b", " "} and dots.count(".") == 3000


def test_version_and_help_state_defaults(lab: LabSpec) -> None:
    ver = send(lab, "--version")
    assert ver.returncode == 0 and ver.stdout.startswith("pcapping ")
    text = netns_run(lab, "client", [*PCAPPING, "--help"], env=repo_env(),
                     cwd=REPO_ROOT).stdout
    for default in ("default: 1", "default: 10", "default: 64", "default: 56"):
        assert default in text, default


def test_sudo_user_is_dropped_to_after_the_handles_open(lab: LabSpec) -> None:
    """Run as if by sudo: the run works and the pcap it writes belongs to that user."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="pcapping-drop-"))
    os.chmod(where, 0o777)  # (pytest's own tmp_path is closed to other users)
    path = where / "dropped.pcap"
    env = repo_env(SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
    out = netns_run(lab, "client", [*PCAPPING, lab.addr("target"), "-c", "2", "-i", "0.1",
                                    "--write", str(path)], env=env, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    try:
        assert path.stat().st_uid == 65534
        assert len(list(PcapReader(str(path)))) >= 4
    finally:
        shutil.rmtree(where)


def test_the_library_keeps_its_callers_privileges(lab: LabSpec) -> None:
    """A program run by sudo that calls the library keeps root: it can call again (ping,
    then a sweep and a trace), where the command line would have become the sudo user."""
    target = lab.addr("target")
    code = (
        "import os, pcapping\n"
        f"a = pcapping.ping('{target}', count=1)\n"
        f"b = pcapping.sweep(['{target}'], retries=0, count=None, timeout_s=0.5)\n"
        f"c = pcapping.trace('{target}', method='icmp', max_ttl=4)\n"
        "print(a.exit_status, b.exit_status, c.exit_status, os.geteuid())\n")
    env = repo_env(SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
    out = netns_run(lab, "client", [sys.executable, "-c", code], env=env, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "0", "0", "0"], out.stdout
