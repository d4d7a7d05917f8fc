"""IPv6 on real links: what Linux sends and answers, decoded by pcapping's codecs.

In a private dual-stack network (``netns6``, prefix ``p6t<pid>-``): ``sniff --icmp`` on the
client's veth while kernel ``ping -6`` runs sees the NDP exchange, the echoes, time exceeded
from each router, no route, prohibited, address unreachable (NDP failure at r2), packet too
big and the fragmented requests that follow, all decoded with good checksums and printed as
tcpdump prints the written file; pcapping's own Neighbor Solicitation (``ns_frame``),
injected on a pcap handle, is answered by r1 and ``na_link_address`` reads r1's real MAC;
RFC 8335 PROBE requests built by ``ExtEchoRequest`` (both families, L bit set: Linux only
answers about its own interfaces) are answered by the target's kernel for an existing and a
missing interface.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import netns6
import pytest
from conftest import REPO_ROOT, repo_env

from pcapping import read_capture

pytestmark = pytest.mark.live
STEM = "p6t"


@pytest.fixture(scope="module")
def lab6() -> Iterator[netns6.Lab6]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (network namespaces)")
    if shutil.which("ping") is None:
        pytest.skip("kernel ping (iputils-ping) is not installed")
    netns6.remove_stale(STEM)
    try:
        lab = netns6.up(f"{STEM}{os.getpid()}-")
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot build the IPv6 network: {exc}")
    try:
        yield lab
    finally:
        netns6.down(lab)


class Sniffer:
    """``pcapping sniff`` in the client namespace, stopped with SIGINT."""

    def __init__(self, lab: netns6.Lab6, out: Path, *argv: str) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-m", "pcapping", "sniff",
             "-i", lab.client_iface, "-w", str(out), *argv],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=repo_env(TZ="UTC"))
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        assert line.startswith("listening on "), line + self.proc.stderr.read()

    def stop(self) -> tuple[str, str]:
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, err
        return out, err


def _flush(lab: netns6.Lab6) -> None:
    for host in netns6.HOSTS:
        lab.run(host, ["ip", "-6", "neigh", "flush", "all"])


def _ping(lab: netns6.Lab6, *argv: str) -> subprocess.CompletedProcess[str]:
    return lab.run("client", ["ping", "-6", "-n", *argv], timeout=30)


def test_sniff_icmp_on_kernel_ping6(lab6: netns6.Lab6, tmp_path: Path) -> None:
    _flush(lab6)
    out = tmp_path / "echo6.pcap"
    sniff = Sniffer(lab6, out, "--icmp", "--json")
    res = _ping(lab6, "-c", "2", "-i", "0.2", "-W", "2", netns6.ADDR6["target"])
    stdout, _ = sniff.stop()
    assert res.returncode == 0, res.stdout + res.stderr
    objs = [json.loads(line) for line in stdout.splitlines()]
    assert all("icmp6" in o and "ip6" in o for o in objs), objs
    kinds = [o["icmp6"]["type"] for o in objs]
    assert kinds.count(128) == 2 and kinds.count(129) == 2
    ns = [o for o in objs if o["icmp6"]["type"] == 135 and
          o["icmp6"]["target"] == netns6.ADDR6["r1"]]
    na = [o for o in objs if o["icmp6"]["type"] == 136 and
          o["icmp6"]["target"] == netns6.ADDR6["r1"]]
    assert ns and ns[0]["ip6"]["hlim"] == 255 and ns[0]["ip6"]["dst"] == "ff02::1:ff00:1"
    assert ns[0]["eth"]["dst"] == "33:33:ff:00:00:01"
    assert na and na[0]["icmp6"]["solicited"] and na[0]["icmp6"]["router"]
    replies = [o for o in objs if o["icmp6"]["type"] == 129]
    assert all(r["ip6"]["hlim"] == 62 and r["icmp6"]["checksum_ok"] for r in replies)
    assert all(o["icmp6"]["checksum_ok"] for o in objs)
    if shutil.which("tcpdump"):
        text = subprocess.run([sys.executable, "-m", "pcapping", "sniff", "-v", "-r", str(out)],
                              capture_output=True, text=True, env=repo_env(TZ="UTC"), cwd=REPO_ROOT)
        ref = subprocess.run(["tcpdump", "-nv", "-r", str(out)], capture_output=True, text=True,
                             env=repo_env(TZ="UTC"))
        assert text.stdout == ref.stdout


def test_kernel_errors_decode(lab6: netns6.Lab6, tmp_path: Path) -> None:
    out = tmp_path / "errors6.pcap"
    sniff = Sniffer(lab6, out, "-q")
    target = netns6.ADDR6["target"]
    _ping(lab6, "-c", "1", "-t", "1", "-W", "1", target)
    _ping(lab6, "-c", "1", "-t", "2", "-W", "1", target)
    _ping(lab6, "-c", "1", "-W", "1", netns6.ADDR6["no_route"])
    _ping(lab6, "-c", "1", "-W", "1", netns6.ADDR6["prohibited"])
    _ping(lab6, "-c", "3", "-i", "0.3", "-W", "2", "-s", "1400", target)
    _ping(lab6, "-c", "1", "-W", "5", netns6.ADDR6["nobody"])
    sniff.stop()
    frames = list(read_capture(str(out)))
    errors = [(d.ip6.src, d.icmp6.icmp_type, d.icmp6.code, d) for d in frames
              if d.icmp6 is not None and d.icmp6.icmp_type < 128]
    from pcapping.wire.ipv6 import ip6_bytes

    def first(src: str, kind: int, code: int):  # noqa: ANN202
        for s, k, c, d in errors:
            if s == ip6_bytes(src) and (k, c) == (kind, code):
                return d
        raise AssertionError(f"no {kind}/{code} from {src} in {[(k, c) for _, k, c, _ in errors]}")

    te = first(netns6.ADDR6["r1"], 3, 0)
    q = te.icmp6.quoted
    assert q.ip6.hop_limit == 1 and q.icmp6.icmp_type == 128 and q.icmp6.checksum_ok
    assert te.icmp6.checksum_ok and te.ip6_ext.protocol == 58
    first(netns6.ADDR6["r2"], 3, 0)
    assert first(netns6.ADDR6["r2"], 1, 0).icmp6.quoted.ip6.dst == ip6_bytes(
        netns6.ADDR6["no_route"])
    first(netns6.ADDR6["r2"], 1, 1)
    first(netns6.ADDR6["r2"], 1, 3)  # address unreachable: NDP for ::99 failed at r2
    ptb = first(netns6.ADDR6["r1"], 2, 0)
    assert ptb.icmp6.mtu == 1280 and len(ptb.icmp6.payload) == 1280 - 48  # quote fills 1280
    frags = [d for d in frames if d.ip6_ext is not None and d.ip6_ext.fragment is not None
             and d.ip6.src == ip6_bytes(netns6.ADDR6["client"])]
    assert frags, "the requests after the packet too big go out fragmented"
    firsts = [d for d in frags if d.ip6_ext.fragment.frag_offset == 0]
    rest = [d for d in frags if d.ip6_ext.fragment.frag_offset]
    assert firsts and rest and all(d.icmp6 is not None and d.icmp6.checksum_ok is None
                                   for d in firsts)
    assert all(d.icmp6 is None for d in rest) and all(len(d.data) <= 14 + 1280 for d in frags)
    assert all(d.icmp6.checksum_ok is not False for d in frames if d.icmp6 is not None)


CHILD_NS = r"""
import json, sys, time
from pcapping.decode import decode_frame
from pcapping.io.capture import LiveCapture
from pcapping.wire.ipv6 import ip6_bytes
from pcapping.wire.ndp import na_link_address, ns_frame
iface, mac, src, target = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4]
cap = LiveCapture(iface, bpf="icmp6", timeout_ms=10)
cap.inject(ns_frame(mac, ip6_bytes(src), ip6_bytes(target)))
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    rec = cap.read()
    if rec is None:
        cap.wait(0.1)
        continue
    d = decode_frame(rec.data, rec.linktype)
    if d.icmp6 is not None and d.icmp6.icmp_type == 136:
        tgt, got, na = na_link_address(d.data[d.l4_offset:d.l4_end], d.link.src)
        print(json.dumps({"target": tgt.hex(), "mac": got.hex(), "solicited": na.solicited,
                          "dst": d.ip6.dst.hex(), "ok": d.icmp6.checksum_ok}))
        break
