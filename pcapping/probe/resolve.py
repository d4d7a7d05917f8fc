"""Our own ARP exchange for the next hop: pure builder, matcher and retry state machine.

It paces itself like the Linux neighbour code with default sysctls (``mcast_solicit`` 3,
``retrans_time_ms`` 1000): a request at once, again after 1 s and 2 s, and the address is
given up 1 s after the third, i.e. 3 s after the first (``send`` shortens the spacing to
a quarter of ``-W`` when that is less, so the verdict comes within the wait).  Kernel
``ping`` then prints ``From <own address> icmp_seq=N Destination Host Unreachable`` for
every request queued meanwhile, all at once; the next request starts a new round.
``send.py`` does the I/O.
"""

from __future__ import annotations

from pcapping.decode import Decoded
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import BROADCAST, ZERO_MAC, EthernetHeader

RETRANS_S = 1.0
PROBES = 3


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


class ArpResolver:
    """Resolution of one IPv4 address; ``poll`` says when to probe again or give up."""

    def __init__(
        self, src_mac: bytes, src_ip: bytes, target_ip: bytes,
        retrans_s: float = RETRANS_S, probes: int = PROBES,
    ) -> None:
        self.src_mac = src_mac
        self.src_ip = src_ip
        self.target_ip = target_ip
        self.retrans_s = retrans_s
        self.probes = probes
        self.mac: bytes | None = None
        self.active = False  # a round of probes is under way
        self.sent = 0
        self.next_at = 0.0

    def frame(self) -> bytes:
        return arp_request(self.src_mac, self.src_ip, self.target_ip)

    def start(self, now: float) -> bytes:
        """Begin a round: the first probe's frame."""
        self.active = True
        self.sent = 1
        self.next_at = now + self.retrans_s
        return self.frame()

    def deadline(self) -> float | None:
        return self.next_at if self.active else None

    def poll(self, now: float) -> tuple[str, bytes | None] | None:
        """("probe", frame) to send again, ("failed", None) when the round is lost, or None."""
        if not self.active or now < self.next_at:
            return None
        if self.sent < self.probes:
            self.sent += 1
            self.next_at += self.retrans_s
            return ("probe", self.frame())
        self.active = False
        return ("failed", None)

    def handle(self, d: Decoded) -> bytes | None:
        """The MAC, the first time an answer arrives (also learnt outside a round)."""
        mac = arp_answer(d, self.src_ip, self.target_ip)
        if mac is None or self.mac is not None:
            return None
        self.mac = mac
        self.active = False
        return mac
