"""What a many-target run probes: fping's ``-g`` ranges, lists and files, and their routes.

A target set is indexable (``len``, ``addr(i)``, ``index(addr)``, ``label(i)``) and never
holds more than it must: a range (``-g NET/LEN`` or ``-g START END``) is two integers
whatever its size, a list keeps one 4-byte address per entry (``array('I')``) and a dict
from address to position (a reply names its target by address).  Addresses are ints here
(``int.from_bytes(addr, "big")``), the form the sweep's hot paths compute with.

``RoutePlan`` answers "which next hop for this target?" for a whole set with few kernel
lookups: the IPv4 routes of the local, main and default tables (``netinfo.route_prefixes``)
cut the address space into pieces inside which every address has the same longest match,
so one ``route_get`` per piece answers for all of its addresses (policy rules other than the
kernel's three make that untrue: then every target is looked up on its own).  A set whose
targets leave through more than one interface, or from more than one source address, is
refused with a message saying which (this sweep runs one engine on one link).

fping's wording is kept for the errors it has (``-g works only with IPv4 addresses``,
``netmask must be between 1 and 32``, ``-g parameter generates too many addresses``).
"""

from __future__ import annotations

import bisect
import socket
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, Protocol

from pcapping.errors import PcappingError

MAX_GENERATE = 100_000  # fping's cap on -g START END (a CIDR has none)


def dotted(addr: int) -> str:
    return f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}"


def _digits(v: int) -> int:
    return 1 if v < 10 else 2 if v < 100 else 3


def _label_len(addr: int) -> int:
    return 3 + sum(_digits((addr >> s) & 255) for s in (24, 16, 8, 0))


def max_label_len(first: int, last: int) -> int:
    """The longest dotted address in [first, last], without walking the range.

    The length is a sum of one non-decreasing function per octet, so the longest is
    ``last`` or, for some octet position, ``last`` with that octet one lower and every
    later octet 255 (when that is still >= ``first``).
    """
    best = _label_len(last)
    for shift in (24, 16, 8, 0):
        octet = (last >> shift) & 255
        if not octet:
            continue
        low_mask = (1 << shift) - 1
        candidate = (last & ~((256 << shift) - 1)) | ((octet - 1) << shift) | low_mask
        if first <= candidate <= last:
            best = max(best, _label_len(candidate))
    return best


class Targets(Protocol):
    """An indexable set of IPv4 targets (see the module docstring)."""

    unknown: list[str]  # names that did not resolve (fping's "unknown addresses")

    def __len__(self) -> int: ...
    def addr(self, i: int) -> int: ...
    def index(self, addr: int) -> int: ...  # -1: not a target
    def label(self, i: int) -> str: ...
    def label_width(self) -> int: ...
    def spans(self) -> Iterator[tuple[int, int]]: ...  # (first, last) address runs


class RangeTargets:
    """Every address from ``first`` to ``last`` inclusive: two ints, whatever the size."""

    def __init__(self, first: int, last: int) -> None:
        if not 0 <= first <= last <= 0xFFFFFFFF:
            raise ValueError("bad range")
        self.first = first
        self.last = last
        self.unknown: list[str] = []

    def __len__(self) -> int:
        return self.last - self.first + 1

    def addr(self, i: int) -> int:
        return self.first + i

    def index(self, addr: int) -> int:
        i = addr - self.first
        return i if 0 <= i <= self.last - self.first else -1

    def label(self, i: int) -> str:
        return dotted(self.first + i)

    def label_width(self) -> int:
        return max_label_len(self.first, self.last)

    def spans(self) -> Iterator[tuple[int, int]]:
        yield self.first, self.last


class ListTargets:
    """Addresses in the order given (each once), with the names they were given as."""

    def __init__(self, addrs: Iterable[int], names: dict[int, str] | None = None,
                 unknown: list[str] | None = None) -> None:
        self.addrs = array("I")
        self._index: dict[int, int] = {}
        self.names: dict[int, str] = {}  # position -> the name as given, when not numeric
        for a in addrs:
            if a in self._index:
                continue
            self._index[a] = len(self.addrs)
            self.addrs.append(a)
        for a, name in (names or {}).items():
            i = self._index.get(a)
            if i is not None:
                self.names[i] = name
        self.unknown = list(unknown or [])

    def __len__(self) -> int:
        return len(self.addrs)

    def addr(self, i: int) -> int:
        return self.addrs[i]

    def index(self, addr: int) -> int:
        return self._index.get(addr, -1)

    def label(self, i: int) -> str:
        name = self.names.get(i)
        return name if name is not None else dotted(self.addrs[i])

    def label_width(self) -> int:
        return max((len(self.label(i)) for i in range(len(self.addrs))), default=0)

    def spans(self) -> Iterator[tuple[int, int]]:
        for a in self.addrs:
            yield a, a


