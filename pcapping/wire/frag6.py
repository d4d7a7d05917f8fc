"""IPv6 fragmentation at the source and reassembly (RFC 8200 §4.5, RFC 5722), pure.

- ``fragment6(header, next_header, payload, mtu, ident)``: the datagrams a source sends
  when ``40 + 8 + len(payload)`` does not fit the path MTU: the fixed header (payload
  length per fragment, next header 44) and optional unfragmentable extension headers,
  a fragment header, and fragment data in multiples of 8 bytes (the last one excepted),
  each datagram at most ``mtu`` bytes, as Linux cuts them (1232 data bytes per fragment
  at MTU 1280).
- ``Reassembler6``: collects fragments by (source, destination, identification) and
  returns the reassembled upper-layer bytes once the last hole is filled.  Overlapping
  fragments discard the whole datagram (RFC 5722), as do inconsistent lengths, a
  reassembled size over 65535 bytes, and ``timeout_s`` (60 s, RFC 8200) without
  progress; at most ``max_pending`` datagrams are held (the oldest goes first).  Time is
  an argument (capture timestamps), never read from a clock.
"""

from __future__ import annotations

from typing import NamedTuple

from pcapping.wire.ipv6 import FragmentHeader, IPv6Header

MIN_MTU = 1280


def fragment6(header: IPv6Header, next_header: int, payload: bytes, mtu: int, ident: int,
              *, unfragmentable: bytes = b"", unfragmentable_nh: int | None = None
              ) -> list[bytes]:
    """The fragments of ``payload`` (an upper layer announced by ``next_header``) for a path
    MTU of ``mtu`` (at least 1280), each a whole IPv6 datagram.

    ``unfragmentable`` is the per-fragment extension part (hop-by-hop, routing) that
    precedes the fragment header in every fragment; its own next-header chain must end in
    44 and ``unfragmentable_nh`` is the fixed header's next header then.  A payload that
    fits in one fragment still gets a fragment header (an atomic fragment)."""
    if mtu < MIN_MTU:
        raise ValueError(f"an IPv6 path MTU is at least {MIN_MTU} bytes, not {mtu}")
    per = (mtu - 40 - len(unfragmentable) - 8) & ~7
    if per <= 0:
        raise ValueError("the unfragmentable part leaves no room for data")
    first_nh = 44 if not unfragmentable else unfragmentable_nh
    if first_nh is None:
        raise ValueError("unfragmentable headers need unfragmentable_nh")
    out = []
    offset = 0
    while True:
        chunk = payload[offset: offset + per]
        more = offset + per < len(payload)
        frag = FragmentHeader(next_header, offset // 8, more, ident)
        body = unfragmentable + frag.encode() + chunk
        out.append(header._replace(next_header=first_nh).encode(body))
        offset += per
        if not more:
            return out


class _Pending(NamedTuple):
    pieces: dict[int, bytes]  # byte offset -> data
    total: int | None  # the payload length, once the last fragment came
    next_header: int | None  # from the first fragment
    first_seen: float
    last_seen: float


class Reassembler6:
    """Pure fragment reassembly: ``add(...)`` returns the whole payload when complete."""

    def __init__(self, timeout_s: float = 60.0, max_pending: int = 64,
                 max_size: int = 65535) -> None:
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self.max_size = max_size
        self._pending: dict[tuple[bytes, bytes, int], _Pending] = {}
        self.discarded = 0  # datagrams given up (overlap, bad length, timeout, eviction)

    def __len__(self) -> int:
        return len(self._pending)

    def expire(self, now: float) -> int:
        """Drop datagrams with no fragment for ``timeout_s``; how many were dropped."""
        old = [k for k, p in self._pending.items() if now - p.last_seen > self.timeout_s]
        for k in old:
            del self._pending[k]
        self.discarded += len(old)
        return len(old)

    def add(self, src: bytes, dst: bytes, frag: FragmentHeader, data: bytes, now: float
            ) -> tuple[int, bytes] | None:
        """Add one fragment's data (what follows its fragment header, cut to the payload
        length); (next header, reassembled payload) once complete, else None."""
        self.expire(now)
        if frag.is_atomic:
            return frag.next_header, bytes(data)
        start = frag.offset_bytes
        end = start + len(data)
        key = (src, dst, frag.ident)
        if frag.more and len(data) % 8:
            self._drop(key)
            return None  # RFC 8200: a non-last fragment is a multiple of 8 bytes
        if end > self.max_size:
            self._drop(key)
            return None
        p = self._pending.get(key)
        if p is None:
            if len(self._pending) >= self.max_pending:
                oldest = min(self._pending, key=lambda k: self._pending[k].first_seen)
                self._drop(oldest)
            p = _Pending({}, None, None, now, now)
        total = p.total
        if not frag.more:
            if total is not None and total != end:
                self._drop(key)
                return None
            total = end
        if total is not None and end > total:
            self._drop(key)
            return None
        for off, piece in p.pieces.items():
            if off == start and piece == data:
                break  # an exact duplicate: harmless
            if start < off + len(piece) and off < end:
                self._drop(key)  # RFC 5722: overlapping fragments
                return None
        pieces = dict(p.pieces)
        pieces[start] = bytes(data)
        nh = frag.next_header if start == 0 else p.next_header
        p = _Pending(pieces, total, nh, p.first_seen, now)
        self._pending[key] = p
        if total is None or nh is None:
            return None
        have = 0
        out = []
        for off in sorted(pieces):
            if off != have:
                return None
            out.append(pieces[off])
            have += len(pieces[off])
        if have != total:
            return None
        del self._pending[key]
        return nh, b"".join(out)

    def _drop(self, key: tuple[bytes, bytes, int]) -> None:
        if self._pending.pop(key, None) is not None:
            self.discarded += 1


__all__ = ["MIN_MTU", "Reassembler6", "fragment6"]
