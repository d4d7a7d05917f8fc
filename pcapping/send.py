"""``pcapping send HOST`` and ``pcapping.ping()``: iputils ping, from the wire up.

This module is the command's shell: options (defined once, in ``PingOptions`` and the
table below), the route and the link, the handles, signals and privileges.  The work is
done by the probe engine (``probe/engine.py``) running the ping strategy
(``probe/ping.py``), which tells a report (``report/ping.py``) what happened.

The capture handle is opened in libpcap's immediate mode (``io/capture.py``) with a
filter for our own traffic; frames leave through an ``AF_PACKET`` socket that receives
nothing (``io/inject.py``); the capture handle sees each request leave, so an RTT is the
difference of two capture timestamps.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

from pcapping.errors import PcappingError
from pcapping.probe.ping import PMTUDISC, PingOptions

MAX_SIZE = 65535 - 20 - 8


class PingResult(NamedTuple):
    """What ``pcapping.ping()`` returns: the JSON events (DESIGN), stats and exit status."""

    events: list[dict[str, Any]]
    stats: Any
    exit_status: int


# --- options: (flags, PingOptions field or extra dest, argparse keywords, help) ---------

def _default(field: str) -> Any:
    return PingOptions._field_defaults[field]


_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any], str]] = [
    (("-c",), "count", {"type": int, "metavar": "COUNT"},
     "stop after COUNT requests (default: until interrupted)"),
    (("-i",), "interval_s", {"type": float, "metavar": "SECONDS"},
     f"interval between requests (default: {_default('interval_s'):g}; 0 with -f)"),
    (("-W",), "timeout_s", {"type": float, "metavar": "SECONDS"},
     f"time to wait for a reply after the last request (default: {_default('timeout_s'):g};"
     " 0: no limit); also the per-request timeout of --json"),
    (("-w",), "deadline_s", {"type": int, "metavar": "SECONDS"},
     "stop after SECONDS whatever happened (default: none; 0: none)"),
    (("-t",), "ttl", {"type": int, "metavar": "TTL"},
     f"IP time to live (default: {_default('ttl')})"),
    (("-s",), "size", {"type": int, "metavar": "SIZE"},
     f"ICMP payload bytes (default: {_default('size')}; larger than the path MTU is "
     "fragmented, as -M allows)"),
    (("-M",), "pmtudisc", {"metavar": "|".join(PMTUDISC)},
     "path MTU discovery: do (DF, refuse above the path MTU), want (DF, fragment above it;"
     " the default), dont (no DF), probe (DF, ignore the learnt path MTU)"),
    (("-I",), "interface", {"metavar": "IFACE|ADDRESS"},
     "send from this interface, or from this source address (default: the route's)"),
    (("-p",), "pattern", {"metavar": "HEX"}, "up to 16 bytes of hex to fill the payload"),
    (("-Q",), "tos", {"metavar": "TOS"}, "IP TOS byte, decimal or 0x hex (default: 0)"),
    (("-l",), "preload", {"type": int, "metavar": "PRELOAD"},
     f"send PRELOAD requests without waiting (default: {_default('preload')})"),
    (("-f",), "flood", {"action": "store_true"},
     "flood: as fast as replies come back (at least 100/s); dots for requests"),
    (("-A",), "adaptive", {"action": "store_true"}, "adaptive interval (follows the RTT)"),
    (("-O",), "outstanding", {"action": "store_true"},
     "report a request still unanswered when the next one goes"),
    (("-b",), "broadcast", {"action": "store_true"}, "allow pinging a broadcast address"),
    (("-a",), "audible", {"action": "store_true"}, "ring the bell on each reply"),
    (("-q",), "quiet", {"action": "store_true"}, "only the summary"),
    (("-D",), "timestamps", {"action": "store_true"}, "print a timestamp before each line"),
    (("-v",), "verbose", {"action": "store_true"},
     "verbose: ident in replies, quoted checksums in errors"),
]


# Many targets (fping's options where their letters are free here; see pcapping/many.py).
_SWEEP_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any], str]] = [
    (("-g", "--generate"), "generate", {"action": "store_true"},
     "many targets: generate them from NET/LEN or START END (fping -g)"),
    (("-F", "--file"), "file", {"metavar": "FILE"},
     "many targets: read them from FILE, one per line, - for stdin (fping -f)"),
    (("-C", "--vcount"), "vcount", {"type": int, "metavar": "N"},
     "many targets: as -c N, and print every RTT per target at the end (fping -C)"),
    (("--stats",), "stats", {"action": "store_true"},
     "many targets: print fping's overall statistics at the end (also -s without a number)"),
    (("--loop",), "loop", {"action": "store_true"},
     "many targets: probe until interrupted (also -l without a number; fping -l)"),
    (("-u", "--unreach"), "unreach", {"action": "store_true"},
     "many targets: list only the unreachable ones (fping -u; -a lists the alive ones)"),
    (("-e", "--elapsed"), "elapsed", {"action": "store_true"},
     "many targets: show the RTT on the alive lines (fping -e)"),
    (("-r", "--retry"), "retry", {"type": int, "metavar": "N"},
     "many targets: retries per unanswered target without -c (default 3; fping -r)"),
    (("-B", "--backoff"), "backoff", {"type": float, "metavar": "F"},
     "many targets: timeout factor per retry (default 1.5; fping -B)"),
    (("-x", "--reachable"), "reachable", {"type": int, "metavar": "N"},
     "many targets: exit 0 when at least N targets answer, else 1 (fping -x)"),
    (("--rate",), "rate", {"type": float, "metavar": "PPS"},
     "many targets: probes per second, all targets together (token bucket; default 100,"
     " fping's 10 ms)"),
    (("--min-gap",), "min_gap", {"type": float, "metavar": "SECONDS"},
     "many targets: never two probes to one target closer than this (default 0)"),
]
SWEEP_DESTS = tuple(dest for _f, dest, _k, _t in _SWEEP_OPTIONS)

MANY_TARGETS_HELP = """\
many targets (several HOSTs, -g or -F; fping 5.1's output and exit status):
  ping's letters keep their meaning; with many targets they are fping's options thus:
    -c N       probes per target (fping -c)   -i SECONDS between probes to one target (fping -p)
    -W SECONDS wait for each answer (fping -t; default 0.5, or -i up to 2 with -c/-l)
    -s SIZE    payload bytes, at least 20 (fping -b); -s alone: statistics (fping -s)
    -l alone   loop until interrupted (fping -l); -a alive only, -A show addresses,
    -t TTL (fping -H), -Q TOS (fping -O), -M dont clears DF (set by default), -q, -D, -I
  fping's -f FILE is -F FILE here (-f is ping's flood); its -i (a gap between any two
  probes) is --rate PPS here.  Exit status: 0 every target alive, 1 some not, 2 a name
  did not resolve (-x N: 0 when N answered)."""


def add_arguments(p: Any) -> None:
    """``pcapping send``'s options: iputils ping's letters, defaults from PingOptions, and
    fping's for many targets (``pcapping/many.py``)."""
    import argparse

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = MANY_TARGETS_HELP
    p.add_argument("host", nargs="*", metavar="HOST",
                   help="name or IPv4 address; several (or -g, -F) probe many targets at once,"
                   " fping-style (see below)")
    for flags, dest, kw, text in _OPTIONS + _SWEEP_OPTIONS:
        if kw.get("action") == "store_true":
            p.add_argument(*flags, dest=dest, help=text, **kw)
        else:  # None: not given (PingOptions supplies the default)
            p.add_argument(*flags, dest=dest, default=None, help=text, **kw)
    p.add_argument("-n", dest="numeric", action="store_true", help="numeric output (always)")
    family = p.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=4,
                        help="IPv4 only")
    family.add_argument("-6", dest="family", action="store_const", const=6,
                        help="IPv6 only (default: whichever HOST resolves to first)")
    p.add_argument("-V", "--version", dest="version", action="store_true",
                   help="print the version and exit")
    p.add_argument("-Z", dest="user", default=None, metavar="USER",
                   help="drop privileges to USER once the handles are open "
                   "(default: the user who ran sudo, if any)")
    p.add_argument("--probe-if", dest="probe_if", metavar="NAME|INDEX|ADDRESS", default=None,
                   help="RFC 8335 PROBE: ask HOST about one of its interfaces (by name, "
                   "ifIndex or address) instead of echo")
    p.add_argument("--json", action="store_true", help="JSON Lines events on stdout")
    p.add_argument("--write", metavar="FILE", default=None,
                   help="write every frame sent and matched to a pcap file")
    # -4/-6 look like negative numbers to argparse, which would then read `-s -1` as an
    # option; ping reads it as a value (and refuses it with its own words)
    p._has_negative_number_optionals.clear()


