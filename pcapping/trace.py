"""``pcapping trace HOST`` and ``pcapping.trace()``: the path hop by hop, from the wire up.

The command's shell: options (traceroute's letters, defined once in the table below and
``TraceOptions``), the engine session (``probe/session.py``), the strategy
(``probe/trace.py``), the report (``report/trace.py``), signals and the exit status:
0 when the destination answered, 1 when it did not, 2 for anything wrong (one line on
stderr).

Modes: traceroute's lines (default), ``--report -c N`` (mtr's report), ``--live`` (the
report redrawn after every round on a terminal), ``--multipath`` (MDA), each with
``--json`` instead of text.  Both families: ``-4``/``-6`` as traceroute's, else an
address's own family or a name's first address (``resolve``, as ``send`` picks); IPv6
adds ``-l FLOW_LABEL``.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Any, NamedTuple

from pcapping.errors import PcappingError
from pcapping.probe.trace import MAX_QUERIES, MAX_TTL, TraceOptions

MAX_PACKET_LEN = 65000  # traceroute's


class TraceResult(NamedTuple):
    """What ``pcapping.trace()`` returns: the JSON events (``start``, ``probe`` ...,
    ``summary``), the summary object and the exit status."""

    events: list[dict[str, Any]]
    summary: Any
    exit_status: int


def _wait_spec(text: str) -> tuple[float, float, float]:
    """traceroute's ``-w MAX[,HERE[,NEAR]]`` (a lone MAX zeroes HERE and NEAR, as it does)."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise PcappingError(f"bad wait specifications `{text}' used") from None
    if not 1 <= len(values) <= 3 or any(v < 0 or v != v for v in values):
        raise PcappingError(f"bad wait specifications `{text}' used")
    values += [0.0] * (3 - len(values))
    return values[0], values[1], values[2]


