#!/usr/bin/env python3
"""Record live IPv6 fixtures into captures/lab6/ from a private dual-stack network.

    sudo .venv/bin/python scripts/record_ipv6_captures.py

Builds ``tests/netns6.py``'s four namespaces (prefix ``p6rec<pid>-``), runs ``pcapping
sniff -w`` on the client's veth for each scenario while the kernel's own tools make the
traffic (iputils ``ping -6``, a UDP datagram, RFC 8335 PROBE requests from pcapping's
encoder on a raw socket), and removes the namespaces.  What is recorded is what Linux
sends and answers: NDP (DAD too), MLD, echoes, every error the network can provoke,
fragments, PROBE replies.
Identifiers, MACs and timestamps differ on every run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import netns6  # noqa: E402

OUT = ROOT / "captures" / "lab6"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC"}

UDP = ("import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
       "s.sendto(b'pcapping', ('{dst}', 33434))")
PROBE = r"""
import socket
from pcapping.wire.ext import InterfaceQuery
from pcapping.wire.extecho import ExtEchoRequest
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
t6, t4 = "{t6}", "{t4}"
queries = [InterfaceQuery.by_name("lo"), InterfaceQuery.by_name("nosuch0"),
           InterfaceQuery.by_index(1), InterfaceQuery.by_address(socket.inet_pton(
               socket.AF_INET6, t6)), InterfaceQuery.by_address(socket.inet_aton(t4))]
for seq, q in enumerate(queries, 1):
    s6.sendto(ExtEchoRequest(0x4242, seq, q, local=True).encode6(bytes(16), bytes(16)), (t6, 0))
    s4.sendto(ExtEchoRequest(0x4343, seq, q, local=True).encode(), (t4, 0))
s6.sendto(ExtEchoRequest(0x4242, 9, InterfaceQuery.by_name("lo")).encode6(bytes(16),
          bytes(16)), (t6, 0))  # without the L bit: Linux does not answer
"""


def scenarios(lab: netns6.Lab6) -> list[tuple[str, str, list[list[str]]]]:
    a = netns6.ADDR6
    ping = ["ping", "-6", "-n"]
    py = sys.executable
    return [
        ("lab6-echo.pcap", "ping -6 -c 3 target (NDP for the router first)",
         [[*ping, "-c", "3", "-i", "0.2", "-W", "2", a["target"]]]),
        ("lab6-hlim-r1.pcap", "ping -6 -c 1 -t 1 target",
         [[*ping, "-c", "1", "-t", "1", "-W", "1", a["target"]]]),
        ("lab6-hlim-r2.pcap", "ping -6 -c 1 -t 2 target",
         [[*ping, "-c", "1", "-t", "2", "-W", "1", a["target"]]]),
        ("lab6-no-route.pcap", "ping -6 -c 1 2001:db8:77:4::1",
         [[*ping, "-c", "1", "-W", "1", a["no_route"]]]),
        ("lab6-prohibited.pcap", "ping -6 -c 1 2001:db8:77:5::1",
         [[*ping, "-c", "1", "-W", "1", a["prohibited"]]]),
        ("lab6-address-unreachable.pcap", "ping -6 -c 1 -W 5 2001:db8:77:3::99",
         [[*ping, "-c", "1", "-W", "5", a["nobody"]]]),
        ("lab6-ptb-fragments.pcap", "ping -6 -c 3 -s 1400 target over the 1280-byte link",
         [[*ping, "-c", "3", "-i", "0.3", "-W", "2", "-s", "1400", a["target"]]]),
        ("lab6-port-unreachable.pcap", "a UDP datagram to target port 33434",
         [[py, "-c", UDP.format(dst=a["target"])]]),
        ("lab6-probe.pcap", "RFC 8335 PROBE over ICMPv6 and ICMP: lo, a missing name, "
         "ifIndex 1, the target's IPv6 and IPv4 addresses; one without the L bit",
         [[py, "-c", PROBE.replace("{t6}", a["target"]).replace("{t4}",
                                                                   netns6.ADDR4["target"])]]),
        ("lab6-mld-dad.pcap", "a multicast group joined and left (MLDv2 reports), a new "
         "address with duplicate address detection (NS from ::, MLD for its group)",
         [["ip", "-6", "maddr", "add", "ff05::1:3", "dev", "{c0}"], ["sleep", "0.3"],
          ["ip", "-6", "maddr", "del", "ff05::1:3", "dev", "{c0}"], ["sleep", "0.3"],
          ["sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/{c0}/accept_dad"],
          ["ip", "-6", "addr", "add", "2001:db8:77:1::7/64", "dev", "{c0}"], ["sleep", "2"],
          ["ip", "-6", "addr", "del", "2001:db8:77:1::7/64", "dev", "{c0}"]]),
    ]


def record(lab: netns6.Lab6, name: str, commands: list[list[str]]) -> int:
    for host in netns6.HOSTS:
        lab.run(host, ["ip", "-6", "neigh", "flush", "all"])
    path = OUT / name
    sniff = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-m", "pcapping", "sniff",
         "-q", "-i", lab.client_iface, "-w", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    assert sniff.stderr is not None
    sniff.stderr.readline()  # listening on ...
    for cmd in commands:
        cmd = [part.replace("{c0}", lab.client_iface) for part in cmd]
        lab.run("client", cmd, env=ENV, timeout=30)
    time.sleep(0.5)
    sniff.send_signal(signal.SIGINT)
    sniff.communicate(timeout=20)
    from pcapping.io.pcapfile import PcapReader

    return len(list(PcapReader(str(path))))


def main() -> int:
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    netns6.remove_stale("p6rec")
    lab = netns6.up(f"p6rec{os.getpid()}-")
    try:
        for name, what, commands in scenarios(lab):
            n = record(lab, name, commands)
            print(f"captures/lab6/{name}: {n} frames ({what})")
    finally:
        netns6.down(lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