"""


def _mac(lab: netns6.Lab6, host: str, iface: str) -> str:
    out = lab.run(host, ["cat", f"/sys/class/net/{lab.iface(iface)}/address"]).stdout
    return out.strip().replace(":", "")


def test_own_neighbor_solicitation_is_answered(lab6: netns6.Lab6) -> None:
    _flush(lab6)
    mac = _mac(lab6, "client", "c0")
    res = lab6.run("client", [sys.executable, "-c", CHILD_NS, lab6.client_iface, mac,
                              netns6.ADDR6["client"], netns6.ADDR6["r1"]], env=repo_env())
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    from pcapping.wire.ipv6 import ip6_bytes

    assert got["target"] == ip6_bytes(netns6.ADDR6["r1"]).hex()
    assert got["mac"] == _mac(lab6, "r1", "r1a")  # r1's real MAC, from its TLLA option
    assert got["solicited"] and got["ok"] and got["dst"] == ip6_bytes(netns6.ADDR6["client"]).hex()


CHILD_PROBE = r"""
import json, socket, sys, time
from pcapping.decode import decode_frame
from pcapping.io.capture import LiveCapture
from pcapping.wire.ext import InterfaceQuery
from pcapping.wire.extecho import ExtEchoReply, ExtEchoRequest, ext_echo_of
from pcapping.wire.ipv6 import ip6_bytes
iface, t6, t4 = sys.argv[1], sys.argv[2], sys.argv[3]
cap = LiveCapture(iface, bpf="icmp or icmp6", timeout_ms=10)
queries = {1: InterfaceQuery.by_name("lo"), 2: InterfaceQuery.by_name("nosuch0"),
           3: InterfaceQuery.by_index(1), 4: InterfaceQuery.by_address(ip6_bytes(t6)),
           5: InterfaceQuery.by_address(socket.inet_aton(t4))}
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for seq, q in queries.items():
    # Linux answers only about its own interfaces: the L bit must be set
    s6.sendto(ExtEchoRequest(0x4242, seq, q, local=True).encode6(bytes(16), bytes(16)), (t6, 0))
    s4.sendto(ExtEchoRequest(0x4343, seq, q, local=True).encode(), (t4, 0))
