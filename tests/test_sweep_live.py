"""Many-target ``pcapping send`` in the lab, with fping 5.1 as the referee (root, namespaces).

Each scenario runs ``fping`` and ``pcapping send`` from the client on the same targets and
compares what they print, stream by stream, times masked.  The targets come from the lab's
``LabSpec`` (the sweep block: every address answered by the target, one /24 host
unreachable, one prohibited, one dropped by r2), never from literal addresses.
"""

from __future__ import annotations

import json
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

from pcapping.io.pcapfile import PcapReader
from pcapping.lab import LabSpec, missing_features

pytestmark = pytest.mark.live

PCAPPING = [sys.executable, "-m", "pcapping", "send"]


@pytest.fixture(scope="module")
def sweep_lab(lab: LabSpec) -> LabSpec:
    if shutil.which("fping") is None:
        pytest.skip("fping is not installed (the referee)")
    missing = missing_features(lab).get("sweep-errors")
    if missing:
        pytest.skip(f"the sweep block's error /24s are missing: {missing}")
    return lab


def send(lab: LabSpec, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("timeout", 60)
    return netns_run(lab, "client", [*PCAPPING, *args], env=repo_env(), cwd=REPO_ROOT, **kw)


def fping(lab: LabSpec, *args: str) -> subprocess.CompletedProcess[str]:
    return netns_run(lab, "client", ["fping", *args], timeout=60)


def host(prefix24: str, n: int) -> str:
    """Address ``n`` of a ``A.B.C.0/24`` the lab names."""
    return prefix24.split("/")[0].rsplit(".", 1)[0] + f".{n}"


def regions(lab: LabSpec) -> dict[str, str]:
    return {"alive": lab.sweep_alive, "unreachable": lab.sweep_unreachable,
            "prohibited": lab.sweep_prohibited, "dropped": lab.sweep_dropped}


def mixed(lab: LabSpec, per: int = 2) -> list[str]:
    """``per`` addresses of each region, interleaved."""
    return [host(p, n) for n in range(1, per + 1) for p in regions(lab).values()]


def mask(text: str) -> str:
    text = re.sub(r"\d+\.\d+ ms", "T ms", text)
    text = re.sub(r"\d+\.\d+ avg", "A avg", text)
    text = re.sub(r"min/avg/max = [0-9./]+", "min/avg/max = X", text)
    text = re.sub(r"^\[\d+\.\d{5}\] ", "[TS] ", text, flags=re.M)
    text = re.sub(r" (\d+\.\d+|-)(?= |$)", " R", text, flags=re.M)  # -C columns
    return text


def both(lab: LabSpec, args: list[str], fping_args: list[str] | None = None, *,
         quick: bool = True,
         ) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The same run by pcapping and by fping; ``quick``: a 0.1 s first timeout (fping's
    ``-t 100``, pcapping's ``-W 0.1``) so that the retry chain (x1.5 each) takes 0.8 s."""
    fping_args = list(fping_args if fping_args is not None else args)
    if quick:
        args, fping_args = ["-W", "0.1", *args], ["-t", "100", *fping_args]
    ours = send(lab, *args)
    theirs = fping(lab, *fping_args)
    assert "Traceback" not in ours.stderr, ours.stderr
    return ours, theirs


def test_default_mode_is_fpings(sweep_lab: LabSpec) -> None:
    """``X is alive`` as answers come, ``X is unreachable`` at the end, one error line per
    probe answered by r2 (fping retries 3 times), fping's exit status."""
    targets = mixed(sweep_lab)
    ours, theirs = both(sweep_lab, targets, quick=False)  # fping's own timeouts
    assert ours.stdout == theirs.stdout
    assert sorted(ours.stderr.splitlines()) == sorted(theirs.stderr.splitlines())
    assert ours.returncode == theirs.returncode == 1
    err = ours.stderr.splitlines()
    unreach = host(sweep_lab.sweep_unreachable, 1)
    assert (f"ICMP Host Unreachable from {sweep_lab.sweep_error_hop} for ICMP Echo sent to "
            f"{unreach}") in err
    assert err.count(f"ICMP Unreachable (Communication Administratively Prohibited) from "
                     f"{sweep_lab.sweep_error_hop} for ICMP Echo sent to "
                     f"{host(sweep_lab.sweep_prohibited, 2)}") == 4


@pytest.mark.parametrize("flags", [["-a"], ["-u"], ["-a", "-e"], ["-q"], ["-x", "2"],
                                   ["-x", "5"]])
def test_output_switches_are_fpings(sweep_lab: LabSpec, flags: list[str]) -> None:
    targets = mixed(sweep_lab)
    ours, theirs = both(sweep_lab, [*flags, *targets])
    assert mask(ours.stdout) == mask(theirs.stdout)
    assert sorted(ours.stderr.splitlines()) == sorted(theirs.stderr.splitlines())
    assert ours.returncode == theirs.returncode


def test_count_mode_is_fpings(sweep_lab: LabSpec) -> None:
    targets = mixed(sweep_lab, 1)
    ours, theirs = both(sweep_lab, ["-c", "3", "-i", "0.1", *targets],
                        ["-c", "3", "-p", "100", *targets], quick=False)
    assert mask(ours.stdout) == mask(theirs.stdout), (ours.stdout, theirs.stdout)
    ours_err, theirs_err = mask(ours.stderr).splitlines(), mask(theirs.stderr).splitlines()
    summary = [line for line in ours_err if "xmt/rcv" in line]
    assert summary == [line for line in theirs_err if "xmt/rcv" in line]
    assert summary[0].endswith("3/3/0%, min/avg/max = X")
    assert ours.returncode == theirs.returncode == 1


def test_vcount_timestamps_and_quiet_are_fpings(sweep_lab: LabSpec) -> None:
    targets = [host(sweep_lab.sweep_alive, 9), host(sweep_lab.sweep_dropped, 9)]
    ours, theirs = both(sweep_lab, ["-C", "2", "-i", "0.1", "-D", *targets],
                        ["-C", "2", "-p", "100", "-D", *targets], quick=False)
    assert mask(ours.stdout) == mask(theirs.stdout)
    assert mask(ours.stderr) == mask(theirs.stderr)
    ours, theirs = both(sweep_lab, ["-q", "-C", "2", "-i", "0.1", *targets],
                        ["-q", "-C", "2", "-p", "100", *targets], quick=False)
    assert ours.stdout == theirs.stdout == ""
    assert mask(ours.stderr) == mask(theirs.stderr)
    assert ours.stderr.splitlines()[1].endswith(" : - -")


def test_stats_block_is_fpings_then_says_error_or_no_answer(sweep_lab: LabSpec) -> None:
    targets = mixed(sweep_lab)
    ours, theirs = both(sweep_lab, ["-s", *targets])
    assert ours.stdout == theirs.stdout
    fping_lines = [ln for ln in theirs.stderr.splitlines() if not ln.startswith("ICMP ")]
    our_lines = [ln for ln in ours.stderr.splitlines() if not ln.startswith("ICMP ")]
    n = len(fping_lines)
    assert [re.sub(r"[\d.]+", "N", ln) for ln in our_lines[:n]] == [
        re.sub(r"[\d.]+", "N", ln) for ln in fping_lines]
    counts = {ln.split(None, 1)[1]: ln.split()[0] for ln in our_lines[:n] if ln.strip()}
    assert (counts["targets"], counts["alive"], counts["unreachable"]) == ("8", "2", "6")
    assert counts["ICMP Echos sent"] == "26"  # 2 answered at once, 6 tried 4 times
    extra = "\n".join(our_lines[n:])
    assert "       4 unreachable with an ICMP error back" in extra
    assert "       2 unreachable with no answer at all" in extra


def test_range_and_file_targets(sweep_lab: LabSpec, tmp_path: Path) -> None:
    first, last = host(sweep_lab.sweep_alive, 250), host(sweep_lab.sweep_alive, 254)
    ours, theirs = both(sweep_lab, ["-g", first, last])
    assert ours.stdout == theirs.stdout and ours.returncode == 0
    cidr = host(sweep_lab.sweep_dropped, 0) + "/30"
    ours, theirs = both(sweep_lab, ["-g", cidr])
    assert ours.stdout == theirs.stdout == "".join(
        f"{host(sweep_lab.sweep_dropped, n)} is unreachable\n" for n in (1, 2))
    listing = tmp_path / "targets.txt"
    listing.write_text("# a comment\n" + "\n".join(mixed(sweep_lab, 1)) + "\n\n")
    ours = send(sweep_lab, "-F", str(listing), "-a", "-W", "0.1")
    theirs = fping(sweep_lab, "-f", str(listing), "-a", "-t", "100")
    assert ours.stdout == theirs.stdout == host(sweep_lab.sweep_alive, 1) + "\n"
    ours = send(sweep_lab, "-F", "-", "-u", "-W", "0.1",
                input="\n".join(mixed(sweep_lab, 1)) + "\n")
    assert ours.stdout.splitlines() == [host(p, 1) for k, p in regions(sweep_lab).items()
                                        if k != "alive"]


def test_unknown_name_exit_2_like_fping(sweep_lab: LabSpec) -> None:
    args = [host(sweep_lab.sweep_alive, 1), "nosuch.invalid"]
    ours, theirs = both(sweep_lab, args)
    assert ours.returncode == theirs.returncode == 2
    assert ours.stdout == theirs.stdout
    assert ours.stderr.splitlines()[0].startswith("nosuch.invalid: ")


def test_json_verdicts_and_errors_attributed_to_their_targets(sweep_lab: LabSpec) -> None:
    targets = mixed(sweep_lab, 3)
    out = send(sweep_lab, "--json", "-r", "1", *targets)
    assert out.returncode == 1, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["targets"] == len(targets)
    verdict = {e["target"]: e["verdict"] for e in events if e["event"] == "target"}
    for name, prefix in regions(sweep_lab).items():
        want = {"alive": "alive", "dropped": "no answer"}.get(name, "error")
        assert {verdict[host(prefix, n)] for n in (1, 2, 3)} == {want}, name
    for e in events:
        if e["event"] == "error":  # the quoted target is the one the error names
            prefix = (sweep_lab.sweep_unreachable if e["code"] == 1
                      else sweep_lab.sweep_prohibited)
            assert e["target"] in {host(prefix, n) for n in (1, 2, 3)}
            assert e["from"] == sweep_lab.sweep_error_hop
            assert (e["type"], e["code"]) in {(3, 1), (3, 13)}
        if e["event"] == "reply":
            assert e["from"] == e["target"] and e["rtt_ms"] > 0 and not e["duplicate"]
    summary = events[-1]
    assert summary["event"] == "summary"
    assert (summary["alive"], summary["unreachable_error"], summary["unreachable_no_answer"]) \
        == (3, 6, 3)
    assert summary["sent"] == 3 + 9 * 2  # -r 1: one retry for each unanswered target


def test_whole_block_nothing_missed(sweep_lab: LabSpec) -> None:
    """The /16 (65,534 targets) at 50,000 probes/s: every address of the three error /24s
    listed unreachable, every other one alive (rate figures: bench/bench_sweep.py)."""
    out = send(sweep_lab, "-g", sweep_lab.sweep_block, "--rate", "50000", "-r", "1", "-u",
               "-q", "-s", timeout=120)
    assert out.returncode == 1, out.stderr[-2000:]
    unreachable = set(out.stdout.split())
    want = {host(p, n) for k, p in regions(sweep_lab).items() if k != "alive"
            for n in range(256)}
    assert unreachable == want
    assert re.search(r"^\s+65534 targets$", out.stderr, re.M)
    assert re.search(rf"^\s+{65534 - 768} alive$", out.stderr, re.M)
    assert re.search(r"^\s+0 duplicate replies$", out.stderr, re.M)


def test_own_subnet_with_own_address_is_fpings(sweep_lab: LabSpec) -> None:
    """The client's own subnet: the router and the client itself alive (its own address
    answers over loopback), nobody else (ARP fails: Host Unreachable from itself)."""
    me = sweep_lab.addr("client")
    net = me.rsplit(".", 1)[0]
    cidr = f"{net}.0/29"
    ours, theirs = both(sweep_lab, ["-g", cidr], quick=False)  # the kernel's 3 s of ARP
    assert ours.stdout == theirs.stdout
    assert f"{me} is alive" in ours.stdout and f"{sweep_lab.addr('r1')} is alive" in ours.stdout
    assert sorted(set(ours.stderr.splitlines())) == sorted(set(theirs.stderr.splitlines()))
    assert f"ICMP Host Unreachable from {me} for ICMP Echo sent to {net}.3" in ours.stderr


def test_rate_limited_router_is_named(sweep_lab: LabSpec) -> None:
    """r2's ``unreachable`` route answers through the kernel's ip_error bucket (a few at
    once, then one per second): the summary names r2 as rate-limiting that /24."""
    prefix = sweep_lab.unreachable_addr.rsplit(".", 1)[0]
    out = send(sweep_lab, "-g", f"{prefix}.0/24", "-r", "0", "-s", "-q", "--rate", "100")
    assert out.returncode == 1
    line = next(ln for ln in out.stderr.splitlines() if "rate-limited" in ln)
    assert line.startswith(f" rate-limited: {sweep_lab.sweep_error_hop} sent ")
    assert "ICMP Host Unreachable" in line and f"{prefix}.0/24" in line
    assert re.search(r"(\d+) at once, then about 1 per second", line) or \
        "about 1 per second" in line, line


def test_write_records_probes_and_answers(sweep_lab: LabSpec, tmp_path: Path) -> None:
    path = tmp_path / "sweep.pcap"
    targets = [host(sweep_lab.sweep_alive, 7), host(sweep_lab.sweep_unreachable, 7)]
    out = send(sweep_lab, "-c", "2", "-i", "0.1", "--write", str(path), *targets)
    assert out.returncode == 1
    from pcapping.decode import decode_frame

    kinds = [(d.icmp.icmp_type if d.icmp is not None else None)
             for rec in PcapReader(str(path))
             if (d := decode_frame(rec.data, rec.linktype)).ip is not None]
    assert kinds.count(8) == 4 and kinds.count(0) == 2 and kinds.count(3) == 2


def test_loop_until_interrupted_prints_fpings_summary(sweep_lab: LabSpec) -> None:
    targets = [host(sweep_lab.sweep_alive, 3), host(sweep_lab.sweep_dropped, 3)]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", sweep_lab.ns("client"), *PCAPPING, "-l", "-i", "0.2",
         *targets], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=repo_env(), cwd=REPO_ROOT)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
    assert proc.returncode == 1
    assert re.search(rf"^{re.escape(targets[0])} : \[\d+\], 64 bytes", out, re.M)
    lines = err.splitlines()
    assert lines[0] == ""
    assert re.match(rf"{re.escape(targets[0])} : xmt/rcv/%loss = (\d+)/\1/0%, min/avg/max",
                    lines[1])
    assert re.match(rf"{re.escape(targets[1])} : xmt/rcv/%loss = \d+/0/100%", lines[2])


