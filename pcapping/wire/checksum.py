"""The internet checksum (RFC 1071), computed with Python's big integers.

The one's-complement sum of 16-bit big-endian words is congruent to the
whole buffer read as one big-endian integer modulo 0xFFFF (because
2**16 == 1 mod 0xFFFF), so a single ``int.from_bytes`` and ``%`` replace the
word loop.  Measured here: about 1 µs for 1500 bytes of zeros and a few µs
of random data, several times faster than ``dpkt.in_cksum`` (see
``bench/bench_checksum.py``).

The only subtlety is zero: one's-complement arithmetic has two zeros.  A
buffer whose integer is 0 sums to +0 (checksum 0xFFFF); any other buffer whose
sum is congruent to 0 sums to 0xFFFF, i.e. -0 (checksum 0).
"""

from __future__ import annotations

_FROM_BYTES = int.from_bytes


def ones_sum(data: bytes) -> int:
    """The folded 16-bit one's-complement sum of ``data`` (odd length zero-padded)."""
    n = _FROM_BYTES(data, "big")
    if len(data) & 1:
        n <<= 8
    s = n % 0xFFFF
    if s == 0 and n:
        return 0xFFFF
    return s


def internet_checksum(data: bytes) -> int:
    """The value to put in a checksum field that is zero inside ``data``."""
    return 0xFFFF - ones_sum(data)


def checksum_ok(data: bytes) -> bool:
    """True when ``data`` (checksum field included) sums to all ones."""
    n = _FROM_BYTES(data, "big")
    if len(data) & 1:
        n <<= 8
    return n != 0 and n % 0xFFFF == 0


def checksum_should_be(stored: int, data: bytes) -> int:
    """The checksum field value that would make ``data`` verify.

    ``data`` includes the wrong ``stored`` value.  This is the value tcpdump
    prints after ``->`` in ``bad cksum X (->Y)!`` (its ``in_cksum_shouldbe``).
    """
    computed = internet_checksum(data)
    s = stored + computed
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return s


def checksum_update(checksum: int, old: int, new: int) -> int:
    """The checksum field after one 16-bit word of the data went from ``old`` to ``new``.

    RFC 1624's incremental update, ``HC' = ~(~HC + ~m + m')``, in one's-complement
    arithmetic: what a prebuilt frame template uses to patch a sequence number or an
    identifier in place without summing the whole message again.  It gives the same
    field as recomputing, except that it may produce the other zero (0x0000 vs 0xFFFF)
    where a message sums to all ones either way; both verify.
    """
    s = (~checksum & 0xFFFF) + (~old & 0xFFFF) + new
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