out = {}
deadline = time.monotonic() + 3
while time.monotonic() < deadline and len(out) < 10:
    rec = cap.read()
    if rec is None:
        cap.wait(0.1)
        continue
    d = decode_frame(rec.data, rec.linktype)
    msg = d.icmp6 if d.icmp6 is not None else d.icmp
    echo = ext_echo_of(msg) if msg is not None else None
    if isinstance(echo, ExtEchoReply):
        fam = 6 if d.icmp6 is not None else 4
        out[f"{fam}/{echo.seq}"] = {"code": echo.code, "active": echo.active, "v4": echo.ipv4,
                                    "v6": echo.ipv6, "ident": echo.ident,
                                    "ok": echo.checksum_ok}
print(json.dumps(out))
"""


def test_probe_answered_for_existing_and_missing_interfaces(lab6: netns6.Lab6) -> None:
    res = lab6.run("client", [sys.executable, "-c", CHILD_PROBE, lab6.client_iface,
                              netns6.ADDR6["target"], netns6.ADDR4["target"]], env=repo_env())
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    for fam, ident in ((6, 0x4242), (4, 0x4343)):
        lo, missing, index1, addr6, addr4 = (got.get(f"{fam}/{seq}") for seq in range(1, 6))
        assert lo == {"code": 0, "active": True, "v4": True, "v6": True, "ident": ident,
                      "ok": True}, got
        assert missing is not None and missing["code"] == 2, got  # No Such Interface
        assert index1 is not None and index1["code"] == 0 and index1["active"], got
        for by_addr in (addr6, addr4):
            assert by_addr is not None and by_addr["code"] == 0 and by_addr["active"], got


CHILD_FRAG = r"""
import json, sys, time
from pcapping.decode import decode_frame
from pcapping.io.capture import LiveCapture
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.frag import Reassembled, Reassembler
from pcapping.wire.frag6 import fragment6
from pcapping.wire.icmp6 import ICMP6Echo, parse_icmp6
from pcapping.wire.ipv6 import IPv6Header, ip6_bytes
from pcapping.wire.ndp import na_link_address, ns_frame
iface, mac, src, router, target = sys.argv[1], bytes.fromhex(sys.argv[2]), *map(
    ip6_bytes, sys.argv[3:6])