def _option_table() -> tuple[set[str], dict[str, bool]]:
    """(short letters that take a value, {long option: takes a value}), from the parser
    ``add_arguments`` builds: normalize_argv's permutation must know which tokens are
    values."""
    import argparse

    p = argparse.ArgumentParser(add_help=True)
    add_arguments(p)
    short: set[str] = set()
    long_opts: dict[str, bool] = {}
    for opt, action in p._option_string_actions.items():
        takes = action.nargs != 0
        if opt.startswith("--"):
            long_opts[opt] = takes
        elif takes:
            short.add(opt[1:])
    return short, long_opts


def _numeric(token: str | None) -> bool:
    import re

    return token is not None and re.fullmatch(r"[+-]?\d+(\.\d*)?", token) is not None


def _long_takes_value(token: str, long_opts: dict[str, bool]) -> bool:
    if "=" in token:
        return False
    if token in long_opts:
        return long_opts[token]
    matches = [o for o in long_opts if o.startswith(token)]  # argparse's abbreviations
    return len(matches) == 1 and long_opts[matches[0]]


def normalize_argv(argv: list[str]) -> list[str]:
    """``send``'s argv as argparse should see it (cli.py calls this before parsing).

    - fping's ``-s`` (statistics) and ``-l`` (loop) take no value, ping's ``-s SIZE`` and
      ``-l PRELOAD`` do: ``-s``/``-l`` followed by something that is not a number become
      ``--stats``/``--loop``;
    - targets may come before, between and after options (fping and getopt permute):
      they are moved after the options, in their order.
    """
    value_short, long_opts = _option_table()
    out: list[str] = []
    hosts: list[str] = []
    i = 0
    n = len(argv)
    while i < n:
        tok = argv[i]
        if tok == "--":
            hosts += argv[i + 1:]
            break
        if tok.startswith("--"):
            out.append(tok)
            if _long_takes_value(tok, long_opts) and i + 1 < n:
                out.append(argv[i + 1])
                i += 1
            i += 1
            continue
        if tok.startswith("-") and len(tok) > 1:
            body = tok[1:]
            pieces: list[str] = []
            k = 0
            consumed_next = False
            while k < len(body):
                ch = body[k]
                if ch in value_short:
                    rest = body[k + 1:]
                    if rest:
                        pieces.append("-" + ch + rest)
                    else:
                        nxt = argv[i + 1] if i + 1 < n else None
                        if ch in "sl" and not _numeric(nxt):
                            pieces.append("--stats" if ch == "s" else "--loop")
                        else:
                            pieces.append("-" + ch)
                            if nxt is not None:
                                pieces.append(nxt)
                                consumed_next = True
                    break
                pieces.append("-" + ch)
                k += 1
            out += pieces
            i += 2 if consumed_next else 1
            continue
        hosts.append(tok)
        i += 1
    return out + (["--"] + hosts if hosts else [])


