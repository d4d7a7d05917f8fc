"""The IPv6 half of ``decode_frame``: IPv6, its extension chain, ICMPv6, NDP.

``decode_frame`` calls ``decode_ipv6(d, data)`` for EtherType 0x86DD (Ethernet,
VLAN, SLL, SLL2, raw IP by version nibble, NULL/LOOP families 10/24/28/30).  It
sets on the ``Decoded``:

- ``ip6``: the ``IPv6Header``; ``ip6_ext``: the ``ExtChain`` (headers, upper-layer
  protocol and offset, the error that stopped the walk);
- ``l4_offset`` / ``l4_end``: the upper layer's bytes, ``data[l4_offset:l4_end]``
  (the payload length decides the end: Ethernet padding never belongs to it);
- ``icmp6``: ``ICMP6Echo`` / ``ICMP6Error`` / ``ICMP6Other`` when the chain ends in
  ICMPv6 (58) on a first fragment or an unfragmented datagram.  The checksum is
  verified against the pseudo-header (source, final destination) when the whole
  message was captured and the datagram is not a fragment; else ``None``.
- ``ndp``: the parsed RS/RA/NS/NA/redirect (``pcapping.wire.ndp``) for types 133-137.

Problems (a cut fixed header, a payload longer than the capture, an extension header
cut or longer than the payload, a cut ICMPv6 header, a bad NDP option) go to
``Decoded.problems`` like IPv4's.

JSON (``Decoded.to_dict()``), layers present only when decoded::

  "ip6": {"src": "fe80::1", "dst": "ff02::1:ff00:2", "hlim": 255, "nxt": 58, "plen": 32,
          "flow": 0, "tclass": 0, "proto": 58,
          "ext": [{"type": "hopopts", "nxt": 58, "len": 8,
                   "options": [{"type": 5, "len": 2, "value": "0000"}]},
                  {"type": "routing", "nxt": 44, "len": 40, "rtype": 0, "segleft": 2,
                   "addresses": ["2001:db8::1", ...]},
                  {"type": "fragment", "nxt": 58, "len": 8, "offset": 0, "m": true,
                   "id": 305419896},
                  {"type": "dstopts", ...}, {"type": "ah", "nxt": 58, "len": 24,
                   "spi": 256, "seq": 1}]},
  "icmp6": {"type": 128, "code": 0, "checksum": 4660, "checksum_ok": true,
            "id": 4660, "seq": 1,                    # echo (null elsewhere)
            "mtu": 1280,                              # packet too big
            "pointer": 40,                            # parameter problem
            "quoted": {"ip6": {"src", "dst", "hlim", "nxt", "plen", "flow"},
                       "proto": 58, "ext": [...],
                       "icmp6": {"type", "code", "id", "seq", "checksum", "checksum_ok"},
                       "sport": 33434, "dport": 33435, "problem": "..."},
            "extension": {"compliant": true, "length": 12, "version": 2,   # RFC 4884,
                          "checksum": 63487, "checksum_ok": true,        # as IPv4's
                          "objects": [{"class": 1, "ctype": 1, "length": 8,
                                       "kind": "mpls", "mpls": [...]}]},
            "target": "fe80::2", "destination": "...",   # NS, NA, redirect
            "router": false, "solicited": true, "override": true,   # NA
            "hop_limit": 64, "managed": false, "other": false, "preference": 0,
            "router_lifetime": 1800, "reachable_time": 0, "retrans_timer": 0,   # RA
            "options": [{"type": 1, "len": 8, "lladdr": "02:00:00:00:01:02"},
                        {"type": 3, "len": 32, "prefix": "2001:db8::", "prefix_len": 64,
                         "flags": 192, "valid": 2592000, "preferred": 604800},
                        {"type": 5, "len": 8, "mtu": 1280},
                        {"type": 25, "len": 24, "lifetime": 600, "addresses": [...]},
                        {"type": 31, "len": 24, "lifetime": 600, "domains": ["lab"]},
                        {"type": 14, "len": 8, "nonce": "0102030405 06"},
                        {"type": 4, "len": 56, "packet_len": 48},
                        {"type": 24, "len": 24, "prefix": "...", "prefix_len": 48,
                         "preference": 1, "lifetime": 600},
                        {"type": 99, "len": 8, "data": "000000000000"}],
            "mld": {"version": 1, "max_delay": 10000, "group": "ff02::1:3"}
                   | {"version": 2, "max_delay": 10000, "group": "::", "s": false,
                      "qrv": 2, "qqi": 125, "sources": []}
                   | {"version": 2, "records": [{"type": 4, "group": "ff02::fb",
                                                 "sources": []}]},
            "probe": {"local": false, "query": {"by": "name", "name": "eth0"}}  # 160
                   | {"state": 0, "active": true, "ipv4": true, "ipv6": true},  # 161
            }

Extended echo (160/161) carries ``id`` and ``seq`` (8 bits) like an echo.  A parse
failure of an NDP message is a problem of the frame; MLD and PROBE bodies that do
not parse just leave their key out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pcapping.errors import DecodeError, Truncated
from pcapping.wire.ext import extension_dict, locate_extension
from pcapping.wire.extecho import ExtEchoReply, ExtEchoRequest, ext_echo_of
from pcapping.wire.icmp6 import (
    ICMP6Echo,
    ICMP6Error,
    ICMP6Message,
    ICMP6Other,
    QuotedDatagram6,
    parse_icmp6,
)
from pcapping.wire.ipv6 import (
    EXTENSION_TYPES,
    AHHeader,
    ExtChain,
    FragmentHeader,
    IPv6Header,
    OptionsHeader,
    RoutingHeader,
    ip6_str,
    upper_checksum_ok,
    walk_extensions,
)
from pcapping.wire.mld import MLDMessage, MLDv2Query, MLDv2Report, parse_mld
from pcapping.wire.ndp import (
    DNSSLOption,
    LinkLayerOption,
    MTUOption,
    NDPMessage,
    NeighborAdvert,
    NeighborSolicit,
    NonceOption,
    PrefixInfo,
    RDNSSOption,
    Redirect,
    RedirectedHeader,
    RouteInfo,
    RouterAdvert,
    UnknownOption,
    parse_ndp,
)

if TYPE_CHECKING:
    from pcapping.decode import Decoded, Tally


def decode_ipv6(d: Decoded, data: bytes) -> None:
    """Decode the IPv6 datagram at ``d.l3_offset``; raises only ``DecodeError`` (the
    caller records it), after recording any later problem itself."""
    start = d.l3_offset
    ip6 = IPv6Header.parse(data[start: start + 40])
    d.ip6 = ip6
    n = len(data)
    nh = ip6.next_header
    begin = start + 40
    end = begin + ip6.payload_length
    if nh not in EXTENSION_TYPES:  # the common case: the upper layer right after the header
        chain = ExtChain((), (), nh, begin)
        d.ip6_ext = chain
        whole = end <= n
        if not whole:
            d._problem(Truncated("ip6", end - start, n - start))
        d.l4_offset = min(begin, n)
        d.l4_end = stop = min(end, n)
        if nh == 58:
            _icmp6(d, data, ip6, d.l4_offset, stop, ip6.dst, whole)
        return
    if ip6.payload_length == 0 and nh == 0:
        try:  # RFC 2675: a jumbogram's length lives in its hop-by-hop option
            jumbo = OptionsHeader.parse(data[begin:], 0).jumbo_length
        except DecodeError:
            jumbo = None
        if jumbo is not None:
            end = begin + jumbo
    chain = walk_extensions(data, nh, begin, end)
    d.ip6_ext = chain
    whole = end <= n
    if not whole:
        d._problem(Truncated("ip6", end - start, n - start))
    if chain.error is not None:
        d._problem(chain.error)
    d.l4_offset = min(chain.offset, n)
    d.l4_end = min(end, n)
    if chain.protocol != 58 or not chain.upper_layer_present:
        return
    _icmp6(d, data, ip6, d.l4_offset, d.l4_end, chain.final_destination(ip6.dst),
           whole and not chain.is_fragmented)


def _icmp6(d: Decoded, data: bytes, ip6: IPv6Header, begin: int, end: int, dst: bytes,
           verify: bool) -> None:
    msg = parse_icmp6(data[begin:end], ip6.src, dst, verify)
    d.icmp6 = msg
    if 133 <= msg.icmp_type <= 137:
        d.ndp = parse_ndp(data[begin:end])


# -- the summary path ---------------------------------------------------------

def count6(t: Tally, d: Decoded) -> None:
    """The IPv6 part of ``Tally.add``."""
    if d.ip6 is None:
        return
    t.ipv6 += 1
    chain = d.ip6_ext
    if chain is None or chain.protocol != 58 or not chain.upper_layer_present:
        return
    t.icmp6 += 1
    msg = d.icmp6
    if msg is not None:
        key = (msg.icmp_type, msg.code)
        t.icmp6_types[key] = t.icmp6_types.get(key, 0) + 1
        if msg.checksum_ok is False:
            t.bad_icmp6_checksum += 1


def tally6(t: Tally, data: bytes, off: int) -> None:
    """``tally`` for an IPv6 datagram at ``off`` of an Ethernet frame (already counted in
    ``t.frames``): inline for the common ICMPv6-without-extensions case, else through
    ``decode_ipv6`` on a scratch ``Decoded``."""
    n = len(data)
    if n < off + 40:
        t.truncated += 1
        return
    if data[off] >> 4 != 6:
        t.undecodable += 1
        return
    nh = data[off + 6]
    plen = (data[off + 4] << 8) | data[off + 5]
    begin = off + 40
    kind = data[begin] if n > begin else -1
    if nh != 58 or plen == 0 or 133 <= kind <= 137:
        _tally6_slow(t, data, off)
        return
    t.ipv6 += 1
    end = begin + plen
    cut = end > n
    if cut:
        t.truncated += 1
        end = n
    t.icmp6 += 1
    if end - begin < 8:
        if not cut:
            t.truncated += 1
        return
    key = (data[begin], data[begin + 1])
    types = t.icmp6_types
    types[key] = types.get(key, 0) + 1
    if not cut and not upper_checksum_ok(data[off + 8: off + 24], data[off + 24: off + 40],
                                         58, data[begin:end]):
        t.bad_icmp6_checksum += 1


def _tally6_slow(t: Tally, data: bytes, off: int) -> None:
    from pcapping.decode import Decoded

    d = Decoded(data, 1, 0, 0, 0, len(data))
    d.l3_offset = off
    try:
        decode_ipv6(d, data)
    except DecodeError as exc:
        d._problem(exc)
    count6(t, d)
    if d.truncated:
        t.truncated += 1
    if d.malformed:
        t.undecodable += 1


# -- JSON ---------------------------------------------------------------------

_EXT_NAMES = {0: "hopopts", 43: "routing", 44: "fragment", 51: "ah", 60: "dstopts"}


def ext_list(chain: ExtChain | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if chain is None:
        return out
    for h in chain.headers:
        if isinstance(h, OptionsHeader):
            out.append({"type": _EXT_NAMES[h.kind], "nxt": h.next_header, "len": h.length,
                        "options": [{"type": o.opt_type, "len": len(o.data),
                                     "value": o.data.hex()} for o in h.options]})
        elif isinstance(h, RoutingHeader):
            item: dict[str, Any] = {"type": "routing", "nxt": h.next_header, "len": h.length,
                                    "rtype": h.routing_type, "segleft": h.segments_left}
            if h.routing_type in (0, 2, 4):
                item["addresses"] = [ip6_str(a) for a in h.addresses]
            out.append(item)
        elif isinstance(h, FragmentHeader):
            out.append({"type": "fragment", "nxt": h.next_header, "len": 8,
                        "offset": h.offset_bytes, "m": h.more, "id": h.ident})
        elif isinstance(h, AHHeader):
            out.append({"type": "ah", "nxt": h.next_header, "len": h.length, "spi": h.spi,
                        "seq": h.seq})
    return out


def ip6_dict(ip6: IPv6Header, chain: ExtChain | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "src": ip6_str(ip6.src), "dst": ip6_str(ip6.dst), "hlim": ip6.hop_limit,
        "nxt": ip6.next_header, "plen": ip6.payload_length, "flow": ip6.flow_label,
        "tclass": ip6.traffic_class,
    }
    if chain is not None:
        out["proto"] = chain.protocol
        out["ext"] = ext_list(chain)
    return out


def _lladdr(raw: bytes) -> str:
    return raw.hex(":")


def option_dict(o: Any, length: int) -> dict[str, Any]:
    """One NDP option; ``length`` is its length on the wire in bytes."""
    out: dict[str, Any] = {"type": getattr(o, "opt_type", None), "len": length}
    if isinstance(o, LinkLayerOption):
        out["lladdr"] = _lladdr(o.address)
    elif isinstance(o, PrefixInfo):
        out.update(prefix=ip6_str(o.prefix), prefix_len=o.prefix_length, flags=o.flags,
                   valid=o.valid_lifetime, preferred=o.preferred_lifetime)
    elif isinstance(o, MTUOption):
        out["mtu"] = o.mtu
    elif isinstance(o, RDNSSOption):
        out.update(lifetime=o.lifetime, addresses=[ip6_str(a) for a in o.addresses])
    elif isinstance(o, DNSSLOption):
        out.update(lifetime=o.lifetime, domains=list(o.domains))
    elif isinstance(o, NonceOption):
        out["nonce"] = o.nonce.hex()
    elif isinstance(o, RedirectedHeader):
        out["packet_len"] = len(o.packet)
    elif isinstance(o, RouteInfo):
        prefix = (o.prefix + bytes(16))[:16]
        out.update(prefix=ip6_str(prefix), prefix_len=o.prefix_length,
                   preference=(o.flags >> 3) & 3, lifetime=o.lifetime)
    elif isinstance(o, UnknownOption):
        out["data"] = o.data.hex()
    return out


_OPTIONS_AT = {133: 8, 134: 16, 135: 24, 136: 24, 137: 40}


def _option_lengths(msg: ICMP6Other) -> list[int]:
    """The wire length of each option of an NDP message (the values do not keep it)."""
    raw = msg.body[_OPTIONS_AT[msg.icmp_type] - 4:]
    out = []
    p = 0
    while p + 2 <= len(raw) and raw[p + 1]:
        out.append(raw[p + 1] * 8)
        p += raw[p + 1] * 8
    return out


def ndp_fields(nd: NDPMessage, msg: ICMP6Other) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(nd, NeighborSolicit | NeighborAdvert | Redirect):
        out["target"] = ip6_str(nd.target)
    if isinstance(nd, Redirect):
        out["destination"] = ip6_str(nd.destination)
    if isinstance(nd, NeighborAdvert):
        out.update(router=nd.router, solicited=nd.solicited, override=nd.override)
    if isinstance(nd, RouterAdvert):
        out.update(hop_limit=nd.cur_hop_limit, managed=nd.managed, other=nd.other,
                   preference=nd.preference, router_lifetime=nd.router_lifetime,
                   reachable_time=nd.reachable_time, retrans_timer=nd.retrans_timer)
    out["options"] = [option_dict(o, n) for o, n in zip(nd.options, _option_lengths(msg),
                                                        strict=False)]
    return out


def mld_dict(msg: ICMP6Other) -> dict[str, Any] | None:
    try:
        m = parse_mld(msg.raw())
    except DecodeError:
        return None
    if isinstance(m, MLDMessage):
        return {"version": 1, "max_delay": m.max_delay, "group": ip6_str(m.group)}
    if isinstance(m, MLDv2Query):
        return {"version": 2, "max_delay": m.max_response_delay, "group": ip6_str(m.group),
                "s": m.s_flag, "qrv": m.qrv, "qqi": m.query_interval,
                "sources": [ip6_str(a) for a in m.sources]}
    assert isinstance(m, MLDv2Report)
    return {"version": 2, "records": [
        {"type": r.record_type, "group": ip6_str(r.group),
         "sources": [ip6_str(a) for a in r.sources]} for r in m.records]}


def probe_dict(msg: Any) -> dict[str, Any] | None:
    """The RFC 8335 fields of an extended echo (either family), or None."""
    echo = ext_echo_of(msg)
    if isinstance(echo, ExtEchoRequest):
        out: dict[str, Any] = {"local": echo.local, "query": None}
        q = echo.query
        if q is not None:
            if q.c_type == 1:
                out["query"] = {"by": "name", "name": q.name}
            elif q.c_type == 2:
                out["query"] = {"by": "index", "index": q.index}
            else:
                addr = q.address
                text = (ip6_str(addr) if len(addr) == 16 else
                        ".".join(map(str, addr)) if len(addr) == 4 else addr.hex())
                out["query"] = {"by": "address", "afi": q.afi, "address": text}
        return out
    if isinstance(echo, ExtEchoReply):
        return {"state": echo.state, "active": echo.active, "ipv4": echo.ipv4,
                "ipv6": echo.ipv6}
    return None


def _ext_dict(msg: ICMP6Error) -> dict[str, Any] | None:
    """The RFC 4884 extension of a Time Exceeded or Destination Unreachable (its length
    field in 64-bit words), as IPv4's: MPLS stacks and interface objects decoded."""
    if msg.icmp_type not in (1, 3):
        return None
    found = locate_extension(msg.payload, msg.rest[0], 8)
    return None if found is None else extension_dict(found)