cap = LiveCapture(iface, bpf="icmp6 or ip6 proto 44", timeout_ms=10)

def frames(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rec = cap.read()
        if rec is None:
            cap.wait(0.05)
            continue
        yield rec, decode_frame(rec.data, rec.linktype)

cap.inject(ns_frame(mac, src, router))
router_mac = None
for rec, d in frames(2):
    if d.ndp is not None and d.icmp6.icmp_type == 136 and d.ndp.target == router:
        router_mac = na_link_address(d.data[d.l4_offset:d.l4_end], d.link.src)[1]
        break
eth = EthernetHeader(router_mac, mac, 0x86DD).encode()
payload = bytes(i & 0xFF for i in range(1400))
r = Reassembler()
got = []
for seq in (1, 2, 3):
    msg = ICMP6Echo(False, 0x6666, seq, payload).encode(src, target)
    for datagram in fragment6(IPv6Header(src, target, 58), 58, msg, 1280, 0x1000 + seq):
        cap.inject(eth + datagram)
    for rec, d in frames(0.5):
        chain = d.ip6_ext
        if d.ip6 is None or d.ip6.src != target or chain is None:
            continue
        if chain.fragment is not None:
            whole = r.add_ipv6(d.data[d.l3_offset:d.l3_offset + 40 + d.ip6.payload_length],
                               d.ts)
            if isinstance(whole, Reassembled):
                m = parse_icmp6(whole.datagram[40:], target, src)
                got.append({"seq": m.seq, "ok": m.checksum_ok, "same": m.payload == payload,
                            "id": m.ident, "fragmented": True})
        elif d.icmp6 is not None and d.icmp6.icmp_type == 129:
            got.append({"seq": d.icmp6.seq, "ok": d.icmp6.checksum_ok, "id": d.icmp6.ident,
                        "same": d.icmp6.payload == payload, "fragmented": False})
print(json.dumps({"router_mac": router_mac.hex(), "replies": got}))
"""


def test_own_fragments_are_reassembled_by_linux(lab6: netns6.Lab6) -> None:
    """An echo request fragmented by ``fragment6`` for a 1280-byte path, injected on a pcap
    handle towards r1 (its MAC learnt with pcapping's own NS): the target reassembles it and
    answers; fragmented answers are put together again by ``Reassembler.add_ipv6``."""
    _flush(lab6)
    mac = _mac(lab6, "client", "c0")
    res = lab6.run("client", [sys.executable, "-c", CHILD_FRAG, lab6.client_iface, mac,
                              netns6.ADDR6["client"], netns6.ADDR6["r1"],
                              netns6.ADDR6["target"]], env=repo_env())
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["router_mac"] == _mac(lab6, "r1", "r1a")
    replies = got["replies"]
    assert replies, "the target answered none of the fragmented requests"
    assert all(r["ok"] and r["same"] and r["id"] == 0x6666 for r in replies), replies
