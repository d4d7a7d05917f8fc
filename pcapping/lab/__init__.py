"""``pcapping lab up|down|status|demo``: a small network of namespaces to ping through.

Topology (default ``LabSpec``; ``NET`` is ``spec.net``, e.g. ``10.77``; interfaces are named
after the neighbour they face)::

    client   pc0        NET.1.2
                |
    r1       to-client  NET.1.1
             to-r2      NET.2.1
                |
    r2       to-r1      NET.2.2      routes: unreachable NET.4.0/24, prohibit NET.5.0/24
             to-target  NET.3.1      MTU 1280
                |
    target   to-r2      NET.3.2      MTU 1280

Namespaces are ``<prefix>client``, ``<prefix>r1``, ``<prefix>r2``, ``<prefix>target``
(default prefix ``pcping-``). The veth pairs are created directly inside the namespaces, so
the host namespace never sees an interface of the lab and two labs with different prefixes and
address blocks can exist at the same time.

What each address answers, pinged from the client (kernel ``ping`` wording):

- ``NET.3.2`` (target): echo replies with ttl=62; ``-t 1`` Time to live exceeded from
  ``NET.1.1`` (r1), ``-t 2`` from ``NET.2.2`` (r2).
- ``NET.4.1``: r2 has ``unreachable NET.4.0/24``: Destination Host Unreachable (3/1) from r2.
- ``NET.5.1``: r2 has ``prohibit NET.5.0/24``: Packet filtered (3/13) from r2.
- ``NET.3.2 -s 1300 -M do``: Frag needed and DF set (mtu = 1280) (3/4) from r2.
- ``NET.1.99``: on the client's subnet, nobody holds it: ARP goes unanswered.

Routers forward with rp_filter off and ICMP rate limiting off: ``icmp_ratemask=0``,
``icmp_ratelimit=0``, large ``icmp_msgs_per_sec``/``icmp_msgs_burst`` (all per-namespace).
IPv6 is disabled in every namespace so that captures hold only what pcapping and ping send.

Three kernel behaviours matter when the same lab is used repeatedly (measured on Linux 6.18):

- Answers from the ``unreachable``/``prohibit`` routes go through ``ip_error()``'s token
  bucket (``net.ipv4.route.error_burst``/``error_cost``, 5 answers back to back, then one per
  second, per source address, in r2's namespace). Those two sysctls are global (they do not
  exist inside a namespace), so the lab leaves them alone; a fresh lab starts with a full
  bucket. The bucket is shared with the ICMP rate limiter: with ``icmp_ratelimit=0`` but the
  default ratemask, every Time-exceeded or Frag-needed that r2 sent emptied it, and the next
  unreachable/prohibited answer within a second was silently dropped. ``icmp_ratemask=0``
  keeps ordinary ICMP errors away from the bucket, so only the ``ip_error`` answers count.
  Tests: at most 5 unreachable/prohibited probes per second-spaced burst.
- A Frag-needed answer makes the client's kernel cache a path MTU of 1280 for the target (a
  route exception), so a later kernel ``ping -s 1300 -M do`` fails locally with "local error:
  message too long, mtu=1280" and never reaches r2. ``flush_pmtu(spec)`` (``ip route flush
  cache`` in the client) clears it. pcapping's own frames bypass the kernel's routing.
- The client's kernel reports an unanswered ARP only after 3 probes (about 3 s): kernel
  ``ping -W 1`` to the absent address prints no "From" line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from pcapping.errors import PcappingError

__all__ = [
    "HOSTS",
    "LabSpec",
    "demo",
    "down",
    "flush_pmtu",
    "is_up",
    "run",
    "status",
    "up",
]

HOSTS: tuple[str, ...] = ("client", "r1", "r2", "target")
CLIENT_IFACE = "pc0"
SLOW_LINK_MTU = 1280

_NETNS_DIR = "/run/netns"
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$")
_IP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LabSpec:
    """Names and addresses of one lab; everything else is derived from these two fields."""

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
        return tuple(self.ns(h) for h in HOSTS)

    @property
    def client_iface(self) -> str:
        return CLIENT_IFACE

    # --- addresses ---
    def ip(self, subnet: int, host: int) -> str:
        return f"{self.net}.{subnet}.{host}"

    def addr(self, host: str) -> str:
        """The address a host is known by (routers: the side facing the client)."""
        self.ns(host)  # validates the name
        subnet, number = {"client": (1, 2), "r1": (1, 1), "r2": (2, 2), "target": (3, 2)}[host]
        return self.ip(subnet, number)

    @property
    def unreachable_addr(self) -> str:
        return self.ip(4, 1)

    @property
    def prohibited_addr(self) -> str:
        return self.ip(5, 1)

    @property
    def absent_addr(self) -> str:
        return self.ip(1, 99)

    def interfaces(self) -> list[tuple[str, str, str, int]]:
        """(host, interface, address/prefixlen, mtu) for every interface of the lab."""
        return [
            ("client", CLIENT_IFACE, f"{self.ip(1, 2)}/24", 1500),
            ("r1", "to-client", f"{self.ip(1, 1)}/24", 1500),
            ("r1", "to-r2", f"{self.ip(2, 1)}/24", 1500),
            ("r2", "to-r1", f"{self.ip(2, 2)}/24", 1500),
            ("r2", "to-target", f"{self.ip(3, 1)}/24", SLOW_LINK_MTU),
            ("target", "to-r2", f"{self.ip(3, 2)}/24", SLOW_LINK_MTU),
        ]

    def links(self) -> list[tuple[str, str, str, str]]:
        """veth pairs as (host_a, iface_a, host_b, iface_b)."""
        return [
            ("client", CLIENT_IFACE, "r1", "to-client"),
            ("r1", "to-r2", "r2", "to-r1"),
            ("r2", "to-target", "target", "to-r2"),
        ]

    def routes(self) -> dict[str, list[str]]:
        """``ip route add`` arguments per host."""
        return {
            "client": [f"default via {self.ip(1, 1)}"],
            "r1": [f"{self.ip(n, 0)}/24 via {self.ip(2, 2)}" for n in (3, 4, 5)],
            "r2": [
                f"{self.ip(1, 0)}/24 via {self.ip(2, 1)}",
                f"unreachable {self.ip(4, 0)}/24",
                f"prohibit {self.ip(5, 0)}/24",
            ],
            "target": [f"default via {self.ip(3, 1)}"],
        }


# --- running ip ---


def _check_can_run() -> None:
    if os.geteuid() != 0:
        raise PcappingError("lab needs root (namespaces): run with sudo")
    if shutil.which("ip") is None:
        raise PcappingError("lab needs the `ip` command (iproute2), not found in PATH")


def _ip(args: list[str], stdin: str | None = None, check: bool = True) -> str:
    """Run ``ip ARGS``; a failure becomes a one-line PcappingError."""
    try:
        proc = subprocess.run(
            ["ip", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_IP_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise PcappingError("lab needs the `ip` command (iproute2), not found in PATH") from None
    except subprocess.TimeoutExpired:
        raise PcappingError(
            f"`ip {' '.join(args)}` did not finish in {_IP_TIMEOUT_S:g} s"
        ) from None
    if check and proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        detail = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise PcappingError(f"`ip {' '.join(args[:4])}...` failed: {detail}")
    return proc.stdout


def _ns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(_NETNS_DIR, name))


def _sysctl_script(host: str) -> str:
    """Shell that writes the namespace's sysctls through /proc (one process per namespace)."""
    values = {
        "net/ipv6/conf/all/disable_ipv6": 1,
        "net/ipv6/conf/default/disable_ipv6": 1,
        "net/ipv4/conf/all/rp_filter": 0,
        "net/ipv4/conf/default/rp_filter": 0,
        "net/ipv4/icmp_ratelimit": 0,
        "net/ipv4/icmp_ratemask": 0,
        "net/ipv4/icmp_msgs_per_sec": 1_000_000,
        "net/ipv4/icmp_msgs_burst": 1_000_000,
    }
    if host in ("r1", "r2"):
        values["net/ipv4/ip_forward"] = 1
    return "set -e\n" + "".join(f"echo {v} > /proc/sys/{k}\n" for k, v in values.items())


