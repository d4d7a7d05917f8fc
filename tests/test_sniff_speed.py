"""The fast paths of ``sniff`` give exactly the slow paths' bytes.

- text: ``TcpdumpFormatter``'s one-pass lines for the common shapes (``_fast_ether``)
  against the general printers (``fast=False``), frame by frame, in every mode the fast
  path serves (-v.. -vvv, -t.., -#);
- JSON: ``report.jsonframe.frame_json`` (straight from the bytes) against
  ``json.dumps(decode_frame(...).to_dict())``, and orjson's encoding against the
  standard library's (when orjson is installed);
- ``PcapReader.batches()`` against plain iteration, damaged files included.

Frames: every fixture under ``captures/``, the shared corpus when it is there, a generated
mix (``bench/make_mix.py``) and mutated copies of all of them (bytes changed in the first
80, cuts anywhere, short wire lengths, odd timestamps), from a fixed seed.
"""

from __future__ import annotations

import json
import random
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from pcapping.decode import decode_frame
from pcapping.errors import PcappingError
from pcapping.io.pcapfile import Captured, PcapReader, PcapWriter
from pcapping.report import jsonframe
from pcapping.tcpdump.formatter import TcpdumpFormatter

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
CORPUS = Path("/work/shared/corpus")


def _read(path: Path) -> list[Captured]:
    try:
        return list(PcapReader(str(path)))
    except PcappingError:
        return []  # (a deliberately damaged fixture: its whole records are elsewhere)


