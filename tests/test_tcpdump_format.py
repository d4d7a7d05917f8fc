"""TcpdumpFormatter against tcpdump 4.99: golden files and crafted frames.

Every ``captures/*.pcap*`` file and the corpus captures with a supported link
type are formatted with each flag set and compared with real tcpdump when it
is on PATH (``TZ=UTC``), else with ``tests/golden/<name>.<flags>.out``
(written by real tcpdump 4.99.3, see ``make_golden``).  Only ICMP, ICMPv6 (NDP,
MLD, extension headers included) and ARP frames are held to byte identity; other
protocols are best effort.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from tcpdump_harness import compare_tcpdump, differences, icmp_error, ipv4

from pcapping.decode import decode_frame
from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.tcpdump.apps.dns import domain
from pcapping.tcpdump.apps.text import rst_data, tcp_text_proto, txtproto
from pcapping.tcpdump.formatter import TcpdumpFormatter, hex_ascii, split_records
from pcapping.wire.checksum import internet_checksum

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
GOLDEN = Path(__file__).parent / "golden"
FLAGS = ("n", "nv", "ne", "nev", "nX")
SUPPORTED = {0, 1, 7, 9, 12, 50, 51, 101, 104, 107, 108, 113, 129, 166, 226, 228, 229, 242, 276,
             281, 284, 285}
TCPDUMP = shutil.which("tcpdump")

CORPUS_FILES = [
    "tcpdump/802.1ad_QinQ.pcap", "tcpdump/icmp-cksum-oobr-1.pcap",
    "tcpdump/icmp-cksum-oobr-3.pcapng", "tcpdump/icmp-icmp_print-oobr-1.pcap",
    "tcpdump/extract_read2_asan.pcap", "tcpdump/ip_ts_opts_asan.pcap",
    "tcpdump/icmp-length-zero.pcapng", "tcpdump/icmp-rfc8335.pcap",
    "tcpdump/icmp-rfc8335-missing-bytes.pcap", "tcpdump/dhcp-rfc4388.pcap",
    "tcpdump/afs.pcap", "tcpdump/arp-too-long-tha.pcap", "tcpdump/ipv4_invalid_length.pcap",
    "tcpdump/ipv4_invalid_hdr_length.pcap", "tcpdump/ipv4_invalid_total_length.pcap",
    "tcpdump/ipv4_invalid_total_length_2.pcap", "tcpdump/heapoverflow-in_checksum.pcap",
    "tcpdump/ip_printroute_asan.pcap", "tcpdump/LINKTYPE_RAW_ipv4.pcap",
    "tcpdump/LINKTYPE_IPV4.pcap", "tcpdump/LINKTYPE_IPV4_invalid.pcap",
    "other/zeek/icmp/5-pings.pcap", "other/zeek/icmp/icmp-ping.pcap",
    "other/zeek/icmp/icmp-destunreach-ip.pcap", "other/zeek/icmp/icmp-destunreach-no-context.pcap",
    "other/zeek/icmp/icmp-destunreach-udp.pcap", "other/zeek/icmp/icmp-timeexceeded.pcap",
    "other/zeek/chksums/ip4-icmp-good-chksum.pcap", "other/zeek/chksums/ip4-icmp-bad-chksum.pcap",
    "other/zeek/communityid/icmp.pcap", "other/zeek/conn-size.pcap", "other/zeek/smtp.pcap",
    "other/zeek/icmp_dot1q.pcap", "other/zeek/linuxsll-arp.pcap",
    "other/zeek/trunc/icmp-header-trunc.pcap", "other/zeek/trunc/icmp-payload-trunc.pcap",
    "other/zeek/tcp/timeout-with-pings.pcap", "other/zeek/arp-who-has.pcap",
    "other/zeek/q-in-q.pcap", "other/zeek/ip-bogus-header-len.pcap",
    "other/zeek/trunc/ip4-trunc.pcap", "other/zeek/trunc/ipv4-internally-truncated-header.pcap",
    "other/zeek/trunc/ipv4-truncated-broken-header.pcap", "other/zeek/trunc/trunc-hdr.pcap",
    "other/dpkt/dns_icmp.pcap", "other/pcapy-ng/96pings.pcap",
]


def fixtures() -> list[Path]:
    files = sorted((ROOT / "captures").glob("**/*.pcap*"))
    files += [CORPUS / name for name in CORPUS_FILES if (CORPUS / name).exists()]
    return files


def golden_name(path: Path, flags: str) -> Path:
    return GOLDEN / f"{path.name}.{flags}.out"


def run_tcpdump(path: Path, flags: str) -> str:
    env = dict(os.environ, TZ="UTC")
    proc = subprocess.run([TCPDUMP, f"-{flags}", "-r", str(path)], capture_output=True,
                          env=env, check=False)
    return proc.stdout.decode("utf-8", "backslashreplace")


def expected_text(path: Path, flags: str) -> str | None:
    if TCPDUMP:
        return run_tcpdump(path, flags)
    golden = golden_name(path, flags)
    return golden.read_text() if golden.exists() else None


def kind_of(d, expected: str = "") -> str:  # noqa: ANN001
    """ICMP/ARP by pcapping's decode (innermost layer) or by tcpdump's text for the frame."""
    return compare_tcpdump.kind_of(d, expected)


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.name)
def test_identical_to_tcpdump(path: Path, flags: str) -> None:
    frames = list(PcapReader(str(path)))
    if not frames or frames[0].linktype not in SUPPORTED:
        pytest.skip("link type not supported")
    text = expected_text(path, flags)
    if text is None:
        pytest.skip("no tcpdump and no golden file")
    expected = split_records(text)
    fmt = TcpdumpFormatter(verbose=flags.count("v"), link="e" in flags, hexdump="X" in flags)
    bad = []
    checked = 0
    for i, cap in enumerate(frames):
        d = decode_frame(cap.data, cap.linktype, frame=i + 1, ts_sec=cap.ts_sec,
                         ts_usec=cap.ts_usec, length=cap.length)
        got = fmt.format(d)
        want = expected[i] if i < len(expected) else "<missing>"
        if kind_of(d, want) == "other":
            continue
        checked += 1
        if got != want:
            bad.append(f"#{i + 1}\n  expected {want!r}\n  got      {got!r}")
    assert not bad, f"{len(bad)}/{checked} ICMP/ICMPv6/ARP frames differ:\n" + "\n".join(
        bad[:10])


def make_golden() -> None:
    """Regenerate tests/golden from real tcpdump (run by hand: python -m tests...)."""
    GOLDEN.mkdir(exist_ok=True)
    for path in fixtures():
        for flags in FLAGS:
            golden_name(path, flags).write_text(run_tcpdump(path, flags))


# -- crafted frames -------------------------------------------------------------

def _ip(proto: int, payload: bytes, ttl: int = 64, bad: bool = False) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0,
                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    csum = internet_checksum(head) ^ (0x1111 if bad else 0)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def _icmp(t: int, c: int, rest: bytes, payload: bytes, bad: bool = False) -> bytes:
    h = bytes([t, c]) + b"\0\0" + rest + payload
    csum = internet_checksum(h) ^ (0x2222 if bad else 0)
    return h[:2] + struct.pack("!H", csum) + h[4:]


def _eth(payload: bytes, etype: int = 0x0800) -> bytes:
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", etype) + payload


def _fmt(frame: bytes, verbose: int = 0, link: bool = False, hexdump: bool = False,
         linktype: int = 1, length: int | None = None) -> str:
    d = decode_frame(frame, linktype, ts_sec=3661, ts_usec=42, length=length)
    return TcpdumpFormatter(verbose, link, hexdump).format(d)


QUOTE = _ip(17, struct.pack("!HHHH", 40000, 33434, 16, 0) + b"abcdefgh", ttl=1)[:28]

UNREACH_TEXT = {
    0: "net 10.0.0.2 unreachable", 1: "host 10.0.0.2 unreachable",
    2: "10.0.0.2 protocol 17 unreachable", 3: "10.0.0.2 udp port 33434 unreachable",
    4: "10.0.0.2 unreachable - need to frag (mtu 1280)",
    5: "10.0.0.2 unreachable - source route failed",
    6: "net 10.0.0.2 unreachable - unknown", 7: "host 10.0.0.2 unreachable - unknown",
    8: "10.0.0.2 unreachable - source host isolated",
    9: "net 10.0.0.2 unreachable - admin prohibited",
    10: "host 10.0.0.2 unreachable - admin prohibited",
    11: "net 10.0.0.2 unreachable - tos prohibited",
    12: "host 10.0.0.2 unreachable - tos prohibited",
    13: "host 10.0.0.2 unreachable - admin prohibited filter",
    14: "host 10.0.0.2 unreachable - host precedence violation",
    15: "host 10.0.0.2 unreachable - precedence cutoff",
}


@pytest.mark.parametrize("code", range(16))
def test_every_unreachable_code(code: int) -> None:
    rest = struct.pack("!HH", 0, 1280 if code == 4 else 0)
    frame = _eth(_ip(1, _icmp(3, code, rest, QUOTE)))
    assert _fmt(frame) == (f"01:01:01.000042 IP 10.0.0.1 > 10.0.0.2: ICMP "
                           f"{UNREACH_TEXT[code]}, length 36")


def test_verbose_quote_and_checksum_verdicts() -> None:
    frame = _eth(_ip(1, _icmp(11, 0, bytes(4), QUOTE, bad=True), bad=True))
    lines = _fmt(frame, verbose=1).split("\n")
    assert lines[0].startswith("01:01:01.000042 IP (tos 0x0, ttl 64, id 1, offset 0, "
                               "flags [none], proto ICMP (1), length 56, bad cksum ")
    assert re.search(r", bad cksum [0-9a-f]+ \(->[0-9a-f]+\)!\)$", lines[0])
    assert re.fullmatch(r"    10\.0\.0\.1 > 10\.0\.0\.2: ICMP time exceeded in-transit, "
                        r"length 36 \(wrong icmp cksum [0-9a-f]+ \(->[0-9a-f]+\)!\)", lines[1])
    assert lines[2] == ("\tIP (tos 0x0, ttl 1, id 1, offset 0, flags [none], proto UDP (17), "
                        "length 36)")
    assert lines[3] == "    10.0.0.1.40000 > 10.0.0.2.33434: UDP, length 8"


def test_truncation_marks() -> None:
    echo = _eth(_ip(1, _icmp(8, 0, b"\x12\x34\x00\x01", bytes(56))))
    n = len(echo)
    assert _fmt(echo[:14], length=n) == "01:01:01.000042  [|ip]"
    assert _fmt(echo[:20], length=n) == "01:01:01.000042 IP  [|ip]"
    assert _fmt(echo[:38], length=n) == "01:01:01.000042 IP 10.0.0.1 > 10.0.0.2:  [|icmp]"
    assert _fmt(echo[:10], length=n) == "01:01:01.000042  [|ether]"
    assert _fmt(echo[:60], length=60) == (
        "01:01:01.000042 IP truncated-ip - 38 bytes missing! 10.0.0.1 > 10.0.0.2: "
        "ICMP echo request, id 4660, seq 1, length 64")
    arp = _eth(bytes.fromhex("0001080006040001020000000001") + bytes([10, 0, 0, 1])
               + bytes(6) + bytes([10, 0, 0, 2]), 0x0806)
    assert _fmt(arp) == ("01:01:01.000042 ARP, Request who-has 10.0.0.2 tell 10.0.0.1, "
                         "length 28")
    assert _fmt(arp[:40], length=len(arp)) == "01:01:01.000042  [|arp]"


def test_link_header_and_hexdump() -> None:
    echo = _eth(_ip(1, _icmp(0, 0, b"\x00\x07\x00\x02", b" \x01~")))
    assert _fmt(echo, link=True) == (
        "01:01:01.000042 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), "
        "length 45: 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 7, seq 2, length 11")
    dump = _fmt(echo, hexdump=True).split("\n")[1:]
    assert dump[-1].endswith("  .~") or dump[-1].endswith(".~")
    assert all("\x01" not in line for line in dump)
    assert hex_ascii(b"\x00A ") == "\n\t0x0000:  0041 20" + " " * 32 + "  .A."


def test_never_raises_on_any_cut() -> None:
    frame = _eth(_ip(1, _icmp(3, 3, bytes(4), QUOTE)))
    for linktype in (1, 113, 276, 0, 108, 101, 228, 229):
        for cut in range(len(frame) + 1):
            for verbose, link, hexdump in ((0, False, False), (2, True, True)):
                assert isinstance(_fmt(frame[:cut], verbose, link, hexdump, linktype), str)


# -- application printers inside ICMP quotes ----------------------------------------

def _tcp(sport: int, dport: int, payload: bytes, flags: int = 0x18) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, 0x50, flags, 512, 0, 0) + payload


def _quote(proto: int, l4: bytes, cut: int | None = None) -> bytes:
    inner = _ip(proto, l4)
    return _eth(_ip(1, _icmp(3, 3, bytes(4), inner[:cut] if cut else inner)))


def test_txtproto_lines_and_stops() -> None:
    data = b"220 mail ESMTP\r\nsecond\nthird"
    assert txtproto(data, 0, len(data), len(data), "smtp", 1) == (
        "SMTP, length: 28\n\t220 mail ESMTP\n\tsecond\n\tthird [|smtp]", "")
    assert txtproto(data, 0, 100, len(data), "smtp", 1) == (
        "SMTP, length: 100\n\t220 mail ESMTP\n\tsecond", "smtp")
    assert txtproto(data, 0, len(data), len(data), "ftp", 0) == ("FTP: 220 mail ESMTP", "")
    assert txtproto(b"a\rb\r\n", 0, 5, 5, "smtp", 1) == ("SMTP, length: 5", "")
    assert txtproto(b"ok\r\n\x00x\r\n", 0, 7, 7, "whois", 1) == ("WHOIS, length: 7\n\tok", "")


def test_txtproto_request_or_response_check() -> None:
    for text, shown in ((b"get / HTTP/1.0\r\n", True), (b"HTTP/1.1 404 Nope\r\n", True),
                        (b"HTTP/1.1 2000 x\r\n", False), (b"hello there\r\n", False),
                        (b"RTSP/1.0 200 OK\r\n", True)):
        got = txtproto(text, 0, len(text), len(text), "http", 1)[0]
        assert got.startswith("HTTP, length: ") is shown, text
        if not shown:
            assert got == "HTTP"
    assert txtproto(b"PLAY rtsp://x\r\n", 0, 15, 15, "rtsp", 0)[0] == "RTSP: PLAY rtsp://x"


def test_tcp_text_port_order() -> None:
    assert tcp_text_proto(40000, 25) == "smtp"
    assert tcp_text_proto(23, 25) is None  # telnet comes first
    assert tcp_text_proto(80, 21) == "ftp"
    assert tcp_text_proto(179, 80) is None  # BGP comes first
    assert tcp_text_proto(8554, 1234) == "rtsp"
    assert tcp_text_proto(1234, 110) is None  # no POP3 printer in tcpdump 4.99


def test_rst_data() -> None:
    assert rst_data(b"a\nb\xff", 0, 4, 4) == " [RST a^JbM-^?]"
    assert rst_data(b"x" * 40, 0, 40, 35) == " [!RST+ " + "x" * 30 + "]"


def test_quoted_text_protocols() -> None:
    """Checked against tcpdump 4.99.3 -v."""
    smtp = _quote(6, _tcp(40000, 25, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"), cut=60)
    assert _fmt(smtp, verbose=1).split("\n")[3:] == [
        "    10.0.0.1.40000 > 10.0.0.2.25: Flags [P.], seq 1000:1032, ack 2000, win 512, "
        "length 32: SMTP, length: 32", "\tMAIL FROM:<a@b> [|smtp]"]
    http = _quote(6, _tcp(80, 40000, b"HTTP/1.1 200 OK\r\n"), cut=57)
    assert _fmt(http, verbose=1).endswith("length 17: HTTP, length: 17\n\tHTTP/1.1 200 OK")
    assert "HTTP" not in _fmt(http)  # quotes are printed with -v only
    sip = _quote(17, struct.pack("!HHHH", 5060, 5060, 29, 0) + b"SIP/2.0 180 Ringing\r\n")
    assert _fmt(sip, verbose=1).endswith(
        "10.0.0.1.5060 > 10.0.0.2.5060: SIP, length: 21\n\tSIP/2.0 180 Ringing")


def _dns_reply(*records: bytes, flags: int = 0x8180, qd: int = 1) -> bytes:
    question = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    head = struct.pack("!HHHHHH", 4660, flags, qd, len(records), 0, 0)
    return head + question * qd + b"".join(records)


def test_domain_reply_records() -> None:
    """Checked against tcpdump 4.99.3 -v."""
    a = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 7])
    cname = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, 4) + b"\x01w\xc0\x10"
    mx = b"\xc0\x10" + struct.pack("!HHIH", 15, 3, 60, 4) + b"\x00\x0a\xc0\x0c"
    msg = _dns_reply(cname, a, mx, flags=0x8583)
    assert domain(msg, 0, len(msg), len(msg)) == (
        "4660 NXDomain* 3/0/0 www.example.com. CNAME w.example.com., www.example.com. A "
        f"192.0.2.7, example.com. CHAOS MX www.example.com. 10 ({len(msg)})", "")
    assert domain(msg, 0, len(msg), len(msg) - 3)[0].endswith("CHAOS MX [|domain]")
    assert domain(_dns_reply(a, flags=0x0100), 0, 49, 49) == (
        "4660+ [1a] A? www.example.com. (49)", "")  # a query: -v prints its questions only
    opt = _dns_reply(a)[:10] + b"\x00\x01" + _dns_reply(a)[12:]
    assert domain(opt, 0, len(opt), len(opt)) == (
        "4660 1/0/1 www.example.com. A 192.0.2.7 (49)", "")  # -v leaves out the OPT record


def test_quoted_dns_and_short_extension() -> None:
    reply = _dns_reply(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4))
    frame = _quote(17, struct.pack("!HHHH", 53, 40000, 8 + len(reply), 0) + reply)
    assert _fmt(frame, verbose=1).endswith(
        "10.0.0.1.53 > 10.0.0.2.40000: 4660 1/0/0 www.example.com. A 0.0.0.0 (49)")
    assert _fmt(frame, verbose=2).endswith(": [no cksum] UDP, length 49")  # -vv: not reproduced
    # an ICMP error longer than 136 bytes with fewer than 141 of them: tcpdump's soft [|icmp]
    long_reply = _dns_reply(*[b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4)] * 7)
    udp = struct.pack("!HHHH", 53, 40000, 8 + len(long_reply), 0) + long_reply
    frame = _quote(17, udp, cut=130)  # ICMP length 138
    assert _fmt(frame, verbose=1).endswith(" A 0.0.0.0, www.example.com. [|domain] [|icmp]")


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump not installed")
def test_extension_objects_match_tcpdump(tmp_path: Path) -> None:
    """RFC 4884 objects after a 128-byte quote: MPLS labels, the interface object's name,
    unknown classes as tcpdump's hex words (no ASCII column), cuts inside an object."""
    src, dst, router = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), bytes([10, 0, 9, 9])
    quote = ipv4(src, dst, 17, struct.pack("!HHHH", 40000, 33434, 108, 0) + bytes(100))[:128]
    path = tmp_path / "ext.pcap"
    with PcapWriter(str(path)) as w:
        k = 0
        for n in [*range(40), 100]:
            for cls, ctype in ((5, 1), (1, 1), (2, 3), (3, 1), (0, 1), (1, 2), (6, 0)):
                obj = struct.pack("!HBB", 4 + n, cls, ctype) + bytes(
                    (i * 37 + 65) & 0xFF for i in range(n))
                ext = b"\x20\0\0\0" + obj
                ext = ext[:2] + struct.pack("!H", internet_checksum(ext)) + ext[4:]
                body = icmp_error(11, 0, quote + ext, rest=bytes([0, 32, 0, 0]))
                frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ipv4(router, src, 1, body)
                for cut in (0, 3):
                    k += 1
                    w.write(k, 0, frame[:len(frame) - cut], len(frame))
    for flags in ("-nv", "-n"):
        count, bad = differences(path, flags)
        assert not bad, f"{len(bad)} of {count} differ, first: {bad[0]}"
