"""Generate a deterministic, realistic mix of Ethernet frames as a classic pcap file.

    python bench/make_mix.py N OUT.pcap [--seed S]

The mix (shares are of frames, approximate):

- ICMP echo request / reply (~55%), payloads of 0..1472 bytes (mostly 56);
- time exceeded (11/0, 11/1) quoting the probe (header + 8 bytes, or up to 576 bytes);
- destination unreachable of several codes (net, host, protocol, port, frag-needed with a
  next-hop MTU, host/admin prohibited), quoting UDP, TCP or ICMP;
- a little redirect, parameter problem, timestamp, ICMP fragments (first and later);
- ARP requests and replies (padded to 60 bytes, as on the wire);
- TCP and UDP noise, a little IPv6, a few IPv4 headers with options;
- a few percent of bad IPv4 header checksums and bad ICMP checksums, quoted headers with
  wrong checksums (NAT; not an error), snaplen cuts at every layer (caplen < len), and a
  few undecodable IPv4 headers (version 6 in an IPv4 frame, IHL < 5, total length < IHL);
- ~10% VLAN-tagged (802.1Q), some double-tagged (802.1ad + 802.1Q).

How: a pool of a few thousand distinct templates is built with pcapping's own codecs, then
every frame is a template picked at random whose IPv4 identifier and ICMP echo sequence
number are rewritten, with the checksums updated incrementally (RFC 1624), so deliberately
wrong checksums stay wrong and right ones stay right.  Same N and seed, same bytes.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from typing import NamedTuple

import common  # noqa: F401  (puts the checkout on sys.path)

from pcapping.wire.arp import ARPPacket
from pcapping.wire.checksum import internet_checksum
from pcapping.wire.ethernet import EthernetHeader, VLANTag
from pcapping.wire.icmp import ICMPEcho, ICMPError, ICMPOther
from pcapping.wire.ipv4 import IPv4Header

POOL = 4000
BASE_TS = 1_763_800_000
SNAPLENS = (54, 64, 68, 74, 96, 128)


class Template(NamedTuple):
    data: bytes  # the captured bytes (caplen = len(data))
    length: int  # the length on the wire
    ip_id: int  # offset of the IPv4 identifier to rewrite, or -1
    ip_ck: int  # offset of the IPv4 checksum that covers it
    ip_nc: int  # one's complement of that checksum with the identifier at 0
    seq: int  # offset of the ICMP echo sequence number to rewrite, or -1
    icmp_ck: int
    icmp_nc: int


def _mac(rng: random.Random) -> bytes:
    return bytes((0x02, 0, rng.randrange(256), rng.randrange(256), rng.randrange(256),
                  rng.randrange(1, 256)))


def _addr(rng: random.Random, net: int = 10) -> bytes:
    return bytes((net, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)))


def _payload(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.7:
        size = 56
    elif r < 0.8:
        size = rng.choice((0, 8, 16, 32, 48))
    elif r < 0.9:
        size = rng.randrange(57, 600)
    else:
        size = rng.choice((1000, 1400, 1472, rng.randrange(600, 1473)))
    if rng.random() < 0.5:  # iputils: 8-byte timestamp then 0x10, 0x11, ...
        body = bytes((16 + i) & 0xFF for i in range(max(size - 8, 0)))
        return (rng.randbytes(8) + body)[:size]
    return rng.randbytes(size)


def _ip(rng: random.Random, src: bytes, dst: bytes, proto: int, payload: bytes,
        ttl: int = 64, flags: int = 0, frag: int = 0, options: bytes = b"",
        total: int | None = None) -> bytes:
    hdr = IPv4Header(src, dst, proto, ttl=ttl, ident=0, flags=flags, frag_offset=frag,
                     options=options, tos=rng.choice((0, 0, 0, 0x10, 0xB8)))
    data = hdr.encode(payload)
    if total is not None:  # a header claiming another length (fragments of a quote)
        data = data[:2] + struct.pack("!H", total) + data[4:10] + b"\0\0" + data[12:]
        hl = 20 + len(options)
        ck = internet_checksum(data[:hl])
        data = data[:10] + struct.pack("!H", ck) + data[12:]
    return data


def _udp(rng: random.Random, size: int | None = None, dport: int | None = None) -> bytes:
    size = rng.randrange(0, 512) if size is None else size
    dport = rng.choice((53, 123, 443, 33434 + rng.randrange(90))) if dport is None else dport
    body = rng.randbytes(size)
    return struct.pack("!HHHH", rng.randrange(1024, 65536), dport, 8 + size,
                       rng.randrange(65536)) + body


def _tcp(rng: random.Random) -> bytes:
    size = rng.choice((0, 0, 0, rng.randrange(1, 1460)))
    opts = rng.choice((b"", b"\x01\x01\x08\x0a" + rng.randbytes(8)))
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", rng.randrange(1024, 65536), rng.choice((22, 80, 443)),
                       rng.randrange(1 << 32), rng.randrange(1 << 32), off << 4,
                       rng.choice((0x10, 0x18, 0x02, 0x12, 0x11)), 65535,
                       rng.randrange(65536), 0) + opts + rng.randbytes(size)


def _quote(rng: random.Random, src: bytes, dst: bytes, whole_up_to: int = 8) -> bytes:
    """The offending datagram as a router quotes it (header + ``whole_up_to`` bytes)."""
    kind = rng.random()
    if kind < 0.5:
        inner = ICMPEcho(False, rng.randrange(65536), rng.randrange(65536),
                         _payload(rng)).encode()
        proto = 1
    elif kind < 0.85:
        inner, proto = _udp(rng, rng.randrange(0, 64)), 17
    else:
        inner, proto = _tcp(rng), 6
    ttl = rng.choice((1, 1, 2, 3, 64))
    flags = 0x4000 if rng.random() < 0.5 else 0
    datagram = bytearray(_ip(rng, src, dst, proto, inner, ttl=ttl, flags=flags))
    if rng.random() < 0.03:  # rewritten by NAT: quoted header checksum is wrong (normal)
        datagram[10] ^= 0x5A
    return bytes(datagram[: 20 + whole_up_to])


class Frame(NamedTuple):
    eth_payload: bytes
    ethertype: int
    ip_offset: int  # of the IPv4 header in eth_payload, or -1 when not IPv4
    seq_offset: int  # of the ICMP echo sequence number in eth_payload, or -1
    icmp_offset: int  # of the ICMP message in eth_payload, or -1


def _echo(rng: random.Random) -> Frame:
    reply = rng.random() < 0.47
    a, b = _addr(rng), _addr(rng, rng.choice((10, 172, 192)))
    src, dst = (b, a) if reply else (a, b)
    opts = b""
    if rng.random() < 0.02:  # record route / router alert
        opts = rng.choice((b"\x07\x0b\x04" + b"\0" * 8 + b"\0", b"\x94\x04\x00\x00"))
    msg = ICMPEcho(reply, rng.randrange(65536), 0, _payload(rng)).encode()
    ip = _ip(rng, src, dst, 1, msg, ttl=rng.choice((64, 63, 62, 128, 255, 57)), options=opts,
             flags=rng.choice((0, 0x4000)))
    hl = 20 + len(opts)
    return Frame(ip, 0x0800, 0, hl + 6, hl)


ERROR_KINDS = (  # (type, code, weight)
    (11, 0, 70), (11, 1, 5),
    (3, 3, 30), (3, 1, 20), (3, 0, 5), (3, 2, 2), (3, 4, 10), (3, 10, 5), (3, 13, 10),
    (5, 1, 2), (12, 0, 1), (4, 0, 1),
)


def _error(rng: random.Random) -> Frame:
    kinds = [(t, c) for t, c, _ in ERROR_KINDS]
    icmp_type, code = rng.choices(kinds, [w for *_, w in ERROR_KINDS])[0]
    probe_src, probe_dst, router = _addr(rng), _addr(rng), _addr(rng, 172)
    quoted = _quote(rng, probe_src, probe_dst, rng.choice((8, 8, 8, 28, 548)))
    rest = b"\0\0\0\0"
    if (icmp_type, code) == (3, 4):
        rest = b"\0\0" + struct.pack("!H", rng.choice((1280, 1400, 1450, 1492, 576)))
    elif icmp_type == 5:
        rest = _addr(rng)
    elif icmp_type == 12:
        rest = bytes((rng.choice((0, 1, 20)), 0, 0, 0))
    msg = ICMPError(icmp_type, code, quoted, rest=rest).encode()
    ip = _ip(rng, router, probe_src, 1, msg, ttl=rng.choice((255, 254, 64, 63)))
    return Frame(ip, 0x0800, 0, -1, 20)


def _other_icmp(rng: random.Random) -> Frame:
    t = rng.choice((13, 14, 9, 10, 17, 42))
    payload = rng.randbytes(12) if t in (13, 14) else rng.randbytes(rng.choice((0, 4, 8)))
    msg = ICMPOther(t, 0, rng.randbytes(4), payload).encode()
    return Frame(_ip(rng, _addr(rng), _addr(rng), 1, msg), 0x0800, 0, -1, 20)


def _icmp_fragment(rng: random.Random) -> Frame:
    """Part of a fragmented 3000-byte echo: the first fragment (MF) or a later one."""
    msg = ICMPEcho(False, rng.randrange(65536), rng.randrange(65536),
                   rng.randbytes(2972)).encode()
    src, dst = _addr(rng), _addr(rng)
    part = rng.randrange(3)
    if part == 0:
        return Frame(_ip(rng, src, dst, 1, msg[:1480], flags=0x2000), 0x0800, 0, -1, 20)
    if part == 1:
        return Frame(_ip(rng, src, dst, 1, msg[1480:2960], flags=0x2000, frag=185),
                     0x0800, 0, -1, -1)
    return Frame(_ip(rng, src, dst, 1, msg[2960:], frag=370), 0x0800, 0, -1, -1)


def _arp(rng: random.Random) -> Frame:
    reply = rng.random() < 0.4
    pkt = ARPPacket(2 if reply else 1, _mac(rng), _addr(rng),
                    _mac(rng) if reply else b"\0" * 6, _addr(rng))
    return Frame(pkt.encode(), 0x0806, -1, -1, -1)


def _tcp_frame(rng: random.Random) -> Frame:
    return Frame(_ip(rng, _addr(rng), _addr(rng), 6, _tcp(rng), flags=0x4000), 0x0800, 0, -1,
                 -1)


def _udp_frame(rng: random.Random) -> Frame:
    return Frame(_ip(rng, _addr(rng), _addr(rng), 17, _udp(rng)), 0x0800, 0, -1, -1)


def _ipv6(rng: random.Random) -> Frame:
    body = _udp(rng, rng.randrange(0, 200))
    hdr = struct.pack("!IHBB", 0x60000000, len(body), 17, 64) + rng.randbytes(32)
    return Frame(hdr + body, 0x86DD, -1, -1, -1)


def _malformed(rng: random.Random) -> Frame:
    ip = bytearray(_echo(rng).eth_payload)
    r = rng.randrange(3)
    if r == 0:
        ip[0] = 0x65  # version 6 in an IPv4 frame
    elif r == 1:
        ip[0] = 0x43  # IHL 3
    else:
        ip[2:4] = b"\x00\x10"  # total length 16 < 20
    ck = internet_checksum(bytes(ip[:10]) + b"\0\0" + bytes(ip[12:20]))
    ip[10:12] = struct.pack("!H", ck)
    return Frame(bytes(ip), 0x0800, -1, -1, -1)


KINDS = (  # (builder, weight in percent)
    (_echo, 56.0), (_error, 17.0), (_other_icmp, 0.5), (_icmp_fragment, 0.6),
    (_arp, 6.0), (_tcp_frame, 12.0), (_udp_frame, 6.0), (_ipv6, 1.5), (_malformed, 0.4),
)


def _ones(ck: int) -> int:
    return ~ck & 0xFFFF


def make_template(rng: random.Random) -> Template:
    builder = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    fr = builder(rng)
    body = bytearray(fr.eth_payload)
    ip_off, seq_off, icmp_off = fr.ip_offset, fr.seq_offset, fr.icmp_offset
    if icmp_off >= 0:
        if seq_off >= 0:  # echo: the sequence number is rewritten per frame, from 0
            ck = struct.unpack_from("!H", body, icmp_off + 2)[0]
            seq0 = struct.unpack_from("!H", body, seq_off)[0]
            s = _ones(ck) + (_ones(seq0))  # remove seq0 from the sum (RFC 1624)
            s = (s & 0xFFFF) + (s >> 16)
            body[seq_off : seq_off + 2] = b"\0\0"
            body[icmp_off + 2 : icmp_off + 4] = struct.pack("!H", _ones((s & 0xFFFF) + (s >> 16)))
        if rng.random() < 0.025:  # wrong ICMP checksum
            body[icmp_off + 2] ^= rng.randrange(1, 256)
            # (the outer IPv4 header checksum does not cover ICMP: nothing else to fix)
    if ip_off >= 0 and rng.random() < 0.025:  # wrong IPv4 header checksum
        body[ip_off + 11] ^= rng.randrange(1, 256)
    # link layer
    dst, src = _mac(rng), _mac(rng)
    r = rng.random()
    vlans: tuple[VLANTag, ...] = ()
    if r < 0.08:
        vlans = (VLANTag(0x8100, rng.randrange(8), 0, rng.randrange(1, 4095)),)
    elif r < 0.10:
        vlans = (VLANTag(0x88A8, 0, 0, rng.randrange(1, 4095)),
                 VLANTag(0x8100, rng.randrange(8), 0, rng.randrange(1, 4095)))
    eth = EthernetHeader(dst, src, fr.ethertype, vlans).encode()
    frame = eth + bytes(body)
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))  # Ethernet padding
    length = len(frame)
    base = len(eth)
    # snaplen cuts
    r = rng.random()
    if r < 0.03:
        cut = rng.choice(SNAPLENS)
        if rng.random() < 0.3 or cut >= length:
            cut = rng.randrange(0, length)  # anywhere: Ethernet, tags, IP, ICMP...
        frame = frame[:cut]
    ip_id = ip_ck = ip_nc = -1
    if ip_off >= 0 and len(frame) >= base + ip_off + 12:
        ip_id, ip_ck = base + ip_off + 4, base + ip_off + 10
        ip_nc = _ones(struct.unpack_from("!H", frame, ip_ck)[0])
    seq = icmp_ck = icmp_nc = -1
    if seq_off >= 0 and len(frame) >= base + seq_off + 2:
        seq, icmp_ck = base + seq_off, base + icmp_off + 2
        icmp_nc = _ones(struct.unpack_from("!H", frame, icmp_ck)[0])
    return Template(bytes(frame), length, ip_id, ip_ck, ip_nc, seq, icmp_ck, icmp_nc)


def write_mix(n: int, path: str, seed: int = 1) -> dict[str, float]:
    """Write ``n`` frames to ``path``; returns what it did (frames, bytes, seconds)."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    pool = [make_template(rng) for _ in range(POOL)]
    picks = rng.choices(range(POOL), k=n)
    deltas = [rng.choice((0, 0, 7, 31, 120, 999, 5_000, 40_000)) + rng.randrange(50)
              for _ in range(4096)]
    rec = struct.Struct("<IIII").pack
    pack16 = struct.Struct("!H").pack_into
    usec = 0
    total_bytes = 24
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        out: list[bytes] = []
        for i in range(n):
            t = pool[picks[i]]
            data = t.data
            if t.ip_id >= 0 or t.seq >= 0:
                b = bytearray(data)
                if t.ip_id >= 0:
                    v = (i * 40503 + 1) & 0xFFFF
                    pack16(b, t.ip_id, v)
                    s = t.ip_nc + v
                    s = (s & 0xFFFF) + (s >> 16)
                    pack16(b, t.ip_ck, ~s & 0xFFFF)
                if t.seq >= 0:
                    v = (i >> 3) & 0xFFFF
                    pack16(b, t.seq, v)
                    s = t.icmp_nc + v
                    s = (s & 0xFFFF) + (s >> 16)
                    pack16(b, t.icmp_ck, ~s & 0xFFFF)
                data = bytes(b)
            usec += deltas[i & 4095]
            out.append(rec(BASE_TS + usec // 1_000_000, usec % 1_000_000, len(data), t.length))
            out.append(data)
            total_bytes += 16 + len(data)
            if len(out) >= 65536:
                f.write(b"".join(out))
                out.clear()
        f.write(b"".join(out))
    return {"frames": n, "bytes": total_bytes, "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of frames")
    ap.add_argument("out", help="output .pcap file")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    info = write_mix(args.n, args.out, args.seed)
    print(f"{args.out}: {info['frames']} frames, {info['bytes'] / 1e6:.1f} MB "
          f"in {info['seconds']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
