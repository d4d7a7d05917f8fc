"""The lab's raw-IP hop: one tun interface in each of two namespaces, joined by this process.

    python -m pcapping.lab.tunrelay --pidfile PATH NS_A IFACE_A NS_B IFACE_B

Opens ``/dev/net/tun`` inside each namespace (Python 3.11 has no ``os.setns``: libc's
``setns(fd, CLONE_NEWNET)`` through ctypes, on ``/run/netns/NS``), makes the interface with
``TUNSETIFF`` (``IFF_TUN | IFF_NO_PI``: bare IP packets, no header), and returns to its own
namespace.  Then it detaches (fork, ``setsid``), writes its pid to PATH, prints
``ready PID`` on stdout, closes stdio and copies every packet read on one interface to the
other, as a wire would, until SIGTERM or until either namespace is deleted or replaced
(checked once a second), and removes PATH.  The interfaces are not persistent: they vanish
with the process.  Only the standard library is used; ``pcapping.lab.build`` starts and
stops it.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
NETNS_DIR = "/run/netns"
_BURST = 256  # packets copied per wake-up and direction before polling again
_CHECK_S = 1.0


class RelayError(Exception):
    """Setting up the relay failed; the message is one line."""


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise RelayError(f"setns: {os.strerror(err)}")


def open_tun(netns: str, iface: str) -> tuple[int, tuple[int, int]]:
    """A tun interface ``iface`` made inside namespace ``netns``: (fd, namespace identity)."""
    if len(iface.encode()) > 15:
        raise RelayError(f"interface name {iface!r} is longer than 15 bytes")
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            ns_fd = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise RelayError(f"no network namespace {netns}: {exc.strerror}") from None
        try:
            st = os.fstat(ns_fd)
            _setns(ns_fd)
            try:
                fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                try:
                    ifr = struct.pack("16sH22x", iface.encode(), IFF_TUN | IFF_NO_PI)
                    fcntl.ioctl(fd, TUNSETIFF, ifr)
                except OSError as exc:
                    os.close(fd)
                    raise RelayError(f"TUNSETIFF {iface} in {netns}: {exc.strerror}") from None
            except OSError as exc:
                raise RelayError(f"/dev/net/tun in {netns}: {exc.strerror}") from None
            finally:
                _setns(home)
        finally:
            os.close(ns_fd)
    finally:
        os.close(home)
    return fd, (st.st_dev, st.st_ino)


def _namespace_same(netns: str, ident: tuple[int, int]) -> bool:
    try:
        st = os.stat(os.path.join(NETNS_DIR, netns))
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == ident


def _copy(src: int, dst: int) -> bool:
    """Move up to _BURST packets from src to dst; False when src is gone."""
    for _ in range(_BURST):
        try:
            packet = os.read(src, 65536)
        except BlockingIOError:
            return True
        except InterruptedError:
            continue
        except OSError:
            return False  # EBADFD, EIO: the interface went away
        if not packet:
            return False
        try:
            os.write(dst, packet)
        except OSError:
            pass  # the other end is down or gone: the packet is lost, as on a wire
    return True


def relay(fd_a: int, fd_b: int, watch: list[tuple[str, tuple[int, int]]]) -> None:
    """Copy packets both ways until a namespace in ``watch`` is gone or a tun fails."""
    poller = select.poll()
    peer = {fd_a: fd_b, fd_b: fd_a}
    for fd in peer:
        poller.register(fd, select.POLLIN)
    next_check = time.monotonic() + _CHECK_S
    while True:
        for fd, events in poller.poll(_CHECK_S * 1000):
            if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                return
            if not _copy(fd, peer[fd]):
                return
        now = time.monotonic()
        if now >= next_check:
            if not all(_namespace_same(ns, ident) for ns, ident in watch):
                return
            next_check = now + _CHECK_S


def _write_pidfile(path: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def _remove_pidfile(path: str) -> None:
    try:
        with open(path) as fh:
            mine = fh.read().strip() == str(os.getpid())
        if mine:
            os.unlink(path)
    except OSError:
        pass


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pcapping.lab.tunrelay", description=__doc__)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--foreground", action="store_true", help="do not detach (debugging)")
    ap.add_argument("ns_a")
    ap.add_argument("iface_a")
    ap.add_argument("ns_b")
    ap.add_argument("iface_b")
    args = ap.parse_args(argv)
    try:
        fd_a, id_a = open_tun(args.ns_a, args.iface_a)
        fd_b, id_b = open_tun(args.ns_b, args.iface_b)
    except RelayError as exc:
        print(f"tunrelay: {exc}", file=sys.stderr, flush=True)
        return 1
    if not args.foreground:
        if os.fork() > 0:
            os._exit(0)  # the parent returns at once; the daemon is reparented to init
        os.setsid()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        _write_pidfile(args.pidfile)
        print(f"ready {os.getpid()}", flush=True)
        if not args.foreground:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.close(devnull)
            os.chdir("/")
        relay(fd_a, fd_b, [(args.ns_a, id_a), (args.ns_b, id_b)])
    finally:
        _remove_pidfile(args.pidfile)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
