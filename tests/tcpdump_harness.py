"""What the tests holding pcapping's text to tcpdump 4.99's share.

Frame building (``ipv4``, ``icmp_error``), running tcpdump and pcapping over the
same pcap file (``differences``), and, for the application printers that are
checked on their own (SNMP, NTP, syslog), the generated ``Case`` frames, plain
and quoted by an ICMP port unreachable, with ``compare_tails``.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pcapping.decode import decode_frame
from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.tcpdump.formatter import TcpdumpFormatter, split_records
from pcapping.wire.checksum import internet_checksum


def _load_compare():  # noqa: ANN202
    """scripts/compare_tcpdump.py as a module (its kind_of is the tests' too)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "compare_tcpdump.py"
    spec = importlib.util.spec_from_file_location("compare_tcpdump", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compare_tcpdump", module)
    spec.loader.exec_module(module)
    return module


compare_tcpdump = _load_compare()
TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump not installed")
ETHER = bytes.fromhex("020000000001" "020000000002" "0800")
Printer = Callable[[bytes, int, int, int, int], tuple[str, str]]


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, *, total: int | None = None,
         ident: int = 1, frag: int = 0) -> bytes:
    """An IPv4 header (TTL 64, right checksum) and ``payload``; ``total`` overrides the
    total length field, ``frag`` is the flags/offset word."""
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload) if total is None else total,
                       ident, frag, 64, proto, 0, src, dst)
    return head[:10] + struct.pack("!H", internet_checksum(head)) + head[12:] + payload


def icmp_error(itype: int, code: int, quote: bytes, rest: bytes = bytes(4)) -> bytes:
    """An ICMP error message (right checksum) quoting ``quote``."""
    body = bytes([itype, code, 0, 0]) + rest + quote
    return body[:2] + struct.pack("!H", internet_checksum(body)) + body[4:]


def tcpdump_records(path: Path, flags: str) -> list[str]:
    """``TZ=UTC tcpdump FLAGS -r PATH``, one text per frame."""
    assert TCPDUMP is not None
    proc = subprocess.run([TCPDUMP, flags, "-r", str(path)], capture_output=True, text=True,
                          env={**os.environ, "TZ": "UTC"}, check=True)
    return split_records(proc.stdout)


def differences(path: Path, flags: str) -> tuple[int, list[str]]:
    """(frames, description of each frame pcapping prints unlike tcpdump with ``flags``),
    formatting the whole file in order with one formatter, as ``sniff`` does."""
    want = tcpdump_records(path, flags)
    fmt = TcpdumpFormatter(verbose=flags.count("v"), link="e" in flags, hexdump="X" in flags)
    frames = list(PcapReader(str(path)))
    assert len(want) == len(frames)
    bad = []
    for k, cap in enumerate(frames):
        got = fmt.format(decode_frame(cap.data, cap.linktype, frame=k + 1, ts_sec=cap.ts_sec,
                                      ts_usec=cap.ts_usec, length=cap.length))
        if got != want[k]:
            bad.append(f"#{k + 1}\n  want {want[k]!r}\n  got  {got!r}")
    return len(frames), bad


# -- one application printer against tcpdump ---------------------------------------------

HOST_A = bytes((10, 1, 2, 3))   # the speaker whose datagram is quoted
HOST_B = bytes((10, 4, 5, 6))   # the peer that answers with an ICMP error
# the UDP line: indented under -v (quoted or not), after the time stamp without it
UDP_LINE = re.compile(r"^(?:\d\d:\d\d:\d\d\.\d{6} IP | {4})10(?:\.\d+){4} > 10(?:\.\d+){4}: ",
                      re.MULTILINE)


@dataclass
class Case:
    payload: bytes
    sport: int
    dport: int
    ulen_delta: int = 0     # UDP length field minus the true one
    cut: int | None = None  # payload bytes kept (the capture ends there)
    proto: str = ""         # which printer, where a test checks several

    def udp(self) -> bytes:
        ulen = 8 + len(self.payload) + self.ulen_delta
        return struct.pack("!HHHH", self.sport, self.dport, ulen, 0) + self.payload

    def length(self) -> int:
        """The payload length tcpdump's UDP printer hands to the application printer."""
        return len(self.payload) + min(self.ulen_delta, 0)


