"""TCP lines (checksum verdicts, options, relative sequence numbers) against tcpdump 4.99.

A seeded generator writes TCP segments with random option lists (well-formed,
wrong lengths, unknown kinds, cut anywhere), flags, payloads and checksums, as
plain frames and as datagrams quoted by ICMP errors (whole, or cut as routers
quote them).  Every frame must print as ``tcpdump -n``, ``-nv`` and ``-nvv`` do.
MPTCP options (kind 30) are left out: tcpdump prints them with a printer not
reproduced here.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from tcpdump_harness import ETHER, differences, icmp_error, ipv4, needs_tcpdump

from pcapping.io.pcapfile import PcapWriter
from pcapping.tcpdump.tcpopt import tcp_options
from pcapping.wire.checksum import internet_checksum


def _option(rng: random.Random) -> bytes:
    kind = rng.choice((0, 1, 1, 2, 3, 4, 5, 8, 8, 11, 13, 19, 20, 28, 29, 34, 254, 254, 99, 6))
    if kind in (0, 1):
        return bytes([kind])
    body = {2: 2, 3: 1, 4: 0, 8: 8, 11: 4, 13: 4, 19: 16, 20: 2, 28: 2}.get(kind)
    if body is None:
        body = rng.choice((0, 1, 2, 4, 6, 8, 10, 16, 18))
        if kind == 5:
            body = rng.choice((8, 16, 6))
    data = bytes(rng.randrange(256) for _ in range(body))
    if kind == 254 and body >= 2 and rng.random() < 0.6:
        data = b"\xf9\x89" + data[2:]
    olen = body + 2
    if rng.random() < 0.1:
        olen = rng.choice((0, 1, 3, olen + 2, 40))
    return bytes([kind, olen & 0xFF]) + data


def _segment(rng: random.Random, src: bytes, dst: bytes, sport: int, dport: int,
             seq: int, ack: int) -> bytes:
    opts = b"".join(_option(rng) for _ in range(rng.choice((0, 1, 2, 4, 6))))
    if rng.random() < 0.1:
        opts = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
    opts = opts[:40]
    opts += b"\0" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    if rng.random() < 0.05:
        off = rng.randrange(16)
    flags = rng.choice((0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x30, 0x00, 0x1FF))
    payload = bytes(rng.randrange(256) for _ in range(rng.choice((0, 0, 1, 11, 100))))
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (off << 4) | (flags >> 8),
                      flags & 0xFF, rng.randrange(65536), 0, rng.randrange(65536))
    seg += opts + payload
    csum = internet_checksum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    if rng.random() < 0.3:
        csum ^= rng.randrange(1, 65536)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def _frames(rng: random.Random, count: int) -> list[tuple[bytes, int]]:
    out: list[tuple[bytes, int]] = []
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    conns = [(rng.randrange(40000, 60000), rng.randrange(40000, 60000),
              rng.randrange(1 << 32), rng.randrange(1 << 32)) for _ in range(8)]
    while len(out) < count:
        sport, dport, iseq, rseq = rng.choice(conns)
        if rng.random() < 0.5:
            src, dst, seq, ack = a, b, iseq + rng.randrange(3000), rseq + rng.randrange(3000)
        else:
            src, dst, sport, dport = b, a, dport, sport
            seq, ack = rseq + rng.randrange(3000), iseq + rng.randrange(3000)
        datagram = ipv4(src, dst, 6, _segment(rng, src, dst, sport, dport, seq & 0xFFFFFFFF,
                                              ack & 0xFFFFFFFF), frag=0x4000)
        if rng.random() < 0.4:
            frame = ETHER + datagram
            cut = len(frame) if rng.random() < 0.8 else rng.randrange(34, len(frame) + 1)
            out.append((frame[:cut], len(frame)))
        else:
            quote = datagram[:rng.choice((len(datagram), 28, 48, 60,
                                          rng.randrange(20, len(datagram) + 1)))]
            body = icmp_error(rng.choice((3, 11)), 1, quote)
            frame = ETHER + ipv4(bytes([10, 9, 9, 9]), src, 1, body, frag=0x4000)
            out.append((frame, len(frame)))
    return out


@pytest.fixture(scope="module")
def tcp_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tcp") / "tcp.pcap"
    with PcapWriter(str(path)) as w:
        for k, (frame, wire) in enumerate(_frames(random.Random(6), 8000)):
            w.write(1_000_000 + k, k, frame, wire)
    return path


@needs_tcpdump
@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_tcp_frames_match_tcpdump(tcp_pcap: Path, verbose: int) -> None:
    count, bad = differences(tcp_pcap, "-n" + "v" * verbose)
    assert not bad, f"{len(bad)} of {count} differ:\n" + "\n".join(bad[:5])


@pytest.mark.parametrize(("raw", "text", "stop"), [
    (bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + struct.pack("!II", 7, 0) + bytes([1, 3, 3, 7]),
     ", options [mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7]", ""),
    (bytes([2, 6, 5, 0xB4, 0, 0]), ", options [mss 1460[len 6],eol]", ""),
    (bytes([1, 2, 1]), ", options [nop,[bad opt]]", "end"),
    (bytes([8, 10, 0, 0]), ", options [[bad opt]", "end"),
    (bytes([34, 2]), ", options [tfo  cookiereq]", ""),
    (bytes([254, 6, 0xF9, 0x89, 1, 2]), ", options [exp-tfo (invalid)]", ""),
])
def test_option_lists(raw: bytes, text: str, stop: str) -> None:
    out: list[str] = []
    assert tcp_options(raw, 0, len(raw), len(raw), out, 0) == stop
    assert "".join(out) == text


def test_cut_options() -> None:
    raw = bytes([2, 4, 5, 0xB4, 8, 10, 0, 0])
    out: list[str] = []
    assert tcp_options(raw, 0, 16, len(raw), out, 0) == "end"
    assert "".join(out) == ", options [mss 1460,TS [|tcp]>"
    out = []
    assert tcp_options(raw, 0, 12, 0, out, 0) == "tcp"
    assert "".join(out) == ", options ["
