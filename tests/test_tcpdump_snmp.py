"""pcapping.tcpdump.apps.snmp against tcpdump 4.99.3's SNMP printer.

Seeded generators build SNMP messages (v1, v2c, v3; every PDU and value type),
mutations of them, random BER-ish bytes and capture cuts at every offset.  They
are written to two pcap files, ICMP port-unreachable errors quoting a UDP
datagram (the only place pcapping prints SNMP, ``-v``/``-vv``) and plain UDP
frames (the only way to see tcpdump's ``-n`` text, verbose 0), and the text
after ``PORT: `` of every UDP line must equal ``snmp()``'s.  File-only: no
packet is sent, addresses are in 10.0.0.0/8.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tcpdump_harness import (
    Case,
    compare_tails,
    mutate,
    needs_tcpdump,
    tcpdump_records,
    write_cases,
)

from pcapping.io.pcapfile import PcapReader
from pcapping.tcpdump.apps.snmp import snmp

CORPUS_TRAP = (Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump"
               / "icmp-cksum-oobr-3.pcapng")


# -- BER building --------------------------------------------------------------------

def enc_len(n: int, rng: random.Random) -> bytes:
    if n < 128 and rng.random() < 0.9:
        return bytes((n,))
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    if rng.random() < 0.1:
        body = b"\0" + body
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int | bytes, content: bytes, rng: random.Random) -> bytes:
    head = bytes((tag,)) if isinstance(tag, int) else tag
    return head + enc_len(len(content), rng) + content


def enc_int(v: int, rng: random.Random, tag: int = 0x02) -> bytes:
    n = 1
    while not -(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1)):
        n += 1
    body = v.to_bytes(n, "big", signed=True)
    r = rng.random()
    if r < 0.05:
        body = (b"\xff" if v < 0 else b"\0") * rng.randint(1, 4) + body
    elif r < 0.08:
        body = rng.randbytes(rng.randint(0, 9))
    return tlv(tag, body, rng)


def rand_int(rng: random.Random) -> int:
    return rng.choice((
        0, 1, -1, 127, 128, -128, -129, 255, 256, 2**31 - 1, -(2**31), 2**31, 2**32 - 1,
        rng.randint(-1000, 1000), rng.randint(-(2**31), 2**31 - 1), rng.randint(0, 2**40)))


def enc_uns(tag: int, rng: random.Random, width: int = 4) -> bytes:
    r = rng.random()
    if r < 0.15:
        body = rng.randbytes(rng.randint(0, 2 * width + 1))
    else:
        v = rng.choice((0, 1, 2**(8 * width) - 1, rng.randint(0, 2**(8 * width) - 1)))
        body = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
        if r < 0.3:
            body = b"\0" + body
    return tlv(tag, body, rng)


def oid_body(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.1:
        return rng.randbytes(rng.randint(0, 12))
    if r < 0.15:
        return b""
    first = rng.choice((0, 1, 2)) * 40 + rng.randint(0, 39)
    if rng.random() < 0.1:
        first = rng.choice((rng.randint(80, 300), 2**31 - 1, 2**31 + 100, 2**32 - 50,
                            2**32 + 5, 2**35))
    comps = [first] + [rng.choice((0, 1, 3, 6, 4, 127, 128, 16383, 16384, 2**31 - 1,
                                  2**31, 2**32 - 1, 2**32 + 7, 2**40, rng.randint(0, 5000)))
                       for _ in range(rng.randint(0, 12))]
    out = bytearray()
    for c in comps:
        chunk = [c & 0x7F]
        c >>= 7
        while c:
            chunk.append(0x80 | (c & 0x7F))
            c >>= 7
        if rng.random() < 0.02:
            chunk.append(0x80)  # a redundant leading 0x80 octet
        out += bytes(reversed(chunk))
    if rng.random() < 0.05:
        out.append(0x81)  # a sub-identifier left unterminated
    return bytes(out)


def enc_oid(rng: random.Random) -> bytes:
    return tlv(0x06, oid_body(rng), rng)


def enc_str(rng: random.Random, tag: int = 0x04) -> bytes:
    r = rng.random()
    if r < 0.4:
        body = bytes(rng.randint(0x20, 0x7E) for _ in range(rng.randint(0, 30)))
    elif r < 0.5:
        body = b""
    elif r < 0.6:
        body = rng.choice((b"public", b"Public", b"publi", b"public!", b"pub\0ic", b"trap"))
    else:
        body = rng.randbytes(rng.randint(1, 20))
    return tlv(tag, body, rng)


def enc_ipaddr(rng: random.Random) -> bytes:
    n = 4 if rng.random() < 0.85 else rng.randint(0, 7)
    return tlv(0x40, rng.randbytes(n), rng)


def odd_element(rng: random.Random) -> bytes:
    """Tags tcpdump complains about or prints generically."""
    tag = rng.choice((
        0x01, 0x03, 0x07, 0x08, 0x0C, 0x10, 0x11, 0x12, 0x13, 0x1E, 0x44, 0x45, 0x47, 0x48,
        0x80, 0x81, 0x82, 0x83, 0x84, 0x88, 0x89, 0x9E, 0xC0, 0xC1, 0x24, 0x31, 0x21, 0x32,
        0x60, 0x61, 0x67, 0x68, 0xA0, 0xA4, 0xA8, 0xA9, 0xE0, 0xE1, 0x00, 0x05))
    if rng.random() < 0.15:  # an extended tag number
        ext = bytes(0x80 | rng.randint(0, 127) for _ in range(rng.randint(0, 3)))
        head = bytes((rng.choice((0x1F, 0x3F, 0x5F, 0x7F, 0x9F, 0xBF, 0xDF, 0xFF)),))
        return tlv(head + ext + bytes((rng.choice((0, 2, 4, 5, 6, 16, 30, 31, 127)),)),
                   rng.randbytes(rng.randint(0, 6)), rng)
    return tlv(tag, rng.randbytes(rng.randint(0, 8)), rng)


def value(rng: random.Random) -> bytes:
    makers: list[Callable[[], bytes]] = [
        lambda: enc_int(rand_int(rng), rng),
        lambda: enc_str(rng),
        lambda: b"\x05\x00",
        lambda: tlv(0x05, rng.randbytes(rng.randint(1, 3)), rng),
        lambda: enc_oid(rng),
        lambda: enc_ipaddr(rng),
        lambda: enc_uns(0x41, rng),
        lambda: enc_uns(0x42, rng),
        lambda: enc_uns(0x43, rng),
        lambda: enc_uns(0x46, rng, 8),
        lambda: tlv(rng.choice((0x80, 0x81, 0x82)), b"", rng),
        lambda: odd_element(rng),
        lambda: tlv(0x30, value(rng) if rng.random() < 0.5 else b"", rng),
    ]
    return rng.choice(makers)()


def maybe(rng: random.Random, good: bytes, p: float = 0.03) -> bytes:
    """``good``, or now and then a wrong element, nothing, or ``good`` plus junk."""
    r = rng.random()
    if r >= p:
        return good
    r /= p
    if r < 0.4:
        return value(rng)
    if r < 0.6:
        return b""
    return good + value(rng)


def varbinds(rng: random.Random, pduid: int) -> bytes:
    items = []
    for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
        if pduid in (0, 1, 5) and rng.random() < 0.8:
            val = b"\x05\x00"
        else:
            val = value(rng)
        items.append(maybe(rng, tlv(0x30, maybe(rng, enc_oid(rng)) + maybe(rng, val), rng)))
    return tlv(0x30, b"".join(items), rng)


def pdu(rng: random.Random, version: int) -> bytes:
    if version == 0:
        pduid = rng.choice((0, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8))
    else:
        pduid = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 8))
    if pduid == 4:
        body = (maybe(rng, enc_oid(rng)) + maybe(rng, enc_ipaddr(rng))
                + maybe(rng, enc_int(rng.choice((0, 1, 2, 3, 4, 5, 6, 6, 6, 7, -1, 300)),
                                     rng))
                + maybe(rng, enc_int(rng.choice((0, 0, 1, 52, -5, rand_int(rng))), rng))
                + maybe(rng, enc_uns(rng.choice((0x43, 0x43, 0x41, 0x42)), rng))
                + maybe(rng, varbinds(rng, pduid)))
    else:
        def small() -> int:
            return rng.choice((0, 0, 0, 0, 1, 2, 5, 18, 19, 25, -1, rand_int(rng)))
        body = (maybe(rng, enc_int(rand_int(rng), rng)) + maybe(rng, enc_int(small(), rng))
                + maybe(rng, enc_int(small(), rng)) + maybe(rng, varbinds(rng, pduid)))
    return maybe(rng, tlv(0xA0 | pduid, body, rng))


def usm(rng: random.Random) -> bytes:
    body = (maybe(rng, enc_str(rng)) + maybe(rng, enc_int(rand_int(rng), rng))
            + maybe(rng, enc_int(rand_int(rng), rng)) + maybe(rng, enc_str(rng))
            + maybe(rng, enc_str(rng)) + maybe(rng, enc_str(rng)))
    return maybe(rng, tlv(0x30, body, rng))


def v3_message(rng: random.Random) -> bytes:
    flags = rng.choice((0, 1, 3, 4, 5, 7, 0, 1, 3, 2, 6, 0x80, 0xFF))
    flag_str = tlv(0x04, bytes((flags,)), rng) if rng.random() < 0.95 else enc_str(rng)
    model = rng.choice((3, 3, 3, 3, 1, 2, 0, -1))
    header = tlv(0x30, maybe(rng, enc_int(rand_int(rng), rng))
                 + maybe(rng, enc_int(rng.choice((484, 65507, 1500)), rng))
                 + maybe(rng, flag_str) + maybe(rng, enc_int(model, rng)), rng)
    if rng.random() < 0.15:
        scoped = tlv(0x04, rng.randbytes(rng.randint(0, 30)), rng)  # encrypted
    else:
        scoped = tlv(0x30, maybe(rng, enc_str(rng)) + maybe(rng, enc_str(rng))
                     + pdu(rng, 3), rng)
    return (maybe(rng, header) + maybe(rng, tlv(0x04, usm(rng), rng))
            + maybe(rng, scoped))


def message(rng: random.Random) -> bytes:
    version = rng.choice((0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3, 2, 4, -1, 2**31 - 1))
    ver = enc_int(version, rng) if rng.random() < 0.97 else value(rng)
    if version == 3:
        rest = v3_message(rng)
    else:
        community = (tlv(0x04, b"public", rng) if rng.random() < 0.4 else enc_str(rng))
        rest = maybe(rng, community) + pdu(rng, version)
    msg = tlv(0x30, ver + rest, rng)
    if rng.random() < 0.05:
        msg += rng.randbytes(rng.randint(1, 5))
    return msg


def random_ber(rng: random.Random) -> bytes:
    head = bytes((rng.choice((0x30, 0x30, 0x31, 0x02, 0x04, 0x1F, 0xA0, 0x3F)),))
    return head + rng.randbytes(rng.randint(0, 40)) if rng.random() < 0.7 else \
        rng.randbytes(rng.randint(0, 40))


def fixed_messages() -> list[bytes]:
    """A few hand-made messages: every PDU of every version, well formed."""
    rng = random.Random(7)
    out = []
    vb_get = tlv(0x30, tlv(0x30, tlv(0x06, bytes((43, 6, 1, 2, 1, 1, 1, 0)), rng)
                           + b"\x05\x00", rng), rng)
    set_values = (
        enc_int(-5, rng), tlv(0x04, b"hello", rng), tlv(0x04, b"\x00\x01\xff", rng),
        tlv(0x06, bytes((43, 6, 1, 4, 1, 0x9D, 0x76)), rng), tlv(0x40, bytes((10, 0, 0, 1)), rng),
        tlv(0x41, b"\x01\x00", rng), tlv(0x42, b"\xff" * 4, rng), tlv(0x43, b"\x01\x02\x03", rng),
        tlv(0x46, b"\xff" * 8, rng), tlv(0x44, b"\x01", rng), b"\x80\x00", b"\x81\x00",
        b"\x82\x00", b"\x05\x00")
    vb_set = tlv(0x30, b"".join(
        tlv(0x30, tlv(0x06, bytes((43, 6, 1, 2, 1, 1, k, 0)), rng) + v, rng)
        for k, v in enumerate(set_values)), rng)
    for version, community in ((0, b"public"), (1, b"private"), (0, b"\x01bin")):
        for pduid in range(9):
            vbs = vb_get if pduid in (0, 1, 5) else vb_set
            if pduid == 4:
                body = (tlv(0x06, bytes((43, 6, 1, 4, 1, 99)), rng)
                        + tlv(0x40, bytes((10, 1, 2, 3)), rng) + enc_int(6, rng)
                        + enc_int(17, rng) + tlv(0x43, b"\x10\x00", rng) + vbs)
            else:
                body = enc_int(1234, rng) + enc_int(pduid == 2, rng) + enc_int(
                    pduid == 2, rng) + vbs
            out.append(tlv(0x30, enc_int(version, rng) + tlv(0x04, community, rng)
                           + tlv(0xA0 | pduid, body, rng), rng))
    for pduid in (0, 2, 5, 7, 8):
        usm_seq = tlv(0x30, tlv(0x04, b"\x80\x00\x1f\x88\x04", rng) + enc_int(3, rng)
                      + enc_int(86400, rng) + tlv(0x04, b"user", rng)
                      + tlv(0x04, b"\0" * 12, rng) + tlv(0x04, b"", rng), rng)
        header = tlv(0x30, enc_int(42, rng) + enc_int(65507, rng) + tlv(0x04, b"\x05", rng)
                     + enc_int(3, rng), rng)
        scoped = tlv(0x30, tlv(0x04, b"\x80\x00\x1f\x88\x04", rng) + tlv(0x04, b"ctx", rng)
                     + tlv(0xA0 | pduid, enc_int(9, rng) + enc_int(0, rng) + enc_int(0, rng)
                           + vb_get, rng), rng)
        out.append(tlv(0x30, enc_int(3, rng) + header + tlv(0x04, usm_seq, rng) + scoped, rng))
    # extended tags: run off the message (a hard stop when nothing follows it), numbers
    # that keep only their low 8 bits (2 is an INTEGER, 0 is U-0, 128 is out of range)
    out += [bytes.fromhex(h) for h in (
        "3005020100" "1f81", "3005020100" "1f81" "05", "3004020100" "1f", "3004020100" "1f" "00",
        "3008020100" "1f820201" "05", "3007020100" "1f8400" "00", "3007020100" "5f8100" "00",
        "3009020100" "04067075626c6963" "bf8205" "00")]
    return out


# -- frames -------------------------------------------------------------------------------

def ports(rng: random.Random) -> tuple[int, int]:
    agent = rng.choice((161, 162))
    other = rng.randint(40000, 60000)
    return (other, agent) if rng.random() < 0.7 else (agent, other)


def build_cases(seed: int, n_valid: int, n_mutated: int, n_random: int,
                n_cut_msgs: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(payload: bytes, cut: int | None = None) -> None:
        sport, dport = ports(rng)
        delta = 0
        if rng.random() < 0.05:
            delta = -rng.randint(0, len(payload))
        cases.append(Case(payload, sport, dport, delta, cut))

    fixed = fixed_messages()
    for m in fixed:
        add(m)
    valid = [message(rng) for _ in range(n_valid)]
    for m in valid:
        add(m)
    for _ in range(n_mutated):
        add(mutate(rng, rng.choice(valid + fixed)))
    for _ in range(n_random):
        add(random_ber(rng))
    for m in fixed[::4][:n_cut_msgs] + valid[:n_cut_msgs]:
        for cut in range(len(m)):
            sport, dport = ports(rng)
            cases.append(Case(m, sport, dport, 0, cut))
    return cases


@pytest.fixture(scope="module")
def icmp_file(tmp_path_factory: pytest.TempPathFactory):
    cases = build_cases(seed=1, n_valid=1500, n_mutated=3000, n_random=1000, n_cut_msgs=5)
    path = tmp_path_factory.mktemp("snmp") / "icmp.pcap"
    return path, cases, write_cases(path, cases, quoted=True)


@pytest.fixture(scope="module")
def udp_file(tmp_path_factory: pytest.TempPathFactory):
    cases = build_cases(seed=2, n_valid=800, n_mutated=1500, n_random=500, n_cut_msgs=3)
    path = tmp_path_factory.mktemp("snmp") / "udp.pcap"
    return path, cases, write_cases(path, cases, quoted=False)


# -- tests --------------------------------------------------------------------------------

@pytest.mark.skipif(not CORPUS_TRAP.exists(), reason="tcpdump corpus not available")
def test_known_trap() -> None:
    """tcpdump's own corpus (icmp-cksum-oobr-3, frame 1), the quoted SNMPv1 trap."""
    with PcapReader(str(CORPUS_TRAP)) as reader:
        frame = next(iter(reader)).data
    p = 14 + 20 + 8 + 20 + 8
    end = min(len(frame), 14 + 20 + 8 + 295)
    assert snmp(frame, p, 267, end, 1) == (
        ' { SNMPv1 C="trap" { Trap(251)  .1.3.6.1.4.1.3830.1.1.2.2.1 97.242.24.11 '
        "enterpriseSpecific s=52 61498489 .1.3.6.1.4.1.3830.1.1.2.1.1.1=3 "
        ".1.3.6.1.4.1.3830.1.1.2.1.1.2=2 .1.3.6.1.4.1.3830.1.1.2.1.1.3=\"%SMSA-E-POLLERR, "
        'Polling the SMSC was not successful." .1.3.6.1.4.1.3830.1.1.2.1.1.4="OPCOM" '
        '.1.3.6.1.4.1.3830.1.1.2.1.1.5="28-OCT-2010 20:42:14.67" '
        '.1.3.6.1.4.1.3830.1.1.2.1.1.6="SMRL51" } } ', "")
    assert snmp(frame, p, 267, end, 0)[0].startswith(' C="trap" Trap(251)  .1.3.6.1.4.1.3830.')
    assert snmp(frame, p, 267, p + 30, 1) == ("  [|snmp]", "")  # the outer SEQUENCE is cut
    assert snmp(frame, p, 267, p + 1, 1) == (" ", "snmp")  # its length octet is cut


