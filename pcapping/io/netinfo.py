"""Network information: the only module that asks the kernel about routes and interfaces.

It speaks rtnetlink directly (``AF_NETLINK``/``NETLINK_ROUTE`` and ``struct``) instead of
importing pyroute2 or running ``ip``: importing pyroute2 alone costs about 0.38 s, while this
module imports and answers a route lookup in about a millisecond.

Public API (addresses are raw 4-byte ``bytes``, as everywhere in pcapping)::

    class Route(NamedTuple):
        interface: str          # "pc0", "lo", ...
        ifindex: int
        source: bytes           # source address the kernel would use (RTA_PREFSRC)
        gateway: bytes | None   # next-hop router, None when the destination is on-link
        destination: bytes      # the address asked about
        local: bool             # RTN_LOCAL: an own address or 127.x, goes over loopback
        rtm_type: int           # RTN_UNICAST 1, RTN_LOCAL 2, RTN_BROADCAST 3, RTN_MULTICAST 5
        next_hop -> bytes       # gateway, or destination when on-link
        broadcast -> bool       # a broadcast address (iputils refuses it without -b)

    route_get(destination, interface=None, source=None) -> Route
                                # like `ip [-6] route get DST [from SRC] [oif IF]`;
                                # 4-byte addresses ask IPv4, 16-byte ones IPv6
    route_prefixes() -> list[tuple[int, int]]            # (network, prefixlen) of every IPv4
                                # route in the local, main and default tables (for sweeps)
    rules_are_default() -> bool  # only the kernel's three default policy rules exist
    interface_type(interface) -> int                     # ARPHRD_*: 1 Ethernet, 772 lo, 65534 tun
    interface_exists(interface) -> bool
    interface_mac(interface) -> bytes                    # 6 bytes, from /sys/class/net
    interface_mtu(interface) -> int
    interface_addresses(interface, family=4) -> list[tuple[bytes, int]]  # (address, prefixlen)
    link_local_address(interface) -> bytes | None        # IPv6 fe80::/10 on it
    default_interface() -> str                           # interface of the default route

Every operational failure (no route, unknown interface, ...) raises
:class:`pcapping.errors.PcappingError` with a one-line message.
"""

from __future__ import annotations

# _socket, not socket: the wrapper module drags in enum and selectors (~3 ms of startup)
# and nothing here needs it.
import _socket as socket
import errno
import os
import struct
from typing import NamedTuple

from pcapping.errors import PcappingError

__all__ = [
    "Route",
    "default_interface",
    "interface_addresses",
    "interface_exists",
    "interface_mac",
    "interface_mtu",
    "interface_type",
    "link_local_address",
    "route_get",
    "route_prefixes",
    "rules_are_default",
]

# --- rtnetlink constants (linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h) ---
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_RTM_NEWROUTE = 24
_RTM_GETROUTE = 26
_RTM_NEWADDR = 20
_RTM_NEWRULE = 32
_RTM_GETRULE = 34
_RTM_GETADDR = 22
_RTA_DST = 1
_RTA_SRC = 2
_RTA_OIF = 4
_RTA_GATEWAY = 5
_RTA_PRIORITY = 6
_RTA_PREFSRC = 7
_RTA_MULTIPATH = 9
_RTA_TABLE = 15
_IFA_ADDRESS = 1
_IFA_LOCAL = 2
_RTN_UNICAST = 1
_RTN_LOCAL = 2
_RTN_BROADCAST = 3
_RTN_MULTICAST = 5
_RT_TABLE_MAIN = 254
_DEFAULT_TABLES = (253, 254, 255)  # default, main, local: what the default rules look up
# the kernel's own IPv4 rules: (priority, table); FRA_PRIORITY 6, FRA_TABLE 15, FRA_PROTOCOL 21
_DEFAULT_RULES = {(0, 255), (32766, 254), (32767, 253)}
_FRA_PRIORITY = 6
_FRA_TABLE = 15
_FRA_PROTOCOL = 21
_FRA_SUPPRESS = (13, 14)  # FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN
_NONE32 = b"\xff\xff\xff\xff"
_FR_ACT_TO_TBL = 1
_IFF_UP = 0x1

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
# rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTMSG = struct.Struct("=BBBBBBBBI")
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTATTR = struct.Struct("=HH")  # len, type
_RTNEXTHOP = struct.Struct("=HBBi")  # len, flags, hops, ifindex

_SYS_NET = "/sys/class/net"


