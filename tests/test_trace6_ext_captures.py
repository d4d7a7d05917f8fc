"""captures/icmp6-extensions.pcap (scripts/make_ext_captures6.py): what ``trace -6`` reads
from each crafted ICMPv6 error carrying RFC 4884/4950/5837 objects, in trace's text
(traceroute's ``-e`` form), in ``sniff --json``, and through the trace strategy's own
matching and diff.  (``sniff`` on the same file is held to tcpdump 4.99.3 in every flag
set by test_tcpdump_format.py: tcpdump prints none of these objects for ICMPv6, and
neither does ``sniff``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pcapping.decode import decode_frame
from pcapping.io.pcapfile import PcapReader
from pcapping.probe.engine import Frame
from pcapping.probe.flows import ProbeBuilder
from pcapping.probe.quote_diff import diff_quote6, names, unpad
from pcapping.probe.trace import TraceOptions, TraceStrategy
from pcapping.wire.ext import extension_text, locate_extension
from pcapping.wire.ipv6 import ip6_bytes

CAPTURE = Path(__file__).resolve().parent.parent / "captures" / "icmp6-extensions.pcap"
CLIENT = ip6_bytes("fd00:10:77:1::2")
TARGET = ip6_bytes("fd00:10:77:27::2")

# per frame: traceroute's text of the extension, or what is wrong with it
EXPECTED = [
    "MPLS:L=16,E=0,S=1,T=1",
    "MPLS:L=24001,E=5,S=0,T=254/L=16004,E=0,S=0,T=253/L=3,E=0,S=1,T=1",
    "MPLS:L=299776,E=0,S=1,T=1",
    'INC:15,fd00:10:77:33::1,"ge-0/0/1.0",mtu=1500',
    'MPLS:L=18,E=1,S=1,T=1;INC:7,"xe-1/2/0";OUT:10.77.35.1,mtu=9000',
    "NXT:fd00:10:77:36::2;SUB:mtu=1492",
    "MPLS:L=17,E=0,S=1,T=1",
    "MPLS:L=19,E=0,S=1,T=1",
    "9/3:deadbeef,01020304",
    "1/2:00010101",
    "bad checksum;MPLS:L=21,E=0,S=1,T=1",
    None,  # length 0 and a wrong checksum: no extension at all
    "MPLS:L=23,E=0,S=1,T=1",  # checksum 0: RFC 4884 says it is not used
    "problem: malformed: icmp-ext: version 1",
    "problem: truncated: icmp-ext object needs 44 bytes, 12 captured",
    None,  # a length field past the message: no extension
    "MPLS:L=27,E=0,S=1,T=1",
    "MPLS:L=28,E=0,S=0,T=2/L=29,E=0,S=1,T=1",
    None,  # packet too big: RFC 4884 does not extend it
    None,  # parameter problem: nor this
    "problem: truncated: icmp-ext object needs 12 bytes, 10",  # cut inside the structure
]
# (frame index, method, tag) of the probes quoted by the frames after their builder
QUOTING = {0: ("udp", 100), 2: ("udp", 102), 3: ("udp", 103), 6: ("udp", 106),
           16: ("icmp", 200), 17: ("tcp", 300), 18: ("udp", 116), 19: ("udp", 117)}


def _frames() -> list[bytes]:
    if not CAPTURE.exists():
        pytest.skip("run scripts/make_ext_captures6.py")
    return [rec.data for rec in PcapReader(str(CAPTURE))]


def _builder(method: str) -> ProbeBuilder:
    return ProbeBuilder(method, CLIENT, TARGET, sport=40000, nonce=b"PCAP", ident=0x1234,
                        flow_label=0x12345)


def _text(data: bytes) -> str | None:
    icmp = data[14 + 40:]
    if icmp[0] not in (1, 3):
        return None
    found = locate_extension(icmp[8:], icmp[4], 8)
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
    ext = decode_frame(frames[3]).to_dict()["icmp6"]["extension"]
    assert ext["compliant"] and ext["checksum_ok"]
    obj = ext["objects"][0]
    assert (obj["kind"], obj["role"], obj["ifindex"], obj["address"], obj["name"],
            obj["mtu"]) == ("interface", "incoming", 15, "fd00:10:77:33::1", "ge-0/0/1.0",
                            1500)
    assert decode_frame(frames[1]).to_dict()["icmp6"]["extension"]["objects"][0]["mpls"][0] \
        == {"label": 24001, "tc": 5, "s": 0, "ttl": 254}
    assert decode_frame(frames[2]).to_dict()["icmp6"]["extension"]["compliant"] is False
    assert decode_frame(frames[10]).to_dict()["icmp6"]["extension"]["checksum_ok"] is False
    for i in (11, 15, 18, 19):
        assert "extension" not in decode_frame(frames[i]).to_dict()["icmp6"], i


def test_the_quotes_identify_the_probes_and_diff_clean() -> None:
    """Each listed frame quotes a probe as ``trace -6`` sent it: the builder reads the tag
    back through the RFC 4884 padding, and nothing but the expected differs."""
    frames = _frames()
    for i, (method, tag) in QUOTING.items():
        icmp = frames[i][54:]
        payload = icmp[8:]
        found = locate_extension(payload, icmp[4], 8) if icmp[0] in (1, 3) else None
        quote = payload if found is None else unpad(found.quote, 48)
        b = _builder(method)
        cands = b.identify_quote(quote)
        assert cands and cands[0].tag == tag, (i, cands)
        sent = b.build(tag, 5).datagram
        modified = names(diff_quote6(sent, quote, rfc4884_padding=found is not None))
        want = {2: ["truncated"], 18: ["padded"]}.get(i, [])
        assert modified == want, (i, modified)


class _Report:
    def __init__(self) -> None:
        self.probes: list[Any] = []

    def probe(self, ev: Any) -> None:
        self.probes.append(ev)

    def round_done(self, n: int) -> None:
        pass

    def flush(self) -> None:
        pass


class _Engine:
    l3 = 14

    def send(self, probe: Any, now: float) -> None:
        pass


def test_the_strategy_reads_them_as_answers_to_its_probes() -> None:
    """Frames handed to ``TraceStrategy.on_frame`` as the engine would, each after its
    probe was sent: matched, kind and annotation as traceroute's, the extension kept."""
    frames = _frames()
    for i, (method, tag) in QUOTING.items():
        b = _builder(method)
        s = TraceStrategy(TraceOptions(method=method, mode="report", count=1), _Report(),
                          builder=b, src=CLIENT, dst=TARGET, next_hop=None,
                          dst_mac=b"\0" * 6, engine=_Engine())
        from pcapping.probe.trace import Rec

        rec = Rec(5, 1, 0)
        s.tags.next = tag
        s.send(rec, 0.0)
        assert rec.tag == tag and rec.sent is not None
        assert s.on_frame(Frame(frames[i], 1763800000, 0, 1)), i
        r = rec.result
        assert r is not None and r.src is not None, i
        want = {6: ("unreachable", ""), 18: ("packet-too-big", "!F-1280"),
                19: ("param-problem", "!<4-0>")}.get(
            i, ("time-exceeded", ""))
        assert (r.kind, r.annotation) == want, (i, r.kind, r.annotation)
        assert (r.ext_text is not None) == (EXPECTED[i] is not None), (i, r.ext_text)
        if EXPECTED[i] is not None and not EXPECTED[i].startswith("problem"):
            assert r.ext_text == EXPECTED[i]
