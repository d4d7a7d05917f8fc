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

import os
import select
import socket
import struct
from collections.abc import Iterator
from typing import Protocol

from pcapping.errors import PRIVILEGE_ADVICE, PcappingError
from pcapping.io.linktypes import linktype_to_dlt
from pcapping.io.pcapfile import Captured, PcapReader

__all__ = ["AnyCapture", "Capture", "Captured", "FileCapture", "LiveCapture", "MultiCapture",
           "compile_filter", "open_file", "open_live"]

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


def libpcap_version() -> str:
    """The version line of the libpcap pcapy-ng carries ("libpcap version 1.9.1 ...")."""
    import ctypes
    import glob
    import os

    import pcapy

    base = os.path.dirname(os.path.abspath(pcapy.__file__))
    for lib in sorted(glob.glob(os.path.join(base, "pcapy_ng.libs", "libpcap*.so*"))) + [
            "libpcap.so.1"]:
        try:
            fn = ctypes.CDLL(lib).pcap_lib_version
        except OSError:
            continue
        fn.restype = ctypes.c_char_p
        return fn().decode("ascii", "replace")
    return "libpcap version unknown"


def open_file(path: str) -> FileCapture:
    return FileCapture(path)


def _pcap_error(interface: str, exc: Exception) -> PcappingError:
    text = str(exc).strip()
    if not text.startswith(f"{interface}:"):
        text = f"{interface}: {text}"
    if "permission" in text.lower() or "not permitted" in text.lower():
        text += f"; {PRIVILEGE_ADVICE}"
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


_LIBPCAP = None  # ctypes handle on the libpcap that pcapy-ng bundles (loaded on first use)
_PCAP_ERROR_NOT_ACTIVATED = -3


def _bundled_libpcap():  # noqa: ANN202
    """The libpcap shared object pcapy itself is linked against, through ctypes."""
    global _LIBPCAP
    if _LIBPCAP is None:
        import ctypes
        import glob

        import pcapy

        here = os.path.dirname(pcapy.__file__)
        found = sorted(glob.glob(os.path.join(here, "pcapy_ng.libs", "libpcap*.so*")))
        lib = ctypes.CDLL(found[0] if found else "libpcap.so.1")
        for name in ("pcap_set_immediate_mode", "pcap_fileno", "pcap_datalink"):
            getattr(lib, name).argtypes = [ctypes.c_void_p] + (
                [ctypes.c_int] if name == "pcap_set_immediate_mode" else [])
        _LIBPCAP = lib
    return _LIBPCAP


