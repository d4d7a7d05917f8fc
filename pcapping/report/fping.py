"""fping 5.1's output for many-target runs, and their JSON Lines events; all rounding here.

Text follows fping 5.1 (``src/fping.c``: ``wait_for_reply``, ``main_loop``'s timeout
event, ``decode_icmp_ipv4``, ``finish``, ``print_per_system_stats``,
``print_global_stats``, ``sprint_tm``), stream for stream: ``is alive``/``is unreachable``,
``-a``/``-u`` lists, per-probe lines of ``-c``/``-C``/``-l`` and ``-x``'s verdict on
stdout; ICMP error lines, duplicates, the per-target summaries and ``-s`` on stderr.  Which
lines appear follows fping's flags exactly (``-a``, ``-u``, ``-x`` and ``-q`` silence the
verbose lines; ``-c``/``-l`` print per-probe lines unless ``-q``, except that ``-l`` prints
them even with ``-q``, as fping does).

pcapping adds, on stderr with ``-s`` (after fping's block) and always in JSON: targets
unreachable *with an error back* (by error and router) apart from those with *no answer at
all*, duplicate, late and corrupted replies, and the routers that rate-limited their errors
(``SweepStrategy.rate_limited``: errors from a router stopped while targets beside the ones it
answered for got nothing; said with their arrival pattern, e.g. 5 at once, then about 1 per
second).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from pcapping.probe.sweep import ALIVE, EXCLUDED, SweepOptions, SweepStrategy
from pcapping.probe.targets import dotted

ICMP_TYPE_TEXT = {
    0: "ICMP Echo Reply", 3: "ICMP Unreachable", 4: "ICMP Source Quench",
    5: "ICMP Redirect", 8: "ICMP Echo", 11: "ICMP Time Exceeded",
    12: "ICMP Parameter Problem", 13: "ICMP Timestamp Request", 14: "ICMP Timestamp Reply",
    15: "ICMP Information Request", 16: "ICMP Information Reply", 17: "ICMP Mask Request",
    18: "ICMP Mask Reply",
}
ICMP_UNREACH_TEXT = (
    "ICMP Network Unreachable",
    "ICMP Host Unreachable",
    "ICMP Protocol Unreachable",
    "ICMP Port Unreachable",
    "ICMP Unreachable (Fragmentation Needed)",
    "ICMP Unreachable (Source Route Failed)",
    "ICMP Unreachable (Destination Network Unknown)",
    "ICMP Unreachable (Destination Host Unknown)",
    "ICMP Unreachable (Source Host Isolated)",
    "ICMP Unreachable (Communication with Network Prohibited)",
    "ICMP Unreachable (Communication with Host Prohibited)",
    "ICMP Unreachable (Network Unreachable For Type Of Service)",
    "ICMP Unreachable (Host Unreachable For Type Of Service)",
    "ICMP Unreachable (Communication Administratively Prohibited)",
    "ICMP Unreachable (Host Precedence Violation)",
    "ICMP Unreachable (Precedence cutoff in effect)",
)


def sprint_tm(us: float) -> str:
    """fping's ``sprint_tm``: milliseconds with three significant-ish digits."""
    t = us / 1000.0
    if t < 0.0:
        return f"{t:.2g}"
    if t < 1.0:
        return f"{t:.3f}"
    if t < 10.0:
        return f"{t:.2f}"
    if t < 100.0:
        return f"{t:.1f}"
    if t < 1_000_000.0:
        return f"{t:.0f}"
    return f"{t:.3e}"


def error_text(icmp_type: int, code: int) -> str:
    """fping's words for an ICMP error about one of its echoes."""
    if icmp_type == 3:
        if code >= len(ICMP_UNREACH_TEXT):
            return "ICMP Unreachable (Invalid Code)"
        return ICMP_UNREACH_TEXT[code]
    return ICMP_TYPE_TEXT.get(icmp_type, f"ICMP {icmp_type}")


def error_line(icmp_type: int, code: int, src: bytes, host: str) -> str:
    where = socket.inet_ntoa(src)
    return f"{error_text(icmp_type, code)} from {where} for ICMP Echo sent to {host}"


def loss_text(sent: int, received: int, received_total: int | None = None) -> str:
    if received <= sent:
        return f"{((sent - received) * 100) // sent if sent else 0}% loss"
    total = received if received_total is None else received_total
    return f"{(total * 100) // sent}% return"


