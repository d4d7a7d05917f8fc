"""A private, dual-stack four-namespace network for the IPv6 live tests and recordings.

The project lab disables IPv6 today (another engineer is making it dual-stack), so the IPv6
codec and sniff tests build their own: ``client`` - ``r1`` - ``r2`` - ``target`` joined by
veth pairs, every name starting with the given prefix (the caller picks one with its pid
in it, so parallel runs never meet), and ``down()`` removes exactly those namespaces
(``remove_stale`` those whose pid is gone).  Addresses live only inside the namespaces:

- client  2001:db8:77:1::2/64, 10.79.1.2/24   default via r1
- r1      2001:db8:77:1::1 / 2001:db8:77:2::1 (the r1-r2 link has MTU 1280)
- r2      2001:db8:77:2::2 / 2001:db8:77:3::1; ``unreachable`` 2001:db8:77:4::/64 and
          ``prohibit`` 2001:db8:77:5::/64 routes; 2001:db8:77:3::99 is on-link, unheld
- target  2001:db8:77:3::2/64, 10.79.3.2/24; answers RFC 8335 PROBE
          (``net.ipv4.icmp_echo_enable_probe=1``, which Linux reads for ICMPv6 too)

Routers forward, rate-limit no ICMP(v6) error, and DAD is off so addresses work at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

HOSTS = ("client", "r1", "r2", "target")
ADDR6 = {"client": "2001:db8:77:1::2", "r1": "2001:db8:77:1::1", "r1b": "2001:db8:77:2::1",
         "r2": "2001:db8:77:2::2", "r2b": "2001:db8:77:3::1", "target": "2001:db8:77:3::2",
         "nobody": "2001:db8:77:3::99", "no_route": "2001:db8:77:4::1",
         "prohibited": "2001:db8:77:5::1"}
ADDR4 = {"client": "10.79.1.2", "r1": "10.79.1.1", "r1b": "10.79.2.1", "r2": "10.79.2.2",
         "r2b": "10.79.3.1", "target": "10.79.3.2"}


@dataclass(frozen=True)
class Lab6:
    prefix: str

    def ns(self, host: str) -> str:
        return f"{self.prefix}{host}"

    def iface(self, name: str) -> str:
        """Interface names: c0 (client), r1a/r1b, r2a/r2b, t0 (target), prefixed."""
        return f"{self.prefix}{name}"

    @property
    def client_iface(self) -> str:
        return self.iface("c0")

    def run(self, host: str, argv: Sequence[str], **kw) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 30)
        kw.setdefault("check", False)
        return subprocess.run(["ip", "netns", "exec", self.ns(host), *argv], **kw)


def _ip(*argv: str) -> None:
    proc = subprocess.run(["ip", *argv], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(argv)}: {proc.stderr.strip()}")


def _sysctl(lab: Lab6, host: str, **values: int) -> None:
    for key, value in values.items():
        path = "/proc/sys/" + key.replace(".", "/")
        lab.run(host, ["sh", "-c", f"echo {value} > {path}"], check=True)


def up(prefix: str) -> Lab6:
    """Build the network (removing a leftover one of the same prefix first)."""
    lab = Lab6(prefix)
    down(lab)
    for host in HOSTS:
        _ip("netns", "add", lab.ns(host))
    for host in HOSTS:
        _sysctl(lab, host, **{
            "net.ipv6.conf.all.disable_ipv6": 0, "net.ipv6.conf.default.disable_ipv6": 0,
            "net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
            "net.ipv6.conf.default.accept_ra": 0, "net.ipv6.conf.all.accept_ra": 0,
            "net.ipv6.icmp.ratelimit": 0, "net.ipv4.icmp_ratelimit": 0,
        })
        lab.run(host, ["ip", "link", "set", "lo", "up"], check=True)
    for host in ("r1", "r2"):
        _sysctl(lab, host, **{"net.ipv6.conf.all.forwarding": 1, "net.ipv4.ip_forward": 1})
    _sysctl(lab, "target", **{"net.ipv4.icmp_echo_enable_probe": 1})
    links = (("client", "c0", "r1", "r1a", 1500), ("r1", "r1b", "r2", "r2a", 1280),
             ("r2", "r2b", "target", "t0", 1500))
    for a, ia, b, ib, mtu in links:  # after the defaults, so that the veths inherit them
        _ip("link", "add", lab.iface(ia), "mtu", str(mtu), "netns", lab.ns(a), "type", "veth",
            "peer", "name", lab.iface(ib), "mtu", str(mtu), "netns", lab.ns(b))
    plan = {
        "client": (("c0", "client", 64, 24),),
        "r1": (("r1a", "r1", 64, 24), ("r1b", "r1b", 64, 24)),
        "r2": (("r2a", "r2", 64, 24), ("r2b", "r2b", 64, 24)),
        "target": (("t0", "target", 64, 24),),
    }
    for host, ifaces in plan.items():
        for iface, addr, len6, len4 in ifaces:
            dev = lab.iface(iface)
            lab.run(host, ["ip", "-6", "addr", "add", f"{ADDR6[addr]}/{len6}", "dev", dev,
                           "nodad"], check=True)
            lab.run(host, ["ip", "addr", "add", f"{ADDR4[addr]}/{len4}", "dev", dev], check=True)
            lab.run(host, ["ip", "link", "set", dev, "up"], check=True)
    routes = {
        "client": (["-6", "route", "add", "default", "via", ADDR6["r1"]],
                   ["route", "add", "default", "via", ADDR4["r1"]]),
        "r1": (["-6", "route", "add", "2001:db8:77::/48", "via", ADDR6["r2"]],
               ["route", "add", "10.79.3.0/24", "via", ADDR4["r2"]]),
        "r2": (["-6", "route", "add", "default", "via", ADDR6["r1b"]],
               ["route", "add", "default", "via", ADDR4["r1b"]],
               ["-6", "route", "add", "unreachable", "2001:db8:77:4::/64"],
               ["-6", "route", "add", "prohibit", "2001:db8:77:5::/64"]),
        "target": (["-6", "route", "add", "default", "via", ADDR6["r2b"]],
                   ["route", "add", "default", "via", ADDR4["r2b"]]),
    }
    for host, cmds in routes.items():
        for cmd in cmds:
            lab.run(host, ["ip", *cmd], check=True)
    _settle(lab)
    return lab


def _settle(lab: Lab6, timeout_s: float = 10.0) -> None:
    """Wait until every interface has a usable link-local address: the kernel solicits
    neighbours from it, and until then forwarded packets wait in the neighbour queue."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = True
        for host in HOSTS:
            out = lab.run(host, ["ip", "-6", "-o", "addr", "show", "scope", "link"]).stdout
            links = [line for line in out.splitlines() if "fe80::" in line]
            expected = 1 if host in ("client", "target") else 2
            if len(links) < expected or any("tentative" in line for line in links):
                ready = False
        if ready:
            time.sleep(0.2)
            return
        time.sleep(0.1)


def down(lab: Lab6) -> None:
    """Remove this network's namespaces (their veths go with them)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    for host in HOSTS:
        if lab.ns(host) in names:
            subprocess.run(["ip", "netns", "delete", lab.ns(host)], capture_output=True)


def remove_stale(stem: str) -> None:
    """Delete ``<stem><pid>-<host>`` namespaces whose process is gone."""
    pattern = re.compile(rf"^{re.escape(stem)}(\d+)-({'|'.join(HOSTS)})$")
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.strip() else ""
        m = pattern.match(name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
