"""Injectors: how a hand-built frame leaves this host.

- ``PacketInjector``: an ``AF_PACKET``/``SOCK_RAW`` socket bound to the interface with
  protocol 0, so it receives nothing (no copy of every frame on the interface passes
  through it, unlike a second libpcap handle) and sends whole link-layer frames as they
  are: an Ethernet frame on Ethernet, a bare IP datagram on a raw-IP link (tun).
- ``RawIPInjector``: loopback.  A frame injected on ``lo`` with a packet socket arrives
  without a route attached, and the kernel's input routing drops it as martian (a 127/8
  destination without ``route_localnet``, or one of our own addresses as source without
  ``accept_local``), so on loopback the hand-built datagram goes out through the kernel's
  output path unchanged (``IP_HDRINCL``); the capture handle on ``lo`` still times its
  departure and the reply.

Both satisfy ``Injector``: ``send(frame)``, ``close()``.  ``hand_off_release`` lets the
command line skip the kernel's slow release of packet sockets at exit.
"""

from __future__ import annotations

import os
import signal
import socket
from typing import Any, Protocol

from pcapping.errors import PRIVILEGE_ADVICE, PcappingError

_SO_TIMESTAMP = 29  # (Linux; the socket module does not name it)


class Injector(Protocol):
    """``send`` raises OSError when the kernel refuses a frame (the engine words it)."""

    def send(self, frame: bytes | bytearray) -> Any: ...
    def close(self) -> None: ...


def _denied(what: str) -> PcappingError:
    return PcappingError(f"{what}: Operation not permitted; {PRIVILEGE_ADVICE}")


SOL_PACKET = 263
PACKET_VNET_HDR = 15
_NO_OFFLOAD = bytes(10)  # struct virtio_net_hdr: nothing asked of the device


class PacketInjector:
    """Whole link-layer frames out of one interface (receives nothing).

    ``offload=True`` (trace's UDP and TCP probes): frames go with a ``virtio_net_hdr``
    (``PACKET_VNET_HDR``) and every unfragmented IPv4 UDP or TCP datagram in an Ethernet
    frame (IPv6: UDP or TCP right after the fixed header) asks the device to complete
    its transport checksum, exactly as the kernel's own UDP and TCP sockets do
    (``CHECKSUM_PARTIAL``): its checksum field must then hold the pseudo-header sum
    (``wire/checksum.ones_sum``), and a real network card
    (or the kernel, in software) fills in the final value.  Virtual links (veth)
    never do, so such datagrams cross a lab as the kernel's own would.  ``offload``
    stays False where the socket option is refused.
    """

    def __init__(self, interface: str, *, offload: bool = False) -> None:
        self.interface = interface
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise _denied(f"{interface}: packet socket") from None
        self.offload = False
        if offload:
            try:
                self.sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
                self.offload = True
            except OSError:
                pass
        try:
            self.sock.bind((interface, 0))
        except OSError as exc:
            self.sock.close()
            raise PcappingError(f"{interface}: cannot bind: {exc.strerror or exc}") from None
        stamp_in_kernel(self.sock)
        # the socket's own send: the hot path of every probe; OSError is the caller's
        self.send = self._send_offload if self.offload else self.sock.send

    def _send_offload(self, frame: bytes | bytearray) -> int:
        return self.sock.send(vnet_header(frame) + bytes(frame))

    def batch(self, frame_len: int, slots: int) -> FrameBatch | None:
        """A buffer of ``slots`` frames of ``frame_len`` bytes sent in one system call
        (None with checksum offload: each frame then needs its own vnet header)."""
        if self.offload:
            return None
        return FrameBatch(self.sock, frame_len, slots)

    def close(self) -> None:
        self.sock.close()


