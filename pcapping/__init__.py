"""pcapping: ping and ICMP inspection built from the wire up.

Library API (see DESIGN.md):
- ``decode_frame(data, linktype=1) -> Decoded`` never raises;
- ``read_capture(path) -> Iterator[Decoded]`` streams pcap/pcapng in constant memory;
- ``Decoded.to_dict()`` is the ``sniff --json`` object;
- ``ping(host, count=..., ...)`` runs ``send`` and returns its events and statistics;
- ``trace(host, method=..., ...)`` runs ``trace`` and returns its events and summary;
- ``sweep(targets | generate=NET/LEN | file=..., count=..., rate=...)`` runs a many-target
  ``send`` (fping-style) and returns its JSON events, summary and exit status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pcapping.decode import Decoded, LinkType, decode_frame
from pcapping.errors import DecodeError, Malformed, PcappingError, Truncated

__version__ = "0.1.0"
__all__ = [
    "DecodeError", "Decoded", "LinkType", "Malformed", "PcappingError", "Truncated",
    "decode_frame", "ping", "read_capture", "sweep", "trace",
]


def read_capture(path: str) -> Iterator[Decoded]:
    """Decode every frame of a pcap or pcapng file, streaming."""
    from pcapping.io.pcapfile import PcapReader

    for number, rec in enumerate(PcapReader(path), 1):
        yield decode_frame(
            rec.data, rec.linktype, frame=number, ts_sec=rec.ts_sec, ts_usec=rec.ts_usec,
            length=rec.length,
        )


def ping(host: str, **options: Any) -> Any:
    """Run ``pcapping send`` from Python; returns its events and statistics."""
    from pcapping.send import ping as _ping

    return _ping(host, **options)


def sweep(targets: list[str] | None = None, **options: Any) -> Any:
    """Run a many-target ``pcapping send`` (fping-style) from Python; returns its events."""
    from pcapping.many import sweep as _sweep

    return _sweep(targets, **options)


def trace(host: str, **options: Any) -> Any:
    """Run ``pcapping trace`` from Python; returns its events, summary and exit status."""
    from pcapping.trace import trace as _trace

    return _trace(host, **options)
