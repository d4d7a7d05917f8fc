"""``pcapping send HOST`` and ``pcapping.ping()``: the live loop around ``PingTracker``.

Two libpcap handles on the route's interface: handle A only injects (its filter accepts
nothing); handle B captures our traffic (``icmp or arp`` involving our source address),
non-blocking and waited on with ``select``.  A handle never sees the frames it injected,
so B sees each request leave and its capture timestamp is the departure time the RTT is
measured from; the reply's capture timestamp on the same handle is the arrival time.

Scheduling follows iputils ping: a request every ``interval_s``; after the last one
(``-c``), wait ``2 * max RTT`` (at least one interval) when a reply came, else ``-W``;
stop early once every request was answered (replies + errors >= count); with ``-w``,
keep sending until ``count`` replies or the deadline, and stop at the first error.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from pcapping.errors import PcappingError
from pcapping.probe.stats import PingStats
from pcapping.probe.tracker import Departed, EchoReplied, ErrorReported, TimedOut

MAX_SIZE = 65535 - 20 - 8
SNAPLEN = 65535
BUFFER_BYTES = 4 << 20


class Options(NamedTuple):
    count: int | None = None
    interval_s: float = 1.0
    timeout_s: float = 2.0
    deadline_s: float | None = None
    ttl: int = 64
    size: int = 56
    pmtudisc: str = "dont"
    interface: str | None = None
    pattern: str | None = None
    quiet: bool = False
    timestamps: bool = False
    verbose: bool = False


class PingResult(NamedTuple):
    """What ``pcapping.ping()`` returns: the JSON events (DESIGN.md), stats and exit status."""

    events: list[dict[str, Any]]
    stats: PingStats
    exit_status: int


def _range_error(value: object, low: int, high: int) -> PcappingError:
    return PcappingError(f"invalid argument: '{value}': out of range: {low} <= value <= {high}")


def parse_pattern(text: str) -> bytes:
    """iputils' -p: up to 16 bytes of hex digits, read two at a time."""
    bad = next((i for i, ch in enumerate(text) if ch not in "0123456789abcdefABCDEF"), None)
    if bad is not None or not text:
        raise PcappingError(f"patterns must be specified as hex digits: {text[bad or 0:]}")
    return bytes(int(text[i : i + 2], 16) for i in range(0, min(len(text), 32), 2))


def validate(opts: Options) -> bytes | None:
    """Check every option as iputils does; returns the parsed -p pattern."""
    if opts.count is not None and opts.count < 1:
        raise _range_error(opts.count, 1, 2**63 - 1)
    if not opts.interval_s >= 0 or opts.interval_s > 2**31 // 1000:
        raise PcappingError(f"bad timing interval: {opts.interval_s:g}")
    if not opts.timeout_s >= 0.001 or opts.timeout_s > 2**31 // 1000:
        raise PcappingError(f"bad linger time: {opts.timeout_s:g}")
    if opts.deadline_s is not None and not 0 <= opts.deadline_s <= 2**31 - 1:
        raise _range_error(f"{opts.deadline_s:g}", 0, 2**31 - 1)
    if not 0 <= opts.ttl <= 255:
        raise _range_error(opts.ttl, 0, 255)
    if opts.size < 0:
        raise _range_error(opts.size, 0, 2**31 - 1)
    if opts.size > MAX_SIZE:
        raise PcappingError(f"packet size {opts.size} is too large. Maximum is {MAX_SIZE}")
    if opts.pmtudisc not in ("do", "dont"):
        raise PcappingError(f"invalid -M argument: {opts.pmtudisc}")
    return parse_pattern(opts.pattern) if opts.pattern is not None else None


def resolve(host: str) -> bytes:
    """IPv4 address of HOST (numeric, else getaddrinfo AF_INET)."""
    import socket

    try:
        return socket.inet_aton(host) if host.count(".") == 3 else socket.inet_pton(
            socket.AF_INET, host)
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise PcappingError(f"{host}: {exc.strerror}") from None
    except UnicodeError:
        raise PcappingError(f"{host}: Name or service not known") from None
    return socket.inet_aton(infos[0][4][0])


