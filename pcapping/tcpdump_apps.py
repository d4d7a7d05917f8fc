"""Application printers for datagrams quoted by ICMP errors (tcpdump 4.99 text).

Only ``TcpdumpFormatter`` calls these, and only for the TCP/UDP datagram inside
an ICMP error, on the ports tcpdump dissects.  Every printer takes the frame
bytes ``data``, the payload offset ``p``, the payload ``length`` the transport
header claims and the capture end ``end``, and returns ``(text, hard)``:
``hard`` is the protocol name when tcpdump would give up on a fetch past the
captured data (its longjmp: the caller prints `` [|name]`` once for the frame),
else ``""``.
"""

from __future__ import annotations

from ipaddress import IPv6Address

# -- text protocols (tcpdump's txtproto_print) ---------------------------------

HTTP_CMDS = frozenset((
    "GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL",
    "TRACE", "LABEL", "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY",
    "BDELETE", "CONNECT", "OPTIONS", "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST",
    "SUBSCRIBE", "PROPPATCH", "BPROPFIND", "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY",
    "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL", "BASELINE-CONTROL"))
RTSP_CMDS = frozenset((
    "DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "OPTIONS", "PAUSE", "PLAY", "RECORD", "REDIRECT",
    "SETUP", "SET_PARAMETER", "TEARDOWN"))
SIP_CMDS = frozenset((
    "ACK", "BYE", "CANCEL", "DO", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "PRACK",
    "QAUTH", "REFER", "REGISTER", "SPRACK", "SUBSCRIBE", "UPDATE", "PUBLISH"))

# tcpdump's TCP port dispatch, in its order, up to the last text protocol:
# (ports, printer name or None for a dissector not reproduced here).
_TCP_ORDER: tuple[tuple[frozenset[int], str | None], ...] = (
    (frozenset((23,)), None),          # telnet
    (frozenset((25,)), "smtp"),
    (frozenset((43,)), "whois"),
    (frozenset((179, 1723, 6379, 22, 10288, 6633, 6653)), None),  # bgp pptp resp ssh beep of
    (frozenset((21,)), "ftp"),
    (frozenset((80, 8080)), "http"),
    (frozenset((554, 8554)), "rtsp"),
)
TCP_TEXT_PORTS = frozenset((25, 43, 21, 80, 8080, 554, 8554))
_CMDS = {"http": HTTP_CMDS, "rtsp": RTSP_CMDS, "sip": SIP_CMDS}

_MAX_TOKEN = 128


def tcp_text_proto(sport: int, dport: int) -> str | None:
    """The text printer tcpdump picks for a TCP segment between these ports, if any."""
    for ports, name in _TCP_ORDER:
        if sport in ports or dport in ports:
            return name
    return None


def _token(data: bytes, p: int, idx: int, length: int, end: int) -> tuple[int, str]:
    """tcpdump's fetch_token: (index after the token and its blanks, token); 0 if none."""
    start = idx
    while idx < length:
        if p + idx >= end:
            return 0, ""
        c = data[p + idx]
        if c >= 0x80:
            return 0, ""
        if c in (0x20, 0x09, 0x0D, 0x0A):
            break
        if not 0x20 < c < 0x7F:
            return 0, ""
        if idx - start + 2 > _MAX_TOKEN + 1:
            return 0, ""
        idx += 1
    if idx == start:
        return 0, ""
    token = data[p + start: p + idx].decode("ascii")
    while idx < length and p + idx < end and data[p + idx] == 0x20:
        idx += 1
    return idx, token


def _line(data: bytes, p: int, idx: int, length: int, end: int, prefix: str, name: str,
          out: list[str]) -> int:
    """tcpdump's print_txt_line: the index after the line, 0 to stop, -1 on a hard stop."""
    start = idx
    while idx < length:
        if p + idx >= end:
            return -1
        c = data[p + idx]
        if c == 0x0A:
            out.append(prefix + data[p + start: p + idx].decode("ascii"))
            return idx + 1
        if c == 0x0D:
            if idx + 1 >= length:
                return 0
            if p + idx + 1 >= end:
                return -1
            if data[p + idx + 1] != 0x0A:
                return 0
            out.append(prefix + data[p + start: p + idx].decode("ascii"))
            return idx + 2
        if not (0x20 <= c < 0x7F or c == 0x09):
            return 0
        idx += 1
    out.append(f"{prefix}{data[p + start: p + idx].decode('ascii')} [|{name}]")
    return 0


