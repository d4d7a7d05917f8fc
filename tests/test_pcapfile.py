"""pcap and pcapng reading and writing, checked against libpcap (through pcapy) where it can be.

Files are built byte by byte here (both byte orders, microsecond and nanosecond magic,
pcapng with EPB, SPB, several interfaces and ``if_tsresol``), then read with
``PcapReader`` and with ``pcapy.open_offline`` on the same path.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pcapy
import pytest

from pcapping.errors import PcappingError
from pcapping.io.pcapfile import Captured, PcapReader, PcapWriter

CAPTURES = Path(__file__).resolve().parent.parent / "captures"

FRAMES = [
    (1763800000, 1, bytes(range(60))),
    (1763800000, 999_999, b"\xff" * 98),
    (1763800001, 0, bytes(42)),
]


def pcap_bytes(records, endian: str = "<", nano: bool = False, snaplen: int = 262144,
               linktype: int = 1) -> bytes:
    """Classic pcap; records are (sec, frac, data) or (sec, frac, data, wire length)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for rec in records:
        sec, frac, data = rec[:3]
        length = rec[3] if len(rec) > 3 else len(data)
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), length) + data)
    return b"".join(out)


def _pad4(b: bytes) -> bytes:
    return b + bytes(-len(b) % 4)


def block(btype: int, body: bytes, e: str = "<") -> bytes:
    body = _pad4(body)
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", total)


def shb(e: str = "<") -> bytes:
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(linktype: int, tsresol: int | None = None, snaplen: int = 0, e: str = "<") -> bytes:
    opts = b""
    if tsresol is not None:
        opts = struct.pack(e + "HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(e + "HH",
                                                                                      0, 0)
    return block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts, e)


def epb(ifid: int, stamp: int, data: bytes, length: int | None = None, e: str = "<") -> bytes:
    wire = len(data) if length is None else length
    head = struct.pack(e + "IIIII", ifid, stamp >> 32, stamp & 0xFFFFFFFF, len(data), wire)
    return block(6, head + _pad4(data), e)


def spb(data: bytes, e: str = "<") -> bytes:
    return block(3, struct.pack(e + "I", len(data)) + _pad4(data), e)


def ours(path: Path) -> list[Captured]:
    return list(PcapReader(str(path)))


def libpcap(path: Path) -> tuple[list[tuple[int, int, int, bytes]], str | None]:
    """(records as (sec, usec, length, data), error message or None) through pcapy."""
    reader = pcapy.open_offline(str(path))
    out = []
    while True:
        try:
            hdr, data = reader.next()
        except pcapy.PcapError as exc:
            return out, str(exc)
        if hdr is None:
            return out, None
        sec, usec = hdr.getts()
        out.append((sec, usec, hdr.getlen(), bytes(data)))


def as_tuples(records: list[Captured]) -> list[tuple[int, int, int, bytes]]:
    return [(r.ts_sec, r.ts_usec, r.length, r.data) for r in records]


# -- classic pcap ------------------------------------------------------------------

@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_precision(tmp_path: Path, endian: str, nano: bool) -> None:
    scale = 1000 if nano else 1
    records = [(s, f * scale + (789 if nano else 0), d) for s, f, d in FRAMES]
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap_bytes(records, endian, nano, linktype=113))
    got = ours(path)
    assert [(r.ts_sec, r.ts_usec, r.data, r.linktype) for r in got] == [
        (s, f, d, 113) for s, f, d in FRAMES]
    assert PcapReader(str(path)).linktype == 113
    assert libpcap(path) == (as_tuples(got), None)


def test_pcap_wire_length_kept(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_bytes([(1, 2, b"abcd", 1514)]))
    (rec,) = ours(path)
    assert (rec.length, rec.data) == (1514, b"abcd")
    assert libpcap(path) == (as_tuples([rec]), None)


def test_snaplen_clipping_like_libpcap(tmp_path: Path) -> None:
    path = tmp_path / "snap.pcap"
    path.write_bytes(pcap_bytes([(1, 0, bytes(range(100))), (2, 0, b"short")], snaplen=64))
    got = ours(path)
    assert [r.data for r in got] == [bytes(range(64)), b"short"]
    assert [r.length for r in got] == [100, 5]
    assert libpcap(path) == (as_tuples(got), None)


# -- pcapng ---------------------------------------------------------------------

def test_pcapng_epb_spb_interfaces_tsresol(tmp_path: Path) -> None:
    data = (
        shb()
        + idb(1)  # default resolution: microseconds
        + epb(0, 1763800000 * 10**6 + 123456, b"eth frame", 60)
        + idb(113, tsresol=9)  # nanoseconds
        + epb(1, 1763800001 * 10**9 + 987654321, b"cooked")
        + idb(101, tsresol=0x80 | 10)  # 2**-10 s
        + epb(2, 5 * 1024 + 512, b"raw")
        + spb(b"simple packet")  # SPB: interface 0, no timestamp
        + block(0x00000BAD, b"custom block")  # unknown blocks are skipped
    )
    path = tmp_path / "multi.pcapng"
    path.write_bytes(data)
    got = ours(path)
    assert got == [
        Captured(1763800000, 123456, 60, b"eth frame", 1),
        Captured(1763800001, 987654, 6, b"cooked", 113),
        Captured(5, 500000, 3, b"raw", 101),
        Captured(0, 0, 13, b"simple packet", 1),
    ]