class Sink:
    """Where events go; ``run`` prints them, ``ping`` collects them."""

    def header(self, line: str) -> None: ...
    def start(self, obj: dict[str, Any]) -> None: ...
    def reply(self, ev: EchoReplied) -> None: ...
    def error(self, ev: ErrorReported) -> None: ...
    def timeout(self, seq: int) -> None: ...
    def summary(self, name: str, stats: PingStats, opts: Options) -> None: ...


class TextSink(Sink):
    def __init__(self, opts: Options, write: Callable[[str], Any]) -> None:
        self.opts = opts
        self.write = write

    def _line(self, text: str) -> None:
        self.write(text + "\n")

    def header(self, line: str) -> None:
        self._line(line)

    def reply(self, ev: EchoReplied) -> None:
        if not self.opts.quiet:
            from pcapping.report.ping import reply_line

            self._line(reply_line(ev, self.opts.size, self.opts.timestamps))

    def error(self, ev: ErrorReported) -> None:
        if not self.opts.quiet:
            from pcapping.report.ping import error_line

            self._line(error_line(ev, self.opts.timestamps, self.opts.verbose))

    def summary(self, name: str, stats: PingStats, opts: Options) -> None:
        from pcapping.report.ping import summary_lines

        self._line("\n".join(summary_lines(name, stats, opts.size, opts.interval_s)))


class JsonSink(Sink):
    def __init__(self, emit: Callable[[dict[str, Any]], Any]) -> None:
        self.emit = emit

    def start(self, obj: dict[str, Any]) -> None:
        self.emit(obj)

    def reply(self, ev: EchoReplied) -> None:
        from pcapping.report.ping import json_reply

        self.emit(json_reply(ev))

    def error(self, ev: ErrorReported) -> None:
        from pcapping.report.ping import json_error

        self.emit(json_error(ev))

    def timeout(self, seq: int) -> None:
        self.emit({"event": "timeout", "seq": seq})

    def summary(self, name: str, stats: PingStats, opts: Options) -> None:
        from pcapping.report.ping import json_summary

        self.emit(json_summary(name, stats))


class RawIPInjector:
    """Loopback: our IPv4 datagram (Ethernet header stripped) through an IP_HDRINCL socket.

    A frame injected on ``lo`` with a packet socket arrives without a route attached, and
    the kernel's input routing drops it as martian (a 127/8 destination without
    ``route_localnet``, or one of our own addresses as source without ``accept_local``),
    so on loopback the hand-built datagram goes out through the kernel's output path,
    unchanged; the capture handle on ``lo`` still times its departure and the reply.
    """

    def __init__(self) -> None:
        import socket

        try:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        except PermissionError:
            raise PcappingError(
                "lo: raw socket: Operation not permitted; run as root or give the interpreter "
                "'setcap cap_net_raw,cap_net_admin+eip'") from None
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)

    def inject(self, frame: bytes) -> None:
        datagram = frame[14:]
        try:
            self.sock.sendto(datagram, (_dotted(datagram[16:20]), 0))
        except OSError as exc:
            raise PcappingError(f"lo: cannot send: {exc.strerror or exc}") from None

    def close(self) -> None:
        self.sock.close()


def _dotted(addr: bytes) -> str:
    return ".".join(str(b) for b in addr)


class _Stop:
    """Set by SIGINT (or by a library caller) to end the run after the statistics."""

    def __init__(self) -> None:
        self.flag = False
        self.fd: int | None = None  # read end of the wakeup pipe, in select's list


def _hand_off_release() -> None:
    """Let a child process pay for releasing the packet sockets when this one exits.

    Closing a libpcap handle on Linux waits for two RCU grace periods in the kernel
    (ring teardown and ``packet_release``), about 12 ms each here: half the run time of
    ``send -c 1``.  A forked child that keeps the descriptors until this process has
    exited makes our own close a mere reference drop; the child (stdio closed, so nobody
    waits for its output) then releases the sockets on its own.  CLI only.
    """
    try:
        r, w = os.pipe()
        pid = os.fork()
    except OSError:
        return
    if pid == 0:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(w)
            for fd in (0, 1, 2):
                try:
                    os.close(fd)
                except OSError:
                    pass
            os.read(r, 1)  # end of file once the parent has exited
        finally:
            os._exit(0)
    os.close(r)  # w stays open until we exit