# --- public API ---


def is_up(spec: LabSpec = LabSpec()) -> bool:  # noqa: B008 (frozen, immutable default)
    """True when every namespace of the lab exists and the client has its interface."""
    if not all(_ns_exists(n) for n in spec.namespaces):
        return False
    if os.geteuid() != 0:  # cannot look inside; the namespaces are there
        return True
    try:
        out = _ip(["-n", spec.ns("client"), "-o", "-4", "addr", "show", "dev", CLIENT_IFACE])
    except PcappingError:
        return False
    return f" {spec.addr('client')}/" in out


def down(spec: LabSpec = LabSpec()) -> None:  # noqa: B008
    """Delete this lab's namespaces (and with them its veths); nothing else is touched."""
    _check_can_run()
    errors = []
    for name in spec.namespaces:
        if not name.startswith(spec.prefix):  # cannot happen; the contract, spelled out
            continue
        if _ns_exists(name):
            try:
                _ip(["netns", "delete", name])
            except PcappingError as exc:
                errors.append(str(exc))
    if errors:
        raise PcappingError(errors[0])


def up(spec: LabSpec = LabSpec()) -> None:  # noqa: B008
    """Build the lab from scratch (an existing or half-built lab of this spec goes first)."""
    _check_can_run()
    down(spec)
    try:
        for host in HOSTS:
            try:
                _ip(["netns", "add", spec.ns(host)])
            except PcappingError as exc:
                raise PcappingError(
                    f"cannot create network namespace {spec.ns(host)}: {exc}"
                ) from None
        for host in HOSTS:
            _ip(["netns", "exec", spec.ns(host), "sh", "-c", _sysctl_script(host)])
        for host_a, if_a, host_b, if_b in spec.links():
            _ip(
                ["-n", spec.ns(host_a), "link", "add", if_a, "type", "veth"]
                + ["peer", "name", if_b, "netns", spec.ns(host_b)]
            )
        for host in HOSTS:
            batch = ["link set lo up"]
            for h, iface, cidr, mtu in spec.interfaces():
                if h == host:
                    batch.append(f"link set {iface} mtu {mtu} up")
                    batch.append(f"addr add {cidr} dev {iface}")
            batch += [f"route add {r}" for r in spec.routes()[host]]
            _ip(["-n", spec.ns(host), "-batch", "-"], stdin="\n".join(batch) + "\n")
    except BaseException:
        try:
            down(spec)
        except PcappingError:
            pass
        raise


