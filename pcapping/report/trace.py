"""``trace`` events as text (traceroute's lines, mtr's report, a multipath map) or JSON.

- ``TextTraceReport``: traceroute 2.1's output, byte for byte where it has one: the
  header ``traceroute to HOST (ADDR), N hops max, M byte packets``, then per hop
  ``%2u `` and per probe `` *`` or the address (printed again only when it changes
  within the hop, skipping unanswered probes), ``  %.3f ms`` and the annotation (``!H``
  ...).  pcapping adds, after an address, what traceroute's ``-e`` prints (``<MPLS:...>``,
  extensions being shown always) and what the quote says was modified
  (``[modified: l4_checksum,dscp]``; with ``-v`` the values); a path with neither prints
  exactly as traceroute.  Notes on loss that is not loss go to stderr.
- ``MtrReport``: ``--report``: mtr 0.95's ``--report`` layout (``Start:``, ``HOST:`` and
  one ``N.|-- address`` row per hop with fields at fixed columns, other addresses of a
  hop under it), with ``p50``, ``p99`` and ``Jttr`` after mtr's default fields, then
  notes: rate limiting, silent hops, modified quotes.  ``--live`` redraws the same table
  on a terminal after every round.
- ``MultipathReport``: ``--multipath``: every interface per hop with its flows and RTTs,
  then the links between hops.
- ``JsonTraceReport``: ``start``, one ``probe`` event per probe and a ``summary``.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from pcapping.probe.hopstats import HopStats, Verdict, hop_dict, verdicts
from pcapping.probe.trace import ProbeDone
from pcapping.wire.ext import extension_dict


def addr_text(addr: bytes | None) -> str | None:
    """Dotted quad, or RFC 5952 text for IPv6 (as traceroute's numeric addresses)."""
    if addr is None:
        return None
    return socket.inet_ntop(socket.AF_INET6 if len(addr) == 16 else socket.AF_INET, addr)


def header_line(host: str, address: str, max_ttl: int, packet_len: int) -> str:
    """traceroute's header (it prints it without the newline)."""
    return f"traceroute to {host} ({address}), {max_ttl} hops max, {packet_len} byte packets"


def _annot_key(ev: ProbeDone, verbose: bool) -> str:
    """What traceroute's address rule compares besides the address: extension text and
    (pcapping's) modified fields."""
    parts = []
    if ev.ext_text:
        parts.append(f" <{ev.ext_text}>")
    if ev.modified:
        if verbose:
            parts.append(" [modified: " + ", ".join(c.text() for c in ev.changes) + "]")
        else:
            parts.append(" [modified: " + ",".join(ev.modified) + "]")
    return "".join(parts)


class TextTraceReport:
    """traceroute's lines on ``write`` (see the module docstring)."""

    def __init__(self, write: Any, warn: Any, *, verbose: bool = False,
                 scope: str | None = None) -> None:
        self.write = write
        self.warn = warn
        self.verbose = verbose
        self.scope = scope  # the interface: IPv6 link-local answers print with %scope
        self.prev: tuple[bytes, str] | None = None  # last answered probe of this hop
        self.flush = lambda: None

    def start(self, header: str) -> None:
        self.write(header)

    def probe(self, ev: ProbeDone) -> None:
        write = self.write
        if ev.probe == 1:
            write(f"\n{ev.ttl:2d} ")
            self.prev = None
        if ev.src is None:
            write(" *")
        else:
            key = _annot_key(ev, self.verbose)
            if self.prev is None or self.prev != (ev.src, key):
                text = addr_text(ev.src)
                if self.scope and ev.src[:2] == b"\xfe\x80":  # as getnameinfo writes it
                    text = f"{text}%{self.scope}"
                write(f" {text}{key}")
            self.prev = (ev.src, key)
        if ev.src is not None and ev.rtt_us is not None and ev.kind != "local":
            write(f"  {ev.rtt_us / 1000:.3f} ms")
        if ev.annotation:
            write(f" {ev.annotation}")

    def round_done(self, round_no: int) -> None:
        pass

    def finish(self, summary: TraceSummary) -> None:
        self.write("\n")
        self.flush()  # the lines first, then the notes on stderr
        for line in summary.notes():
            self.warn(f"pcapping: {line}\n")


class TraceSummary:
    """What a finished trace amounts to, for the reports and ``pcapping.trace()``."""

    def __init__(self, host: str, address: str, hops: list[HopStats], reached: bool,
                 probes_sent: int, time_ms: float, graph: dict[str, Any] | None = None,
                 confidence: float | None = None) -> None:
        self.host = host
        self.address = address
        self.hops = hops
        self.reached = reached
        self.probes_sent = probes_sent
        self.time_ms = time_ms
        self.graph = graph
        self.confidence = confidence
        self.verdicts: list[Verdict] = verdicts(hops)

    def hop_dicts(self) -> list[dict[str, Any]]:
        out = []
        for i, (hop, v) in enumerate(zip(self.hops, self.verdicts, strict=True)):
            last = i == len(self.hops) - 1
            out.append(hop_dict(hop, v, addr_text, self.reached and last))
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": "summary", "target": self.host, "address": self.address,
            "reached": self.reached, "hops": self.hop_dicts(),
            "probes_sent": self.probes_sent, "time_ms": round(self.time_ms, 3),
        }
        if self.graph is not None:
            out["multipath"] = multipath_dict(self.graph, self.confidence)
        return out

    def notes(self) -> list[str]:
        """One sentence per hop whose missing answers are not loss, or whose quotes show
        modifications that first appear there."""
        out = []
        seen: set[str] = set()
        for hop, v in zip(self.hops, self.verdicts, strict=True):
            who = ", ".join(addr_text(a) or "" for a in hop.addresses) or "*"
            if v.reason and (v.rate_limited or v.silent):
                out.append(f"hop {hop.ttl} ({who}): {v.reason}")
            new = sorted(set(hop.modified) - seen)
            if new:
                out.append(f"hop {hop.ttl} ({who}): quoted datagrams show "
                           f"{', '.join(new)} modified{_nat_hint(new)}")
                seen.update(new)
        return out