def session(host: str, opts: Options, sink: Sink, write: str | None = None,
            stop: _Stop | None = None, detach_release: bool = False,
            ) -> tuple[PingStats, int]:
    """Run one ping; returns the statistics and ping's exit status."""
    from pcapping.decode import decode_frame
    from pcapping.io import netinfo
    from pcapping.io.capture import LiveCapture
    from pcapping.probe.resolve import RETRANS_S, ArpResolver
    from pcapping.probe.tracker import PingTracker
    from pcapping.report.ping import header_line, json_start, pattern_line
    from pcapping.wire.ethernet import ZERO_MAC, mac_str
    from pcapping.wire.ipv4 import ip_str

    pattern = validate(opts)
    dst = resolve(host)
    address = ip_str(dst)
    if opts.interface is not None and not netinfo.interface_exists(opts.interface):
        raise PcappingError(f"unknown interface {opts.interface!r}")
    route = netinfo.route_get(dst, opts.interface)
    iface = route.interface
    local = route.local or iface == "lo"
    src = route.source
    mtu = netinfo.interface_mtu(iface)
    if opts.size + 28 > mtu and not local:
        raise PcappingError(
            f"local error: message too long, mtu={mtu} "
            f"(-s {opts.size} needs fragmentation, which pcapping does not do)")
    src_mac = ZERO_MAC if local else netinfo.interface_mac(iface)

    src_txt = ip_str(src)
    bpf = f"(icmp or arp) and host {src_txt}"
    capture = LiveCapture(iface, bpf=bpf, snaplen=SNAPLEN, timeout_ms=1,
                          buffer_bytes=BUFFER_BYTES)
    injector: LiveCapture | RawIPInjector | None = None
    writer = None
    try:
        if capture.linktype != 1:
            raise PcappingError(f"{iface}: link type {capture.linktype} is not Ethernet")
        if local:
            injector = RawIPInjector()
        else:
            injector = LiveCapture(iface, bpf="less 1", snaplen=128, timeout_ms=1,
                                   buffer_bytes=1 << 16)
        if write is not None:
            from pcapping.io.pcapfile import PcapWriter

            writer = PcapWriter(write, linktype=1, snaplen=SNAPLEN)
        rnd = os.urandom(12)
        ident = int.from_bytes(rnd[:2], "big")
        tracker = PingTracker(
            src=src, dst=dst, src_mac=src_mac, dst_mac=ZERO_MAC if local else None,
            ident=ident, nonce=rnd[2:10], size=opts.size, ttl=opts.ttl,
            dont_fragment=opts.pmtudisc == "do", pattern=pattern, timeout_s=opts.timeout_s,
            ip_ident=int.from_bytes(rnd[10:12], "big"),
        )
        # The kernel's pacing (3 probes 1 s apart) unless -W is shorter: then the round
        # fits in the wait, so `send -c 1 -W 2` to an absent host still says so.
        retrans_s = min(RETRANS_S, opts.timeout_s / 4)
        resolver = None if local else ArpResolver(src_mac, src, route.next_hop, retrans_s)
        stats = PingStats()

        if pattern is not None and not opts.quiet:
            sink.header(pattern_line(pattern))
        sink.header(header_line(host, address, opts.size, src_txt, opts.interface))

        def started(mac: bytes | None) -> None:
            sink.start(json_start(host, address, iface, src_txt, ip_str(route.next_hop),
                                  mac_str(mac) if mac is not None else None, ident,
                                  opts.size, opts.ttl))

        if local:
            started(ZERO_MAC)
        announced = local
        return _loop(opts, sink, stats, tracker, resolver, capture, injector, writer,
                     stop or _Stop(), started, announced, decode_frame)
    finally:
        if detach_release:
            sys.stdout.flush()
            _hand_off_release()
        capture.close()
        if injector is not None:
            injector.close()
        if writer is not None:
            writer.close()


