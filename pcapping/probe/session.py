"""Opening the engine for a destination: route, link, handles, privileges (every mode).

``open_engine(dst, ...)`` asks the kernel for the route (``io/netinfo``), picks the link
kind from the interface (Ethernet with our own ARP, raw IP for tun and other
point-to-point links, loopback), opens the capture handle in immediate mode with a filter
for our own traffic, the injector, the ``--write`` file, drops root if asked, and returns
an ``EngineSession`` holding all of it with an ``Engine`` ready to run a strategy.
``send``, ``trace`` and the sweep all open their engine here; their options decide the
capture filter (``protocols``, a BPF fragment: ICMP of the destination's family unless
given, e.g. ``icmp or udp or tcp`` for a trace) and the resolver's pacing.  A 16-byte
destination opens an IPv6 session: NDP instead of ARP, our link-local address in the
filter (routers are usually solicited from it), fragments (next header 44) captured.
"""

from __future__ import annotations

from typing import Any

from pcapping.errors import PcappingError
from pcapping.io.privileges import drop_to_invoker

SNAPLEN = 262144  # a 65,535-byte datagram plus its link header must fit whole
BUFFER_BYTES = 8 << 20
BROADCAST_MAC = b"\xff" * 6
RAW_IFTYPES = (65534, 512, 776, 778, 823)  # ARPHRD none (tun), PPP, sit, ipgre, ip6tnl


def multicast_mac(addr: bytes) -> bytes:
    """The Ethernet group address of an IPv4 multicast address (RFC 1112)."""
    return b"\x01\x00\x5e" + bytes((addr[1] & 0x7F, addr[2], addr[3]))


def source_or_device(given: str | None, family: int = 4) -> tuple[str | None, bytes | None]:
    """``-I``: an interface name, or one of our own addresses (iputils' two readings)."""
    import socket

    from pcapping.io import netinfo

    if given is None or netinfo.interface_exists(given):
        return given, None
    try:
        source = socket.inet_pton(socket.AF_INET if family == 4 else socket.AF_INET6,
                                  given.partition("%")[0])
    except OSError:
        raise PcappingError(f"unknown iface: {given}") from None
    if not netinfo.route_get(source).local:
        raise PcappingError(f"bind: Cannot assign requested address: {given}")
    return None, source


