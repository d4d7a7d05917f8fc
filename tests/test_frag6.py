"""IPv6 fragmentation and reassembly: the layout Linux uses, and reassembly of the
fragments Linux sent in captures/lab6/lab6-ptb-fragments.pcap."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pcapping import read_capture
from pcapping.decode import decode_frame
from pcapping.wire.frag6 import Reassembler6, fragment6
from pcapping.wire.icmp6 import ICMP6Echo, icmp6_checksum_ok, parse_icmp6
from pcapping.wire.ipv6 import (
    FragmentHeader,
    IPv6Header,
    IPv6Option,
    OptionsHeader,
    ip6_bytes,
    walk_extensions,
)

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
SRC, DST = ip6_bytes("2001:db8:77:1::2"), ip6_bytes("2001:db8:77:3::2")


def _echo(size: int) -> bytes:
    return ICMP6Echo(False, 0x1234, 1, bytes(i & 0xFF for i in range(size))).encode(SRC, DST)


def test_fragment6_layout_is_linux_s() -> None:
    msg = _echo(1400)  # 1408 bytes of ICMPv6, as `ping -6 -s 1400`
    frags = fragment6(IPv6Header(SRC, DST, 58), 58, msg, 1280, 0xABCDEF01)
    assert [len(f) for f in frags] == [1280, 40 + 8 + 176]
    firsts = [walk_extensions(f, 44) for f in frags]
    assert [c.fragment.offset_bytes for c in firsts] == [0, 1232]
    assert [c.fragment.more for c in firsts] == [True, False]
    assert all(c.fragment.ident == 0xABCDEF01 and c.protocol == 58 for c in firsts)
    d = decode_frame(frags[0], 101)
    assert d.icmp6.ident == 0x1234 and d.icmp6.checksum_ok is None  # a first fragment
    assert decode_frame(frags[1], 101).icmp6 is None
    r = Reassembler6()
    assert r.add(SRC, DST, firsts[1].fragment, frags[1][48:], 0.0) is None
    nh, whole = r.add(SRC, DST, firsts[0].fragment, frags[0][48:], 0.1)
    assert nh == 58 and whole == msg and icmp6_checksum_ok(SRC, DST, whole) and len(r) == 0


def test_fragment6_small_payload_and_unfragmentable_part() -> None:
    msg = _echo(8)
    (atomic,) = fragment6(IPv6Header(SRC, DST, 58), 58, msg, 1500, 7)
    chain = walk_extensions(atomic, 44)
    assert chain.fragment.is_atomic and decode_frame(atomic, 101).icmp6.checksum_ok
    hbh = OptionsHeader.build(0, 44, [IPv6Option(5, b"\0\0")]).encode()
    frags = fragment6(IPv6Header(SRC, DST, 0), 58, _echo(3000), 1280, 9,
                      unfragmentable=hbh, unfragmentable_nh=0)
    assert all(len(f) <= 1280 for f in frags) and len(frags) == 3
    assert all(walk_extensions(f, 0).headers[0].router_alert == 0 for f in frags)
    with pytest.raises(ValueError):
        fragment6(IPv6Header(SRC, DST, 58), 58, msg, 1200, 1)


def test_reassembly_in_any_order_and_bad_cases() -> None:
    msg = _echo(5000)
    frags = fragment6(IPv6Header(SRC, DST, 58), 58, msg, 1280, 42)
    parts = [(walk_extensions(f, 44).fragment, f[48:]) for f in frags]
    for seed in range(5):
        order = parts[:]
        random.Random(seed).shuffle(order)
        r = Reassembler6()
        results = [r.add(SRC, DST, fh, data, i) for i, (fh, data) in enumerate(order)]
        assert results[:-1] == [None] * (len(order) - 1) and results[-1] == (58, msg)
    r = Reassembler6()
    r.add(SRC, DST, parts[0][0], parts[0][1], 0)
    r.add(SRC, DST, parts[0][0], parts[0][1], 0)  # an exact duplicate is fine
    overlap = FragmentHeader(58, parts[1][0].frag_offset - 1, True, 42)
    assert r.add(SRC, DST, overlap, parts[1][1], 1) is None and len(r) == 0  # RFC 5722
    assert r.discarded == 1
    r.add(SRC, DST, parts[0][0], parts[0][1], 0)
    assert r.expire(61) == 1 and len(r) == 0  # 60 s without progress
    odd = FragmentHeader(58, 0, True, 43)
    assert r.add(SRC, DST, odd, b"x" * 13, 0) is None and len(r) == 0  # not a multiple of 8
    huge = FragmentHeader(58, 8190, False, 44)
    assert r.add(SRC, DST, huge, b"x" * 100, 0) is None  # past 65535
    small = Reassembler6(max_pending=2)
    for ident in range(3):
        small.add(SRC, DST, FragmentHeader(58, 0, True, ident), bytes(8), ident)
    assert len(small) == 2 and small.discarded == 1


def test_reassembles_what_linux_fragmented() -> None:
    frames = list(read_capture(str(CAPTURES / "lab6" / "lab6-ptb-fragments.pcap")))
    r = Reassembler6()
    done = []
    for d in frames:
        chain = d.ip6_ext
        if chain is None or chain.fragment is None:
            continue
        got = r.add(d.ip6.src, d.ip6.dst, chain.fragment, d.data[chain.offset:d.l4_end], d.ts)
        if got is not None:
            done.append((d.ip6.src, d.ip6.dst, got))
    assert len(done) >= 2
    for src, dst, (nh, whole) in done:
        msg = parse_icmp6(whole, src, dst)
        assert nh == 58 and msg.checksum_ok and len(whole) == 1408