def _set_immediate(handle: object) -> bool:
    """Ask libpcap for immediate delivery on a created, not yet activated pcapy handle.

    pcapy-ng 2.1 does not expose ``pcap_set_immediate_mode``; without it libpcap uses
    TPACKET_V3, whose ring hands a partly filled block to user space only when the read
    timeout expires, so a lone reply waits up to the timeout (1 ms at best) before we can
    see it, and a ping that waits for each reply before the next request (``-f``) runs
    at about 1,000 requests/s.  With immediate mode libpcap uses TPACKET_V2 and every
    frame is readable as soon as the kernel has queued it.

    The ``pcap_t *`` is the first field after the object header of a pcapy handle (as in
    pcapy's ``pcapobject``).  That layout is checked before the pointer is used: on a
    created handle ``pcap_datalink`` answers PCAP_ERROR_NOT_ACTIVATED and ``pcap_fileno``
    -1; anything else and we leave the handle alone (False).  ``PCAPPING_NO_IMMEDIATE=1``
    turns the whole thing off.
    """
    if os.environ.get("PCAPPING_NO_IMMEDIATE"):
        return False
    try:

        lib = _bundled_libpcap()
        pointer = ctypes_pointer(handle)
        if not pointer or pointer % 8:
            return False
        if lib.pcap_datalink(pointer) != _PCAP_ERROR_NOT_ACTIVATED:
            return False
        if lib.pcap_fileno(pointer) != -1:
            return False
        return lib.pcap_set_immediate_mode(pointer, 1) == 0
    except (OSError, AttributeError, IndexError, ValueError):
        return False


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
        immediate: bool = False,
    ) -> None:
        import pcapy

        self.interface = interface
        self.immediate = False
        try:
            handle = pcapy.create(interface)
            if immediate:
                self.immediate = _set_immediate(handle)
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
            self.set_filter(bpf)
        handle.setnonblock(1)
        self.fd: int = handle.getfd()
        if self.immediate and _bundled_libpcap().pcap_fileno(
                ctypes_pointer(handle)) != self.fd:  # the layout check, after the fact
            self.immediate = False
        self._next = handle.next
        self.next_batch = handle.next_batch  # callers of this one add to frames_read
        self.frames_read = 0  # every frame handed out, for drained()
        self._closed = False

    def set_filter(self, expression: str) -> None:
        """Attach a BPF expression in the kernel; libpcap's words when it cannot apply."""
        try:
            self._handle.setfilter(expression)
        except Exception as exc:  # pcapy raises BPFError or PcapError
            self._handle.close()
            raise PcappingError(str(exc).strip() or f"bad filter expression {expression!r}"
                                ) from None

    def read(self) -> Captured | None:
        """The next captured frame, or None when nothing is waiting (never blocks)."""
        hdr, data = self._next()
        if hdr is None:
            return None
        self.frames_read += 1
        sec, usec = hdr.getts()
        return Captured(sec, usec, hdr.getlen(), bytes(data), self.linktype)

    def batch(self, max_frames: int = 256) -> tuple[bytes, bytes]:
        """Up to ``max_frames`` frames in one call: ``(buffer, meta)``, never blocking.

        ``meta`` holds one 16-byte record per frame, four native uint32 (sec, usec, offset,
        caplen); the frame is ``buffer[offset:offset + caplen]``.  Empty ``meta``: nothing
        is waiting.  (The wire length is not reported; hot paths do not need it.)
        """
        buf, meta = self.next_batch(max_frames)
        self.frames_read += len(meta) >> 4
        return buf, meta

    def drained(self) -> bool:
        """True when every frame the kernel has queued for this handle has been read.

        libpcap's ``ps_recv`` counts each frame that passed the filter when the kernel
        queued it (those it dropped too, counted again in ``ps_drop``), so the frames still
        waiting are ``ps_recv - ps_drop - frames_read``.
        """
        received, dropped, _ = self.stats()
        return self.frames_read >= received - dropped

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


class MultiCapture:
    """Several live handles read as one: one descriptor to wait on (an epoll set) and
    ``next_batch`` taking turns between them.  The sweep uses it to read its link and
    loopback (where this host's own addresses answer) together.  Every handle must have
    the same link type."""

    def __init__(self, captures: list[LiveCapture]) -> None:
        self.captures = captures
        self.linktype = captures[0].linktype
        self._epoll = select.epoll()
        for c in captures:
            self._epoll.register(c.fd, select.EPOLLIN)
        self.fd = self._epoll.fileno()
        self.frames_read = 0
        self._turn = 0

    def next_batch(self, max_frames: int) -> tuple[bytes, bytes]:
        captures = self.captures
        k = len(captures)
        for step in range(k):
            c = captures[(self._turn + step) % k]
            buf, meta = c.next_batch(max_frames)
            if meta:
                c.frames_read += len(meta) >> 4
                self._turn = (self._turn + step + 1) % k
                return buf, meta
        return b"", b""

    def drained(self) -> bool:
        return all(c.drained() for c in self.captures)

    def stats(self) -> tuple[int, int, int]:
        totals = [c.stats() for c in self.captures]
        return tuple(sum(t[i] for t in totals) for i in range(3))  # type: ignore[return-value]

    def close(self) -> None:
        for c in self.captures:
            c.close()
        self._epoll.close()


def ctypes_pointer(handle: object) -> int:
    """The ``pcap_t *`` inside a pcapy handle (see ``_set_immediate``)."""
    import ctypes

    return ctypes.c_void_p.from_address(id(handle) + object.__basicsize__).value or 0
# Linux socket constants Python's socket module does not name
_SO_TIMESTAMP = 29  # SOL_SOCKET option; the control message type is the same number
_SOL_PACKET = 263
_PACKET_STATISTICS = 6
_ETH_P_ALL = 3
_TIMEVAL = struct.Struct("@ll")