def _uint(text: str) -> int:
    """An integer as traceroute reads one (strtoul, base 0: 16, 0x10 and 020 are 16)."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    try:
        if body.lower().startswith("0x"):
            return sign * int(body[2:], 16)
        if len(body) > 1 and body.startswith("0"):
            return sign * int(body[1:], 8)
        return sign * int(body, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None


def add_arguments(p: Any) -> None:
    """``pcapping trace``'s options: traceroute's letters, mtr's report, pcapping's own."""
    p.add_argument("host", nargs="?", help="name, IPv4 or IPv6 address")
    p.add_argument("packetlen", nargs="?", type=_uint, default=None,
                   help="the full packet length (as traceroute's; same as -s)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-I", "--icmp", dest="method", action="store_const", const="icmp",
                   help="ICMP echo probes")
    g.add_argument("-U", "--udp", dest="method", action="store_const", const="udp-port",
                   help="UDP probes to one port (default 53); the default method is UDP "
                   "to port 33434")
    g.add_argument("-T", "--tcp", dest="method", action="store_const", const="tcp",
                   help="TCP SYN probes (default port 80)")
    p.add_argument("-p", "--port", dest="port", type=_uint, default=None, metavar="PORT",
                   help="destination port (UDP 33434, with -U 53, TCP 80)")
    p.add_argument("--sport", dest="sport", type=_uint, default=None, metavar="PORT",
                   help="source port (default: a free one)")
    p.add_argument("-f", "--first", dest="first_ttl", type=_uint, default=1, metavar="TTL",
                   help="start from this TTL (default 1)")
    p.add_argument("-m", "--max-hops", dest="max_ttl", type=_uint, default=30, metavar="TTL",
                   help="the largest TTL (default 30)")
    p.add_argument("-q", "--queries", dest="queries", type=_uint, default=3, metavar="N",
                   help="probes per hop (default 3, at most 10)")
    p.add_argument("-w", "--wait", dest="wait", default=None, metavar="MAX,HERE,NEAR",
                   help="give a probe up after HERE times an RTT from its hop, else NEAR "
                   "times one from a later hop, else MAX seconds (default 5,3,10)")
    p.add_argument("-N", "--sim-queries", dest="sim", type=_uint, default=16, metavar="N",
                   help="probes unanswered at once (default 16)")
    p.add_argument("-z", "--sendwait", dest="sendwait", type=float, default=0.0,
                   metavar="SECONDS", help="at least this long between probes (more than "
                   "10: milliseconds), to pace the probes a hop gets")
    p.add_argument("-s", "--size", dest="size", type=_uint, default=None, metavar="SIZE",
                   help="packet length (default 60; TCP probes are always 60)")
    p.add_argument("-t", "--tos", dest="tos", type=_uint, default=0, metavar="TOS",
                   help="IP TOS byte (default 0)")
    p.add_argument("-F", "--dont-fragment", dest="dont_fragment", action="store_true",
                   help="set DF")
    p.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    p.add_argument("-6", dest="ipv6", action="store_true",
                   help="IPv6 only (default: the family of HOST's first address)")
    p.add_argument("-l", "--flowlabel", dest="flow_label", type=_uint, default=None,
                   metavar="FLOW_LABEL", help="IPv6 flow label of the probes (default: a "
                   "random one, constant for the run: Paris)")
    p.add_argument("-n", dest="numeric", action="store_true",
                   help="numeric addresses (always: no reverse DNS is done)")
    p.add_argument("-e", "--extensions", dest="extensions", action="store_true",
                   help="show ICMP extensions (always shown)")
    p.add_argument("-i", "--interface", dest="interface", default=None, metavar="IFACE",
                   help="send from this interface")
    p.add_argument("--source", dest="source", default=None, metavar="ADDRESS",
                   help="send from this address")
    p.add_argument("--classic", dest="classic", action="store_true",
                   help="traceroute's own flows: a new one per probe (no Paris)")
    p.add_argument("--report", dest="report", action="store_true",
                   help="mtr's report: -c rounds of one probe per hop, then a table")
    p.add_argument("--live", dest="live", action="store_true",
                   help="the report, redrawn after every round (until -c or Ctrl-C)")
    p.add_argument("-c", "--count", dest="count", type=int, default=None, metavar="N",
                   help="report rounds (default 10; --live: until interrupted)")
    p.add_argument("--interval", dest="interval", type=float, default=1.0,
                   metavar="SECONDS", help="between report rounds (default 1)")
    p.add_argument("--multipath", dest="multipath", action="store_true",
                   help="find every path (the Multipath Detection Algorithm)")
    p.add_argument("--confidence", dest="confidence", type=float, default=99.9,
                   metavar="PERCENT", help="MDA's confidence per hop (default 99.9; "
                   "Paris traceroute's is 95)")
    p.add_argument("--max-flows", dest="max_flows", type=int, default=64, metavar="N",
                   help="MDA: at most this many flows (default 64)")
    p.add_argument("-v", "--verbose", dest="verbose", action="store_true",
                   help="show the sent and quoted values of modified fields")
    p.add_argument("--json", action="store_true", help="JSON Lines events on stdout")
    p.add_argument("--write", metavar="FILE", default=None,
                   help="write every probe and answer to a pcap file")
    p.add_argument("-Z", dest="user", default=None, metavar="USER",
                   help="drop privileges to USER once the handles are open")
    p.add_argument("-V", "--version", dest="version", action="store_true",
                   help="print the version and exit")
    # -4/-6 look like negative numbers to argparse, which would then read `-q -1` as an
    # option; read them as values (and refuse them with traceroute's words)
    p._has_negative_number_optionals.clear()


def options_from(args: Any) -> TraceOptions:
    """TraceOptions from parsed arguments, checked as traceroute checks them."""
    method = args.method or "udp"
    port = args.port
    if method == "udp-port":
        method = "udp"
        if port is None:
            port = 53
    size = args.size if args.size is not None else args.packetlen
    wait = _wait_spec(args.wait) if args.wait is not None else (5.0, 3.0, 10.0)
    mode = "trace"
    if args.multipath:
        mode = "multipath"
    if args.report or args.live:
        if mode == "multipath":
            raise PcappingError("--multipath cannot be combined with --report or --live")
        mode = "report"
    count = args.count if args.count is not None else (0 if args.live else 10)
    sendwait = args.sendwait / 1000 if args.sendwait >= 10 else args.sendwait
    if args.ipv4 and args.ipv6:
        raise PcappingError("-4 and -6 cannot be used together")
    family = 4 if args.ipv4 else 6 if args.ipv6 else 0
    return TraceOptions(
        method=method, port=port, sport=args.sport, first_ttl=args.first_ttl,
        max_ttl=args.max_ttl, queries=args.queries, wait_max_s=wait[0], wait_here=wait[1],
        wait_near=wait[2], sim=args.sim, sendwait_s=sendwait, packet_len=size, tos=args.tos,
        dont_fragment=args.dont_fragment, paris=not args.classic, mode=mode, count=count,
        interval_s=args.interval, confidence=args.confidence / 100.0,
        max_flows=args.max_flows, interface=args.interface, source=args.source,
        family=family, flow_label=args.flow_label)


def validate(o: TraceOptions) -> None:
    """traceroute's checks (and its words), plus pcapping's own."""
    if not 1 <= o.max_ttl <= MAX_TTL:
        raise PcappingError(f"max hops cannot be more than {MAX_TTL}"
                            if o.max_ttl > MAX_TTL else "first hop out of range")
    if not 1 <= o.first_ttl <= o.max_ttl:
        raise PcappingError("first hop out of range")
    if not 1 <= o.queries <= MAX_QUERIES:
        raise PcappingError(f"no more than {MAX_QUERIES} probes per hop")
    if o.sim < 1:
        raise PcappingError(f"bad number of simultaneous probes {o.sim}")
    if o.sendwait_s < 0 or o.sendwait_s != o.sendwait_s:
        raise PcappingError(f"bad sendtime `{o.sendwait_s:g}' specified")
    if o.packet_len is not None and o.packet_len > MAX_PACKET_LEN:
        raise PcappingError(f"too big packetlen {o.packet_len} specified")
    if o.packet_len is not None and o.packet_len < 0:
        raise PcappingError(f"bad packetlen {o.packet_len} specified")
    if not 0 <= o.tos <= 255:
        raise PcappingError(f"bad TOS value {o.tos} (0-255)")
    for name, port in (("port", o.port), ("source port", o.sport)):
        if port is not None and not 1 <= port <= 65535:
            raise PcappingError(f"bad {name} {port} (1-65535)")
    if o.count < 0:
        raise PcappingError(f"bad count {o.count}")
    if not o.interval_s > 0:
        raise PcappingError(f"bad interval {o.interval_s:g}")
    if not 0.5 <= o.confidence < 1.0:
        raise PcappingError(f"bad confidence {o.confidence * 100:g} (50 to below 100)")
    if not 1 <= o.max_flows <= 4096:
        raise PcappingError(f"bad --max-flows {o.max_flows} (1-4096)")
    if o.family not in (0, 4, 6):
        raise PcappingError(f"bad address family {o.family} (4 or 6)")
    if o.flow_label is not None and not 0 <= o.flow_label <= 0xFFFFF:
        raise PcappingError(f"bad flow label {o.flow_label} (0-1048575)")


def resolve(host: str, family: int = 4) -> bytes:
    """The address of HOST: numeric as it is, else getaddrinfo's first answer of the
    family asked (4, 6, or 0: either, in the resolver's order, as ``send`` picks)."""
    return resolve_scoped(host, family)[0]


def resolve_scoped(host: str, family: int = 4) -> tuple[bytes, str | None]:
    """(address, interface of an IPv6 ``%scope``) of HOST (see ``resolve``)."""
    if family in (0, 4):
        try:
            return (socket.inet_aton(host) if host.count(".") == 3 else socket.inet_pton(
                socket.AF_INET, host)), None
        except OSError:
            pass
    text, _, scope = host.partition("%")
    if family in (0, 6):
        try:
            return socket.inet_pton(socket.AF_INET6, text), scope or None
        except OSError:
            pass
    for af in (socket.AF_INET, socket.AF_INET6):  # a literal of the other family
        try:
            socket.inet_pton(af, text)
        except OSError:
            continue
        raise PcappingError(f"{host}: Address family for hostname not supported")
    from pcapping.io.names import first_address

    want = {4: socket.AF_INET, 6: socket.AF_INET6}.get(family, socket.AF_UNSPEC)
    raw, _canon, scope_if = first_address(host, want)
    return raw, scope_if


def _reserve_port(method: str, source: str, port: int | None,
                  v6: bool = False) -> tuple[socket.socket | None, int | None]:
    """Hold the source port for the run (as traceroute does with a socket of its own), so
    no connection of this host uses it meanwhile; TCP answers to it get the kernel's RST."""
    if method == "icmp":
        return None, None
    kind = socket.SOCK_STREAM if method == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind)
    try:
        sock.bind((source, port or 0))
    except OSError as exc:
        sock.close()
        if port is None:
            return None, None
        raise PcappingError(f"source port {port}: {exc.strerror or exc}") from None
    return sock, sock.getsockname()[1]