class ByAddress:
    """A view of a target set that prints addresses instead of names (fping's ``-A``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.unknown = inner.unknown

    def __len__(self) -> int:
        return len(self.inner)

    def addr(self, i: int) -> int:
        return self.inner.addr(i)

    def index(self, addr: int) -> int:
        return self.inner.index(addr)

    def label(self, i: int) -> str:
        return dotted(self.inner.addr(i))

    def label_width(self) -> int:
        if isinstance(self.inner, RangeTargets):
            return self.inner.label_width()
        return max((len(self.label(i)) for i in range(len(self))), default=0)

    def spans(self) -> Iterator[tuple[int, int]]:
        return self.inner.spans()


# --- building target sets ------------------------------------------------------------

def parse_address(text: str) -> int:
    """A numeric IPv4 address (fping's AI_NUMERICHOST), or PcappingError in fping's words."""
    try:
        infos = socket.getaddrinfo(text, None, socket.AF_UNSPEC, socket.SOCK_RAW, 0,
                                   socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        raise PcappingError(f"can't parse address {text}: {exc.strerror}") from None
    except UnicodeError:
        raise PcappingError(f"can't parse address {text}: Name or service not known") from None
    for family, _t, _p, _c, sockaddr in infos:
        if family == socket.AF_INET:
            return int.from_bytes(socket.inet_aton(sockaddr[0]), "big")
    raise PcappingError("-g works only with IPv4 addresses")


def generate(args: list[str]) -> RangeTargets:
    """fping's ``-g``: one ``NET/LEN`` (network and broadcast left out below /31), or
    ``START END`` (inclusive, at most 100,000 addresses)."""
    if len(args) == 1:
        text = args[0]
        if "/" not in text:
            raise PcappingError(f"-g needs NET/LEN or START END, got {text!r}")
        addr_text, mask_text = text.split("/", 1)
        net = parse_address(addr_text)
        try:
            mask = int(mask_text)
        except ValueError:
            mask = 0
        if not 1 <= mask <= 32:
            raise PcappingError(f"netmask must be between 1 and 32 (is: {mask_text})")
        bitmask = (0xFFFFFFFF << (32 - mask)) & 0xFFFFFFFF
        first = net & bitmask
        last = first + (1 << (32 - mask)) - 1
        if mask < 31:
            first += 1
            last -= 1
        return RangeTargets(first, last)
    if len(args) == 2:
        start = parse_address(args[0])
        end = parse_address(args[1])
        if end > start + MAX_GENERATE:
            raise PcappingError("-g parameter generates too many addresses")
        if end < start:
            raise PcappingError(f"-g: {args[1]} comes before {args[0]}")
        return RangeTargets(start, end)
    raise PcappingError("-g needs NET/LEN or START END" + (
        "" if args else ", got nothing"))


def read_target_file(path: str, stdin: Any = None) -> list[str]:
    """fping's ``-f FILE`` (``-`` for stdin): the first word of each line, skipping blank
    lines and ``#`` comments."""
    import sys

    try:
        if path == "-":
            lines = (stdin or sys.stdin).read().splitlines()
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
    except OSError as exc:
        raise PcappingError(f"fopen : {path}: {exc.strerror or exc}") from None
    out = []
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        out.append(words[0])
    return out


def resolve_names(names: list[str], warn: Callable[[str], None] | None = None) -> ListTargets:
    """Targets from names or addresses, in order; a name that does not resolve is warned
    about (fping: ``NAME: <gai error>``) and counted as an unknown address."""
    addrs: list[int] = []
    given: dict[int, str] = {}
    unknown: list[str] = []
    for name in names:
        try:
            infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_RAW)
        except socket.gaierror as exc:
            if warn is not None:
                warn(f"{name}: {exc.strerror}\n")
            unknown.append(name)
            continue
        except UnicodeError:
            if warn is not None:
                warn(f"{name}: Name or service not known\n")
            unknown.append(name)
            continue
        a = int.from_bytes(socket.inet_aton(infos[0][4][0]), "big")
        if a not in given:
            given[a] = name
        addrs.append(a)
    names_kept = {a: n for a, n in given.items() if n != dotted(a)}
    return ListTargets(addrs, names_kept, unknown)


# --- routes --------------------------------------------------------------------------