class Route(NamedTuple):
    """The kernel's answer to "how would you send to this address?"."""

    interface: str
    ifindex: int
    source: bytes
    gateway: bytes | None
    destination: bytes
    local: bool
    rtm_type: int = _RTN_UNICAST

    @property
    def next_hop(self) -> bytes:
        """The address whose MAC the frame goes to: the gateway, or the destination itself."""
        return self.gateway if self.gateway is not None else self.destination

    @property
    def broadcast(self) -> bool:
        return self.rtm_type == _RTN_BROADCAST

    @property
    def multicast(self) -> bool:
        return self.rtm_type == _RTN_MULTICAST


def _dotted(addr: bytes) -> str:
    return socket.inet_ntoa(addr)


def addr_text(addr: bytes) -> str:
    """Dotted quad or RFC 5952 text, by length."""
    if len(addr) == 16:
        return socket.inet_ntop(socket.AF_INET6, addr)
    return socket.inet_ntoa(addr)


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _attr(rta_type: int, data: bytes) -> bytes:
    length = _RTATTR.size + len(data)
    return _RTATTR.pack(length, rta_type) + data + b"\0" * (_align4(length) - length)


def _parse_attrs(buf: bytes, offset: int, end: int) -> dict[int, bytes]:
    """rtattr TLVs in buf[offset:end] as {type: payload}; a malformed one stops the walk."""
    attrs: dict[int, bytes] = {}
    while offset + _RTATTR.size <= end:
        length, rta_type = _RTATTR.unpack_from(buf, offset)
        if length < _RTATTR.size or offset + length > end:
            break
        attrs[rta_type & 0x3FFF] = buf[offset + _RTATTR.size : offset + length]  # strip NLA flags
        offset += _align4(length)
    return attrs


def _request(msg_type: int, flags: int, body: bytes) -> list[tuple[int, bytes]]:
    """Send one rtnetlink request and return (type, payload) of each answer up to DONE.

    A netlink error answer is raised as OSError(errno); callers turn it into PcappingError.
    """
    seq = 1
    header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), msg_type, _NLM_F_REQUEST | flags, seq, 0)
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError as exc:
        raise PcappingError(f"cannot open rtnetlink socket: {exc.strerror}") from None
    answers: list[tuple[int, bytes]] = []
    dump = bool(flags & _NLM_F_DUMP)
    try:
        sock.bind((0, 0))
        sock.sendto(header + body, (0, 0))
        while True:
            data = sock.recv(65536)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, mtype, _flags, mseq, _pid = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size or offset + length > len(data):
                    break
                payload = data[offset + _NLMSGHDR.size : offset + length]
                offset += _align4(length)
                if mseq != seq:
                    continue
                if mtype == _NLMSG_DONE:
                    return answers
                if mtype == _NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload, 0)
                    if code == 0:  # an ACK
                        return answers
                    raise OSError(-code, os.strerror(-code))
                answers.append((mtype, payload))
                if not dump:
                    return answers
    finally:
        sock.close()


def _ifindex(interface: str) -> int:
    try:
        return socket.if_nametoindex(interface)
    except (OSError, ValueError):
        raise PcappingError(f"unknown interface {interface!r}") from None


def _ifname(ifindex: int) -> str:
    try:
        return socket.if_indextoname(ifindex)
    except OSError:
        raise PcappingError(f"no interface with index {ifindex}") from None


def route_get(
    destination: bytes, interface: str | None = None, source: bytes | None = None
) -> Route:
    """Ask the kernel for the route to ``destination``, like ``ip route get DST [oif IF]``.

    With ``source`` (``-I ADDRESS``) the lookup is made from that address, as ``ip route
    get DST from SRC`` does, and the route's source is that address.  Raises PcappingError
    for a bad address, an unknown interface or no usable route.
    """
    size = len(destination)
    if size not in (4, 16) or (source is not None and len(source) != size):
        raise PcappingError(f"not an IPv4 or IPv6 address: {destination!r}")
    family = socket.AF_INET if size == 4 else socket.AF_INET6
    bits = size * 8
    body = _RTMSG.pack(family, bits, bits if source else 0, 0, 0, 0, 0, 0, 0)
    body += _attr(_RTA_DST, destination)
    if source is not None:
        body += _attr(_RTA_SRC, source)
    if interface is not None:
        body += _attr(_RTA_OIF, struct.pack("=i", _ifindex(interface)))
    where = f" via interface {interface}" if interface is not None else ""
    try:
        answers = _request(_RTM_GETROUTE, 0, body)
    except OSError as exc:
        raise PcappingError(f"{addr_text(destination)}{where}: {exc.strerror}") from None
    for mtype, payload in answers:
        if mtype != _RTM_NEWROUTE or len(payload) < _RTMSG.size:
            continue
        rtm_type = _RTMSG.unpack_from(payload, 0)[7]
        attrs = _parse_attrs(payload, _RTMSG.size, len(payload))
        if _RTA_OIF not in attrs:
            break
        (ifindex,) = struct.unpack("=i", attrs[_RTA_OIF][:4])
        if source is None:
            source = attrs.get(_RTA_PREFSRC)
        if source is None or len(source) != size:
            raise PcappingError(
                f"{addr_text(destination)}: no IPv{4 if size == 4 else 6} source address on "
                f"{_ifname(ifindex)}")
        gateway = attrs.get(_RTA_GATEWAY)
        return Route(
            interface=_ifname(ifindex),
            ifindex=ifindex,
            source=source,
            gateway=gateway if gateway is not None and len(gateway) == size else None,
            destination=bytes(destination),
            local=rtm_type == _RTN_LOCAL,
            rtm_type=rtm_type,
        )
    raise PcappingError(f"{addr_text(destination)}{where}: {os.strerror(errno.ENETUNREACH)}")


