"""``LabSpec``: every name, address, route, sysctl and nftables rule of one lab, as data.

Nothing here runs a command; ``build.py`` turns this into namespaces.  All addresses derive
from ``LabSpec.net`` (``NET``, two octets such as ``10.77``):

- IPv4 ``NET.SUBNET.HOST`` on ``/24`` links; the same link's IPv6 twin is
  ``fd00:A:B:SUBNET::HOST/64`` (the decimal numbers written as hex groups, so ``10.77.3.2`` is
  ``fd00:10:77:3::2``); ``to6()`` maps any lab address or prefix that way.
- Every veth end also has a fixed link-local ``fe80::HOST`` (the kernel generates none).
- The sweep block is ``A.(B+100 mod 256).0.0/16`` (``10.77`` gives ``10.177.0.0/16``), its IPv6
  twin ``fd00:A:(B+100 mod 256)::/48``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from pcapping.errors import PcappingError

#: Every host of the lab, in build order; a host's namespace is ``prefix + host``.
HOSTS: tuple[str, ...] = (
    "client", "r1", "r2", "target",
    "ecmpa", "ecmpb", "nat", "dscp", "silent", "ratelimit", "dest",
)  # fmt: skip
#: Hosts that forward (``ip_forward``, IPv6 ``forwarding``).
ROUTERS: tuple[str, ...] = ("r1", "r2", "ecmpa", "ecmpb", "nat", "dscp", "silent", "ratelimit")
#: The host that keeps Linux's default ICMP rate limits (every other host has them off).
RATELIMITED_HOST = "ratelimit"

CLIENT_IFACE = "pc0"
TUN_IFACE = "pctun0"  # the client's end of the raw-IP hop
TUN_PEER_IFACE = "tun-client"  # r1's end
SLOW_LINK_MTU = 1280
TUN_MTU = 1500
GATEWAY6 = "fe80::1"  # r1's link-local on to-client: the client's IPv6 default router
DSCP_SET = "cs1"  # what the dscp router writes into every packet it forwards downstream
DSCP_VALUE = 8  # cs1 as a number: TOS byte / IPv6 traffic class 0x20
RELAY_DIR = "/run/pcapping"
MULTIPATH_HASH_FIELDS = 0x37  # source and destination address, protocol, source and dest port
MULTIPATH_HASH_SEED = 0x70636170  # "pcap"
#: sysctls written only where the kernel has them (the seed is Linux 6.11+)
OPTIONAL_SYSCTLS = frozenset({"net/ipv4/fib_multipath_hash_seed"})
SWEEP_OFFSET = 100  # second octet of the sweep block: NET's + 100 (mod 256)

_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$")

# Subnet numbers (third octet / fourth IPv6 group).
_S_CLIENT, _S_CORE, _S_TARGET, _S_UNREACH, _S_PROHIB = 1, 2, 3, 4, 5
_S_TUN, _S_BEHIND_TUN = 6, 7
_S_TRACE_FIRST = 20
# Third octets inside the sweep block.
_SW_ALIVE, _SW_UNREACH, _SW_PROHIB, _SW_DROP = 1, 4, 5, 6

# veth pairs: (host_a, iface_a, host_b, iface_b, subnet, host number a, host number b, mtu).
_LINKS: tuple[tuple[str, str, str, str, int, int, int, int], ...] = (
    ("client", CLIENT_IFACE, "r1", "to-client", _S_CLIENT, 2, 1, 1500),
    ("r1", "to-r2", "r2", "to-r1", _S_CORE, 1, 2, 1500),
    ("r2", "to-target", "target", "to-r2", _S_TARGET, 1, 2, SLOW_LINK_MTU),
    ("r1", "to-ecmpa", "ecmpa", "to-r1", 20, 1, 2, 1500),
    ("r1", "to-ecmpb", "ecmpb", "to-r1", 21, 1, 2, 1500),
    ("ecmpa", "to-nat", "nat", "to-ecmpa", 22, 1, 2, 1500),
    ("ecmpb", "to-nat", "nat", "to-ecmpb", 23, 1, 2, 1500),
    ("nat", "to-dscp", "dscp", "to-nat", 24, 1, 2, 1500),
    ("dscp", "to-silent", "silent", "to-dscp", 25, 1, 2, 1500),
    ("silent", "to-ratelimit", "ratelimit", "to-silent", 26, 1, 2, 1500),
    ("ratelimit", "to-dest", "dest", "to-ratelimit", 27, 1, 2, 1500),
)  # fmt: skip

# The address each host is known by: (subnet, host number). Routers: the side facing the client
# (nat has two such sides: its link to ecmpa).
_KNOWN_AS: dict[str, tuple[int, int]] = {
    "client": (1, 2), "r1": (1, 1), "r2": (2, 2), "target": (3, 2),
    "ecmpa": (20, 2), "ecmpb": (21, 2), "nat": (22, 2), "dscp": (24, 2),
    "silent": (25, 2), "ratelimit": (26, 2), "dest": (27, 2),
}  # fmt: skip

# The trace path from the client, one tuple of hosts per TTL.
_TRACE_PATH: tuple[tuple[str, ...], ...] = (
    ("r1",), ("ecmpa", "ecmpb"), ("nat",), ("dscp",), ("silent",), ("ratelimit",), ("dest",),
)
# Hosts whose nftables ruleset carries a feature: feature name -> host.
NFT_FEATURES: dict[str, str] = {
    "nat": "nat",
    "dscp": "dscp",
    "silent": "silent",
    "sweep-errors": "r2",
}
#: Every optional feature and what it is, for ``status``.
FEATURES: dict[str, str] = {
    "tun": "raw-IP hop (pctun0, relay process)",
    "nat": "NAT router (nftables masquerade)",
    "dscp": "DSCP-rewriting router (nftables)",
    "silent": "router that never sends Time exceeded (nftables)",
    "sweep-errors": "unreachable/prohibited/dropped /24s of the sweep block (nftables on r2)",
    "quiet-ipv6": "no MLD reports on the wire (nftables drops them in every namespace)",
}


def _v6_groups(addr4: str) -> list[str]:
    return ["fd00", *addr4.split(".")]


@dataclass(frozen=True)
class LabSpec:
    """Names and addresses of one lab; everything else is derived from these two fields.

    Tests and tools must take every name and address from here (never literals): a future
    lab may number things differently.  Methods and properties ending in ``6`` are the IPv6
    counterparts of those without.
    """

    prefix: str = "pcping-"
    net: str = "10.77"  # first two octets of the address block

    def __post_init__(self) -> None:
        if not _PREFIX_RE.match(self.prefix):
            raise PcappingError(f"bad lab prefix {self.prefix!r}: 1-16 of [A-Za-z0-9_.-]")
        parts = self.net.split(".")
        if len(parts) != 2 or not all(p.isdigit() and int(p) <= 255 for p in parts):
            raise PcappingError(f"bad lab address block {self.net!r}: want two octets like 10.77")

    # --- names ---
    def ns(self, host: str) -> str:
        """Namespace name of a host: ``spec.ns("client") == "pcping-client"``."""
        if host not in HOSTS:
            raise PcappingError(f"no host {host!r} in the lab (hosts: {', '.join(HOSTS)})")
        return self.prefix + host

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace of the lab (``down`` removes exactly these)."""
        return tuple(self.ns(h) for h in HOSTS)

    @property
    def client_iface(self) -> str:
        """The client's Ethernet (veth) interface, towards r1: ``pc0``."""
        return CLIENT_IFACE

    @property
    def tun_iface(self) -> str:
        """The client's raw-IP (tun, linktype RAW) interface: ``pctun0``."""
        return TUN_IFACE

    @property
    def tun_peer_iface(self) -> str:
        """r1's end of the tun hop: ``tun-client``."""
        return TUN_PEER_IFACE

    @property
    def relay_pidfile(self) -> str:
        """Pid file of this lab's tun relay process."""
        return f"{RELAY_DIR}/{self.prefix}tunrelay.pid"

    @property
    def state_file(self) -> str:
        """JSON written by ``up`` (features missing and why), removed by ``down``."""
        return f"{RELAY_DIR}/{self.prefix}lab.json"

    # --- IPv4 addresses ---
    def ip(self, subnet: int, host: int) -> str:
        """``NET.subnet.host``."""
        return f"{self.net}.{subnet}.{host}"

    def addr(self, host: str) -> str:
        """The address a host is known by (routers: the side facing the client)."""
        self.ns(host)  # validates the name
        return self.ip(*_KNOWN_AS[host])

    @property
    def unreachable_addr(self) -> str:
        """r2 has ``unreachable NET.4.0/24``: Destination Host Unreachable (3/1) from r2."""
        return self.ip(_S_UNREACH, 1)

    @property
    def prohibited_addr(self) -> str:
        """r2 has ``prohibit NET.5.0/24``: administratively prohibited (3/13) from r2."""
        return self.ip(_S_PROHIB, 1)

    @property
    def absent_addr(self) -> str:
        """On the client's subnet, held by nobody: ARP goes unanswered."""
        return self.ip(_S_CLIENT, 99)

    # --- IPv6 addresses ---
    def to6(self, addr4: str) -> str:
        """The IPv6 twin of a lab IPv4 address or prefix: ``10.77.3.2`` -> ``fd00:10:77:3::2``,
        ``10.77.4.0/24`` -> ``fd00:10:77:4::/64``, ``10.177.0.0/16`` -> ``fd00:10:177::/48``."""
        if "/" in addr4:
            base, plen = addr4.split("/")
            plen6 = {16: 48, 24: 64, 32: 128}.get(int(plen))
            if plen6 is None:
                raise PcappingError(f"no IPv6 twin for prefix length /{plen}")
            if plen6 == 128:
                return f"{self.to6(base)}/128"
            head = ":".join(_v6_groups(base)[: plen6 // 16])
            return str(ipaddress.IPv6Network(f"{head}::/{plen6}"))
        groups = _v6_groups(addr4)
        return ipaddress.IPv6Address(":".join(groups[:4]) + "::" + groups[4]).compressed

    def ip6(self, subnet: int, host: int) -> str:
        """``fd00:A:B:subnet::host``, the twin of ``ip(subnet, host)``."""
        return self.to6(self.ip(subnet, host))

    def addr6(self, host: str) -> str:
        """The global IPv6 address a host is known by (twin of ``addr(host)``)."""
        return self.to6(self.addr(host))

    @property
    def gateway6(self) -> str:
        """The client's IPv6 default router: r1's fixed link-local on to-client (``fe80::1``)."""
        return GATEWAY6

    @property
    def unreachable_addr6(self) -> str:
        """r2 has ``unreachable fd00:A:B:4::/64``: Destination unreachable, No route (1/0)."""
        return self.to6(self.unreachable_addr)

    @property
    def prohibited_addr6(self) -> str:
        """r2 has ``prohibit fd00:A:B:5::/64``: Administratively prohibited (1/1)."""
        return self.to6(self.prohibited_addr)

    @property
    def absent_addr6(self) -> str:
        """On the client's link, held by nobody: Neighbor Solicitations go unanswered."""
        return self.to6(self.absent_addr)

    # --- the tun (raw IP) hop: client pctun0 <-> r1 tun-client ---
    @property
    def tun_local(self) -> str:
        """The client's address on pctun0 (point-to-point, peer ``tun_peer``)."""
        return self.ip(_S_TUN, 2)

    @property
    def tun_peer(self) -> str:
        """r1's address on its end of the tun; it answers ``-t 1`` over the tun."""
        return self.ip(_S_TUN, 1)

    @property
    def tun_target(self) -> str:
        """Reachable only over the tun (client route ``NET.7.0/24 dev pctun0``); held by the
        target, two routers away: echo replies with ttl=62."""
        return self.ip(_S_BEHIND_TUN, 2)

    @property
    def tun_unreachable(self) -> str:
        """Over the tun, answered with Destination Host Unreachable by r2 (unreachable route
        for the rest of ``NET.7.0/24``)."""
        return self.ip(_S_BEHIND_TUN, 1)

    @property
    def tun_route(self) -> str:
        """The prefix the client routes ``dev pctun0``."""
        return f"{self.ip(_S_BEHIND_TUN, 0)}/24"

    def tun_hops(self) -> list[tuple[str, ...]]:
        """Who answers at each TTL (index 0 is TTL 1) towards ``tun_target`` over the tun."""
        return [(self.tun_peer,), (self.addr("r2"),), (self.tun_target,)]

    @property
    def tun_local6(self) -> str:
        """IPv6 twin of ``tun_local``."""
        return self.to6(self.tun_local)

    @property
    def tun_peer6(self) -> str:
        """IPv6 twin of ``tun_peer``."""
        return self.to6(self.tun_peer)

    @property
    def tun_target6(self) -> str:
        """IPv6 twin of ``tun_target``."""
        return self.to6(self.tun_target)

    @property
    def tun_unreachable6(self) -> str:
        """Over the tun, Destination unreachable: No route (r2's unreachable route)."""
        return self.to6(self.tun_unreachable)

    @property
    def tun_route6(self) -> str:
        """IPv6 twin of ``tun_route``."""
        return self.to6(self.tun_route)

    def tun_hops6(self) -> list[tuple[str, ...]]:
        """IPv6 twin of ``tun_hops``."""
        return [tuple(self.to6(a) for a in hop) for hop in self.tun_hops()]

    # --- the trace path: r1, ecmpa|ecmpb, nat, dscp, silent, ratelimit, dest ---
    @property
    def trace_path(self) -> tuple[tuple[str, ...], ...]:
        """Hosts at each TTL towards ``trace_target`` (index 0 is TTL 1)."""
        return _TRACE_PATH

    def trace_ttl(self, host: str) -> int:
        """The TTL at which a host of the trace path is reached (``trace_ttl("dest") == 7``)."""
        for ttl, hosts in enumerate(_TRACE_PATH, start=1):
            if host in hosts:
                return ttl
        raise PcappingError(f"{host!r} is not on the trace path")

    @property
    def trace_target(self) -> str:
        """The trace destination (host ``dest``): echo replies, UDP Port Unreachable, TCP RST."""
        return self.addr("dest")

    def trace_hops(self) -> list[tuple[str, ...]]:
        """The address(es) answering at each TTL towards ``trace_target`` (index 0 is TTL 1):
        both ECMP routers at TTL 2 and both of the NAT router's upstream addresses at TTL 3
        (routers answer from the interface the probe came in by), an empty tuple for the
        silent router, the destination last.  Each UDP/TCP flow (ports) takes one of the two
        ``ecmp_paths()``; ICMP flows all take the same one."""
        out: list[tuple[str, ...]] = []
        for hosts in _TRACE_PATH:
            if hosts == ("silent",):
                out.append(())
            elif hosts == ("nat",):
                out.append(self.nat_hops)
            else:
                out.append(tuple(self.addr(h) for h in hosts))
        return out

    def ecmp_paths(self) -> list[tuple[str, str]]:
        """The two paths through the ECMP pair, as the addresses a flow sees at the ECMP TTL
        and at the NAT TTL: [(ecmpa, nat via ecmpa), (ecmpb, nat via ecmpb)]."""
        return [(self.addr("ecmpa"), self.ip(22, 2)), (self.addr("ecmpb"), self.ip(23, 2))]

    @property
    def ecmp_hops(self) -> tuple[str, str]:
        """The two equal-cost routers (TTL 2): r1 has a two-nexthop route through them."""
        return (self.addr("ecmpa"), self.addr("ecmpb"))

    @property
    def nat_hop(self) -> str:
        """The NAT router's address towards ecmpa (``addr("nat")``): what a trace shows at
        the NAT's TTL for flows through ecmpa; flows through ecmpb see ``nat_hops[1]``."""
        return self.addr("nat")

    @property
    def nat_hops(self) -> tuple[str, str]:
        """Both addresses the NAT router answers from (its links to ecmpa and to ecmpb)."""
        return (self.ip(22, 2), self.ip(23, 2))

    @property
    def nat_outside(self) -> str:
        """The source address hosts beyond the NAT see (masquerade on its downstream link)."""
        return self.ip(24, 1)

    @property
    def dscp_hop(self) -> str:
        """The router that sets DSCP ``dscp_value`` (cs1) on what it forwards downstream."""
        return self.addr("dscp")

    @property
    def dscp_value(self) -> int:
        """The DSCP the dscp router writes: 8 (cs1), TOS / traffic class byte 0x20."""
        return DSCP_VALUE

    @property
    def silent_hop(self) -> str:
        """The router that never sends Time exceeded (its TTL shows ``*``); it still answers
        echo requests sent to it."""
        return self.addr("silent")

    @property
    def ratelimit_hop(self) -> str:
        """The router with Linux's default ICMP rate limits: a burst of TTL-expiring probes
        gets fewer answers than probes."""
        return self.addr("ratelimit")

    @property
    def trace_target6(self) -> str:
        """IPv6 twin of ``trace_target``."""
        return self.to6(self.trace_target)

    def trace_hops6(self) -> list[tuple[str, ...]]:
        """IPv6 twin of ``trace_hops``."""
        return [tuple(self.to6(a) for a in hop) for hop in self.trace_hops()]

    @property
    def ecmp_hops6(self) -> tuple[str, str]:
        """IPv6 twin of ``ecmp_hops``."""
        a, b = self.ecmp_hops
        return (self.to6(a), self.to6(b))

    def ecmp_paths6(self) -> list[tuple[str, str]]:
        """IPv6 twin of ``ecmp_paths``."""
        return [(self.to6(a), self.to6(b)) for a, b in self.ecmp_paths()]

    @property
    def nat_hop6(self) -> str:
        """IPv6 twin of ``nat_hop``."""
        return self.to6(self.nat_hop)

    @property
    def nat_hops6(self) -> tuple[str, str]:
        """IPv6 twin of ``nat_hops``."""
        a, b = self.nat_hops
        return (self.to6(a), self.to6(b))

    @property
    def nat_outside6(self) -> str:
        """IPv6 twin of ``nat_outside``."""
        return self.to6(self.nat_outside)

    @property
    def dscp_hop6(self) -> str:
        """IPv6 twin of ``dscp_hop``."""
        return self.to6(self.dscp_hop)

    @property
    def silent_hop6(self) -> str:
        """IPv6 twin of ``silent_hop``."""
        return self.to6(self.silent_hop)

    @property
    def ratelimit_hop6(self) -> str:
        """IPv6 twin of ``ratelimit_hop``."""
        return self.to6(self.ratelimit_hop)

    # --- the sweep block ---
    @property
    def sweep_net(self) -> str:
        """First two octets of the sweep block: ``10.77`` -> ``10.177``."""
        a, b = self.net.split(".")
        return f"{a}.{(int(b) + SWEEP_OFFSET) % 256}"

    def _sweep24(self, third: int) -> str:
        return f"{self.sweep_net}.{third}.0/24"

    @property
    def sweep_block(self) -> str:
        """A /16 the target answers entirely (AnyIP: ``local BLOCK dev lo``), via r1 and r2."""
        return f"{self.sweep_net}.0.0/16"

    @property
    def sweep_alive(self) -> str:
        """A /24 of the block that answers in full (so do all /24s but the three below)."""
        return self._sweep24(_SW_ALIVE)

    @property
    def sweep_unreachable(self) -> str:
        """A /24 r2 answers with Destination Host Unreachable (nftables reject, no rate limit)."""
        return self._sweep24(_SW_UNREACH)

    @property
    def sweep_prohibited(self) -> str:
        """A /24 r2 answers with administratively prohibited (3/13, nftables reject)."""
        return self._sweep24(_SW_PROHIB)

    @property
    def sweep_dropped(self) -> str:
        """A /24 r2 silently drops: no answer at all."""
        return self._sweep24(_SW_DROP)

    @property
    def sweep_error_hop(self) -> str:
        """Where the sweep block's error answers come from (r2)."""
        return self.addr("r2")

    @property
    def sweep_block6(self) -> str:
        """IPv6 twin of the sweep block (a /48), answered entirely by the target."""
        return self.to6(self.sweep_block)

    @property
    def sweep_alive6(self) -> str:
        """IPv6 twin of ``sweep_alive``."""
        return self.to6(self.sweep_alive)

    @property
    def sweep_unreachable6(self) -> str:
        """A /64 r2 answers with Destination unreachable: Address unreachable (1/3)."""
        return self.to6(self.sweep_unreachable)

    @property
    def sweep_prohibited6(self) -> str:
        """A /64 r2 answers with Destination unreachable: Administratively prohibited (1/1)."""
        return self.to6(self.sweep_prohibited)

    @property
    def sweep_dropped6(self) -> str:
        """IPv6 twin of ``sweep_dropped``."""
        return self.to6(self.sweep_dropped)

    @property
    def sweep_error_hop6(self) -> str:
        """IPv6 twin of ``sweep_error_hop``."""
        return self.to6(self.sweep_error_hop)

    # --- interfaces, links, routes ---
    def interfaces(self) -> list[tuple[str, str, str, int]]:
        """(host, interface, IPv4 address/prefixlen, mtu) for every interface of the lab
        (veths first, in link order, then the two ends of the tun)."""
        out: list[tuple[str, str, str, int]] = []
        for host_a, if_a, host_b, if_b, subnet, num_a, num_b, mtu in _LINKS:
            out.append((host_a, if_a, f"{self.ip(subnet, num_a)}/24", mtu))
            out.append((host_b, if_b, f"{self.ip(subnet, num_b)}/24", mtu))
        out.append(("client", TUN_IFACE, f"{self.tun_local}/32", TUN_MTU))
        out.append(("r1", TUN_PEER_IFACE, f"{self.tun_peer}/32", TUN_MTU))
        return out

    def interfaces6(self) -> list[tuple[str, str, str, str | None]]:
        """(host, interface, global IPv6 address/prefixlen, link-local or None) for every
        interface; the tun ends have no link-local."""
        out: list[tuple[str, str, str, str | None]] = []
        for host_a, if_a, host_b, if_b, subnet, num_a, num_b, _mtu in _LINKS:
            out.append((host_a, if_a, f"{self.ip6(subnet, num_a)}/64", f"fe80::{num_a}"))
            out.append((host_b, if_b, f"{self.ip6(subnet, num_b)}/64", f"fe80::{num_b}"))
        out.append(("client", TUN_IFACE, f"{self.tun_local6}/128", None))
        out.append(("r1", TUN_PEER_IFACE, f"{self.tun_peer6}/128", None))
        return out

    def links(self) -> list[tuple[str, str, str, str]]:
        """veth pairs as (host_a, iface_a, host_b, iface_b)."""
        return [(a, ia, b, ib) for a, ia, b, ib, *_ in _LINKS]

    def _multipath(self, via: list[str]) -> str:
        devs = ("to-ecmpa", "to-ecmpb")
        return " ".join(f"nexthop via {v} dev {d}" for v, d in zip(via, devs, strict=True))

    def routes(self) -> dict[str, list[str]]:
        """IPv4 ``ip route add`` arguments per host (the routes over the tun last: they are
        added once the relay has made the tun interfaces)."""
        ip, S = self.ip, _S_TRACE_FIRST
        r1_down = [ip(20, 2), ip(21, 2)]
        trace_far = [f"{ip(n, 0)}/24" for n in range(S + 4, S + 8)]  # beyond nat
        return {
            "client": [f"default via {ip(1, 1)}", f"{self.tun_route} dev {TUN_IFACE}"],
            "r1": [f"{ip(n, 0)}/24 via {ip(2, 2)}" for n in (3, 4, 5)] + [
                f"{ip(_S_BEHIND_TUN, 0)}/24 via {ip(2, 2)}",
                f"{self.sweep_block} via {ip(2, 2)}",
                *(f"{p} {self._multipath(r1_down)}"
                  for p in [f"{ip(22, 0)}/24", f"{ip(23, 0)}/24", *trace_far]),
            ],
            "r2": [
                f"{ip(1, 0)}/24 via {ip(2, 1)}",
                f"unreachable {ip(4, 0)}/24",
                f"prohibit {ip(5, 0)}/24",
                f"{ip(_S_TUN, 0)}/24 via {ip(2, 1)}",
                f"{self.tun_target}/32 via {ip(3, 2)}",
                f"unreachable {self.tun_route}",
                f"{self.sweep_block} via {ip(3, 2)}",
            ],
            "target": [f"default via {ip(3, 1)}", f"local {self.sweep_block} dev lo"],
            "ecmpa": [f"default via {ip(20, 1)}", f"{ip(23, 0)}/24 via {ip(22, 2)}",
                      *(f"{p} via {ip(22, 2)}" for p in trace_far)],
            "ecmpb": [f"default via {ip(21, 1)}", f"{ip(22, 0)}/24 via {ip(23, 2)}",
                      *(f"{p} via {ip(23, 2)}" for p in trace_far)],
            "nat": [f"default via {ip(22, 1)}", *(f"{p} via {ip(24, 2)}" for p in trace_far[1:])],
            "dscp": [f"default via {ip(24, 1)}", *(f"{p} via {ip(25, 2)}" for p in trace_far[2:])],
            "silent": [f"default via {ip(25, 1)}", f"{trace_far[3]} via {ip(26, 2)}"],
            "ratelimit": [f"default via {ip(26, 1)}"],
            "dest": [f"default via {ip(27, 1)}"],
        }  # fmt: skip

    def routes6(self) -> dict[str, list[str]]:
        """IPv6 ``ip -6 route add`` arguments per host, mirroring ``routes()``; the client's
        default router is r1's link-local ``gateway6``."""
        out: dict[str, list[str]] = {}
        for host, routes in self.routes().items():
            out[host] = [self._route6(host, r) for r in routes]
        return out

    def _route6(self, host: str, route: str) -> str:
        if host == "client" and route.startswith("default via"):
            return f"default via {GATEWAY6} dev {CLIENT_IFACE}"
        words = route.split()
        for i, word in enumerate(words):
            if word[0].isdigit():
                words[i] = self.to6(word)
        return " ".join(words)

    def tun_addresses(self) -> dict[str, list[str]]:
        """``ip addr add`` arguments for the two tun ends (point-to-point)."""
        return {
            "client": [f"{self.tun_local} peer {self.tun_peer} dev {TUN_IFACE}",
                       f"{self.tun_local6} peer {self.tun_peer6} dev {TUN_IFACE} nodad"],
            "r1": [f"{self.tun_peer} peer {self.tun_local} dev {TUN_PEER_IFACE}",
                   f"{self.tun_peer6} peer {self.tun_local6} dev {TUN_PEER_IFACE} nodad"],
        }  # fmt: skip

    def loopback_addresses(self) -> dict[str, list[str]]:
        """Extra addresses on ``lo``: the target holds the address behind the tun."""
        return {"target": [f"{self.tun_target}/32", f"{self.tun_target6}/128"]}

    # --- sysctls and nftables ---
    def sysctls(self, host: str) -> dict[str, int | str]:
        """/proc/sys paths and values written in a host's namespace before its interfaces
        exist (so ``default`` reaches them)."""
        self.ns(host)
        values: dict[str, int | str] = {}
        for scope in ("all", "default"):
            values[f"net/ipv4/conf/{scope}/rp_filter"] = 0
            values[f"net/ipv6/conf/{scope}/disable_ipv6"] = 0
            values[f"net/ipv6/conf/{scope}/accept_dad"] = 0
            values[f"net/ipv6/conf/{scope}/dad_transmits"] = 0
            values[f"net/ipv6/conf/{scope}/accept_ra"] = 0
            values[f"net/ipv6/conf/{scope}/router_solicitations"] = 0
            # MLD reports (dropped by nftables where it exists) go out at once, not later
            values[f"net/ipv6/conf/{scope}/mldv2_unsolicited_report_interval"] = 1
            values[f"net/ipv6/conf/{scope}/mldv1_unsolicited_report_interval"] = 1
        values["net/ipv6/conf/default/addr_gen_mode"] = 1  # no automatic link-local
        if host != RATELIMITED_HOST:
            values.update({
                "net/ipv4/icmp_ratelimit": 0,
                "net/ipv4/icmp_ratemask": 0,
                "net/ipv4/icmp_msgs_per_sec": 1_000_000,
                "net/ipv4/icmp_msgs_burst": 1_000_000,
                "net/ipv6/icmp/ratelimit": 0,
                "net/ipv6/icmp/ratemask": "",
            })  # fmt: skip
        if host in ROUTERS:
            # ICMP errors from the address of the interface the packet came in by, as IPv6
            # does by itself (the IPv4 default is the address of the way back)
            values["net/ipv4/icmp_errors_use_inbound_ifaddr"] = 1
            values["net/ipv4/ip_forward"] = 1
            values["net/ipv6/conf/all/forwarding"] = 1
            values["net/ipv6/conf/default/forwarding"] = 1
        if host == "r1":  # the router before the ECMP pair: hash on the 5-tuple
            # Policy 1 (L4) would reuse the hash a local sender left in the packet (the
            # socket's random txhash: a new path per kernel socket, whatever the ports);
            # policy 3 with these fields hashes source/destination address, protocol and
            # ports of every packet, as a router does.  A fixed seed: the same flow takes the
            # same router in every lab.
            for family in ("ipv4", "ipv6"):
                values[f"net/{family}/fib_multipath_hash_policy"] = 3
                values[f"net/{family}/fib_multipath_hash_fields"] = MULTIPATH_HASH_FIELDS
            values["net/ipv4/fib_multipath_hash_seed"] = MULTIPATH_HASH_SEED
        if host == "target":  # RFC 8335 PROBE, both families (IPv6 reads this one too)
            values["net/ipv4/icmp_echo_enable_probe"] = 1
        return values

    def nft_ruleset(self, host: str) -> str:
        """The ``nft -f`` input for a host's namespace: MLD reports dropped everywhere, plus
        the host's own feature (nat, dscp, silent, r2's sweep errors)."""
        self.ns(host)
        mld = "icmpv6 type { mld-listener-report, mld2-listener-report, mld-listener-done } drop"
        out_rules = [mld]
        chains: list[str] = []
        if host == "silent":
            out_rules += ["icmp type time-exceeded drop", "icmpv6 type time-exceeded drop"]
        if host == "dscp":
            chains.append(_chain("forward", "filter", "forward", "0", [
                f'oifname "to-silent" ip dscp set {DSCP_SET}',
                f'oifname "to-silent" ip6 dscp set {DSCP_SET}',
            ]))  # fmt: skip
        if host == "nat":
            chains.append(_chain("postrouting", "nat", "postrouting", "srcnat",
                                 ['oifname "to-dscp" masquerade']))  # fmt: skip
        if host == "r2":
            chains.append(_chain("forward", "filter", "forward", "0", [
                f"ip daddr {self.sweep_unreachable} reject with icmp type host-unreachable",
                f"ip daddr {self.sweep_prohibited} reject with icmp type admin-prohibited",
                f"ip daddr {self.sweep_dropped} drop",
                f"ip6 daddr {self.sweep_unreachable6} reject with icmpv6 type addr-unreachable",
                f"ip6 daddr {self.sweep_prohibited6} reject with icmpv6 type admin-prohibited",
                f"ip6 daddr {self.sweep_dropped6} drop",
            ]))  # fmt: skip
        chains.insert(0, _chain("output", "filter", "output", "0", out_rules))
        return "table inet pcapping {\n" + "".join(chains) + "}\n"


def _chain(name: str, kind: str, hook: str, priority: str, rules: list[str]) -> str:
    body = "".join(f"    {r}\n" for r in rules)
    return (f"  chain {name} {{\n    type {kind} hook {hook} priority {priority}; policy accept;\n"
            f"{body}  }}\n")  # fmt: skip