def stamp_in_kernel(sock: socket.socket) -> None:
    """Ask for SO_TIMESTAMP on ``sock``: that turns on the kernel's global "timestamps
    wanted" switch, so every frame is stamped once, where it enters the stack (on receive,
    as ``netif_rx`` queues it; on send, when the copy for the capture taps is made), and
    every capture handle reads that same stamp.  Without it a frame no socket asked to
    time is stamped by each tap as it copies it: a later tap (ours, behind a tcpdump)
    reads a later time, by microseconds, or much more when preempted.  The socket never
    receives, so the option costs nothing else."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMP, 1)
    except OSError:
        pass


def vnet_header(frame: bytes | bytearray) -> bytes:
    """The ``virtio_net_hdr`` for one Ethernet frame: NEEDS_CSUM with the transport
    checksum's place for an unfragmented IPv4 UDP or TCP datagram (or an IPv6 one with
    no extension header), else all zeros."""
    import struct

    if len(frame) >= 54 and frame[12:14] == b"\x86\xdd" and frame[14] >> 4 == 6:
        proto = frame[20]
        start = 54
    elif len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return _NO_OFFLOAD
    elif frame[20] & 0x3F or frame[21]:  # MF or a fragment offset
        return _NO_OFFLOAD
    else:
        proto = frame[23]
        start = 14 + (frame[14] & 0x0F) * 4
    if proto == 17:
        where = 6
    elif proto == 6:
        where = 16
    else:
        return _NO_OFFLOAD
    if len(frame) < start + where + 2:
        return _NO_OFFLOAD
    # flags NEEDS_CSUM, gso none, hdr_len, gso_size, csum_start, csum_offset (native order)
    return struct.pack("=BBHHHH", 1, 0, 0, 0, start, where)


class FrameBatch:
    """Frames of one length side by side in ``buffer``, sent by ``send(n)`` with one
    ``sendmmsg(2)`` (through ctypes: Python's socket module has no sendmmsg).  It saves
    the system call per frame (about 0.3 µs of the ~2.9 µs a frame costs on a veth here),
    not the kernel's work for each.  Without sendmmsg it sends them one by one."""

    def __init__(self, sock: socket.socket, frame_len: int, slots: int) -> None:
        self.sock = sock
        self.frame_len = frame_len
        self.slots = slots
        self.buffer = bytearray(frame_len * slots)
        self._call: Any = None
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            sendmmsg = libc.sendmmsg
        except (OSError, AttributeError):
            return

        class _IOVec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

        class _MsgHdr(ctypes.Structure):
            _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
                        ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
                        ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                        ("flags", ctypes.c_int)]

        class _MMsgHdr(ctypes.Structure):
            _fields_ = [("hdr", _MsgHdr), ("len", ctypes.c_uint)]

        sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
        sendmmsg.restype = ctypes.c_int
        self._cbuf = (ctypes.c_char * len(self.buffer)).from_buffer(self.buffer)
        base = ctypes.addressof(self._cbuf)
        self._iov = (_IOVec * slots)()
        self._msgs = (_MMsgHdr * slots)()
        for k in range(slots):
            self._iov[k].base = base + k * frame_len
            self._iov[k].len = frame_len
            self._msgs[k].hdr.iov = ctypes.addressof(self._iov[k])
            self._msgs[k].hdr.iovlen = 1
        fd = sock.fileno()
        msgs = ctypes.addressof(self._msgs)
        get_errno = ctypes.get_errno

        def call(n: int) -> int:
            sent = sendmmsg(fd, msgs, n, 0)
            if sent < 0:
                err = get_errno()
                raise OSError(err, os.strerror(err))
            return sent

        self._call = call

    def send(self, n: int) -> int:
        """Send the first ``n`` frames; how many went (fewer when the queue filled up:
        OSError only when none did)."""
        if self._call is not None:
            return self._call(n)
        size = self.frame_len
        view = memoryview(self.buffer)
        for k in range(n):
            try:
                self.sock.send(view[k * size:(k + 1) * size])
            except OSError:
                if k == 0:
                    raise
                return k
        return n

    def close(self) -> None:
        """Release the buffer (ctypes holds an export of it until then)."""
        if self._call is not None:
            self._call = None
            del self._cbuf


class RawIPInjector:
    """Loopback: the datagram after ``skip`` link bytes, through a raw socket that takes
    the whole IP header (IPv4's IP_HDRINCL; IPv6's IPPROTO_RAW implies it)."""

    def __init__(self, skip: int = 14, family: int = 4) -> None:
        self.skip = skip
        self.family = family
        af = socket.AF_INET if family == 4 else socket.AF_INET6
        try:
            self.sock = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)
        except PermissionError:
            raise _denied("lo: raw socket") from None
        if family == 4:
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        stamp_in_kernel(self.sock)

    def send(self, frame: bytes | bytearray) -> None:
        datagram = bytes(frame[self.skip:])
        if self.family == 4:
            self.sock.sendto(datagram, (socket.inet_ntoa(datagram[16:20]), 0))
        else:
            self.sock.sendto(datagram, (socket.inet_ntop(socket.AF_INET6, datagram[24:40]),
                                        0, 0, 0))

    def close(self) -> None:
        self.sock.close()


def hand_off_release() -> None:
    """Let a child process pay for releasing the packet sockets when this one exits.

    Closing a libpcap handle on Linux waits for two RCU grace periods in the kernel
    (ring teardown and ``packet_release``), about 12 ms each here: half the run time of
    ``send -c 1``.  A forked child that keeps the descriptors until this process has
    exited makes our own close a mere reference drop; the child (stdio closed, so nobody
    waits for its output) then releases the sockets on its own.  Command line only.
    """
    try:
        r, w = os.pipe()
        pid = os.fork()
    except OSError:
        return
    if pid == 0:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGQUIT, signal.SIG_IGN)
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
