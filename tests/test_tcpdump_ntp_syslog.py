"""pcapping.tcpdump.apps.ntp and pcapping.tcpdump.apps.syslog against tcpdump 4.99.3.

Seeded generators build NTP messages (time messages of every mode, version,
leap indicator and stratum class, with and without key id / digest, control
messages, mode 7) and syslog messages (valid, odd and malformed priorities,
binary message text), mutations of them, random bytes, shortened UDP lengths
and capture cuts at every offset.  They are written to two pcap files: ICMP
port-unreachable errors quoting the UDP datagram (``-nv``/``-nvv``; tcpdump
does not print a quote without ``-v``) and the plain UDP frames (``-n``,
``-nv``, ``-nvv``).  Everything tcpdump printed after ``PORT: `` of the UDP
line, continuation lines included, must equal the printer's text (plus
`` [|name]`` when it reports a hard stop).  File-only: no packet is sent,
addresses are in 10.0.0.0/8.  The dates are compared under ``TZ=UTC``.
"""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tcpdump_harness import (
    Case,
    Printer,
    compare_tails,
    mutate,
    needs_tcpdump,
    tcpdump_records,
    write_cases,
)

from pcapping.tcpdump.apps.ntp import ntp
from pcapping.tcpdump.apps.syslog import syslog

PRINTERS: dict[str, Printer] = {"ntp": ntp, "syslog": syslog}
# ports in 40000-60000 tcpdump dissects itself (BCM-LI-SHIM, some before NTP and syslog)
OTHER_DISSECTED = frozenset((49152, 50000))


# -- NTP messages -------------------------------------------------------------------------

def stamp(rng: random.Random) -> bytes:
    secs = rng.choice((0, 0, 1, 2208988799, 2208988800, 2208988801, 0x7FFFFFFF, 0x80000000,
                       0xE5000000, 0xE8B1C2D3, 0xFFFFFFFF, rng.randint(0, 0xFFFFFFFF),
                       rng.randint(0xE0000000, 0xF0000000)))
    frac = rng.choice((0, 0, 1, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFF, 4294967,
                       rng.randint(0, 0xFFFFFFFF)))
    return struct.pack("!II", secs, frac)


def stamps(rng: random.Random) -> bytes:
    """Reference, originate, receive, transmit: often close together, sometimes equal."""
    org = stamp(rng)
    out = [stamp(rng), org]
    for _ in range(2):
        r = rng.random()
        if r < 0.2:
            out.append(org)
        elif r < 0.5:
            secs, frac = struct.unpack("!II", org)
            out.append(struct.pack("!II", (secs + rng.randint(-2, 2)) & 0xFFFFFFFF,
                                   (frac + rng.randint(-2**31, 2**31)) & 0xFFFFFFFF))
        else:
            out.append(stamp(rng))
    return b"".join(out)


