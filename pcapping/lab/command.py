"""``pcapping lab up|down|status|demo``: the text ``status`` prints, the demo, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from pcapping.errors import PcappingError
from pcapping.lab.build import (
    _check_can_run,
    _ns_exists,
    down,
    flush_pmtu,
    is_up,
    missing_features,
    up,
)
from pcapping.lab.build import relay_pid as _relay_pid
from pcapping.lab.spec import (
    CLIENT_IFACE,
    DSCP_SET,
    FEATURES,
    SLOW_LINK_MTU,
    TUN_IFACE,
    LabSpec,
)


def _try_lines(spec: LabSpec) -> list[tuple[str, str]]:
    """(title, pcapping send arguments) for every IPv4 scenario of the core lab."""
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


def _more_lines(spec: LabSpec) -> list[tuple[str, str]]:
    """(title, command after ``pcapping``/tool name) for IPv6, the tun, trace and sweep."""
    t6 = spec.addr6("target")
    sweep_part = spec.sweep_alive.replace(".0/24", ".0/28")
    return [
        ("IPv6 echo reply from the target", f"pcapping send -6 {t6} -c 2"),
        ("IPv6 Time exceeded at r1, then r2", f"pcapping send -6 {t6} -t 1 -c 1"),
        ("IPv6 no route / administratively prohibited (r2's routes)",
         f"pcapping send -6 {spec.unreachable_addr6} -c 1"),
        ("", f"pcapping send -6 {spec.prohibited_addr6} -c 1"),
        ("IPv6 Packet too big (mtu=1280) from r2", f"pcapping send -6 {t6} -s 1300 -M do -c 1"),
        ("IPv6 NDP failure: nobody holds this address on the client's link",
         f"pcapping send -6 {spec.absent_addr6} -c 1 -W 1"),
        (f"raw IP over the tun ({TUN_IFACE}): reply, Time exceeded at r1 and r2, unreachable",
         f"pcapping send {spec.tun_target} -c 2"),
        ("", f"pcapping send {spec.tun_target} -t 1 -c 1"),
        ("", f"pcapping send {spec.tun_unreachable} -c 1"),
        ("RFC 8335 PROBE: ask the target about its interface to-r2",
         f"pcapping send --probe-if to-r2 {spec.addr('target')} -c 2"),
        ("trace through ECMP, NAT, DSCP rewrite, a silent and a rate-limited router",
         f"pcapping trace {spec.trace_target}"),
        ("", f"pcapping trace -6 {spec.trace_target6}"),
        ("the kernel's own tools, for comparison", f"traceroute -n {spec.trace_target}"),
        ("", f"traceroute -n -T {spec.trace_target}"),
        ("", f"mtr -n -r -c 3 {spec.trace_target}"),
        (f"sweep the /16 ({spec.sweep_block}): alive, unreachable, prohibited, dropped",
         f"pcapping send -q -s --rate 50000 -g {spec.sweep_block}"),
        ("", f"pcapping send -g {spec.sweep_alive.replace('.0/24', '.0/29')}"),
        ("", f"pcapping send -u -g {spec.sweep_unreachable.replace('.0/24', '.0/29')}"),
        ("", f"fping -g {sweep_part} -r 0"),
    ]  # fmt: skip


def _answers(spec: LabSpec) -> list[str]:
    """What each feature answers, as status lines."""
    r2, r2_6 = spec.addr("r2"), spec.addr6("r2")
    t6, r1_6 = spec.addr6("target"), spec.addr6("r1")
    notes = {
        "ecmpa": "r1 hashes the 5-tuple: each UDP/TCP flow takes one of the two",
        "nat": f"answers from the side the flow came by; masquerades as {spec.nat_outside}",
        "dscp": f"sets DSCP {DSCP_SET} on what it forwards downstream",
        "silent": "never sends Time exceeded: *",
        "ratelimit": "Linux's default ICMP rate limits",
        "dest": "echo reply, UDP port unreachable, TCP RST",
    }
    trace = []
    for ttl, (hosts, addrs) in enumerate(zip(spec.trace_path, spec.trace_hops(), strict=True),
                                         start=1):  # fmt: skip
        shown = " | ".join(addrs) if addrs else spec.silent_hop
        trace.append(f"  {ttl:<2} {'|'.join(hosts):<12} {shown:<26} {notes.get(hosts[0], '')}"
                     .rstrip())  # fmt: skip
    return [
        f"r2 answers {spec.unreachable_addr} (unreachable {spec.ip(4, 0)}/24) with"
        " host unreachable,",
        f"  and {spec.prohibited_addr} (prohibit {spec.ip(5, 0)}/24) with"
        " administratively prohibited;",
        f"{spec.absent_addr} is on the client's subnet and nobody answers its ARP.",
        "",
        "IPv6: every link also has fd00:A:B:SUBNET::HOST/64 (the IPv4 numbers as hex groups)",
        f"and a fixed link-local fe80::HOST; the client's default router is {spec.gateway6}"
        f" (r1) on {CLIENT_IFACE}.",
        f"  {t6:<22} target: echo reply; -t 1 {r1_6} (r1), -t 2 {r2_6} (r2);",
        f"  {'':<22} -s 1300 -M do: packet too big, mtu {SLOW_LINK_MTU}, from r2",
        f"  {spec.unreachable_addr6:<22} no route (r2)",
        f"  {spec.prohibited_addr6:<22} administratively prohibited (r2)",
        f"  {spec.absent_addr6:<22} nobody: NDP fails (address unreachable, from the client)",
        "",
        f"Tun hop (raw IP, relay pid {_relay_pid(spec) or 'not running'}): client {TUN_IFACE}"
        f" {spec.tun_local} <-> r1 {spec.tun_peer_iface} {spec.tun_peer};",
        f"the client routes {spec.tun_route} and {spec.tun_route6} over it.",
        f"  {spec.tun_target + ' / ' + spec.tun_target6:<34} target: echo reply ttl=62;"
        f" -t 1 {spec.tun_peer} (r1), -t 2 {r2} (r2)",
        f"  {spec.tun_unreachable + ' / ' + spec.tun_unreachable6:<34} unreachable (r2)",
        "",
        f"Trace path to {spec.trace_target} / {spec.trace_target6}, by TTL"
        " (IPv6: the same numbers):",
        *trace,
        "",
        f"Sweep block {spec.sweep_block} (IPv6 {spec.sweep_block6}), answered in full by the"
        " target (AnyIP), except:",
        f"  {spec.sweep_unreachable + ' / ' + spec.sweep_unreachable6:<38} host unreachable"
        f" (IPv6: address unreachable) from r2 {r2} / {r2_6}",
        f"  {spec.sweep_prohibited + ' / ' + spec.sweep_prohibited6:<38} administratively"
        " prohibited, from r2",
        f"  {spec.sweep_dropped + ' / ' + spec.sweep_dropped6:<38} dropped: no answer",
        f"PROBE (RFC 8335) is answered by the target ({spec.addr('target')}, {t6}).",
    ]


def status(spec: LabSpec = LabSpec()) -> str:  # noqa: B008 (frozen, immutable default)
    """Hosts, namespaces, interfaces, addresses, what answers, the commands to try, as text."""
    state = "up" if is_up(spec) else "down"
    out = [f"pcapping lab ({spec.prefix}*, {spec.net}.0.0/16): {state}", ""]
    out.append(f"{'host':<9} {'namespace':<22} {'interface':<12} {'address':<18} mtu")
    for host, iface, cidr, mtu in spec.interfaces():
        exists = "" if _ns_exists(spec.ns(host)) else "  (missing)"
        out.append(f"{host:<9} {spec.ns(host):<22} {iface:<12} {cidr:<18} {mtu}{exists}")
    out += ["", *_answers(spec)]
    if state == "up" and os.geteuid() == 0:
        missing = missing_features(spec)
        if missing:
            out += ["", "Missing features:"]
            out += [f"  {FEATURES[name]}: {why}" for name, why in missing.items()]
    out += ["", "Try:"]
    run_in = f"sudo ip netns exec {spec.ns('client')}"
    for title, args in _try_lines(spec):
        out.append(f"  # {title}")
        out.append(f"  {run_in} pcapping send {args}")
    out.append("  # watch the wire (in another terminal)")
    out.append(f"  {run_in} pcapping sniff --icmp -i {CLIENT_IFACE}")
    for title, command in _more_lines(spec):
        if title:
            out.append(f"  # {title}")
        out.append(f"  {run_in} {command}")
    if state == "down":
        out += ["", "Build it with: sudo pcapping lab up"
                + ("" if spec == LabSpec() else f" --prefix {spec.prefix} --net {spec.net}")]
    return "\n".join(out) + "\n"


def _demo_env() -> dict[str, str]:
    """The environment for demo subprocesses: this pcapping importable even if not installed."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _demo_lines(spec: LabSpec) -> list[tuple[str, str]]:
    """(title, pcapping arguments) of the demo: every IPv4 scenario of the core lab, then
    fragments and path MTU, IPv6, the tun hop, PROBE and the trace path."""
    target, t6 = spec.addr("target"), spec.addr6("target")
    lines = [(title, f"send {args}") for title, args in _try_lines(spec)]
    lines += [
        ("path MTU as the kernel learns it: Frag needed, then fragmented requests and "
         "reassembled replies", f"send {target} -s 1400 -c 3 -i 0.2"),
        ("larger than the link: fragmented from the first request", f"send {target} -s 3000 "
         "-c 2 -i 0.2"),
        ("a flood: as fast as replies come back, every reply counted",
         f"send {target} -f -c 20000"),
    ]
    lines += [(title, command.removeprefix("pcapping ")) for title, command in
              _more_lines(spec) if command.startswith("pcapping send")]
    lines += [("IPv6 path MTU: Packet too big, then the Fragment header",
               f"send -6 {t6} -s 1400 -c 3 -i 0.2"),
              ("trace: ECMP, NAT and DSCP flagged in the quotes, a silent hop, a "
               "rate-limited one", f"trace {spec.trace_target}"),
              ("", f"trace -T {spec.trace_target}"),
              ("trace over IPv6: NAT66 and the DSCP rewrite in the quotes too",
               f"trace -6 {spec.trace_target6}")]

    return lines