class AnyCapture:
    """``-i any``: every interface of the namespace as LINKTYPE_LINUX_SLL2 frames.

    tcpdump 4.99 captures the ``any`` device as SLL2, whose header names the interface;
    the libpcap bundled with pcapy-ng (1.9) only knows SLL v1 there.  So this reads a
    cooked ``AF_PACKET`` socket itself and writes each frame's SLL2 header from what the
    kernel reports (interface, packet type, hardware type and address), with the kernel's
    receive timestamp; like libpcap it skips the outgoing copy of a loopback frame, which
    comes back incoming.  A BPF expression is compiled for Linux cooked capture and run in
    user space on the frame's SLL v1 form (the kernel cannot run it on this socket as
    compiled); "received by filter" counts the frames that passed it.
    """

    linktype = 276

    def __init__(self, *, bpf: str | None = None, snaplen: int = DEFAULT_SNAPLEN,
                 buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> None:
        self.interface = "any"
        self._keep = compile_filter(bpf, 113, snaplen) if bpf else None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(_ETH_P_ALL))
        except PermissionError:
            raise PcappingError("any: You don't have permission to capture on that device; "
                                f"{PRIVILEGE_ADVICE}") from None
        except OSError as exc:
            raise PcappingError(f"any: {exc.strerror or exc}") from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, 33, buffer_bytes)  # SO_RCVBUFFORCE (root)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMP, 1)
        sock.setblocking(False)
        self._sock = sock
        self.fd: int = sock.fileno()
        self._snaplen = snaplen
        self._ancbuf = socket.CMSG_SPACE(_TIMEVAL.size)
        self._indexes: dict[str, int] = {}
        self._passed = 0
        self._drops = 0
        self._closed = False

    def _ifindex(self, name: str) -> int:
        index = self._indexes.get(name)
        if index is None:
            try:
                index = socket.if_nametoindex(name)
            except OSError:
                index = 0
            self._indexes[name] = index
        return index

    def read(self) -> Captured | None:
        """The next frame that passes the filter, or None when nothing is waiting."""
        while True:
            try:
                data, anc, flags, addr = self._sock.recvmsg(self._snaplen, self._ancbuf)
            except (BlockingIOError, InterruptedError):
                return None
            ifname, proto, pkttype, hatype, hwaddr = addr[:5]
            if pkttype == 4 and hatype == 772:
                continue  # as libpcap: loopback's outgoing copy comes back as incoming
            sec = usec = 0
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMP:
                    sec, usec = _TIMEVAL.unpack_from(value)
            hw = hwaddr[:8]
            if self._keep is not None:
                sll1 = struct.pack("!HHH8sH", pkttype, hatype, len(hw), hw.ljust(8, b"\0"),
                                   proto)
                if not self._keep(sll1 + data):
                    continue
            head = struct.pack("!HHIHBB8s", proto, 0, self._ifindex(ifname), hatype, pkttype,
                               len(hw), hw.ljust(8, b"\0"))
            frame = head + data
            self._passed += 1
            return Captured(sec, usec, len(frame), frame, 276)

    def wait(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(timeout_s, 0.0))
        return bool(ready)

    def __iter__(self) -> Iterator[Captured]:
        while not self._closed:
            got = self.read()
            if got is None:
                self.wait(0.25)
                continue
            yield got

    def stats(self) -> tuple[int, int, int]:
        """(frames that passed the filter, dropped by the kernel, 0)."""
        if not self._closed:
            try:
                raw = self._sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8)
                self._drops += struct.unpack("@II", raw)[1]  # reading resets the counters
            except OSError:
                pass
        return (self._passed, self._drops, 0)

    def close(self) -> None:
        if not self._closed:
            self.stats()
            self._closed = True
            self._sock.close()


def open_live(interface: str, **kw: object) -> LiveCapture:
    return LiveCapture(interface, **kw)  # type: ignore[arg-type]


def compile_filter(expression: str, linktype: int, snaplen: int = DEFAULT_SNAPLEN):  # noqa: ANN201
    """A predicate ``bytes -> bool`` running a BPF expression in user space (for files).

    A bad expression, or one that cannot apply to the link type, raises ``PcappingError``
    with libpcap's words, as tcpdump prints them ("no VLAN support for Linux cooked v2").
    """
    import pcapy

    try:
        program = pcapy.compile(linktype_to_dlt(linktype), snaplen, expression, 1, 0)
    except Exception as exc:  # pcapy.PcapError / BPFError
        raise PcappingError(str(exc).strip() or f"bad filter expression {expression!r}"
                            ) from None
    run = program.filter

    def matches(data: bytes) -> bool:
        return run(data) != 0

    return matches