@lru_cache(maxsize=1)
def _frames(tmp: str) -> tuple[Captured, ...]:
    files = sorted(CAPTURES.rglob("*.pcap*"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.rglob("*.pcap*"))
    recs: list[Captured] = []
    for path in files:
        recs += _read(path)
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import make_mix
    finally:
        sys.path.remove(str(ROOT / "bench"))
    mix = Path(tmp) / "mix.pcap"
    make_mix.write_mix(6000, str(mix), seed=11)
    recs += _read(mix)
    rng = random.Random(20261201)
    eth = [r for r in recs if r.linktype == 1]
    for _ in range(15000):
        r = rng.choice(eth)
        b = bytearray(r.data)
        for _ in range(rng.randrange(1, 4)):
            if b:
                b[rng.randrange(min(len(b), 80))] = rng.randrange(256)
        if rng.random() < 0.3:
            b = b[: rng.randrange(len(b) + 1)]
        length = max(r.length, len(b)) if rng.random() < 0.9 else len(b)
        sec = rng.choice((r.ts_sec, 0, 1, 2**31 - 1, 2**32 - 1, rng.randrange(2**32)))
        usec = rng.choice((r.ts_usec, 0, 999999, 100000, rng.randrange(10**6)))
        recs.append(Captured(sec, usec, length, bytes(b), 1))
    return tuple(recs)


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[Captured, ...]:
    return _frames(str(tmp_path_factory.mktemp("speed")))


@pytest.mark.parametrize("options", [
    {}, {"verbose": 1}, {"verbose": 2}, {"tflag": 3, "number": True},
    {"tflag": 5, "verbose": 3},
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "plain")
def test_fast_text_is_the_general_printers_text(frames: tuple[Captured, ...],
                                                options: dict) -> None:
    fast, slow = TcpdumpFormatter(**options), TcpdumpFormatter(fast=False, **options)
    probe = TcpdumpFormatter(**options)  # (printers keep state: count on another one)
    served = 0
    for r in frames:
        want = slow.format_record(r.data, r.linktype, r.length, r.ts_sec, r.ts_usec)
        got = fast.format_record(r.data, r.linktype, r.length, r.ts_sec, r.ts_usec)
        assert got == want, r.data.hex()
        served += r.linktype == 1 and probe._fast_ether(r.data, r.length) is not None
    assert served > len(frames) // 3  # the fast path did serve (it is not always None)


def test_fast_path_stays_off_where_it_does_not_apply() -> None:
    for options in ({"link": True}, {"hexdump": 1}, {"xdump": 2}, {"ascii": 1}):
        assert not TcpdumpFormatter(**options)._fastok
    assert TcpdumpFormatter(verbose=3, tflag=4, number=True)._fastok


def test_fast_json_is_the_decoders_json(frames: tuple[Captured, ...]) -> None:
    served = 0
    for i, r in enumerate(frames, 1):
        d = decode_frame(r.data, r.linktype, frame=i, ts_sec=r.ts_sec, ts_usec=r.ts_usec,
                         length=r.length)
        want = json.dumps(d.to_dict(), separators=(",", ":"))
        assert jsonframe.frame_json(r.data, r.linktype, i, r.ts_sec, r.ts_usec,
                                    r.length) == want, r.data.hex()
        assert jsonframe.dumps_std(d.to_dict()) == want
        served += r.linktype == 1 and 0 < r.ts_sec < 2**32 and jsonframe._ether(
            r.data, i, r.ts_sec, r.ts_usec, r.length) is not None
    assert served > len(frames) // 3


def test_icmp_verdict_from_the_bytes_is_the_decoders(frames: tuple[Captured, ...]) -> None:
    """--icmp's fast answer, where it gives one, is what the decoded frame says; and it
    does answer for the common shapes (else --icmp would decode everything again)."""
    from pcapping.decode import icmp_verdict
    from pcapping.sniff import _is_icmp_or_arp

    answered = 0
    for r in frames:
        verdict = icmp_verdict(r.data, r.linktype)
        if verdict is None:
            continue
        answered += 1
        d = decode_frame(r.data, r.linktype)
        assert verdict == _is_icmp_or_arp(d), r.data.hex()
    assert answered > len(frames) // 2


def test_orjson_gives_the_standard_librarys_bytes(frames: tuple[Captured, ...]) -> None:
    pytest.importorskip("orjson", reason="orjson (the extra 'fast') is not installed")
    for i, r in enumerate(frames, 1):
        d = decode_frame(r.data, r.linktype, frame=i, ts_sec=r.ts_sec, ts_usec=r.ts_usec,
                         length=r.length)
        obj = d.to_dict()
        assert jsonframe.dumps_orjson(obj) == jsonframe.dumps_std(obj), r.data.hex()
        assert obj == d.to_dict()  # (the encoder gave the timestamp back)


def test_orjson_hands_what_it_would_write_differently_to_the_standard_library() -> None:
    pytest.importorskip("orjson", reason="orjson (the extra 'fast') is not installed")
    for obj in ({"ts": 1e-06, "a": 1}, {"ts": 1e16}, {"s": "caf\u00e9 \x7f \x1f \"\\"},
                {"n": 2**70}, {"ts": 0.0, "problems": ["\u2603"]}):
        assert jsonframe.dumps_orjson(dict(obj)) == json.dumps(obj, separators=(",", ":"))


def test_timestamp_text_is_pythons_float_text() -> None:
    rng = random.Random(7)
    cases = [(1, 0), (1, 1), (2**32 - 1, 999999), (1763800000, 100000), (1763800000, 10)]
    cases += [(rng.randrange(1, 2**32), rng.randrange(10**6)) for _ in range(20000)]
    for sec, usec in cases:
        assert jsonframe.ts_text(sec, usec) == repr(round(sec + usec / 1e6, 6)), (sec, usec)


def _records_both_ways(path: Path) -> tuple[list[tuple], str | None, list[tuple], str | None]:
    got, want = [], []
    err_got = err_want = None
    try:
        for batch in PcapReader(str(path)).batches():
            got += batch
    except PcappingError as exc:
        err_got = str(exc)
    try:
        for rec in PcapReader(str(path)):
            want.append(tuple(rec))
    except PcappingError as exc:
        err_want = str(exc)
    return got, err_got, want, err_want


def test_batches_are_the_records(tmp_path: Path) -> None:
    paths = sorted(CAPTURES.rglob("*.pcap*"))
    assert any(p.suffix == ".pcapng" for p in paths)
    big = tmp_path / "big.pcap"  # records across many 1 MiB chunks
    with PcapWriter(str(big)) as w:
        for i in range(3000):
            w.write(1000 + i, i, bytes([i & 0xFF]) * (i % 1500 + 1))
    for path in [*paths, big]:
        got, err_got, want, err_want = _records_both_ways(path)
        assert got == want and err_got == err_want, path.name
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(big.read_bytes()[:-7])
    got, err_got, want, err_want = _records_both_ways(damaged)
    assert got == want and len(got) == 2999
    assert err_got == err_want and "truncated dump file" in (err_got or "")
