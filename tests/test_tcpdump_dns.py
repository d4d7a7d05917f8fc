"""The DNS printer (tcpdump -v) against tcpdump 4.99.3 on generated messages.

A seeded generator writes DNS messages to and from port 53 as UDP datagrams
quoted by ICMP port-unreachable errors: queries with and without EDNS (UDP
sizes, the DO bit, cookies, client subnets and other options), responses with
answer, authority and additional sections of every record type tcpdump knows
(and some it does not), compression pointers good and bad, EDNS0 bit labels,
over-long names, random and mutated messages, and the quoted datagram cut at
every byte offset.  Every frame must print exactly as ``tcpdump -nv`` prints it.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from tcpdump_harness import ETHER, TCPDUMP, differences, icmp_error, ipv4

from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.tcpdump.apps.dns import domain
from pcapping.tcpdump.formatter import _UDP_DISSECTED

CORPUS = Path("/work/shared/corpus")
CLIENT, SERVER, ROUTER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 53]), bytes([10, 9, 9, 9])
PORTS = [port for port in range(40000, 60001) if port not in _UDP_DISSECTED]

# record types with rdata built on purpose (the others get random bytes)
TYPES = (1, 2, 5, 6, 12, 13, 15, 16, 28, 33, 35, 38, 39, 41, 104, 250, 256)
OTHER_TYPES = (0, 3, 10, 11, 17, 24, 43, 46, 47, 48, 49, 64, 65, 99, 105, 249, 251, 252, 255,
               257, 32768, 65535)
CLASSES = (1, 1, 1, 1, 3, 4, 255, 254, 0, 0x8001, 65535)
OPTIONS = (1, 2, 3, 5, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 65001)


# -- frames ---------------------------------------------------------------------------------

def _quoted(dns: bytes, query: bool, port: int, cut: int | None = None) -> bytes:
    """An ICMP port unreachable quoting the UDP datagram carrying ``dns`` (first ``cut``
    bytes of the message; the inner IP and UDP lengths still give the whole datagram)."""
    sport, dport = (port, 53) if query else (53, port)
    src, dst = (CLIENT, SERVER) if query else (SERVER, CLIENT)
    datagram = ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(dns), 0) + dns)
    if cut is not None:
        datagram = datagram[:28 + cut]
    return ETHER + ipv4(dst if query else ROUTER, src, 1, icmp_error(3, 3, datagram))


# -- messages -------------------------------------------------------------------------------

class _Gen:
    """Random DNS messages; ``self.msg`` is the message built so far (for pointers)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.msg = bytearray()
        self.names: list[int] = []  # offsets of names already written

    def label(self) -> bytes:
        rng = self.rng
        pick = rng.random()
        if pick < 0.7:
            n = rng.choice((1, 2, 3, 5, 7, 12))
            text = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(n))
        elif pick < 0.85:
            n = rng.choice((1, 4, 9, 63))
            text = bytes(rng.choice(b"ab.\\ \x00\x01\x7f\x80\xe9\xff") for _ in range(n))
        else:
            text = b"x" * rng.choice((40, 63))
        return bytes([len(text)]) + text

    def name(self, at: int) -> bytes:
        """A name to be written at message offset ``at``."""
        rng = self.rng
        out = bytearray()
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            out += self.label()
        pick = rng.random()
        if pick < 0.02:
            for _ in range(rng.randrange(4, 9)):
                out += b"\x3f" + b"y" * 63  # past MAXCDNAME
        elif pick < 0.04:  # an EDNS0 bit label
            bits = rng.choice((0, 1, 3, 4, 5, 8, 12, 17, 32, 255))
            out += bytes([0x41, bits]) + bytes(rng.randrange(256)
                                               for _ in range(((bits or 256) + 7) // 8))
        elif pick < 0.05:
            out += bytes([rng.choice((0x42, 0x7F, 0x80, 0xBF))])
        pick = rng.random()
        if pick < 0.5 and self.names:
            target = rng.choice(self.names)
            out += struct.pack("!H", 0xC000 | target)
        elif pick < 0.51:  # forward, self-pointing or far pointers
            out += struct.pack("!H", 0xC000 | rng.choice((at, at + len(out), at + 40, 0x3FFF,
                                                           rng.randrange(0x4000))))
        else:
            out += b"\0"
        if out[:1] != b"\xc0":
            self.names.append(at)
        return bytes(out)

    def here(self) -> int:
        return len(self.msg)

    def question(self) -> None:
        rng = self.rng
        self.msg += self.name(self.here())
        typ = rng.choice(TYPES + OTHER_TYPES + (1, 1, 28, 28, 15))
        self.msg += struct.pack("!HH", typ, rng.choice(CLASSES))

    def option(self) -> bytes:
        rng = self.rng
        code = rng.choice(OPTIONS)
        if code == 10:
            data = bytes(rng.randrange(256) for _ in range(rng.choice((8, 8, 16, 24, 40, 3, 12,
                                                                       41))))
        elif code == 8:
            family = rng.choice((1, 1, 2, 2, 3))
            src = rng.choice((0, 8, 17, 24, 32, 33, 56, 64, 128, 129))
            n = (src + 7) // 8 if rng.random() < 0.8 else rng.randrange(20)
            data = struct.pack("!HBB", family, src, rng.choice((0, 0, 24, 130))) + bytes(
                rng.randrange(256) for _ in range(n))
            if rng.random() < 0.1:
                data = data[:rng.randrange(4)]
        elif code == 11:
            data = struct.pack("!H", rng.randrange(65536))[:rng.choice((2, 2, 1))]
        elif code == 9:
            data = struct.pack("!I", rng.randrange(1 << 32))[:rng.choice((4, 4, 3))]
        elif code == 13:
            data = bytes(self.label() + rng.choice((b"\0", b"\xc0\x02", b"\xc0\x0c")))
        elif code in (5, 6, 7):
            data = bytes(rng.randrange(256) if rng.random() < 0.3 else rng.randrange(18)
                         for _ in range(rng.randrange(6)))
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.choice((0, 0, 1, 2, 4, 7))))
        return struct.pack("!HH", code, len(data)) + data

    def rdata(self, typ: int, at: int) -> bytes:
        """Record data for ``typ`` to be written at message offset ``at``."""
        rng = self.rng
        rand = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 4, 9, 16, 30))))
        if rng.random() < 0.05:
            return rand
        if typ == 1:
            return bytes([10, rng.randrange(256), rng.randrange(256), rng.randrange(256)])
        if typ in (2, 5, 12, 39):
            return self.name(at)
        if typ == 6:
            first = self.name(at)
            return (first + self.name(at + len(first))
                    + struct.pack("!IIIII", *(rng.randrange(1 << 32) for _ in range(5))))
        if typ in (15, 33):
            fixed = struct.pack("!HHH", *(rng.randrange(65536) for _ in range(3)))
            fixed = fixed[:2] if typ == 15 else fixed
            return fixed + self.name(at + len(fixed))
        if typ in (16, 13):
            out = b""
            for _ in range(rng.choice((1, 1, 2, 3)) if typ == 16 else 2):
                text = bytes(rng.choice(b"v=spf1 include:a.b ~all\x01\xff\"") for _ in
                             range(rng.choice((0, 3, 10, 40))))
                out += bytes([len(text)]) + text
            return out
        if typ == 28:
            return rng.choice((bytes(16), bytes(15) + b"\1", bytes(10) + b"\xff\xff\x0a\1\2\3",
                               bytes(12) + b"\x0a\1\2\3", b"\xfe\x80" + bytes(13) + b"\1",
                               bytes(rng.randrange(256) for _ in range(16)),
                               b"\x20\x01\x0d\xb8\0\0\0\1\0\0\0\0\0\0\0\1"))
        if typ == 38:
            pbit = rng.choice((0, 0, 64, 72, 127, 128, 129, 200))
            n = 16 - (pbit & ~7) // 8 if pbit < 128 else 0
            body = bytes([pbit]) + bytes(rng.randrange(256) for _ in range(max(n, 0)))
            return body + (self.name(at + len(body)) if pbit else b"")
        if typ == 256:
            text = bytes(rng.choice(b"https://x.example/\x80") for _ in range(rng.randrange(12)))
            return struct.pack("!HH", rng.randrange(65536), rng.randrange(65536))[
                :rng.choice((4, 4, 4, 0, 2, 3))] + (text if rng.random() < 0.9 else b"")
        if typ == 35:
            return (struct.pack("!HH", 10, 100) + b"\x01U\x07E2U+sip\x00"
                    + self.name(at + 15))
        if typ == 41:
            return b"".join(self.option() for _ in range(rng.choice((0, 1, 1, 2, 3))))
        if typ == 104:
            return bytes(rng.choice(b"abc\x00\x80\xff") for _ in range(rng.randrange(10)))
        if typ == 250:
            alg = self.name(at)
            mac = bytes(rng.randrange(256) for _ in range(rng.choice((0, 16, 32))))
            other = bytes(rng.randrange(256) for _ in range(rng.choice((0, 6))))
            return (alg + struct.pack("!HIHH", 0, rng.randrange(1 << 32), 300, len(mac)) + mac
                    + struct.pack("!HHH", rng.randrange(65536), rng.choice((0, 16, 18)),
                                  len(other)) + other)
        return rand

    def record(self, typ: int | None = None) -> None:
        rng = self.rng
        self.msg += self.name(self.here())
        if typ is None:
            typ = rng.choice(TYPES + TYPES + OTHER_TYPES)
        cls = rng.choice(CLASSES)
        ttl = rng.randrange(1 << 32)
        if typ == 41:  # OPT: UDP size, extended rcode, version, DO bit
            cls = rng.choice((512, 1232, 4096, 65535, 0, 1))
            ttl = (rng.choice((0, 0, 0, 1, 2, 255)) << 24 | rng.choice((0, 0, 1)) << 16
                   | rng.choice((0, 0x8000, 0x8000, 0x7FFF)))
        at = self.here() + 10
        data = self.rdata(typ, at)
        rdlen = len(data)
        if rng.random() < 0.03:
            rdlen = rng.choice((0, max(rdlen - 1, 0), rdlen + 1, rdlen + 30, 65535))
        self.msg += struct.pack("!HHIH", typ, cls, ttl, rdlen) + data

    def opt(self) -> None:
        """An EDNS OPT record as resolvers send it."""
        rng = self.rng
        self.msg += b"\0"
        opts = b"".join(self.option() for _ in range(rng.choice((0, 0, 1, 1, 2))))
        if rng.random() < 0.4:  # dig's client cookie
            opts = struct.pack("!HH", 10, 8) + bytes(rng.randrange(256) for _ in range(8))
        ttl = rng.choice((0, 0, 0, 1, 3)) << 24 | rng.choice((0, 0x8000))
        self.msg += struct.pack("!HHIH", 41, rng.choice((512, 1232, 4096)), ttl, len(opts)) + opts

    def message(self) -> tuple[bytes, bool]:
        """(message, is a query)."""
        rng = self.rng
        query = rng.random() < 0.45
        flags = rng.choice((0x0100, 0x0120, 0x0000, 0x0110)) if query else rng.choice(
            (0x8180, 0x8580, 0x8183, 0x8182, 0x81A0, 0x8100, 0x8380, 0x85B5))
        if rng.random() < 0.2:
            flags = rng.randrange(65536)
        qd = rng.choice((1, 1, 1, 1, 0, 2, 3))
        if query:
            an = rng.choice((0, 0, 0, 0, 1, 2))
            ns = rng.choice((0, 0, 0, 0, 1))
            ar = rng.choice((0, 1, 1, 1, 2))
        else:
            an = rng.choice((0, 1, 1, 2, 3, 5))
            ns = rng.choice((0, 0, 1, 2))
            ar = rng.choice((0, 1, 1, 2, 3))
        self.msg = bytearray(struct.pack("!HHHHHH", rng.randrange(65536), flags, qd, an, ns,
                                         ar))
        self.names = []
        for _ in range(qd):
            self.question()
        for _ in range(an + ns):
            self.record()
        for k in range(ar):
            if k == 0 and rng.random() < 0.7:
                self.opt()
            else:
                self.record(41 if rng.random() < 0.2 else None)
        msg = bytes(self.msg)
        pick = rng.random()
        if pick < 0.05:  # counts that do not match the sections
            msg = msg[:4] + bytes(rng.choice((0, 1, 2, 7, 255)) if k % 2 else 0
                                  for k in range(8)) + msg[12:]
        elif pick < 0.15:  # a few bytes changed
            raw = bytearray(msg)
            for _ in range(rng.randrange(1, 4)):
                raw[rng.randrange(2, len(raw))] = rng.randrange(256)
            msg = bytes(raw)
        elif pick < 0.18:
            msg = msg[:12] + bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
        return msg, query