def _nat_hint(fields: list[str]) -> str:
    from pcapping.probe.quote_diff import NAT_FIELDS

    hints = []
    if NAT_FIELDS & set(fields):
        hints.append("an address translator before this hop")
    if "dscp" in fields or "ecn" in fields:
        hints.append("a TOS rewrite before this hop")
    if "ttl0" in fields:
        hints.append("this router quotes a TTL of 0")
    return f" ({'; '.join(hints)})" if hints else ""


def multipath_dict(graph: dict[str, Any], confidence: float | None) -> dict[str, Any]:
    hops = []
    for ttl, per in graph["hops"].items():
        hops.append({"ttl": ttl, "interfaces": [
            {"address": addr_text(a), "flows": flows} for a, flows in per.items()]})
    links = []
    for (t1, a1, t2, a2), flows in graph["links"].items():
        links.append({"from_ttl": t1, "from": addr_text(a1), "to_ttl": t2,
                      "to": addr_text(a2), "flows": flows})
    return {"confidence": confidence, "flows": graph["flows"], "rounds": graph["rounds"],
            "hops": hops, "links": links}


# --- mtr's report -------------------------------------------------------------------

# (title, width, format) after mtr 0.95's data_fields; p50/p99 are pcapping's
_FIELDS = {
    "L": ("Loss%", 6, " {:4.1f}%"), "S": ("Snt", 6, " {:5d}"), " ": (" ", 1, " "),
    "N": ("Last", 6, " {:5.1f}"), "A": ("Avg", 6, " {:5.1f}"), "B": ("Best", 6, " {:5.1f}"),
    "W": ("Wrst", 6, " {:5.1f}"), "V": ("StDev", 6, " {:5.1f}"), "5": ("p50", 6, " {:5.1f}"),
    "9": ("p99", 6, " {:5.1f}"), "J": ("Jttr", 5, " {:4.1f}"),
}
REPORT_FIELDS = "LS NABWV59J"
HOST_WIDTH = 33


