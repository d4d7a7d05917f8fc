"""``sniff -r FILE`` (JSON and text) cut into byte ranges over worker processes: exactly
the output (and errors) of one process, whole, cut and damaged files alike, TCP's relative
numbers and RX's call cache carried across the parts as one process carries them."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from tcpdump_harness import ETHER, ipv4

from pcapping import cli, sniff, sniff_split
from pcapping.io.pcapfile import PcapWriter
from pcapping.wire.checksum import internet_checksum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

TEXT_FLAGS = (["-n"], ["-v"], ["-vv", "-e"], ["-X"], ["-#", "-tttt"], ["-ttt", "-v"],
              ["-ttttt"], ["-tt", "-A"])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(["sniff", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def mix(tmp_path: Path) -> Path:
    from make_mix import write_mix

    path = tmp_path / "mix.pcap"
    write_mix(6000, str(path), 7)
    return path


@pytest.fixture(autouse=True)
def _small_files_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff_split, "SPLIT_MIN_BYTES", 0)


def test_split_equals_one_process(mix: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _run(capsys, "-j", "1", "--json", "-r", str(mix))
    for jobs in ("2", "3"):
        assert _run(capsys, "-j", jobs, "--json", "-r", str(mix)) == one
    assert one[0] == 0 and len(one[1].splitlines()) == 6000


@pytest.mark.parametrize("flags", TEXT_FLAGS, ids=" ".join)
def test_text_split_equals_one_process(mix: Path, flags: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    one = _run(capsys, "-j", "1", *flags, "-r", str(mix))
    for jobs in ("2", "3"):
        assert _run(capsys, "-j", jobs, *flags, "-r", str(mix)) == one
    assert one[0] == 0 and one[1].count("\n") >= 6000


def test_split_on_every_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((ROOT / "captures").glob("**/*.pcap*")):
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic not in sniff_split.PCAP_MAGICS and magic != sniff_split.PCAPNG_MAGIC:
            continue
        for flags in (["--json"], ["-v"], ["-vv", "-#"]):
            assert _run(capsys, "-j", "2", *flags, "-r", str(path)) == _run(
                capsys, "-j", "1", *flags, "-r", str(path)), (path.name, flags)


@pytest.mark.parametrize("flags", [["--icmp"], ["--icmp", "-v", "-e"], ["--icmp", "--json"],
                                   ["-v", "icmp"], ["--json", "arp", "or", "tcp"],
                                   ["--icmp", "-X", "not", "arp"]], ids=" ".join)
def test_filtered_split_equals_one_process(mix: Path, tmp_path: Path, flags: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A filter expression and --icmp select the same frames in every part (pcap and
    pcapng), and a bad expression fails as in one process."""
    frames = [(d.ts_sec, d.ts_usec, d.data, d.length)
              for d in __import__("pcapping").read_capture(str(mix))]
    ng = tmp_path / "mix.pcapng"
    _pcapng(ng, frames)
    for path in (mix, ng):
        args = ["-r", str(path), *flags]
        one = _run(capsys, "-j", "1", *args)
        assert one[0] == 0 and one[1]
        assert _run(capsys, "-j", "2", *args) == one, (path.name, flags)
    bad = _run(capsys, "-j", "2", "-r", str(mix), "icmp", "and", "(")
    assert bad == _run(capsys, "-j", "1", "-r", str(mix), "icmp", "and", "(")
    assert bad[0] == 2


def _tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    if sport > dport:
        src, dst = dst, src
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 512, 0, 0)
    seg += payload
    csum = internet_checksum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", csum) + seg[18:]
    return ETHER + ipv4(src, dst, 6, seg)


