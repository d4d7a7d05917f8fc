"""IPv6 fragmentation and reassembly: the layout Linux uses, and reassembly of the
fragments Linux sent in captures/lab6/lab6-ptb-fragments.pcap."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pcapping import read_capture
from pcapping.decode import decode_frame
from pcapping.wire.frag import Reassembled, Reassembler, ReassemblyFailed
from pcapping.wire.frag6 import fragment6
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
    r = Reassembler()
    assert r.add_ipv6(frags[1], 0.0) is None
    done = r.add_ipv6(frags[0], 0.1)
    assert isinstance(done, Reassembled) and len(r) == 0
    whole = done.datagram
    assert whole[6] == 58 and whole[40:] == msg and icmp6_checksum_ok(SRC, DST, whole[40:])
    assert whole == IPv6Header(SRC, DST, 58).encode(msg)


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


def _frag(ident: int, offset: int, more: bool, data: bytes) -> bytes:
    return IPv6Header(SRC, DST, 44).encode(FragmentHeader(58, offset // 8, more, ident).encode()
                                           + data)


def test_reassembly_in_any_order_and_bad_cases() -> None:
    msg = _echo(5000)
    frags = fragment6(IPv6Header(SRC, DST, 58), 58, msg, 1280, 42)
    for seed in range(5):
        order = frags[:]
        random.Random(seed).shuffle(order)
        r = Reassembler()
        results = [r.add_ipv6(f, float(i)) for i, f in enumerate(order)]
        assert results[:-1] == [None] * (len(order) - 1)
        assert isinstance(results[-1], Reassembled) and results[-1].datagram[40:] == msg
    r = Reassembler()
    r.add_ipv6(frags[0], 0)
    assert r.add_ipv6(frags[0], 0) is None  # an exact duplicate is fine
    second = walk_extensions(frags[1], 44).fragment
    overlap = _frag(42, second.offset_bytes - 8, True, frags[1][48:])
    bad = r.add_ipv6(overlap, 1)
    assert isinstance(bad, ReassemblyFailed) and bad.reason == "overlap" and len(r) == 0
    r = Reassembler(timeout_s=60.0)
    r.add_ipv6(frags[0], 0)
    (late,) = r.expire(61)
    assert late.reason == "timeout" and len(r) == 0  # 60 s (RFC 8200)
    odd = r.add_ipv6(_frag(43, 0, True, b"x" * 13), 0)
    assert isinstance(odd, ReassemblyFailed) and odd.reason == "malformed"
    huge = r.add_ipv6(_frag(44, 65520, False, b"x" * 100), 0)
    assert isinstance(huge, ReassemblyFailed) and huge.reason == "oversized"
    small = Reassembler(max_datagrams=2)
    evicted = [small.add_ipv6(_frag(ident, 0, True, bytes(8)), ident) for ident in range(3)]
    assert len(small) == 2 and [e.reason for e in evicted if e] == ["evicted"]


def test_unfragmentable_part_is_kept_and_relinked() -> None:
    hbh = OptionsHeader.build(0, 44, [IPv6Option(5, b"\0\0")]).encode()
    msg = _echo(3000)
    frags = fragment6(IPv6Header(SRC, DST, 0), 58, msg, 1280, 9,
                      unfragmentable=hbh, unfragmentable_nh=0)
    r = Reassembler()
    done = [r.add_ipv6(f, 0.0) for f in frags][-1]
    assert isinstance(done, Reassembled)
    chain = walk_extensions(done.datagram, 0)
    assert chain.protocol == 58 and chain.fragment is None and chain.offset == 48
    assert done.datagram[48:] == msg


def test_reassembles_what_linux_fragmented() -> None:
    frames = list(read_capture(str(CAPTURES / "lab6" / "lab6-ptb-fragments.pcap")))
    r = Reassembler()
    done = []
    for d in frames:
        chain = d.ip6_ext
        if chain is None or chain.fragment is None:
            continue
        got = r.add_ipv6(d.data[d.l3_offset:d.l3_offset + 40 + d.ip6.payload_length], d.ts)
        if isinstance(got, Reassembled):
            done.append((d.ip6.src, d.ip6.dst, got.datagram))
    assert len(done) >= 2
    for src, dst, whole in done:
        msg = parse_icmp6(whole[40:], src, dst)
        assert whole[6] == 58 and msg.checksum_ok and len(whole) == 40 + 1408