def test_single_target_is_still_ping(sweep_lab: LabSpec) -> None:
    out = send(sweep_lab, host(sweep_lab.sweep_alive, 1), "-c", "1")
    assert out.returncode == 0
    assert out.stdout.startswith(f"PING {host(sweep_lab.sweep_alive, 1)} ")
    assert "1 packets transmitted, 1 received" in out.stdout


def test_library_sweep(sweep_lab: LabSpec) -> None:
    code = (
        "import json, pcapping\n"
        f"r = pcapping.sweep(generate='{host(sweep_lab.sweep_alive, 0)}/29', rate=5000)\n"
        f"r2 = pcapping.sweep(['{host(sweep_lab.sweep_dropped, 1)}'], retries=0, count=None,"
        " timeout_s=0.2)\n"
        "print(json.dumps([r.summary, r.exit_status, r2.summary, r2.exit_status,"
        " sorted({e['event'] for e in r.events})]))\n")
    out = netns_run(sweep_lab, "client", [sys.executable, "-c", code], env=repo_env(),
                    cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    summary, status, summary2, status2, kinds = json.loads(out.stdout)
    assert (summary["targets"], summary["alive"], status) == (6, 6, 0)
    assert (summary2["alive"], summary2["unreachable_no_answer"], status2) == (0, 1, 1)
    assert kinds == ["reply", "start", "summary", "target"]
