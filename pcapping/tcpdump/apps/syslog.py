"""tcpdump 4.99's syslog text (UDP port 514, ``-n``) for a datagram's payload.

``syslog`` follows the convention of :mod:`pcapping.tcpdump.apps.text`: it takes
the frame bytes ``data``, the message offset ``p``, the payload ``length`` UDP
claims and the capture end ``end`` (``data[end:]`` is never read), and returns
``(text, hard)``.

tcpdump reads the priority ``<N>`` first: a ``<``, at most three decimal
digits, a ``>``, whatever the claimed length (only the capture bounds these
reads).  Anything else is `` (invalid)`` and nothing more.  The priority is
split into facility (bits 3-9, so 0..124; names for 0..23, else
``unknown (N)``) and severity (bits 0-2).  Then:

* without ``-v``: ``SYSLOG facility.severity, length: N``;
* with ``-v``: ``SYSLOG, length: N``, a ``Facility ... Severity ...`` line
  and ``Msg: `` followed by the rest of the claimed length, every octet
  printed with nd_printn's ``M-``/``^`` escapes;
* with ``-vv`` and more: a hex dump of the claimed length (clamped to the
  captured bytes) in tcpdump's ``\\n\\t0x0000:  3c31 333e ...`` layout.

Every fetch is one of tcpdump's GET macros, so a read past the capture is
*hard*: ``hard`` is ``"syslog"`` and the caller appends `` [|syslog]``;
``text`` then holds what was printed before (for the message, the octets up
to the capture end); a cut quote of 101-104 octets, where the ICMP printer
would add its own `` [|icmp]`` after a soft stop, confirms the stop is hard.
No divergence from tcpdump 4.99.3 is known
(tests/test_tcpdump_ntp_syslog.py compares it frame by frame).
"""

from __future__ import annotations

from pcapping.tcpdump.apps.text import printn

_SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
_FACILITIES = ("kernel", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
               "cron", "authpriv", "ftp", "ntp", "security", "console", "cron", "local0",
               "local1", "local2", "local3", "local4", "local5", "local6", "local7")
_MAX_DIGITS = 3
_M32 = 0xFFFFFFFF


def _facility(n: int) -> str:
    return _FACILITIES[n] if n < len(_FACILITIES) else f"unknown ({n})"


def hex_dump(data: bytes, p: int, n: int, indent: str) -> str:
    """tcpdump's hex_print: ``n`` octets from ``p`` as 16-bit groups, 16 octets a line."""
    out = []
    for k in range(0, n - 1, 2):
        if k % 16 == 0:
            out.append(f"{indent}0x{k:04x}: ")
        out.append(f" {data[p + k]:02x}{data[p + k + 1]:02x}")
    if n & 1:
        k = n - 1
        if k % 16 == 0:
            out.append(f"{indent}0x{k:04x}: ")
        out.append(f" {data[p + k]:02x}")
    return "".join(out)


def syslog(data: bytes, p: int, length: int, end: int, verbose: int) -> tuple[str, str]:
    """tcpdump's text for the syslog message at data[p:], ``length`` octets claimed by UDP,
    captured octets stopping at ``end`` (data[end:] is never read)."""
    end = max(0, min(end, len(data)))
    length &= _M32

    def captured(q: int) -> bool:
        return 0 <= q < end

    if not captured(p):
        return "", "syslog"
    if data[p] != 0x3C:  # '<'
        return " (invalid)", ""
    off = 1
    pri = 0
    while off <= _MAX_DIGITS:
        if not captured(p + off):
            return "", "syslog"
        c = data[p + off]
        if not 0x30 <= c <= 0x39:
            break
        pri = pri * 10 + c - 0x30
        off += 1
    if not captured(p + off):
        return "", "syslog"
    if data[p + off] != 0x3E:  # '>'
        return " (invalid)", ""
    off += 1
    facility = (pri & 0x3F8) >> 3
    severity = pri & 0x07
    if verbose < 1:
        return (f"SYSLOG {_facility(facility)}.{_SEVERITIES[severity]}, length: {length}", "")
    head = (f"SYSLOG, length: {length}\n\tFacility {_facility(facility)} ({facility}), "
            f"Severity {_SEVERITIES[severity]} ({severity})\n\tMsg: ")
    if length > off:
        msg = printn(data, p + off, length - off, end)
        if p + length > end:
            return head + msg, "syslog"
        head += msg
    if verbose > 1:
        head += hex_dump(data, p, min(length, end - p), "\n\t")
    return head, ""


__all__ = ["syslog"]
