"""What a hop changed: the datagram an ICMP error quotes against the one we sent.

pcapping knows every byte of every probe, so the quote in a Time Exceeded (or the
destination's Port Unreachable) tells exactly what the routers before the answering hop
did to it.  ``diff_quote(sent, quote)`` compares the two field by field and returns a
``Change`` for every difference that forwarding does not explain:

- expected, never reported: the TTL (each hop takes one; Linux quotes 1 at the hop where
  it expired) and the IP header checksum that follows it, as long as the quoted checksum
  is right for the quoted header;
- IP header: ``dscp``, ``ecn`` (the TOS byte's two parts), ``length`` (total length),
  ``ip_id``, ``flags`` (DF/MF and the fragment offset), ``ttl0`` (a TTL quoted as 0: the
  router decremented before it quoted, a forwarding bug), ``protocol``, ``src``, ``dst``,
  ``options`` (any byte of the options), ``ip_checksum`` (a quoted header whose checksum
  does not match it: rewritten without the checksum being fixed);
- transport: ``sport``, ``dport``, ``l4_checksum`` (UDP, TCP or ICMP checksum: NAT
  rewrites it with the address or port it changes, and a Linux NAT that restores the
  quoted address and port leaves it changed, which is how Dublin traceroute spots NAT),
  ``udp_length``, ``tcp_seq``, ``tcp_ack``, ``tcp_flags``, ``tcp_window``, ``tcp_options``,
  ``icmp_type``, ``icmp_id``, ``icmp_seq``;
- ``payload``: a data byte after the transport header differs;
- ``truncated``: the quote holds fewer bytes of the datagram than we sent, and fewer than
  RFC 1812's budget (an error of at most 576 bytes: 548 of the datagram), so a router
  quoting only the header and 8 bytes (RFC 792) shows, and a long probe quoted up to the
  budget does not;
- ``padded``: bytes after the quoted datagram that RFC 4884 does not explain (it pads the
  quote with zeros to 128 bytes when an extension follows).

Only bytes present in both are compared; everything is read straight from the bytes
(the quote is often cut in the middle of a header).

``diff_quote6`` does the same for IPv6 (RFC 8200 fields, RFC 4443 quotes): the hop
limit is the expected change (Linux quotes 1 where it ran out; ``ttl0`` when quoted as
0), ``dscp`` and ``ecn`` are the traffic class's parts, ``flow_label`` a changed flow
label (what Paris keeps constant: a router or middlebox rewrote it), ``length`` the
payload length, ``protocol`` the next header, ``src``/``dst`` in RFC 5952 text (NAT66,
NPTv6), ``options`` any extension header inserted, removed or changed before the upper
layer, the transport fields as above (ICMPv6's echo header has ICMP's layout), and
``truncated`` a quote holding less of the datagram than RFC 4443 asks (as much as fits
in the minimum MTU of 1280: 1232 bytes of it).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import NamedTuple

from pcapping.wire.checksum import checksum_ok

# the names ``diff_quote`` can return, in the order it reports them
FIELDS = (
    "dscp", "ecn", "flow_label", "length", "ip_id", "flags", "ttl0", "protocol",
    "ip_checksum", "src", "dst", "options", "sport", "dport", "udp_length", "l4_checksum",
    "tcp_seq", "tcp_ack", "tcp_flags", "tcp_window", "tcp_options", "icmp_type", "icmp_id",
    "icmp_seq", "payload", "truncated", "padded",
)
QUOTE_BUDGET = 576 - 20 - 8  # RFC 1812 4.3.2.3: the bytes of the datagram an error may hold
QUOTE_BUDGET6 = 1280 - 40 - 8  # RFC 4443 2.4(c): as much as fits in the minimum MTU
# the changes that mean an address translator rewrote the datagram
NAT_FIELDS = frozenset(("src", "sport", "l4_checksum", "icmp_id"))

Value = int | str | None


class Change(NamedTuple):
    """One quoted field that is not what we sent (``sent`` and ``quoted`` as numbers,
    addresses as dotted quads, byte runs as hex)."""

    field: str
    sent: Value
    quoted: Value

    def text(self) -> str:
        return f"{self.field} {_show(self.field, self.sent)}->{_show(self.field, self.quoted)}"


def _show(field: str, value: Value) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if field in ("dscp", "ecn", "length", "udp_length", "ttl0", "protocol", "sport",
                 "dport", "truncated", "padded", "tcp_window", "icmp_type", "icmp_seq"):
        return str(value)
    return f"0x{value:x}"


def _addr(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _u16(b: bytes, off: int) -> int:
    return (b[off] << 8) | b[off + 1]


def _u32(b: bytes, off: int) -> int:
    return int.from_bytes(b[off:off + 4], "big")


def diff_quote(sent: bytes, quote: bytes, *, rfc4884_padding: bool = False) -> list[Change]:
    """The unexpected differences between ``sent`` (a whole IPv4 datagram) and ``quote``
    (an error's original-datagram field); ``rfc4884_padding``: the error's length field
    was set, so zeros after the quoted datagram are padding."""
    out: list[Change] = []
    add = out.append
    n_quote = len(quote)
    if n_quote < 20 or quote[0] >> 4 != 4:
        add(Change("truncated", len(sent), n_quote))
        return out
    s_ihl = (sent[0] & 0x0F) * 4
    q_ihl = (quote[0] & 0x0F) * 4
    s_tos, q_tos = sent[1], quote[1]
    if s_tos >> 2 != q_tos >> 2:
        add(Change("dscp", s_tos >> 2, q_tos >> 2))
    if s_tos & 3 != q_tos & 3:
        add(Change("ecn", s_tos & 3, q_tos & 3))
    s_len, q_len = _u16(sent, 2), _u16(quote, 2)
    if s_len != q_len:
        add(Change("length", s_len, q_len))
    if sent[4:6] != quote[4:6]:
        add(Change("ip_id", _u16(sent, 4), _u16(quote, 4)))
    if sent[6:8] != quote[6:8]:
        add(Change("flags", _u16(sent, 6), _u16(quote, 6)))
    if quote[8] == 0:
        add(Change("ttl0", sent[8], 0))
    if sent[9] != quote[9]:
        add(Change("protocol", sent[9], quote[9]))
    if q_ihl >= 20 and n_quote >= q_ihl and not checksum_ok(quote[:q_ihl]):
        add(Change("ip_checksum", None, _u16(quote, 10)))
    if sent[12:16] != quote[12:16]:
        add(Change("src", socket.inet_ntoa(sent[12:16]), socket.inet_ntoa(quote[12:16])))
    if sent[16:20] != quote[16:20]:
        add(Change("dst", socket.inet_ntoa(sent[16:20]), socket.inet_ntoa(quote[16:20])))
    s_opt, q_opt = sent[20:s_ihl], quote[20:min(q_ihl, n_quote)]
    if s_opt != q_opt:
        add(Change("options", s_opt.hex() or None, q_opt.hex() or None))
    # the quoted datagram proper: its own length says where it ends (never past the quote)
    q_end = min(n_quote, max(q_len, q_ihl))
    if q_ihl == s_ihl and sent[9] == quote[9]:
        _diff_l4(sent[9], sent[s_ihl:s_len], quote[q_ihl:q_end], add)
    present = q_end  # bytes of the datagram the quote holds
    if present < min(s_len, QUOTE_BUDGET):
        add(Change("truncated", s_len, present))
    extra = quote[q_end:]
    if extra and (not rfc4884_padding or any(extra)):
        add(Change("padded", q_end, n_quote))
    return out


def _upper(datagram: bytes) -> tuple[int, int | None]:
    """(next header of the upper layer, its offset) of an IPv6 datagram (offset None:
    the bytes do not reach it, or a later fragment)."""
    from pcapping.wire.ipv6 import EXTENSION_TYPES, walk_extensions

    nh = datagram[6]
    if nh not in EXTENSION_TYPES:
        return nh, 40
    chain = walk_extensions(datagram, nh, 40, len(datagram))
    if chain.error is not None or not chain.upper_layer_present:
        return chain.protocol, None
    return chain.protocol, chain.offset


def diff_quote6(sent: bytes, quote: bytes, *, rfc4884_padding: bool = False) -> list[Change]:
    """``diff_quote`` for IPv6: ``sent`` a whole IPv6 datagram, ``quote`` the original
    datagram field of an ICMPv6 error (see the module docstring)."""
    out: list[Change] = []
    add = out.append
    n_quote = len(quote)
    if n_quote < 40 or quote[0] >> 4 != 6:
        add(Change("truncated", len(sent), n_quote))
        return out
    s_tc = ((sent[0] & 0x0F) << 4) | (sent[1] >> 4)
    q_tc = ((quote[0] & 0x0F) << 4) | (quote[1] >> 4)
    if s_tc >> 2 != q_tc >> 2:
        add(Change("dscp", s_tc >> 2, q_tc >> 2))
    if s_tc & 3 != q_tc & 3:
        add(Change("ecn", s_tc & 3, q_tc & 3))
    s_fl = int.from_bytes(sent[1:4], "big") & 0xFFFFF
    q_fl = int.from_bytes(quote[1:4], "big") & 0xFFFFF
    if s_fl != q_fl:
        add(Change("flow_label", s_fl, q_fl))
    s_plen, q_plen = _u16(sent, 4), _u16(quote, 4)
    if s_plen != q_plen:
        add(Change("length", s_plen, q_plen))
    if quote[7] == 0:
        add(Change("ttl0", sent[7], 0))
    s_proto, s_at = _upper(sent)
    q_proto, q_at = _upper(quote)
    if s_proto != q_proto:
        add(Change("protocol", s_proto, q_proto))
    if sent[8:24] != quote[8:24]:
        add(Change("src", _addr(sent[8:24]), _addr(quote[8:24])))
    if sent[24:40] != quote[24:40]:
        add(Change("dst", _addr(sent[24:40]), _addr(quote[24:40])))
    s_end = 40 + s_plen
    q_end = min(n_quote, 40 + q_plen)
    s_ext = sent[40:s_at if s_at is not None else s_end]
    q_ext = quote[40:min(q_at if q_at is not None else q_end, q_end)]
    if (s_ext != q_ext) if q_at is not None else (s_ext[:len(q_ext)] != q_ext):
        add(Change("options", s_ext.hex() or None, q_ext.hex() or None))
    if s_at is not None and q_at is not None and s_proto == q_proto:
        _diff_l4(1 if s_proto == 58 else s_proto, sent[s_at:s_end], quote[q_at:q_end], add)
    present = q_end
    if present < min(len(sent), QUOTE_BUDGET6):
        add(Change("truncated", len(sent), present))
    extra = quote[q_end:]
    if extra and (not rfc4884_padding or any(extra)):
        add(Change("padded", q_end, n_quote))
    return out


def _diff_l4(proto: int, s: bytes, q: bytes, emit: Callable[[Change], None]) -> None:
    """Transport header and payload, over the bytes both hold."""
    n = min(len(s), len(q))

    def pair(off: int, size: int, name: str) -> None:
        if off + size <= n and s[off:off + size] != q[off:off + size]:
            a = int.from_bytes(s[off:off + size], "big")
            b = int.from_bytes(q[off:off + size], "big")
            emit(Change(name, a, b))

    if proto == 17:
        pair(0, 2, "sport")
        pair(2, 2, "dport")
        pair(4, 2, "udp_length")
        pair(6, 2, "l4_checksum")
        head = 8
    elif proto == 6:
        pair(0, 2, "sport")
        pair(2, 2, "dport")
        pair(4, 4, "tcp_seq")
        pair(8, 4, "tcp_ack")
        pair(12, 2, "tcp_flags")  # data offset and flags
        pair(14, 2, "tcp_window")
        pair(16, 2, "l4_checksum")
        head = max(20, (s[12] >> 4) * 4) if len(s) > 12 else 20
        if head > 20 and n > 20 and s[20:min(head, n)] != q[20:min(head, n)]:
            emit(Change("tcp_options", s[20:min(head, n)].hex(), q[20:min(head, n)].hex()))
    elif proto == 1:
        pair(0, 2, "icmp_type")  # type and code
        pair(2, 2, "l4_checksum")
        pair(4, 2, "icmp_id")
        pair(6, 2, "icmp_seq")
        head = 8
    else:
        head = 0
    if n > head and s[head:n] != q[head:n]:
        first = next(i for i in range(head, n) if s[i] != q[i])
        emit(Change("payload", f"@{first - head}:{s[first:first + 8].hex()}",
                    f"@{first - head}:{q[first:first + 8].hex()}"))


def sent_as_quoted(sent: bytes, quote: bytes) -> bytes:
    """What to diff a quote against: ``sent``, or its first fragment when the quote is a
    first fragment of it (a probe larger than the path MTU leaves in pieces, and the
    router quotes the piece that expired there)."""
    if len(quote) < 20 or not quote[6] & 0x20 or (quote[6] & 0x1F) or quote[7]:
        return sent
    q_len = (quote[2] << 8) | quote[3]
    if not 20 < q_len < len(sent):
        return sent
    from pcapping.wire.frag import fragment_ipv4

    return fragment_ipv4(sent, q_len)[0]


def sent_as_quoted6(sent: bytes, quote: bytes) -> bytes:
    """``sent_as_quoted`` for IPv6: the first fragment of ``sent`` when the quote is a
    first fragment (a Fragment header right after the fixed header, offset 0, more to
    come), cut as the quoted one was and with its identification."""
    if len(quote) < 48 or quote[6] != 44 or sent[6] == 44:
        return sent
    offset_flags = _u16(quote, 42)
    if offset_flags & 0xFFF8 or not offset_flags & 1:
        return sent
    q_len = 40 + _u16(quote, 4)
    if not 48 < q_len < len(sent) + 8:
        return sent
    from pcapping.wire.frag6 import fragment6
    from pcapping.wire.ipv6 import IPv6Header

    try:
        first = fragment6(IPv6Header.parse(sent[:40]), sent[6], sent[40:], max(q_len, 1280),
                          _u32(quote, 44))[0]
    except ValueError:
        return sent
    return first if len(first) == q_len else sent


def unpad(quote: bytes, floor: int = 28) -> bytes:
    """The quote without the zeros RFC 4884 pads it with before an extension (a router
    that quoted 28 bytes pads them to 128): trailing zeros go, down to ``floor`` bytes
    (28: an IPv4 header and 8 bytes; 48 for IPv6).  No probe pcapping sends ends in a
    zero byte, so nothing quoted is taken for padding."""
    trimmed = quote.rstrip(b"\0")
    return quote[:max(len(trimmed), min(len(quote), floor))]


def names(changes: list[Change]) -> list[str]:
    """The changed fields' names, in ``FIELDS`` order, once each."""
    seen = {c.field for c in changes}
    return [f for f in FIELDS if f in seen]


__all__ = ["FIELDS", "NAT_FIELDS", "QUOTE_BUDGET", "QUOTE_BUDGET6", "Change", "diff_quote",
           "diff_quote6", "names", "sent_as_quoted", "sent_as_quoted6", "unpad"]
