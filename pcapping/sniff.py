"""``pcapping sniff``: decode what is on the wire or in a file.

Per frame: tcpdump's text (``tcpdump.TcpdumpFormatter``), a JSON object
(``Decoded.to_dict()``), or nothing but a closing summary (``-q``).
A damaged file prints every complete record first, then one line on stderr
and exit status 2.  Ctrl-C (SIGINT, or SIGTERM) ends a live capture with tcpdump's
counts, also when the shell started sniff with SIGINT ignored (a background job of a
script), because sniff installs its handler whatever it inherited, as tcpdump does.

tcpdump's options: ``-x -xx -X -XX -A -AA`` (dumps), ``-t`` .. ``-ttttt`` (time stamps),
``-#`` (frame numbers), ``-l`` (line-buffered), ``-r -`` / ``-w -`` (standard input and
output; with ``-w -`` nothing else goes to standard output), ``-Z USER`` (drop root once
the capture is open, before the ``-w`` file is created), ``-i any`` (every interface, as
LINUX_SLL2 with tcpdump's interface and direction columns).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from pcapping.decode import Decoded, Tally, decode_frame, tally
from pcapping.errors import PcappingError
from pcapping.io.linktypes import dlt_name, linktype_text
from pcapping.io.pcapfile import Captured, PcapReader, PcapWriter
from pcapping.wire.icmp import ICMPType
from pcapping.wire.icmp6 import ICMP6Type

# Kernel-side prefilter for --icmp on live handles; the exact test is `_is_icmp_or_arp`
# on the decoded frame (a bare `icmp` misses VLAN-tagged ICMP, and `vlan` must come last).
# Tunnels and encapsulations that may carry ICMP or ARP pass too; the first candidate the
# link type can compile is used (SLL has no `vlan`, raw IP no `ether proto`).
# `icmp6` matches only ICMPv6 right after the fixed header, so IPv6 datagrams whose first
# next header is neither TCP nor UDP pass too (MLD behind hop-by-hop options, fragments,
# routing headers): the decoded frame decides.  Each `vlan` moves the offsets of all that
# follows it, so the tagged clause written twice also lets double-tagged (QinQ) frames by.
_ICMP_BASE = "icmp or arp or icmp6 or (ip6 and not ip6 proto 6 and not ip6 proto 17)"
_TUNNELS = ("ip proto 4 or ip proto 41 or ip proto 47 or ip proto 103 or udp port 4789 "
            "or udp port 8472 or udp port 6081 or udp port 6635 or udp src port 49152")
_L2 = ("ether proto 0x8847 or ether proto 0x8848 or ether proto 0x8864 or ether proto 0x88e5 "
       "or ether[12:2] <= 1500")  # MPLS, PPPoE, MACsec, 802.3 (LLC/SNAP)
_TAGGED = f"(vlan and ({_ICMP_BASE} or {_TUNNELS} or {_L2}))"
ICMP_BPF_CANDIDATES = (
    f"{_ICMP_BASE} or {_TUNNELS} or {_L2} or {_TAGGED} or {_TAGGED}",
    f"{_ICMP_BASE} or {_TUNNELS} or {_L2}",
    f"{_ICMP_BASE} or {_TUNNELS}",
    _ICMP_BASE,
)
ICMP_BPF = ICMP_BPF_CANDIDATES[0]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``pcapping sniff``'s options (tcpdump's letters)."""
    p.add_argument("-i", dest="interface", default=None,
                   help="capture live on IFACE (any: every interface; default: the default "
                        "route's interface)")
    p.add_argument("-r", dest="read", metavar="FILE", default=None,
                   help="read a pcap/pcapng (-: standard input)")
    p.add_argument("-w", dest="write", metavar="FILE", default=None,
                   help="also write frames (-: standard output, which then carries nothing else)")
    p.add_argument("-c", dest="count", type=int, default=None,
                   help="stop after COUNT frames (default: no limit)")
    p.add_argument("--icmp", action="store_true",
                   help="only ICMP, ICMPv6 (NDP, MLD) and ARP, VLAN-tagged and tunnelled too")
    p.add_argument("-v", dest="verbose", action="count", default=0, help="tcpdump -v")
    p.add_argument("-e", dest="link", action="store_true", help="print link-level header")
    p.add_argument("-X", dest="hex", action="count", default=0,
                   help="hex and ASCII dump (-XX: from the link header)")
    p.add_argument("-x", dest="xdump", action="count", default=0,
                   help="hex dump (-xx: from the link header)")
    p.add_argument("-A", dest="ascii", action="count", default=0,
                   help="ASCII dump (-AA: from the link header)")
    p.add_argument("-t", dest="tflag", action="count", default=0,
                   help="-t no time stamp, -tt seconds, -ttt since the previous frame, "
                        "-tttt date and time, -ttttt since the first frame")
    p.add_argument("-#", "--number", dest="number", action="store_true",
                   help="print each frame's number")
    p.add_argument("-l", dest="line_buffered", action="store_true",
                   help="line-buffered standard output")
    p.add_argument("-Z", dest="user", metavar="USER", default=None,
                   help="drop privileges to USER once the capture is open")
    p.add_argument("-n", dest="numeric", action="store_true", help="accepted; always numeric")
    p.add_argument("--json", action="store_true", help="one JSON object per frame")
    p.add_argument("-q", dest="quiet", action="store_true", help="only a closing summary")
    p.add_argument("--version", action=_Version, help="print versions and exit")
    p.add_argument("bpf", nargs="*", help="BPF filter expression")


