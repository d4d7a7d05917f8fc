"""pcapping.io.netinfo: rtnetlink route lookups, interface facts from /sys."""

from __future__ import annotations

import json
import os
import socket
import sys

import pytest
from conftest import netns_run, repo_env

from pcapping.errors import PcappingError
from pcapping.io import netinfo
from pcapping.lab import LabSpec

LOOPBACK = socket.inet_aton("127.0.0.1")


def test_route_get_loopback_is_local() -> None:
    route = netinfo.route_get(LOOPBACK)
    assert route.local is True
    assert route.interface == "lo"
    assert route.ifindex == socket.if_nametoindex("lo")
    assert route.source == LOOPBACK
    assert route.gateway is None
    assert route.destination == LOOPBACK
    assert route.next_hop == LOOPBACK


def test_route_get_other_loopback_address() -> None:
    route = netinfo.route_get(socket.inet_aton("127.0.0.2"))
    assert route.local and route.interface == "lo"


def test_route_get_unknown_interface() -> None:
    with pytest.raises(PcappingError, match="unknown interface 'nope0'"):
        netinfo.route_get(LOOPBACK, "nope0")


def test_route_get_rejects_non_ipv4_bytes() -> None:
    with pytest.raises(PcappingError):
        netinfo.route_get(b"\x7f\x00\x01")


def test_route_get_loopback_with_oif() -> None:
    route = netinfo.route_get(LOOPBACK, "lo")
    assert route.interface == "lo" and route.local


@pytest.mark.parametrize("name", sorted(os.listdir("/sys/class/net")))
def test_interface_facts_match_sys(name: str) -> None:
    with open(f"/sys/class/net/{name}/address") as f:
        text = f.read().strip()
    if len(text.split(":")) != 6:
        pytest.skip(f"{name} has no Ethernet-style address")
    assert netinfo.interface_exists(name)
    assert netinfo.interface_mac(name) == bytes.fromhex(text.replace(":", ""))
    with open(f"/sys/class/net/{name}/mtu") as f:
        assert netinfo.interface_mtu(name) == int(f.read())


def test_loopback_facts() -> None:
    assert netinfo.interface_mac("lo") == bytes(6)
    assert (LOOPBACK, 8) in netinfo.interface_addresses("lo")


@pytest.mark.parametrize("name", ["nope0", "", "..", "../lo", "lo/x"])
def test_unknown_interface(name: str) -> None:
    assert not netinfo.interface_exists(name)
    with pytest.raises(PcappingError):
        netinfo.interface_mac(name)
    with pytest.raises(PcappingError):
        netinfo.interface_mtu(name)
    with pytest.raises(PcappingError):
        netinfo.interface_addresses(name)


def test_default_interface_exists_or_clear_error() -> None:
    try:
        name = netinfo.default_interface()
    except PcappingError as exc:
        assert "no default route" in str(exc)
    else:
        assert netinfo.interface_exists(name) and name != "lo"


# --- inside the lab ---

_SNIPPET = r"""
import json, socket, sys
from pcapping.io import netinfo
from pcapping.errors import PcappingError

def route(dst, oif=None):
    try:
        r = netinfo.route_get(socket.inet_aton(dst), oif)
    except PcappingError as exc:
        return {"error": str(exc)}
    return {"interface": r.interface, "source": socket.inet_ntoa(r.source),
            "gateway": r.gateway and socket.inet_ntoa(r.gateway), "local": r.local,
            "next_hop": socket.inet_ntoa(r.next_hop)}

out = {"routes": {d: route(d) for d in sys.argv[1:]},
       "oif": route(sys.argv[1], "pc0") if netinfo.interface_exists("pc0") else None,
       "default": netinfo.default_interface(),
       "addresses": {n: [[socket.inet_ntoa(a), p] for a, p in netinfo.interface_addresses(n)]
                     for n in ("lo", "pc0") if netinfo.interface_exists(n)}}
print(json.dumps(out))
"""


def _netinfo_in(spec: LabSpec, host: str, *destinations: str) -> dict:
    proc = netns_run(spec, host, [sys.executable, "-c", _SNIPPET, *destinations], env=repo_env())
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.live
def test_route_get_in_client_namespace(lab: LabSpec) -> None:
    target, r1 = lab.addr("target"), lab.addr("r1")
    out = _netinfo_in(lab, "client", target, lab.absent_addr, lab.addr("client"), r1)
    routes = out["routes"]
    assert routes[target] == {
        "interface": "pc0", "source": lab.addr("client"), "gateway": r1,
        "local": False, "next_hop": r1,
    }  # fmt: skip
    assert routes[lab.absent_addr] == {
        "interface": "pc0", "source": lab.addr("client"), "gateway": None,
        "local": False, "next_hop": lab.absent_addr,
    }  # fmt: skip
    own = routes[lab.addr("client")]
    assert own["local"] is True and own["interface"] == "lo"
    assert routes[r1]["gateway"] is None and routes[r1]["interface"] == "pc0"
    assert out["oif"]["interface"] == "pc0" and out["oif"]["gateway"] == r1
    assert out["default"] == "pc0"
    assert out["addresses"]["pc0"] == [[lab.addr("client"), 24]]


@pytest.mark.live
def test_route_get_no_route_is_one_line_error(lab: LabSpec) -> None:
    # r2 holds `unreachable NET.4.0/24` and `prohibit NET.5.0/24`; r1 has no default route.
    r2 = _netinfo_in(lab, "r2", lab.unreachable_addr, lab.prohibited_addr)["routes"]
    assert r2[lab.unreachable_addr] == {"error": f"{lab.unreachable_addr}: No route to host"}
    assert "error" in r2[lab.prohibited_addr]
    r1 = _netinfo_in(lab, "r1", "192.0.2.1")["routes"]
    assert r1["192.0.2.1"] == {"error": "192.0.2.1: Network is unreachable"}
