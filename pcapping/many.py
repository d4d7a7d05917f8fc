"""``pcapping send A B C ...``, ``send -g NET/LEN``, ``send -F FILE``: many targets, fping-style.

``send`` becomes this command when it is given more than one target, or ``-g``/``-F``, or
any option only fping has (``-C``, ``-u``, ``-e``, ``-r``, ``-B``, ``-x``, ``--stats`` or a
bare ``-s``, ``--loop`` or a bare ``-l``, ``--rate``, ``--min-gap``); one target and ping's
options keep iputils ping exactly as before (``send.py``).

Letters.  Every letter ping has keeps its ping meaning here, so ``send``'s options never
change with the number of targets; fping's letters are used where ping has none:

=================  ==============================  =======================================
fping              pcapping send (many targets)    note
=================  ==============================  =======================================
-g                 -g                              NET/LEN or START END
-f FILE            -F FILE, --file FILE            -f is ping's flood
-c N, -C N         -c N, -C N
-s                 -s (no number), --stats         -s SIZE stays ping's payload size
-l                 -l (no number), --loop          -l PRELOAD stays ping's
-a, -u, -e, -q     -a, -u, -e, -q                  (-a is ping's bell with one target)
-D                 -D                              [seconds.5 digits] on per-probe lines
-r N, -B F, -x N   -r N, -B F, -x N
-i MSEC            --rate PPS                      fping's -i is a gap between any probes
-p MSEC            -i SECONDS                      ping's -i: between probes to one target
-t MSEC            -W SECONDS                      ping's -W: the wait for an answer
-H TTL             -t TTL
-b BYTES           -s BYTES                        at least 20 (the probe's own fields)
-O TOS             -Q TOS
-M                 -M do (default) / -M dont       DF is set by default, as Linux does
-I IFACE, -S ADDR  -I IFACE|ADDRESS
-A                 -A                              names given are shown as addresses
(none)             --min-gap SECONDS               never two probes to one target closer
=================  ==============================  =======================================

Routes: the targets must leave through one interface from one source address (the sweep
is one engine on one link); a set that does not is refused with a message naming two
targets and their interfaces.  Next hops are resolved once per on-link neighbour (a routed
sweep resolves only its gateway).  Broadcast and multicast targets are not probed without
``-b`` (fping's ``error while sending ping: Permission denied``).

Exit status as fping: 0 every target alive, 1 some not, 2 a name did not resolve; with
``-x N``, 0 when at least N answered, else 1.  Bad usage is one line on stderr and 2, as
everywhere in pcapping (fping says 3).
"""

from __future__ import annotations

import sys
import time
from typing import Any, NamedTuple

from pcapping.errors import PcappingError
from pcapping.probe.sweep import PAYLOAD_MIN, WIRE_TIMING_MAX_RATE, SweepOptions

MAX_PROBES_PER_TARGET = 65535  # the sequence space of one target
MAX_RTTS_KEPT = 50_000_000  # -C keeps one 4-byte RTT per probe: 200 MB at most
SWEEP_BUFFER_BYTES = 16 << 20


class SweepResult(NamedTuple):
    """What ``pcapping.sweep()`` returns: the JSON events (per probe, per target, summary),
    the run summary (the last event) and the exit status."""

    events: list[dict[str, Any]]
    summary: dict[str, Any]
    exit_status: int


def wants_sweep(args: Any) -> bool:
    """Whether ``send``'s arguments ask for many targets (see the module docstring)."""
    if len(args.host or []) > 1:
        return True
    for dest in ("generate", "file", "vcount", "stats", "loop", "unreach", "elapsed", "retry",
                 "backoff", "reachable", "rate", "min_gap"):
        value = getattr(args, dest, None)
        if value is not None and value is not False:  # (-r 0 is given: 0 is not False)
            return True
    return False


def _refuse_ping_only(args: Any) -> None:
    if getattr(args, "family", None) == 6:
        raise PcappingError("-6: many targets are IPv4 only (one IPv6 target pings as usual)")
    if getattr(args, "probe_if", None) is not None:
        raise PcappingError("--probe-if needs a single target")
    if getattr(args, "flood", False):
        raise PcappingError("-f (flood) needs a single target")
    if getattr(args, "outstanding", False):
        raise PcappingError("-O (report outstanding) needs a single target")
    if getattr(args, "preload", None) is not None:
        raise PcappingError("-l PRELOAD needs a single target (-l alone, or --loop, loops)")


