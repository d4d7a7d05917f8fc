"""`pcapping sniff` on IPv6: --icmp keeps ICMPv6 (NDP, MLD behind hop-by-hop, VLAN-tagged)
and drops other IPv6, -q counts IPv6 and ICMPv6, --json has the ip6/icmp6 layers, text is
tcpdump's, and the live prefilter never drops a frame the exact test keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_sniff_cli import run_cli

from pcapping.decode import decode_frame
from pcapping.io.capture import compile_filter
from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.sniff import ICMP_BPF, _is_icmp_or_arp
from pcapping.wire.ethernet import EthernetHeader, VLANTag
from pcapping.wire.icmp6 import ICMP6Echo
from pcapping.wire.ipv6 import IPv6Header, IPv6Option, OptionsHeader, ip6_bytes
from pcapping.wire.mld import MLDMessage
from pcapping.wire.ndp import ns_frame

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
A6, B6 = ip6_bytes("2001:db8:77:1::2"), ip6_bytes("2001:db8:77:3::2")


def _eth6(datagram: bytes, vlan: int | None = None) -> bytes:
    tags = (VLANTag(0x8100, 0, 0, vlan),) if vlan is not None else ()
    return EthernetHeader(MAC_B, MAC_A, 0x86DD, tags).encode() + datagram


def _echo6(seq: int, reply: bool = False) -> bytes:
    src, dst = (B6, A6) if reply else (A6, B6)
    return IPv6Header(src, dst, 58).encode(ICMP6Echo(reply, 7, seq, b"x" * 16).encode(src, dst))


@pytest.fixture
def mixed6(tmp_path: Path) -> Path:
    group = ip6_bytes("ff02::1:3")
    hbh = OptionsHeader.build(0, 58, [IPv6Option(5, b"\0\0")])
    mld = IPv6Header(A6, group, 0, 1).encode(hbh.encode() + MLDMessage(131, 0, group).encode(
        A6, group))
    udp = IPv6Header(A6, B6, 17).encode(bytes.fromhex("3039003500100000") + b"payload!")
    frames = [
        _eth6(_echo6(1)),                                   # 1 echo request
        _eth6(_echo6(1, reply=True)),                       # 2 echo reply
        ns_frame(MAC_A, A6, ip6_bytes("2001:db8:77:1::1")),  # 3 neighbor solicitation
        _eth6(udp),                                         # 4 UDP: not ICMP
        _eth6(mld),                                         # 5 MLD behind hop-by-hop
        _eth6(_echo6(2), vlan=42),                          # 6 VLAN-tagged echo
    ]
    path = tmp_path / "mixed6.pcap"
    with PcapWriter(str(path)) as w:
        for i, frame in enumerate(frames):
            w.write(1763800000 + i, 0, frame)
    return path


def test_icmp_keeps_icmpv6_ndp_mld_and_tagged(mixed6: Path) -> None:
    res = run_cli("sniff", "--icmp", "--json", "-r", str(mixed6))
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["frame"] for o in objs] == [1, 2, 3, 5, 6]
    assert [o["icmp6"]["type"] for o in objs] == [128, 129, 135, 131, 128]
    assert all(o["icmp6"]["checksum_ok"] for o in objs)
    ns = objs[2]
    assert ns["ip6"]["hlim"] == 255 and ns["ip6"]["dst"] == "ff02::1:ff00:1"
    assert ns["icmp6"]["target"] == "2001:db8:77:1::1"
    assert ns["icmp6"]["options"] == [{"type": 1, "len": 8, "lladdr": "02:00:00:00:00:01"}]
    mld = objs[3]
    assert mld["ip6"]["nxt"] == 0 and mld["ip6"]["proto"] == 58
    assert mld["ip6"]["ext"][0]["type"] == "hopopts" and mld["icmp6"]["mld"]["version"] == 1
    assert objs[4]["eth"]["vlan"] == [42]


def test_quiet_summary_counts_ipv6(mixed6: Path) -> None:
    res = run_cli("sniff", "-q", "-r", str(mixed6))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "6 frames: 0 IPv4, 0 ICMP, 0 ARP"
    assert lines[1] == "6 IPv6, 5 ICMPv6"
    assert "  ICMPv6 type 128 code 0 (echo request): 2" in lines
    assert "  ICMPv6 type 135 code 0 (neighbor solicit): 1" in lines
    assert "bad ICMPv6 checksums: 0" in lines
    bad = run_cli("sniff", "-q", "-r", str(CAPTURES / "icmp6-checksums.pcap"))
    assert "bad ICMPv6 checksums: 5" in bad.stdout.splitlines()  # the offloaded one too


def test_text_is_tcpdump_text(mixed6: Path) -> None:
    res = run_cli("sniff", "-v", "-r", str(mixed6))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == (
        "08:26:40.000000 IP6 (hlim 64, next-header ICMPv6 (58) payload length: 24) "
        "2001:db8:77:1::2 > 2001:db8:77:3::2: [icmp6 sum ok] ICMP6, echo request, id 7, seq 1")
    assert lines[-1].startswith("08:26:45.000000 IP6 (hlim 64, ")


def test_prefilter_never_drops_what_the_exact_test_keeps() -> None:
    keep = compile_filter(ICMP_BPF, 1)
    checked = 0
    for path in sorted(CAPTURES.rglob("*.pcap*")):
        for rec in PcapReader(str(path)):
            if rec.linktype != 1:
                continue
            d = decode_frame(rec.data, 1)
            tags = len(d.link.vlans) if d.link is not None else 0
            if _is_icmp_or_arp(d) and tags <= 2:
                checked += 1
                assert keep(rec.data), (path.name, d.to_dict())
    assert checked > 500