class EngineSession:
    """What one run opened: route, link, capture, injector, writer and the engine."""

    def __init__(self, dst: bytes, *, device: str | None = None, source: bytes | None = None,
                 protocols: str | None = None, write: str | None = None,
                 user: str | None = None,
                 retrans_s: float | None = None, buffer_bytes: int = BUFFER_BYTES,
                 checksum_offload: bool = False, link_snaplen: bool = False,
                 inbound: bool = False, snaplen: int | None = None) -> None:
        """``inbound`` (IPv4): capture only what is addressed to us (and ARP), not our own
        probes leaving (a strategy that times its probes itself, e.g. the sweep, reads half
        as many frames); ``snaplen`` (else ``link_snaplen``'s rule) sizes libpcap's ring
        slots: a short one gives many more slots in the same ``buffer_bytes``."""
        from pcapping.io import netinfo
        from pcapping.io.capture import LiveCapture
        from pcapping.io.inject import PacketInjector, RawIPInjector
        from pcapping.probe.engine import Engine, Link
        from pcapping.probe.resolve import RETRANS_S, ArpResolver, NdpResolver

        self.dst = dst
        self.v6 = v6 = len(dst) == 16
        if protocols is None:  # the capture filter's protocols: ICMP of the family
            protocols = "icmp6" if v6 else "icmp"
        self.device = device
        route = self.route = netinfo.route_get(dst, device, source)
        iface = self.interface = route.interface
        local = route.local or iface == "lo"
        mtu = netinfo.interface_mtu(iface)
        iftype = netinfo.interface_type(iface)
        if local:
            kind = "loopback"
        elif iftype == 1:
            kind = "ethernet"
        elif iftype in RAW_IFTYPES:
            kind = "raw"
        else:
            raise PcappingError(f"{iface}: link type {iftype} is not supported")
        self.kind = kind
        src_mac = netinfo.interface_mac(iface) if kind == "ethernet" else b"\0" * 6
        self.source = route.source
        self.src_txt = netinfo.addr_text(route.source)
        self.link_local = netinfo.link_local_address(iface) if v6 else None
        if v6:  # NDP, and fragments (whose next header is 44, not 58)
            hosts = f"host {self.src_txt}" + (
                f" or host {netinfo.addr_text(self.link_local)}" if self.link_local else "")
            bpf = f"({protocols} or ip6[6] == 44) and ({hosts})"
        elif inbound:
            bpf = f"({protocols}) and dst host {self.src_txt}"
            if kind == "ethernet":
                bpf = f"({bpf}) or arp"
        else:
            wanted = f"({protocols} or arp)" if kind == "ethernet" else f"({protocols})"
            bpf = f"{wanted} and host {self.src_txt}"
        # link_snaplen: frames no longer than the link's MTU allows (answers are read
        # whole, fragments included), so a small ring still holds a burst of them
        if snaplen is None:
            snaplen = max(2048, mtu + 64) if link_snaplen and not local else SNAPLEN
        self.capture_snaplen = snaplen
        self.capture = capture = LiveCapture(iface, bpf=bpf, snaplen=snaplen, timeout_ms=1,
                                             buffer_bytes=buffer_bytes, immediate=True)
        self.injector: Any = None
        self.writer: Any = None
        try:
            expected = {"ethernet": (1,), "loopback": (1,), "raw": (12, 14, 101, 228)}[kind]
            if capture.linktype not in expected:
                raise PcappingError(f"{iface}: link type {capture.linktype} is not supported")
            if kind == "loopback":
                self.injector = RawIPInjector(family=6 if v6 else 4)
            else:  # the device completes UDP/TCP checksums only on Ethernet (vnet header)
                self.injector = PacketInjector(
                    iface, offload=checksum_offload and kind == "ethernet")
            drop_to_invoker(user)
            if write is not None:
                from pcapping.io.pcapfile import PcapWriter

                self.writer = PcapWriter(write, linktype=101 if kind == "raw" else 1,
                                         snaplen=SNAPLEN)
            self.link = Link(iface, kind, capture.linktype,
                             mtu if kind != "loopback" else 65535, src_mac, route.source)
            pace = RETRANS_S if retrans_s is None else min(RETRANS_S, retrans_s)

            def resolver(hop: bytes) -> ArpResolver | NdpResolver:
                if v6:
                    return NdpResolver(src_mac, route.source, hop, pace,
                                       link_local=self.link_local)
                return ArpResolver(src_mac, route.source, hop, pace)

            self.engine = Engine(self.link, capture, self.injector, resolver=resolver,
                                 writer=self.writer)
        except BaseException:
            self.close()
            raise

    @property
    def offload(self) -> bool:
        """Whether UDP/TCP datagrams sent here leave their checksum to the device
        (``checksum_offload`` asked and granted: see ``PacketInjector``)."""
        return bool(getattr(self.injector, "offload", False))

    @property
    def broadcast(self) -> bool:
        return not self.v6 and (self.route.broadcast or self.dst == b"\xff\xff\xff\xff")

    @property
    def multicast(self) -> bool:
        return self.broadcast or self.route.multicast or (self.v6 and self.dst[0] == 0xFF)

    def dst_mac(self) -> bytes | None:
        """The link-layer destination when no resolution is needed, else None."""
        if self.kind != "ethernet":
            return b"\0" * 6
        if self.broadcast:
            return BROADCAST_MAC
        if self.v6 and self.dst[0] == 0xFF:
            return b"\x33\x33" + self.dst[12:16]  # RFC 2464
        if self.route.multicast:
            return multicast_mac(self.dst)
        return None

    def close(self) -> None:
        self.capture.close()
        if self.injector is not None:
            self.injector.close()
        if self.writer is not None:
            self.writer.close()