def flush_pmtu(spec: LabSpec = LabSpec()) -> None:  # noqa: B008
    """Forget the path MTUs the client's kernel learnt from Frag-needed answers."""
    _check_can_run()
    _ip(["-n", spec.ns("client"), "route", "flush", "cache"])


def _try_lines(spec: LabSpec) -> list[tuple[str, str]]:
    """(title, pcapping send arguments) for every scenario of the lab."""
    target = spec.addr("target")
    return [
        ("echo reply from the target, two hops away (ttl=62)", f"{target} -c 2"),
        (f"TTL expires at r1 ({spec.addr('r1')})", f"{target} -t 1 -c 1"),
        (f"TTL expires at r2 ({spec.addr('r2')})", f"{target} -t 2 -c 1"),
        ("host unreachable (r2's unreachable route)", f"{spec.unreachable_addr} -c 1"),
        ("administratively prohibited (r2's prohibit route)", f"{spec.prohibited_addr} -c 1"),
        (f"frag needed: DF set, r2's link to the target has MTU {SLOW_LINK_MTU}",
         f"{target} -s 1300 -M do -c 1"),
        ("ARP failure: nobody holds this address on the client's subnet",
         f"{spec.absent_addr} -c 1 -W 1"),
    ]  # fmt: skip


def status(spec: LabSpec = LabSpec()) -> str:  # noqa: B008
    """Hosts, namespaces, interfaces, addresses and the commands to try, as text."""
    state = "up" if is_up(spec) else "down"
    out = [f"pcapping lab ({spec.prefix}*, {spec.net}.0.0/16): {state}", ""]
    out.append(f"{'host':<8} {'namespace':<20} {'interface':<10} {'address':<18} mtu")
    for host, iface, cidr, mtu in spec.interfaces():
        exists = "" if _ns_exists(spec.ns(host)) else "  (missing)"
        out.append(f"{host:<8} {spec.ns(host):<20} {iface:<10} {cidr:<18} {mtu}{exists}")
    out += [
        "",
        f"r2 answers {spec.unreachable_addr} (unreachable {spec.ip(4, 0)}/24) with"
        " host unreachable,",
        f"  and {spec.prohibited_addr} (prohibit {spec.ip(5, 0)}/24) with"
        " administratively prohibited;",
        f"{spec.absent_addr} is on the client's subnet and nobody answers its ARP.",
        "",
        "Try:",
    ]
    run_in = f"sudo ip netns exec {spec.ns('client')}"
    for title, args in _try_lines(spec):
        out.append(f"  # {title}")
        out.append(f"  {run_in} pcapping send {args}")
    out.append("  # watch the wire (in another terminal)")
    out.append(f"  {run_in} pcapping sniff --icmp -i {CLIENT_IFACE}")
    if state == "down":
        out += ["", "Build it with: sudo pcapping lab up"]
    return "\n".join(out) + "\n"


