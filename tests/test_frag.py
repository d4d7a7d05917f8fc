"""IPv4 fragmentation and reassembly (wire/frag.py), cross-checked with dpkt."""

from __future__ import annotations

import random

import dpkt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pcapping.wire.checksum import checksum_ok, checksum_update, internet_checksum
from pcapping.wire.frag import (
    Reassembled,
    Reassembler,
    ReassemblyFailed,
    fragment_ipv4,
)
from pcapping.wire.icmp import ICMPEcho
from pcapping.wire.ipv4 import DF, IPv4Header

A, B = bytes([10, 77, 3, 2]), bytes([10, 77, 1, 2])


def datagram(size: int, options: bytes = b"", flags: int = 0, ident: int = 0x4242) -> bytes:
    icmp = ICMPEcho(True, 0x1234, 1, bytes(i & 0xFF for i in range(size))).encode()
    return IPv4Header(A, B, 1, ident=ident, flags=flags, options=options).encode(icmp)


def test_fragments_follow_rfc_791() -> None:
    whole = datagram(3000)
    parts = fragment_ipv4(whole, 1280)
    assert [len(p) for p in parts] == [1276, 1276, 516]
    for i, p in enumerate(parts):
        h = IPv4Header.parse(p)
        assert h.checksum_ok and h.ident == 0x4242 and h.total_length == len(p)
        assert h.mf == (i < 2) and h.frag_offset == i * 1256 // 8
        d = dpkt.ip.IP(p)  # the referee agrees on every field
        assert d.offset == h.frag_offset and bool(d.mf) == h.mf  # (dpkt counts in 8s too)
    assert b"".join(p[20:] for p in parts) == whole[20:]


def test_fits_whole_and_df_refuses() -> None:
    small = datagram(56)
    assert fragment_ipv4(small, 1500) == [small]
    with pytest.raises(ValueError):
        fragment_ipv4(datagram(3000, flags=DF), 1500)
    with pytest.raises(ValueError):
        fragment_ipv4(datagram(3000), 24)


def test_only_copied_options_repeat_in_later_fragments() -> None:
    # record route (7, not copied) padded with a NOP to 12 bytes; then a copied option (0x94)
    options = bytes([7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 1])
    parts = fragment_ipv4(datagram(2000, options=options), 1000)
    first, later = IPv4Header.parse(parts[0]), IPv4Header.parse(parts[1])
    assert first.options == options
    assert later.options == b"\x01" * 7 + bytes([0x94, 4, 0, 0]) + b"\x01"
    assert later.header_length == first.header_length and later.checksum_ok


@given(st.integers(min_value=0, max_value=9000), st.integers(min_value=68, max_value=1500),
       st.randoms(use_true_random=False))
def test_any_order_reassembles_the_original(size: int, mtu: int, rnd: random.Random) -> None:
    whole = datagram(size)
    parts = fragment_ipv4(whole, mtu)
    rnd.shuffle(parts)
    r = Reassembler()
    results = [r.add_ipv4(p, float(i)) for i, p in enumerate(parts)] if len(parts) > 1 else []
    if len(parts) == 1:
        return
    assert all(x is None for x in results[:-1])
    done = results[-1]
    assert isinstance(done, Reassembled) and done.datagram == whole
    assert done.fragments == len(parts) and len(r) == 0


def test_duplicate_fragment_is_ignored() -> None:
    parts = fragment_ipv4(datagram(3000), 1280)
    r = Reassembler()
    assert r.add_ipv4(parts[0], 0.0) is None
    assert r.add_ipv4(parts[0], 0.1) is None
    assert r.add_ipv4(parts[1], 0.2) is None
    done = r.add_ipv4(parts[2], 0.3)
    assert isinstance(done, Reassembled) and done.fragments == 4


def _patched(part: bytes, offset_bytes: int, more: bool) -> bytes:
    h = IPv4Header.parse(part)
    return IPv4Header(h.src, h.dst, h.protocol, h.ttl, h.ident, h.tos,
                      0x2000 if more else 0, offset_bytes // 8).encode(part[h.header_length:])


def test_overlap_fails_the_datagram() -> None:
    parts = fragment_ipv4(datagram(3000), 1280)
    r = Reassembler()
    r.add_ipv4(parts[0], 0.0)
    bad = r.add_ipv4(_patched(parts[1], 1248, True), 0.1)
    assert isinstance(bad, ReassemblyFailed) and bad.reason == "overlap"
    assert bad.describe() == "overlapping fragments" and len(r) == 0


def test_timeout_names_the_missing_bytes() -> None:
    parts = fragment_ipv4(datagram(3000), 1280)
    r = Reassembler(timeout_s=15.0)
    r.add_ipv4(parts[0], 0.0)
    r.add_ipv4(parts[2], 0.5)
    assert r.expire(14.9) == [] and r.next_expiry() == 15.0
    (failed,) = r.expire(15.0)
    assert failed.reason == "timeout" and failed.missing == ((1256, 2512),)
    assert failed.describe() == "missing bytes 1256-2511"
    assert failed.first is not None and failed.first == parts[0]


def test_missing_last_fragment_is_open_ended() -> None:
    parts = fragment_ipv4(datagram(3000), 1280)
    r = Reassembler()
    r.add_ipv4(parts[0], 0.0)
    (failed,) = r.flush(1.0)
    assert failed.missing == ((1256, 0),) and failed.describe() == "missing bytes 1256-"


def test_ping_of_death_and_bad_lengths_are_refused() -> None:
    part = fragment_ipv4(datagram(3000), 1280)[1]
    r = Reassembler()
    huge = r.add_ipv4(_patched(part, 65528, False), 0.0)
    assert isinstance(huge, ReassemblyFailed) and huge.reason == "oversized"
    short = IPv4Header(A, B, 1, ident=9, flags=0x2000, frag_offset=1).encode(b"x" * 12)
    bad = r.add_ipv4(short, 0.0)
    assert isinstance(bad, ReassemblyFailed) and bad.reason == "malformed"


def test_memory_is_bounded() -> None:
    r = Reassembler(max_datagrams=4)
    verdicts = []
    for ident in range(10):
        part = fragment_ipv4(datagram(3000, ident=ident), 1280)[0]
        got = r.add_ipv4(part, float(ident))
        if got is not None:
            verdicts.append(got)
    assert len(r) == 4
    assert [v.reason for v in verdicts] == ["evicted"] * 6
    assert [v.key[3] for v in verdicts] == list(range(6))


@given(st.binary(min_size=4, max_size=80).filter(lambda b: len(b) % 2 == 0 and any(b[2:])),
       st.integers(min_value=1, max_value=39), st.integers(min_value=0, max_value=0xFFFF))
def test_incremental_checksum_update(body: bytes, word: int, new: int) -> None:
    msg = bytearray(body)
    msg[0:2] = b"\0\0"
    msg[0:2] = internet_checksum(bytes(msg)).to_bytes(2, "big")
    word = 1 + (word % (len(msg) // 2 - 1))
    old = int.from_bytes(msg[2 * word:2 * word + 2], "big")
    csum = checksum_update(int.from_bytes(msg[0:2], "big"), old, new)
    msg[2 * word:2 * word + 2] = new.to_bytes(2, "big")
    msg[0:2] = csum.to_bytes(2, "big")
    if any(msg[2:]):
        assert checksum_ok(bytes(msg))