def options_from(args: Any) -> tuple[SweepOptions, dict[str, Any]]:
    """SweepOptions and the output flags from ``send``'s parsed arguments, validated."""
    from pcapping.send import parse_pattern, parse_tos

    _refuse_ping_only(args)
    values: dict[str, Any] = {}
    count = args.vcount if args.vcount is not None else args.count
    if args.vcount is not None and args.count is not None:
        raise PcappingError("give -c or -C, not both")
    if count is not None and not 1 <= count <= MAX_PROBES_PER_TARGET:
        raise PcappingError(f"invalid argument: '{count}': out of range: 1 <= value <= "
                            f"{MAX_PROBES_PER_TARGET}")
    if count is not None and args.loop:
        raise PcappingError("specify only one of c, l")
    if args.audible and args.unreach:
        raise PcappingError("specify only one of a, u")
    values["count"] = count
    values["loop"] = bool(args.loop)
    values["report_all"] = args.vcount is not None
    if args.retry is not None:
        if not 0 <= args.retry <= 254:
            raise PcappingError(f"invalid argument: '{args.retry}': out of range: 0 <= value "
                                "<= 254")
        values["retries"] = args.retry
    if args.backoff is not None:
        if not 1.0 <= args.backoff <= 5.0:
            raise PcappingError(f"backoff factor {args.backoff:.1f} not valid, must be between "
                                "1.0 and 5.0")
        values["backoff"] = args.backoff
    if args.timeout_s is not None:
        if not args.timeout_s > 0 or args.timeout_s > 2**31 // 1000:
            raise PcappingError(f"bad linger time: {args.timeout_s:g}")
        values["timeout_s"] = args.timeout_s
    if args.interval_s is not None:
        if not args.interval_s >= 0 or args.interval_s > 2**31 // 1000:
            raise PcappingError(f"bad timing interval: {args.interval_s:g}")
        values["period_s"] = args.interval_s
    if args.rate is not None:
        if not 0 < args.rate <= 10_000_000:
            raise PcappingError(f"bad rate: {args.rate:g} (probes per second, > 0)")
        values["rate"] = args.rate
    if args.min_gap is not None:
        if not args.min_gap >= 0:
            raise PcappingError(f"bad minimum gap: {args.min_gap:g}")
        values["min_gap_s"] = args.min_gap
    if args.size is not None:
        if not PAYLOAD_MIN <= args.size <= 65535 - 28:
            raise PcappingError(f"invalid argument: '{args.size}': with several targets the "
                                f"payload is {PAYLOAD_MIN} to {65535 - 28} bytes")
        values["size"] = args.size
    if args.ttl is not None:
        if not 1 <= args.ttl <= 255:
            raise PcappingError(f"ttl {args.ttl} out of range")
        values["ttl"] = args.ttl
    if args.tos is not None:
        values["tos"] = parse_tos(args.tos)
    if args.pmtudisc is not None:
        if args.pmtudisc not in ("do", "dont", "want", "probe"):
            raise PcappingError(f"invalid -M argument: {args.pmtudisc}")
        values["df"] = args.pmtudisc != "dont"
    if args.deadline_s is not None:
        if not 0 <= args.deadline_s <= 2**31 - 1:
            raise PcappingError(f"invalid argument: '{args.deadline_s}': out of range: 0 <= "
                                f"value <= {2**31 - 1}")
        values["deadline_s"] = args.deadline_s or None
    if args.pattern is not None:
        values["pattern"] = parse_pattern(args.pattern)
    values["broadcast"] = bool(args.broadcast)
    if args.reachable is not None and args.reachable < 1:
        raise PcappingError(f"invalid argument: '{args.reachable}': -x needs 1 or more")
    flags = {"quiet": bool(args.quiet), "alive": bool(args.audible),
             "unreach": bool(args.unreach), "elapsed": bool(args.elapsed),
             "timestamps": bool(args.timestamps), "stats": bool(args.stats),
             "reachable": args.reachable or 0, "verbose": bool(args.verbose)}
    return SweepOptions(**values), flags


def build_targets(hosts: list[str], generate: bool, file: str | None,
                  warn: Any, quiet: bool, by_address: bool) -> Any:
    """The target set: ``-g`` ranges, ``-F`` files or the names given (fping's rules:
    ``-F`` and targets on the command line exclude each other; nothing at all: stdin)."""
    from pcapping.probe import targets as t

    if file is not None and (hosts or generate):
        raise PcappingError("-F reads the targets from a file: give no others (and no -g)")
    if generate:
        found: Any = t.generate(hosts)
    else:
        names = hosts if hosts or file is not None else None
        if file is not None:
            names = t.read_target_file(file)
        elif names is None:
            names = t.read_target_file("-")
        found = t.resolve_names(names, None if quiet else warn)
    return t.ByAddress(found) if by_address else found


