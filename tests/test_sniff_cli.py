"""`pcapping sniff` as a user runs it: output modes, filters, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pcapping.io.pcapfile import PcapReader, PcapWriter
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import BROADCAST, EthernetHeader, VLANTag
from pcapping.wire.icmp import ICMPEcho, ICMPError
from pcapping.wire.ipv4 import IPv4Header, ip_bytes

ROOT = Path(__file__).resolve().parents[1]
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
A, B, R = ip_bytes("10.77.1.2"), ip_bytes("10.77.3.2"), ip_bytes("10.77.1.1")


def run_cli(*argv: str, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ="UTC", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pcapping", *argv], capture_output=True, text=True, env=env,
        timeout=60, **kw,
    )


def echo_frame(seq: int, reply: bool = False, vlan: int | None = None) -> bytes:
    src, dst = (B, A) if reply else (A, B)
    icmp = ICMPEcho(reply, 0x1234, seq, bytes(range(56))).encode()
    ip = IPv4Header(src, dst, 1, ttl=64, ident=seq).encode(icmp)
    tags = (VLANTag(0x8100, 0, 0, vlan),) if vlan is not None else ()
    return EthernetHeader(MAC_B, MAC_A, 0x0800, tags).encode() + ip


def ttl_exceeded_frame(seq: int) -> bytes:
    quoted = IPv4Header(A, B, 1, ttl=1, ident=seq).encode(
        ICMPEcho(False, 0x1234, seq, bytes(56)).encode())[:28]
    icmp = ICMPError(11, 0, quoted).encode()
    return EthernetHeader(MAC_A, MAC_B, 0x0800).encode() + IPv4Header(R, A, 1).encode(icmp)


def arp_frame() -> bytes:
    arp = ARPPacket(1, MAC_A, A, bytes(6), R).encode()
    return EthernetHeader(BROADCAST, MAC_A, 0x0806).encode() + arp


def udp_frame() -> bytes:
    udp = bytes.fromhex("3039003500100000") + b"payload!"
    return EthernetHeader(MAC_B, MAC_A, 0x0800).encode() + IPv4Header(A, B, 17).encode(udp)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.pcap"
    frames = [arp_frame(), echo_frame(1), echo_frame(1, reply=True), udp_frame(),
              ttl_exceeded_frame(2), echo_frame(3, vlan=100)]
    with PcapWriter(str(path)) as w:
        for i, f in enumerate(frames):
            w.write(1763800000 + i, 1000 * i, f)
    return path


def test_json_one_object_per_frame_with_frame_numbers(mixed: Path) -> None:
    res = run_cli("sniff", "--json", "-r", str(mixed))
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["frame"] for o in objs] == [1, 2, 3, 4, 5, 6]
    assert objs[0]["arp"]["op"] == 1 and objs[0]["arp"]["tpa"] == "10.77.1.1"
    assert objs[1]["icmp"] == {"type": 8, "code": 0, "checksum": objs[1]["icmp"]["checksum"],
                               "checksum_ok": True, "id": 0x1234, "seq": 1}
    assert objs[4]["icmp"]["quoted"]["icmp"]["seq"] == 2
    assert objs[5]["eth"]["vlan"] == [100]
    assert isinstance(objs[1]["ts"], float) and isinstance(objs[1]["ip"]["ttl"], int)


def test_icmp_filter_keeps_vlan_icmp_and_arp_and_numbers_frames_in_file(mixed: Path) -> None:
    res = run_cli("sniff", "--icmp", "--json", "-r", str(mixed))
    assert res.returncode == 0, res.stderr
    frames = [json.loads(line)["frame"] for line in res.stdout.splitlines()]
    assert frames == [1, 2, 3, 5, 6]  # the UDP frame (4) is gone, the VLAN echo (6) kept


def test_bpf_expression_and_count(mixed: Path) -> None:
    res = run_cli("sniff", "--json", "-c", "1", "-r", str(mixed), "icmp")
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["frame"] for x in res.stdout.splitlines()] == [2]


def test_write_keeps_the_shown_frames(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pcap"
    res = run_cli("sniff", "-q", "--icmp", "-r", str(mixed), "-w", str(out))
    assert res.returncode == 0, res.stderr
    assert len(list(PcapReader(str(out)))) == 5


def test_quiet_summary_counts(mixed: Path) -> None:
    res = run_cli("sniff", "-q", "-r", str(mixed))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "6 frames: 5 IPv4, 4 ICMP, 1 ARP"
    assert "ICMP type 11 code 0 (time exceeded): 1" in res.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "No such file or directory"),
        (b"", "truncated dump file"),
        (b"this is not a capture at all\n", "unknown file format"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "truncated dump file"),
    ],
)
def test_bad_files_exit_2_with_one_line(tmp_path: Path, content: bytes | None, message: str):
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    res = run_cli("sniff", "-r", str(path))
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if not line.startswith("reading from")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in res.stderr


def test_truncated_file_prints_every_complete_record_first(mixed: Path, tmp_path: Path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(mixed.read_bytes()[:-10])
    res = run_cli("sniff", "--json", "-r", str(cut))
    assert res.returncode == 2
    assert len(res.stdout.splitlines()) == 5
    assert res.stderr.strip().splitlines()[-1].startswith("pcapping: ")
    assert "truncated dump file" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["sniff", "-c", "0", "-r", "x.pcap"],
        ["sniff", "-c", "abc", "-r", "x.pcap"],
        ["sniff", "--bogus"],
        ["sniff", "-i", "pcapping-no-such-if0", "-c", "1"],
    ],
)
def test_bad_options_exit_2_with_one_line(argv: list[str]) -> None:
    res = run_cli(*argv)
    assert res.returncode == 2, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcapping: "), res.stderr


def test_bad_bpf_is_one_line(mixed: Path) -> None:
    res = run_cli("sniff", "-r", str(mixed), "icmpx", "or")
    assert res.returncode == 2
    # libpcap's words, as tcpdump prints them
    assert res.stderr.splitlines()[-1] == "pcapping: can't parse filter expression: syntax error"
    assert "Traceback" not in res.stderr


def test_icmp_option_and_json_see_inside_tunnels() -> None:
    """--icmp keeps the frames whose innermost layer is ICMP or ARP (VXLAN, Geneve, MPLS in
    UDP, ...), and --json shows the tunnel as outer_ip and encap."""
    path = ROOT / "captures" / "udp-tunnels.pcap"
    res = run_cli("sniff", "--icmp", "--json", "-r", str(path))
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert objs and all("icmp" in o or "arp" in o for o in objs)
    kinds = {e["type"] for o in objs for e in o.get("encap", ())}
    assert {"vxlan", "otv", "geneve", "mpls", "bcm_li"} <= kinds
    assert all(o["outer_ip"]["src"] in ("192.0.2.1", "192.0.2.2") for o in objs)
    text = run_cli("sniff", "-q", "-r", str(path))
    assert text.stdout.splitlines()[0].endswith(" ICMP, 1 ARP")
