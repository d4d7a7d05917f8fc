"""``sniff -r`` over several files and globs, and ``sniff --parquet``.

Several files give exactly what reading them one after another gives (each as if alone,
outputs in order), whether the workers run in parallel (the default) or not (``-j 1``);
-q merges the counts.  A Parquet table read back (pyarrow, and DuckDB) equals ``--json``
frame by frame.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pcapping.decode import Tally, decode_frame
from pcapping.errors import PcappingError
from pcapping.io.pcapfile import PcapReader
from pcapping.report import columns
from pcapping.sniff import expand_files, summary_text

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
FILES = sorted(str(p) for p in CAPTURES.glob("*.pcap"))  # (every link type, tunnels, IPv6)


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pcapping", *argv], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def _one_by_one(flags: list[str], files: list[str]) -> tuple[str, str]:
    out, err = [], []
    for path in files:
        res = run_cli("sniff", *flags, "-r", path)
        assert res.returncode == 0, res.stderr
        out.append(res.stdout)
        err.append(res.stderr)
    return "".join(out), "".join(err)


@pytest.mark.parametrize("flags", [["-v", "-#", "-ttt"], ["--json"]],
                         ids=lambda f: " ".join(f))
def test_several_files_are_the_files_one_after_another(flags: list[str]) -> None:
    files = FILES[::4]  # (a quarter of them keeps this quick; every kind is there)
    want_out, want_err = _one_by_one(flags, files)
    for jobs in (["-j", "1"], []):
        res = run_cli("sniff", *flags, *jobs, "-r", *files)
        assert res.returncode == 0, res.stderr
        assert res.stdout == want_out
        assert res.stderr == want_err


def test_a_glob_and_a_filter_after_the_files() -> None:
    res = run_cli("sniff", "-r", str(CAPTURES / "echo.pcap"), str(CAPTURES / "arp.pcap"),
                  "arp")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines and all(" ARP, " in line for line in lines)
    quoted = run_cli("sniff", "-q", "-r", str(CAPTURES / "*.pcap"))
    assert quoted.returncode == 0, quoted.stderr
    t = Tally()
    for path in FILES:
        for rec in PcapReader(path):
            t.add(decode_frame(rec.data, rec.linktype))
    assert quoted.stdout == summary_text(t) + "\n"
    assert quoted.stderr.count("reading from file") == len(FILES)


def test_file_arguments(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes((CAPTURES / "echo.pcap").read_bytes())
    b.write_bytes((CAPTURES / "arp.pcap").read_bytes())
    assert expand_files([str(tmp_path / "*.pcap"), "icmp", "or", "arp"]) == (
        [str(a), str(b)], ["icmp", "or", "arp"])
    assert expand_files([str(a), "missing.pcap"]) == ([str(a), "missing.pcap"], [])
    res = run_cli("sniff", "-r", str(tmp_path / "*.nothing"))
    assert res.returncode == 2 and res.stderr.strip().endswith("no file matches")
    res = run_cli("sniff", "-r", str(a), str(tmp_path / "gone.pcap"))
    assert res.returncode == 2 and "gone.pcap: No such file" in res.stderr
    assert res.stdout.count("\n") == 11  # the first file's lines came first


def test_a_damaged_file_ends_the_run_after_its_whole_records(tmp_path: Path) -> None:
    good = (CAPTURES / "echo.pcap").read_bytes()
    (tmp_path / "1.pcap").write_bytes(good)
    (tmp_path / "2.pcap").write_bytes(good[:-10])
    (tmp_path / "3.pcap").write_bytes(good)
    res = run_cli("sniff", "-r", str(tmp_path / "*.pcap"))
    assert res.returncode == 2
    assert res.stdout.count("\n") == 11 + 10
    assert res.stderr.strip().splitlines()[-1].startswith("pcapping: ")
    assert "truncated dump file" in res.stderr and "Traceback" not in res.stderr


def _whole(path: Path) -> bool:
    try:
        for _rec in PcapReader(str(path)):
            pass
    except PcappingError:
        return False  # (a deliberately damaged fixture)
    return True


def _parquet_rows(path: Path) -> list[dict]:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (extra 'parquet') missing")
    return [columns.row_to_dict(r) for r in pq.read_table(str(path)).to_pylist()]


def test_parquet_reads_back_as_the_json(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the extra 'parquet') is not installed")
    files = sorted(str(p) for p in CAPTURES.rglob("*.pcap*") if _whole(p))
    res = run_cli("sniff", "--json", "-r", *files)
    assert res.returncode == 0, res.stderr
    want = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(want) > 1500
    res = run_cli("sniff", "--parquet", str(tmp_path / "t.parquet"), "-r", *files)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert _parquet_rows(tmp_path / "t.parquet") == want


def test_parquet_columns_and_duckdb(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the extra 'parquet') is not installed")
    out = tmp_path / "all.parquet"
    res = run_cli("sniff", "--parquet", str(out), "-r", *FILES)
    assert res.returncode == 0, res.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(str(out))
    assert table.column_names == columns.COLUMNS
    t = Tally()
    for path in FILES:
        for rec in PcapReader(path):
            t.add(decode_frame(rec.data, rec.linktype))
    assert table.num_rows == t.frames
    duckdb = pytest.importorskip("duckdb", reason="duckdb (test extra) is not installed")
    got = dict(duckdb.sql(
        f"SELECT icmp_type, count(*) FROM '{out}' WHERE ip_proto = 1 AND icmp_type IS NOT "
        "NULL AND extra IS NULL GROUP BY icmp_type").fetchall())
    by_type: dict[int, int] = {}
    for path in FILES:
        for rec in PcapReader(path):
            obj = decode_frame(rec.data, rec.linktype).to_dict()
            row, extra = columns.flatten(obj)
            if row.get("ip_proto") == 1 and row.get("icmp_type") is not None and not extra:
                by_type[row["icmp_type"]] = by_type.get(row["icmp_type"], 0) + 1
    assert got == by_type and got[8] > 10


def test_parquet_flatten_keeps_what_has_no_column() -> None:
    obj = {"frame": 1, "ts": 1.5, "caplen": 60, "len": 60, "eth": {"src": "a", "dst": "b",
           "type": 2048}, "encap": [{"type": "udp"}], "icmp": {"type": 3, "code": 1,
           "checksum": 1, "checksum_ok": None, "id": None, "seq": None, "quoted": {},
           "extension": {"objects": []}}, "problems": []}
    row, extra = columns.flatten(obj)
    assert row["icmp_quoted"] is True and row["icmp_checksum_ok"] is None
    assert extra == {"encap": [{"type": "udp"}], "icmp": {"extension": {"objects": []}}}
    row["extra"] = json.dumps(extra)
    assert columns.row_to_dict(row) == obj


def test_parquet_refused_with_json_and_without_pyarrow() -> None:
    res = run_cli("sniff", "--parquet", "x.parquet", "--json", "-r", FILES[0])
    assert res.returncode == 2 and "cannot be used with --json" in res.stderr