def plan_routes(targets: Any, device: str | None, source: bytes | None) -> tuple[Any, Any]:
    """The route plan for the targets and the hop they share (see ``probe/targets.py``)."""
    from pcapping.io import netinfo
    from pcapping.probe.targets import RoutePlan

    def lookup(addr: bytes) -> Any:
        return netinfo.route_get(addr, device, source)

    prefixes = netinfo.route_prefixes() if netinfo.rules_are_default() else None
    plan = RoutePlan(lookup, prefixes)
    hop = plan.check(targets)
    return plan, hop


def snaplen_for(size: int) -> int:
    """Enough for a whole echo reply (its checksum is verified) and an error's quote."""
    return max(256, 14 + 60 + 8 + size + 64)


class _Run:
    """Everything one sweep opens: targets, routes, the engine session and the strategy."""

    def __init__(self, targets: Any, opts: SweepOptions, report: Any, *,
                 interface: str | None, write: str | None, user: str | None,
                 key: bytes | None = None) -> None:
        from pcapping.probe.session import EngineSession, source_or_device
        from pcapping.probe.sweep import SweepStrategy

        self.targets = targets
        device, source = source_or_device(interface)
        self.plan, hop = plan_routes(targets, device, source)
        first = targets.addr(0).to_bytes(4, "big")
        wire_timing = opts.rate <= WIRE_TIMING_MAX_RATE
        self.session = session = EngineSession(
            first, device=device or hop.interface, source=source, write=write, user=user,
            inbound=write is None and not wire_timing, snaplen=snaplen_for(opts.size),
            buffer_bytes=SWEEP_BUFFER_BYTES)
        self.lane: list[Any] = []
        try:
            self.engine = session.engine
            if self.plan.local:
                self._loopback_lane(session)
            self.strategy = SweepStrategy(targets, self.plan, opts, report, engine=self.engine,
                                          src=session.source, key=key,
                                          clock_start=self.engine.clock(),
                                          time_departures=wire_timing)
            self.strategy.record_own = write is not None or wire_timing
            if self.lane:
                self.strategy.local_injector = self.lane[1]
            report.strategy = self.strategy
        except BaseException:
            self.close()
            raise

    def _loopback_lane(self, session: Any) -> None:
        """This host's own addresses among the targets: the kernel answers them over
        loopback, so their probes go out through it (``RawIPInjector``) and a second
        capture handle on ``lo`` is read with the link's (``MultiCapture``)."""
        from pcapping.io.capture import LiveCapture, MultiCapture
        from pcapping.io.inject import RawIPInjector

        if session.engine.link.l3_offset != 14:
            raise PcappingError(
                f"this host's own addresses cannot be swept together with {session.interface}"
                " targets: sweep them on their own")
        lo = LiveCapture("lo", bpf=f"icmp and dst host {session.src_txt}",  # probes too
                         snaplen=session.capture_snaplen, timeout_ms=1, buffer_bytes=1 << 20,
                         immediate=True)
        self.lane = [lo, RawIPInjector(14)]
        session.engine.capture = MultiCapture([session.capture, lo])

    def close(self) -> None:
        if self.lane:
            self.lane[1].close()
            self.session.engine.capture._epoll.close()
            self.lane[0].close()
        self.session.close()


def exit_status(strategy: Any, unknown: int, reachable: int) -> int:
    """fping's: -x decides alone; else 2 for unknown names, 1 unless every target answered."""
    if reachable:
        return 0 if strategy.alive_count >= reachable else 1
    if unknown:
        return 2
    return 0 if strategy.alive_count == strategy.n else 1


def start_event(run: _Run, opts: SweepOptions) -> dict[str, Any]:
    from pcapping.wire.ipv4 import ip_str

    s = run.session
    return {"event": "start", "targets": len(run.targets), "interface": s.interface,
            "source": s.src_txt, "mode": "loop" if opts.loop else (
                "count" if opts.count is not None else "default"),
            "count": opts.count, "retries": None if opts.counting else opts.retries,
            "rate_pps": opts.rate, "timeout_ms": round(opts.timeout * 1000, 3),
            "period_ms": round(opts.period_s * 1000, 3) if opts.counting else None,
            "min_gap_ms": round(opts.min_gap_s * 1000, 3), "size": opts.size,
            "ttl": opts.ttl, "next_hop": ip_str(s.route.next_hop)}


