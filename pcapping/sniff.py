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
import glob
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from pcapping.decode import Decoded, Tally, decode_frame, icmp_verdict, tally
from pcapping.errors import PcappingError
from pcapping.io.linktypes import dlt_name, linktype_text
from pcapping.io.pcapfile import PcapReader, PcapWriter
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
    p.add_argument("-r", dest="read", metavar="FILE", nargs="+", action="extend",
                   default=None,
                   help="read pcap/pcapng files (-: standard input); several files and "
                        "globs ('caps/*.pcap') are decoded in parallel, output in order")
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
    p.add_argument("--parquet", metavar="OUT", default=None,
                   help="write the --json fields as a Parquet table, one row per frame "
                        "(needs pyarrow: the extra 'parquet')")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="worker processes for several -r files, or for the parts of one "
                   "large pcap file (default: the cores)")
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


def icmp_selected(data: bytes, linktype: int, **decode: Any) -> tuple[bool, Decoded | None]:
    """Whether ``--icmp`` shows this frame, and the decoded frame when deciding took one
    (``decode``: ``decode_frame``'s keywords); the bytes decide where they suffice."""
    verdict = icmp_verdict(data, linktype)
    if verdict is not None:
        return verdict, None
    d = decode_frame(data, linktype, **decode)
    return _is_icmp_or_arp(d), d


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


def formatter_options(args: Any) -> dict[str, Any]:
    """The TcpdumpFormatter keywords of sniff's options."""
    return {"verbose": args.verbose, "link": args.link, "hexdump": args.hex,
            "xdump": args.xdump, "ascii": args.ascii, "tflag": args.tflag,
            "number": args.number}


class _Printer:
    """Turns frames into the chosen output; counts for -q.

    ``render(data, linktype, length, sec, usec, number, d)`` gives a frame's text (no
    newline) or None: tcpdump's lines straight from the bytes (no decoding), the JSON
    object (``report.jsonframe``: straight from the bytes for the common shapes), or
    nothing but a count (-q: ``decode.tally``, which builds no objects).  ``d`` is the
    decoded frame when the caller needed one anyway (--icmp).
    """

    def __init__(self, args: Any, out: TextIO) -> None:
        self.out = out
        self.quiet = args.quiet
        self.json = args.json
        self.silent = args.write == "-"  # standard output carries the pcap
        self.tally = Tally()
        self.shown = 0  # frames emitted so far (kept here so Ctrl-C can still report it)
        self.formatter = None
        self.frame_json = None
        self.parquet = None
        if self.quiet or self.silent:
            pass
        elif getattr(args, "parquet", None):
            from pcapping.report.columns import ParquetFrames

            self.parquet = ParquetFrames(args.parquet)
        elif self.json:
            from pcapping.report.jsonframe import frame_json

            self.frame_json = frame_json
        else:
            from pcapping.tcpdump.formatter import TcpdumpFormatter

            self.formatter = TcpdumpFormatter(**formatter_options(args))

    def fresh_formatter(self) -> None:
        """A new formatter (its -ttt reference, -# count and TCP numbers start again)."""
        fmt = self.formatter
        from pcapping.tcpdump.formatter import TcpdumpFormatter

        self.formatter = TcpdumpFormatter(
            verbose=fmt.verbose, link=fmt.link, hexdump=fmt.hexdump, xdump=fmt.xdump,
            ascii=fmt.ascii, tflag=fmt.tflag, number=fmt.number)

    def render(self, data: bytes, linktype: int, length: int, sec: int, usec: int,
               number: int, d: Decoded | None) -> str | None:
        if self.formatter is not None:
            return self.formatter.format_record(data, linktype, length, sec, usec)
        if self.frame_json is not None:
            if d is not None:
                from pcapping.report.jsonframe import dumps

                return dumps(d.to_dict())
            return self.frame_json(data, linktype, number, sec, usec, length)
        if self.parquet is not None:
            if d is None:
                d = decode_frame(data, linktype, frame=number, ts_sec=sec, ts_usec=usec,
                                 length=length)
            self.parquet.add(d.to_dict())
            return None
        if self.quiet:
            if d is not None:
                self.tally.add(d)
            else:
                tally(self.tally, data, linktype)
        return None

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None


Batches = Iterable[list[tuple[int, int, int, bytes, int]]]


def _process(
    batches: Batches,
    args: Any,
    printer: _Printer,
    keep: Callable[[bytes], bool] | None,
    writer: PcapWriter | None,
    buffered: bool = True,
) -> None:
    """Filter, print and write records (at most ``-c`` of them), frame numbers counting
    from 1 over every record read.  ``buffered``: lines are written a batch at a time
    (files), else one by one (live, and -l)."""
    limit = args.count
    icmp_only = args.icmp
    out_write = printer.out.write
    formatter = printer.formatter
    if (keep is None and writer is None and limit is None and not icmp_only and buffered
            and (formatter is not None or printer.frame_json is not None)):
        _print_all(batches, printer)
        return
    render = printer.render
    number = 0
    pending: list[str] = []
    try:
        for batch in batches:
            for sec, usec, length, data, linktype in batch:
                number += 1
                if keep is not None and not keep(data):
                    continue
                d = None
                if icmp_only:
                    chosen, d = icmp_selected(data, linktype, frame=number, ts_sec=sec,
                                              ts_usec=usec, length=length)
                    if not chosen:
                        continue
                if writer is not None:
                    writer.write(sec, usec, data, length)
                text = render(data, linktype, length, sec, usec, number, d)
                printer.shown += 1
                if text is not None:
                    if buffered:
                        pending.append(text)
                    else:
                        out_write(text + "\n")
                if limit is not None and printer.shown >= limit:
                    return
            if pending:
                pending.append("")
                out_write("\n".join(pending))
                pending = []
    finally:
        if pending:
            pending.append("")
            out_write("\n".join(pending))