class Hop(NamedTuple):
    """How one piece of the address space is reached."""

    interface: str
    source: bytes
    gateway: int  # 0: on-link (the target is its own next hop)
    kind: str  # "unicast", "local", "broadcast", "multicast"


def _kind(route: Any) -> str:
    if route.local:
        return "local"
    if route.broadcast:
        return "broadcast"
    if route.multicast:
        return "multicast"
    return "unicast"


class RoutePlan:
    """Next hops for a target set with few route lookups (see the module docstring).

    ``lookup(addr_bytes)`` is ``netinfo.route_get`` bound to the run's ``-I``;
    ``prefixes`` the route prefixes (None: look every address up on its own).
    """

    def __init__(self, lookup: Callable[[bytes], Any],
                 prefixes: list[tuple[int, int]] | None) -> None:
        self.lookup = lookup
        self.per_address = prefixes is None
        cuts = {0}
        for net, plen in prefixes or []:
            cuts.add(net)
            end = net + (1 << (32 - plen))
            if end <= 0xFFFFFFFF:
                cuts.add(end)
        self.cuts = sorted(cuts)
        self._hops: dict[int, Hop] = {}  # piece start (or address) -> hop
        self._lo = 1
        self._hi = 0  # the piece last asked about: [lo, hi]
        self._last: Hop | None = None
        self.lookups = 0
        self.local = 0  # targets that are this host's own addresses (see check)

    def piece(self, addr: int) -> tuple[int, int]:
        """The piece [first, last] of the address space that holds ``addr``."""
        if self.per_address:
            return addr, addr
        k = bisect.bisect_right(self.cuts, addr) - 1
        first = self.cuts[k]
        last = self.cuts[k + 1] - 1 if k + 1 < len(self.cuts) else 0xFFFFFFFF
        return first, last

    def hop(self, addr: int) -> Hop:
        if self._lo <= addr <= self._hi:
            return self._last  # type: ignore[return-value]
        first, last = self.piece(addr)
        hop = self._hops.get(first)
        if hop is None:
            route = self.lookup(addr.to_bytes(4, "big"))
            self.lookups += 1
            gw = route.gateway
            hop = Hop(route.interface, route.source,
                      int.from_bytes(gw, "big") if gw is not None else 0, _kind(route))
            if len(self._hops) < 65536:
                self._hops[first] = hop
        self._lo, self._hi, self._last = first, last, hop
        return hop

    def next_hop(self, addr: int) -> int:
        """The address whose link-layer address a probe to ``addr`` goes to."""
        gw = self.hop(addr).gateway
        return gw if gw else addr

    def pieces(self, first: int, last: int) -> Iterator[tuple[int, int, Hop]]:
        """(first, last, hop) of every piece of [first, last]."""
        a = first
        while a <= last:
            lo, hi = self.piece(a)
            hi = min(hi, last)
            yield a, hi, self.hop(a)
            a = hi + 1

    def check(self, targets: Any) -> Hop:
        """The hop every target shares the interface and source of; PcappingError when
        they leave through more than one interface or from more than one source.

        This host's own addresses (``local``: they answer over loopback) may sit among
        targets of another interface; ``self.local`` then counts them (the sweep probes
        them on a loopback lane of its own)."""
        seen: Hop | None = None
        seen_at = 0
        self.local = 0
        local_at: int | None = None
        for first, last in _merged(targets.spans()):
            for lo, hi, hop in self.pieces(first, last):
                if hop.kind == "local":
                    self.local += hi - lo + 1
                    if local_at is None:
                        local_at = lo
                    continue
                if seen is None:
                    seen, seen_at = hop, lo
                    continue
                if hop.interface != seen.interface:
                    raise PcappingError(
                        f"targets route through more than one interface ({seen.interface} "
                        f"for {dotted(seen_at)}, {hop.interface} for {dotted(lo)}): sweep "
                        "each interface's targets on their own, or pick one with -I")
                if hop.source != seen.source:
                    raise PcappingError(
                        f"targets use more than one source address ({socket.inet_ntoa(seen.source)}"
                        f" for {dotted(seen_at)}, {socket.inet_ntoa(hop.source)} for "
                        f"{dotted(lo)}): pick one with -I ADDRESS")
        if seen is None:
            if local_at is None:
                raise PcappingError("no targets")
            self.local = 0  # every target is local: loopback is the link itself
            return self.hop(local_at)
        return seen


def _merged(spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive addresses as (first, last), for lists given address by address."""
    run: tuple[int, int] | None = None
    for first, last in spans:
        if run is not None and first == run[1] + 1:
            run = (run[0], last)
            continue
        if run is not None:
            yield run
        run = (first, last)
    if run is not None:
        yield run