def execute(targets: Any, opts: SweepOptions, flags: dict[str, Any], *, out: Any, err: Any,
            json_emit: Any = None, interface: str | None = None, write: str | None = None,
            user: str | None = None, stop: Any = None, flush: Any = None,
            key: bytes | None = None, started_at: float | None = None) -> tuple[Any, int]:
    """Run one sweep and print (or emit) its results; returns (strategy, exit status)."""
    from pcapping.report.fping import Flags, FpingJsonReport, FpingTextReport

    started_at = time.monotonic() if started_at is None else started_at
    unknown = len(targets.unknown)
    if not len(targets):
        return None, 2 if unknown else 1
    if opts.report_all and opts.count and len(targets) * opts.count > MAX_RTTS_KEPT:
        raise PcappingError(f"-C {opts.count} for {len(targets)} targets would keep "
                            f"{len(targets) * opts.count} RTTs: use -c (per-target summaries)"
                            " or fewer targets")
    report: Any
    if json_emit is not None:
        report = FpingJsonReport(targets, opts, json_emit)
    else:
        report = FpingTextReport(targets, opts, Flags(opts, **flags), out, err)
    if flush is not None:
        report.flush = flush
    run = _Run(targets, opts, report, interface=interface, write=write, user=user, key=key)
    try:
        if stop is not None:
            run.engine.stop = stop
        if json_emit is not None:
            json_emit(start_event(run, opts))
        run.engine.run(run.strategy)
        strategy = run.strategy
        strategy.stats.send_drops = run.engine.send_drops
        elapsed = time.monotonic() - started_at
        status = exit_status(strategy, unknown, flags.get("reachable", 0))
        if json_emit is not None:
            report.finish(strategy, elapsed, status)
        else:
            report.finish(strategy, elapsed)
        if flush is not None:
            flush()
        return strategy, status
    finally:
        run.close()


def run(args: Any) -> int:
    """``pcapping send`` with many targets (cli.py turns PcappingError into exit status 2)."""
    from pcapping.probe.engine import signal_stop
    from pcapping.send import _Output

    started_at = time.monotonic()
    opts, flags = options_from(args)
    out = _Output(sys.stdout)
    err = _Output(sys.stderr)

    def warn(text: str) -> None:
        err.write(text)

    targets = build_targets(args.host or [], args.generate, args.file, warn, flags["quiet"],
                            bool(args.adaptive))
    json_emit = None
    if args.json:
        import json

        dumps = json.dumps

        def json_emit(obj: dict[str, Any]) -> None:
            out.write(dumps(obj, separators=(",", ":")) + "\n")

    def flush() -> None:
        out.flush()
        err.flush()

    try:
        with signal_stop() as stop:
            _strategy, status = execute(targets, opts, flags, out=out.write, err=err.write,
                                        json_emit=json_emit, interface=args.interface,
                                        write=args.write, user=args.user, stop=stop,
                                        flush=flush, started_at=started_at)
        return status
    finally:
        flush()


def sweep(targets: list[str] | None = None, *, generate: str | tuple[str, str] | None = None,
          file: str | None = None, interface: str | None = None, write: str | None = None,
          **options: Any) -> SweepResult:
    """Library API: probe many targets as ``send A B ...`` does; returns the JSON events.

    ``targets`` are names or addresses, or ``generate`` a ``"NET/LEN"`` or ``(START, END)``,
    or ``file`` a file of targets; ``options`` are the fields of ``SweepOptions``
    (``count``, ``rate``, ``timeout_s``, ``period_s``, ``retries``, ...).  Raises
    ``PcappingError`` for what the command reports with exit status 2.
    """
    from pcapping.probe import targets as t

    unknown = set(options) - set(SweepOptions._fields)
    if unknown:
        raise TypeError(f"sweep() got unexpected options: {', '.join(sorted(unknown))}")
    opts = SweepOptions(**options)
    if opts.size < PAYLOAD_MIN:
        raise PcappingError(f"size must be at least {PAYLOAD_MIN} with several targets")
    if generate is not None:
        found: Any = t.generate([generate] if isinstance(generate, str) else list(generate))
    elif file is not None:
        found = t.resolve_names(t.read_target_file(file))
    else:
        found = t.resolve_names(list(targets or []))
    from pcapping.io.privileges import KEEP_PRIVILEGES

    events: list[dict[str, Any]] = []
    _s, status = execute(found, opts, {}, out=None, err=None, json_emit=events.append,
                         interface=interface, write=write, user=KEEP_PRIVILEGES)
    summary = events[-1] if events and events[-1].get("event") == "summary" else {}
    return SweepResult(events, summary, status)
