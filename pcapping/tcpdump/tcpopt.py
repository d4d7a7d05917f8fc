"""tcpdump 4.99's TCP options list: `` options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]``.

``tcp_options`` appends the list to ``out`` and says how tcpdump's TCP printer
goes on: ``""`` to print the segment length next; ``"end"`` where it returns
after the options (a malformed option's ``[bad opt]``, or a soft truncation,
`` [|tcp]>``); ``"tcp"`` where a fetch runs off the capture (its longjmp: the
caller prints `` [|tcp]`` and ends the frame).  MPTCP (30) is printed as raw
bytes, not with tcpdump's MPTCP printer.
"""

from __future__ import annotations

NAMES = {0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 6: "echo",
         7: "echoreply", 8: "TS", 11: "cc", 12: "ccnew", 13: "", 19: "md5", 20: "scps",
         28: "uto", 29: "tcp-ao", 30: "mptcp", 34: "tfo", 254: "exp"}
_SIGLEN = 16
# options printed as one big-endian number of this many bytes (mss, wscale, echo, cc)
_NUMBERS = {2: 2, 3: 1, 6: 4, 7: 4, 11: 4, 12: 4, 13: 4}


class _Bad(Exception):
    """tcpdump's ``goto bad``: ``[bad opt]``."""


class _Cut(Exception):
    """A failed ND_TCHECK (soft): `` [|tcp]``."""


def _need(n: int, hlen: int, q: int, end: int) -> None:
    """tcpdump's LENCHECK: ``n`` option bytes left in the header, and captured."""
    if n > hlen:
        raise _Bad
    if q + n > end:
        raise _Cut


def _fastopen(data: bytes, q: int, n: int, exp: bool) -> str:
    text = "tfo" if exp else ""
    if n == 0:
        return text + " cookiereq"
    if n % 2 or n < 4 or n > 16:
        return text + " (invalid)"
    return text + " cookie " + data[q: q + n].hex()


def tcp_options(data: bytes, q: int, hlen: int, end: int, out: list[str],
                sack_base: int, whole: bool = True) -> str:
    """Append the options in ``data[q: q + hlen]`` (see the module docstring);
    ``whole`` says whether the segment's data was captured to its end."""
    out.append(", options [")
    sep = ""
    try:
        while hlen > 0:
            out.append(sep)
            if q >= end:
                return "tcp"
            opt = data[q]
            q += 1
            if opt <= 1:
                olen = 1
            else:
                if q >= end:
                    return "tcp"
                olen = data[q]
                q += 1
                if olen < 2 or olen > hlen:
                    raise _Bad
                hlen -= 1
            hlen -= 1

            out.append(NAMES.get(opt, f"unknown-{opt}"))
            datalen = 0
            if opt in _NUMBERS:
                datalen = _NUMBERS[opt]
                _need(datalen, hlen, q, end)
                out.append(f" {int.from_bytes(data[q: q + datalen], 'big')}")
            elif opt == 5:
                datalen = olen - 2
                if datalen % 8:
                    out.append(" invalid sack")
                else:
                    out.append(f" {datalen // 8} ")
                    for i in range(0, datalen, 8):
                        _need(i + 4, hlen, q, end)
                        left = int.from_bytes(data[q + i: q + i + 4], "big")
                        _need(i + 8, hlen, q, end)
                        right = int.from_bytes(data[q + i + 4: q + i + 8], "big")
                        out.append(f"{{{(left - sack_base) & 0xFFFFFFFF}:"
                                   f"{(right - sack_base) & 0xFFFFFFFF}}}")
            elif opt == 8:
                datalen = 8
                _need(8, hlen, q, end)
                out.append(f" val {int.from_bytes(data[q: q + 4], 'big')}"
                           f" ecr {int.from_bytes(data[q + 4: q + 8], 'big')}")
            elif opt == 19:
                datalen = _SIGLEN
                _need(_SIGLEN, hlen, q, end)
                out.append(" " + _signature(data, q, whole))
            elif opt == 20:
                datalen = 2
                _need(2, hlen, q, end)
                out.append(f" cap {data[q]:02x} id {data[q + 1]}")
            elif opt == 29:
                datalen = olen - 2
                if datalen < 2:
                    out.append(" (invalid)")
                else:
                    _need(1, hlen, q, end)
                    out.append(f" keyid {data[q]}")
                    _need(2, hlen, q, end)
                    out.append(f" rnextkeyid {data[q + 1]}")
                    if datalen > 2:
                        out.append(" mac 0x")
                        for i in range(2, datalen):
                            _need(i + 1, hlen, q, end)
                            out.append(f"{data[q + i]:02x}")
            elif opt in (0, 1, 4):
                pass
            elif opt == 28:
                datalen = 2
                _need(2, hlen, q, end)
                uto = int.from_bytes(data[q: q + 2], "big")
                out.append(f" 0x{uto:x}")
                out.append(f" {(uto >> 1) * 60 if uto & 1 else uto >> 1}")
            elif opt == 34:
                datalen = olen - 2
                _need(datalen, hlen, q, end)
                out.append(" " + _fastopen(data, q, datalen, False))
            elif opt == 254:
                datalen = olen - 2
                _need(datalen, hlen, q, end)
                if datalen < 2:
                    raise _Bad
                magic = int.from_bytes(data[q: q + 2], "big")
                out.append("-")
                out.append(_fastopen(data, q + 2, datalen - 2, True) if magic == 0xF989
                           else f"{magic:04x}")
            else:
                datalen = olen - 2
                if datalen:
                    out.append(" 0x")
                for i in range(datalen):
                    _need(i + 1, hlen, q, end)
                    out.append(f"{data[q + i]:02x}")
            q += datalen
            hlen -= datalen
            if datalen + (1 if opt <= 1 else 2) != olen:
                out.append(f"[len {olen}]")
            sep = ","
            if opt == 0:
                break
    except _Bad:
        out.append("[bad opt]" + ("]" if sep else ""))
        return "end"
    except _Cut:
        out.append(" [|tcp]" + (">" if sep else ""))
        return "end"
    out.append("]")
    return ""


def _signature(data: bytes, q: int, whole: bool) -> str:
    """An MD5 signature option as a tcpdump built with libcrypto prints it without -M."""
    why = "shared secret not supplied with -M" if whole else "snaplen too short"
    return f"{why}, can't check - " + data[q: q + _SIGLEN].hex()


__all__ = ["NAMES", "tcp_options"]