class _Run:
    """Everything one trace opens (``close`` ends it)."""

    def __init__(self, host: str, opts: TraceOptions, write: str | None,
                 user: str | None) -> None:
        from pcapping.io.netinfo import addr_text
        from pcapping.probe.flows import ProbeBuilder
        from pcapping.probe.session import EngineSession, source_or_device

        validate(opts)
        self.host = host
        self.opts = opts
        dst, scope = resolve_scoped(host, opts.family or 0)
        self.dst = dst
        self.v6 = v6 = len(dst) == 16
        self.address = addr_text(dst)
        self.scope: str | None = None  # an IPv6 link-local destination's interface
        device, source = source_or_device(opts.interface, 6 if v6 else 4)
        if device is None and source is None and scope:
            device = scope
        if opts.source is not None:
            try:
                source = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET,
                                          opts.source)
            except OSError:
                raise PcappingError(f"bad source address {opts.source}") from None
        self.session = session = EngineSession(
            dst, device=device, source=source,
            protocols="icmp6 or udp or tcp" if v6 else "icmp or udp or tcp", write=write,
            user=user, buffer_bytes=2 << 20, checksum_offload=opts.method != "icmp",
            link_snaplen=True)
        self.reserved: socket.socket | None = None
        try:
            if v6 and dst[:2] == b"\xfe\x80":  # as traceroute shows it: fe80::1%pc0
                self.scope = session.interface
                self.address = f"{self.address}%{self.scope}"
            if session.multicast:
                raise PcappingError(f"{host}: cannot trace to a broadcast or multicast "
                                    "address")
            self.reserved, sport = _reserve_port(opts.method, session.src_txt, opts.sport, v6)
            mss = max(536 if not v6 else 1220, session.link.mtu - (60 if v6 else 40))
            self.builder = ProbeBuilder(
                opts.method, session.source, dst, packet_len=opts.packet_len,
                sport=sport if sport is not None else opts.sport, dport=opts.port,
                tos=opts.tos, df=opts.dont_fragment, paris=opts.paris, mss=mss,
                offload=session.offload, mtu=session.link.mtu, flow_label=opts.flow_label)
        except BaseException:
            self.close()
            raise

    @property
    def engine(self) -> Any:
        return self.session.engine

    def start_event(self) -> dict[str, Any]:
        from pcapping.io.netinfo import addr_text

        s = self.session
        b = self.builder
        o = self.opts
        return {
            "event": "start", "target": self.host, "address": self.address,
            "interface": s.interface, "source": s.src_txt,
            "family": 6 if self.v6 else 4,
            "next_hop": addr_text(s.route.next_hop) if s.route.next_hop else None,
            "method": o.method, "paris": o.paris, "mode": o.mode,
            "first_ttl": o.first_ttl, "max_hops": o.max_ttl, "queries": o.queries,
            "packet_len": b.packet_len, "sport": b.sport if o.method != "icmp" else None,
            "dport": b.dport if o.method != "icmp" else None,
            "ident": b.ident if o.method == "icmp" else None, "tos": o.tos,
            "flow_label": b.flow_label if self.v6 else None,
            "count": o.count if o.mode == "report" else None,
            "confidence": o.confidence if o.mode == "multipath" else None,
        }

    def close(self) -> None:
        if self.reserved is not None:
            self.reserved.close()
        self.session.close()


