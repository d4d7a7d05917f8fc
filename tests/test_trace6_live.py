"""``pcapping trace -6`` in the lab's trace path, beside the kernel's ``traceroute -6`` and
``mtr -6``.

Every address comes from the ``LabSpec`` (``trace_hops6()``, ``trace_ttl()``, ...), never
from literals.  What is held: each TTL answered by the addresses the lab says (``* * *``
at the silent router) with UDP, ICMPv6 and TCP probes, traceroute's header and line
format for IPv6 (the same header as ``traceroute -6`` for each method), the same hops as
``traceroute -6`` sending our very flow, ICMPv6 lines identical to ``traceroute -6 -I``'s
(times masked), Paris (one path per run) against classic (both routers), ``--multipath``
finding both routers at the ECMP and NAT TTLs with their links, the NAT66 flagged (UDP
and TCP: the quoted checksum) from the hop after it and not before, the DSCP rewrite
likewise, traceroute's annotations for no route (``!N``), prohibited (``!X``) and Packet
Too Big (``!F-1280``) where ``traceroute -6`` prints them, the rate-limited router not
reported as loss, mtr's report columns and hops beside ``mtr -6``'s, the pcap written by
``--write``, ``pcapping.trace()`` and names resolved by family.

The ``ratelimit`` router's IPv6 bucket (a burst of 6, then about one answer per 100 ms,
per destination; lab.md) refills in well under a second: the module waits a second for
it to fill, a few tenths before the runs that must see it answer, and keeps the test
that empties it for last.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, netns_run, repo_env

from pcapping import lab as labmod
from pcapping.lab import LabSpec

pytestmark = pytest.mark.live

BUCKET_REFILL_S = 1.0  # IPv6: 6 tokens at about one per 100 ms
TOP_UP_S = 0.3  # a few tokens back, before a run that needs the router's answer
ADDR6 = r"(?<![0-9a-z])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"
LINE = re.compile(rf"^[ \d]\d (?: \*| {ADDR6}(?: <[^>]*>)?(?: \[modified: [a-z0-9_,]+\])?"
                  r"|  \d+\.\d{3} ms| ![A-Z<>0-9-]+)+$")


def _trace(lab: LabSpec, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = netns_run(lab, "client", [sys.executable, "-m", "pcapping", "trace", *args],
                     env=repo_env(), cwd=REPO_ROOT, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def _json(lab: LabSpec, *args: str) -> list[dict[str, Any]]:
    rc, out, err = _trace(lab, "--json", *args)
    assert rc in (0, 1), err
    return [json.loads(line) for line in out.splitlines()]


def _hops(text: str) -> dict[int, list[str]]:
    """traceroute-format lines as TTL -> the answering addresses (``*`` for no answer)."""
    hops: dict[int, list[str]] = {}
    for line in text.splitlines()[1:]:
        words = line.split()
        if not words or not words[0].isdigit():
            continue
        seen: list[str] = []
        for word in words[1:]:
            if word == "*":
                seen.append("*")
                continue
            try:
                seen.append(str(ipaddress.ip_address(word)))
            except ValueError:
                pass
        hops[int(words[0])] = seen
    return hops


def _masked(text: str, skip_ttl: int | None = None) -> list[str]:
    """Lines without their times and pcapping's annotations, the ``skip_ttl`` line out."""
    out = []
    for line in text.splitlines():
        if skip_ttl is not None and line[:2].strip() == str(skip_ttl):
            continue
        line = re.sub(r"\d+\.\d{3} ms", "T ms", line)
        out.append(re.sub(r" \[modified: [a-z0-9_,]+\]", "", line))
    return out


@pytest.fixture(scope="module")
def path(lab: LabSpec) -> LabSpec:
    """The lab, with every trace-path feature there and the IPv6 rate limiter's bucket
    full."""
    missing = labmod.missing_features(lab)
    for feature in ("nat", "dscp", "silent"):
        if feature in missing:
            pytest.skip(f"the lab has no {feature} router: {missing[feature]}")
    time.sleep(BUCKET_REFILL_S)
    return lab