def _place(buf: list[str], col: int, text: str) -> None:
    """Write ``text`` at column ``col``, as mtr's snprintf at buf + len does (a longer
    value runs into the next field, which then overwrites it)."""
    while len(buf) < col:
        buf.append(" ")
    del buf[col:]
    buf.extend(text)


def report_lines(summary: TraceSummary, local_host: str, fields: str = REPORT_FIELDS,
                 start: float | None = None) -> list[str]:
    """mtr's ``--report`` text for a summary (``Start:`` line included when ``start``)."""
    lines = []
    if start is not None:
        lines.append("Start: " + time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(start)))
    head = list(f"HOST: {local_host:<{HOST_WIDTH}}")
    col = HOST_WIDTH
    for key in fields:
        title, width, _ = _FIELDS[key]
        _place(head, col, title.rjust(width))
        col += width
    lines.append("".join(head))
    for hop, v in zip(summary.hops, summary.verdicts, strict=True):
        addrs = list(hop.addresses)
        latest = hop.latest
        name = addr_text(latest) if latest is not None else "???"
        row = list(f" {hop.ttl:2d}.|-- {name:<{HOST_WIDTH}}")
        col = HOST_WIDTH
        for key in fields:
            _, width, fmt = _FIELDS[key]
            _place(row, col, _value(key, fmt, hop, v))
            col += width
        lines.append("".join(row))
        for a in addrs:
            if a != latest:
                lines.append(f"        {addr_text(a):<{HOST_WIDTH}}")
    notes = summary.notes()
    if notes:
        lines.append("Notes:")
        lines.extend(f"  {n}" for n in notes)
    return lines


def _value(key: str, fmt: str, hop: HopStats, v: Verdict) -> str:
    if key == " ":
        return " "
    if key == "L":
        return fmt.format(v.loss_pct)
    if key == "S":
        return fmt.format(hop.sent)
    pick = {"N": hop.rtt_ms("last"), "A": hop.rtt_ms("avg"), "B": hop.rtt_ms("min"),
            "W": hop.rtt_ms("max"), "V": hop.rtt_ms("stdev"),
            "5": hop.percentile_ms(50), "9": hop.percentile_ms(99),
            "J": hop.jitter_ms("last")}[key]
    return fmt.format(pick or 0.0)


class MtrReport:
    """``--report`` (the table at the end) and ``--live`` (redrawn after every round)."""

    CLEAR = "\x1b[H\x1b[2J"

    def __init__(self, write: Any, warn: Any, *, live: bool, summary_for: Any,
                 local_host: str, start: float) -> None:
        self.write = write
        self.warn = warn
        self.live = live
        self.summary_for = summary_for  # () -> TraceSummary of what is known so far
        self.local_host = local_host
        self.started = start
        self.flush = lambda: None

    def start(self, header: str) -> None:
        if self.live:
            self.write(self.CLEAR + header + "\n")

    def probe(self, ev: ProbeDone) -> None:
        pass

    def round_done(self, round_no: int) -> None:
        if self.live:
            summary = self.summary_for()
            text = "\n".join(report_lines(summary, self.local_host, start=self.started))
            self.write(f"{self.CLEAR}{text}\n  round {round_no}\n")
            self.flush()

    def finish(self, summary: TraceSummary) -> None:
        text = "\n".join(report_lines(summary, self.local_host, start=self.started))
        self.write((self.CLEAR if self.live else "") + text + "\n")