def txtproto(data: bytes, p: int, length: int, end: int, name: str,
             verbose: int) -> tuple[str, str]:
    """tcpdump's text-protocol printer (SMTP, FTP, WHOIS, HTTP, RTSP, SIP)."""
    cmds = _CMDS.get(name)
    show = cmds is None
    if cmds is not None:
        idx, token = _token(data, p, 0, length, end)
        if idx:
            if token.upper() in cmds:
                show = True
            idx, token = _token(data, p, idx, length, end)
            if idx and len(token) == 3 and token.isdigit():
                show = True
    out = [name.upper()]
    if not show:
        return out[0], ""
    if verbose:
        out.append(f", length: {length}")
        idx = 0
        while idx < length:
            idx = _line(data, p, idx, length, end, "\n\t", name, out)
            if idx < 0:
                return "".join(out), name
            if idx == 0:
                break
    elif _line(data, p, 0, length, end, ": ", name, out) < 0:
        return "".join(out), name
    return "".join(out), ""


def printn(data: bytes, p: int, n: int, end: int) -> str:
    """tcpdump's nd_printn: up to ``n`` bytes (or to ``end``), M- and ^ escaped."""
    out = []
    for c in data[p: min(p + n, end)]:
        if c >= 0x80:
            out.append("M-")
            c &= 0x7F
        if not 0x20 <= c < 0x7F:
            out.append("^")
            c ^= 0x40
        out.append(chr(c))
    return "".join(out)


def rst_data(data: bytes, p: int, length: int, end: int) -> str:
    """tcpdump's text for the data of a TCP reset (``-v``)."""
    head = " [RST" if p + length <= end else " [!RST"
    if length > 30:
        length = 30
        head += "+"
    return f"{head} {printn(data, p, length, end)}]"


# -- DNS (tcpdump's domain printer, -v, over UDP) --------------------------------

_NS_OPS = ("", " inv_q", " stat", " op3", " notify", " update", " op6", " op7", " op8",
           " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit",
           " zoneRef")
_NS_RCODES = ("", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain",
              " YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13",
              " Resp14", " NoChange")
_DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT",
              28: "AAAA", 33: "SRV", 255: "ANY"}
_DNS_CLASSES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}


class _Unsupported(Exception):
    """Something this printer does not reproduce: the caller keeps its plain line."""


def _dns_name(data: bytes, bp: int, cp: int, end: int, out: list[str]) -> int | None:
    """tcpdump's fqdn_print: the offset after the name, None where it gives up."""
    if cp >= end:
        return None
    i = data[cp]
    if i & 0xC0 in (0x40, 0x80):
        raise _Unsupported  # EDNS0 bit labels and reserved label types
    max_offset = cp - bp
    cp += 1
    if i == 0:
        out.append(".")
        return cp
    compress = i & 0xC0 == 0xC0
    rp = 0 if compress else cp + i
    if compress:
        compress = False  # set by the pointer branch below, as tcpdump does
    chars = 0
    while i and cp < end:
        if i & 0xC0 == 0xC0:
            if not compress:
                rp = cp + 1
                compress = True
            offset = ((i << 8) | data[cp]) & 0x3FFF
            if offset >= max_offset:
                raise _Unsupported  # <BAD PTR>
            max_offset = offset
            cp = bp + offset
            if cp >= end:
                return None
            i = data[cp]
            if i & 0xC0 in (0x40, 0x80):
                raise _Unsupported
            cp += 1
            continue
        chars += i + 1
        if chars > 255:
            raise _Unsupported
        out.append(printn(data, cp, i, end))
        if cp + i > end:
            return None
        cp += i
        out.append(".")
        if cp >= end:
            return None
        i = data[cp]
        if i & 0xC0 in (0x40, 0x80):
            raise _Unsupported
        cp += 1
        if not compress:
            rp += i + 1
    return rp


def _dns_skip(data: bytes, cp: int, end: int) -> int | None:
    """tcpdump's ns_nskip."""
    if cp >= end:
        return None
    i = data[cp]
    cp += 1
    while i:
        kind = i & 0xC0
        if kind == 0xC0:
            return cp + 1
        if kind:
            raise _Unsupported
        cp += i
        if cp >= end:
            return None
        i = data[cp]
        cp += 1
    return cp


