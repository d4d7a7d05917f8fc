"""Proposal (not used by pcapping): one loop for ``sniff -q`` over a classic Ethernet pcap.

    python bench/proposal_tally.py [FILE]     # default: the 200k mix of bench_decode.py

``summarize_file`` spends, per frame, ~0.4 µs in the reader's generator and ~1.5 µs in
``tally()``.  This variant merges the two into one function: the record walk and the
counting share one loop, the counters live in local variables (written back to a ``Tally``
once at the end), and ICMP (type, code) is counted under the int ``type << 8 | code``
(converted to tuple keys at the end).  The decisions are exactly those of
``pcapping.decode.tally`` (checked below against ``summarize_file`` on the same file).

Limits of the sketch: classic pcap, link type 1, no BPF; anything else, and any damaged
record, is left to ``summarize_file`` (which raises libpcap's message).
"""

from __future__ import annotations

import struct
import sys
import time

from common import OUT

from pcapping.decode import Tally
from pcapping.sniff import summarize_file

_CHUNK = 1 << 20


def summarize_fast(path: str) -> Tally:
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            return summarize_file(path)
        snaplen, linktype = struct.unpack_from("<II", head, 16)
        if linktype & 0x03FFFFFF != 1:
            return summarize_file(path)
        if not 0 < snaplen <= 262144:
            snaplen = 262144
        unpack = struct.Struct("<8xII").unpack_from  # caplen, len
        from_bytes = int.from_bytes
        frames = arp = ipv4 = icmp = bad_ip = bad_icmp = truncated = undecodable = 0
        types: dict[int, int] = {}
        read = f.read
        buf = b""
        pos = 0
        while True:
            more = read(_CHUNK)
            if not more:
                break
            buf = buf[pos:] + more
            pos = 0
            end_buf = len(buf)
            while pos + 16 <= end_buf:
                caplen = unpack(buf, pos)[0]
                stop = pos + 16 + caplen
                if stop > end_buf or caplen > 262144:
                    break
                data = buf[pos + 16 : stop if caplen <= snaplen else pos + 16 + snaplen]
                pos = stop
                # -- tally(), inlined --
                frames += 1
                n = len(data)
                if n < 14:
                    truncated += 1
                    continue
                off = 14
                etype = (data[12] << 8) | data[13]
                while etype == 0x8100 or etype == 0x88A8 or etype == 0x9100:
                    if n < off + 4:
                        break
                    etype = (data[off + 2] << 8) | data[off + 3]
                    off += 4
                else:
                    if etype == 0x0800:
                        if n < off + 20:
                            truncated += 1
                            continue
                        vihl = data[off]
                        hlen = (vihl & 15) << 2
                        if vihl >> 4 != 4 or hlen < 20:
                            undecodable += 1
                            continue
                        begin = off + hlen
                        if n < begin:
                            truncated += 1
                            continue
                        total = (data[off + 2] << 8) | data[off + 3]
                        if total < hlen:
                            undecodable += 1
                            continue
                        ipv4 += 1
                        h = from_bytes(data[off:begin], "big")
                        if not h or h % 0xFFFF:
                            bad_ip += 1
                        end = off + total
                        cut = end > n
                        if cut:
                            truncated += 1
                            end = n
                        if data[off + 9] != 1:
                            continue
                        frag = (data[off + 6] << 8) | data[off + 7]
                        if frag & 0x1FFF:
                            continue
                        icmp += 1
                        if end - begin < 8:
                            if not cut:
                                truncated += 1
                            continue
                        key = (data[begin] << 8) | data[begin + 1]
                        types[key] = types.get(key, 0) + 1
                        if not cut and not frag & 0x2000:
                            m = from_bytes(data[begin:end], "big")
                            if (end - begin) & 1:
                                m <<= 8
                            if not m or m % 0xFFFF:
                                bad_icmp += 1
                    elif etype == 0x0806:
                        if n < off + 8 or n < off + 8 + 2 * (data[off + 4] + data[off + 5]):
                            truncated += 1
                        else:
                            arp += 1
                    continue
                truncated += 1  # a VLAN tag cut (the while loop broke)
        if pos != len(buf):  # a damaged last record: let the reference path raise
            return summarize_file(path)
    t = Tally()
    t.frames, t.arp, t.ipv4, t.icmp = frames, arp, ipv4, icmp
    t.bad_ip_checksum, t.bad_icmp_checksum = bad_ip, bad_icmp
    t.truncated, t.undecodable = truncated, undecodable
    t.icmp_types = {(k >> 8, k & 0xFF): v for k, v in sorted(types.items())}
    return t


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else str(OUT / "mix-200000-s1.pcap")
    times: dict[str, list[float]] = {"summarize_file": [], "summarize_fast": []}
    results = {}
    for _ in range(5):
        for name, fn in (("summarize_file", summarize_file), ("summarize_fast", summarize_fast)):
            t0 = time.perf_counter()
            results[name] = fn(path)
            times[name].append(time.perf_counter() - t0)
    a, b = results["summarize_file"], results["summarize_fast"]
    same = a.as_tuple() == b.as_tuple()
    print(f"{path}: {a.frames} frames; counts equal: {same}")
    for name, samples in times.items():
        samples.sort()
        print(f"  {name:15} best {samples[0]:.3f} s ({samples[0] / a.frames * 1e6:.2f} µs/frame)"
              f"  median {samples[2]:.3f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