def session(host: str, opts: TraceOptions, *, json_emit: Any = None, write: Any = None,
            warn: Any = None, flush: Any = None, pcap: str | None = None, stop: Any = None,
            user: str | None = None, verbose: bool = False, live: bool = False,
            detach_release: bool = False) -> tuple[Any, int]:
    """Run one trace, telling text (``write``) or JSON (``json_emit``); (summary, status)."""
    from pcapping.probe.trace import TraceStrategy
    from pcapping.report.trace import (
        JsonTraceReport,
        MtrReport,
        MultipathReport,
        TextTraceReport,
        TraceSummary,
        header_line,
    )

    warn = warn or (lambda text: sys.stderr.write(text))
    write = write or (lambda text: None)
    run = _Run(host, opts, pcap, user)
    started_wall = time.time()
    try:
        if stop is not None:
            run.engine.stop = stop
        strategy_box: list[Any] = []

        def summary_now() -> TraceSummary:
            s = strategy_box[0]
            graph = None
            if opts.mode == "multipath":
                graph = s.schedule.graph()
            return TraceSummary(host, run.address, s.hop_list(), s.destination_reached(),
                                s.sent_count, (time.time() - started_wall) * 1000, graph,
                                opts.confidence if opts.mode == "multipath" else None)

        report: Any
        if json_emit is not None:
            report = JsonTraceReport(json_emit, warn)
        elif opts.mode == "report":
            report = MtrReport(write, warn, live=live, summary_for=summary_now,
                               local_host=socket.gethostname(), start=started_wall)
        elif opts.mode == "multipath":
            report = MultipathReport(write, warn)
        else:
            report = TextTraceReport(write, warn, verbose=verbose, scope=run.scope)
        if flush is not None:
            report.flush = flush
        header = header_line(host, run.address, opts.max_ttl, run.builder.packet_len)
        if opts.mode == "multipath":
            header += f", multipath (MDA, {opts.confidence * 100:g}% confidence)"
        if json_emit is not None:
            json_emit(run.start_event())
        else:
            report.start(header)
        s = run.session
        strategy = TraceStrategy(opts, report, builder=run.builder, src=s.source,
                                 dst=run.dst, next_hop=s.route.next_hop,
                                 dst_mac=s.dst_mac(), engine=run.engine,
                                 clock_start=run.engine.clock())
        strategy_box.append(strategy)
        run.engine.run(strategy)
        summary = summary_now()
        report.finish(summary)
        if flush is not None:
            flush()
        return summary, strategy.exit_status()
    finally:
        if detach_release:
            sys.stdout.flush()
            from pcapping.io.inject import hand_off_release

            hand_off_release()
        run.close()