def icmp_frame(case: Case, ident: int) -> tuple[bytes, int]:
    """(frame, payload offset): an ICMP port unreachable from B quoting A's datagram."""
    quoted = ipv4(HOST_A, HOST_B, 17, case.udp(), ident=ident)
    if case.cut is not None:
        quoted = quoted[:28 + case.cut]
    return ETHER + ipv4(HOST_B, HOST_A, 1, icmp_error(3, 3, quoted), ident=ident), 70


def udp_frame(case: Case, ident: int) -> tuple[bytes, int, int]:
    """(captured bytes, wire length, payload offset) of A's datagram itself."""
    frame = ETHER + ipv4(HOST_A, HOST_B, 17, case.udp(), ident=ident)
    wire = len(frame)
    if case.cut is not None:
        frame = frame[:42 + case.cut]
    return frame, wire, 42


def mutate(rng: random.Random, msg: bytes) -> bytes:
    """``msg`` with one to three random bit flips, overwrites, cuts or insertions."""
    b = bytearray(msg)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        i = rng.randrange(len(b) + 1)
        if op == 0 and i < len(b):
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and i < len(b):
            b[i] = rng.randrange(256)
        elif op == 2:
            del b[i: i + rng.randint(1, 4)]
        elif op == 3:
            b[i:i] = rng.randbytes(rng.randint(1, 4))
        elif op == 4:
            b = b[:i]
        else:
            b += rng.randbytes(rng.randint(1, 4))
    return bytes(b)


def write_cases(path: Path, cases: list[Case], quoted: bool) -> list[tuple[bytes, int]]:
    """Write the cases' frames (quoted or plain); (frame, payload offset) of each."""
    frames = []
    with PcapWriter(str(path), linktype=1) as w:
        for i, case in enumerate(cases):
            if quoted:
                frame, p = icmp_frame(case, i & 0xFFFF)
                wire = len(frame)
            else:
                frame, wire, p = udp_frame(case, i & 0xFFFF)
            w.write(1_000_000 + i, 0, frame, wire)
            frames.append((frame, p))
    return frames


def udp_tail(record: str, multiline: bool) -> str | None:
    """What tcpdump printed after ``PORT: `` of the (quoted) UDP line: to the record's end
    for a printer that writes continuation lines, else to the line's end."""
    m = UDP_LINE.search(record)
    if m is None:
        return None
    return record[m.end():] if multiline else record[m.end():].split("\n", 1)[0]


def icmp_extra(frame: bytes, hard: str) -> str:
    """tcpdump's ICMP printer adds `` [|icmp]`` after a quote when the ICMP message is
    too short for its multi-part extension header (137..140 bytes)."""
    return " [|icmp]" if not hard and 136 < len(frame) - 34 < 141 else ""


def compare_tails(records: list[str], frames: list[tuple[bytes, int]], cases: list[Case],
                  verbose: int, quoted: bool,
                  printer_for: Callable[[Case], Printer],
                  multiline: bool = False) -> tuple[int, list[str]]:
    """(frames, how each frame's UDP tail differs from what its printer returns)."""
    assert len(records) == len(frames)
    bad = []
    for i, (record, (frame, p), case) in enumerate(zip(records, frames, cases, strict=True)):
        got = udp_tail(record, multiline)
        text, hard = printer_for(case)(frame, p, case.length(), len(frame), verbose)
        want = text + (f" [|{hard}]" if hard else "")
        if quoted:
            want += icmp_extra(frame, hard)
        if got is not None and verbose > 1:
            got = got.removeprefix("[no cksum] ")
        if got != want:
            bad.append(f"frame {i + 1} {case.proto} payload {case.payload.hex()} cut {case.cut} "
                       f"delta {case.ulen_delta}\n tcpdump: {got!r}\n printer: {want!r}")
    return len(frames), bad