def _loop(opts: Options, sink: Sink, stats: PingStats, tracker: Any, resolver: Any,
          capture: Any, injector: Any, writer: Any, stop: _Stop,
          started: Callable[[bytes | None], None], announced: bool,
          decode_frame: Callable[..., Any], *, clock: Callable[[], float] = time.monotonic,
          wall: Callable[[], float] = time.time,
          wait: Callable[[list[int], float], list[int]] | None = None,
          ) -> tuple[PingStats, int]:
    """The schedule: send, probe ARP, read and match, until ping would stop.

    ``clock`` (scheduling), ``wall`` (timestamps of local events) and ``wait`` (block
    until a descriptor is readable or the delay passes) are parameters so the tests can
    run the loop on a fake network with a fake clock.
    """
    mono = clock
    if wait is None:
        def wait(fds: list[int], delay: float) -> list[int]:
            return select.select(fds, [], [], delay)[0]
    count = opts.count
    deadline = opts.deadline_s is not None
    interval = opts.interval_s
    queued: list[int] = []  # requests waiting for the next hop's MAC
    seq = 0
    t0 = mono()
    next_send = t0
    deadline_at = t0 + opts.deadline_s if opts.deadline_s is not None else None
    linger_end: float | None = None
    fds = [capture.fd] + ([stop.fd] if stop.fd is not None else [])

    def record(c: Any) -> None:
        if writer is not None:
            writer.write(c.ts_sec, c.ts_usec, c.data, c.length)

    def inject(frame: bytes) -> None:
        injector.inject(frame)

    while not stop.flag:
        now = mono()
        if count is not None and stats.received + stats.errors >= count:
            break
        if deadline and stats.errors:
            break
        if deadline_at is not None and now >= deadline_at:
            break
        if resolver is not None:
            polled = resolver.poll(now)
            if polled is not None:
                what, frame = polled
                if what == "probe" and frame is not None:
                    inject(frame)
                elif what == "failed":
                    if not announced:
                        started(None)
                        announced = True
                    when_failed = wall()
                    for s in queued:
                        ev = tracker.local_unreachable(s, when_failed)
                        stats.error(ev.seq)
                        sink.error(ev)
                    queued.clear()
                    continue
        more = count is None or seq < count or deadline
        if more and now >= next_send:
            seq += 1
            frame = tracker.request(seq, now)
            stats.sent(now)
            if tracker.dst_mac is not None:
                inject(frame)
            else:
                queued.append(seq)
                if not resolver.active:
                    inject(resolver.start(now))
            next_send += interval
            if next_send < now - interval:
                next_send = now
            more = count is None or seq < count or deadline
            if not more:
                tmax_s = max(stats.rtts_us) / 1e6 if stats.rtts_us else 0.0
                linger = max(2 * tmax_s, interval) if stats.received else opts.timeout_s
                linger_end = now + linger
        if announced:  # (requests waiting for the first ARP answer are not late yet)
            for t in tracker.expire(now):
                sink.timeout(t.seq)
        if linger_end is not None and now >= linger_end:
            break
        wake = [linger_end, deadline_at, tracker.next_expiry() if announced else None]
        if more:
            wake.append(next_send)
        if resolver is not None:
            wake.append(resolver.deadline())
        when = min(w for w in wake if w is not None) if any(
            w is not None for w in wake) else now + 0.25
        delay = when - mono()
        if delay > 0:
            ready = wait(fds, delay)
            if stop.fd is not None and stop.fd in ready:
                try:
                    os.read(stop.fd, 512)
                except OSError:
                    pass
        while True:
            c = capture.read()
            if c is None:
                break
            d = decode_frame(c.data, c.linktype, ts_sec=c.ts_sec, ts_usec=c.ts_usec,
                             length=c.length)
            if d.arp is not None:
                if resolver is not None:
                    if d.arp.spa == tracker.src and d.arp.sha == tracker.src_mac:
                        record(c)  # our own who-has
                    mac = resolver.handle(d)
                    if mac is not None:
                        record(c)
                        tracker.dst_mac = mac
                        if not announced:
                            started(mac)
                            announced = True
                        for s in queued:
                            inject(tracker.frame(s))
                        queued.clear()
                continue
            ev = tracker.handle(d)
            if ev is None:
                continue
            record(c)
            if isinstance(ev, Departed):
                continue
            if isinstance(ev, EchoReplied):
                if ev.checksum_ok:
                    stats.reply(ev.seq, ev.rtt_us, ev.duplicate)
                else:
                    stats.corrupt()
                sink.reply(ev)
            elif isinstance(ev, ErrorReported):
                if not ev.checksum_ok:
                    stats.corrupt()
                elif ev.counted:
                    stats.error(ev.seq)
                sink.error(ev)
    if not announced:
        started(None)
    for t in tracker.expire(mono(), final=True):
        if isinstance(t, TimedOut):
            sink.timeout(t.seq)
    return stats, stats.exit_status(count, deadline)


