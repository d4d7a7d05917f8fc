"""The AFS/RX printer against tcpdump 4.99 on generated calls, replies, aborts and acks.

A seeded generator writes RX conversations (every service and opcode tcpdump
names, random arguments, ACL text, ack arrays, cut captures) as plain UDP
frames and as datagrams quoted by ICMP errors; every frame of the file must
print as ``tcpdump -n``, ``-nv``, ``-nvv`` and ``-nvvv`` print it.  Replies are
only decoded when tcpdump remembers the call, so the whole file is formatted
in order with one formatter, as ``sniff`` does.
"""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pytest
from tcpdump_harness import ETHER, differences, icmp_error, ipv4, needs_tcpdump

from pcapping.io.pcapfile import PcapWriter
from pcapping.tcpdump.apps.rx import (
    BOS_OPS,
    CB_OPS,
    FS_OPS,
    KAUTH_OPS,
    PT_OPS,
    UBIK_OPS,
    VLDB_OPS,
    VOL_OPS,
    RxPrinter,
    is_rx,
)

OPS = {7000: FS_OPS, 7001: CB_OPS, 7002: PT_OPS, 7003: VLDB_OPS, 7004: KAUTH_OPS,
       7005: VOL_OPS, 7007: BOS_OPS}


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _words(rng: random.Random, n: int) -> bytes:
    """Arguments: mostly small numbers (counts, string lengths, letters), some text."""
    out = bytearray()
    while len(out) < n * 4:
        pick = rng.random()
        if pick < 0.5:
            out += struct.pack("!I", rng.choice((0, 1, 2, 3, 5, 8, 13, 26, 27, 40, 64, 65)))
        elif pick < 0.7:
            out += struct.pack("!I", rng.randrange(32, 127))
        elif pick < 0.8:
            text = bytes(rng.choice(b"abcdefgh.\x01\xe9 ") for _ in range(rng.randrange(12)))
            out += struct.pack("!I", len(text)) + text + b"\0" * (-len(text) % 4)
        elif pick < 0.9:
            acl = _acl_text(rng)
            out += struct.pack("!I", len(acl)) + acl + b"\0" * (-len(acl) % 4)
        else:
            out += struct.pack("!I", rng.randrange(1 << 32))
    return bytes(out)


def _acl_text(rng: random.Random) -> bytes:
    pos, neg = rng.randrange(4), rng.randrange(3)
    lines = [f"{pos} {neg}"]
    for _ in range(pos + neg + rng.choice((0, 0, -1, 1))):
        lines.append(f"{rng.choice(('alice', 'bob', 'system:any', 'x'))} "
                     f"{rng.choice((1, 8, 127, 0, 64, 9, -5))}")
    return ("\n".join(lines) + rng.choice(("\n", "", "  junk"))).encode()


def _header(rng: random.Random, callnum: int, ptype: int, flags: int, seq: int = 1,
            service: int = 0) -> bytes:
    return struct.pack("!IIIIIBBBBHH", rng.randrange(1 << 32), rng.randrange(1 << 32),
                       callnum, seq, rng.randrange(1, 9), ptype, flags, 0,
                       rng.randrange(4), 0, service)


def _ack_body(rng: random.Random) -> bytes:
    n = rng.choice((0, 1, 3, 8, 20))
    body = struct.pack("!HHIIIBB", rng.randrange(64), rng.randrange(64), rng.randrange(1 << 32),
                       0, rng.randrange(100), rng.randrange(12), n)
    acks = bytes(rng.choice((0, 1, 1, 2)) for _ in range(n))
    return body + acks + b"\0\0\0" + _words(rng, rng.randrange(6))


def _opcode(rng: random.Random, port: int) -> int:
    pick = rng.random()
    if pick < 0.75 and port in OPS:
        return rng.choice(list(OPS[port]))
    if pick < 0.95:
        return rng.choice(list(UBIK_OPS))
    return rng.choice((10008, 20014, 655537, 0, 7))


def _conversation(rng: random.Random) -> list[bytes]:
    """RX payloads with their UDP/IP framing as (src, dst, sport, dport, payload)."""
    port = rng.choice((7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007, 7009))
    client = bytes([10, 1, 0, rng.randrange(1, 5)])
    server = bytes([10, 2, 0, rng.randrange(1, 5)])
    cport = rng.choice((1024, 7001, 40000, 50001))
    callnum, service = rng.randrange(1, 6), rng.choice((1, 52, 73))
    op = _opcode(rng, port)
    flags = 1 | rng.choice((0, 2, 4, 32))
    args = _words(rng, rng.randrange(0, 40))
    if port == 7000 and op == 134 or rng.random() < 0.05:  # store ACL: fid, then ACL text
        acl = _acl_text(rng)
        args = _words(rng, 3) + struct.pack("!I", len(acl)) + acl + args
    call = _header(rng, callnum, 1, flags, service=service) + struct.pack("!I", op) + args
    msgs = [(client, server, cport, port, call)]
    kind = rng.random()
    if kind < 0.6:
        rtype = 1 if rng.random() < 0.7 else 4
        body = _words(rng, rng.choice((rng.randrange(0, 60), rng.randrange(60, 260))))
        if rng.random() < 0.5:  # an ACL (fetch-acl) or a volume name (vldb entries)
            acl = _acl_text(rng)
            body = (struct.pack("!I", len(acl)) + acl if port == 7000
                    else b"".join(struct.pack("!I", c) for c in b"root.cell".ljust(65, b"\0")))
            body += _words(rng, rng.randrange(0, 150))
        reply = _header(rng, callnum, rtype, rng.choice((0, 4, 2)), service=service) + body
        msgs.append((server, client, port, cport, reply))
    elif kind < 0.8:
        ack = _header(rng, callnum, 2, rng.choice((0, 32, 2))) + _ack_body(rng)
        msgs.append((server, client, port, cport, ack))
    else:
        other = _header(rng, callnum, rng.choice((3, 5, 6, 7, 8, 9, 13, 99)),
                        rng.randrange(256), seq=rng.randrange(3)) + _words(rng, 3)
        msgs.append((rng.choice((client, server)), server, cport, port, other))
    return msgs


