"""``sniff --json``: one frame's JSON object as text, fast.

``frame_json(data, linktype, frame, ts_sec, ts_usec, length)`` is exactly
``dumps(decode_frame(data, linktype, ...).to_dict())``, byte for byte, but the common
shapes are written straight from the bytes with prebuilt pieces, building no objects:
Ethernet with any VLAN tags, then ARP (Ethernet/IPv4 addresses), or a whole IPv4 header
(options allowed) carrying TCP, UDP (not to or from a tunnel's port), a later fragment,
or an ICMP message of at least 8 bytes: echo, the errors (their quoted header, ICMP
header and ports) and the other simple types.  Anything else (other link types, tunnels,
IPv6, cuts, bogus headers, extension structures, timestamps, RFC 8335 probes) takes the
decoder and ``dumps``.  ``tests/test_sniff_speed.py`` checks both ways agree on every
fixture, corpus and mutated frame.

``dumps`` is the encoder: orjson when it is installed (the optional extra ``fast``), the
standard library otherwise, with the same bytes either way: compact separators, ASCII
only (text orjson would leave unescaped, non-ASCII or DEL, goes to the standard library),
and the timestamp written as Python writes a float (``repr``), not as orjson does.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from pcapping.decode import decode_frame
from pcapping.wire.icmp import ID_SEQ_TYPES
from pcapping.wire.tunnelports import may_be_tunnel

_std = json.JSONEncoder(separators=(",", ":")).encode

try:  # the optional extra: a C encoder, about 5 times the standard library's speed
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the installation
    _orjson = None


def dumps_std(obj: dict[str, Any]) -> str:
    """``json.dumps(obj, separators=(",", ":"))``: the reference encoding."""
    return _std(obj)


def dumps_orjson(obj: dict[str, Any]) -> str:
    """The same bytes as ``dumps_std``, by orjson (which must be installed)."""
    ts = obj.get("ts")
    if type(ts) is float:  # Python's float text, not orjson's (1e-06 vs 1e-6)
        obj["ts"] = _orjson.Fragment(repr(ts))  # type: ignore[union-attr]
    try:
        raw = _orjson.dumps(obj)  # type: ignore[union-attr]
    except TypeError:  # an integer beyond 64 bits
        raw = b"\x80"
    finally:
        if type(ts) is float:
            obj["ts"] = ts
    if not raw.isascii() or b"\x7f" in raw:  # the standard library escapes these
        return _std(obj)
    return raw.decode("ascii")


dumps = dumps_orjson if _orjson is not None else dumps_std
ENCODER = "orjson" if _orjson is not None else "json"

_BOOL = ("false", "true")
_DEC = tuple(str(i) for i in range(256))
_TAGS = frozenset((0x8100, 0x88A8, 0x9100, 0x9200))  # wire.ethernet.TAG_TYPES
_ERRORS = frozenset((3, 4, 5, 11, 12))
_EXTENSION_TYPES = frozenset((3, 11, 12))
_TCP_UDP_SCTP = frozenset((6, 17, 132))
_from_bytes = int.from_bytes
_MACS: dict[bytes, str] = {}  # text of the addresses seen (bounded), by their bytes
_ADDRS: dict[bytes, str] = {}


def _mac(raw: bytes) -> str:
    text = _MACS.get(raw)
    if text is None:
        if len(_MACS) >= 65536:
            _MACS.clear()
        text = _MACS[raw] = raw.hex(":")
    return text


def _ip(raw: bytes) -> str:
    text = _ADDRS.get(raw)
    if text is None:
        if len(_ADDRS) >= 65536:
            _ADDRS.clear()
        d = _DEC
        text = _ADDRS[raw] = f"{d[raw[0]]}.{d[raw[1]]}.{d[raw[2]]}.{d[raw[3]]}"
    return text


_ETHS: dict[bytes, str] = {}  # the "eth" object of an untagged header, by its 14 bytes
_PAIRS: dict[bytes, str] = {}  # '"src":"a.b.c.d","dst":"e.f.g.h"' by the 8 address bytes
_IPV4 = struct.Struct("!BBHHHBBH8s").unpack_from
_ICMP = struct.Struct("!BBHHH").unpack_from
_FLAGS = tuple(f'"df":{_BOOL[f >> 1 & 1]},"mf":{_BOOL[f & 1]}' for f in range(8))


def _eth(key: bytes) -> str:
    if len(_ETHS) >= 65536:
        _ETHS.clear()
    text = _ETHS[key] = (f'"eth":{{"src":"{key[6:12].hex(":")}","dst":"{key[:6].hex(":")}",'
                         f'"type":{key[12] << 8 | key[13]}}}')
    return text


def _pair(key: bytes) -> str:
    if len(_PAIRS) >= 65536:
        _PAIRS.clear()
    text = _PAIRS[key] = f'"src":"{_ip(key[:4])}","dst":"{_ip(key[4:])}"'
    return text


def ts_text(ts_sec: int, ts_usec: int) -> str:
    """``repr(round(ts_sec + ts_usec / 1e6, 6))`` for 1 <= ts_sec < 2**32 and
    ts_usec < 10**6 (there a double resolves every microsecond, so the shortest text that
    reads back is the decimal one)."""
    frac = f"{ts_usec:06d}".rstrip("0")
    return f"{ts_sec}.{frac or '0'}"


def frame_json(data: bytes, linktype: int, frame: int, ts_sec: int, ts_usec: int,
               length: int) -> str:
    """The ``sniff --json`` line of one record (no newline)."""
    if linktype == 1 and 0 < ts_sec < 0x100000000 and ts_usec < 1000000:
        text = _ether(data, frame, ts_sec, ts_usec, length)
        if text is not None:
            return text
    return dumps(decode_frame(data, linktype, frame=frame, ts_sec=ts_sec, ts_usec=ts_usec,
                              length=length).to_dict())


def _ether(data: bytes, frame: int, sec: int, usec: int, length: int) -> str | None:
    n = len(data)
    if n < 34:
        if n < 14:  # cut inside the Ethernet header
            frac = f"{usec:06d}".rstrip("0") or "0"
            return (f'{{"frame":{frame},"ts":{sec}.{frac},"caplen":{n},"len":{length},'
                    f'"problems":["truncated: ethernet needs 14 bytes, {n} captured"]}}')
        return None
    etype = data[12] << 8 | data[13]
    if etype in _TAGS:
        p = 14
        vids = []
        while etype in _TAGS:
            if n < p + 4:  # cut inside a tag: no link header at all, as the decoder has it
                frac = f"{usec:06d}".rstrip("0") or "0"
                return (f'{{"frame":{frame},"ts":{sec}.{frac},"caplen":{n},"len":{length},'
                        f'"problems":["truncated: vlan needs {p + 4} bytes, {n} captured"]}}')
            vids.append(str((data[p] & 0x0F) << 8 | data[p + 1]))
            etype = data[p + 2] << 8 | data[p + 3]
            p += 4
        eth = (f'"eth":{{"src":"{_mac(data[6:12])}","dst":"{_mac(data[0:6])}",'
               f'"type":{etype},"vlan":[{",".join(vids)}]}}')
    else:
        p = 14
        key = data[:14]
        eth = _ETHS.get(key)
        if eth is None:
            eth = _eth(key)
    frac = f"{usec:06d}".rstrip("0") or "0"
    head = f'{{"frame":{frame},"ts":{sec}.{frac},"caplen":{n},"len":{length},{eth}'
    if etype != 0x0800:
        if etype == 0x0806:
            if n < p + 28 or data[p + 4] != 6 or data[p + 5] != 4:
                return None
            return (f'{head},"arp":{{"op":{data[p + 6] << 8 | data[p + 7]},"htype":'
                    f'{data[p] << 8 | data[p + 1]},"ptype":{data[p + 2] << 8 | data[p + 3]},'
                    f'"sha":"{_mac(data[p + 8: p + 14])}","spa":"{_ip(data[p + 14: p + 18])}",'
                    f'"tha":"{_mac(data[p + 18: p + 24])}","tpa":"{_ip(data[p + 24: p + 28])}"}},'
                    f'"problems":[]}}')
        return None
    # IPv4: whole, any header length
    if n < p + 20:
        return None
    vihl, tos, total, ident, frag, ttl, proto, csum, addrs = _IPV4(data, p)
    hlen = (vihl & 15) << 2
    if vihl >> 4 != 4 or hlen < 20 or n < p + hlen or total < hlen:
        return None
    end = p + total
    if end > n:  # cut by the snapshot length: the decoder's problem, and no verdicts
        problems = f'"problems":["truncated: ip needs {total} bytes, {n - p} captured"]}}'
        end = n
        cut = True
    else:
        problems = '"problems":[]}'
        cut = False
    pair = _PAIRS.get(addrs)
    if pair is None:
        pair = _pair(addrs)
    h = _from_bytes(data[p: p + hlen], "big")
    ipok = "true" if h and not h % 0xFFFF else "false"
    offset = frag & 0x1FFF
    begin = p + hlen
    ip = (f'{head},"ip":{{{pair},"ttl":{ttl},"proto":{proto},"id":{ident},"len":{total},'
          f'"ihl":{hlen >> 2},"tos":{tos},{_FLAGS[frag >> 13]},"frag_offset":{offset},'
          f'"checksum":{csum},"checksum_ok":{ipok}}}')
    if proto != 1 or offset:
        if not offset:
            if proto == 17:
                if may_be_tunnel(data, begin, end):
                    return None
            elif proto == 47 or proto == 4 or proto == 41 or proto == 103:
                return None
        return f"{ip},{problems}"
    plen = end - begin
    if plen < 8:
        return None
    itype, code, icsum, ident, seq = _ICMP(data, begin)
    if cut or frag & 0x2000:
        ok = "null"
    else:
        m = _from_bytes(data[begin:end], "big")
        if plen & 1:
            m <<= 8
        ok = "true" if m and not m % 0xFFFF else "false"
    if itype not in _ERRORS:
        if itype in ID_SEQ_TYPES:
            if itype == 13 or itype == 14:
                return None  # time stamps: the decoder's
            return (f'{ip},"icmp":{{"type":{itype},"code":{code},"checksum":{icsum},'
                    f'"checksum_ok":{ok},"id":{ident},"seq":{seq}}},{problems}')
        if itype == 42 or itype == 43:
            return None  # RFC 8335 probes: the decoder's
        return (f'{ip},"icmp":{{"type":{itype},"code":{code},"checksum":{icsum},'
                f'"checksum_ok":{ok},"id":null,"seq":null}},{problems}')
    if itype in _EXTENSION_TYPES and (data[begin + 5] or plen > 143 and (
            data[begin + 136] >> 4 == 2 and (data[begin + 138] or data[begin + 139]))):
        return None  # an RFC 4884 structure may follow the quote: the decoder's
    if itype == 3:
        extra = f',"mtu":{seq}' if code == 4 else ""
    elif itype == 5:
        extra = f',"gateway":"{_ip(data[begin + 4: begin + 8])}"'
    elif itype == 12:
        extra = f',"pointer":{data[begin + 4]}'
    else:
        extra = ""
    quoted = _quoted(data, begin + 8, end)
    if quoted is None:
        return None
    return (f'{ip},"icmp":{{"type":{itype},"code":{code},"checksum":{icsum},"checksum_ok":'
            f'{ok},"id":null,"seq":null{extra},"quoted":{quoted}}},{problems}')


def _quoted(data: bytes, r: int, end: int) -> str | None:
    """``quoted_dict`` of the datagram quoted in ``data[r:end]``, or None (a problem)."""
    qn = end - r
    if qn < 20:
        return None
    vihl = data[r]
    hlen = (vihl & 15) << 2
    if vihl >> 4 != 4 or hlen < 20 or qn < hlen:
        return None
    total = data[r + 2] << 8 | data[r + 3]
    h = _from_bytes(data[r: r + hlen], "big")
    proto = data[r + 9]
    ip = (f'{{"ip":{{"src":"{_ip(data[r + 12: r + 16])}","dst":"{_ip(data[r + 16: r + 20])}",'
          f'"ttl":{data[r + 8]},"proto":{proto},"id":{data[r + 4] << 8 | data[r + 5]},'
          f'"len":{total},"checksum":{data[r + 10] << 8 | data[r + 11]},"checksum_ok":'
          f'{"true" if h and not h % 0xFFFF else "false"}}}')
    if (data[r + 6] << 8 | data[r + 7]) & 0x1FFF:
        return ip + "}"
    begin = r + hlen
    if proto == 1:
        whole = qn >= total >= hlen
        stop = r + total if whole else end
        if stop - begin < 8:
            return None
        itype = data[begin]
        if whole:
            m = _from_bytes(data[begin:stop], "big")
            if (stop - begin) & 1:
                m <<= 8
            ok = "true" if m and not m % 0xFFFF else "false"
        else:
            ok = "null"
        if itype in ID_SEQ_TYPES:
            ids = (f'"id":{data[begin + 4] << 8 | data[begin + 5]},'
                   f'"seq":{data[begin + 6] << 8 | data[begin + 7]}')
        else:
            ids = '"id":null,"seq":null'
        return (f'{ip},"icmp":{{"type":{itype},"code":{data[begin + 1]},{ids},"checksum":'
                f'{data[begin + 2] << 8 | data[begin + 3]},"checksum_ok":{ok}}}}}')
    if proto in _TCP_UDP_SCTP:
        if end - begin < 4:
            return None
        return (f'{ip},"sport":{data[begin] << 8 | data[begin + 1]},'
                f'"dport":{data[begin + 2] << 8 | data[begin + 3]}}}')
    return ip + "}"


__all__ = ["ENCODER", "dumps", "dumps_orjson", "dumps_std", "frame_json", "ts_text"]