def _wire(name: str, known: dict[str, int], at: int) -> bytes:
    """``name`` in wire form at message offset ``at``, compressed against ``known``."""
    labels = [label for label in name.split(".") if label]
    out = bytearray()
    for k in range(len(labels)):
        suffix = ".".join(labels[k:]).lower()
        if suffix in known:
            return bytes(out) + struct.pack("!H", 0xC000 | known[suffix])
        if at + len(out) < 0x4000:
            known[suffix] = at + len(out)
        out += bytes([len(labels[k])]) + labels[k].encode()
    return bytes(out) + b"\0"


def _edns(rng: random.Random, server: bool) -> tuple[int, bytes]:
    """(TTL field, options) of the OPT record of a resolver (dig) or a server."""
    opts = b""
    if rng.random() < 0.6:  # cookie: client 8 bytes, server 8 to 32 more
        cookie = bytes(rng.randrange(256) for _ in range(8 + (rng.choice((8, 16, 24, 32))
                                                                  if server else 0)))
        opts += struct.pack("!HH", 10, len(cookie)) + cookie
    if rng.random() < 0.2:
        nsid = b"" if not server else rng.choice((b"ns1.fra", b"\x01\x02"))
        opts += struct.pack("!HH", 3, len(nsid)) + nsid
    if rng.random() < 0.2:  # client subnet
        family, bits = rng.choice(((1, 24), (1, 32), (1, 0), (2, 56), (2, 48)))
        addr = bytes([10, rng.randrange(256), rng.randrange(256), 0, 0, 0, 0, 0])
        opts += struct.pack("!HHHBB", 8, 4 + (bits + 7) // 8, family, bits,
                            bits if server else 0) + addr[:(bits + 7) // 8]
    if rng.random() < 0.1:
        opts += struct.pack("!HHH", 11, 2, rng.randrange(3000))
    if rng.random() < 0.1:
        pad = rng.choice((0, 5, 100))
        opts += struct.pack("!HH", 12, pad) + bytes(pad)
    if not server and rng.random() < 0.1:
        opts += struct.pack("!HH", 5, 3) + bytes([8, 13, 15]) + struct.pack("!HH", 6, 2) + b"\1\2"
    return rng.choice((0, 0, 0x8000)), opts


def _conversation(rng: random.Random) -> list[tuple[bytes, bool]]:
    """A query as dig or a resolver sends it, and an answer as a server gives it."""
    zone = rng.choice(("example.com", "example.org", "Example.NET", "10.in-addr.arpa",
                       "a.very-long-label-of-a-subdomain-in-the-zone.example.com"))
    host = rng.choice(("www", "mail", "_sip._udp", "ns1", "7.0.0", "x"))
    qname = f"{host}.{zone}"
    qtype = rng.choice((1, 1, 1, 28, 28, 15, 16, 2, 6, 33, 12, 255, 43, 48, 65, 35, 13))
    qclass = rng.choice((1, 1, 1, 1, 3, 255))
    ident = rng.randrange(65536)
    edns = rng.random() < 0.75
    flags = rng.choice((0x0100, 0x0120, 0x0110, 0x0000, 0x0130))
    known: dict[str, int] = {}
    question = _wire(qname, known, 12) + struct.pack("!HH", qtype, qclass)
    ttl, opts = _edns(rng, False)
    opt = b"\0" + struct.pack("!HHIH", 41, rng.choice((512, 1232, 4096)), ttl, len(opts)) + opts
    query = struct.pack("!HHHHHH", ident, flags, 1, 0, 0, int(edns)) + question
    query += opt if edns else b""
    if qtype == 255 or rng.random() < 0.2:  # refused, cut short by the server, or lost
        return [(query, True)]

    rcode = rng.choice((0, 0, 0, 0, 3, 3, 2, 5))
    body = bytearray(struct.pack("!HHHHHH", ident, 0, 1, 0, 0, 0) + question)
    counts = [0, 0, 0]

    def add(section: int, owner: str, typ: int, rdata: bytes | str,
            cls: int = qclass) -> None:
        at = len(body) + len(_wire(owner, dict(known), len(body))) + 10
        if isinstance(rdata, str):
            rdata = _wire(rdata, known, at)
        body.extend(_wire(owner, known, len(body)) + struct.pack(
            "!HHIH", typ, cls, rng.choice((60, 300, 86400)), len(rdata)) + rdata)
        counts[section] += 1

    if rcode == 0:
        target = qname
        if rng.random() < 0.3:
            target = f"cdn.{zone}"
            add(0, qname, 5, target)
        for _ in range(rng.choice((1, 1, 2, 4))):
            if qtype == 1:
                add(0, target, 1, bytes([10, 0, rng.randrange(256), rng.randrange(1, 255)]))
            elif qtype == 28:
                add(0, target, 28, b"\xfd\0" + bytes(13) + bytes([rng.randrange(1, 255)]))
            elif qtype == 15:
                add(0, target, 15, struct.pack("!H", rng.choice((0, 10, 20)))
                    + _wire(f"mx.{zone}", known, len(body) + len(_wire(target, dict(known),
                                                                       len(body))) + 12))
            elif qtype in (16, 13):
                add(0, target, qtype, b"\x0ev=spf1 -all ok\x05hello")
            elif qtype == 2:
                add(0, target, 2, f"ns{rng.randrange(4)}.{zone}")
            elif qtype == 33:
                add(0, target, 33, struct.pack("!HHH", 10, 60, 5060) + b"\x03sip\0")
            elif qtype == 12:
                add(0, target, 12, f"host.{zone}")
            elif qtype == 6:
                add(0, zone, 6, _wire(f"ns1.{zone}", {}, 0) + b"\x0ahostmaster\xc0\x0c"
                    + struct.pack("!IIIII", 2024010101, 7200, 3600, 1209600, 300))
            else:
                add(0, target, qtype, bytes(rng.randrange(256) for _ in range(20)))
        if rng.random() < 0.3:  # a signature along the answers
            add(0, target, 46, bytes(rng.randrange(256) for _ in range(40)))
    else:  # negative: the SOA in the authority section
        add(1, zone, 6, b"\xc0\x0c" + b"\x00" + struct.pack("!IIIII", 1, 2, 3, 4, 5))
    if rng.random() < 0.4:
        for k in range(rng.choice((1, 2))):
            add(1, zone, 2, f"ns{k}.{zone}")
            add(2, f"ns{k}.{zone}", 1, bytes([10, 53, 0, k + 1]), cls=1)
            add(2, f"ns{k}.{zone}", 28, b"\xfd\x53" + bytes(13) + bytes([k + 1]), cls=1)
    ext = rng.choice((0, 0, 0, 0, 1, 2))  # extended rcode: BADVERS, BADCOOKIE (7 + 16)
    if edns:
        ttl, opts = _edns(rng, True)
        body += b"\0" + struct.pack("!HHIH", 41, rng.choice((1232, 4096)), ext << 24 | ttl,
                                    len(opts)) + opts
        counts[2] += 1
        rcode = 7 if ext == 1 and rng.random() < 0.5 else rcode
    rflags = 0x8000 | flags & 0x0110 | rng.choice((0x80, 0x80, 0x480, 0x0)) | rcode
    rflags |= 0x20 if rng.random() < 0.2 else 0
    rflags |= 0x200 if rng.random() < 0.05 else 0
    body[2:12] = struct.pack("!HHHHH", rflags, 1, *counts)
    return [(query, True), (bytes(body), False)]


def _corpus(seed: int, count: int, every_cut: int,
            talks: int) -> list[tuple[bytes, bytes, int]]:
    """(frame, message, captured length of the message): ``count`` random messages (a fifth
    cut somewhere), ``every_cut`` random messages and one in 25 of ``talks`` query/answer
    pairs quoted with every possible cut of their bytes after the header."""
    rng = random.Random(seed)
    gen = _Gen(rng)
    out = []

    def add(msg: bytes, query: bool, port: int, cut: int | None = None) -> None:
        out.append((_quoted(msg, query, port, cut), msg, len(msg) if cut is None else cut))

    for _ in range(count):
        msg, query = gen.message()
        add(msg, query, rng.choice(PORTS),
            rng.randrange(12, len(msg) + 1) if rng.random() < 0.2 else None)
    for _ in range(every_cut):
        msg, query = gen.message()
        port = rng.choice(PORTS)
        for cut in range(12, len(msg) + 1):
            add(msg, query, port, cut)
    for k in range(talks):
        port = rng.choice(PORTS)
        for msg, query in _conversation(rng):
            if rng.random() < 0.15:  # a byte or two changed
                raw = bytearray(msg)
                for _ in range(rng.choice((1, 2))):
                    raw[rng.randrange(2, len(raw))] = rng.randrange(256)
                msg = bytes(raw)
            for cut in range(12, len(msg)) if k % 25 == 0 else ():
                add(msg, query, port, cut)
            add(msg, query, port)
    return out


def _corpus_messages() -> list[tuple[bytes, bool]]:
    """The DNS messages (to or from port 53, over IPv4) of the shared corpus captures."""
    found: dict[bytes, bool] = {}
    for path in sorted(CORPUS.rglob("*.pcap*")):
        try:
            caps = list(PcapReader(str(path)))
        except Exception:  # a capture format PcapReader does not read
            continue
        for cap in caps:
            data = cap.data
            for off in range(min(len(data) - 28, 64)):
                if data[off] != 0x45 or data[off + 9] != 17:
                    continue
                sport, dport, ulen = struct.unpack_from("!HHH", data, off + 20)
                if 53 in (sport, dport) and ulen >= 20:
                    msg = data[off + 28: off + 20 + ulen]
                    if len(msg) >= 12:
                        found.setdefault(msg, dport == 53)
                break
    return list(found.items())


# -- tests ----------------------------------------------------------------------------------

def _write(path: Path, frames: list[bytes]) -> None:
    with PcapWriter(str(path), linktype=1) as w:
        for k, frame in enumerate(frames):
            w.write(1_000_000 + k, k, frame)


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump not installed")
def test_generated_messages_match_tcpdump(tmp_path: Path) -> None:
    """Every frame identical; no message kind left to the plain ``UDP, length`` line."""
    corpus = _corpus(53, 5000, 50, 1000)
    unsupported = sum(domain(msg, 0, len(msg), end) is None for _, msg, end in corpus)
    assert unsupported == 0
    path = tmp_path / "dns.pcap"
    _write(path, [frame for frame, _, _ in corpus])
    count, bad = differences(path, "-nv")
    assert count == len(corpus) > 15000
    assert not bad, f"{len(bad)} of {count} differ:\n" + "\n".join(bad[:5])


@pytest.mark.skipif(TCPDUMP is None or not CORPUS.is_dir(), reason="tcpdump or corpus missing")
def test_corpus_messages_match_tcpdump(tmp_path: Path) -> None:
    """Real messages of the shared captures, whole and cut at every byte, as quotes."""
    rng = random.Random(4)
    frames = []
    for msg, query in _corpus_messages():
        port = rng.choice(PORTS)
        frames.extend(_quoted(msg, query, port, cut) for cut in range(12, len(msg)))
        frames.append(_quoted(msg, query, port))
    if not frames:
        pytest.skip("no DNS message in the corpus")
    path = tmp_path / "corpus-dns.pcap"
    _write(path, frames)
    count, bad = differences(path, "-nv")
    assert not bad, f"{len(bad)} of {count} differ:\n" + "\n".join(bad[:5])


QNAME = b"\x07example\x03com\x00"
COOKIE = struct.pack("!HH", 10, 8) + bytes(range(1, 9))


def _head(ident: int, flags: int, qd: int, an: int, ns: int, ar: int) -> bytes:
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def _opt(size: int, ttl: int, options: bytes = b"") -> bytes:
    return b"\0" + struct.pack("!HHIH", 41, size, ttl, len(options)) + options


# (message, captured bytes or None for all, text, hard): checked against tcpdump 4.99.3 -nv
KNOWN = [
    # dig: RD and AD, an OPT record with a client cookie; -v prints no additional section
    (_head(0x1234, 0x0120, 1, 0, 0, 1) + QNAME + b"\0\1\0\1" + _opt(1232, 0, COOKIE), None,
     "4660+ [1au] A? example.com. (52)", ""),
    # the OPT record extends the rcode: BADVERS (16), BADCOOKIE (7 + 16)
    (_head(4660, 0x8180, 1, 1, 0, 1) + QNAME + b"\0\1\0\1" + b"\xc0\x0c"
     + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([10, 1, 2, 3]) + _opt(4096, 0x01000000), None,
     "4660 BadVers 1/0/1 example.com. A 10.1.2.3 (56)", ""),
    (_head(7, 0x8187, 1, 0, 0, 1) + QNAME + b"\0\x10\0\1" + _opt(4096, 0x01008000, COOKIE),
     None, "7 BadCookie 0/0/1 (52)", ""),
    # an OPT record in the answer section is printed, options and all
    (_head(9, 0x8400, 1, 1, 0, 0) + QNAME + b"\0\1\0\1" + _opt(
        1232, 0x8000, COOKIE + struct.pack("!HHHBB", 8, 7, 1, 24, 0) + bytes([10, 2, 3])
        + struct.pack("!HHH", 11, 2, 25)), None,
     "9*- 1/0/0 . OPT UDPsize=1232 DO [COOKIE 0102030405060708,ECS 10.2.3.0/24/0,"
     "KEEPALIVE 2.5 sec] (69)", ""),
    (_head(9, 0x8180, 1, 2, 0, 0) + QNAME + b"\0\x10\0\1" + b"\xc0\x0c"
     + struct.pack("!HHIH", 16, 1, 60, 10) + b"\x04ab\"c\x04\x01\xffzz" + b"\xc0\x0c"
     + struct.pack("!HHIH", 33, 1, 60, 8) + struct.pack("!HHH", 1, 2, 5060) + b"\xc0\x0c", None,
     '9 2/0/0 example.com. TXT "ab"c" "^AM-^?zz", example.com. SRV example.com.:5060 1 2 (71)',
     ""),
    # update opcode, CD, two questions with classes, counts of the other sections
    (_head(77, 0x2910, 2, 1, 1, 1) + QNAME + b"\0\x1c\0\3" + b"\x03www\xc0\x0c\x00\x0f\x80\x01",
     None, "77 update+% [1a] [2q] [1n] [1au] AAAA CHAOS? example.com. "
     "MX (Class 32769)? www.example.com. (39)", ""),
    # a bit label cut short and an A6 record past the capture: tcpdump's longjmp
    (_head(5, 0x8180, 0, 1, 0, 0) + b"\x41\x20\xaa\xbb\xcc\xdd\x00"
     + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4), 16, "5 [0q] 1/0/0 \\[xaabb", "domain"),
    (_head(5, 0x8180, 0, 1, 0, 0) + b"\x00" + struct.pack("!HHIH", 38, 1, 60, 1) + b"\x00", None,
     "5 [0q] 1/0/0 . A6", "domain"),
    # an answer whose fixed part is cut: the message still ends in its length
    (_head(3, 0x8180, 1, 1, 0, 0) + QNAME + b"\0\1\0\1" + b"\xc0\x0c\0\1\0", None,
     "3 1/0/0 example.com. (34)", ""),
    (_head(3, 0x8180, 1, 2, 0, 0) + QNAME + b"\0\1\0\1" + b"\xc0\x0c\0\1\0", None,
     "3 2/0/0 example.com. [|domain]", ""),
]