class _Version(argparse.Action):
    """``sniff --version``: pcapping's and the bundled libpcap's, like tcpdump's."""

    def __init__(self, option_strings: list[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        from pcapping import __version__
        from pcapping.io.capture import libpcap_version

        sys.stdout.write(f"pcapping sniff {__version__}\n{libpcap_version()}\n")
        raise SystemExit(0)


def _is_icmp_or_arp(d: Decoded) -> bool:
    """ICMP, ICMPv6 (NDP and MLD included: the chain ends in 58) or ARP."""
    return d.arp is not None or d.is_icmp or d.is_icmp6


def summary_text(t: Tally) -> str:
    """The closing summary of ``sniff -q``."""
    lines = [
        f"{t.frames} frames: {t.ipv4} IPv4, {t.icmp} ICMP, {t.arp} ARP",
    ]
    for (icmp_type, code), n in sorted(t.icmp_types.items()):
        try:
            name = ICMPType(icmp_type).name.lower().replace("_", " ")
        except ValueError:
            name = "unknown"
        lines.append(f"  ICMP type {icmp_type} code {code} ({name}): {n}")
    lines.append(f"{t.ipv6} IPv6, {t.icmp6} ICMPv6")
    for (icmp_type, code), n in sorted(t.icmp6_types.items()):
        try:
            name = ICMP6Type(icmp_type).name.lower().replace("_", " ")
        except ValueError:
            name = "unknown"
        lines.append(f"  ICMPv6 type {icmp_type} code {code} ({name}): {n}")
    lines.append(f"bad IPv4 checksums: {t.bad_ip_checksum}")
    lines.append(f"bad ICMP checksums: {t.bad_icmp_checksum}")
    lines.append(f"bad ICMPv6 checksums: {t.bad_icmp6_checksum}")
    lines.append(f"truncated: {t.truncated}")
    lines.append(f"undecodable: {t.undecodable}")
    return "\n".join(lines)


def summarize_file(path: str) -> Tally:
    """Count a whole file the way ``sniff -q -r FILE`` does (also used by the benchmark)."""
    t = Tally()
    _tally_all(PcapReader(path), t)
    return t


def _tally_all(reader: PcapReader, t: Tally) -> None:
    """The -q fast path: count every record without building objects."""
    if reader.pcapng:  # link type may change from one interface to the next
        for rec in reader:
            tally(t, rec.data, rec.linktype)
        return
    linktype = reader.linktype
    count = tally  # (a local: one global lookup fewer per frame)
    for data in reader.frames():
        count(t, data, linktype)


def _frame_filter(bpf: str | None, linktype: int) -> Callable[[bytes], bool] | None:
    if not bpf:
        return None
    from pcapping.io.capture import compile_filter

    return compile_filter(bpf, linktype)


class _Printer:
    """Turns decoded frames into the chosen output; counts for -q."""

    def __init__(self, args: Any, out: TextIO) -> None:
        self.out = out
        self.quiet = args.quiet
        self.json = args.json
        self.silent = args.write == "-"  # standard output carries the pcap
        self.tally = Tally()
        self.shown = 0  # frames emitted so far (kept here so Ctrl-C can still report it)
        self.formatter = None
        if not self.quiet and not self.json and not self.silent:
            from pcapping.tcpdump.formatter import TcpdumpFormatter

            self.formatter = TcpdumpFormatter(
                verbose=args.verbose, link=args.link, hexdump=args.hex, xdump=args.xdump,
                ascii=args.ascii, tflag=args.tflag, number=args.number)

    def emit(self, d: Decoded) -> None:
        self.shown += 1
        if self.quiet:
            self.tally.add(d)
        elif self.silent:
            return
        elif self.json:
            self.out.write(json.dumps(d.to_dict(), separators=(",", ":")) + "\n")
        else:
            self.out.write(self.formatter.format(d) + "\n")  # type: ignore[union-attr]


def _process(
    records: Iterable[Captured],
    args: Any,
    printer: _Printer,
    keep: Callable[[bytes], bool] | None,
    writer: PcapWriter | None,
) -> None:
    """Decode, filter, print and write records (at most ``-c`` of them)."""
    limit = args.count
    icmp_only = args.icmp
    for number, rec in enumerate(records, 1):
        if keep is not None and not keep(rec.data):
            continue
        d = decode_frame(rec.data, rec.linktype, frame=number, ts_sec=rec.ts_sec,
                         ts_usec=rec.ts_usec, length=rec.length)
        if icmp_only and not _is_icmp_or_arp(d):
            continue
        if writer is not None:
            writer.write(rec.ts_sec, rec.ts_usec, rec.data, rec.length)
        printer.emit(d)
        if limit is not None and printer.shown >= limit:
            break


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _setup(args: Any) -> None:
    """Signals and buffering, as tcpdump sets them up."""
    # installed whatever was inherited: a background job of a script starts with SIGINT
    # ignored, and Python would leave it so
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    if args.line_buffered:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def _summary_out(args: Any, out: TextIO) -> TextIO:
    """Where -q's summary goes: standard error when standard output carries the pcap."""
    return sys.stderr if args.write == "-" else out


def _drop(args: Any) -> None:
    if args.user:
        from pcapping.io.privileges import drop_privileges

        said = drop_privileges(args.user)
        if said:
            sys.stderr.write(said + "\n")
            sys.stderr.flush()


def run(args: Any) -> int:
    if args.count is not None and args.count <= 0:
        raise PcappingError(f"invalid packet count {args.count}: must be a positive number")
    if args.read and args.interface:
        raise PcappingError("use either -r FILE or -i IFACE, not both")
    if args.tflag > 5:
        raise PcappingError("only -t, -tt, -ttt, -tttt and -ttttt are supported")
    bpf = " ".join(args.bpf).strip() or None
    out = sys.stdout
    _setup(args)
    if args.read:
        return _run_file(args, bpf, out)
    return _run_live(args, bpf, out)


def _run_file(args: Any, bpf: str | None, out: TextIO) -> int:
    reader = PcapReader(args.read)
    linktype = reader.linktype
    sys.stderr.write(reading_from(args.read, reader))
    interrupted = False
    if args.quiet and not args.write and args.count is None and not bpf and not args.icmp:
        _drop(args)
        t = Tally()
        try:
            _tally_all(reader, t)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            out.write(summary_text(t) + "\n")
        return 0
    keep = _frame_filter(bpf, linktype)
    printer = _Printer(args, out)  # (everything imported before -Z drops root)
    _drop(args)
    writer = PcapWriter(args.write, linktype, reader.snaplen) if args.write else None
    try:
        _process(reader, args, printer, keep, writer)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if writer is not None:
            writer.close()
        if args.quiet:
            _summary_out(args, out).write(summary_text(printer.tally) + "\n")
        out.flush()
        if interrupted:
            sys.stderr.write("\n")
    return 0


def reading_from(path: str, reader: PcapReader) -> str:
    """tcpdump's header lines for a file (the snapshot length of pcapng's first interface)."""
    text = (f"reading from file {path}, link-type {linktype_text(reader.linktype)}, "
            f"snapshot length {reader.snaplen}\n")
    if reader.linktype == 276:
        text += "Warning: interface names might be incorrect\n"
    return text


def icmp_prefilter(linktype: int) -> str:
    """The first ``--icmp`` prefilter candidate that compiles for ``linktype``."""
    from pcapping.io.capture import compile_filter

    for candidate in ICMP_BPF_CANDIDATES[:-1]:
        try:
            compile_filter(candidate, linktype)
        except PcappingError:
            continue
        return candidate
    return ICMP_BPF_CANDIDATES[-1]


def _run_live(args: Any, bpf: str | None, out: TextIO) -> int:
    from pcapping.io.capture import AnyCapture, LiveCapture

    interface = args.interface
    if interface is None:
        from pcapping.io.netinfo import default_interface

        interface = default_interface()
    handle: Any
    if interface == "any":
        expression = bpf
        if args.icmp:
            pre = icmp_prefilter(113)  # AnyCapture filters the SLL v1 form of each frame
            expression = f"({pre}) and ({bpf})" if bpf else pre
        handle = AnyCapture(bpf=expression)
        sys.stderr.write(f"pcapping: data link type {dlt_name(handle.linktype)}\n")
    else:
        handle = LiveCapture(interface, timeout_ms=100)
        expression = bpf
        if args.icmp:
            pre = icmp_prefilter(handle.linktype)
            expression = f"({pre}) and ({bpf})" if bpf else pre
        if expression:
            handle.set_filter(expression)
    sys.stderr.write(
        f"listening on {interface}, link-type {linktype_text(handle.linktype)}, "
        f"snapshot length 262144 bytes\n")
    sys.stderr.flush()
    printer = _Printer(args, out)  # (everything imported before -Z drops root)
    _drop(args)
    writer = PcapWriter(args.write, handle.linktype) if args.write else None
    interrupted = False
    try:
        _process(_live_records(handle, out), args, printer, None, writer)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        received, dropped, _ifdropped = handle.stats()
        handle.close()
        if writer is not None:
            writer.close()
        if args.quiet:
            _summary_out(args, out).write(summary_text(printer.tally) + "\n")
        out.flush()
        if interrupted:
            sys.stderr.write("\n")
        sys.stderr.write(
            f"{printer.shown} packets captured\n"
            f"{received} packets received by filter\n{dropped} packets dropped by kernel\n")
    return 0


def _live_records(handle: Any, out: TextIO) -> Iterable[Captured]:
    """Frames as they come, flushing output whenever the handle goes idle."""
    read = handle.read
    while True:
        rec = read()
        if rec is None:
            out.flush()
            handle.wait(0.5)
            continue
        yield rec
