"""Building and removing a lab: namespaces, sysctls, nftables, veths, addresses, routes, and
the tun relay process.  ``up`` runs about two dozen short commands: one ``ip netns add`` per
host, one shell per namespace for its sysctls and its ``nft -f``, one ``ip -batch`` in the host
namespace for every veth pair, one ``ip -n NS -batch`` per namespace for addresses and routes,
the relay, and one batch per tun end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from pcapping.errors import PcappingError
from pcapping.lab.spec import (
    CLIENT_IFACE,
    FEATURES,
    HOSTS,
    NFT_FEATURES,
    OPTIONAL_SYSCTLS,
    RELAY_DIR,
    TUN_IFACE,
    TUN_MTU,
    TUN_PEER_IFACE,
    LabSpec,
)

_NETNS_DIR = "/run/netns"
_IP_TIMEOUT_S = 20.0
_RELAY_TIMEOUT_S = 10.0
_NFT_FAILED = "PCAPPING-NFT-FAILED:"
_RELAY_MODULE = "pcapping.lab.tunrelay"


# --- running commands ---


def _check_can_run() -> None:
    if os.geteuid() != 0:
        raise PcappingError("lab needs root (namespaces): run with sudo")
    if shutil.which("ip") is None:
        raise PcappingError("lab needs the `ip` command (iproute2), not found in PATH")


def _run(argv: Sequence[str], stdin: str | None = None, check: bool = True,
         timeout_s: float = _IP_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure becomes a one-line PcappingError."""
    shown = " ".join(argv[:5]) + (" ..." if len(argv) > 5 else "")
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=timeout_s, check=False)  # fmt: skip
    except FileNotFoundError:
        raise PcappingError(f"lab needs the `{argv[0]}` command, not found in PATH") from None
    except subprocess.TimeoutExpired:
        raise PcappingError(f"`{shown}` did not finish in {timeout_s:g} s") from None
    if check and proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        # ip -batch ends with "Command failed -:N"; the line before says why
        if len(lines) >= 2 and lines[-1].startswith("Command failed"):
            detail = f"{lines[-2]} ({lines[-1]})"
        else:
            detail = lines[-1] if lines else f"exit status {proc.returncode}"
        raise PcappingError(f"`{shown}` failed: {detail}")
    return proc


def _ip(args: list[str], stdin: str | None = None, check: bool = True) -> str:
    """Run ``ip ARGS``; a failure becomes a one-line PcappingError."""
    return _run(["ip", *args], stdin=stdin, check=check).stdout


def _ns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(_NETNS_DIR, name))


def _sysctl_script(spec: LabSpec, host: str, with_nft: bool) -> str:
    """Shell for one namespace: its sysctls through /proc, then (if asked) its nft ruleset.

    A failing sysctl fails the build; a failing ``nft`` is reported on stdout so that the
    lab is built without that host's nftables features."""
    lines = ["set -e"]
    for key, value in spec.sysctls(host).items():
        if key in OPTIONAL_SYSCTLS:
            lines.append(f"[ ! -e /proc/sys/{key} ] || echo {value} > /proc/sys/{key}")
        else:
            lines.append(f"echo {value} > /proc/sys/{key}")
    if with_nft:
        lines += [
            "set +e",
            "err=$(nft -f - 2>&1 <<'PCAPPING_NFT'",
            spec.nft_ruleset(host).rstrip("\n"),
            "PCAPPING_NFT",
            ")",
            f'[ $? -eq 0 ] || printf "{_NFT_FAILED}%s\\n" "$(echo "$err" | tail -n 1)"',
        ]
    return "\n".join(lines) + "\n"


def _host_batch(spec: LabSpec, host: str) -> str:
    """``ip -batch`` input for one namespace: links up, addresses, routes (no tun)."""
    batch = ["link set lo up"]
    for h, iface, cidr, mtu in spec.interfaces():
        if h == host and iface not in (TUN_IFACE, TUN_PEER_IFACE):
            batch.append(f"link set {iface} mtu {mtu} up")
            batch.append(f"addr add {cidr} dev {iface}")
    for h, iface, cidr6, link_local in spec.interfaces6():
        if h == host and link_local is not None:
            batch.append(f"addr add {cidr6} dev {iface} nodad")
            batch.append(f"addr add {link_local}/64 dev {iface} nodad")
    for cidr in spec.loopback_addresses().get(host, []):
        batch.append(f"addr add {cidr} dev lo")
    batch += [f"route add {r}" for r in spec.routes()[host] if not _over_tun(r)]
    batch += [f"route add {r}" for r in spec.routes6()[host] if not _over_tun(r)]
    return "\n".join(batch) + "\n"


