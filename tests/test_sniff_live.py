"""`pcapping sniff -i` on a real veth in the lab, with kernel ping making the traffic."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import netns_run, repo_env

from pcapping.io.pcapfile import PcapReader
from pcapping.lab import LabSpec

pytestmark = pytest.mark.live


def _start_sniff(lab: LabSpec, *argv: str, ignore_sigint: bool = False
                 ) -> subprocess.Popen[str]:
    def preexec() -> None:  # a background job of a script inherits SIGINT ignored
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-m", "pcapping", "sniff",
         *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=repo_env(TZ="UTC"),
        preexec_fn=preexec,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "listening on ..." once the handle is open
    while line.startswith("pcapping: data link type"):  # -i any says so first
        line = proc.stderr.readline()
    assert line.startswith("listening on "), line + proc.stderr.read()
    return proc


def _ping(lab: LabSpec, count: int) -> None:
    if shutil.which("ping") is None:
        pytest.skip("kernel ping (iputils-ping) is not installed")
    res = netns_run(lab, "client", ["ping", "-c", str(count), "-i", "0.2", "-W", "2",
                                    lab.addr("target")])
    assert res.returncode == 0, res.stdout + res.stderr


def test_live_json_and_write(lab: LabSpec, tmp_path: Path) -> None:
    out = tmp_path / "live.pcap"
    proc = _start_sniff(lab, "--icmp", "--json", "-i", lab.client_iface, "-c", "4",
                        "-w", str(out))
    _ping(lab, 2)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    objs = [json.loads(line) for line in stdout.splitlines()]
    icmp = [o for o in objs if "icmp" in o]
    assert [o["icmp"]["type"] for o in icmp][:2] in ([8, 0], [0, 8])
    replies = [o for o in icmp if o["icmp"]["type"] == 0]
    assert replies and replies[0]["ip"]["ttl"] == 62 and replies[0]["icmp"]["checksum_ok"]
    assert len(list(PcapReader(str(out)))) == 4
    assert "4 packets captured" in stderr


def test_live_text_matches_tcpdump_on_the_written_file(lab: LabSpec, tmp_path: Path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    out = tmp_path / "live.pcap"
    proc = _start_sniff(lab, "-v", "--icmp", "-i", lab.client_iface, "-c", "4", "-w", str(out))
    _ping(lab, 2)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    ref = subprocess.run(["tcpdump", "-nv", "-r", str(out)], capture_output=True, text=True,
                         env=repo_env(TZ="UTC"))
    assert stdout == ref.stdout


def test_ctrl_c_prints_counts_and_leaves_a_valid_pcap(lab: LabSpec, tmp_path: Path) -> None:
    out = tmp_path / "cc.pcap"
    proc = _start_sniff(lab, "--icmp", "-i", lab.client_iface, "-w", str(out))
    _ping(lab, 2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    records = list(PcapReader(str(out)))
    assert len(records) >= 4
    assert f"{len(records)} packets captured" in stderr
    assert len(stdout.splitlines()) == len(records)


def test_ctrl_c_works_when_sniff_started_with_sigint_ignored(lab: LabSpec) -> None:
    proc = _start_sniff(lab, "--icmp", "-i", lab.client_iface, ignore_sigint=True)
    _ping(lab, 2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "packets captured" in stderr and "Traceback" not in stderr
    assert len(stdout.splitlines()) >= 4


def test_drop_privileges_after_the_handle_is_open(lab: LabSpec) -> None:
    """-Z nobody: the capture keeps working as nobody and the -w file belongs to nobody."""
    nobody = pwd.getpwnam("nobody")
    out_dir = Path(tempfile.mkdtemp(prefix="pcapping-Z-"))
    try:
        os.chmod(out_dir, 0o777)
        out = out_dir / "z.pcap"
        proc = _start_sniff(lab, "-Z", "nobody", "--icmp", "-i", lab.client_iface, "-c", "4",
                            "-w", str(out))
        _ping(lab, 2)
        stdout, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert "dropped privs to nobody" in stderr
        assert out.stat().st_uid == nobody.pw_uid
        assert len(list(PcapReader(str(out)))) == 4 and len(stdout.splitlines()) == 4
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def test_any_device_prints_tcpdumps_interface_and_direction_columns(
        lab: LabSpec, tmp_path: Path) -> None:
    out = tmp_path / "any.pcap"
    proc = _start_sniff(lab, "--icmp", "-i", "any", "-c", "4", "-w", str(out))
    _ping(lab, 2)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    assert any(re.match(r"^\d\d:\d\d:\d\d\.\d{6} pc0   Out IP .* ICMP echo request", x)
               for x in lines), lines
    assert any(" pc0   In  IP " in x and "ICMP echo reply" in x for x in lines), lines
    records = list(PcapReader(str(out)))
    assert len(records) == 4 and all(r.linktype == 276 for r in records)
    if shutil.which("tcpdump"):  # tcpdump reads the names in the same namespace
        ref = netns_run(lab, "client", ["tcpdump", "-n", "-r", str(out)],
                        env=repo_env(TZ="UTC"))
        assert ref.stdout == stdout


def test_any_device_frames_equal_tcpdumps_own_any_capture(lab: LabSpec, tmp_path: Path) -> None:
    """tcpdump -i any and sniff -i any side by side: the same frames, the same text."""
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    theirs, ours = tmp_path / "tcpdump-any.pcap", tmp_path / "sniff-any.pcap"
    ref = subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), "tcpdump", "-i", "any",
                            "-c", "4", "-w", str(theirs), "icmp"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert ref.stderr is not None
    while not ref.stderr.readline().startswith("tcpdump: listening on"):
        assert ref.poll() is None, "tcpdump ended before listening"
    proc = _start_sniff(lab, "-i", "any", "-c", "4", "-w", str(ours), "icmp")
    _ping(lab, 2)
    proc.communicate(timeout=20)
    ref.communicate(timeout=20)

    def text(path: Path) -> list[str]:
        res = netns_run(lab, "client", ["tcpdump", "-n", "-e", "-r", str(path)],
                        env=repo_env(TZ="UTC"))
        return [line[16:] for line in res.stdout.splitlines()]  # without the time stamps

    assert text(ours) == text(theirs) and len(text(ours)) == 4