@pytest.fixture(scope="module")
def udp_run(path: LabSpec, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One default trace -6 (UDP, Paris, 3 probes a hop) as text (writing a pcap), and a
    one-probe JSON run of the same path."""
    pcap = tmp_path_factory.mktemp("trace6") / "trace6.pcap"
    rc, text, err = _trace(path, "-6", "-n", "--write", str(pcap), path.trace_target6)
    time.sleep(TOP_UP_S)
    events = _json(path, "-6", "-q", "1", path.trace_target6)
    return {"rc": rc, "text": text, "err": err, "events": events, "pcap": pcap}


def _check_hops(lab: LabSpec, hops: dict[int, list[str]], text: str) -> None:
    expected = lab.trace_hops6()
    assert sorted(hops) == list(range(1, len(expected) + 1)), text
    rl = lab.trace_ttl("ratelimit")
    for ttl, want in enumerate(expected, start=1):
        got = hops[ttl]
        if want == ():
            assert set(got) == {"*"}, f"TTL {ttl}:\n{text}"
        else:
            answered = [g for g in got if g != "*"]
            assert answered and set(answered) <= set(want), f"TTL {ttl}:\n{text}"
            if ttl != rl:
                assert "*" not in got, f"TTL {ttl}:\n{text}"
    assert set(hops[len(expected)]) == {lab.trace_target6}


def test_default_trace_every_hop_in_traceroutes_format(path: LabSpec,
                                                       udp_run: dict[str, Any]) -> None:
    text = udp_run["text"]
    assert udp_run["rc"] == 0, udp_run["err"]
    lines = text.splitlines()
    target = path.trace_target6
    assert lines[0] == f"traceroute to {target} ({target}), 30 hops max, 80 byte packets"
    for line in lines[1:]:
        assert LINE.match(line), line
    _check_hops(path, _hops(text), text)
    silent = path.trace_ttl("silent")
    assert lines[silent] == f"{silent:2d}  * * *"
    for line in lines[1:]:  # Paris: one address per hop, printed once
        assert len(re.findall(ADDR6, line)) <= 1, line


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_headers_are_traceroutes(path: LabSpec) -> None:
    """The same first line as traceroute -6 for each method, packet length included."""
    target = path.trace_target6
    for flags in ([], ["-I"], ["-T"], ["-I", "1400"]):
        args = [*flags[:1], "-q", "1", "-m", "1", target, *flags[1:]]
        rc, ours, err = _trace(path, "-6", "-n", *args)
        theirs = netns_run(path, "client", ["traceroute", "-6", "-n", *args]).stdout
        assert ours.splitlines()[0] == theirs.splitlines()[0], (flags, ours, theirs)


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_same_hops_as_traceroute_on_the_same_flow(path: LabSpec,
                                                  udp_run: dict[str, Any]) -> None:
    start = udp_run["events"][0]
    assert start["family"] == 6 and start["flow_label"] and start["packet_len"] == 80
    sport, dport = start["sport"], start["dport"]
    proc = netns_run(path, "client", ["traceroute", "-6", "-n", "-U", f"--sport={sport}",
                                      "-p", str(dport), "-q", "1", "-w", "1",
                                      path.trace_target6])
    theirs = _hops(proc.stdout)
    ours = {e["ttl"]: e["from"] or "*" for e in udp_run["events"] if e["event"] == "probe"}
    assert sorted(theirs) == sorted(ours), proc.stdout
    for ttl, addr in ours.items():
        if ttl != path.trace_ttl("ratelimit"):  # (either may meet an empty bucket there)
            assert theirs[ttl] == [addr], (ttl, proc.stdout)


def test_icmp_and_tcp_reach_the_destination(path: LabSpec) -> None:
    texts = {}
    for flag in ("-I", "-T"):
        time.sleep(TOP_UP_S)
        rc, text, err = _trace(path, "-6", "-n", flag, "-q", "1", path.trace_target6)
        assert rc == 0, err
        _check_hops(path, _hops(text), text)
        texts[flag] = text
    if shutil.which("traceroute") is not None:
        # every ICMPv6 flow between two addresses takes the same path here (the lab's
        # balancer hashes no flow label): traceroute -6 -I prints the same lines
        theirs = netns_run(path, "client", ["traceroute", "-6", "-n", "-I", "-q", "1",
                                            path.trace_target6]).stdout
        rl = path.trace_ttl("ratelimit")
        assert _masked(texts["-I"], rl) == _masked(theirs, rl), (texts["-I"], theirs)


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_tcp_same_hops_as_traceroute_on_the_same_flow(path: LabSpec) -> None:
    """traceroute -6 -T with our source port (it then sends one probe at a time) sees
    the same router at every TTL as our Paris TCP flow."""
    time.sleep(TOP_UP_S)
    events = _json(path, "-6", "-T", "-q", "1", path.trace_target6)
    start = events[0]
    ours = {e["ttl"]: e["from"] or "*" for e in events if e["event"] == "probe"}
    proc = netns_run(path, "client", ["traceroute", "-6", "-n", "-T", f"--sport={start['sport']}",
                                      "-p", str(start["dport"]), "-q", "1", "-w", "1",
                                      path.trace_target6])
    theirs = _hops(proc.stdout)
    assert sorted(theirs) == sorted(ours), (ours, proc.stdout)
    for ttl, addr in ours.items():
        if ttl != path.trace_ttl("ratelimit"):
            assert theirs[ttl] == [addr], (ttl, ours, proc.stdout)


def test_json_probe_events_and_summary(path: LabSpec, udp_run: dict[str, Any]) -> None:
    events = udp_run["events"]
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary"
    assert events[0]["address"] == path.trace_target6
    probes = [e for e in events if e["event"] == "probe"]
    n_hops = len(path.trace_hops6())
    assert [(e["ttl"], e["probe"]) for e in probes] == [(t, 1) for t in range(1, n_hops + 1)]
    for e in probes:
        assert {"ttl", "probe", "from", "rtt_ms", "type", "code", "modified"} <= set(e)
        if e["from"] is not None:
            assert 0 < e["rtt_ms"] < 50
            # wire clock at both ends: the RTT is the two capture timestamps' difference
            assert abs(e["rtt_ms"] - (e["ts"] - e["sent_ts"]) * 1000) < 0.002
            if not e["final"]:
                assert (e["type"], e["code"], e["quoted_ttl"]) == (3, 0, 1)
    last = probes[-1]
    assert (last["from"], last["type"], last["code"], last["final"]) == (
        path.trace_target6, 1, 4, True)
    summary = events[-1]
    assert summary["reached"] is True and len(summary["hops"]) == n_hops
    assert summary["hops"][-1]["reached"] is True
    silent = summary["hops"][path.trace_ttl("silent") - 1]
    assert silent["received"] == 0 and silent["silent"] and silent["addresses"] == []


def _modified(events: list[dict[str, Any]]) -> dict[int, set[str]]:
    """TTL -> the fields modified in the quotes of the ICMPv6 errors answered there."""
    return {e["ttl"]: set(e["modified"]) for e in events
            if e["event"] == "probe" and e["from"] is not None and e["type"] in (1, 2, 3, 4)}


def test_nat66_and_dscp_flagged_from_where_they_show(path: LabSpec,
                                                     udp_run: dict[str, Any]) -> None:
    nat_ttl, dscp_ttl = path.trace_ttl("nat"), path.trace_ttl("dscp")
    time.sleep(TOP_UP_S)
    tcp = _json(path, "-6", "-T", "-q", "1", path.trace_target6)
    for events in (udp_run["events"], tcp):
        modified = _modified(events)
        # the NAT masquerades what it forwards: the first hop after it shows it in the
        # quoted checksum (left to the device, restored as if complete), none before
        assert all("l4_checksum" not in modified[t] for t in modified if t <= nat_ttl)
        assert "l4_checksum" in modified[nat_ttl + 1]
        assert all("l4_checksum" in modified[t] for t in modified if t > nat_ttl)
        assert all("src" not in m for m in modified.values())  # the address is restored
        assert all("flow_label" not in m for m in modified.values())
        assert all("dscp" not in modified[t] for t in modified if t <= dscp_ttl)
        after = min(t for t in modified if t > dscp_ttl)
        assert "dscp" in modified[after]
    probes = [e for e in udp_run["events"] if e["event"] == "probe"]
    after = min(e["ttl"] for e in probes if e["ttl"] > dscp_ttl and e["from"])
    change = next(c for e in probes if e["ttl"] == after for c in e["changes"]
                  if c["field"] == "dscp")
    assert (change["sent"], change["quoted"]) == (0, path.dscp_value)
    assert f"{dscp_ttl:2d}  {path.dscp_hop6} [modified: l4_checksum]" in udp_run["text"]


def test_icmpv6_probes_see_the_dscp_rewrite_and_a_clean_nat(path: LabSpec) -> None:
    """ICMPv6 checksums are complete: the NAT66's restoration of the quote is exact."""
    time.sleep(TOP_UP_S)
    modified = _modified(_json(path, "-6", "-I", "-q", "1", path.trace_target6))
    dscp_ttl = path.trace_ttl("dscp")
    assert all("l4_checksum" not in m and "src" not in m for m in modified.values())
    after = min(t for t in modified if t > dscp_ttl)
    assert "dscp" in modified[after]


def test_paris_one_path_per_run_classic_sees_both(path: LabSpec,
                                                  udp_run: dict[str, Any]) -> None:
    ecmp_ttl = path.trace_ttl("ecmpa")
    probes = {e["ttl"]: e["from"] for e in udp_run["events"] if e["event"] == "probe"}
    assert (probes[ecmp_ttl], probes[ecmp_ttl + 1]) in path.ecmp_paths6()
    hops = _hops(udp_run["text"])
    assert len(set(hops[ecmp_ttl])) == 1 and len(set(hops[ecmp_ttl + 1])) == 1
    rc, text, err = _trace(path, "-6", "-n", "--classic", "-q", "10", "-f", str(ecmp_ttl),
                           "-m", str(ecmp_ttl), path.trace_target6)
    assert set(_hops(text)[ecmp_ttl]) == set(path.ecmp_hops6), text


def test_multipath_finds_both_routers_and_links(path: LabSpec) -> None:
    ecmp_ttl = path.trace_ttl("ecmpa")
    events = _json(path, "-6", "--multipath", "-m", str(ecmp_ttl + 1), path.trace_target6)
    mp = events[-1]["multipath"]
    at = {h["ttl"]: {i["address"] for i in h["interfaces"]} for h in mp["hops"]}
    assert at[ecmp_ttl] == set(path.ecmp_hops6)
    assert at[ecmp_ttl + 1] == set(path.nat_hops6)
    links = {(ln["from"], ln["to"]) for ln in mp["links"] if ln["from_ttl"] == ecmp_ttl}
    assert links == set(path.ecmp_paths6())


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_unreachable_prohibited_and_packet_too_big_as_traceroute(path: LabSpec) -> None:
    """r2's no-route and prohibit routes and its 1280-byte link: the same lines as
    traceroute -6 (times masked), !N, !X and !F-1280."""
    cases = [([path.unreachable_addr6], "!N"), ([path.prohibited_addr6], "!X"),
             ([path.addr6("target"), "1400"], "!F-1280")]
    for args, mark in cases:
        rc, ours, err = _trace(path, "-6", "-n", "-q", "1", *args)
        assert rc == 1, err
        # the client's kernel learnt the path MTU from the answers to our probes too: a
        # cached one would make traceroute's kernel socket fragment
        labmod.flush_pmtu(path)
        theirs = netns_run(path, "client", ["traceroute", "-6", "-n", "-q", "1",
                                            *args]).stdout
        assert _masked(ours) == _masked(theirs), (ours, theirs)
        assert ours.rstrip().endswith(mark), ours
    labmod.flush_pmtu(path)


def test_over_the_tun_hop(lab: LabSpec) -> None:
    """A raw-IP link (tun: no link layer, no NDP, no device to complete checksums): every
    method, the hops the lab says, traceroute -6's lines with times masked."""
    if "tun" in labmod.missing_features(lab):
        pytest.skip(f"the lab has no tun hop: {labmod.missing_features(lab)['tun']}")
    want = [list(h) for h in lab.tun_hops6()]
    for flag in ([], ["-I"], ["-T"]):
        rc, text, err = _trace(lab, "-6", "-n", "-q", "1", *flag, lab.tun_target6)
        assert rc == 0, err
        got = _hops(text)
        assert [got[t] for t in sorted(got)] == want, text
        if shutil.which("traceroute") is not None:
            theirs = netns_run(lab, "client", ["traceroute", "-6", "-n", "-q", "1", *flag,
                                               lab.tun_target6]).stdout
            assert _masked(text) == _masked(theirs), (text, theirs)
    rc, text, err = _trace(lab, "-6", "-n", "-q", "1", lab.tun_unreachable6)
    assert rc == 1 and text.rstrip().endswith("!N"), text


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_a_link_local_router_as_traceroute_writes_it(lab: LabSpec) -> None:
    """The client's link-local router, scoped (``fe80::1%pc0``): traceroute -6's lines."""
    target = f"{lab.gateway6}%{lab.client_iface}"
    for flag in ([], ["-I"]):
        rc, ours, err = _trace(lab, "-6", "-n", "-q", "2", *flag, target)
        assert rc == 0, err
        theirs = netns_run(lab, "client", ["traceroute", "-6", "-n", "-q", "2", *flag,
                                           target]).stdout
        assert _masked(ours) == _masked(theirs), (ours, theirs)


def test_library_api(path: LabSpec) -> None:
    code = (f"import json, pcapping; r = pcapping.trace({path.trace_target6!r}, "
            f"max_ttl={path.trace_ttl('nat')}, queries=1, method='icmp'); "
            "print(json.dumps([r.exit_status, r.events[0], r.events[-1]]))")
    proc = netns_run(path, "client", [sys.executable, "-c", code], env=repo_env(),
                     cwd=REPO_ROOT)
    status, start, summary = json.loads(proc.stdout)
    assert start["family"] == 6 and start["address"] == path.trace_target6
    assert status == 1 and summary["reached"] is False  # stopped before the destination
    assert [h["ttl"] for h in summary["hops"]] == list(range(1, path.trace_ttl("nat") + 1))
    assert summary["hops"][0]["addresses"] == [path.trace_hops6()[0][0]]


def test_write_holds_every_probe_and_answer(path: LabSpec, udp_run: dict[str, Any]) -> None:
    from pcapping import read_capture

    target = ipaddress.ip_address(path.trace_target6).packed
    frames = list(read_capture(str(udp_run["pcap"])))
    ours = [d for d in frames if d.ip6 is not None and d.ip6.dst == target
            and d.ip6.next_header == 17]
    errors = [d for d in frames if d.icmp6 is not None and d.icmp6.icmp_type in (1, 3)]
    n_hops = len(path.trace_hops6())
    assert len(ours) >= 3 * n_hops
    assert len(errors) >= 3 * (n_hops - 2)  # everyone but the silent and rate-limited


@pytest.mark.skipif(shutil.which("mtr") is None, reason="mtr not installed")
def test_report_columns_and_mtrs_hops(path: LabSpec) -> None:
    time.sleep(TOP_UP_S)
    rc, text, err = _trace(path, "-6", "-n", "-I", "--report", "-c", "2", "--interval",
                           "0.2", path.trace_target6)
    assert rc == 0, err
    lines = text.splitlines()
    assert lines[0].startswith("Start: ")
    assert lines[1].endswith("Loss%   Snt   Last   Avg  Best  Wrst StDev   p50   p99 Jttr")
    ours = [ln.split()[1] for ln in lines[2:] if re.match(r"^ +\d+\.\|-- ", ln)]
    proc = netns_run(path, "client", ["mtr", "-6", "-r", "-n", "-c", "2", "-i", "0.2",
                                      "-G", "1", path.trace_target6])
    theirs = [ln.split()[1] for ln in proc.stdout.splitlines()
              if re.match(r"^ +\d+\.\|-- ", ln)]
    assert len(ours) == len(theirs) == len(path.trace_hops6()), (text, proc.stdout)
    for ttl, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        if ttl != path.trace_ttl("ratelimit"):
            assert a == b, (ttl, text, proc.stdout)


def test_names_resolve_by_family(path: LabSpec) -> None:
    """A name with both addresses (``ip netns exec`` binds /etc/netns/NS/hosts over
    /etc/hosts): -6 traces the IPv6 one, -4 the IPv4 one; a name with only an IPv6
    address needs no flag."""
    etc = Path("/etc/netns") / path.ns("client")
    if etc.exists():
        pytest.skip(f"{etc} exists already (not ours to change)")
    try:
        etc.mkdir(parents=True)
    except OSError as exc:
        pytest.skip(f"cannot make {etc}: {exc}")
    try:
        # names from this file only: nothing may ask a name server outside the lab
        (etc / "nsswitch.conf").write_text("hosts: files\n")
        (etc / "hosts").write_text(
            f"{path.addr('r1')} both.pcapping.test\n{path.addr6('r1')} both.pcapping.test\n"
            f"{path.addr6('r1')} six.pcapping.test\n")
        for args, family, addr in (
                (["-6", "both.pcapping.test"], 6, path.addr6("r1")),
                (["-4", "both.pcapping.test"], 4, path.addr("r1")),
                (["six.pcapping.test"], 6, path.addr6("r1"))):
            events = _json(path, "-I", "-q", "1", "-m", "2", *args)
            start = events[0]
            assert (start["family"], start["address"], start["target"]) == (
                family, addr, args[-1]), events
            assert events[-1]["reached"] is True
        rc, _out, err = _trace(path, "-4", "six.pcapping.test")
        assert rc == 2 and err.count("\n") == 1 and "six.pcapping.test:" in err
    finally:
        for f in etc.iterdir():
            f.unlink()
        etc.rmdir()
        if not any(Path("/etc/netns").iterdir()):
            os.rmdir("/etc/netns")


def test_rate_limited_router_is_not_loss(path: LabSpec) -> None:
    """Last: twenty probes 10 ms apart at the rate-limited router's TTL (and the
    destination's): it answers a burst, then about one per 100 ms, while the destination
    answers all of its own; that is rate limiting, not loss."""
    time.sleep(BUCKET_REFILL_S)
    rl = path.trace_ttl("ratelimit")
    events = _json(path, "-6", "--report", "-c", "20", "--interval", "0.01", "-f", str(rl),
                   path.trace_target6)
    hops = {h["ttl"]: h for h in events[-1]["hops"]}
    hop = hops[rl]
    assert hop["addresses"] == [path.ratelimit_hop6]
    assert hop["sent"] == 20 and 1 <= hop["received"] < 20, hop
    assert hop["rate_limited"] is True and hop["loss_pct"] == 0.0, hop
    assert "not loss" in hop["note"] and "burst" in hop["note"], hop
    dest = hops[max(hops)]
    assert dest["received"] == dest["sent"] == 20 and not dest["rate_limited"]
