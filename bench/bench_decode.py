"""Decode benchmark: pcapping vs dpkt vs scapy doing the same work on the same frames.

    python bench/bench_decode.py [--frames 200000] [--file F] [--seed 1] [--repeat 3]
                                 [--scapy-frames 20000] [--skip-scapy]

Without ``--file`` the mix of ``bench/make_mix.py`` is generated under ``bench/out/``
(git-ignored) unless it is already there.  The work, for every tool: read the pcap, decode
Ethernet (802.1Q / QinQ tags), IPv4, ICMP and ARP, verify the IPv4 header checksum and the
ICMP checksum (only when the message is whole and not a fragment), and count frames, IPv4,
ICMP, ICMP by (type, code), ARP, bad IPv4 checksums, bad ICMP checksums, truncated frames
(snaplen cuts) and undecodable frames, with the rules of ``pcapping.decode.Tally``.

Measured in one run, each timing repeated ``--repeat`` times (rounds interleaved):

- ``pcapping -q``: ``pcapping.sniff.summarize_file`` (what ``sniff -q -r FILE`` runs);
- ``pcapping decode``: ``decode_frame`` + ``Tally.add`` per frame (the decode cost of the
  text and JSON paths, without formatting);
- ``dpkt``: ``dpkt.pcap.Reader`` + ``dpkt.ethernet.Ethernet`` (which decodes every layer it
  knows, eagerly) + ``dpkt.in_cksum`` on the header/message bytes;
- ``scapy``: streaming ``scapy.utils.PcapReader`` + layer access + ``scapy.utils.checksum``
  recomputation, on the first ``--scapy-frames`` frames only (scapy is ~100x slower);
- ``pcapping sniff -q`` process: wall time of ``python -m pcapping sniff -q -r FILE``,
  interpreter start-up and imports included.

The counts of pcapping -q, pcapping decode and dpkt must be equal (scapy's must equal
pcapping's on its subset); a mismatch is printed with the bytes of the first frames that
disagree and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path

import dpkt
from common import OUT, ROOT, best_median

from pcapping.decode import Tally, decode_frame, tally
from pcapping.io.pcapfile import PcapReader
from pcapping.sniff import summarize_file, summary_text

# -- pcapping -----------------------------------------------------------------------------


def run_pcapping_q(path: str) -> Tally:
    return summarize_file(path)


def run_pcapping_decode(path: str) -> Tally:
    t = Tally()
    add = t.add
    for number, rec in enumerate(PcapReader(path), 1):
        add(decode_frame(rec.data, rec.linktype, frame=number, ts_sec=rec.ts_sec,
                         ts_usec=rec.ts_usec, length=rec.length))
    return t


def pcapping_frames(path: str, limit: int | None = None) -> Iterable[bytes]:
    return (rec.data for rec in islice(PcapReader(path), limit))


# -- dpkt ---------------------------------------------------------------------------------

_QINQ = frozenset((0x8100, 0x88A8, 0x9100, 0x9200))


def dpkt_count(
    t: Tally,
    buf: bytes,
    Ethernet: type = dpkt.ethernet.Ethernet,  # noqa: N803 - bound once, as a fast loop would
    IP: type = dpkt.ip.IP,  # noqa: N803
    ARP: type = dpkt.arp.ARP,  # noqa: N803
    in_cksum: Callable[[bytes], int] = dpkt.in_cksum,
    NeedData: type = dpkt.NeedData,  # noqa: N803
    UnpackError: type = dpkt.UnpackError,  # noqa: N803
) -> None:
    """Count one Ethernet frame with dpkt's decoders, by the rules of ``Tally``."""
    t.frames += 1
    n = len(buf)
    try:
        eth = Ethernet(buf)
    except NeedData:  # Ethernet header or a VLAN tag cut
        t.truncated += 1
        return
    except UnpackError:
        t.undecodable += 1
        return
    etype = eth.type
    off = 14
    if etype in _QINQ:
        tags = eth.vlan_tags
        etype = tags[-1].type
        off += 4 * len(tags)
    if etype == 0x0800:
        ip = eth.data
        if type(ip) is not IP:  # dpkt refused the header: too short, or IHL < 5
            if n - off < 20:
                t.truncated += 1
            else:
                t.undecodable += 1
            return
        hl = ip.hl << 2
        if ip.v != 4:
            t.undecodable += 1
            return
        if n - off < hl:
            t.truncated += 1
            return
        if ip.len < hl:
            t.undecodable += 1
            return
        t.ipv4 += 1
        if in_cksum(buf[off : off + hl]):
            t.bad_ip_checksum += 1
        end = off + ip.len
        cut = end > n
        if cut:
            t.truncated += 1
            end = n
        if ip.p != 1 or ip.offset:
            return
        t.icmp += 1
        begin = off + hl
        if end - begin < 8:
            if not cut:
                t.truncated += 1
            return
        icmp = ip.data  # a dpkt.icmp.ICMP (>= 4 bytes), with its body decoded
        key = (icmp.type, icmp.code)
        types = t.icmp_types
        types[key] = types.get(key, 0) + 1
        if not cut and not ip.mf and in_cksum(buf[begin:end]):
            t.bad_icmp_checksum += 1
    elif etype == 0x86DD:
        ip6 = eth.data
        if n - off < 40:
            t.truncated += 1
            return
        if type(ip6) is not dpkt.ip6.IP6 or ip6.v != 6:
            t.undecodable += 1
            return
        _count_ip6(t, buf, off, ip6.nxt, ip6.plen, in_cksum)
    elif etype == 0x0806:
        arp = eth.data
        if type(arp) is ARP:
            need = 8 + 2 * (arp.hln + arp.pln)
        elif n - off >= 8:  # dpkt wants 28 bytes; other address sizes are legal
            need = 8 + 2 * (buf[off + 4] + buf[off + 5])
        else:
            need = 8
        if n - off < need:
            t.truncated += 1
        else:
            t.arp += 1


