"""``sniff --json -r FILE`` cut into byte ranges over worker processes: exactly the output
(and errors) of one process, whole, cut and damaged files alike."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from pcapping import cli, sniff

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


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
    monkeypatch.setattr(sniff, "SPLIT_MIN_BYTES", 0)


def test_split_equals_one_process(mix: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _run(capsys, "-j", "1", "--json", "-r", str(mix))
    for jobs in ("2", "3"):
        assert _run(capsys, "-j", jobs, "--json", "-r", str(mix)) == one
    assert one[0] == 0 and len(one[1].splitlines()) == 6000


def test_split_on_every_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((ROOT / "captures").glob("**/*.pcap")):
        with open(path, "rb") as f:
            if f.read(4) not in sniff._PCAP_MAGICS:
                continue
        assert _run(capsys, "-j", "2", "--json", "-r", str(path)) == _run(
            capsys, "-j", "1", "--json", "-r", str(path)), path.name


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
        split = _run(capsys, "-j", "2", "--json", "-r", str(path))
        assert split == _run(capsys, "-j", "1", "--json", "-r", str(path))
        assert split[0] == 2 and split[2].splitlines()[-1].startswith("pcapping: ")
    assert len(_run(capsys, "-j", "2", "--json", "-r", str(bad))[1].splitlines()) == n


def test_only_stateless_runs_split(mix: Path) -> None:
    import argparse

    p = argparse.ArgumentParser()
    sniff.add_arguments(p)
    assert sniff._splittable(p.parse_args(["--json", "-r", str(mix)]), str(mix), None)
    for extra in (["-c", "5"], ["--icmp"], ["-w", "x.pcap"], ["-l"]):
        args = p.parse_args(["--json", "-r", str(mix), *extra])
        assert not sniff._splittable(args, str(mix), None), extra
    assert not sniff._splittable(p.parse_args(["-r", str(mix)]), str(mix), None)  # text
    assert not sniff._splittable(p.parse_args(["--json", "-r", str(mix)]), str(mix), "icmp")