def _frames(rng: random.Random, count: int) -> list[tuple[bytes, int]]:
    """(captured bytes, wire length) Ethernet frames: RX over UDP, plain or quoted."""
    out: list[tuple[bytes, int]] = []
    while len(out) < count:
        for src, dst, sport, dport, payload in _conversation(rng):
            datagram = ipv4(src, dst, 17, _udp(sport, dport, payload))
            if rng.random() < 0.5:
                frame = ETHER + datagram
                cut = len(frame) if rng.random() < 0.8 else rng.randrange(42, len(frame) + 1)
                out.append((frame[:cut], len(frame)))
            else:
                quote = datagram[:rng.choice((len(datagram), 28 + 28, 28 + 40, 28 + 100,
                                              rng.randrange(28, len(datagram) + 1)))]
                frame = ETHER + ipv4(bytes([10, 9, 9, 9]), src, 1, icmp_error(3, 3, quote))
                out.append((frame, len(frame)))
    return out


@pytest.fixture(scope="module")
def rx_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rx") / "rx.pcap"
    rng = random.Random(7003)
    with PcapWriter(str(path)) as w:
        for k, (frame, wire) in enumerate(_frames(rng, 8000)):
            w.write(1_000_000 + k, k, frame, wire)
    return path


@needs_tcpdump
@pytest.mark.parametrize("verbose", [0, 1, 2, 3])
def test_rx_frames_match_tcpdump(rx_pcap: Path, verbose: int,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    count, bad = differences(rx_pcap, "-n" + "v" * verbose)
    assert not bad, f"{len(bad)} of {count} differ:\n" + "\n".join(bad[:5])


def test_reply_needs_the_call() -> None:
    """A reply prints its opcode only after the printer saw the call."""
    rx = RxPrinter()
    client, server = bytes([10, 1, 0, 1]), bytes([10, 2, 0, 1])
    rng = random.Random(1)
    call = _header(rng, 9, 1, 1, service=52) + struct.pack("!I", 504) + b"\0" * 8
    reply = _header(rng, 9, 4, 0, service=52) + struct.pack("!i", -3)
    text, _ = rx.print(reply, 0, len(reply), len(reply), 7002, 1024, server, client, 1)
    assert "reply" not in text
    text, _ = rx.print(call, 0, len(call), len(call), 1024, 7002, client, server, 1)
    assert text.endswith(f"pt call name-to-id <none!> ({len(call)})")
    text, hard = rx.print(reply, 0, len(reply), len(reply), 7002, 1024, server, client, 1)
    assert (text, hard) == (f" rx abort seq 1 ser {reply[19]} pt reply name-to-id errcode -3"
                            f" ({len(reply)})", "")


def test_cut_header_and_cut_arguments() -> None:
    rx = RxPrinter()
    a, b = bytes([10, 1, 0, 1]), bytes([10, 2, 0, 1])
    assert rx.print(b"\0" * 20, 0, 40, 20, 1024, 7000, a, b, 1) == (" [|rx] (40)", "")
    hdr = _header(random.Random(2), 1, 1, 1)
    text, hard = rx.print(hdr + b"\0\0", 0, 60, len(hdr) + 2, 1024, 7000, a, b, 0)
    assert (text, hard) == (" rx data", "rx")  # the opcode fetch runs off the capture
    fid_cut = hdr + struct.pack("!I", 130) + b"\0" * 8
    text, hard = rx.print(fid_cut, 0, 60, len(fid_cut), 1024, 7000, a, b, 0)
    assert (text, hard) == (" rx data fs call fetch-data [|fs] (60)", "")


def test_port_rules() -> None:
    assert is_rx(40000, 7003) and is_rx(7009, 1)
    assert not is_rx(53, 7003) and not is_rx(7000, 161) and not is_rx(7000, 3456)
    assert is_rx(3456, 7000) and not is_rx(7010, 6999)


def test_random_bytes_never_raise() -> None:
    rng = random.Random(5)
    rx = RxPrinter()
    a, b = bytes(4), bytes(4)
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(80)))
        data = data[:20] + bytes([rng.choice((1, 2, 4)), rng.randrange(4)]) + data[22:]
        end = rng.randrange(len(data) + 1)
        text, hard = rx.print(data, 0, rng.randrange(200), end, rng.choice((7000, 7003, 1)),
                              rng.choice((7000, 7001, 7002, 7004, 7005, 7007)), a, b,
                              rng.randrange(4))
        assert isinstance(text, str) and hard in ("", "rx")
