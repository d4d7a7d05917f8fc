"""``pcapping sniff``: decode what is on the wire or in a file.

Per frame: tcpdump's text (``tcpdump.TcpdumpFormatter``), a JSON object
(``Decoded.to_dict()``), or nothing but a closing summary (``-q``).
A damaged file prints every complete record first, then one line on stderr
and exit status 2.  Ctrl-C on a live capture ends it with tcpdump's counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from pcapping.decode import Decoded, Tally, decode_frame, tally
from pcapping.errors import PcappingError
from pcapping.io.pcapfile import Captured, PcapReader, PcapWriter
from pcapping.wire.icmp import ICMPType
from pcapping.wire.icmp6 import ICMP6Type

# Kernel-side prefilter for --icmp on live handles; the exact test is `_is_icmp_or_arp`
# on the decoded frame (a bare `icmp` misses VLAN-tagged ICMP, and `vlan` must come last).
# `icmp6` matches only ICMPv6 right after the fixed header, so IPv6 datagrams whose first
# next header is neither TCP nor UDP pass too (MLD behind hop-by-hop options, fragments,
# routing headers): the decoded frame decides.  Each `vlan` moves the offsets of all that
# follows it, so the tagged clause written twice also lets double-tagged (QinQ) frames by.
_TAGGED = "(vlan and (icmp or arp or ip6))"
ICMP_BPF = ("icmp or arp or icmp6 or (ip6 and not ip6 proto 6 and not ip6 proto 17) "
            f"or {_TAGGED} or {_TAGGED}")

LINKTYPE_NAMES = {
    0: "NULL (BSD loopback)", 1: "EN10MB (Ethernet)", 12: "RAW (Raw IP)", 14: "RAW (Raw IP)",
    101: "RAW (Raw IP)", 108: "LOOP (OpenBSD loopback)", 113: "LINUX_SLL (Linux cooked v1)",
    228: "IPV4 (Raw IPv4)", 229: "IPV6 (Raw IPv6)", 276: "LINUX_SLL2 (Linux cooked v2)",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``pcapping sniff``'s options (tcpdump's letters)."""
    p.add_argument("-i", dest="interface", default=None,
                   help="capture live on IFACE (default: the default route's interface)")
    p.add_argument("-r", dest="read", metavar="FILE", default=None, help="read a pcap/pcapng")
    p.add_argument("-w", dest="write", metavar="FILE", default=None, help="also write frames")
    p.add_argument("-c", dest="count", type=int, default=None,
                   help="stop after COUNT frames (default: no limit)")
    p.add_argument("--icmp", action="store_true",
                   help="only ICMP, ICMPv6 (NDP, MLD) and ARP, VLAN-tagged too")
    p.add_argument("-v", dest="verbose", action="count", default=0, help="tcpdump -v")
    p.add_argument("-e", dest="link", action="store_true", help="print link-level header")
    p.add_argument("-X", dest="hex", action="store_true", help="hex and ASCII dump")
    p.add_argument("-n", dest="numeric", action="store_true", help="accepted; always numeric")
    p.add_argument("--json", action="store_true", help="one JSON object per frame")
    p.add_argument("-q", dest="quiet", action="store_true", help="only a closing summary")
    p.add_argument("bpf", nargs="*", help="BPF filter expression")


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
    for data in reader.frames():
        tally(t, data, linktype)


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
        self.tally = Tally()
        self.shown = 0  # frames emitted so far (kept here so Ctrl-C can still report it)
        self.formatter = None
        if not self.quiet and not self.json:
            from pcapping.tcpdump.formatter import TcpdumpFormatter

            self.formatter = TcpdumpFormatter(
                verbose=args.verbose, link=args.link, hexdump=args.hex)

    def emit(self, d: Decoded) -> None:
        self.shown += 1
        if self.quiet:
            self.tally.add(d)
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


def run(args: Any) -> int:
    if args.count is not None and args.count <= 0:
        raise PcappingError(f"invalid packet count {args.count}: must be a positive number")
    if args.read and args.interface:
        raise PcappingError("use either -r FILE or -i IFACE, not both")
    bpf = " ".join(args.bpf).strip() or None
    out = sys.stdout
    if args.read:
        return _run_file(args, bpf, out)
    return _run_live(args, bpf, out)


def _run_file(args: Any, bpf: str | None, out: TextIO) -> int:
    reader = PcapReader(args.read)
    linktype = reader.linktype
    sys.stderr.write(
        f"reading from file {args.read}, link-type {LINKTYPE_NAMES.get(linktype, linktype)}, "
        f"snapshot length {reader.snaplen}\n")
    if args.quiet and not args.write and args.count is None and not bpf and not args.icmp:
        t = Tally()
        try:
            _tally_all(reader, t)
        finally:
            out.write(summary_text(t) + "\n")
        return 0
    keep = _frame_filter(bpf, linktype)
    printer = _Printer(args, out)
    writer = PcapWriter(args.write, linktype) if args.write else None
    try:
        _process(reader, args, printer, keep, writer)
    finally:
        if writer is not None:
            writer.close()
        if args.quiet:
            out.write(summary_text(printer.tally) + "\n")
        out.flush()
    return 0


def _run_live(args: Any, bpf: str | None, out: TextIO) -> int:
    from pcapping.io.capture import LiveCapture

    interface = args.interface
    if interface is None:
        from pcapping.io.netinfo import default_interface

        interface = default_interface()
    expression = bpf
    if args.icmp:
        expression = f"({ICMP_BPF}) and ({bpf})" if bpf else ICMP_BPF
    handle = LiveCapture(interface, bpf=expression, timeout_ms=100)
    sys.stderr.write(
        f"listening on {interface}, link-type "
        f"{LINKTYPE_NAMES.get(handle.linktype, handle.linktype)}, snapshot length 262144 bytes\n")
    sys.stderr.flush()
    printer = _Printer(args, out)
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
            out.write(summary_text(printer.tally) + "\n")
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