def add_arguments(send: Any) -> None:
    """``pcapping send``'s options (iputils ping's letters)."""
    send.add_argument("host")
    send.add_argument("-c", dest="count", type=int, default=None, help="stop after COUNT requests")
    send.add_argument("-i", dest="interval_s", type=float, default=1.0, help="interval (s)")
    send.add_argument("-W", dest="timeout_s", type=float, default=2.0, help="wait per reply (s)")
    send.add_argument("-w", dest="deadline_s", type=float, default=None, help="deadline (s)")
    send.add_argument("-t", dest="ttl", type=int, default=64, help="IP time to live")
    send.add_argument("-s", dest="size", type=int, default=56, help="ICMP payload bytes")
    send.add_argument("-M", dest="pmtudisc", default="dont", help="do|dont: set or clear DF")
    send.add_argument("-I", dest="interface", default=None, help="interface to send on")
    send.add_argument("-p", dest="pattern", default=None, help="hex bytes to fill the payload")
    send.add_argument("-q", dest="quiet", action="store_true", help="only the summary")
    send.add_argument("-D", dest="timestamps", action="store_true", help="timestamp each line")
    send.add_argument("-n", dest="numeric", action="store_true", help="numeric output (always)")
    send.add_argument("-v", dest="verbose", action="store_true", help="mention quoted checksums")
    send.add_argument("--json", action="store_true", help="JSON Lines events")
    send.add_argument("--write", metavar="FILE", default=None, help="write sent and matched frames")


def _options_from(args: Any) -> Options:
    return Options(
        count=args.count, interval_s=args.interval_s, timeout_s=args.timeout_s,
        deadline_s=args.deadline_s, ttl=args.ttl, size=args.size, pmtudisc=args.pmtudisc,
        interface=args.interface, pattern=args.pattern, quiet=args.quiet,
        timestamps=args.timestamps, verbose=args.verbose,
    )


def run(args: Any) -> int:
    """Entry point of ``pcapping send`` (cli.py turns PcappingError into exit status 2)."""
    opts = _options_from(args)
    out = sys.stdout

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    sink: Sink
    if args.json:
        import json

        sink = JsonSink(lambda obj: write(json.dumps(obj, separators=(",", ":")) + "\n"))
    else:
        sink = TextSink(opts, write)

    stop = _Stop()
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    os.set_blocking(rfd, False)
    stop.fd = rfd

    def on_sigint(signum: int, frame: Any) -> None:
        stop.flag = True

    old = signal.signal(signal.SIGINT, on_sigint)
    old_wakeup = signal.set_wakeup_fd(wfd)
    try:
        stats, status = session(args.host, opts, sink, write=args.write, stop=stop,
                                detach_release=True)
        sink.summary(args.host, stats, opts)
        return status
    finally:
        signal.set_wakeup_fd(old_wakeup)
        signal.signal(signal.SIGINT, old)
        os.close(rfd)
        os.close(wfd)


def ping(host: str, *, write: str | None = None, **options: Any) -> PingResult:
    """Library API: run ``send`` and return its JSON events, statistics and exit status.

    Options are those of ``Options`` (``count``, ``interval_s``, ``timeout_s``,
    ``deadline_s``, ``ttl``, ``size``, ``pmtudisc``, ``interface``, ``pattern``, ...).
    Raises ``PcappingError`` for what the command reports with exit status 2.
    """
    unknown = set(options) - set(Options._fields)
    if unknown:
        raise TypeError(f"ping() got unexpected options: {', '.join(sorted(unknown))}")
    opts = Options(**options)
    events: list[dict[str, Any]] = []
    sink = JsonSink(events.append)
    stats, status = session(host, opts, sink, write=write)
    sink.summary(host, stats, opts)
    return PingResult(events, stats, status)
