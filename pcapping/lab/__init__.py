"""``pcapping lab up|down|status|demo``: a dual-stack network of namespaces to ping through.

Core (default ``LabSpec``; ``NET`` is ``spec.net``, e.g. ``10.77``; interfaces are named
after the neighbour they face; every IPv4 ``NET.S.H/24`` has an IPv6 twin
``fd00:A:B:S::H/64`` and a link-local ``fe80::H``, see ``LabSpec.to6``)::

    client   pc0        NET.1.2      pctun0 NET.6.2 peer NET.6.1 (raw IP, to r1)
                |
    r1       to-client  NET.1.1      fe80::1: the client's IPv6 default router
             to-r2      NET.2.1      tun-client NET.6.1; to-ecmpa/to-ecmpb: the trace path
                |
    r2       to-r1      NET.2.2      routes: unreachable NET.4.0/24, prohibit NET.5.0/24
             to-target  NET.3.1      MTU 1280            (and their IPv6 twins)
                |
    target   to-r2      NET.3.2      MTU 1280; lo: NET.7.2, the sweep block (AnyIP)

Trace path, from r1 (one TTL per row)::

    1 r1
    2 ecmpa NET.20.2 | ecmpb NET.21.2     r1 has a two-nexthop route, hashed on ports
    3 nat   NET.22.2 | NET.23.2           (the side the flow came by); masquerades on to-dscp
    4 dscp  NET.24.2                      sets DSCP cs1 on what it forwards downstream
    5 silent NET.25.2                     never sends Time exceeded
    6 ratelimit NET.26.2                  Linux's default ICMP rate limits
    7 dest  NET.27.2                      echo replies, UDP port unreachable, TCP RST

Namespaces are ``<prefix><host>`` for every host in ``HOSTS`` (default prefix ``pcping-``).
The veth pairs are created directly inside the namespaces, so the host namespace never sees
an interface of the lab and two labs with different prefixes can exist at the same time.
The tun hop is two tun interfaces (``IFF_TUN|IFF_NO_PI``) joined by a relay process
(``python -m pcapping.lab.tunrelay``, pid file ``/run/pcapping/<prefix>tunrelay.pid``) that
``up`` starts and ``down`` stops.  nftables (one ``nft -f`` per namespace) carries the NAT, the
DSCP rewrite, the silent router, the sweep block's errors and the MLD filter; without ``nft``
the rest is still built and ``missing_features``/``status`` say what is missing and why.
``docs/lab.md`` describes every address and what answers it.

What the core answers, pinged from the client (kernel ``ping`` wording):

- ``NET.3.2`` (target): echo replies with ttl=62; ``-t 1`` Time to live exceeded from
  ``NET.1.1`` (r1), ``-t 2`` from ``NET.2.2`` (r2).
- ``NET.4.1``: r2 has ``unreachable NET.4.0/24``: Destination Host Unreachable (3/1) from r2.
- ``NET.5.1``: r2 has ``prohibit NET.5.0/24``: Packet filtered (3/13) from r2.
- ``NET.3.2 -s 1300 -M do``: Frag needed and DF set (mtu = 1280) (3/4) from r2.
- ``NET.1.99``: on the client's subnet, nobody holds it: ARP goes unanswered.
- IPv6 twins: ``Time exceeded: Hop limit``, ``Destination unreachable: No route`` /
  ``Administratively prohibited``, ``Packet too big: mtu=1280``, and ``Address unreachable``
  from the client itself for ``fd00:A:B:1::99`` (NDP failure).

Routers forward with rp_filter off and ICMP rate limiting off (``icmp_ratemask=0``,
``icmp_ratelimit=0``, large ``icmp_msgs_per_sec``/``icmp_msgs_burst``, IPv6
``icmp/ratelimit=0`` and an empty ``icmp/ratemask``), except the ``ratelimit`` router.
IPv6 is quiet: no automatic link-local (``addr_gen_mode=1``), no DAD (``accept_dad=0``,
``nodad``), no router solicitations, and nftables drops the MLD reports each namespace sends;
measured on Linux 6.18, nothing at all crosses the client's links in the seconds after ``up``
(without nft, two MLDv2 reports per interface, sent while ``up`` runs).
The target answers RFC 8335 PROBE (``net.ipv4.icmp_echo_enable_probe=1``, which on 6.18 also
governs ICMPv6 PROBE: there is no IPv6 sysctl for it).

Kernel behaviours that matter when the same lab is used repeatedly (measured on Linux 6.18):

- Answers from the IPv4 ``unreachable``/``prohibit`` routes go through ``ip_error()``'s token
  bucket (``net.ipv4.route.error_burst``/``error_cost``, 5 answers back to back, then one per
  second, per source address, in r2's namespace). Those two sysctls are global (they do not
  exist inside a namespace), so the lab leaves them alone; a fresh lab starts with a full
  bucket. The bucket is shared with the ICMP rate limiter: with ``icmp_ratelimit=0`` but the
  default ratemask, every Time-exceeded or Frag-needed that r2 sent emptied it, and the next
  unreachable/prohibited answer within a second was silently dropped. ``icmp_ratemask=0``
  keeps ordinary ICMP errors away from the bucket, so only the ``ip_error`` answers count.
  Tests: at most 5 unreachable/prohibited probes per second-spaced burst.  The tun's
  ``NET.7.1`` shares the mechanism (its own bucket: the source is ``NET.6.2``).  IPv6
  unreachable/prohibit routes have no such bucket (20 in a row all answered), and the sweep
  block's errors come from nftables ``reject``, which has none either.
- A Frag-needed (IPv6: Packet too big) answer makes the client's kernel cache a path MTU of
  1280 for the target (a route exception), so a later kernel ``ping -s 1300 -M do`` fails
  locally with "local error: message too long, mtu=1280" and never reaches r2.
  ``flush_pmtu(spec)`` (``ip route flush cache``, both families, in the client) clears it.
  pcapping's own frames bypass the kernel's routing.
- The client's kernel reports an unanswered ARP (or NDP) only after 3 probes (about 3 s):
  kernel ``ping -W 1`` to the absent address prints no "From" line.
- The ``ratelimit`` router's Time exceeded answers are limited per destination, and behind
  the NAT every flow has the same one: IPv4 answers 6 of a burst of 20 (burst of 6, then one
  per ``icmp_ratelimit`` = 1000 ms), IPv6 a burst of 6, then about one per 100 ms (6.18's
  default ``icmp/ratelimit``): 7 of 20 sent 2 ms apart, 9 at 10 ms, 16 at 50 ms.
- ECMP: r1 hashes UDP/TCP flows on ports (``fib_multipath_hash_policy=1``), so different
  ports reach different routers; ICMP has no ports, so every echo flow between two addresses
  takes the same one of the two.
"""

from __future__ import annotations

from pcapping.lab.build import (
    down,
    flush_pmtu,
    is_up,
    missing_features,
    relay_pid,
    up,
)
from pcapping.lab.command import add_arguments, demo, run, status
from pcapping.lab.spec import (
    CLIENT_IFACE,
    FEATURES,
    HOSTS,
    ROUTERS,
    SLOW_LINK_MTU,
    TUN_IFACE,
    LabSpec,
)

__all__ = [
    "CLIENT_IFACE",
    "FEATURES",
    "HOSTS",
    "ROUTERS",
    "SLOW_LINK_MTU",
    "TUN_IFACE",
    "LabSpec",
    "add_arguments",
    "demo",
    "down",
    "flush_pmtu",
    "is_up",
    "missing_features",
    "relay_pid",
    "run",
    "status",
    "up",
]
