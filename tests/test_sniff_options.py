"""tcpdump's options in `pcapping sniff`, each compared with what tcpdump 4.99.3 prints.

The dumps (-x -xx -X -XX -A -AA), time stamps (-t .. -ttttt) and frame numbers (-#) are
compared as whole standard-output streams with tcpdump's on the same files (checked-in
expectations under tests/golden/ where tcpdump is missing); the header line for every
capture (pcapng included: its first interface's snapshot length); BPF expressions that
cannot apply to a link type, worded as tcpdump words them; -r - and -w - through pipes;
-l on a pipe; SIGINT when the process started with it ignored; -Z USER; --version.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import repo_env

from pcapping import sniff
from pcapping.cli import build_parser
from pcapping.decode import decode_frame
from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.tcpdump.formatter import TcpdumpFormatter

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
GOLDEN = Path(__file__).parent / "golden"
TCPDUMP = shutil.which("tcpdump")
OPTION_FLAGS = ("x", "xx", "X", "XX", "A", "AA", "t", "tt", "ttt", "tttt", "ttttt", "#",
                "#vX", "ett")
# files whose every frame pcapping prints as tcpdump does (ICMP, ARP, the tunnels)
OPTION_FILES = ("echo.pcap", "gre-erspan.pcap", "tcpdump/vxlan.pcap", "truncated.pcap",
                "tcpdump/mpls-traceroute.pcap", "mpls.pcap", "macsec.pcap",
                "zeek/icmp/5-pings.pcap", "sll2-ifnames.pcap",
                "tcpdump/icmp-cksum-oobr-2.pcap")


def golden_path(name: str, flags: str) -> Path:
    return GOLDEN / f"{Path(name).name}.opt-{flags.replace('#', 'N')}.out"


def tcpdump_stdout(path: Path, flags: str) -> str:
    assert TCPDUMP is not None
    proc = subprocess.run([TCPDUMP, f"-n{flags}", "-r", str(path)], capture_output=True,
                          env={**os.environ, "TZ": "UTC"}, check=False)
    return proc.stdout.decode("utf-8", "backslashreplace")


def expected_stdout(name: str, flags: str) -> str | None:
    if TCPDUMP:
        return tcpdump_stdout(CAPTURES / name, flags)
    golden = golden_path(name, flags)
    return golden.read_text() if golden.exists() else None


def make_golden() -> None:
    """Write tests/golden/*.opt-*.out from real tcpdump (run by hand)."""
    for name in OPTION_FILES:
        for flags in OPTION_FLAGS:
            golden_path(name, flags).write_text(tcpdump_stdout(CAPTURES / name, flags))


def sniff_stdout(path: Path, flags: str) -> str:
    """What `pcapping sniff -nFLAGS -r PATH` writes to standard output, in process: the
    options parsed by sniff's own parser, one formatter over the whole file."""
    args = build_parser("sniff").parse_args(["sniff", f"-n{flags}", "-r", str(path)])
    fmt = TcpdumpFormatter(verbose=args.verbose, link=args.link, hexdump=args.hex,
                           xdump=args.xdump, ascii=args.ascii, tflag=args.tflag,
                           number=args.number)
    out = []
    for i, rec in enumerate(PcapReader(str(path)), 1):
        d = decode_frame(rec.data, rec.linktype, frame=i, ts_sec=rec.ts_sec,
                         ts_usec=rec.ts_usec, length=rec.length)
        out.append(fmt.format(d) + "\n")
    return "".join(out)


def run_cli(*argv: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    return subprocess.run([sys.executable, "-m", "pcapping", *argv],
                          env=repo_env(TZ="UTC"), **kw)


@pytest.mark.parametrize("flags", OPTION_FLAGS)
@pytest.mark.parametrize("name", OPTION_FILES)
def test_dump_time_and_number_options_match_tcpdump(name: str, flags: str) -> None:
    want = expected_stdout(name, flags)
    if want is None:
        pytest.skip("no tcpdump and no golden file")
    got = sniff_stdout(CAPTURES / name, flags)
    if got != want:
        wl, gl = want.splitlines(), got.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(wl, gl, strict=False)) if a != b),
                     min(len(wl), len(gl)))
        pytest.fail(f"line {first + 1}:\n want {wl[first:first + 2]!r}\n got  "
                    f"{gl[first:first + 2]!r}")


def test_cli_options_end_to_end() -> None:
    res = run_cli("sniff", "-#", "-tt", "-XX", "-r", str(CAPTURES / "echo.pcap"), text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == expected_stdout("echo.pcap", "#ttXX") or TCPDUMP is None
    assert res.stdout.startswith("    1  1763800000.000000 IP 10.77.1.2 > 10.77.3.2: ")
    bad = run_cli("sniff", "-tttttt", "-r", str(CAPTURES / "echo.pcap"), text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "pcapping: only -t, -tt, -ttt, -tttt and -ttttt are supported"


def test_header_line_for_every_capture() -> None:
    """"reading from file F, link-type NAME (DESCRIPTION), snapshot length N" as tcpdump's
    first standard-error line (pcapng: the first interface's snapshot length)."""
    if TCPDUMP is None:
        pytest.skip("tcpdump not installed")
    files = sorted(p for p in CAPTURES.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    bad = []
    for path in files:
        proc = subprocess.run([TCPDUMP, "-n", "-c", "1", "-r", str(path)], capture_output=True,
                              text=True, env={**os.environ, "TZ": "UTC"})
        want = [line for line in proc.stderr.splitlines()
                if line.startswith(("reading from", "Warning"))]
        got = sniff.reading_from(str(path), PcapReader(str(path))).splitlines()
        if got != want:
            bad.append(f"{path.name}: {got} != {want}")
    assert not bad, "\n".join(bad)


def test_pcapng_snaplen_is_the_interfaces() -> None:
    reader = PcapReader(str(CAPTURES / "tcpdump/icmp-cksum-oobr-3.pcapng"))
    assert reader.snaplen == 3600  # tcpdump: "snapshot length 3600"
    assert PcapReader(str(CAPTURES / "zeek/snap-arp.pcapng")).snaplen == 8192


@pytest.mark.parametrize("name, expression, message", [
    ("sll2.pcap", "vlan", "no VLAN support for Linux cooked v2"),
    ("raw-ipv4.pcap", "arp", "expression rejects all packets"),
    ("raw-ipv4.pcap", "ether host 1:2:3:4:5:6", "ethernet addresses supported only on "
     "ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"),
    ("ppp.pcap", "vlan", "no VLAN support for PPP"),
    ("echo.pcap", "icmpx", "can't parse filter expression: syntax error"),
])
def test_bpf_that_cannot_apply_is_worded_as_tcpdump(name: str, expression: str,
                                                    message: str) -> None:
    path = CAPTURES / name
    res = run_cli("sniff", "-r", str(path), *expression.split(), text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[-1] == f"pcapping: {message}"
    if TCPDUMP:
        ref = subprocess.run([TCPDUMP, "-r", str(path), *expression.split()],
                             capture_output=True, text=True)
        assert ref.stderr.splitlines()[-1] == f"tcpdump: {message}"


def test_read_stdin_and_write_stdout_through_pipes(tmp_path: Path) -> None:
    path = CAPTURES / "udp-tunnels.pcap"
    whole = run_cli("sniff", "-v", "-r", str(path))
    piped = run_cli("sniff", "-v", "-r", "-", input=path.read_bytes())
    assert piped.returncode == 0 and piped.stdout == whole.stdout
    assert piped.stderr.decode().startswith("reading from file -, link-type EN10MB")
    expression = "udp port 4789 and not udp port 53"
    written = run_cli("sniff", "-r", str(path), "-w", "-", expression)
    assert written.returncode == 0
    (tmp_path / "w.pcap").write_bytes(written.stdout)
    records = list(PcapReader(str(tmp_path / "w.pcap")))
    assert len(records) == 11 and all(b"\x12\xb5" in (r.data[34:36], r.data[36:38])
                                      for r in records if len(r.data) >= 38)
    assert b"IP " not in written.stdout[:24]  # nothing but the pcap on standard output
    if TCPDUMP:
        ref = subprocess.run([TCPDUMP, "-n", "-r", "-"], input=written.stdout,
                             capture_output=True, env={**os.environ, "TZ": "UTC"})
        mine = run_cli("sniff", "-r", str(path), expression)
        assert ref.stdout == mine.stdout


def _pcap_head_and_record(path: Path) -> tuple[bytes, bytes]:
    raw = path.read_bytes()
    first_len = int.from_bytes(raw[24 + 8: 24 + 12], "little")
    return raw[:24], raw[24: 24 + 16 + first_len]


def _start_on_pipe(*argv: str, ignore_sigint: bool = False) -> subprocess.Popen:
    def preexec() -> None:
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "pcapping", "sniff", *argv, "-r", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=repo_env(TZ="UTC"),
                            preexec_fn=preexec)


def _readline(proc: subprocess.Popen, timeout_s: float = 10.0) -> bytes:
    import select

    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    return proc.stdout.readline() if ready else b""


def test_line_buffered_output_on_a_pipe_shows_each_frame_as_it_comes() -> None:
    head, record = _pcap_head_and_record(CAPTURES / "echo.pcap")
    proc = _start_on_pipe("-l")
    try:
        assert proc.stdin is not None
        proc.stdin.write(head + record)
        proc.stdin.flush()  # the pipe stays open: sniff must not wait for more
        line = _readline(proc)
        assert line.startswith(b"08:26:40.000000 IP 10.77.1.2 > 10.77.3.2: ICMP echo request")
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_sigint_ends_sniff_even_when_started_with_sigint_ignored() -> None:
    """A background job of a script inherits SIGINT ignored; sniff must still stop on it."""
    head, record = _pcap_head_and_record(CAPTURES / "echo.pcap")
    proc = _start_on_pipe("-l", ignore_sigint=True)
    try:
        assert proc.stdin is not None
        proc.stdin.write(head + record)
        proc.stdin.flush()
        assert _readline(proc).startswith(b"08:26:40.000000 IP ")  # it is blocked reading
        with open(f"/proc/{proc.pid}/status") as status:  # the handler really was installed
            ignored = next(int(line.split()[1], 16) for line in status
                           if line.startswith("SigIgn:"))
        assert not ignored & (1 << (signal.SIGINT - 1))
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert b"Traceback" not in err


@pytest.fixture
def world_writable_dir() -> Iterator[Path]:
    """A directory user nobody can create files in (pytest's tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="pcapping-Z-"))
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="-Z drops root: needs root")
def test_drop_privileges_before_the_write_file(world_writable_dir: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    out = world_writable_dir / "out.pcap"
    res = run_cli("sniff", "-Z", "nobody", "-r", str(CAPTURES / "echo.pcap"), "-w", str(out),
                  text=True)
    assert res.returncode == 0, res.stderr
    assert "dropped privs to nobody" in res.stderr.splitlines()
    assert out.stat().st_uid == nobody.pw_uid
    assert len(list(PcapReader(str(out)))) == 11
    res = run_cli("sniff", "-Z", "no-such-user-here", "-r", str(CAPTURES / "echo.pcap"),
                  text=True)
    assert res.returncode == 2
    assert res.stderr.splitlines()[-1] == "pcapping: Couldn't find user 'no-such-user-here'"


def test_version() -> None:
    res = run_cli("sniff", "--version", text=True)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("pcapping sniff ") and lines[1].startswith("libpcap version ")


def test_frame_number_counts_invalid_records_too(tmp_path: Path) -> None:
    """tcpdump numbers a record it refuses to print ("[Invalid header: ...]") too."""
    path = tmp_path / "bad.pcap"
    with PcapWriter(str(path)) as w:
        w.write(1, 0, b"\x00" * 20, 10)  # wire length shorter than the capture
        w.write(2, 0, bytes.fromhex("ffffffffffff020000000001") + b"\x08\x06" + bytes(28), 42)
    got = sniff_stdout(path, "#")
    assert got.splitlines()[0] == "    1  [Invalid header: len(10) < caplen(20)]"
    assert got.splitlines()[1].startswith("    2  00:00:02.000000 ARP, ")
    if TCPDUMP:
        assert got == tcpdump_stdout(path, "#")


def test_relative_time_stamps() -> None:
    """-ttt's first frame is 00:00:00.000000 after a space (tcpdump's sign column)."""
    got = sniff_stdout(CAPTURES / "echo.pcap", "ttt").splitlines()
    assert got[0].startswith(" 00:00:00.000000 IP ") and got[1].startswith(" 00:00:00.010000")


@pytest.mark.parametrize("flags", ["", "tt", "ttt", "tttt"])
def test_times_tcpdump_cannot_convert(tmp_path: Path, flags: str) -> None:
    path = tmp_path / "late.pcap"
    arp_frame = bytes.fromhex("ffffffffffff020000000001") + b"\x08\x06" + bytes.fromhex(
        "0001080006040001020000000001") + bytes([10, 0, 0, 1]) + bytes(6) + bytes([10, 0, 0, 2])
    with PcapWriter(str(path)) as w:
        w.write(0x7FFFFFFF, 5, arp_frame)
        w.write(0x80000001, 6, arp_frame)  # past 2038: tcpdump prints an error instead
    got = sniff_stdout(path, flags)
    assert "[Error converting time]" in got.splitlines()[1]
    if TCPDUMP:
        assert got == tcpdump_stdout(path, flags)