class Flags:
    """fping's output switches, derived as its ``main`` derives them."""

    def __init__(self, opts: SweepOptions, *, quiet: bool = False, alive: bool = False,
                 unreach: bool = False, elapsed: bool = False, timestamps: bool = False,
                 stats: bool = False, reachable: int = 0, verbose: bool = False) -> None:
        self.quiet = quiet
        self.stats = stats
        self.elapsed = elapsed
        self.timestamps = timestamps
        self.reachable = reachable
        self.extra = verbose  # pcapping's -v: the extra summary even without -s
        verbose_flag = not quiet
        alive_flag, unreach_flag = alive, unreach
        if alive_flag or unreach_flag or reachable:
            verbose_flag = False
        per_recv = False
        if opts.count is not None:
            per_recv = verbose_flag
            alive_flag = unreach_flag = verbose_flag = False
        if opts.loop:
            per_recv = True  # fping: unless -Q, even with -q
            alive_flag = unreach_flag = verbose_flag = False
        self.verbose = verbose_flag
        self.alive = alive_flag
        self.unreach = unreach_flag
        self.per_recv = per_recv


class FpingTextReport:
    """fping's lines: ``out`` is stdout, ``err`` stderr (both take text)."""

    def __init__(self, targets: Any, opts: SweepOptions, flags: Flags, out: Any,
                 err: Any) -> None:
        self.targets = targets
        self.opts = opts
        self.f = flags
        self.out = out
        self.err = err
        self.width = targets.label_width()
        self.strategy: SweepStrategy | None = None
        self.default_mode = not opts.counting
        # whether a reply prints anything (else the strategy need not say each one)
        self.wants_replies = flags.verbose or flags.alive or (
            flags.per_recv and not self.default_mode)
        self._alive_lines = flags.verbose or flags.alive
        self._alive_word = " is alive" if flags.verbose else ""
        self._alive_end = self._alive_word + "\n"
        self._addr = targets.addr
        self._numeric = not getattr(targets, "names", None)  # labels are the addresses

    def _label(self, i: int) -> str:
        return self.targets.label(i)

    def _other(self, i: int, src: bytes) -> None:
        """fping's `` [<- ADDR]`` when the answer came from another address (on stderr)."""
        if int.from_bytes(src, "big") != self.targets.addr(i):
            self.err(f" [<- {socket.inet_ntoa(src)}]")

    def _stamp(self, ts_us: int) -> str:
        return f"[{ts_us / 1e6:.5f}] " if self.f.timestamps else ""

    def reply(self, i: int, r: int, src: bytes, ttl: int, nbytes: int, rtt_us: int,
              ts_us: int, first: bool, late: bool) -> None:
        f = self.f
        if first and self._alive_lines:
            same = int.from_bytes(src, "big") == self._addr(i)
            label = socket.inet_ntoa(src) if same and self._numeric else self._label(i)
            if f.elapsed:
                self.out(f"{label}{self._alive_word} ({sprint_tm(rtt_us)} ms)")
            elif same:
                self.out(label + self._alive_end)  # the common line, in one piece
                return
            else:
                self.out(label + self._alive_word)
            if not same:
                self.err(f" [<- {socket.inet_ntoa(src)}]")
            self.out("\n")
        if f.per_recv and not self.default_mode:
            s = self.strategy
            assert s is not None
            sent, got = s.xmt[i], s.rcv[i]
            avg = s.tsum[i] // got if got else 0
            self.out(f"{self._stamp(ts_us)}{self._label(i):<{self.width}} : [{r}], {nbytes} "
                     f"bytes, {sprint_tm(rtt_us)} ms ({sprint_tm(avg)} avg, "
                     f"{loss_text(sent, got)})")
            self._other(i, src)
            self.out("\n")

    def duplicate(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
                  ts_us: int) -> None:
        if self.f.per_recv:
            return
        index = 0 if self.default_mode else r  # fping's index is always 0 without -c
        self.err(f"{self._label(i)} : duplicate for [{index}], {nbytes} bytes, "
                 f"{sprint_tm(rtt_us)} ms")
        self._other(i, src)
        self.err("\n")

    def late(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
             ts_us: int) -> None:
        pass  # fping drops them silently; counted (-s, JSON)

    def corrupt(self, i: int, r: int, src: bytes, ts_us: int) -> None:
        pass  # counted (-s, JSON)

    def error(self, i: int, r: int, src: bytes, icmp_type: int, code: int, ts_us: int,
              local: bool, mtu: int | None) -> None:
        if not self.f.quiet:
            self.err(error_line(icmp_type, code, src, self._label(i)) + "\n")

    def timeout(self, i: int, r: int, ts_us: int) -> None:
        if not self.f.per_recv or self.default_mode:
            return
        s = self.strategy
        assert s is not None
        sent, got = s.xmt[i], s.rcv[i]
        avg = f"{sprint_tm(s.tsum[i] // got)} avg" if got else "NaN avg"
        self.out(f"{self._stamp(ts_us)}{self._label(i):<{self.width}} : [{r}], timed out "
                 f"({avg}, {loss_text(sent, got)})\n")

    def unsent(self, i: int, r: int, why: str) -> None:
        if self.f.verbose:
            self.err(f"{self._label(i)}: error while sending ping: {why}\n")

    def status(self, s: SweepStrategy) -> None:
        """SIGQUIT: the per-target summary so far (cumulative, not fping's interval)."""
        if self.opts.counting:
            self.err(f"[{time.strftime('%H:%M:%S')}]\n")
            self._per_target(s, blank=False)

    # --- the end ---
    def finish(self, s: SweepStrategy, elapsed_s: float) -> None:
        f = self.f
        if self.default_mode and (f.verbose or f.unreach):
            verdict = s.verdict
            for i in range(s.n):
                if verdict[i] != ALIVE:
                    self.out(self._label(i) + (" is unreachable\n" if f.verbose else "\n"))
        if self.opts.counting:
            self._per_target(s, blank=f.verbose or f.per_recv)
        if f.stats:
            self._global(s, elapsed_s)
        if f.stats or f.extra:
            self._extra(s)
        if f.reachable:
            reachable = s.alive_count
            word = "Enough" if reachable >= f.reachable else "Not enough"
            self.out(f"{word} hosts reachable (required: {f.reachable}, reachable: "
                     f"{reachable})\n")

    def _per_target(self, s: SweepStrategy, blank: bool) -> None:
        if blank:
            self.err("\n")
        w = self.width
        count = self.opts.count or 0
        rtts = s.rtts
        parts: list[str] = []
        for i in range(s.n):
            sent, got = s.xmt[i], s.rcv[i]
            line = f"{self._label(i):<{w}} :"
            if rtts is not None:
                for j in range(min(sent, count)):
                    v = rtts[i * count + j]
                    line += f" {sprint_tm(v)}" if v >= 0 else " -"
            else:
                line += f" xmt/rcv/%loss = {sent}/{got}/" + (
                    f"{((sent - got) * 100) // sent if sent else 0}%")
                if got:
                    line += (f", min/avg/max = {sprint_tm(s.tmin[i])}/"
                             f"{sprint_tm(s.tsum[i] // got)}/{sprint_tm(s.tmax[i])}")
            parts.append(line + "\n")
            if len(parts) >= 4096:
                self.err("".join(parts))
                parts.clear()
        if parts:
            self.err("".join(parts))

    def _global(self, s: SweepStrategy, elapsed_s: float) -> None:
        st = s.stats
        counted = s.n
        c = s.counts()
        lines = [
            "",
            f" {counted:7d} targets",
            f" {c['alive']:7d} alive",
            f" {c['unreachable']:7d} unreachable",
            f" {len(self.targets.unknown):7d} unknown addresses",
            "",
            f" {st.timeouts:7d} timeouts (waiting for response)",
            f" {st.sent + st.unsent:7d} ICMP Echos sent",
            f" {st.replies:7d} ICMP Echo Replies received",
            f" {st.errors:7d} other ICMP received",
            "",
        ]
        if st.received:
            tmin, tavg, tmax = st.rtt_min_us or 0, st.rtt_sum_us // st.received, st.rtt_max_us
        else:
            tmin = tavg = tmax = 0
        lines += [
            f" {sprint_tm(tmin)} ms (min round trip time)",
            f" {sprint_tm(tavg)} ms (avg round trip time)",
            f" {sprint_tm(tmax)} ms (max round trip time)",
            f" {elapsed_s:12.3f} sec (elapsed real time)",
            "",
        ]
        self.err("\n".join(lines) + "\n")

    def _extra(self, s: SweepStrategy) -> None:
        """pcapping's additions: no answer vs an error back, duplicates, late, rate limits."""
        st = s.stats
        c = s.counts()
        lines = [f" {c['error']:7d} unreachable with an ICMP error back"]
        for (src, icmp_type, code, _local), n in s.error_breakdown():
            lines.append(f" {n:7d}   {error_text(icmp_type, code)} from "
                         f"{socket.inet_ntoa(src)}")
        lines.append(f" {c['no_answer']:7d} unreachable with no answer at all")
        if c["excluded"]:
            lines.append(f" {c['excluded']:7d} not probed (broadcast or multicast)")
        lines += [
            f" {st.duplicates:7d} duplicate replies",
            f" {st.late:7d} late replies (after the timeout)",
            f" {st.corrupted:7d} corrupted answers (bad checksum)",
        ]
        for rl in s.rate_limited():
            lines.append(" " + rate_limit_text(rl))
        rate = st.send_rate(s.rounds)
        if rate is not None:
            n, span = rate
            lines.append(f" {n / span:12.0f} probes/s while the first round was sent "
                         f"({n} probes in {span:.3f} s; --rate {s.opts.rate:g})")
        self.err("\n".join(lines) + "\n\n")

    def flush(self) -> None:
        pass