def route_prefixes() -> list[tuple[int, int]]:
    """(network as an int, prefix length) of every IPv4 route in the local, main and default
    tables: the boundaries a many-target sweep splits its ranges at, so that one lookup per
    piece (``route_get``) answers for every address in it (see ``probe/targets.py``)."""
    body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    try:
        answers = _request(_RTM_GETROUTE, _NLM_F_DUMP, body)
    except OSError as exc:
        raise PcappingError(f"cannot list routes: {exc.strerror}") from None
    out: list[tuple[int, int]] = []
    for mtype, payload in answers:
        if mtype != _RTM_NEWROUTE or len(payload) < _RTMSG.size:
            continue
        family, dst_len, _s, _t, table, _p, _sc, _type, _f = _RTMSG.unpack_from(payload, 0)
        if family != socket.AF_INET or dst_len > 32:
            continue
        attrs = _parse_attrs(payload, _RTMSG.size, len(payload))
        if _RTA_TABLE in attrs and len(attrs[_RTA_TABLE]) >= 4:
            (table,) = struct.unpack("=I", attrs[_RTA_TABLE][:4])
        if table not in _DEFAULT_TABLES:
            continue
        dst = attrs.get(_RTA_DST, b"\0\0\0\0")
        if len(dst) != 4:
            continue
        network = int.from_bytes(dst, "big")
        if dst_len < 32:
            network &= ~((1 << (32 - dst_len)) - 1) & 0xFFFFFFFF
        out.append((network, dst_len))
    return out


def rules_are_default() -> bool:
    """True when the IPv4 policy rules are only the kernel's three (local, main, default):
    then the routes of those tables decide every lookup (``route_prefixes`` is complete)."""
    body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)  # fib_rule_hdr has this shape
    try:
        answers = _request(_RTM_GETRULE, _NLM_F_DUMP, body)
    except OSError:
        return False
    for mtype, payload in answers:
        if mtype != _RTM_NEWRULE or len(payload) < _RTMSG.size:
            continue
        family, dst_len, src_len, tos, table, _r1, _r2, action, _f = _RTMSG.unpack_from(
            payload, 0)
        if family != socket.AF_INET:
            continue
        attrs = _parse_attrs(payload, _RTMSG.size, len(payload))
        for kind in _FRA_SUPPRESS:  # "none" (-1) is what the kernel reports when unset
            if attrs.get(kind, _NONE32) == _NONE32:
                attrs.pop(kind, None)
        if set(attrs) - {_FRA_PRIORITY, _FRA_TABLE, _FRA_PROTOCOL}:
            return False  # a selector (iif, oif, fwmark, ports, ...), a goto, a suppressor
        if dst_len or src_len or tos or action != _FR_ACT_TO_TBL:
            return False
        if _FRA_TABLE in attrs and len(attrs[_FRA_TABLE]) >= 4:
            (table,) = struct.unpack("=I", attrs[_FRA_TABLE][:4])
        priority = 0
        if _FRA_PRIORITY in attrs and len(attrs[_FRA_PRIORITY]) >= 4:
            (priority,) = struct.unpack("=I", attrs[_FRA_PRIORITY][:4])
        if (priority, table) not in _DEFAULT_RULES:
            return False
    return True


def interface_exists(interface: str) -> bool:
    """True when the kernel knows an interface by this name (in this namespace)."""
    if not interface or "/" in interface or interface in (".", ".."):
        return False
    return os.path.exists(os.path.join(_SYS_NET, interface))


def _sys_read(interface: str, name: str) -> str:
    if not interface_exists(interface):
        raise PcappingError(f"unknown interface {interface!r}")
    try:
        with open(os.path.join(_SYS_NET, interface, name)) as f:
            return f.read().strip()
    except OSError as exc:
        raise PcappingError(f"{interface}: cannot read {name}: {exc.strerror}") from None


