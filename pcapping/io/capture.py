"""The capture adapter: the only module that imports pcapy.

Every source of frames satisfies ``Capture``: a live handle, a file and the
fakes in the tests, so ``sniff -i``, ``sniff -r``, ``send`` and the tests
share one decode path.

Live handles are opened with a short read timeout, in non-blocking mode, and
waited on with ``select`` on the handle's descriptor: a blocking ``next()``
on pcapy-ng never returns on a silent interface.  pcapy returns
``(None, b'')`` both on a read timeout and at the end of a file; that
ambiguity stays in this module (files are read by ``pcapfile`` anyway).
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from typing import Protocol

from pcapping.errors import PcappingError
from pcapping.io.pcapfile import Captured, PcapReader

__all__ = ["Capture", "Captured", "FileCapture", "LiveCapture", "open_file", "open_live"]

# Large enough that a burst of 250k small frames/s is not dropped while Python decodes.
DEFAULT_BUFFER_BYTES = 64 << 20
DEFAULT_SNAPLEN = 262144


class Capture(Protocol):
    linktype: int

    def read(self) -> Captured | None:  # None: read timeout, or end of file
        ...

    def __iter__(self) -> Iterator[Captured]: ...


class FileCapture:
    """A pcap or pcapng file (see ``pcapfile.PcapReader``)."""

    def __init__(self, path: str) -> None:
        self.reader = PcapReader(path)
        self.linktype = self.reader.linktype
        self._it = iter(self.reader)

    def read(self) -> Captured | None:
        return next(self._it, None)

    def __iter__(self) -> Iterator[Captured]:
        return self._it

    def close(self) -> None:
        self.reader.close()


def open_file(path: str) -> FileCapture:
    return FileCapture(path)


def _pcap_error(interface: str, exc: Exception) -> PcappingError:
    text = str(exc).strip()
    if not text.startswith(f"{interface}:"):
        text = f"{interface}: {text}"
    if "permission" in text.lower() or "not permitted" in text.lower():
        text += "; run as root or give the interpreter 'setcap cap_net_raw,cap_net_admin+eip'"
    return PcappingError(text)


_ACTIVATE_ERRORS = {
    -5: "No such device exists",
    -8: "You don't have permission to capture on that device",
    -9: "That device is not up",
}


def _activate_error(
    interface: str, status: int, snaplen: int, promisc: bool, timeout_ms: int
) -> PcappingError:
    """libpcap's own words for a failed activate(), got by asking open_live the same thing."""
    import pcapy

    try:
        pcapy.open_live(interface, snaplen, promisc, timeout_ms).close()
    except pcapy.PcapError as exc:
        return _pcap_error(interface, exc)
    text = _ACTIVATE_ERRORS.get(status, f"cannot capture (libpcap status {status})")
    return _pcap_error(interface, Exception(f"{interface}: {text}"))


class LiveCapture:
    """A live libpcap handle in non-blocking mode."""

    def __init__(
        self,
        interface: str,
        *,
        bpf: str | None = None,
        snaplen: int = DEFAULT_SNAPLEN,
        timeout_ms: int = 1,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        promisc: bool = False,
    ) -> None:
        import pcapy

        self.interface = interface
        try:
            handle = pcapy.create(interface)
            handle.set_snaplen(snaplen)
            handle.set_promisc(promisc)
            handle.set_timeout(timeout_ms)
            handle.set_buffer_size(buffer_bytes)
            status = handle.activate()  # pcapy-ng returns libpcap's status, never raises here
        except pcapy.PcapError as exc:
            raise _pcap_error(interface, exc) from None
        if status is not None and status < 0:
            handle.close()
            raise _activate_error(interface, status, snaplen, promisc, timeout_ms)
        self._handle = handle
        self.linktype: int = handle.datalink()
        if bpf:
            try:
                handle.setfilter(bpf)
            except Exception as exc:  # pcapy raises BPFError or PcapError
                handle.close()
                raise PcappingError(f"bad filter expression {bpf!r}: {exc}") from None
        handle.setnonblock(1)
        self.fd: int = handle.getfd()
        self._next = handle.next
        self._closed = False

    def read(self) -> Captured | None:
        """The next captured frame, or None when nothing is waiting (never blocks)."""
        hdr, data = self._next()
        if hdr is None:
            return None
        sec, usec = hdr.getts()
        return Captured(sec, usec, hdr.getlen(), bytes(data), self.linktype)

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` until frames may be waiting."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout_s, 0.0))
        return bool(ready)

    def __iter__(self) -> Iterator[Captured]:
        while not self._closed:
            got = self.read()
            if got is None:
                self.wait(0.25)
                continue
            yield got

    def inject(self, frame: bytes) -> None:
        """Send one whole link-layer frame."""
        try:
            sent = self._handle.sendpacket(frame)
        except Exception as exc:
            raise PcappingError(f"{self.interface}: cannot send: {exc}") from None
        if sent is not None and sent < 0:
            raise PcappingError(f"{self.interface}: cannot send a {len(frame)}-byte frame")

    def stats(self) -> tuple[int, int, int]:
        """(received, dropped by the kernel, dropped by the interface)."""
        try:
            return tuple(self._handle.stats())  # type: ignore[return-value]
        except Exception:  # a handle some platforms cannot count on
            return (0, 0, 0)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._handle.close()


def open_live(interface: str, **kw: object) -> LiveCapture:
    return LiveCapture(interface, **kw)  # type: ignore[arg-type]


def compile_filter(expression: str, linktype: int, snaplen: int = DEFAULT_SNAPLEN):  # noqa: ANN201
    """A predicate ``bytes -> bool`` running a BPF expression in user space (for files)."""
    import pcapy

    try:
        program = pcapy.compile(linktype, snaplen, expression, 1, 0)
    except Exception as exc:  # pcapy.PcapError / BPFError
        raise PcappingError(f"bad filter expression {expression!r}: {exc}") from None
    run = program.filter

    def matches(data: bytes) -> bool:
        return run(data) != 0

    return matches
