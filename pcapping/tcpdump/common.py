"""What the tcpdump formatter and its printer mixins share: the longjmp, the hex dump."""

from __future__ import annotations

_PRINTABLE = bytes(c if 0x20 < c < 0x7F else 0x2E for c in range(256))


class Trunc(Exception):
    """tcpdump's longjmp on a fetch past the captured data (a hard stop)."""


def hex_ascii(data: bytes, start: int = 0) -> str:
    """tcpdump -X lines (each starting with a newline and a tab) for ``data``."""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off: off + 16]
        hx = chunk.hex()
        groups = " ".join(hx[i: i + 4] for i in range(0, len(hx), 4))
        text = chunk.translate(_PRINTABLE).decode()
        out.append(f"\n\t0x{off + start:04x}:  {groups:<39}  {text}")
    return "".join(out)


__all__ = ["Trunc", "hex_ascii"]
