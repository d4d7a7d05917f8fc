"""A load generator for live capture benchmarks: prebuilt frames out of one interface.

    ip netns exec NS python bench/loadgen.py IFACE --rate 400000 --seconds 3 --procs 2

``--procs`` processes each open a raw ``AF_PACKET`` socket on IFACE and send their share
of ``--rate`` frames per second (paced in bursts of ``--burst``) for ``--seconds``: ICMP
echo requests between two addresses of the benchmark's own lab (``--src``/``--dst``),
each with its own sequence number, checksums right.  It prints one line: frames sent,
seconds, frames/s.  Only ever run it inside a namespace the benchmark created: frames go
out of IFACE and nowhere else.  Counts and time are bounded.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import sys
import time

import common  # noqa: F401  (puts the checkout on sys.path)

from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.icmp import ICMPEcho
from pcapping.wire.ipv4 import IPv4Header, ip_bytes

MAX_SECONDS = 30.0
MAX_RATE = 5_000_000


def frames(src: str, dst: str, n: int, size: int, first: int) -> list[bytes]:
    """``n`` distinct echo request frames (sequence numbers from ``first``)."""
    out = []
    s, d = ip_bytes(src), ip_bytes(dst)
    for i in range(n):
        seq = (first + i) & 0xFFFF
        icmp = ICMPEcho(False, 0x5EED, seq, bytes(size)).encode()
        ip = IPv4Header(s, d, 1, ttl=64, ident=seq).encode(icmp)
        out.append(EthernetHeader(b"\x02\0\0\0\0\x02", b"\x02\0\0\0\0\x01", 0x0800).encode()
                   + ip)
    return out


def _send(iface: str, rate: float, seconds: float, burst: int, src: str, dst: str,
          size: int, index: int, result: multiprocessing.Queue) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    pool = frames(src, dst, 4096, size, index * 4096)
    send = sock.send
    sent = 0
    start = time.perf_counter()
    deadline = start + seconds
    k = 0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        due = int((now - start) * rate) + burst
        while sent < due:
            try:
                send(pool[k])
            except BlockingIOError:
                break
            except OSError:  # ENOBUFS: the queue is full; try again at the next burst
                break
            sent += 1
            k = (k + 1) & 4095
        ahead = sent / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
    result.put((sent, time.perf_counter() - start))


def run(iface: str, rate: float, seconds: float, procs: int = 2, burst: int = 256,
        src: str = "10.93.0.1", dst: str = "10.93.0.2", size: int = 18) -> tuple[int, float]:
    """(frames sent, seconds) over ``procs`` sender processes."""
    rate = min(rate, MAX_RATE)
    seconds = min(seconds, MAX_SECONDS)
    q: multiprocessing.Queue = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=_send, args=(iface, rate / procs, seconds, burst,
                                                      src, dst, size, i, q))
          for i in range(procs)]
    for p in ps:
        p.start()
    got = [q.get(timeout=seconds + 30) for _ in ps]
    for p in ps:
        p.join()
    return sum(n for n, _ in got), max(t for _, t in got)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("iface")
    ap.add_argument("--rate", type=float, default=400000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--burst", type=int, default=256)
    ap.add_argument("--src", default="10.93.0.1")
    ap.add_argument("--dst", default="10.93.0.2")
    ap.add_argument("--size", type=int, default=18, help="echo payload bytes (18: 60-byte frames)")
    args = ap.parse_args(argv)
    sent, secs = run(args.iface, args.rate, args.seconds, args.procs, args.burst, args.src,
                     args.dst, args.size)
    print(f"sent {sent} frames in {secs:.3f} s: {sent / secs:.0f} frames/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