def _tun_batch(spec: LabSpec, host: str) -> str:
    iface = TUN_IFACE if host == "client" else TUN_PEER_IFACE
    batch = [f"link set {iface} mtu {TUN_MTU} up"]
    batch += [f"addr add {a}" for a in spec.tun_addresses()[host]]
    batch += [f"route add {r}" for r in spec.routes()[host] if _over_tun(r)]
    batch += [f"route add {r}" for r in spec.routes6()[host] if _over_tun(r)]
    return "\n".join(batch) + "\n"


def _over_tun(route: str) -> bool:
    words = route.split()
    return any(w == "dev" and words[i + 1] in (TUN_IFACE, TUN_PEER_IFACE)
               for i, w in enumerate(words[:-1]))  # fmt: skip


# --- the tun relay ---


def _relay_env() -> dict[str, str]:
    """The environment for the relay: this pcapping importable even if not installed."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _start_relay(spec: LabSpec) -> subprocess.Popen[str]:
    os.makedirs(RELAY_DIR, mode=0o755, exist_ok=True)
    argv = [sys.executable, "-m", _RELAY_MODULE, "--pidfile", spec.relay_pidfile,
            spec.ns("client"), TUN_IFACE, spec.ns("r1"), TUN_PEER_IFACE]  # fmt: skip
    return subprocess.Popen(argv, env=_relay_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd="/")  # fmt: skip


def _await_relay(proc: subprocess.Popen[str]) -> int:
    """The daemon's pid once both tun interfaces exist."""
    try:
        out, err = proc.communicate(timeout=_RELAY_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise PcappingError(f"the tun relay did not start in {_RELAY_TIMEOUT_S:g} s") from None
    for line in out.splitlines():
        if line.startswith("ready "):
            return int(line.split()[1])
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    raise PcappingError(lines[-1] if lines else f"the tun relay exited ({proc.returncode})")


def _is_relay(pid: int, spec: LabSpec) -> bool:
    """True if pid is this lab's relay (its command line names the module and pid file)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return False
    return _RELAY_MODULE.encode() in argv and spec.relay_pidfile.encode() in argv


def relay_pid(spec: LabSpec = LabSpec()) -> int | None:  # noqa: B008 (frozen default)
    """The pid of this lab's running tun relay, or None."""
    try:
        with open(spec.relay_pidfile) as fh:
            pid = int(fh.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_relay(pid, spec) else None


def _wait_gone(pid: int, spec: LabSpec, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _is_relay(pid, spec):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _stop_relay(spec: LabSpec) -> None:
    pid = relay_pid(spec)
    if pid is not None:
        for sig, wait_s in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if _wait_gone(pid, spec, wait_s):
                break
        else:
            raise PcappingError(f"the tun relay (pid {pid}) does not stop")
    try:
        os.unlink(spec.relay_pidfile)
    except FileNotFoundError:
        pass


# --- state: which optional features were built ---


def _write_state(spec: LabSpec, missing: dict[str, str], pid: int | None) -> None:
    os.makedirs(RELAY_DIR, mode=0o755, exist_ok=True)
    tmp = f"{spec.state_file}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"missing": missing, "relay_pid": pid}, fh)
    os.replace(tmp, spec.state_file)


def missing_features(spec: LabSpec = LabSpec()) -> dict[str, str]:  # noqa: B008
    """Optional features (``FEATURES``) of this lab that are not working, each with why.

    Empty when everything is there.  nftables features are missing where ``nft`` was not
    installed or refused the ruleset at ``up``; ``tun`` when the relay is not running."""
    if not is_up(spec):
        return {name: "the lab is down" for name in FEATURES}
    try:
        with open(spec.state_file) as fh:
            missing = dict(json.load(fh).get("missing", {}))
    except (OSError, ValueError):
        missing = {name: f"no state file {spec.state_file} (rebuild the lab)"
                   for name in FEATURES if name != "tun"}  # fmt: skip
    if "tun" not in missing and relay_pid(spec) is None:
        missing["tun"] = "the tun relay is not running (rebuild the lab)"
    return {name: missing[name] for name in FEATURES if name in missing}


# --- public API ---


def is_up(spec: LabSpec = LabSpec()) -> bool:  # noqa: B008
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
    """Stop the tun relay, delete this lab's namespaces (and with them its veths) and its
    files under /run/pcapping; nothing else is touched."""
    _check_can_run()
    errors = []
    try:
        _stop_relay(spec)
    except PcappingError as exc:
        errors.append(str(exc))
    for name in spec.namespaces:
        if not name.startswith(spec.prefix):  # cannot happen; the contract, spelled out
            continue
        if _ns_exists(name):
            try:
                _ip(["netns", "delete", name])
            except PcappingError as exc:
                errors.append(str(exc))
    try:
        os.unlink(spec.state_file)
    except FileNotFoundError:
        pass
    if errors:
        raise PcappingError(errors[0])


def up(spec: LabSpec = LabSpec()) -> None:  # noqa: B008
    """Build the lab from scratch (an existing or half-built lab of this spec goes first).

    Without ``nft`` (or where it refuses a ruleset) the nftables features are left out and
    recorded (see ``missing_features``); any other failure removes what was built and
    raises a one-line PcappingError."""
    _check_can_run()
    down(spec)
    missing: dict[str, str] = {}
    relay: subprocess.Popen[str] | None = None
    try:
        for host in HOSTS:
            try:
                _ip(["netns", "add", spec.ns(host)])
            except PcappingError as exc:
                raise PcappingError(
                    f"cannot create network namespace {spec.ns(host)}: {exc}"
                ) from None
        with_nft = shutil.which("nft") is not None
        if not with_nft:
            reason = "nft (nftables) is not installed"
            missing.update({name: reason for name in [*NFT_FEATURES, "quiet-ipv6"]})
        for host in HOSTS:
            out = _ip(["netns", "exec", spec.ns(host), "sh", "-c",
                       _sysctl_script(spec, host, with_nft)]).splitlines()  # fmt: skip
            failed = [ln[len(_NFT_FAILED):] for ln in out if ln.startswith(_NFT_FAILED)]
            if failed:
                reason = f"nft failed in {spec.ns(host)}: {failed[0]}"
                missing.setdefault("quiet-ipv6", reason)
                for name, h in NFT_FEATURES.items():
                    if h == host:
                        missing[name] = reason
        if os.path.exists("/dev/net/tun"):
            relay = _start_relay(spec)  # starts while the links are made
        else:
            missing["tun"] = "/dev/net/tun does not exist (no tun driver)"
        veths = [f"link add {if_a} netns {spec.ns(a)} type veth peer name {if_b} "
                 f"netns {spec.ns(b)}" for a, if_a, b, if_b in spec.links()]  # fmt: skip
        _ip(["-batch", "-"], stdin="\n".join(veths) + "\n")
        for host in HOSTS:
            _ip(["-n", spec.ns(host), "-batch", "-"], stdin=_host_batch(spec, host))
        pid = None
        if relay is not None:
            pid = _await_relay(relay)
            relay = None
            for host in ("client", "r1"):
                _ip(["-n", spec.ns(host), "-batch", "-"], stdin=_tun_batch(spec, host))
        _write_state(spec, missing, pid)
    except BaseException:
        if relay is not None:  # let it finish starting, so that down() finds its pid file
            try:
                _await_relay(relay)
            except PcappingError:
                pass
        try:
            down(spec)
        except PcappingError:
            pass
        raise


def flush_pmtu(spec: LabSpec = LabSpec()) -> None:  # noqa: B008
    """Forget the path MTUs the client's kernel learnt from Frag-needed and Packet-too-big
    answers (IPv4 and IPv6 route exceptions)."""
    _check_can_run()
    _ip(["-n", spec.ns("client"), "route", "flush", "cache"])
    _ip(["-n", spec.ns("client"), "-6", "route", "flush", "cache"])