def _print_all(batches: Batches, printer: _Printer) -> None:
    """The whole file as text or JSON, a batch of lines per write (the common case)."""
    out_write = printer.out.write
    number = 0
    fmt = printer.formatter
    if fmt is not None:
        line = fmt.format_record
        for batch in batches:
            lines = [line(data, linktype, length, sec, usec)
                     for sec, usec, length, data, linktype in batch]
            lines.append("")
            out_write("\n".join(lines))
            printer.shown += len(batch)
        return
    obj = printer.frame_json
    for batch in batches:
        lines = []
        add = lines.append
        for sec, usec, length, data, linktype in batch:
            number += 1
            add(obj(data, linktype, number, sec, usec, length))  # type: ignore[misc]
        lines.append("")
        out_write("\n".join(lines))
        printer.shown += len(batch)


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
    if args.jobs is not None and args.jobs < 1:
        raise PcappingError(f"invalid number of jobs {args.jobs}: must be a positive number")
    if args.parquet and (args.json or args.quiet or args.write == "-"):
        raise PcappingError("--parquet cannot be used with --json, -q or -w -")
    words = list(args.bpf)
    paths: list[str] = []
    if args.read:
        paths, more = expand_files(args.read)
        words = more + words
    bpf = " ".join(words).strip() or None
    out = sys.stdout
    _setup(args)
    if paths:
        if len(paths) == 1:
            jobs = args.jobs or os.cpu_count() or 1
            if jobs > 1:
                from pcapping import sniff_split

                if sniff_split.splittable(args, paths[0], bpf):
                    return sniff_split.run_split(
                        args, paths[0], out, jobs,
                        None if args.json else formatter_options(args), bpf)
            return _run_files(args, paths, bpf, out)
        jobs = args.jobs or os.cpu_count() or 1
        if (jobs > 1 and args.count is None and not args.write and not args.parquet
                and not args.line_buffered):
            return _run_parallel(args, paths, bpf, out, min(jobs, len(paths)))
        return _run_files(args, paths, bpf, out)
    return _run_live(args, bpf, out)


_CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".dmp")


def expand_files(items: list[str]) -> tuple[list[str], list[str]]:
    """``-r``'s arguments as (files, the words of a BPF expression that followed them).

    Each argument is a file, ``-`` (standard input, alone), or a glob pattern matching
    files (sorted); the first argument that is none of these, and everything after it,
    is the start of the filter expression (``sniff -r a.pcap b.pcap icmp``).  The first
    argument, and any that looks like a capture's name (a ``.pcap``/``.pcapng``/``.cap``
    suffix, a directory part), is always a file (a missing one is reported as such).
    """
    files: list[str] = []
    for i, item in enumerate(items):
        if item == "-" or os.path.exists(item):
            files.append(item)
            continue
        if any(ch in item for ch in "*?["):
            found = sorted(p for p in glob.glob(item) if not os.path.isdir(p))
            if found:
                files += found
                continue
            if i == 0:
                raise PcappingError(f"{item}: no file matches")
        if i == 0 or item.endswith(_CAPTURE_SUFFIXES) or os.sep in item:
            files.append(item)  # a missing file: PcapReader says so
            continue
        return files, items[i:]
    if "-" in files and len(files) > 1:
        raise PcappingError("-r -: standard input cannot be read with other files")
    return files, []


def _run_files(args: Any, paths: list[str], bpf: str | None, out: TextIO) -> int:
    """The files one after another, each decoded as if alone (frame numbers, -ttt and
    TCP's relative numbers start again), into one output: one -q summary, one -w file,
    one Parquet table, -c counting across them."""
    if (args.quiet and not args.write and args.count is None and not bpf and not args.icmp
            and not args.parquet):
        _drop(args)
        t = Tally()
        try:
            for path in paths:
                reader = PcapReader(path)
                sys.stderr.write(reading_from(path, reader))
                sys.stderr.flush()
                _tally_all(reader, t)
        finally:
            out.write(summary_text(t) + "\n")
        return 0
    readers = [PcapReader(paths[0])]
    printer = _Printer(args, out)  # (everything imported before -Z drops root)
    _drop(args)
    writer = None
    interrupted = False
    try:
        for i, path in enumerate(paths):
            reader = readers[0] if i == 0 else PcapReader(path)
            sys.stderr.write(reading_from(path, reader))
            sys.stderr.flush()
            if i and printer.formatter is not None:
                printer.fresh_formatter()
            if args.write and writer is None:
                writer = PcapWriter(args.write, reader.linktype, reader.snaplen)
            keep = _frame_filter(bpf, reader.linktype)
            _process(reader.batches(), args, printer, keep, writer,
                     buffered=not args.line_buffered)
            if args.count is not None and printer.shown >= args.count:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        printer.close()
        if writer is not None:
            writer.close()
        if args.quiet:
            _summary_out(args, out).write(summary_text(printer.tally) + "\n")
        out.flush()
        if interrupted:
            sys.stderr.write("\n")
    return 0


