"""iputils ping's text lines and DESIGN.md's JSON events; all rounding lives here.

Text follows iputils 20221126 (ping/ping.c ``pr_icmph``, ping_common.c
``gather_statistics`` and ``finish``): integer-microsecond RTTs with its precision rules,
its integer mdev, ``%g`` loss of a C float, ``pipe N`` and ``ipg/ewma`` where it prints
them.  A wrong ICMP checksum is shown with tcpdump's verdict wording instead of iputils'
``(BAD CHECKSUM!)`` (DESIGN.md).
"""

from __future__ import annotations

import math
import struct
from typing import Any

from pcapping.io.netinfo import addr_text as ip_str
from pcapping.probe.events import (
    EchoReplied,
    ErrorReported,
    LocalError,
    ProbeAnswered,
    TimedOut,
    Unassembled,
)
from pcapping.probe.stats import PingStats

# iputils needs a struct timeval (16 bytes) of payload to time a reply.
TIMING_MIN_SIZE = 16

_UNREACH = {
    0: "Destination Net Unreachable",
    1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable",
    3: "Destination Port Unreachable",
    5: "Source Route Failed",
    6: "Destination Net Unknown",
    7: "Destination Host Unknown",
    8: "Source Host Isolated",
    9: "Destination Net Prohibited",
    10: "Destination Host Prohibited",
    11: "Destination Net Unreachable for Type of Service",
    12: "Destination Host Unreachable for Type of Service",
    13: "Packet filtered",
    14: "Precedence Violation",
    15: "Precedence Cutoff",
}
_REDIRECT = {
    0: "Redirect Network",
    1: "Redirect Host",
    2: "Redirect Type of Service and Network",
    3: "Redirect Type of Service and Host",
}
_TIME_EXCEEDED = {0: "Time to live exceeded", 1: "Frag reassembly time exceeded"}


_UNREACH6 = {0: "No route", 1: "Administratively prohibited",
             2: "Beyond scope of source address", 3: "Address unreachable",
             4: "Port unreachable"}
_PARAM6 = {0: "Wrong header field ", 1: "Unknown header ", 2: "Unknown option "}


def error_text6(icmp_type: int, code: int, mtu: int | None = None,
                pointer: int | None = None) -> str:
    """iputils' description of an ICMPv6 error (ping6_common.c ``print_icmp``)."""
    if icmp_type == 1:
        return "Destination unreachable: " + _UNREACH6.get(code, f"Unknown code {code}")
    if icmp_type == 2:
        return f"Packet too big: mtu={mtu or 0}" + (f", code={code}" if code else "")
    if icmp_type == 3:
        what = {0: "Hop limit", 1: "Defragmentation failure"}.get(code, f"code {code}")
        return "Time exceeded: " + what
    if icmp_type == 4:
        return "Parameter problem: " + _PARAM6.get(code, f"code {code} ") + f"at {pointer or 0}"
    names = {128: "Echo request", 129: "Echo reply", 130: "MLD Query", 131: "MLD Report",
             132: "MLD Reduction"}
    return names.get(icmp_type, f"unknown icmp type: {icmp_type}")


def error_text(
    icmp_type: int,
    code: int,
    mtu: int | None = None,
    gateway: bytes | None = None,
    pointer: int | None = None,
    v6: bool = False,
) -> str:
    """iputils' description of an ICMP error (``pr_icmph``), without the newline."""
    if v6:
        return error_text6(icmp_type, code, mtu, pointer)
    if icmp_type == 3:
        if code == 4:
            return f"Frag needed and DF set (mtu = {mtu or 0})"
        return _UNREACH.get(code, f"Dest Unreachable, Bad Code: {code}")
    if icmp_type == 11:
        return _TIME_EXCEEDED.get(code, f"Time exceeded, Bad Code: {code}")
    if icmp_type == 4:
        return "Source Quench"
    if icmp_type == 5:
        head = _REDIRECT.get(code, f"Redirect, Bad Code: {code}")
        return f"{head}(New nexthop: {ip_str(gateway) if gateway else '0.0.0.0'})"
    if icmp_type == 12:
        return f"Parameter problem: pointer = {pointer or 0}"
    return f"Bad ICMP type: {icmp_type}"