class _Output:
    """stdout, one write per wake-up (see send's)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        if self.parts:
            self.stream.write("".join(self.parts))
            self.parts.clear()
        self.stream.flush()


def run(args: Any) -> int:
    """Entry point of ``pcapping trace`` (cli.py turns PcappingError into exit status 2)."""
    if args.version:
        from pcapping.cli import version_text

        print(f"{version_text()} (trace: traceroute 2.1 and mtr 0.95 compatible output)")
        return 0
    if args.host is None:
        raise PcappingError("usage error: Destination address required")
    opts = options_from(args)
    live = args.live
    if live and not sys.stdout.isatty():
        sys.stderr.write("pcapping: --live needs a terminal; printing the report at the "
                         "end instead\n")
        live = False
    out = _Output(sys.stdout)
    json_emit = None
    if args.json:
        import json

        def json_emit(obj: dict[str, Any]) -> None:
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")

    from pcapping.probe.engine import signal_stop

    try:
        with signal_stop(interim=False) as stop:
            _summary, status = session(args.host, opts, json_emit=json_emit, write=out.write,
                                       flush=out.flush, pcap=args.write, stop=stop,
                                       user=args.user, verbose=args.verbose, live=live,
                                       detach_release=True)
        return status
    finally:
        out.flush()


def trace(host: str, *, write: str | None = None, **options: Any) -> TraceResult:
    """Library API: run ``trace`` and return its JSON events, summary and exit status.

    Options are the fields of ``TraceOptions`` (``method`` "udp"/"icmp"/"tcp", ``port``,
    ``first_ttl``, ``max_ttl``, ``queries``, ``wait_max_s``, ``sim``, ``sendwait_s``,
    ``packet_len``, ``tos``, ``paris``, ``mode`` "trace"/"report"/"multipath", ``count``,
    ``interval_s``, ``confidence``, ``interface``, ``source``, ``family`` 4/6/0,
    ``flow_label`` ...); ``write`` names a pcap file.  Raises ``PcappingError`` for what
    the command reports with exit status 2.
    """
    unknown = set(options) - set(TraceOptions._fields)
    if unknown:
        raise TypeError(f"trace() got unexpected options: {', '.join(sorted(unknown))}")
    opts = TraceOptions(**options)
    events: list[dict[str, Any]] = []
    from pcapping.io.privileges import KEEP_PRIVILEGES

    summary, status = session(host, opts, json_emit=events.append, pcap=write,
                              user=KEEP_PRIVILEGES)
    return TraceResult(events, summary, status)


__all__ = ["TraceResult", "add_arguments", "options_from", "run", "trace", "validate"]