def quoted6_dict(q: QuotedDatagram6) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if q.ip6 is not None:
        out["ip6"] = {"src": ip6_str(q.ip6.src), "dst": ip6_str(q.ip6.dst),
                      "hlim": q.ip6.hop_limit, "nxt": q.ip6.next_header,
                      "plen": q.ip6.payload_length, "flow": q.ip6.flow_label}
    if q.ext is not None:
        out["proto"] = q.ext.protocol
        out["ext"] = ext_list(q.ext)
    if q.icmp6 is not None:
        i = q.icmp6
        out["icmp6"] = {"type": i.icmp_type, "code": i.code,
                        "id": i.ident,
                        "seq": i.seq, "checksum": i.checksum, "checksum_ok": i.checksum_ok}
    if q.sport is not None:
        out["sport"], out["dport"] = q.sport, q.dport
    if q.problem is not None:
        out["problem"] = q.problem
    return out


def icmp6_dict(msg: ICMP6Message, nd: NDPMessage | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": msg.icmp_type, "code": msg.code, "checksum": msg.checksum,
                           "checksum_ok": msg.checksum_ok}
    if isinstance(msg, ICMP6Echo):
        out["id"], out["seq"] = msg.ident, msg.seq
    elif isinstance(msg, ICMP6Error):
        out["id"] = out["seq"] = None
        if msg.mtu is not None:
            out["mtu"] = msg.mtu
        if msg.pointer is not None:
            out["pointer"] = msg.pointer
        out["quoted"] = quoted6_dict(msg.quoted)
        ext = _ext_dict(msg)
        if ext is not None:
            out["extension"] = ext
    else:
        out["id"], out["seq"] = msg.ident, msg.seq
        if nd is not None:
            out.update(ndp_fields(nd, msg))
        elif msg.icmp_type in (130, 131, 132, 143):
            mld = mld_dict(msg)
            if mld is not None:
                out["mld"] = mld
        elif msg.icmp_type in (160, 161):
            probe = probe_dict(msg)
            if probe is not None:
                out["probe"] = probe
    return out


def layers6(d: Decoded, out: dict[str, Any]) -> None:
    """Add the ``ip6`` and ``icmp6`` keys of ``Decoded.to_dict``."""
    if d.ip6 is not None:
        out["ip6"] = ip6_dict(d.ip6, d.ip6_ext)
    if d.icmp6 is not None:
        out["icmp6"] = icmp6_dict(d.icmp6, d.ndp)


__all__ = ["count6", "decode_ipv6", "icmp6_dict", "ip6_dict", "layers6", "probe_dict",
           "tally6"]