def _count_ip6(t: Tally, raw: bytes, off: int, nxt: int, plen: int,
               cksum: Callable[[bytes], int]) -> None:
    """An IPv6 datagram whose header the library decoded (``nxt``, ``plen``), by the
    rules of ``Tally``: cut when its payload is; ICMPv6 straight after the header counted
    by type and code, its checksum (pseudo-header included) checked when whole."""
    t.ipv6 += 1
    begin = off + 40
    end = begin + plen
    cut = end > len(raw)
    if cut:
        t.truncated += 1
        end = len(raw)
    if nxt != 58 or plen == 0:
        return
    t.icmp6 += 1
    if end - begin < 4:
        if not cut:
            t.truncated += 1
        return
    key = (raw[begin], raw[begin + 1])
    t.icmp6_types[key] = t.icmp6_types.get(key, 0) + 1
    pseudo = raw[off + 8: off + 40] + plen.to_bytes(4, "big") + bytes((0, 0, 0, 58))
    if not cut and cksum(pseudo + raw[begin:end]):
        t.bad_icmp6_checksum += 1


def run_dpkt(path: str) -> Tally:
    t = Tally()
    count = dpkt_count
    with open(path, "rb") as f:
        for _ts, buf in dpkt.pcap.Reader(f):
            count(t, buf)
    return t


# -- scapy --------------------------------------------------------------------------------


def _scapy() -> dict[str, type]:
    import logging

    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
    from scapy.utils import PcapReader as ScapyReader
    from scapy.utils import checksum

    return {"IP": IP, "IPv6": IPv6, "ARP": ARP, "tags": (Dot1Q, Dot1AD), "Ether": Ether,
            "Reader": ScapyReader, "checksum": checksum}