def _range_error(value: object, low: int, high: int) -> PcappingError:
    return PcappingError(f"invalid argument: '{value}': out of range: {low} <= value <= {high}")


def parse_pattern(text: str) -> bytes:
    """iputils' -p: up to 16 bytes of hex digits, read two at a time."""
    bad = next((i for i, ch in enumerate(text) if ch not in "0123456789abcdefABCDEF"), None)
    if bad is not None or not text:
        raise PcappingError(f"patterns must be specified as hex digits: {text[bad or 0:]}")
    return bytes(int(text[i : i + 2], 16) for i in range(0, min(len(text), 32), 2))


def parse_tos(text: str) -> int:
    """iputils' -Q: decimal, or hex after 0x."""
    try:
        tos = int(text[2:], 16) if text[:2] in ("0x", "0X") else int(text, 10)
    except ValueError:
        raise PcappingError(f"bad TOS value: {text}") from None
    if not 0 <= tos <= 255:
        raise PcappingError(f"the decimal value of TOS bits must be in range 0-255: {tos}")
    return tos


def validate(opts: PingOptions) -> bytes | None:
    """Check every option as iputils does; returns the parsed -p pattern."""
    if opts.count is not None and opts.count < 1:
        raise _range_error(opts.count, 1, 2**63 - 1)
    if not opts.interval_s >= 0 or opts.interval_s > 2**31 // 1000:
        raise PcappingError(f"bad timing interval: {opts.interval_s:g}")
    if not opts.timeout_s >= 0 or opts.timeout_s > 2**31 // 1000:
        raise PcappingError(f"bad linger time: {opts.timeout_s:g}")
    if opts.deadline_s is not None and not 0 <= opts.deadline_s <= 2**31 - 1:
        raise _range_error(opts.deadline_s, 0, 2**31 - 1)
    if not 0 <= opts.ttl <= 255:
        raise _range_error(opts.ttl, 0, 255)
    if opts.size < 0:
        raise _range_error(opts.size, 0, 2**31 - 1)
    if opts.size > MAX_SIZE:
        raise PcappingError(f"packet size {opts.size} is too large. Maximum is {MAX_SIZE}")
    if not 1 <= opts.preload <= 65536:
        raise _range_error(opts.preload, 1, 65536)
    if opts.pmtudisc is not None and opts.pmtudisc not in PMTUDISC:
        raise PcappingError(f"invalid -M argument: {opts.pmtudisc}")
    if not 0 <= opts.tos <= 255:
        raise PcappingError(f"the decimal value of TOS bits must be in range 0-255: {opts.tos}")
    if opts.interval_ms and opts.preload > 1 and opts.interval_ms >= 2**31 // opts.preload:
        raise PcappingError(f"illegal preload and/or interval: {opts.interval_ms}")
    return parse_pattern(opts.pattern) if opts.pattern is not None else None


