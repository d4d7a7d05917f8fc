"""Command line: the only module that touches argv and exit statuses.

Each command lives in its own module with ``run(args) -> int``; they are
imported lazily so that ``pcapping send -c 1`` pays only for what it uses.
Any ``PcappingError`` becomes one line on stderr and exit status 2;
Ctrl-C is handled inside the commands (they print statistics first).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pcapping.errors import PcappingError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"pcapping: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pcapping", description="ping and ICMP inspection from the wire up")
    sub = parser.add_subparsers(dest="command", metavar="{send,sniff,lab}", parser_class=_Parser)
    sub.required = True

    send = sub.add_parser("send", help="ping HOST with hand-built frames over libpcap")
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

    sniff = sub.add_parser("sniff", help="decode ICMP and ARP like tcpdump")
    sniff.add_argument("-i", dest="interface", default=None, help="capture live on IFACE")
    sniff.add_argument("-r", dest="read", metavar="FILE", default=None, help="read a pcap/pcapng")
    sniff.add_argument("-w", dest="write", metavar="FILE", default=None, help="also write frames")
    sniff.add_argument("-c", dest="count", type=int, default=None, help="stop after COUNT frames")
    sniff.add_argument("--icmp", action="store_true", help="only ICMP (VLAN too) and ARP")
    sniff.add_argument("-v", dest="verbose", action="count", default=0, help="tcpdump -v")
    sniff.add_argument("-e", dest="link", action="store_true", help="print link-level header")
    sniff.add_argument("-X", dest="hex", action="store_true", help="hex and ASCII dump")
    sniff.add_argument("-n", dest="numeric", action="store_true", help="accepted; always numeric")
    sniff.add_argument("--json", action="store_true", help="one JSON object per frame")
    sniff.add_argument("-q", dest="quiet", action="store_true", help="only a closing summary")
    sniff.add_argument("bpf", nargs="*", help="BPF filter expression")

    lab = sub.add_parser("lab", help="a network of namespaces to try it on")
    lab.add_argument("action", choices=["up", "down", "status", "demo"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "send":
            from pcapping import send as command
        elif args.command == "sniff":
            from pcapping import sniff as command
        else:
            from pcapping import lab as command
        return command.run(args)
    except PcappingError as exc:
        sys.stderr.write(f"pcapping: {exc}\n")
        return 2
    except BrokenPipeError:
        # `pcapping sniff ... | head`: stop quietly, as tcpdump does.
        sys.stderr.close()
        return 0
