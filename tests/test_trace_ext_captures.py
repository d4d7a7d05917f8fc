"""captures/icmp-extensions.pcap (scripts/make_ext_captures.py): what pcapping reads from
each crafted RFC 4884/4950/5837 frame, in trace's text (traceroute's ``-e`` form), in
``sniff --json``, and through the trace strategy's own matching.  (``sniff`` on the same
file is held to tcpdump 4.99.3 in every flag set by test_tcpdump_format.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from pcapping.decode import decode_frame
from pcapping.io.pcapfile import PcapReader
from pcapping.probe.flows import ProbeBuilder
from pcapping.probe.quote_diff import diff_quote, names, unpad
from pcapping.wire.ext import extension_text
from pcapping.wire.icmp import ICMPError, parse_icmp

CAPTURE = Path(__file__).resolve().parent.parent / "captures" / "icmp-extensions.pcap"

# per frame: traceroute's text of the extension, or what is wrong with it
EXPECTED = [
    "MPLS:L=16,E=0,S=1,T=1",
    "MPLS:L=24001,E=5,S=0,T=254/L=16004,E=0,S=0,T=253/L=3,E=0,S=1,T=1",
    "MPLS:L=299776,E=0,S=1,T=1",
    'INC:15,10.77.33.1,"ge-0/0/1.0",mtu=1500',
    'MPLS:L=18,E=1,S=1,T=1;INC:7,"xe-1/2/0";OUT:fd00::21,mtu=9000',
    "NXT:10.77.36.2;SUB:mtu=1492",
    "MPLS:L=17,E=0,S=1,T=1",
    "MPLS:L=19,E=0,S=1,T=1",
    "MPLS:L=20,E=0,S=1,T=1",
    "9/3:deadbeef,01020304",
    "1/2:00010101",
    "bad checksum;MPLS:L=21,E=0,S=1,T=1",
    None,  # length 0 and a wrong checksum: no extension at all
    "MPLS:L=23,E=0,S=1,T=1",  # checksum 0: RFC 4884 says it is not used
    "problem: malformed: icmp-ext: version 1",
    "problem: truncated: icmp-ext object needs 44 bytes, 12 captured",
    "MPLS:L=26,E=0,S=1,T=1",
    "MPLS:L=27,E=0,S=0,T=2/L=28,E=0,S=1,T=1",
    "problem: truncated: icmp-ext object needs 12 bytes, 10",  # cut inside the structure
]


def _frames() -> list[bytes]:
    if not CAPTURE.exists():
        pytest.skip("run scripts/make_ext_captures.py")
    return [rec.data for rec in PcapReader(str(CAPTURE))]


def _text(data: bytes) -> str | None:
    ip = data[14:]
    msg = parse_icmp(ip[20:], verify=False)
    assert isinstance(msg, ICMPError)
    found = msg.extension
    if found is None:
        return None
    if found.extension is None:
        return f"problem: {found.problem}"
    text = extension_text(found.extension)
    return ("bad checksum;" + text) if found.extension.checksum_ok is False else text


def test_every_frame_reads_as_expected() -> None:
    frames = _frames()
    assert len(frames) == len(EXPECTED)
    for i, (data, want) in enumerate(zip(frames, EXPECTED, strict=True), 1):
        got = _text(data)
        if want is not None and want.startswith("problem:"):
            assert got is not None and got.startswith(want), (i, got)
        else:
            assert got == want, (i, got)


def test_sniff_json_carries_the_objects() -> None:
    frames = _frames()
    d = decode_frame(frames[3]).to_dict()
    ext = d["icmp"]["extension"]
    assert ext["compliant"] and ext["checksum_ok"]
    obj = ext["objects"][0]
    assert (obj["kind"], obj["role"], obj["ifindex"], obj["address"], obj["name"],
            obj["mtu"]) == ("interface", "incoming", 15, "10.77.33.1", "ge-0/0/1.0", 1500)
    assert decode_frame(frames[2]).to_dict()["icmp"]["extension"]["compliant"] is False
    assert "extension" not in decode_frame(frames[12]).to_dict()["icmp"]
    assert decode_frame(frames[11]).to_dict()["icmp"]["extension"]["checksum_ok"] is False


def test_the_quotes_identify_the_probes_they_quote() -> None:
    """Each frame quotes a probe of ProbeBuilder(sport=40000, nonce=b"PCAP", ident=0x1234),
    as trace would have sent it: the builder reads the tag back through the padding."""
    frames = _frames()
    src, dst = bytes([10, 77, 1, 2]), bytes([10, 77, 27, 2])
    builders = {m: ProbeBuilder(m, src, dst, sport=40000, nonce=b"PCAP", ident=0x1234)
                for m in ("udp", "icmp", "tcp")}
    want = {0: ("udp", 100), 2: ("udp", 102), 16: ("icmp", 200), 17: ("tcp", 300)}
    for i, (method, tag) in want.items():
        msg = parse_icmp(frames[i][34:], verify=False)
        assert isinstance(msg, ICMPError)
        found = builders[method].identify_quote(unpad(msg.quoted_bytes))
        assert found and found[0].tag == tag, (i, found)
        sent = builders[method].build(tag, 5).datagram
        modified = names(diff_quote(sent, unpad(msg.quoted_bytes), rfc4884_padding=True))
        assert modified == (["truncated"] if i == 2 else []), (i, modified)