def _dns_rr(data: bytes, bp: int, cp: int, end: int, out: list[str]) -> int | None:
    """tcpdump's ns_rprint at -v: the offset after the record; None to stop."""
    out.append(" ")
    cp = _dns_name(data, bp, cp, end, out)
    if cp is None:
        return None
    if cp + 10 > end:
        return end
    typ, cls = int.from_bytes(data[cp: cp + 2], "big"), int.from_bytes(data[cp + 2: cp + 4], "big")
    name = _DNS_TYPES.get(typ)
    if name is None:
        raise _Unsupported
    if cls != 1:
        out.append(f" {_DNS_CLASSES.get(cls, f'(Class {cls})')}")
    rdlen = int.from_bytes(data[cp + 8: cp + 10], "big")
    cp += 10
    rp = cp + rdlen
    out.append(f" {name}")
    if rp > end:
        return None
    if typ == 1:
        if cp + 4 > end:
            return None
        out.append(" " + ".".join(str(b) for b in data[cp: cp + 4]))
    elif typ == 28:
        if cp + 16 > end:
            return None
        out.append(f" {IPv6Address(data[cp: cp + 16])}")
    elif typ in (2, 5, 12):
        out.append(" ")
        if _dns_name(data, bp, cp, end, out) is None:
            return None
    elif typ == 15:
        out.append(" ")
        if cp + 2 > end or _dns_name(data, bp, cp + 2, end, out) is None:
            return None
        out.append(f" {int.from_bytes(data[cp: cp + 2], 'big')}")
    elif typ == 6:
        for _ in range(2):
            out.append(" ")
            cp = _dns_name(data, bp, cp, end, out)
            if cp is None:
                return None
        if cp + 20 > end:
            return None
        out.extend(f" {int.from_bytes(data[cp + k: cp + k + 4], 'big')}" for k in range(0, 20, 4))
    elif typ == 33:
        out.append(" ")
        if cp + 6 > end or _dns_name(data, bp, cp + 6, end, out) is None:
            return None
        v = [int.from_bytes(data[cp + k: cp + k + 2], "big") for k in (4, 0, 2)]
        out.append(f":{v[0]} {v[1]} {v[2]}")
    else:
        raise _Unsupported
    return rp


def domain(data: bytes, p: int, length: int, end: int) -> tuple[str, str] | None:
    """tcpdump -v's DNS text for the message at ``data[p:]`` (12 header bytes captured);
    None where it prints something this printer does not reproduce."""
    try:
        return _domain(data, p, length, end)
    except _Unsupported:
        return None


def _domain(data: bytes, p: int, length: int, end: int) -> tuple[str, str]:
    ident, flags, qd, an, ns, ar = (int.from_bytes(data[p + k: p + k + 2], "big")
                                    for k in range(0, 12, 2))
    if ar:
        raise _Unsupported  # EDNS (OPT) may change the rcode and is printed its own way
    opcode = (flags >> 11) & 15
    out: list[str] = []
    cp = p + 12
    if flags & 0x8000:
        out.append(f"{ident}{_NS_OPS[opcode]}{_NS_RCODES[flags & 15]}"
                   f"{'*' if flags & 0x400 else ''}{'' if flags & 0x80 else '-'}"
                   f"{'|' if flags & 0x200 else ''}{'$' if flags & 0x20 else ''}")
        if qd != 1:
            out.append(f" [{qd}q]")
        for k in range(qd):
            if k:
                out.append(",")
            cp = _dns_skip(data, cp, end)
            if cp is None:
                out.append(" [|domain]")
                return "".join(out), ""
            cp += 4
        out.append(f" {an}/{ns}/{ar}")
        while an:
            got = _dns_rr(data, p, cp, end, out)
            if got is None:
                out.append(" [|domain]")
                return "".join(out), ""
            cp = got
            an -= 1
            if not an or cp >= end:
                break
            out.append(",")
        if an:
            out.append(" [|domain]")
            return "".join(out), ""
    else:
        raise _Unsupported
    out.append(f" ({length})")
    return "".join(out), ""


__all__ = ["TCP_TEXT_PORTS", "domain", "printn", "rst_data", "tcp_text_proto", "txtproto"]