def prefixes_text(prefixes: list[int]) -> str:
    shown = ", ".join(f"{dotted(p << 8)}/24" for p in prefixes[:3])
    if len(prefixes) > 3:
        shown += f" and {len(prefixes) - 3} more /24s"
    return shown


def pattern_text(rl: dict[str, Any]) -> str:
    rate = rl["rate_per_s"]
    if rate is None:
        return f"{rl['burst']} at once, then nothing"
    per = f"about {rate:.0f} per second" if rate >= 1.5 else (
        "about 1 per second" if rate >= 0.5 else f"about 1 every {1 / rate:.0f} s")
    if rl["burst"] > 1:
        return f"{rl['burst']} at once, then {per}"
    return per


def rate_limit_text(rl: dict[str, Any]) -> str:
    return (f"rate-limited: {socket.inet_ntoa(rl['router'])} sent {rl['errors']} "
            f"{error_text(rl['type'], rl['code'])} ({pattern_text(rl)}); {rl['silent']} "
            f"targets beside the ones it answered for, in {prefixes_text(rl['prefixes'])}, "
            "got no answer at all")


# --- JSON Lines ----------------------------------------------------------------------

def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000.0, 3)


class FpingJsonReport:
    """Per-probe events and per-target summaries as dicts, handed to ``emit``."""

    def __init__(self, targets: Any, opts: SweepOptions, emit: Any) -> None:
        self.targets = targets
        self.opts = opts
        self.emit = emit
        self.strategy: SweepStrategy | None = None

    def _who(self, i: int) -> dict[str, Any]:
        return {"target": self.targets.label(i), "address": dotted(self.targets.addr(i))}

    def _reply(self, i: int, r: int, src: bytes, ttl: int | None, nbytes: int | None,
               rtt_us: int | None, ts_us: int, duplicate: bool, late: bool,
               ok: bool) -> None:
        ev = {"event": "reply", **self._who(i), "probe": r, "from": socket.inet_ntoa(src),
              "bytes": nbytes, "ttl": ttl, "rtt_ms": _ms(rtt_us), "ts": round(ts_us / 1e6, 6),
              "duplicate": duplicate, "late": late, "checksum_ok": ok}
        self.emit(ev)

    def reply(self, i: int, r: int, src: bytes, ttl: int, nbytes: int, rtt_us: int,
              ts_us: int, first: bool, late: bool) -> None:
        self._reply(i, r, src, ttl, nbytes, rtt_us, ts_us, False, late, True)

    def duplicate(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
                  ts_us: int) -> None:
        self._reply(i, r, src, None, nbytes, rtt_us, ts_us, True, False, True)

    def late(self, i: int, r: int, src: bytes, nbytes: int, rtt_us: int,
             ts_us: int) -> None:
        self._reply(i, r, src, None, nbytes, rtt_us, ts_us, False, True, True)

    def corrupt(self, i: int, r: int, src: bytes, ts_us: int) -> None:
        self._reply(i, r, src, None, None, None, ts_us, False, False, False)

    def error(self, i: int, r: int, src: bytes, icmp_type: int, code: int, ts_us: int,
              local: bool, mtu: int | None) -> None:
        ev = {"event": "error", **self._who(i), "probe": r, "from": socket.inet_ntoa(src),
              "type": icmp_type, "code": code, "text": error_text(icmp_type, code),
              "local": local, "ts": round(ts_us / 1e6, 6)}
        if mtu is not None:
            ev["mtu"] = mtu
        self.emit(ev)

    def timeout(self, i: int, r: int, ts_us: int) -> None:
        s = self.strategy
        errored = bool(s is not None and s.errkind[i])
        self.emit({"event": "timeout", **self._who(i), "probe": r,
                   "ts": round(ts_us / 1e6, 6), "error": errored})

    def unsent(self, i: int, r: int, why: str) -> None:
        self.emit({"event": "unsent", **self._who(i), "probe": r, "reason": why})

    def status(self, s: SweepStrategy) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, s: SweepStrategy, elapsed_s: float, exit_status: int) -> None:
        for i in range(s.n):
            self.emit(target_summary(s, i, self.targets))
        self.emit(run_summary(s, elapsed_s, exit_status, len(self.targets.unknown)))