def _demo_env() -> dict[str, str]:
    """The environment for demo subprocesses: this pcapping importable even if not installed."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def demo(spec: LabSpec = LabSpec(), timeout_s: float = 15.0) -> int:  # noqa: B008
    """Bring the lab up, run `pcapping send` for every scenario, take the lab down.

    A lab that was already up is used as it is and left up. Returns 0 when every command ran
    to completion (exit status 0 or 1), 1 otherwise, 130 on Ctrl-C.
    """
    _check_can_run()
    was_up = is_up(spec)
    failures = 0
    try:
        if not was_up:
            print(f"Bringing the lab up ({spec.prefix}*)...", flush=True)
            up(spec)
        env = _demo_env()
        for title, args in _try_lines(spec):
            argv = ["ip", "netns", "exec", spec.ns("client"), sys.executable, "-m", "pcapping"]
            argv += ["send", *args.split()]
            print(f"\n== {title}\n$ pcapping send {args}", flush=True)
            try:
                proc = subprocess.run(argv, env=env, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired:
                print(f"(timed out after {timeout_s:g} s)", flush=True)
                failures += 1
                continue
            if proc.returncode not in (0, 1):
                print(f"(exit status {proc.returncode})", flush=True)
                failures += 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        if not was_up:
            print("\nTaking the lab down.", flush=True)
            down(spec)
    return 0 if failures == 0 else 1


def add_arguments(p: Any) -> None:
    """``pcapping lab``'s arguments."""
    p.add_argument("action", choices=["up", "down", "status", "demo"],
                   help="build, remove, describe the lab, or run the demo in it")


def run(args: Any) -> int:
    """Entry point for ``pcapping lab ACTION`` (``args.action`` in up|down|status|demo)."""
    spec = LabSpec()
    action = args.action
    if action == "up":
        up(spec)
        sys.stdout.write(status(spec))
        return 0
    if action == "down":
        down(spec)
        print(f"lab {spec.prefix}* is down")
        return 0
    if action == "status":
        sys.stdout.write(status(spec))
        return 0
    if action == "demo":
        return demo(spec)
    raise PcappingError(f"unknown lab action {action!r}: up, down, status or demo")