def test_tcp_connections_across_the_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Connections that began (with or without a SYN) in one part and go on in later ones,
    one that starts again with a SYN in a later part: relative numbers as one process."""
    path = tmp_path / "tcp.pcap"
    with PcapWriter(str(path), 1, 65535) as w:
        seqs = {1000 + i: (7000 * i, 90000 * i) for i in range(6)}
        for n in range(3000):
            port = 1000 + n % 6
            seq, ack = seqs[port]
            if n < 6 and port % 2:
                frame = _tcp(port, 80, seq, 0, 0x02, b"")  # a SYN for the odd ports
            elif n == 2000 and port == 1002:
                frame = _tcp(port, 80, seq + 5, ack, 0x12, b"")  # a SYN again, later
            elif n % 5 == 0:
                frame = _tcp(80, port, ack, seq, 0x10, b"y" * 10)  # the other way
                ack += 10
            else:
                frame = _tcp(port, 80, seq, ack, 0x18, b"x" * 20)
                seq += 20
            seqs[port] = (seq, ack)
            w.write(1700000000 + n // 100, (n % 100) * 1000, frame, len(frame))
    fixed: list[str] = []
    fix = sniff_split._TextMerge._fix

    def counting(self: sniff_split._TextMerge, item: tuple) -> str | None:
        text = fix(self, item)
        if text is not None:
            fixed.append(text)
        return text

    monkeypatch.setattr(sniff_split._TextMerge, "_fix", counting)
    for flags in (["-n"], ["-v", "-#"], ["-ttt"]):
        one = _run(capsys, "-j", "1", *flags, "-r", str(path))
        assert _run(capsys, "-j", "2", *flags, "-r", str(path)) == one, flags
        assert _run(capsys, "-j", "4", *flags, "-r", str(path)) == one, flags
    assert len(fixed) > 1000  # (the parent did put the right numbers in)


def test_rx_calls_across_the_parts(tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """An RX reply is decoded only after its call was seen: calls in one part, replies in
    the next, as one process prints them."""
    src = ROOT / "captures" / "tcpdump" / "afs-icmp.pcap"
    frames = [(d.ts_sec, d.ts_usec, d.data, d.length)
              for d in __import__("pcapping").read_capture(str(src))]
    path = tmp_path / "rx.pcap"
    with PcapWriter(str(path), 1, 65535) as w:
        for _ in range(4):
            for sec, usec, data, length in frames:
                w.write(sec, usec, data, length)
    for flags in (["-v"], ["-vv"]):
        one = _run(capsys, "-j", "1", *flags, "-r", str(path))
        assert " rx " in one[1]
        for jobs in ("2", "3"):
            assert _run(capsys, "-j", jobs, *flags, "-r", str(path)) == one, (flags, jobs)


def _pcapng(path: Path, frames: list[tuple[int, int, bytes, int]], *, idbs: int = 2,
            linktypes: tuple[int, ...] = (1, 1)) -> None:
    """A little-endian pcapng file: a section header, ``idbs`` interfaces (the second
    with nanosecond stamps), each frame an enhanced packet block on interface i % idbs,
    a simple packet block every 50th; a third interface described midway."""
    def block(btype: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def idb(linktype: int, nano: bool) -> bytes:
        opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0) if nano else b""
        return block(1, struct.pack("<HHI", linktype, 0, 65535) + opts)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out += [idb(linktypes[i], i == 1) for i in range(idbs)]
    for n, (sec, usec, data, length) in enumerate(frames):
        if n == len(frames) // 2:
            out.append(idb(1, False))
            idbs += 1
        if n % 50 == 49:
            out.append(block(3, struct.pack("<I", length) + data))
            continue
        ifid = n % idbs
        stamp = sec * 10**9 + usec * 1000 if ifid == 1 else sec * 10**6 + usec
        out.append(block(6, struct.pack("<IIIII", ifid, stamp >> 32, stamp & 0xFFFFFFFF,
                                        len(data), length) + data))
    path.write_bytes(b"".join(out))


def test_pcapng_split_equals_one_process(mix: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """pcapng: interfaces with their own clocks, one described midway, simple packet
    blocks; then the same file cut and with a damaged block."""
    frames = [(d.ts_sec, d.ts_usec, d.data, d.length)
              for d in __import__("pcapping").read_capture(str(mix))]
    ng = tmp_path / "mix.pcapng"
    _pcapng(ng, frames)
    for flags in (["-n"], ["-v", "-#"], ["--json"], ["-ttt", "-e"], ["-ttttt"]):
        one = _run(capsys, "-j", "1", *flags, "-r", str(ng))
        assert one[0] == 0 and one[1].count("\n") >= 6000
        for jobs in ("2", "3"):
            assert _run(capsys, "-j", jobs, *flags, "-r", str(ng)) == one, (flags, jobs)
    data = bytearray(ng.read_bytes())
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[: len(data) * 2 // 3 + 7])
    bad = tmp_path / "bad.pcapng"
    pos = 0
    while pos < len(data) // 2:
        pos += struct.unpack_from("<I", data, pos + 4)[0]
    struct.pack_into("<I", data, pos + 4, 7)  # a block length no block can have
    bad.write_bytes(data)
    for path in (cut, bad):
        for flags in (["--json"], ["-v"]):
            split = _run(capsys, "-j", "2", *flags, "-r", str(path))
            assert split == _run(capsys, "-j", "1", *flags, "-r", str(path)), (path, flags)
            assert split[0] == 2 and split[2].splitlines()[-1].startswith("pcapping: ")


def test_split_cut_and_damaged_files(mix: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(mix.read_bytes())
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3 + 7])
    pos, n = 24, 0
    while pos < len(data) // 2:
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
        n += 1
    struct.pack_into("<I", data, pos + 8, 999999)
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(data)
    for path in (cut, bad):
        for flags in (["--json"], ["-v"], ["-#", "-ttt"]):
            split = _run(capsys, "-j", "2", *flags, "-r", str(path))
            assert split == _run(capsys, "-j", "1", *flags, "-r", str(path))
            assert split[0] == 2 and split[2].splitlines()[-1].startswith("pcapping: ")
    assert len(_run(capsys, "-j", "2", "--json", "-r", str(bad))[1].splitlines()) == n


def test_what_splits(mix: Path) -> None:
    import argparse

    p = argparse.ArgumentParser()
    sniff.add_arguments(p)
    assert sniff_split.splittable(p.parse_args(["--json", "-r", str(mix)]), str(mix), None)
    for extra in (["-c", "5"], ["-w", "x.pcap"], ["-l"]):
        args = p.parse_args(["--json", "-r", str(mix), *extra])
        assert not sniff_split.splittable(args, str(mix), None), extra
    for text in (["-r", str(mix)], ["-v", "-ttt", "-r", str(mix)], ["-#X", "-r", str(mix)]):
        assert sniff_split.splittable(p.parse_args(text), str(mix), None), text
    assert not sniff_split.splittable(p.parse_args(["-q", "-r", str(mix)]), str(mix), None)
    assert sniff_split.splittable(p.parse_args(["--icmp", "-r", str(mix)]), str(mix), "arp")
    for counted in (["-#"], ["-ttt"], ["-ttttt"]):  # frames shown: counted across parts
        args = p.parse_args(["--icmp", "-r", str(mix), *counted])
        assert not sniff_split.splittable(args, str(mix), None), counted
    assert not sniff_split.splittable(p.parse_args(["-Z", "nobody", "-r", str(mix)]),
                                      str(mix), None)
    assert sniff_split.splittable(p.parse_args(["--json", "-#", "-r", str(mix)]), str(mix),
                                  "icmp")  # (JSON numbers every record, shown or not)


def test_workers_told_to_end_before_they_are_ready_end(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    """A worker still starting when the run ends (a tiny file, a busy machine) is told to
    end before it has set its own signal handlers: it must end then, quietly, and not run
    the parent's handler (a traceback) or none (a worker left waiting, the run hung)."""
    import os
    import time

    ready = sniff._worker_signals

    def slow_start() -> None:
        try:  # the first worker starts at once and does every part; the others are slow
            os.close(os.open(tmp_path / f"first-{os.getppid()}",
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            time.sleep(0.5)  # (SIGTERM arrives in here)
        ready()

    monkeypatch.setattr(sniff, "_worker_signals", slow_start)
    path = ROOT / "captures" / "echo.pcap"
    t0 = time.monotonic()
    for flags in (["-v"], ["--json"]):
        assert cli.main(["sniff", "-j", "2", *flags, "-r", str(path)]) == 0
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert out.count("\n") > 2 and time.monotonic() - t0 < 30
