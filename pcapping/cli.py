"""Command line: the only module that touches argv and exit statuses.

Each command lives in its own module with ``add_arguments(parser)`` (its options, defined
once there) and ``run(args) -> int``.  Only the module of the command being run is
imported, so that ``pcapping send -c 1`` pays only for what it uses; ``pcapping --help``
imports them all.  Any ``PcappingError`` becomes one line on stderr and exit status 2;
Ctrl-C is handled inside the commands (they print statistics first).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pcapping.errors import PcappingError

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "send": ("pcapping.send", "ping HOST with hand-built frames over libpcap"),
    "sniff": ("pcapping.sniff", "decode ICMP and ARP like tcpdump"),
    "trace": ("pcapping.trace", "the path to HOST hop by hop, and what each hop changed"),
    "lab": ("pcapping.lab", "a network of namespaces to try it on"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"pcapping: {message}\n")
        raise SystemExit(2)


def version_text() -> str:
    from pcapping import __version__

    return f"pcapping {__version__}"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's options are built (and imported)."""
    parser = _Parser(prog="pcapping", description="ping and ICMP inspection from the wire up")
    parser.add_argument("--version", action="version", version=version_text())
    names = "{" + ",".join(COMMANDS) + "}"
    sub = parser.add_subparsers(dest="command", metavar=names, parser_class=_Parser)
    sub.required = True
    for name, (module, text) in COMMANDS.items():
        if only is not None and name != only:
            continue
        command = sub.add_parser(name, help=text, description=text)
        importlib.import_module(module).add_arguments(command)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    if only is not None:  # a command may rewrite its own argv first (send: fping's -s, -l)
        normalize = getattr(importlib.import_module(COMMANDS[only][0]), "normalize_argv", None)
        if normalize is not None:
            argv = argv[:1] + normalize(argv[1:])
    args = build_parser(only).parse_args(argv)
    try:
        command = importlib.import_module(COMMANDS[args.command][0])
        return command.run(args)  # type: ignore[attr-defined]
    except PcappingError as exc:
        sys.stderr.write(f"pcapping: {exc}\n")
        return 2
    except BrokenPipeError:
        # `pcapping sniff ... | head`: stop quietly, as tcpdump does.
        sys.stderr.close()
        return 0
