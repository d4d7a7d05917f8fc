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


__all__ = ["TCP_TEXT_PORTS", "printn", "rst_data", "tcp_text_proto", "txtproto"]
