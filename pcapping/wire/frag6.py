"""IPv6 fragmentation at the source and reassembly (RFC 8200 §4.5, RFC 5722), pure.

- ``fragment6(header, next_header, payload, mtu, ident)``: the datagrams a source sends
  when ``40 + 8 + len(payload)`` does not fit the path MTU: the fixed header (payload
  length per fragment, next header 44) and optional unfragmentable extension headers,
  a fragment header, and fragment data in multiples of 8 bytes (the last one excepted),
  each datagram at most ``mtu`` bytes, as Linux cuts them (1232 data bytes per fragment
  at MTU 1280).

Reassembly of both families is ``wire.frag.Reassembler`` (``add_ipv6``).
"""

from __future__ import annotations

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


__all__ = ["MIN_MTU", "fragment6"]