def resolve(host: str, family: int = 0) -> tuple[bytes, str, str | None]:
    """(address, name to print, interface of a ``%scope``) for HOST, as iputils resolves:
    a numeric address as it is, else getaddrinfo's first answer of the family asked (4,
    6, or 0 for either: the resolver's own order) and its canonical name."""
    import socket

    want = {4: socket.AF_INET, 6: socket.AF_INET6}.get(family, socket.AF_UNSPEC)
    text, _, scope = host.partition("%")
    for af in (socket.AF_INET, socket.AF_INET6):
        if want not in (socket.AF_UNSPEC, af):
            continue
        try:
            raw = socket.inet_pton(af, text) if not (
                af == socket.AF_INET and text.count(".") == 3) else socket.inet_aton(text)
        except OSError:
            continue
        if af == socket.AF_INET and scope:
            break
        return raw, host, scope or None
    from pcapping.io.names import first_address

    raw, canon, scope_if = first_address(host, want, canonical=True)
    return raw, canon or host, scope_if


class _Run:
    """Everything one ping opens: the engine session and the strategy (``close`` ends it)."""

    def __init__(self, host: str, opts: PingOptions, report_for: Any, write: str | None,
                 user: str | None, warn: Any, probe_if: str | None = None) -> None:
        from pcapping.io import netinfo
        from pcapping.probe.ping import (
            Ping6Strategy,
            PingStrategy,
            Probe6Strategy,
            ProbeStrategy,
            interface_query,
        )
        from pcapping.probe.session import EngineSession, source_or_device

        self.pattern = validate(opts)
        dst, self.name, scope = resolve(host, opts.family)
        self.dst = dst
        self.v6 = len(dst) == 16
        self.address = netinfo.addr_text(dst)
        self.device, source = source_or_device(opts.interface, 6 if self.v6 else 4)
        if self.device is None and source is None and scope:
            self.device = scope
        route = netinfo.route_get(dst, self.device, source)  # refuse before opening handles
        if route.broadcast or dst == b"\xff\xff\xff\xff":
            if not opts.broadcast:
                raise PcappingError(
                    "Do you want to ping broadcast? Then -b. If not, check your local "
                    "firewall rules")
            warn("WARNING: pinging broadcast address\n")
        self.session = session = EngineSession(
            dst, device=self.device, source=source, write=write, user=user,
            retrans_s=opts.timeout_s / 4 if opts.timeout_s else None)
        self.route = session.route
        self.interface = session.interface
        self.src_txt = session.src_txt
        self.multicast = session.multicast
        if opts.pmtudisc is None:
            opts = opts._replace(pmtudisc="do" if self.multicast else "want")
        self.opts = opts
        self.engine = session.engine
        try:
            self.strategy_ident = int.from_bytes(os.urandom(2), "big")
            self.report = report_for(self)
            kw: dict[str, Any] = dict(
                src=session.source, dst=dst, next_hop=self.route.next_hop,
                dst_mac=session.dst_mac(), engine=self.engine, pattern=self.pattern,
                ident=self.strategy_ident, clock_start=self.engine.clock())
            if probe_if is not None:
                strategy: Any = Probe6Strategy if self.v6 else ProbeStrategy
                self.strategy = strategy(opts, self.report, query=interface_query(probe_if),
                                         **kw)
            else:
                strategy = Ping6Strategy if self.v6 else PingStrategy
                self.strategy = strategy(opts, self.report, **kw)
        except BaseException:
            session.close()
            raise

    def start_event(self, host: str, mac: bytes | None) -> dict[str, Any]:
        from pcapping.io.netinfo import addr_text
        from pcapping.report.ping import json_start
        from pcapping.wire.ethernet import mac_str

        return json_start(host, self.address, self.interface, self.src_txt,
                          addr_text(self.route.next_hop), mac_str(mac) if mac else None,
                          self.strategy.ident, self.opts.size, self.opts.ttl)

    def next_hop_mac(self) -> bytes | None:
        if self.strategy.dst_mac is not None:
            return self.strategy.dst_mac
        return self.engine.macs.get(self.route.next_hop)

    def close(self) -> None:
        self.session.close()