def demo(spec: LabSpec = LabSpec(), timeout_s: float = 20.0) -> int:  # noqa: B008
    """Bring the lab up, run pcapping for every scenario (``_demo_lines``), take it down.

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
        flush_pmtu(spec)
        missing = missing_features(spec)
        for title, args in _demo_lines(spec):
            if "tun" in missing and (spec.tun_target in args or spec.tun_unreachable in args):
                continue
            argv = ["ip", "netns", "exec", spec.ns("client"), sys.executable, "-m", "pcapping"]
            argv += args.split()
            print(f"\n== {title}\n$ pcapping {args}" if title else f"$ pcapping {args}",
                  flush=True)
            try:
                proc = subprocess.run(argv, env=env, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired:
                print(f"(timed out after {timeout_s:g} s)", flush=True)
                failures += 1
                continue
            if proc.returncode not in (0, 1):
                print(f"(exit status {proc.returncode})", flush=True)
                failures += 1
        flush_pmtu(spec)
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
                   help="build, remove, describe the lab (status exits 1 when it is down), "
                        "or run the demo in it")  # fmt: skip
    p.add_argument("--prefix", default=LabSpec.prefix, metavar="PREFIX",
                   help=f"namespace name prefix (default {LabSpec.prefix}), for a private lab")
    p.add_argument("--net", default=LabSpec.net, metavar="A.B",
                   help=f"first two octets of the address block (default {LabSpec.net})")


def run(args: Any) -> int:
    """Entry point for ``pcapping lab ACTION`` (``args.action`` in up|down|status|demo)."""
    spec = LabSpec(prefix=getattr(args, "prefix", LabSpec.prefix),
                   net=getattr(args, "net", LabSpec.net))  # fmt: skip
    action = args.action
    if action == "up":
        up(spec)
        sys.stdout.write(status(spec))
        for name, why in missing_features(spec).items():
            sys.stderr.write(f"pcapping lab: built without the {FEATURES[name]}: {why}\n")
        return 0
    if action == "down":
        down(spec)
        print(f"lab {spec.prefix}* is down")
        return 0
    if action == "status":
        sys.stdout.write(status(spec))
        return 0 if is_up(spec) else 1
    if action == "demo":
        return demo(spec)
    raise PcappingError(f"unknown lab action {action!r}: up, down, status or demo")