def scapy_count(t: Tally, pkt: object, s: dict) -> None:
    """Count one packet dissected by scapy, by the rules of ``Tally``.

    scapy dissects leniently (a cut header becomes partial fields or ``Raw``), so the
    length checks use the captured bytes (``pkt.original``); fields come from the layers and
    checksums are recomputed with ``scapy.utils.checksum``.
    """
    t.frames += 1
    raw = pkt.original  # type: ignore[attr-defined]
    n = len(raw)
    if not isinstance(pkt, s["Ether"]) or n < 14:
        t.truncated += 1
        return
    etype = pkt.type
    layer = pkt.payload
    off = 14
    while etype in _QINQ:
        if n < off + 4 or not isinstance(layer, s["tags"]):
            t.truncated += 1
            return
        etype = layer.type
        layer = layer.payload
        off += 4
    if etype == 0x0800:
        if n < off + 20:
            t.truncated += 1
            return
        ip = layer
        if not isinstance(ip, s["IP"]) or ip.version != 4 or ip.ihl < 5:
            t.undecodable += 1
            return
        hl = ip.ihl * 4
        if n < off + hl:
            t.truncated += 1
            return
        if ip.len < hl:
            t.undecodable += 1
            return
        t.ipv4 += 1
        checksum = s["checksum"]
        if checksum(raw[off : off + hl]):
            t.bad_ip_checksum += 1
        end = off + ip.len
        cut = end > n
        if cut:
            t.truncated += 1
            end = n
        if ip.proto != 1 or ip.frag:
            return
        t.icmp += 1
        begin = off + hl
        if end - begin < 8:
            if not cut:
                t.truncated += 1
            return
        icmp = ip.payload
        key = (icmp.type, icmp.code)
        t.icmp_types[key] = t.icmp_types.get(key, 0) + 1
        if not cut and not int(ip.flags) & 1 and checksum(raw[begin:end]):  # MF
            t.bad_icmp_checksum += 1
    elif etype == 0x86DD:
        if n < off + 40:
            t.truncated += 1
            return
        if not isinstance(layer, s["IPv6"]) or layer.version != 6:
            t.undecodable += 1
            return
        _count_ip6(t, raw, off, layer.nh, layer.plen, s["checksum"])
    elif etype == 0x0806:
        arp = layer
        if n - off < 8:
            t.truncated += 1
        elif isinstance(arp, s["ARP"]) and n - off >= 8 + 2 * (arp.hwlen + arp.plen):
            t.arp += 1
        elif n - off >= 8 + 2 * (raw[off + 4] + raw[off + 5]):
            t.arp += 1
        else:
            t.truncated += 1


def run_scapy(path: str, limit: int) -> Tally:
    s = _scapy()
    t = Tally()
    reader = s["Reader"](path)
    try:
        for pkt in islice(reader, limit):
            scapy_count(t, pkt, s)
    finally:
        reader.close()
    return t


# -- the whole command --------------------------------------------------------------------


def run_process(path: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "pcapping", "sniff", "-q", "-r", path],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pcapping sniff -q failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


# -- checks -------------------------------------------------------------------------------


def _one(fn: Callable[[Tally, bytes], None], data: bytes) -> tuple:
    t = Tally()
    fn(t, data)
    return t.as_tuple()


def explain_mismatch(path: str, limit: int | None = None, show: int = 5) -> None:
    """Print the first frames on which pcapping -q, pcapping decode and dpkt disagree."""
    shown = 0
    ways: dict[str, Callable[[Tally, bytes], None]] = {
        "pcapping -q": lambda t, d: tally(t, d, 1),
        "pcapping decode": lambda t, d: t.add(decode_frame(d, 1)),
        "dpkt": dpkt_count,
    }
    for number, data in enumerate(pcapping_frames(path, limit), 1):
        got = {name: _one(fn, data) for name, fn in ways.items()}
        if len(set(map(repr, got.values()))) > 1:
            print(f"  frame {number} ({len(data)} bytes captured): {data.hex()}")
            for name, tup in got.items():
                print(f"    {name:16} {tup}")
            shown += 1
            if shown >= show:
                return


def tally_text(t: Tally) -> str:
    return (f"{t.frames} frames, {t.ipv4} IPv4, {t.icmp} ICMP, {t.arp} ARP, "
            f"{len(t.icmp_types)} ICMP type/codes, bad IPv4 cksum {t.bad_ip_checksum}, "
            f"bad ICMP cksum {t.bad_icmp_checksum}, truncated {t.truncated}, "
            f"undecodable {t.undecodable}")


# -- main ---------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def ensure_mix(frames: int, seed: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"mix-{frames}-s{seed}.pcap"
    if not path.exists():
        from make_mix import write_mix

        tmp = path.with_suffix(".tmp")
        info = write_mix(frames, str(tmp), seed)
        tmp.rename(path)
        print(f"generated {path} ({info['bytes'] / 1e6:.1f} MB) in {info['seconds']:.1f} s")
    return str(path)