def session(host: str, opts: PingOptions, *, json_emit: Any = None, write: Any = print,
            flush: Any = None, warn: Any = None, pcap: str | None = None, stop: Any = None,
            detach_release: bool = False, user: str | None = None,
            probe_if: str | None = None) -> tuple[Any, int]:
    """Run one ping, telling text (``write``) or JSON (``json_emit``); (stats, status).

    ``flush`` (if given) is called whenever the run is about to wait, and at the end.
    """
    from pcapping.report.ping import (
        JsonPingReport,
        TextPingReport,
        header_line,
        pattern_line,
        summary_lines,
    )

    warn = warn or (lambda text: sys.stderr.write(text))

    started: list[bool] = []

    def emit_json(obj: dict[str, Any]) -> None:
        # the start event waits for the first event: by then the next hop is resolved
        if not started:
            started.append(True)
            json_emit(run.start_event(host, run.next_hop_mac()))
        json_emit(obj)

    def report_for(run: _Run) -> Any:
        report: Any
        if json_emit is not None:
            report = JsonPingReport(emit_json, warn)
        else:
            o = run.opts
            report = TextPingReport(write, warn, size=o.size, dst=run.dst, quiet=o.quiet,
                                    flood=o.flood, timestamps=o.timestamps,
                                    verbose=o.verbose, audible=o.audible,
                                    multicast=run.multicast, ident=run.strategy_ident)
        if flush is not None:
            report.flush = flush
        return report

    run = _Run(host, opts, report_for, pcap, user, warn, probe_if)
    try:
        if stop is not None:
            run.engine.stop = stop
        o = run.opts
        if json_emit is None:
            if run.pattern is not None and not o.quiet:
                write(pattern_line(run.pattern) + "\n")
            if probe_if is not None:
                from pcapping.report.ping import probe_header

                run.report.query_text = probe_if
                write(probe_header(run.name, run.address, probe_if, run.v6) + "\n")
            else:
                write(header_line(run.name, run.address, o.size, run.src_txt, run.device,
                                  strict_source=o.interface is not None, v6=run.v6) + "\n")
        run.engine.run(run.strategy)
        stats = run.strategy.stats
        if json_emit is None:
            write("\n".join(summary_lines(host, stats, o.size, o.shows_ipg)) + "\n")
        else:
            from pcapping.report.ping import json_summary

            emit_json(json_summary(host, stats))
        if flush is not None:
            flush()
        return stats, stats.exit_status(o.count, o.deadline is not None)
    finally:
        if detach_release:
            sys.stdout.flush()
            from pcapping.io.inject import hand_off_release

            hand_off_release()
        run.close()