def _error_obj(s: SweepStrategy, i: int) -> dict[str, Any] | None:
    kind = s.error_of(i)
    if kind is None:
        return None
    src, icmp_type, code, local = kind
    return {"from": socket.inet_ntoa(src), "type": icmp_type, "code": code,
            "text": error_text(icmp_type, code), "local": local}


def verdict_of(s: SweepStrategy, i: int) -> str:
    v = s.verdict[i]
    if v == ALIVE:
        return "alive"
    if v == EXCLUDED:
        return "not probed"
    return "error" if s.errkind[i] else "no answer"


def target_summary(s: SweepStrategy, i: int, targets: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"event": "target", "target": targets.label(i),
                           "address": dotted(targets.addr(i)),
                           "alive": s.verdict[i] == ALIVE, "verdict": verdict_of(s, i)}
    if s.counting:
        sent, got = s.xmt[i], s.rcv[i]
        out.update({
            "transmitted": sent, "received": got, "duplicates": s.dup[i], "late": s.nlate[i],
            "errors": s.nerr[i],
            "loss_pct": round((sent - got) * 100 / sent, 3) if sent else None,
            "rtt_min_ms": _ms(s.tmin[i]) if got else None,
            "rtt_avg_ms": _ms(s.tsum[i] / got) if got else None,
            "rtt_max_ms": _ms(s.tmax[i]) if got else None,
        })
        if s.rtts is not None:
            count = s.opts.count or 0
            out["rtts_ms"] = [_ms(v) if v >= 0 else None
                              for v in s.rtts[i * count:i * count + min(sent, count)]]
    else:
        out["transmitted"] = s.probes[i] if s.probes is not None else None
    out["error"] = _error_obj(s, i)
    return out