def _file_job(job: tuple[str, Any, str | None, str]) -> tuple[str, str | None, Tally | None]:
    """One file of ``_run_parallel``, in a worker: its output into a file of ``tmpdir``;
    returns (its stderr text, the error that ended it, its -q tally)."""
    path, args, bpf, target = job
    err: list[str] = []
    with open(target, "w", encoding="utf-8", errors="surrogateescape") as fh:
        try:
            if args.quiet and not bpf and not args.icmp:
                reader = PcapReader(path)
                err.append(reading_from(path, reader))
                t = Tally()
                _tally_all(reader, t)
                return "".join(err), None, t
            reader = PcapReader(path)
            err.append(reading_from(path, reader))
            printer = _Printer(args, fh)
            _process(reader.batches(), args, printer, _frame_filter(bpf, reader.linktype),
                     None)
            return "".join(err), None, printer.tally if args.quiet else None
        except PcappingError as exc:
            return "".join(err), str(exc), None


_POOL_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to the parent and ends quietly when told to (the signals
    were blocked across the fork: one sent before this ran is acted on only now)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _POOL_SIGNALS)


def worker_pool(jobs: int) -> Any:
    """A pool of ``jobs`` forked workers that ``terminate()`` always ends.  SIGINT and
    SIGTERM are blocked while the workers are forked: a worker that is told to end
    before it has set its own handlers would otherwise run the parent's handler later,
    or none, and live on (blocked on the task queue, with ``terminate`` waiting for it)."""
    import multiprocessing

    old = signal.pthread_sigmask(signal.SIG_BLOCK, _POOL_SIGNALS)
    try:
        return multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_signals)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _run_parallel(args: Any, paths: list[str], bpf: str | None, out: TextIO,
                  jobs: int) -> int:
    """Several files over ``jobs`` worker processes, output in the files' order, exactly
    as ``_run_files`` writes it: each worker writes one file's output to a temporary
    file, which is copied out as soon as the files before it are done."""
    import shutil
    import tempfile

    _drop(args)
    t = Tally()
    status = 0
    with tempfile.TemporaryDirectory(prefix="pcapping-sniff-") as tmp:
        work = [(path, args, bpf, os.path.join(tmp, f"{i}.out"))
                for i, path in enumerate(paths)]
        pool = worker_pool(jobs)
        try:
            for (_path, _a, _b, target), (err, problem, counted) in zip(
                    work, pool.imap(_file_job, work, chunksize=1), strict=True):
                sys.stderr.write(err)
                sys.stderr.flush()
                with open(target, encoding="utf-8", errors="surrogateescape") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
                os.unlink(target)
                if counted is not None:
                    t.merge(counted)
                if problem is not None:
                    out.flush()
                    sys.stderr.write(f"pcapping: {problem}\n")
                    status = 2
                    break
        except KeyboardInterrupt:
            sys.stderr.write("\n")
        finally:
            pool.terminate()  # (the workers are idle or no longer wanted)
            pool.join()
            if args.quiet:
                out.write(summary_text(t) + "\n")
            out.flush()
    return status


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
    if args.quiet and not args.write and not args.icmp and interface != "any":
        return _run_live_count(args, interface, bpf, out)
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
        _process(_live_records(handle, out), args, printer, None, writer, buffered=False)
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


def _run_live_count(args: Any, interface: str, bpf: str | None, out: TextIO) -> int:
    """-q live: ``livecount`` (batches, no objects, PACKET_FANOUT workers: ``-j``, default
    the cores; one process with -c)."""
    from pcapping.livecount import count_live

    def ready(linktype: int) -> None:
        sys.stderr.write(
            f"listening on {interface}, link-type {linktype_text(linktype)}, "
            f"snapshot length 262144 bytes\n")
        sys.stderr.flush()
        _drop(args)

    workers = args.jobs or os.cpu_count() or 1
    t, (received, dropped) = count_live(interface, bpf, workers, args.count, ready,
                                        args.user)
    _summary_out(args, out).write(summary_text(t) + "\n")
    out.flush()
    if args.count is None:
        sys.stderr.write("\n")
    sys.stderr.write(f"{t.frames} packets captured\n{received} packets received by filter\n"
                     f"{dropped} packets dropped by kernel\n")
    return 0


def _live_records(handle: Any, out: TextIO) -> Batches:
    """Frames as they come (a batch of one each), flushing output whenever the handle
    goes idle."""
    read = handle.read
    while True:
        rec = read()
        if rec is None:
            out.flush()
            handle.wait(0.5)
            continue
        yield [rec]