def options_from(args: Any) -> PingOptions:
    """PingOptions from parsed arguments: what was given, PingOptions' defaults otherwise."""
    values = {f: getattr(args, f) for f in PingOptions._fields
              if getattr(args, f, None) is not None}
    if "tos" in values:
        values["tos"] = parse_tos(values["tos"])
    values["interval_given"] = "interval_s" in values
    return PingOptions(**values)


class _Output:
    """stdout, buffered by us: one write per wake-up however Python's stdout is set up
    (``PYTHONUNBUFFERED`` makes each ``write`` a system call: two per request in ``-f``)."""

    LIMIT = 4096  # pieces held at most (a flood that never waits still writes)

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: list[str] = []
        self._append = self.parts.append

    def write(self, text: str) -> None:
        self._append(text)
        if len(self.parts) >= self.LIMIT:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            text = "".join(self.parts)
            self.parts.clear()
            self.stream.write(text)
        self.stream.flush()


def run(args: Any) -> int:
    """Entry point of ``pcapping send`` (cli.py turns PcappingError into exit status 2)."""
    if args.version:
        from pcapping.cli import version_text

        print(f"{version_text()} (send: iputils ping 20221126 compatible)")
        return 0
    from pcapping import many

    if many.wants_sweep(args):
        return many.run(args)
    if not args.host:
        raise PcappingError("usage error: Destination address required")
    args.host = args.host[0]
    opts = options_from(args)
    out = sys.stdout

    write = out.write
    json_emit = None
    if args.json:
        import json

        def json_emit(obj: dict[str, Any]) -> None:
            write(json.dumps(obj, separators=(",", ":")) + "\n")

    from pcapping.probe.engine import signal_stop

    with signal_stop() as stop:
        _stats, status = session(args.host, opts, json_emit=json_emit, write=write,
                                 flush=out.flush, pcap=args.write, stop=stop,
                                 detach_release=True, user=args.user, probe_if=args.probe_if)
    return status


def ping(host: str, *, write: str | None = None, **options: Any) -> PingResult:
    """Library API: run ``send`` and return its JSON events, statistics and exit status.

    Options are the fields of ``PingOptions`` (``count``, ``interval_s``, ``timeout_s``,
    ``deadline_s``, ``ttl``, ``size``, ``pmtudisc``, ``interface``, ``pattern``,
    ``preload``, ``flood``, ...); ``write`` names a pcap file to write.  Raises
    ``PcappingError`` for what the command reports with exit status 2.  The calling
    process keeps its privileges (the command becomes the sudo user; a program may
    call again).
    """
    unknown = set(options) - set(PingOptions._fields)
    if unknown:
        raise TypeError(f"ping() got unexpected options: {', '.join(sorted(unknown))}")
    if "interval_s" in options:
        options.setdefault("interval_given", True)
    opts = PingOptions(**options)
    events: list[dict[str, Any]] = []
    from pcapping.io.privileges import KEEP_PRIVILEGES

    stats, status = session(host, opts, json_emit=events.append, pcap=write,
                            user=KEEP_PRIVILEGES)
    return PingResult(events, stats, status)