def run_summary(s: SweepStrategy, elapsed_s: float, exit_status: int,
                unknown: int) -> dict[str, Any]:
    st = s.stats
    c = s.counts()
    first = st.send_rate(s.rounds)
    return {
        "event": "summary", "targets": c["targets"], "alive": c["alive"],
        "unreachable": c["unreachable"], "unreachable_error": c["error"],
        "unreachable_no_answer": c["no_answer"], "not_probed": c["excluded"],
        "unknown": unknown,
        "errors_by_kind": [
            {"from": socket.inet_ntoa(src), "type": t, "code": code,
             "text": error_text(t, code), "local": local, "targets": n}
            for (src, t, code, local), n in s.error_breakdown()],
        "sent": st.sent, "replies": st.replies, "received": st.received,
        "duplicates": st.duplicates, "late": st.late, "corrupted": st.corrupted,
        "errors": st.errors, "timeouts": st.timeouts, "send_drops": st.send_drops,
        "rtt_min_ms": _ms(st.rtt_min_us) if st.received else None,
        "rtt_avg_ms": _ms(st.rtt_sum_us / st.received) if st.received else None,
        "rtt_max_ms": _ms(st.rtt_max_us) if st.received else None,
        "elapsed_s": round(elapsed_s, 6),
        "first_round": None if first is None else {
            "probes": first[0], "seconds": round(first[1], 6),
            "rate_pps": round(first[0] / first[1], 1)},
        "rate_limited": [
            {"router": socket.inet_ntoa(rl["router"]), "type": rl["type"], "code": rl["code"],
             "errors": rl["errors"],
             "burst": rl["burst"], "rate_per_s": None if rl["rate_per_s"] is None
             else round(rl["rate_per_s"], 3), "silent_targets": rl["silent"],
             "prefixes": [f"{dotted(p << 8)}/24" for p in rl["prefixes"]],
             "text": rate_limit_text(rl)}
            for rl in s.rate_limited()],
        "exit_status": exit_status,
    }