@pytest.mark.parametrize(("msg", "end", "text", "hard"), KNOWN)
def test_known_texts(msg: bytes, end: int | None, text: str, hard: str) -> None:
    assert domain(msg, 0, len(msg), len(msg) if end is None else end) == (text, hard)


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump not installed")
def test_known_texts_are_tcpdumps(tmp_path: Path) -> None:
    path = tmp_path / "known.pcap"
    _write(path, [_quoted(msg, not msg[2] & 0x80, 45000, end) for msg, end, _, _ in KNOWN])
    count, bad = differences(path, "-nv")
    assert count == len(KNOWN) and not bad, "\n".join(bad)


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump not installed")
def test_name_tables_match_tcpdump(tmp_path: Path) -> None:
    """Every type and class number up to 300 (and a few above), every EDNS option code up
    to 24, every algorithm number of the DAU, DHU and N3U options, keepalive values."""
    frames = []
    for k in [*range(301), 32768, 65535]:
        for typ, cls in ((k, 1), (1, k)):
            frames.append(_quoted(_head(k, 0x0100, 1, 0, 0, 0) + b"\1a\0"
                                  + struct.pack("!HH", typ, cls), True, 45000))

    def opt_answer(options: bytes) -> bytes:
        return _head(1, 0x8180, 0, 1, 0, 0) + _opt(512, 0x8000, options)

    for code in (5, 6, 7):
        frames.append(_quoted(opt_answer(struct.pack("!HH", code, 256) + bytes(range(256))),
                              False, 45000))
    for code in [*range(25), 65001, 65535]:
        frames.append(_quoted(opt_answer(struct.pack("!HHH", code, 2, 258)
                                         + struct.pack("!HH", code, 0)), False, 45000))
    for value in (0, 1, 5, 15, 25, 35, 45, 12345, 65535):
        frames.append(_quoted(opt_answer(struct.pack("!HHH", 11, 2, value)), False, 45000))
    path = tmp_path / "tables.pcap"
    _write(path, frames)
    count, bad = differences(path, "-nv")
    assert count == len(frames) and not bad, "\n".join(bad[:5])


def test_random_bytes_never_raise() -> None:
    rng = random.Random(9)
    for _ in range(20000):
        msg = bytes(rng.randrange(256) for _ in range(rng.randrange(12, 80)))
        if rng.random() < 0.5:  # small counts, so that sections get parsed
            msg = msg[:4] + bytes(rng.randrange(3) if k % 2 else 0 for k in range(8)) + msg[12:]
        got = domain(msg, 0, rng.randrange(12, 200), rng.randrange(12, len(msg) + 1))
        assert got is not None and isinstance(got[0], str) and got[1] in ("", "domain")
