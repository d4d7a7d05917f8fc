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


class Injector(Protocol):
    """``send`` raises OSError when the kernel refuses a frame (the engine words it)."""

    def send(self, frame: bytes | bytearray) -> Any: ...
    def close(self) -> None: ...


def _denied(what: str) -> PcappingError:
    return PcappingError(f"{what}: Operation not permitted; {PRIVILEGE_ADVICE}")


class PacketInjector:
    """Whole link-layer frames out of one interface (receives nothing)."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise _denied(f"{interface}: packet socket") from None
        try:
            self.sock.bind((interface, 0))
        except OSError as exc:
            self.sock.close()
            raise PcappingError(f"{interface}: cannot bind: {exc.strerror or exc}") from None
        # the socket's own send: the hot path of every probe; OSError is the caller's
        self.send = self.sock.send

    def close(self) -> None:
        self.sock.close()


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
