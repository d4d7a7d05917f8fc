"""Names to addresses: getaddrinfo's first answer, with the resolver's failures in the
words ping and traceroute print (``HOST: Name or service not known``)."""

from __future__ import annotations

import socket

from pcapping.errors import PcappingError


def first_address(host: str, af: int = socket.AF_UNSPEC, canonical: bool = False
                  ) -> tuple[bytes, str | None, str | None]:
    """(address, canonical name when asked and known, interface of an IPv6 scope) of
    getaddrinfo's first answer for ``host`` in family ``af``; ``PcappingError`` when the
    name does not resolve."""
    flags = socket.AI_CANONNAME if canonical else 0
    try:
        infos = socket.getaddrinfo(host, None, af, socket.SOCK_DGRAM, 0, flags)
    except socket.gaierror as exc:
        raise PcappingError(f"{host}: {exc.strerror}") from None
    except UnicodeError:
        raise PcappingError(f"{host}: Name or service not known") from None
    family, _, _, canon, sockaddr = infos[0]
    raw = socket.inet_pton(family, sockaddr[0].partition("%")[0])
    scope_if = None
    if family == socket.AF_INET6 and sockaddr[3]:
        scope_if = socket.if_indextoname(sockaddr[3])
    return raw, canon or None, scope_if


__all__ = ["first_address"]