class MultipathReport:
    """``--multipath``'s text: interfaces per hop, then links."""

    def __init__(self, write: Any, warn: Any) -> None:
        self.write = write
        self.warn = warn
        self.rtts: dict[tuple[int, bytes], list[int]] = {}
        self.flush = lambda: None

    def start(self, header: str) -> None:
        self.write(header + "\n")

    def probe(self, ev: ProbeDone) -> None:
        if ev.src is not None and ev.rtt_us is not None:
            self.rtts.setdefault((ev.ttl, ev.src), []).append(ev.rtt_us)

    def round_done(self, round_no: int) -> None:
        pass

    def finish(self, summary: TraceSummary) -> None:
        g = summary.graph or {"hops": {}, "links": {}, "flows": 0, "rounds": 0}
        write = self.write
        for hop in summary.hops:
            per = g["hops"].get(hop.ttl, {})
            if not per:
                write(f"{hop.ttl:2d}  *  ({hop.sent} flows, no answer)\n")
                continue
            for i, (addr, flows) in enumerate(per.items()):
                r = sorted(self.rtts.get((hop.ttl, addr), []))
                times = ""
                if r:
                    times = (f"  {r[0] / 1000:.3f}/{sum(r) / len(r) / 1000:.3f}/"
                             f"{r[-1] / 1000:.3f} ms")
                lead = f"{hop.ttl:2d}  " if i == 0 else "    "
                n = len(flows)
                write(f"{lead}{addr_text(addr)}{times}  {n} flow{'s' if n != 1 else ''}\n")
        if g["links"]:
            write("links:\n")
            grouped: dict[tuple[int, bytes], list[tuple[int, bytes, int]]] = {}
            for (t1, a1, t2, a2), flows in g["links"].items():
                grouped.setdefault((t1, a1), []).append((t2, a2, len(flows)))
            for (t1, a1), outs in sorted(grouped.items()):
                parts = []
                for t2, a2, n in outs:
                    via = f" at {t2}" if t2 != t1 + 1 else ""
                    parts.append(f"{addr_text(a2)}{via} ({n} flow{'s' if n != 1 else ''})")
                write(f"{t1:2d}  {addr_text(a1)} -> {', '.join(parts)}\n")
        write(f"{summary.probes_sent} probes, {g['flows']} flows, {g['rounds']} rounds\n")
        self.flush()
        for line in summary.notes():
            self.warn(f"pcapping: {line}\n")


# --- JSON ---------------------------------------------------------------------------

def _r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def probe_dict(ev: ProbeDone) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event": "probe", "ttl": ev.ttl, "probe": ev.probe, "from": addr_text(ev.src),
        "rtt_ms": None if ev.rtt_us is None else round(ev.rtt_us / 1000, 3),
        "type": ev.icmp_type, "code": ev.code, "kind": ev.kind,
        "annotation": ev.annotation, "final": ev.final, "modified": list(ev.modified),
        "flow": ev.flow, "round": ev.round, "reply_ttl": ev.reply_ttl,
        "quoted_ttl": ev.quoted_ttl, "ts": None if ev.ts is None else round(ev.ts, 6),
        "sent_ts": None if ev.sent_ts is None else round(ev.sent_ts, 6),
    }
    if ev.changes:
        out["changes"] = [{"field": c.field, "sent": c.sent, "quoted": c.quoted}
                          for c in ev.changes]
    if ev.extension is not None:
        out["extensions"] = extension_dict(ev.extension)
    if ev.mtu is not None:
        out["mtu"] = ev.mtu
    if ev.tcp_flags is not None:
        out["tcp_flags"] = ev.tcp_flags
    if ev.moved_from is not None:
        out["moved_from_ttl"] = ev.moved_from
    if ev.matched_by is not None:
        out["matched_by"] = ev.matched_by
    return out


class JsonTraceReport:
    """JSON Lines: ``start`` (written by the command), ``probe`` events, ``summary``."""

    def __init__(self, emit: Any, warn: Any = None) -> None:
        self.emit = emit
        self.warn = warn
        self.flush = lambda: None

    def start(self, header: str) -> None:
        pass

    def probe(self, ev: ProbeDone) -> None:
        self.emit(probe_dict(ev))

    def round_done(self, round_no: int) -> None:
        pass

    def finish(self, summary: TraceSummary) -> None:
        self.emit(summary.to_dict())


__all__ = ["JsonTraceReport", "MtrReport", "MultipathReport", "TextTraceReport",
           "TraceSummary", "header_line", "probe_dict", "report_lines"]
