"""``sniff -q -i IFACE``: count a live interface at full speed, on every core.

The frames are read a batch at a time (``LiveCapture.batch``: one call hands out up to
``BATCH`` frames) and counted by ``decode.tally``, which builds no objects.  One process
counts about as fast as libpcap can hand frames to Python; past that, ``workers``
processes each open their own handle on the interface and join one PACKET_FANOUT group
(the kernel deals the interface's frames out among them, round robin), and their counts
and their handles' statistics are added up at the end.  Drops are always reported:
"packets dropped by kernel" is the sum of every handle's ``ps_drop``.

A worker stops on SIGTERM or SIGINT (the parent sends SIGTERM when it is interrupted;
a terminal's Ctrl-C reaches them all), reads what its handle still holds, and sends its
``Tally`` and statistics to the parent through a pipe.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

from pcapping.decode import Tally, tally
from pcapping.errors import PcappingError

BATCH = 1024
_META = struct.Struct("@IIII")


class _Stop:
    """Set by SIGTERM/SIGINT: the loop ends at its next wake-up."""

    stop = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.stop = True


def count_handle(handle: Any, t: Tally, stopper: _Stop, limit: int | None = None) -> None:
    """Count ``handle``'s frames into ``t`` until ``stopper`` is set (then drain what is
    waiting) or ``limit`` frames were counted."""
    batch = handle.batch
    linktype = handle.linktype
    count = tally
    iter_meta = _META.iter_unpack
    draining = False
    while True:
        buf, meta = batch(BATCH)
        if not meta:
            if draining or (limit is not None and t.frames >= limit):
                return
            if stopper.stop:
                draining = True  # one more read: what arrived before the signal
                continue
            handle.wait(0.2)
            continue
        if limit is None:
            for _sec, _usec, off, caplen in iter_meta(meta):
                count(t, buf[off: off + caplen], linktype)
        else:
            for _sec, _usec, off, caplen in iter_meta(meta):
                count(t, buf[off: off + caplen], linktype)
                if t.frames >= limit:
                    return


def _open(interface: str, expression: str | None, fanout: int | None) -> Any:
    from pcapping.io.capture import LiveCapture

    handle = LiveCapture(interface, timeout_ms=10)
    if expression:
        handle.set_filter(expression)
    if fanout is not None:
        import pcapy

        try:
            handle._handle.set_fanout(fanout, pcapy.PACKET_FANOUT_LB)
        except Exception as exc:  # pcapy raises PcapError/OSError text
            handle.close()
            raise PcappingError(f"{interface}: cannot join a fanout group: {exc}") from None
    return handle


def _worker(interface: str, expression: str | None, fanout: int, wfd: int, ready: int,
            user: str | None) -> None:
    """A child: count until told to stop, then report (tally, stats) on ``wfd``."""
    stopper = _Stop()
    signal.signal(signal.SIGTERM, stopper)
    signal.signal(signal.SIGINT, stopper)
    t = Tally()
    try:
        handle = _open(interface, expression, fanout)
    except PcappingError as exc:
        os.write(ready, b"E" + str(exc).encode()[:400])
        os._exit(0)
    if user:
        from pcapping.io.privileges import drop_privileges

        drop_privileges(user)
    os.write(ready, b"R%d" % handle.linktype)
    try:
        count_handle(handle, t, stopper)
        stats = handle.stats()
    finally:
        handle.close()
    payload = pickle.dumps((t, stats))
    with os.fdopen(wfd, "wb") as fh:
        fh.write(payload)
    os._exit(0)


def count_live(interface: str, expression: str | None, workers: int,
               limit: int | None = None,
               on_ready: Callable[[int], None] | None = None,
               user: str | None = None) -> tuple[Tally, tuple[int, int]]:
    """Count ``interface`` until SIGINT/SIGTERM (or ``limit`` frames, one process):
    (the merged tally, (received by filter, dropped by kernel)).  ``on_ready(linktype)``
    runs once every handle is open (the "listening on" line)."""
    stopper = _Stop()
    old_int = signal.signal(signal.SIGINT, stopper)
    old_term = signal.signal(signal.SIGTERM, stopper)
    try:
        if workers <= 1 or limit is not None:
            handle = _open(interface, expression, None)
            t = Tally()
            try:
                if on_ready is not None:
                    on_ready(handle.linktype)
                count_handle(handle, t, stopper, limit)
                received, dropped, _ = handle.stats()
            finally:
                handle.close()
            return t, (received, dropped)
        return _count_fanout(interface, expression, workers, stopper, on_ready, user)
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def _count_fanout(interface: str, expression: str | None, workers: int, stopper: _Stop,
                  on_ready: Callable[[int], None] | None, user: str | None
                  ) -> tuple[Tally, tuple[int, int]]:
    import select

    group = os.getpid() & 0xFFFF
    children: list[tuple[int, int]] = []
    problem = None
    linktype = 1
    sys.stdout.flush()
    sys.stderr.flush()
    for _ in range(workers):
        rfd, wfd = os.pipe()
        rready, wready = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(rfd)
            os.close(rready)
            try:
                _worker(interface, expression, group, wfd, wready, user)
            finally:
                os._exit(1)
        os.close(wfd)
        os.close(wready)
        said = os.read(rready, 512)
        os.close(rready)
        children.append((pid, rfd))
        if said[:1] != b"R":
            problem = said[1:].decode(errors="replace") or f"{interface}: worker failed"
            break
        linktype = int(said[1:])
    if problem is None and on_ready is not None:
        on_ready(linktype)
    try:
        while problem is None and not stopper.stop:
            select.select([], [], [], 0.2)
    finally:
        for pid, _ in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    total = Tally()
    received = dropped = 0
    for pid, rfd in children:
        with os.fdopen(rfd, "rb") as fh:
            raw = fh.read()
        os.waitpid(pid, 0)
        if raw:
            t, (rcv, drp, _ifdrop) = pickle.loads(raw)
            total.merge(t)
            received += rcv
            dropped += drp
    if problem is not None:
        raise PcappingError(problem)
    return total, (received, dropped)


__all__ = ["BATCH", "count_handle", "count_live"]