def interface_mac(interface: str) -> bytes:
    """The interface's hardware address as 6 bytes (all zero for loopback)."""
    text = _sys_read(interface, "address")
    try:
        mac = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise PcappingError(f"{interface}: not an Ethernet-style address: {text!r}")
    return mac


def interface_mtu(interface: str) -> int:
    """The interface's MTU in bytes."""
    text = _sys_read(interface, "mtu")
    try:
        return int(text)
    except ValueError:
        raise PcappingError(f"{interface}: unreadable mtu {text!r}") from None


def interface_type(interface: str) -> int:
    """The interface's ARPHRD type: 1 Ethernet, 772 loopback, 65534 none (tun), ..."""
    text = _sys_read(interface, "type")
    try:
        return int(text)
    except ValueError:
        raise PcappingError(f"{interface}: unreadable type {text!r}") from None


def interface_addresses(interface: str, family: int = 4) -> list[tuple[bytes, int]]:
    """Addresses on the interface as (address, prefix length), kernel order; ``family``
    4 (4-byte addresses) or 6 (16-byte ones, link-local included)."""
    ifindex = _ifindex(interface)
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    size = 4 if family == 4 else 16
    body = _IFADDRMSG.pack(af, 0, 0, 0, 0)
    result: list[tuple[bytes, int]] = []
    try:
        for mtype, payload in _request(_RTM_GETADDR, _NLM_F_DUMP, body):
            if mtype != _RTM_NEWADDR or len(payload) < _IFADDRMSG.size:
                continue
            fam, prefixlen, _flags, _scope, index = _IFADDRMSG.unpack_from(payload, 0)
            if fam != af or index != ifindex:
                continue
            attrs = _parse_attrs(payload, _IFADDRMSG.size, len(payload))
            addr = attrs.get(_IFA_LOCAL, attrs.get(_IFA_ADDRESS))
            if addr is not None and len(addr) == size:
                result.append((addr, prefixlen))
    except OSError as exc:
        raise PcappingError(f"{interface}: cannot list addresses: {exc.strerror}") from None
    return result


def link_local_address(interface: str) -> bytes | None:
    """The interface's first IPv6 link-local address (fe80::/10), or None."""
    for addr, _ in interface_addresses(interface, 6):
        if addr[0] == 0xFE and addr[1] & 0xC0 == 0x80:
            return addr
    return None


def _default_route_ifindex() -> int | None:
    """ifindex of the best IPv4 default route in the main table, or None."""
    body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    best: tuple[int, int] | None = None  # (metric, ifindex)
    try:
        answers = _request(_RTM_GETROUTE, _NLM_F_DUMP, body)
    except OSError:
        return None
    for mtype, payload in answers:
        if mtype != _RTM_NEWROUTE or len(payload) < _RTMSG.size:
            continue
        family, dst_len, _s, _t, table, _p, _sc, rtm_type, _f = _RTMSG.unpack_from(payload, 0)
        if family != socket.AF_INET or dst_len != 0 or rtm_type != _RTN_UNICAST:
            continue
        attrs = _parse_attrs(payload, _RTMSG.size, len(payload))
        if _RTA_TABLE in attrs:
            (table,) = struct.unpack("=I", attrs[_RTA_TABLE][:4])
        if table != _RT_TABLE_MAIN:
            continue
        metric = struct.unpack("=I", attrs[_RTA_PRIORITY][:4])[0] if _RTA_PRIORITY in attrs else 0
        if _RTA_OIF in attrs:
            (ifindex,) = struct.unpack("=i", attrs[_RTA_OIF][:4])
        elif _RTA_MULTIPATH in attrs and len(attrs[_RTA_MULTIPATH]) >= _RTNEXTHOP.size:
            ifindex = _RTNEXTHOP.unpack_from(attrs[_RTA_MULTIPATH], 0)[3]
        else:
            continue
        if best is None or metric < best[0]:
            best = (metric, ifindex)
    return best[1] if best is not None else None


def default_interface() -> str:
    """The interface of the default route; else the first up interface that is not loopback."""
    ifindex = _default_route_ifindex()
    if ifindex is not None:
        try:
            return socket.if_indextoname(ifindex)
        except OSError:
            pass
    candidates: list[tuple[int, str]] = []
    for index, name in socket.if_nameindex():
        if name == "lo":
            continue
        try:
            with open(os.path.join(_SYS_NET, name, "flags")) as f:
                flags = int(f.read().strip(), 16)
        except (OSError, ValueError):
            continue
        if flags & _IFF_UP:
            candidates.append((index, name))
    if not candidates:
        raise PcappingError("no default route and no interface is up: use -i/-I IFACE")
    return min(candidates)[1]
