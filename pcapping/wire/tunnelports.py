"""Which UDP datagrams are tunnels, in tcpdump 4.99.3's order.

tcpdump's UDP printer tries its application printers port by port in a fixed order; a
datagram to VXLAN's port 4789 from port 53 is DNS to it.  ``udp_tunnel(sport, dport)``
answers as tcpdump does (measured with each of the 65536 ports against each tunnel port,
both directions), for the decoder and the formatter alike.  ``TUNNEL_PORTS`` (and
``may_be_tunnel``, on the bytes) lets hot paths skip the question for every other datagram.
"""

from __future__ import annotations

# Ports whose printers tcpdump's UDP printer tries before every tunnel printer (as source
# or destination port), measured with each of the 65536 ports against each tunnel port.
_BEFORE_TUNNELS = frozenset((
    53, 67, 68, 69, 88, 123, 161, 162, 496, 500, 514, 520, 521, 525, 546, 547, 646, 654, 698,
    701, 750, 921, 1589, 1645, 1646, 1700, 1701, 1812, 1813, 2103, 2104, 3503, 3799, 4500,
    5060, 5353, 5359, 6343, 6696, 6697, *range(7000, 7010), 7500, 8231, 8500, 12222, 12223))
# Printers chosen by destination port only (HSRP, VAT, BFD, ...), also before the tunnels.
_DPORT_BEFORE_TUNNELS = frozenset((1985, 3456, 3784, 3785, 4567, 4784, 6784))
BCM_LI_SPORT = 49152
_BEFORE_BCM_LI = frozenset((
    53, 67, 68, 69, 88, 123, 161, 162, 496, 500, 520, 521, 525, 546, 547, 646, 654, 698, 750,
    921, 1645, 1646, 1700, 1701, 1812, 1813, 1985, 2103, 2104, 3456, 3503, 3799, 4500, 4567,
    5353, 5359, 6696, 6697, *range(7000, 7010), 7500, 8231, 8500))
# (port, name, ports tried before it) in tcpdump's order; LISP control (4342), VXLAN-GPE
# (4790) and ZEP (17754) sit between Geneve and MPLS.
UDP_TUNNELS = (
    (8472, "otv", _BEFORE_TUNNELS),
    (4789, "vxlan", _BEFORE_TUNNELS | {8472}),
    (6081, "geneve", _BEFORE_TUNNELS | {8472, 4789}),
    (6635, "mpls", _BEFORE_TUNNELS | {8472, 4789, 6081, 4342, 4790, 17754}),
)
TUNNEL_PORTS = frozenset(port for port, _, _ in UDP_TUNNELS) | {BCM_LI_SPORT}
NFS_PORT = 2049


def udp_tunnel(sport: int, dport: int, rpc_direction: bytes = b"") -> str | None:
    """The tunnel tcpdump would print a UDP datagram between these ports as, or None.

    ``rpc_direction`` is the payload's bytes 4..8: tcpdump takes port 2049 for NFS first
    when they hold an RPC call (to 2049) or reply (from 2049).
    """
    if dport == NFS_PORT and rpc_direction == b"\0\0\0\0":
        return None
    if sport == NFS_PORT and rpc_direction == b"\0\0\0\1":
        return None
    if sport == BCM_LI_SPORT and dport not in _BEFORE_BCM_LI:
        return "bcm_li"
    for port, name, before in UDP_TUNNELS:
        if dport == port and sport not in before and sport != BCM_LI_SPORT:
            return name
        if sport == port and dport not in before and dport not in _DPORT_BEFORE_TUNNELS:
            return name
    return None


_TUNNEL_HIGH = bytes(1 if any(p >> 8 == b for p in TUNNEL_PORTS) else 0 for b in range(256))


def may_be_tunnel(data: bytes, begin: int, end: int) -> bool:
    """Whether the UDP datagram at ``data[begin:end]`` is to or from a tunnel's port, so
    that ``udp_tunnel`` must be asked (a port's high byte first: the cheap test most ports
    fail)."""
    return end >= begin + 4 and bool(
        (_TUNNEL_HIGH[data[begin]] and (data[begin] << 8 | data[begin + 1]) in TUNNEL_PORTS)
        or (_TUNNEL_HIGH[data[begin + 2]]
            and (data[begin + 2] << 8 | data[begin + 3]) in TUNNEL_PORTS))


__all__ = ["BCM_LI_SPORT", "TUNNEL_PORTS", "UDP_TUNNELS", "may_be_tunnel", "udp_tunnel"]