def git_state() -> str:
    """The commit measured, and whether pcapping/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "pcapping"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=200_000, help="size of the generated mix")
    ap.add_argument("--file", help="benchmark this pcap instead of the generated mix")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scapy-frames", type=int, default=20_000)
    ap.add_argument("--skip-scapy", action="store_true")
    args = ap.parse_args(argv)
    path = args.file or ensure_mix(args.frames, args.seed)
    size = Path(path).stat().st_size
    print(f"file: {path} ({size / 1e6:.1f} MB); python {sys.version.split()[0]}, "
          f"dpkt {dpkt.__version__}, {os.cpu_count()} cpus; "
          f"{time.strftime('%Y-%m-%d %H:%M', time.localtime())}; pcapping {git_state()}")

    if not args.skip_scapy:
        try:
            import scapy  # noqa: F401
        except ImportError:
            print("scapy is not installed (extra `bench`): its row is left out")
            args.skip_scapy = True
    tools: list[tuple[str, Callable[[], object]]] = [
        ("pcapping -q (summarize_file)", lambda: run_pcapping_q(path)),
        ("pcapping decode_frame+Tally.add", lambda: run_pcapping_decode(path)),
        ("dpkt", lambda: run_dpkt(path)),
    ]
    if not args.skip_scapy:
        tools.append((f"scapy (first {args.scapy_frames})",
                      lambda: run_scapy(path, args.scapy_frames)))
    tools.append(("python -m pcapping sniff -q (process)", lambda: run_process(path)))

    times: dict[str, list[float]] = {name: [] for name, _ in tools}
    results: dict[str, object] = {}
    for _round in range(args.repeat):  # interleaved, so a load spike hits every tool
        for name, fn in tools:
            seconds, result = timed(fn)
            times[name].append(seconds)
            results[name] = result

    # -- the same counts? --
    ok = True
    q, full, dp = (results[name] for name, _ in tools[:3])
    assert isinstance(q, Tally) and isinstance(full, Tally) and isinstance(dp, Tally)
    frames = q.frames
    print(f"counts: {tally_text(q)}")
    if not (q.as_tuple() == full.as_tuple() == dp.as_tuple()):
        ok = False
        print("MISMATCH between pcapping -q, pcapping decode and dpkt:")
        for name, t in (("pcapping -q", q), ("pcapping decode", full), ("dpkt", dp)):
            print(f"  {name:16} {t.as_tuple()}")
        explain_mismatch(path)
    scapy_frames = 0
    if not args.skip_scapy:
        sc = results[tools[3][0]]
        assert isinstance(sc, Tally)
        scapy_frames = sc.frames
        ref = Tally()
        for data in pcapping_frames(path, args.scapy_frames):
            tally(ref, data, 1)
        if sc.as_tuple() != ref.as_tuple():
            ok = False
            print("MISMATCH between scapy and pcapping on the scapy subset:")
            print(f"  pcapping {ref.as_tuple()}\n  scapy    {sc.as_tuple()}")
        else:
            print(f"scapy subset counts equal pcapping's: {tally_text(sc)}")
    out = results[tools[-1][0]]
    if str(out).rstrip("\n") != summary_text(q):
        ok = False
        print("MISMATCH: `pcapping sniff -q` printed something else than summary_text():")
        print(out)

    # -- the table --
    dpkt_best, dpkt_med = best_median(times["dpkt"])
    dpkt_best_rate, dpkt_med_rate = frames / dpkt_best, frames / dpkt_med
    print()
    print(f"{'tool':40} {'frames':>8} {'best s':>8} {'median s':>9} {'best fr/s':>10} "
          f"{'med fr/s':>10} {'x dpkt best':>11} {'x dpkt med':>10}")
    for name, _ in tools:
        n = scapy_frames if name.startswith("scapy") else frames
        best, med = best_median(times[name])
        print(f"{name:40} {n:8d} {best:8.3f} {med:9.3f} {n / best:10.0f} {n / med:10.0f} "
              f"{n / best / dpkt_best_rate:11.2f} {n / med / dpkt_med_rate:10.2f}")
    print(f"({args.repeat} runs each; ratio = frames/s over dpkt's frames/s, best vs best and "
          f"median vs median; the process row includes interpreter start-up)")
    if not ok:
        print("\nFAILED: the tools disagree (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