def test_small_cases() -> None:
    assert snmp(b"", 0, 0, 0, 1) == (" [nothing to parse]", "")
    assert snmp(b"", 0, 5, 0, 1) == (" ", "snmp")
    assert snmp(b"\x30", 0, 1, 1, 1) == (" [no asnlen]", "")
    assert snmp(b"\x30\x84\x00", 0, 3, 3, 1) == (" [asnlen? 1<4]", "")
    assert snmp(b"\x30\x05\x02", 0, 3, 3, 1) == (" [len1<asnlen5]", "")
    assert snmp(b"\x31\x00", 0, 2, 2, 1) == (" C/U/Set[!init SEQ]", "")
    assert snmp(b"\x30\x03\x02\x01\x02", 0, 5, 5, 1) == (" SNMP [version = 2]", "")
    assert snmp(b"\x30\x03\x02\x01\x00\xff", 0, 6, 6, 1) == (
        " [1 extra after iSEQ]{ SNMPv1 [nothing to parse]} ", "")


@needs_tcpdump
@pytest.mark.parametrize(("flags", "verbose"), [("-nv", 1), ("-nvv", 2)])
def test_quoted_against_tcpdump(icmp_file, flags: str, verbose: int) -> None:
    path, cases, frames = icmp_file
    total, bad = compare_tails(tcpdump_records(path, flags), frames, cases, verbose, True,
                               lambda case: snmp)
    assert not bad, f"{len(bad)}/{total} differ:\n" + "\n".join(bad[:10])