def rtt_text(rtt_us: int) -> str:
    """iputils' ``time=...`` precision: 3 decimals under 1 ms, 2 under 10, 1 under 100."""
    t = rtt_us
    if t >= 100000 - 50:
        return f"time={(t + 500) // 1000} ms"
    if t >= 10000 - 5:
        return f"time={(t + 50) // 1000}.{((t + 50) % 1000) // 100:01d} ms"
    if t >= 1000:
        return f"time={(t + 5) // 1000}.{((t + 5) % 1000) // 10:02d} ms"
    return f"time={t // 1000}.{t % 1000:03d} ms"


def cksum_verdict(stored: int | None, should_be: int | None) -> str:
    """tcpdump's ``(wrong icmp cksum X (->Y)!)``."""
    return f"(wrong icmp cksum {stored or 0:x} (->{should_be or 0:x})!)"


def _stamp(ts: float) -> str:
    usec_total = int(round(ts * 1e6))
    return f"[{usec_total // 1_000_000}.{usec_total % 1_000_000:06d}] "


def pattern_line(pattern: bytes) -> str:
    return f"PATTERN: 0x{pattern.hex()}"


def header_line(
    name: str, address: str, size: int, source: str | None = None,
    interface: str | None = None, strict_source: bool = False, v6: bool = False,
) -> str:
    """``PING host (addr) [from src dev: ]56(84) bytes of data.``; IPv6 (iputils 20221126):
    ``PING host(addr) [from src dev: ]56 data bytes``.

    iputils names the source when ``-I`` was given: ``from SRC IFACE: `` for an interface,
    ``from SRC : `` for an address.
    """
    via = f"from {source} {interface or ''}: " if interface or strict_source else ""
    if v6:
        return f"PING {name}({address}) {via}{size} data bytes"
    return f"PING {name} ({address}) {via}{size}({size + 28}) bytes of data."


def reply_line(ev: EchoReplied, size: int, timestamps: bool = False, ident: int | None = None,
               wrong_source: bool = False, show_dup: bool = True) -> str:
    """``64 bytes from ADDR: icmp_seq=N [ident=I] ttl=T time=X ms [(DUP!)] ...``."""
    out = [_stamp(ev.ts) if timestamps else "",
           f"{ev.icmp_length} bytes from {ip_str(ev.src)}: icmp_seq={ev.seq}"]
    if ident is not None:
        out.append(f" ident={ident}")
    out.append(f" ttl={ev.ttl}")
    if ev.truncated:
        out.append(" (truncated)")
        return "".join(out)
    if size >= TIMING_MIN_SIZE and ev.rtt_us is not None:
        out.append(" " + rtt_text(ev.rtt_us))
    if ev.duplicate and show_dup:
        out.append(" (DUP!)")
    if not ev.checksum_ok:
        out.append(" " + cksum_verdict(ev.checksum, ev.checksum_should_be))
    if wrong_source:
        out.append(" (DIFFERENT ADDRESS!)")
    return "".join(out)


PROBE_CODES = {0: "No Error", 1: "Malformed Query", 2: "No Such Interface",
               3: "No Such Table Entry", 4: "Multiple Interfaces Satisfy Query"}
PROBE_STATES = {1: "incomplete", 2: "reachable", 3: "stale", 4: "delay", 5: "probe",
                6: "failed"}


def probe_header(name: str, address: str, query_text: str, v6: bool = False) -> str:
    """The first line of ``send --probe-if``, in ping's shape."""
    sep = "" if v6 else " "
    return f"PROBE {name}{sep}({address}): interface {query_text}"


def probe_line(ev: ProbeAnswered, query_text: str, timestamps: bool = False) -> str:
    """``From ADDR icmp_seq=N interface X: No Error, active, IPv4, IPv6 ttl=T time=...``."""
    stamp = _stamp(ev.ts) if timestamps else ""
    words = [PROBE_CODES.get(ev.code, f"code {ev.code}")]
    if ev.code == 0:
        words.append("active" if ev.active else "inactive")
        if ev.ipv4:
            words.append("IPv4")
        if ev.ipv6:
            words.append("IPv6")
        if ev.state in PROBE_STATES:
            words.append(f"neighbour {PROBE_STATES[ev.state]}")
    line = (f"{stamp}From {ip_str(ev.src)} icmp_seq={ev.seq} interface {query_text}: "
            f"{', '.join(words)} ttl={ev.ttl}")
    if ev.rtt_us is not None:
        line += " " + rtt_text(ev.rtt_us)
    return line