@pytest.mark.parametrize("e", ["<", ">"])
@pytest.mark.parametrize("tsresol", [None, 6, 9, 0x80 | 20])
def test_pcapng_single_interface_matches_libpcap(tmp_path: Path, e: str, tsresol) -> None:
    ticks = (2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol) if tsresol else 10**6
    blocks = [shb(e), idb(1, tsresol, e=e)]
    for i, (sec, usec, frame) in enumerate(FRAMES):
        blocks.append(epb(0, sec * ticks + usec * ticks // 10**6, frame, len(frame) + i, e))
    path = tmp_path / "one.pcapng"
    path.write_bytes(b"".join(blocks))
    got = ours(path)
    assert [(r.ts_sec, r.data) for r in got] == [(s, d) for s, _, d in FRAMES]
    if tsresol in (None, 6, 9):
        assert [r.ts_usec for r in got] == [u for _, u, _ in FRAMES]
    assert libpcap(path) == (as_tuples(got), None)


def test_pcapng_records_before_interface_are_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "late.pcapng"
    path.write_bytes(shb() + block(0x00000BAD, b"x" * 8) + idb(1) + epb(0, 7_000_001, b"f"))
    assert ours(path) == [Captured(7, 1, 1, b"f", 1)]


# -- writer -------------------------------------------------------------------

def test_writer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "w.pcap"
    with PcapWriter(str(path), linktype=276) as w:
        for sec, usec, frame in FRAMES:
            w.write(sec, usec, frame)
        w.write(9, 9, b"cut", length=1500)
        assert w.count == 4
    got = ours(path)
    assert got == [Captured(s, u, len(d), d, 276) for s, u, d in FRAMES] + [
        Captured(9, 9, 1500, b"cut", 276)]
    assert libpcap(path) == (as_tuples(got), None)
    raw = path.read_bytes()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1" and len(raw) == 24 + sum(16 + len(r.data) for r in got)


def test_writer_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(PcappingError):
        PcapWriter(str(tmp_path / "no" / "such" / "dir.pcap"))


# -- damaged files -------------------------------------------------------------

def _one_line_error(path: Path) -> tuple[list[Captured], str]:
    got: list[Captured] = []
    with pytest.raises(PcappingError) as info:
        for rec in PcapReader(str(path)):
            got.append(rec)
    msg = str(info.value)
    assert msg and "\n" not in msg and str(path) in msg
    return got, msg


@pytest.mark.parametrize("content", [
    pytest.param(None, id="missing"),
    pytest.param(b"", id="empty"),
    pytest.param(b"this is not a capture file, just text\n" * 3, id="text"),
    pytest.param(b"\xd4\xc3\xb2\xa1\x02\x00", id="partial-header"),
    pytest.param(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", id="partial-pcapng-header"),
    pytest.param(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00" + b"\x4d\x3c" * 2 + b"junk" * 10,
                 id="pcapng-bad-byte-order"),
])
def test_unreadable_files(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    got, msg = _one_line_error(path)
    assert got == []


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PcappingError, match="directory"):
        PcapReader(str(tmp_path))


def test_header_only_is_an_empty_capture(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(pcap_bytes([]))
    assert ours(path) == []
    assert libpcap(path) == ([], None)


@pytest.mark.parametrize("cut", [1, 10, 15, 16, 17, 50])
def test_truncated_last_record_after_all_complete_ones(tmp_path: Path, cut: int) -> None:
    whole = pcap_bytes(FRAMES)
    last = 16 + len(FRAMES[-1][2])
    path = tmp_path / "trunc.pcap"
    path.write_bytes(whole[: len(whole) - last + cut])
    got, msg = _one_line_error(path)
    assert [r.data for r in got] == [d for _, _, d in FRAMES[:-1]]
    assert "truncated dump file" in msg
    theirs, err = libpcap(path)
    assert theirs == as_tuples(got)
    assert err is not None and "truncated dump file" in err


def test_truncated_pcapng_block(tmp_path: Path) -> None:
    whole = shb() + idb(1) + epb(0, 1, b"a" * 20) + epb(0, 2, b"b" * 20)
    path = tmp_path / "trunc.pcapng"
    path.write_bytes(whole[:-10])
    got, _msg = _one_line_error(path)
    assert [r.data for r in got] == [b"a" * 20]


def test_absurd_caplen_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.pcap"
    path.write_bytes(pcap_bytes(FRAMES[:1]) + struct.pack("<IIII", 1, 1, 10**8, 10**8))
    got, msg = _one_line_error(path)
    assert len(got) == 1 and "capture length" in msg


# -- every capture in the repository, against libpcap -----------------------------

CAPTURE_FILES = sorted(p for p in CAPTURES.rglob("*") if p.suffix in (".pcap", ".pcapng"))


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: str(p.relative_to(CAPTURES)))
def test_captures_read_like_libpcap(path: Path) -> None:
    got = ours(path)
    theirs, err = libpcap(path)
    assert err is None
    assert theirs == as_tuples(got)