@needs_tcpdump
@pytest.mark.parametrize(("flags", "verbose"), [("-n", 0), ("-nv", 1)])
def test_plain_udp_against_tcpdump(udp_file, flags: str, verbose: int) -> None:
    path, cases, frames = udp_file
    total, bad = compare_tails(tcpdump_records(path, flags), frames, cases, verbose, False,
                               lambda case: snmp)
    assert not bad, f"{len(bad)}/{total} differ:\n" + "\n".join(bad[:10])


def test_never_raises_seeded() -> None:
    rng = random.Random(3)
    pool = [message(rng) for _ in range(300)]
    for _ in range(4000):
        data = mutate(rng, rng.choice(pool)) if rng.random() < 0.7 else rng.randbytes(
            rng.randint(0, 60))
        p = rng.randint(-2, len(data) + 2)
        text, hard = snmp(data, p, rng.randint(-2, len(data) + 5), rng.randint(-2, len(data) + 5),
                          rng.randint(0, 3))
        assert isinstance(text, str) and hard in ("", "snmp")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.integers(-3, 250), st.integers(-3, 2**33),
       st.integers(-3, 250), st.integers(0, 3))
def test_never_raises(data: bytes, p: int, length: int, end: int, verbose: int) -> None:
    text, hard = snmp(data, p, length, end, verbose)
    assert isinstance(text, str) and hard in ("", "snmp")