def json_probe(ev: ProbeAnswered) -> dict[str, Any]:
    return {"event": "probe", "seq": ev.seq, "from": ip_str(ev.src), "code": ev.code,
            "text": PROBE_CODES.get(ev.code, f"code {ev.code}"), "active": ev.active,
            "ipv4": ev.ipv4, "ipv6": ev.ipv6, "state": ev.state, "ttl": ev.ttl,
            "rtt_ms": None if ev.rtt_us is None else round(ev.rtt_us / 1000, 3),
            "ts": round(ev.ts, 6)}


def unassembled_line(ev: Unassembled, timestamps: bool = False) -> str:
    """A fragmented answer that was never whole (kernel ping would say nothing at all)."""
    stamp = _stamp(ev.ts) if timestamps else ""
    seq = f" icmp_seq={ev.seq}" if ev.seq is not None else ""
    return (f"{stamp}From {ip_str(ev.src)}{seq} Fragmented reply not reassembled "
            f"({ev.reason}, {ev.fragments} fragments)")


def error_line(ev: ErrorReported, timestamps: bool = False, verbose: bool = False) -> str:
    text = error_text(ev.icmp_type, ev.code, ev.mtu, ev.gateway, ev.pointer, len(ev.src) == 16)
    colon = "" if ev.counted else ":"  # iputils prints redirect/quench as "From X: ..."
    stamp = _stamp(ev.ts) if timestamps else ""
    line = f"{stamp}From {ip_str(ev.src)}{colon} icmp_seq={ev.seq} {text}"
    if not ev.checksum_ok:
        line += " " + cksum_verdict(ev.checksum, ev.checksum_should_be)
    if verbose and ev.quoted_checksum_ok is False:
        line += " (quoted ip header: bad cksum, rewritten on the way?)"
    return line


