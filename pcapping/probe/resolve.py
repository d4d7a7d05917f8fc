"""Next-hop resolution (ARP now, NDP in the same shape): pure builders, matchers and timers.

A ``Resolver`` resolves one address.  It paces itself like the Linux neighbour code with
default sysctls (``mcast_solicit`` 3, ``retrans_time_ms`` 1000): a solicitation at once,
again after 1 s and 2 s, and the address is given up 1 s after the third, i.e. 3 s after
the first (``send`` shortens the spacing to a quarter of ``-W`` when that is less, so the
verdict comes within the wait).  Kernel ``ping`` then prints ``From <own address>
icmp_seq=N Destination Host Unreachable`` for every request queued meanwhile, all at once;
the next request starts a new round.  The engine does the I/O and keeps one resolver per
next hop.

Results are typed values, like the matchers' events:

- ``Solicit(frame)``: send this frame now (the first solicitation comes from ``start``);
- ``Resolved(address, mac)``: the answer (also learnt outside a round);
- ``Unresolved(address)``: the round is over and nobody answered.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from pcapping.decode import Decoded
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import BROADCAST, ZERO_MAC, EthernetHeader

RETRANS_S = 1.0
PROBES = 3


class Solicit(NamedTuple):
    frame: bytes


class Resolved(NamedTuple):
    address: bytes
    mac: bytes


class Unresolved(NamedTuple):
    address: bytes


class Resolver(Protocol):
    """What the engine needs of ARP (IPv4) and NDP (IPv6) resolution."""

    address: bytes
    mac: bytes | None
    active: bool

    def start(self, now: float) -> Solicit: ...
    def deadline(self) -> float | None: ...
    def poll(self, now: float) -> Solicit | Unresolved | None: ...
    def handle(self, d: Decoded) -> Resolved | None: ...


def arp_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast who-has frame for ``target_ip``."""
    eth = EthernetHeader(BROADCAST, src_mac, 0x0806).encode()
    return eth + ARPPacket(1, src_mac, src_ip, ZERO_MAC, target_ip).encode()


def arp_answer(d: Decoded, src_ip: bytes, target_ip: bytes) -> bytes | None:
    """The target's MAC when this frame is ARP from ``target_ip`` to us, else None."""
    arp = d.arp
    if arp is None or arp.spa != target_ip or arp.tpa != src_ip or len(arp.sha) != 6:
        return None
    if arp.op not in (1, 2) or arp.sha == ZERO_MAC:
        return None
    return arp.sha


class Pacing:
    """The kernel's solicitation schedule: ``probes`` tries ``retrans_s`` apart."""

    def __init__(self, retrans_s: float = RETRANS_S, probes: int = PROBES) -> None:
        self.retrans_s = retrans_s
        self.probes = probes
        self.active = False  # a round of solicitations is under way
        self.sent = 0
        self.next_at = 0.0

    def begin(self, now: float) -> None:
        self.active = True
        self.sent = 1
        self.next_at = now + self.retrans_s

    def deadline(self) -> float | None:
        return self.next_at if self.active else None

    def due(self, now: float) -> str | None:
        """"again" when the next solicitation is due, "over" when the round is lost."""
        if not self.active or now < self.next_at:
            return None
        if self.sent < self.probes:
            self.sent += 1
            self.next_at += self.retrans_s
            return "again"
        self.active = False
        return "over"


class _Paced:
    """What ARP and NDP resolution share: one address, the kernel's pacing, the answer."""

    address: bytes
    pacing: Pacing
    mac: bytes | None

    def frame(self) -> bytes:
        raise NotImplementedError

    @property
    def active(self) -> bool:
        return self.pacing.active

    def start(self, now: float) -> Solicit:
        """Begin a round: the first solicitation."""
        self.pacing.begin(now)
        return Solicit(self.frame())

    def deadline(self) -> float | None:
        return self.pacing.deadline()

    def poll(self, now: float) -> Solicit | Unresolved | None:
        due = self.pacing.due(now)
        if due == "again":
            return Solicit(self.frame())
        if due == "over":
            return Unresolved(self.address)
        return None

    def _learnt(self, mac: bytes) -> Resolved:
        self.mac = mac
        self.pacing.active = False
        return Resolved(self.address, mac)


class ArpResolver(_Paced):
    """ARP for one IPv4 address (RFC 826), paced like the kernel."""

    def __init__(
        self, src_mac: bytes, src_ip: bytes, target_ip: bytes,
        retrans_s: float = RETRANS_S, probes: int = PROBES,
    ) -> None:
        self.src_mac = src_mac
        self.src_ip = src_ip
        self.address = target_ip
        self.pacing = Pacing(retrans_s, probes)
        self.mac: bytes | None = None

    def frame(self) -> bytes:
        return arp_request(self.src_mac, self.src_ip, self.address)

    def handle(self, d: Decoded) -> Resolved | None:
        """The answer, the first time it arrives (also outside a round)."""
        mac = arp_answer(d, self.src_ip, self.address)
        if mac is None or self.mac is not None:
            return None
        return self._learnt(mac)

    def is_own_request(self, d: Decoded) -> bool:
        """Our own who-has, seen leaving on the capture handle."""
        arp = d.arp
        return arp is not None and arp.spa == self.src_ip and arp.sha == self.src_mac


class NdpResolver(_Paced):
    """Neighbor Discovery for one IPv6 address (RFC 4861), paced like the kernel's.

    A Neighbor Solicitation to the target's solicited-node group (33:33:ff:XX:XX:XX, hop
    limit 255, our link-layer address as an option); the answer is a Neighbor
    Advertisement for that target with its link-layer address (the option, else the
    frame's source).  Link-local next hops (``fe80::1``, how routers usually appear) are
    solicited from our link-local address, as the kernel does.
    """

    def __init__(
        self, src_mac: bytes, src_ip: bytes, target_ip: bytes,
        retrans_s: float = RETRANS_S, probes: int = PROBES,
        link_local: bytes | None = None,
    ) -> None:
        self.src_mac = src_mac
        self.address = target_ip
        self.src_ip = link_local if target_ip[:2] == b"\xfe\x80" and link_local else src_ip
        self.pacing = Pacing(retrans_s, probes)
        self.mac: bytes | None = None

    def frame(self) -> bytes:
        from pcapping.wire.ndp import ns_frame

        return ns_frame(self.src_mac, self.src_ip, self.address)

    def handle(self, d: Decoded) -> Resolved | None:
        """The advertisement for our target, the first time it comes."""
        icmp6 = d.icmp6
        if icmp6 is None or icmp6.icmp_type != 136 or self.mac is not None:
            return None
        from pcapping.errors import DecodeError
        from pcapping.wire.ndp import na_link_address

        try:
            target, mac, _advert = na_link_address(
                d.data[d.l4_offset:d.l4_end], getattr(d.link, "src", None))
        except DecodeError:
            return None
        if target != self.address or mac is None or len(mac) != 6 or mac == ZERO_MAC:
            return None
        return self._learnt(mac)

    def is_own_request(self, d: Decoded) -> bool:
        """Our own solicitation, seen leaving on the capture handle."""
        ip6 = d.ip6
        return (ip6 is not None and ip6.src == self.src_ip and d.icmp6 is not None
                and d.icmp6.icmp_type == 135)