def ntp_time_msg(rng: random.Random) -> bytes:
    leap = rng.randrange(4)
    version = rng.choice((3, 4, 4, 4, 2, 1, 0, 5, 6, 7))
    mode = rng.choice((0, 1, 2, 3, 3, 4, 4, 5))
    stratum = rng.choice((0, 1, 1, 2, 3, 15, 16, 62, 63, 64, 255, rng.randrange(256)))
    poll = rng.choice((0, 4, 6, 10, 17, 31, 32, 33, 127, -1, -6, -31, -32, -33, -128,
                       rng.randint(-128, 127)))
    precision = rng.choice((-20, -6, -29, 0, 1, 127, -128, rng.randint(-128, 127)))
    head = struct.pack("!BBbb", (leap << 6) | (version << 3) | mode, stratum, poll, precision)
    delay = struct.pack("!HH", rng.choice((0, 1, 0x7FFF, 0x8000, 0xFFFF, rng.randrange(65536))),
                        rng.choice((0, 1, 0x8000, 0xFFFF, rng.randrange(65536))))
    disp = struct.pack("!HH", rng.choice((0, 3, 0xFFFF, rng.randrange(65536))),
                       rng.randrange(65536))
    if stratum == 1 and rng.random() < 0.6:
        refid = rng.choice((b"GPS\0", b"PPS\0", b"DCF\0", b"LOCL", b"\x01\x7f\x80\xff",
                            b"G\xe9S ", b"ATOM"))
    elif rng.random() < 0.5:
        refid = bytes((10, rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    else:
        refid = rng.randbytes(4)
    msg = head + delay + disp + refid + stamps(rng)
    tail = rng.choice((b"", b"", b"", "key", "md5", "sha1", "junk"))
    if tail == "key":
        msg += rng.randbytes(4)
    elif tail == "md5":
        msg += rng.randbytes(20)
    elif tail == "sha1":
        msg += rng.randbytes(24)
    elif tail == "junk":
        msg += rng.randbytes(rng.choice((1, 3, 8, 16, 19, 21, 23, 25, 40, 60)))
    return msg


def ntp_control_msg(rng: random.Random) -> bytes:
    leap = rng.randrange(4)
    version = rng.choice((2, 3, 4, 4, 1, 0, 7))
    control = rng.choice((0x02, 0x82, 0x81, 0xC1, 0xA2, 0xE2, 0x01, 0x1F, rng.randrange(256)))
    data = rng.choice((b"", b"", b"version,leap", b"stratum=2, precision=-20",
                       rng.randbytes(rng.randint(1, 40))))
    count = len(data)
    r = rng.random()
    if r < 0.1:
        count += rng.randint(1, 10)
    elif r < 0.15 and count:
        count -= rng.randint(1, count)
    elif r < 0.2:
        count = rng.choice((0xFFFF, 0xFFF4, 0xFFF3, 1000))
    msg = struct.pack("!BBHHHHH", (leap << 6) | (version << 3) | 6, control,
                      rng.choice((0, 1, 0x7FFF, 0xFFFF, rng.randrange(65536))),
                      rng.choice((0, 1, 0x0615, 0x8000, 0xFFFF, rng.randrange(65536))),
                      rng.choice((0, 1, rng.randrange(65536))),
                      rng.choice((0, 0, 468, rng.randrange(65536))), count) + data
    if rng.random() < 0.2:
        msg += rng.randbytes(rng.choice((1, 3, 12, 24)))
    return msg


def ntp_message(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.7:
        return ntp_time_msg(rng)
    if r < 0.9:
        return ntp_control_msg(rng)
    if r < 0.95:  # mode 7 (private), any length
        return bytes((rng.randrange(256) | 7,)) + rng.randbytes(rng.choice((0, 3, 47, 100)))
    return rng.randbytes(rng.choice((0, 1, 2, 11, 12, 13, 30, 47, 48, 52, 68, 72)))


def fixed_ntp() -> list[bytes]:
    """Hand-made messages: a client request, a server reply, control traffic."""
    t = struct.pack("!II", 0xE8B1C2D3, 0x12345678)
    u = struct.pack("!II", 0xE8B1C2D4, 0x02345678)
    client = bytes((0xE3, 0, 6, 0xE9)) + bytes(40) + t
    server = (bytes((0x24, 2, 6, 0xEC)) + struct.pack("!HHHH", 0, 0x1A, 0, 0x3C)
              + bytes((10, 0, 0, 1)) + t + t + u + u)
    primary = bytes((0x1C, 1, 4, 0xE7)) + bytes(8) + b"GPS\0" + t + t + u + u
    kod = bytes((0xE4, 0, 10, 0xE9)) + bytes(8) + b"RATE" + bytes(24) + t
    query = bytes((0x1B, 62, 4, 0xE7)) + bytes(8) + bytes((10, 9, 8, 7)) + bytes(32)
    reply = bytes((0x1C, 63, 4, 0xE7)) + bytes(8) + bytes((10, 9, 8, 7)) + bytes(32)
    ctl_req = bytes.fromhex("1602000100000000" "00000000")
    ctl_resp = bytes.fromhex("1682000106150000" "0000000c") + b"version=4.2\0"
    ctl_err = bytes.fromhex("16c2000201000000" "00000000")
    # control messages long enough for a cut inside their data to land where the ICMP
    # printer around a quote shows whether the NTP printer stopped softly or hard
    ctl_long = bytes.fromhex("1682000306150001" "000000b4") + bytes(range(180))
    ctl_bad = bytes.fromhex("1602000400000000" "000000f0") + bytes(120)
    return [client, server, server + b"\0\0\0\x01", server + bytes(20), server + bytes(24),
            server + bytes(30), primary, kod, query, reply, ctl_req, ctl_resp, ctl_err,
            bytes((0x17,)) + bytes(7), b"\x00" * 48, b"\x07", ctl_long, ctl_bad,
            bytes((0x1B,)) + bytes(120)]


# -- syslog messages ----------------------------------------------------------------------

def syslog_text(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.5:
        return rng.choice((b"Oct 11 22:14:15 mymachine su: 'su root' failed",
                           b"1 2003-10-11T22:14:15.003Z host app - ID47 - msg",
                           b"kernel: eth0 link up", b"", b" ", b"x"))
    if r < 0.8:
        return bytes(rng.randint(0x20, 0x7E) for _ in range(rng.randint(0, 60)))
    return rng.randbytes(rng.randint(1, 40))


def syslog_message(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.6:
        pri = rng.choice((0, 7, 13, 14, 34, 85, 165, 191, 192, 199, 200, 999, 1016,
                          rng.randint(0, 191), rng.randint(0, 999)))
        digits = str(pri).encode()[:3]
        if rng.random() < 0.1:
            digits = b"0" * rng.randint(1, 2) + digits
            digits = digits[:rng.choice((3, 4))]
        return b"<" + digits + b">" + syslog_text(rng)
    if r < 0.9:
        return rng.choice((b"<", b"<>", b"<1", b"<12", b"<123", b"<1234>", b"<0012>",
                           b"<1a>", b"<-1>", b" <13>", b"13>", b"<13", b"<999>", b"<000>",
                           b"<>>", b"<<13>", b"<13>>", b">")) + syslog_text(rng)
    return rng.randbytes(rng.randint(0, 30))


def fixed_syslog() -> list[bytes]:
    out = [b"<%d>message %d" % (pri, pri) for pri in range(0, 200, 1)]
    out += [b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            b"<13>", b"<13>\x00\x01\x7f\x80\xff\n\r\t", b"<0>" + bytes(range(256)), b"",
            b"<1>" + b"A" * 40, b"<191>" + bytes(range(32, 127)) + bytes(range(60))]
    return out


# -- frames -------------------------------------------------------------------------------

def ports(rng: random.Random, proto: str) -> tuple[int, int]:
    well_known = 123 if proto == "ntp" else 514
    if proto == "ntp" and rng.random() < 0.15:
        return 123, 123
    other = rng.randint(40000, 60000)
    while other in OTHER_DISSECTED:
        other = rng.randint(40000, 60000)
    return (other, well_known) if rng.random() < 0.7 else (well_known, other)


def build_cases(seed: int, n_valid: int, n_mutated: int, n_random: int,
                n_cut_msgs: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(proto: str, payload: bytes, cut: int | None = None) -> None:
        sport, dport = ports(rng, proto)
        delta = 0
        if cut is None and rng.random() < 0.08:
            delta = -rng.randint(0, len(payload))
        cases.append(Case(payload, sport, dport, delta, cut, proto))

    makers = {"ntp": (fixed_ntp(), ntp_message), "syslog": (fixed_syslog(), syslog_message)}
    for proto, (fixed, make) in makers.items():
        for m in fixed:
            add(proto, m)
        valid = [make(rng) for _ in range(n_valid)]
        for m in valid:
            add(proto, m)
        for _ in range(n_mutated):
            add(proto, mutate(rng, rng.choice(valid + fixed)))
        for _ in range(n_random):
            add(proto, rng.randbytes(rng.randint(0, 80)))
        cut_fixed = fixed if proto == "ntp" else fixed[::40] + fixed[-4:]
        for m in cut_fixed + valid[:n_cut_msgs]:
            for cut in range(len(m)):
                add(proto, m, cut)
    return cases


@pytest.fixture(scope="module")
def icmp_file(tmp_path_factory: pytest.TempPathFactory):
    cases = build_cases(seed=1, n_valid=1200, n_mutated=1500, n_random=300, n_cut_msgs=6)
    path = tmp_path_factory.mktemp("ntp_syslog") / "icmp.pcap"
    return path, cases, write_cases(path, cases, quoted=True)


@pytest.fixture(scope="module")
def udp_file(tmp_path_factory: pytest.TempPathFactory):
    cases = build_cases(seed=2, n_valid=1000, n_mutated=1200, n_random=300, n_cut_msgs=5)
    path = tmp_path_factory.mktemp("ntp_syslog") / "udp.pcap"
    return path, cases, write_cases(path, cases, quoted=False)


# -- tests --------------------------------------------------------------------------------

def test_small_cases() -> None:
    assert ntp(b"", 0, 48, 0, 1) == ("", "ntp")
    assert ntp(b"\x23", 0, 48, 1, 0) == ("NTPv4, Client, length 48", "")
    assert ntp(b"\x23", 0, 48, 1, 1) == (
        "NTPv4, Client, length 48\n\tLeap indicator:  (0)", "ntp")
    assert ntp(b"\xe3" + bytes(9), 0, 10, 10, 1) == (
        "NTPv4, Client, length 10\n\tLeap indicator: clock unsynchronized (192) (invalid)", "")
    assert ntp(b"\x27", 0, 100, 1, 2) == (
        "NTPv4, Reserved, length 100\n\tLeap indicator:  (0)", "")
    stratum1 = bytes((0x24, 1, 0xFA, 0xE9)) + bytes(8) + b"G\xe9S\x00"
    assert ntp(stratum1, 0, 48, len(stratum1) - 1, 1) == (
        "NTPv4, Server, length 48\n\tLeap indicator:  (0), Stratum 1 (primary reference), "
        "poll -6 (1/64s), precision -23\n\tRoot Delay: 0.000000, Root dispersion: 0.000000 "
        "[|ntp]", "")
    assert ntp(stratum1, 0, 48, len(stratum1), 1)[0].endswith("Reference-ID: GM-iS^@ [|ntp]")
    assert ntp(stratum1, 0, 48, 3, 1) == (
        "NTPv4, Server, length 48\n\tLeap indicator:  (0), Stratum 1 (primary reference), "
        "poll -6 (1/64s)", "ntp")
    ctl = bytes.fromhex("1682000106150000" "0000000c")
    assert ntp(ctl, 0, 12, 12, 1) == (
        "NTPv2, Control Message, length 12\n\tLeap indicator:  (0), Response, OK, Last, "
        "OpCode=2\n\tSequence=1, Status=0x615, Assoc.=0, Offset=0, Count=12 (invalid)", "")
    assert syslog(b"", 0, 0, 0, 1) == ("", "syslog")
    assert syslog(b"x", 0, 1, 1, 0) == (" (invalid)", "")
    assert syslog(b"<1234>", 0, 6, 6, 0) == (" (invalid)", "")
    assert syslog(b"<999>", 0, 5, 5, 0) == ("SYSLOG unknown (124).debug, length: 5", "")
    assert syslog(b"<13", 0, 3, 3, 0) == ("", "syslog")
    assert syslog(b"<13>hi\x01\xff", 0, 8, 7, 1) == (
        "SYSLOG, length: 8\n\tFacility user (1), Severity notice (5)\n\tMsg: hi^A", "syslog")
    assert syslog(b"<13>hi", 0, 6, 6, 2) == (
        "SYSLOG, length: 6\n\tFacility user (1), Severity notice (5)\n\tMsg: hi"
        "\n\t0x0000:  3c31 333e 6869", "")


def test_dates() -> None:
    """Time stamps before 1970, at the NTP era's end and with fractions near 1."""
    msg = bytes((0x24, 2, 6, 0xEC)) + bytes(12) + struct.pack(
        "!IIIIIIII", 1, 0xFFFFFFFF, 0xFFFFFFFF, 0, 2208988800, 1, 0x7FFFFFFF, 0x80000000)
    text, hard = ntp(msg, 0, 48, 48, 1)
    assert hard == ""
    assert "Reference Timestamp:  1.999999999 (1900-01-01T00:00:01Z)" in text
    assert "Originator Timestamp: 4294967295.000000000 (2036-02-07T06:28:15Z)" in text
    assert "Receive Timestamp:    2208988800.000000000 (1970-01-01T00:00:00Z)" in text
    assert "Transmit Timestamp:   2147483647.500000000 (1968-01-20T03:14:07Z)" in text
    assert "Originator - Receive Timestamp:  -2085978494.999999999" in text


@needs_tcpdump
@pytest.mark.parametrize(("flags", "verbose"), [("-nv", 1), ("-nvv", 2)])
def test_quoted_against_tcpdump(icmp_file, flags: str, verbose: int) -> None:
    path, cases, frames = icmp_file
    total, bad = compare_tails(tcpdump_records(path, flags), frames, cases, verbose, True,
                               lambda case: PRINTERS[case.proto], multiline=True)
    assert not bad, f"{len(bad)}/{total} differ:\n" + "\n".join(bad[:10])


@needs_tcpdump
@pytest.mark.parametrize(("flags", "verbose"), [("-n", 0), ("-nv", 1), ("-nvv", 2)])
def test_plain_udp_against_tcpdump(udp_file, flags: str, verbose: int) -> None:
    path, cases, frames = udp_file
    total, bad = compare_tails(tcpdump_records(path, flags), frames, cases, verbose, False,
                               lambda case: PRINTERS[case.proto], multiline=True)
    assert not bad, f"{len(bad)}/{total} differ:\n" + "\n".join(bad[:10])


def test_never_raises_seeded() -> None:
    rng = random.Random(3)
    pool = [ntp_message(rng) for _ in range(150)] + [syslog_message(rng) for _ in range(150)]
    for _ in range(4000):
        data = mutate(rng, rng.choice(pool)) if rng.random() < 0.7 else rng.randbytes(
            rng.randint(0, 90))
        p = rng.randint(-3, len(data) + 3)
        length = rng.choice((rng.randint(-3, len(data) + 80), 2**32 + 5, 2**40))
        end = rng.randint(-3, len(data) + 5)
        verbose = rng.randint(0, 4)
        for name, printer in PRINTERS.items():
            text, hard = printer(data, p, length, end, verbose)
            assert isinstance(text, str) and hard in ("", name)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120), st.integers(-3, 130), st.integers(-3, 2**33),
       st.integers(-3, 130), st.integers(0, 4))
def test_never_raises(data: bytes, p: int, length: int, end: int, verbose: int) -> None:
    for name, printer in PRINTERS.items():
        text, hard = printer(data, p, length, end, verbose)
        assert isinstance(text, str) and hard in ("", name)