def _c_float(x: float) -> float:
    """x rounded to a C float, as iputils computes its loss percentage."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _ms3(us: int) -> str:
    return f"{us // 1000}.{us % 1000:03d}"


def rtt_summary(stats: PingStats) -> tuple[int, int, int, int]:
    """iputils' integer (min, avg, max, mdev) in microseconds, from its accumulators."""
    total = stats.timed
    tsum = stats.tsum
    tsum2 = float(stats.tsum2)
    tmavg = tsum // total
    if tsum < 2**31 - 1:
        tmvar = int((tsum2 - (tsum * tsum) // total) / total)
    else:
        tmvar = int(tsum2 / total) - tmavg * tmavg
    return stats.tmin, tmavg, stats.tmax, math.isqrt(max(tmvar, 0))


def time_ms(stats: PingStats) -> int:
    return int(stats.time_s * 1000 + 0.5)


def summary_lines(
    name: str, stats: PingStats, size: int = 56, ipg: bool = False
) -> list[str]:
    """The statistics block, from the blank line before it to the (maybe empty) last line.

    ``ipg``: print iputils' ``ipg/ewma`` (it does for ``-f``, ``-A`` and an interval that
    rounds to 0 ms).
    """
    first = [f"{stats.transmitted} packets transmitted, {stats.received} received"]
    if stats.duplicates:
        first.append(f", +{stats.duplicates} duplicates")
    if stats.corrupted:
        first.append(f", +{stats.corrupted} corrupted")
    if stats.errors:
        first.append(f", +{stats.errors} errors")
    if stats.transmitted:
        first.append(f", {_c_float(stats.loss_pct):g}% packet loss, time {time_ms(stats)}ms")
    last: list[str] = []
    timing = size >= TIMING_MIN_SIZE and stats.timed
    if stats.received and timing:
        tmin, tavg, tmax, tmdev = rtt_summary(stats)
        last.append(f"rtt min/avg/max/mdev = {_ms3(tmin)}/{_ms3(tavg)}/{_ms3(tmax)}/"
                    f"{_ms3(tmdev)} ms")
    if stats.pipesize > 1:
        last.append(f"pipe {stats.pipesize}")
    if stats.received and ipg and stats.transmitted > 1:
        ipg = int(stats.time_s * 1e6) // (stats.transmitted - 1)
        rtt8 = stats.rtt8
        last.append(f"ipg/ewma {ipg // 1000}.{ipg % 1000:03d}/"
                    f"{rtt8 // 8000}.{(rtt8 // 8) % 1000:03d} ms")
    return ["", f"--- {name} ping statistics ---", "".join(first), ", ".join(last)]


def status_line(stats: PingStats) -> str:
    """The interim statistics SIGQUIT prints (on stderr, as iputils' ``status``)."""
    loss = 0
    if stats.transmitted:
        loss = (stats.transmitted - stats.received) * 100 // stats.transmitted
    out = f"\r{stats.received}/{stats.transmitted} packets, {loss}% loss"
    if stats.received and stats.timed:
        tavg = stats.tsum // stats.timed
        rtt8 = stats.rtt8
        out += (f", min/avg/ewma/max = {_ms3(stats.tmin)}/{_ms3(tavg)}/"
                f"{rtt8 // 8000}.{(rtt8 // 8) % 1000:03d}/{_ms3(stats.tmax)} ms")
    return out


def outstanding_line(seq: int) -> str:
    """``-O``: the previous request is still unanswered when the next one goes."""
    return f"no answer yet for icmp_seq={seq}"


def local_error_text(mtu: int, v6: bool = False) -> str:
    """What iputils prints (on stderr) when a request is larger than the path MTU allows
    (its IPv6 wording has a colon)."""
    return f"local error: message too long, mtu{': ' if v6 else '='}{mtu}"


# --- JSON Lines (DESIGN.md) ---

def _r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def json_start(
    target: str, address: str, interface: str, source: str, next_hop: str,
    next_hop_mac: str | None, ident: int, size: int, ttl: int,
) -> dict[str, Any]:
    return {"event": "start", "target": target, "address": address, "interface": interface,
            "source": source, "next_hop": next_hop, "next_hop_mac": next_hop_mac,
            "ident": ident, "size": size, "ttl": ttl}


def json_reply(ev: EchoReplied) -> dict[str, Any]:
    out = {"event": "reply", "seq": ev.seq, "from": ip_str(ev.src), "bytes": ev.icmp_length,
           "ttl": ev.ttl, "rtt_ms": None if ev.rtt_us is None else round(ev.rtt_us / 1000, 3),
           "ts": round(ev.ts, 6), "duplicate": ev.duplicate, "checksum_ok": ev.checksum_ok}
    if ev.fragments > 1:
        out["fragments"] = ev.fragments
    if ev.truncated:
        out["truncated"] = True
    return out


def json_error(ev: ErrorReported) -> dict[str, Any]:
    out: dict[str, Any] = {"event": "error", "seq": ev.seq, "from": ip_str(ev.src),
                           "type": ev.icmp_type, "code": ev.code}
    if ev.mtu is not None:
        out["mtu"] = ev.mtu
    if ev.local:
        out["local"] = True
    out["text"] = error_text(ev.icmp_type, ev.code, ev.mtu, ev.gateway, ev.pointer,
                             len(ev.src) == 16)
    out["ts"] = round(ev.ts, 6)
    out["checksum_ok"] = ev.checksum_ok
    return out


def json_timeout(seq: int) -> dict[str, Any]:
    return {"event": "timeout", "seq": seq}


def json_summary(target: str, stats: PingStats) -> dict[str, Any]:
    return {"event": "summary", "target": target, "transmitted": stats.transmitted,
            "received": stats.received, "duplicates": stats.duplicates,
            "corrupted": stats.corrupted, "errors": stats.errors,
            "loss_pct": round(stats.loss_pct, 3), "time_ms": time_ms(stats),
            "rtt_min_ms": _r3(stats.rtt_min_ms), "rtt_avg_ms": _r3(stats.rtt_avg_ms),
            "rtt_max_ms": _r3(stats.rtt_max_ms), "rtt_mdev_ms": _r3(stats.rtt_mdev_ms),
            "rtt_p50_ms": _r3(stats.percentile_ms(50)), "rtt_p90_ms": _r3(stats.percentile_ms(90)),
            "rtt_p99_ms": _r3(stats.percentile_ms(99)), "jitter_ms": _r3(stats.jitter_ms)}


def json_local_error(ev: LocalError) -> dict[str, Any]:
    return {"event": "error", "seq": ev.seq, "from": None, "type": None, "code": None,
            "mtu": ev.mtu, "local": True, "text": local_error_text(ev.mtu, ev.v6),
            "ts": round(ev.ts, 6), "checksum_ok": True}


def json_unassembled(ev: Unassembled) -> dict[str, Any]:
    return {"event": "unassembled", "seq": ev.seq, "from": ip_str(ev.src), "reason": ev.reason,
            "fragments": ev.fragments, "ts": round(ev.ts, 6)}


# --- reports: what PingStrategy tells, as text or as JSON events ---

class TextPingReport:
    """iputils ping's output: lines on ``write`` (stdout), local errors on ``warn`` (stderr).

    ``-f`` prints iputils' flood marks instead of lines: ``.`` per request, a backspace
    per reply, ``E`` per error.
    """

    def __init__(self, write: Any, warn: Any, *, size: int, dst: bytes, quiet: bool = False,
                 flood: bool = False, timestamps: bool = False, verbose: bool = False,
                 audible: bool = False, multicast: bool = False, ident: int | None = None,
                 screen_width: int | None = None) -> None:
        self.write = write
        self.warn = warn
        self.size = size
        self.dst = dst
        self.quiet = quiet
        self.flood = flood and not quiet
        self.timestamps = timestamps
        self.verbose = verbose
        self.audible = audible
        self.multicast = multicast
        self.ident = ident if verbose else None
        self.screen_width = screen_width
        self.query_text = ""  # --probe-if: how the interface was named
        if quiet or self.flood:  # replies print nothing or a mark: no event needed
            self.reply_mark = self._mark
        if self.flood:
            self.sent_mark = self.sent

    def _mark(self, ok: bool) -> None:
        if self.flood:
            self.write("\b \b" if ok else "\bC")

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def sent(self, seq: int) -> None:
        if self.flood:
            self.write(".")

    def outstanding(self, seq: int) -> None:
        if not self.quiet and not self.flood:
            self.line(outstanding_line(seq))

    def reply(self, ev: EchoReplied) -> None:
        if self.quiet:
            return
        if self.flood:
            self.write("\b \b" if ev.checksum_ok else "\bC")
            return
        wrong = not self.multicast and ev.src != self.dst
        self.line(reply_line(ev, self.size, self.timestamps, self.ident, wrong,
                             show_dup=not self.multicast or self.verbose))
        if self.audible and not ev.duplicate:
            self.write("\a")

    def error(self, ev: ErrorReported) -> None:
        if self.quiet:
            return
        if self.flood:
            if ev.counted:
                self.write("\bE")
            return
        self.line(error_line(ev, self.timestamps, self.verbose))

    def local_error(self, ev: LocalError) -> None:
        if self.quiet:
            return
        if self.flood:
            self.write("E")
            return
        self.warn(f"pcapping: {local_error_text(ev.mtu, ev.v6)}\n")

    def unassembled(self, ev: Unassembled) -> None:
        if not self.quiet and not self.flood:
            self.line(unassembled_line(ev, self.timestamps))

    def timeout(self, ev: TimedOut) -> None:
        pass

    def probe(self, ev: ProbeAnswered) -> None:
        if not self.quiet:
            self.line(probe_line(ev, self.query_text, self.timestamps))

    def status(self, stats: PingStats) -> None:
        self.warn(status_line(stats) + "\n")


class JsonPingReport:
    """DESIGN's JSON Lines events, handed to ``emit`` as dicts."""

    def __init__(self, emit: Any, warn: Any = None) -> None:
        self.emit = emit
        self.warn = warn

    def sent(self, seq: int) -> None:
        pass

    def outstanding(self, seq: int) -> None:
        pass

    def reply(self, ev: EchoReplied) -> None:
        self.emit(json_reply(ev))

    def error(self, ev: ErrorReported) -> None:
        self.emit(json_error(ev))

    def local_error(self, ev: LocalError) -> None:
        self.emit(json_local_error(ev))

    def unassembled(self, ev: Unassembled) -> None:
        self.emit(json_unassembled(ev))

    def timeout(self, ev: TimedOut) -> None:
        self.emit(json_timeout(ev.seq))

    def probe(self, ev: ProbeAnswered) -> None:
        self.emit(json_probe(ev))

    def status(self, stats: PingStats) -> None:
        if self.warn is not None:
            self.warn(status_line(stats) + "\n")
