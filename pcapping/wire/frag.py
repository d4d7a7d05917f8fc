"""IP fragmentation and reassembly (RFC 791, RFC 815's hole bookkeeping; RFC 8200 for v6).

IPv6 fragments at the source are cut by ``wire.frag6.fragment6``; both families are
reassembled here (``add_ipv4``, ``add_ipv6``).

Pure: bytes and timestamps in, bytes and verdicts out.  ``send`` fragments its own
requests when they are larger than the path MTU (DF clear), and every fragmented datagram
addressed to us (replies and ICMP errors alike) is reassembled here before it is matched,
so a reply is timed only once all of it has arrived.

Reassembly limits and verdicts:

- fragments are keyed by (source, destination, protocol, identification) as RFC 791 says
  (IPv6: source, destination and the 32-bit identification, RFC 8200);
- the data of a non-final fragment must be a multiple of 8 bytes, the datagram at most
  65,535 bytes (a bigger one is the "ping of death" and is refused; IPv6: a payload of
  at most 65,535 bytes);
- overlapping fragments make the whole datagram fail (as Linux has done since 4.19 for
  IPv4, and RFC 5722 requires for IPv6); an exact duplicate of a fragment already held is
  ignored;
- a datagram not complete ``timeout_s`` after its first fragment arrived fails with the
  byte ranges still missing (RFC 791 suggests 15 s; Linux waits 30 s);
- at most ``max_datagrams`` datagrams (the oldest goes first, with a verdict) and
  ``max_fragments`` fragments each are held, so memory stays bounded under any input.

A failure is a ``ReassemblyFailed`` value, never an exception.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.wire.checksum import internet_checksum

MAX_DATAGRAM = 65535
MF = 0x2000
DF = 0x4000
OFFSET_MASK = 0x1FFF

_FIELDS = struct.Struct("!HHHBBH")  # total length, ident, flags+offset, ttl, proto, checksum


def fragment_ipv4(datagram: bytes, mtu: int) -> list[bytes]:
    """``datagram`` cut into fragments of at most ``mtu`` bytes each (RFC 791).

    Every fragment repeats the header; options without the "copied" bit are kept in the
    first fragment only and become NOPs in the others (as Linux does, so every fragment
    keeps the same header length).  A datagram that fits is returned whole.  Raises
    ValueError for a DF datagram that does not fit, or an MTU too small for the header.
    """
    hlen = (datagram[0] & 0x0F) * 4
    total = struct.unpack_from("!H", datagram, 2)[0]
    if total <= mtu:
        return [datagram]
    flags_offset = struct.unpack_from("!H", datagram, 6)[0]
    if flags_offset & DF:
        raise ValueError(f"DF set on a {total}-byte datagram over an MTU of {mtu}")
    step = (mtu - hlen) // 8 * 8
    if step < 8:
        raise ValueError(f"MTU {mtu} leaves no room after a {hlen}-byte header")
    header = bytearray(datagram[:hlen])
    later = bytearray(header)
    later[20:] = _non_copied_to_nop(header[20:])
    payload = datagram[hlen:total]
    base = flags_offset & OFFSET_MASK
    out = []
    for start in range(0, len(payload), step):
        chunk = payload[start:start + step]
        last = start + step >= len(payload)
        head = bytearray(header if start == 0 else later)
        word = (flags_offset & ~OFFSET_MASK & ~MF) | (base + start // 8)
        if not last or flags_offset & MF:
            word |= MF
        struct.pack_into("!HHH", head, 2, hlen + len(chunk),
                         struct.unpack_from("!H", datagram, 4)[0], word)
        head[10:12] = b"\0\0"
        head[10:12] = internet_checksum(bytes(head)).to_bytes(2, "big")
        out.append(bytes(head) + chunk)
    return out


def _non_copied_to_nop(options: bytearray) -> bytearray:
    out = bytearray(options)
    i = 0
    while i < len(out):
        kind = out[i]
        if kind == 0:  # end of options list
            break
        if kind == 1:
            i += 1
            continue
        length = out[i + 1] if i + 1 < len(out) else 0
        if length < 2 or i + length > len(out):
            out[i:] = b"\x01" * (len(out) - i)
            break
        if not kind & 0x80:
            out[i:i + length] = b"\x01" * length
        i += length
    return out


class Reassembled(NamedTuple):
    """A whole datagram rebuilt from its fragments."""

    key: tuple
    datagram: bytes          # the first fragment's header (length, flags, checksum redone)
    fragments: int
    first_ts: float          # capture time of the earliest and of the completing fragment
    ts: float


class ReassemblyFailed(NamedTuple):
    """A datagram that will never be complete, and why."""

    key: tuple
    reason: str              # "timeout", "overlap", "oversized", "malformed", "evicted", ...
    missing: tuple[tuple[int, int], ...]   # byte ranges of the payload never received
    first: bytes | None      # the first fragment (header + data), when it came
    fragments: int
    ts: float

    def describe(self) -> str:
        """One phrase: ``missing bytes 1232-1407`` or ``overlapping fragments``."""
        words = {"overlap": "overlapping fragments", "oversized": "longer than 65535 bytes",
                 "malformed": "a fragment of bad length", "evicted": "too many datagrams",
                 "conflict": "conflicting last fragments", "too many": "too many fragments"}
        if self.reason in ("timeout", "incomplete") and self.missing:
            ranges = ", ".join(f"{a}-{b - 1}" if b else f"{a}-" for a, b in self.missing)
            return f"missing bytes {ranges}"
        return words.get(self.reason, self.reason)


class _Pending:
    __slots__ = ("parts", "total", "first", "first_ts", "count")

    def __init__(self, ts: float) -> None:
        self.parts: list[tuple[int, int, bytes]] = []  # sorted (start, end, data)
        self.total: int | None = None  # payload length, known once the last fragment came
        self.first: bytes | None = None
        self.first_ts = ts
        self.count = 0

    def missing(self) -> tuple[tuple[int, int], ...]:
        holes = []
        at = 0
        for start, end, _ in self.parts:
            if start > at:
                holes.append((at, start))
            at = max(at, end)
        if self.total is None:
            holes.append((at, 0))  # open-ended: the last fragment never came
        elif at < self.total:
            holes.append((at, self.total))
        return tuple(holes)


class Reassembler:
    """IPv4 reassembly with bounded memory; ``add`` one fragment at a time."""

    def __init__(self, timeout_s: float = 30.0, max_datagrams: int = 64,
                 max_fragments: int = 1024) -> None:
        self.timeout_s = timeout_s
        self.max_datagrams = max_datagrams
        self.max_fragments = max_fragments
        self._pending: dict[tuple, _Pending] = {}  # insertion order = age

    def __len__(self) -> int:
        return len(self._pending)

    def add_ipv4(self, datagram: bytes, ts: float) -> Reassembled | ReassemblyFailed | None:
        """One fragment (a whole IPv4 datagram from its header on, without link padding).

        Returns the rebuilt datagram when this fragment completes it, a verdict when the
        datagram failed, else None.
        """
        hlen = (datagram[0] & 0x0F) * 4
        total_length, ident, word, _ttl, proto, _ = _FIELDS.unpack_from(datagram, 2)
        key = (datagram[12:16], datagram[16:20], proto, ident)
        start = (word & OFFSET_MASK) * 8
        data = datagram[hlen:total_length]
        more = bool(word & MF)
        return self._add(key, start, data, more, datagram[:total_length] if start == 0 else None,
                         ts, _rebuild_ipv4)

    def add_ipv6(self, datagram: bytes, ts: float) -> Reassembled | ReassemblyFailed | None:
        """One IPv6 fragment (a whole datagram: fixed header, extension headers, the
        fragment header and its data, cut to the payload length).  The rebuilt datagram
        keeps the first fragment's unfragmentable part with its next-header chain pointing
        past the removed fragment header (RFC 8200 section 4.5)."""
        from pcapping.wire.ipv6 import walk_extensions

        end = 40 + int.from_bytes(datagram[4:6], "big")
        chain = walk_extensions(datagram, datagram[6], 40, end)
        frag = chain.fragment
        if frag is None:
            return None
        i = next(n for n, h in enumerate(chain.headers) if h is frag)
        at = chain.offsets[i]
        key = (datagram[8:24], datagram[24:40], 44, frag.ident)
        start = frag.frag_offset * 8
        first = None
        if start == 0:
            head = bytearray(datagram[:at])
            pointer = 6 if i == 0 else chain.offsets[i - 1]  # the next-header field to mend
            head[pointer] = frag.next_header
            first = bytes(head)
        return self._add(key, start, datagram[at + 8:end], frag.more, first, ts,
                         _rebuild_ipv6, limit=MAX_DATAGRAM)

    def _add(self, key: tuple, start: int, data: bytes, more: bool, first: bytes | None,
             ts: float, rebuild, limit: int = MAX_DATAGRAM - 20,  # noqa: ANN001
             ) -> Reassembled | ReassemblyFailed | None:
        pending = self._pending.get(key)
        evicted = None
        if pending is None:
            if len(self._pending) >= self.max_datagrams:
                old_key = next(iter(self._pending))
                evicted = self._fail(old_key, "evicted", ts)
            pending = self._pending[key] = _Pending(ts)
        end = start + len(data)
        pending.count += 1
        if first is not None:
            pending.first = first
        verdict = self._check(pending, start, end, data, more, limit)
        if verdict == "duplicate":
            return evicted
        if verdict is not None:
            return self._fail(key, verdict, ts)
        parts = pending.parts
        i = len(parts)
        while i and parts[i - 1][0] > start:
            i -= 1
        parts.insert(i, (start, end, data))
        if not more:
            pending.total = end
        if pending.total is not None and pending.first is not None and not pending.missing():
            del self._pending[key]
            payload = b"".join(part for _, _, part in parts)
            return Reassembled(key, rebuild(pending.first, payload), pending.count,
                               pending.first_ts, ts)
        return evicted

    def _check(self, pending: _Pending, start: int, end: int, data: bytes,
               more: bool, limit: int) -> str | None:
        if end > limit:
            return "oversized"
        if more and (end - start) % 8:
            return "malformed"
        if more and end == start:
            return "malformed"
        if pending.count > self.max_fragments:
            return "too many"
        if pending.total is not None:
            if not more and end != pending.total:
                return "conflict"
            if end > pending.total:
                return "overlap"
        elif not more:
            if any(e > end for _, e, _ in pending.parts):
                return "overlap"
        for s, e, d in pending.parts:
            if s < end and start < e:
                if s == start and e == end and d == data:
                    return "duplicate"
                return "overlap"
        return None

    def _fail(self, key: tuple, reason: str, ts: float) -> ReassemblyFailed:
        pending = self._pending.pop(key)
        return ReassemblyFailed(key, reason, pending.missing(), pending.first, pending.count,
                                ts)

    def next_expiry(self) -> float | None:
        """When the oldest datagram times out (the clock of the ``ts`` given), or None."""
        for pending in self._pending.values():
            return pending.first_ts + self.timeout_s
        return None

    def expire(self, now: float) -> list[ReassemblyFailed]:
        """Datagrams still incomplete ``timeout_s`` after their first fragment."""
        out = []
        for key, pending in list(self._pending.items()):
            if now - pending.first_ts < self.timeout_s:
                break
            out.append(self._fail(key, "timeout", now))
        return out

    def flush(self, now: float) -> list[ReassemblyFailed]:
        """Every datagram still incomplete (the run is over): reason ``incomplete``."""
        return [self._fail(key, "incomplete", now) for key in list(self._pending)]


def _rebuild_ipv4(first: bytes, payload: bytes) -> bytes:
    hlen = (first[0] & 0x0F) * 4
    head = bytearray(first[:hlen])
    word = struct.unpack_from("!H", head, 6)[0] & ~(MF | OFFSET_MASK)
    struct.pack_into("!HHH", head, 2, hlen + len(payload),
                     struct.unpack_from("!H", head, 4)[0], word)
    head[10:12] = b"\0\0"
    head[10:12] = internet_checksum(bytes(head)).to_bytes(2, "big")
    return bytes(head) + payload


def _rebuild_ipv6(first: bytes, payload: bytes) -> bytes:
    head = bytearray(first)
    head[4:6] = (len(first) - 40 + len(payload)).to_bytes(2, "big")
    return bytes(head) + payload
