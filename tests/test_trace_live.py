"""``pcapping trace`` in the lab's trace path, beside the kernel's traceroute and mtr.

Every address comes from the ``LabSpec`` (``trace_hops()``, ``trace_ttl()``, ...), never
from literals: the same tests must hold on a path with other names, addresses and hop
counts.  What is held: each TTL answered by the addresses the lab says (``* * *`` at the
silent router), the destination reached with UDP, ICMP and TCP probes, traceroute's
line format, the same hops as ``traceroute`` sending our very flow, Paris (one path per
run) against classic (both routers), ``--multipath`` finding both routers at the ECMP and
NAT TTLs with their links, the NAT flagged (UDP: the quoted checksum) from the hop after
it and not before, the DSCP rewrite likewise, the rate-limited router not reported as
loss, mtr's report columns and hops beside mtr's own, the pcap written by ``--write``,
and ``pcapping.trace()``.

The ``ratelimit`` router's bucket (a burst of 6, one answer a second, per destination:
everything behind the NAT is one destination) is shared with every test that reaches
it, so the module waits for it to fill once, spends it knowingly (single-probe runs
where a test does not need more), and keeps the test that empties it for last.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import sys
import time
from typing import Any

import pytest
from conftest import REPO_ROOT, netns_run, repo_env

from pcapping import lab as labmod
from pcapping.lab import LabSpec

pytestmark = pytest.mark.live

BUCKET_REFILL_S = 6.0  # Linux: a burst of 6 tokens, one a second (icmp_ratelimit 1000 ms)
LINE = re.compile(r"^[ \d]\d (?: \*| \d+\.\d+\.\d+\.\d+(?: <[^>]*>)?(?: \[modified: [a-z0-9_,]+\])?"
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


@pytest.fixture(scope="module")
def path(lab: LabSpec) -> LabSpec:
    """The lab, with every trace-path feature there and the rate limiter's bucket full."""
    missing = labmod.missing_features(lab)
    for feature in ("nat", "dscp", "silent"):
        if feature in missing:
            pytest.skip(f"the lab has no {feature} router: {missing[feature]}")
    time.sleep(BUCKET_REFILL_S)
    return lab


@pytest.fixture(scope="module")
def udp_run(path: LabSpec, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One default trace (UDP, Paris, 3 probes a hop) as text and as JSON at once: the
    text run writes a pcap, the JSON one is a second run of the same path."""
    pcap = tmp_path_factory.mktemp("trace") / "trace.pcap"
    rc, text, err = _trace(path, "-n", "--write", str(pcap), path.trace_target)
    events = _json(path, "-q", "1", path.trace_target)
    return {"rc": rc, "text": text, "err": err, "events": events, "pcap": pcap}


def _check_hops(lab: LabSpec, hops: dict[int, list[str]], text: str) -> None:
    expected = lab.trace_hops()
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
    assert set(hops[len(expected)]) == {lab.trace_target}


def test_default_trace_every_hop_in_traceroutes_format(path: LabSpec,
                                                       udp_run: dict[str, Any]) -> None:
    text = udp_run["text"]
    assert udp_run["rc"] == 0, udp_run["err"]
    lines = text.splitlines()
    assert lines[0] == (f"traceroute to {path.trace_target} ({path.trace_target}), "
                        "30 hops max, 60 byte packets")
    for line in lines[1:]:
        assert LINE.match(line), line
    hops = _hops(text)
    _check_hops(path, hops, text)
    assert lines[path.trace_ttl("silent")] == f"{path.trace_ttl('silent'):2d}  * * *"
    # traceroute prints an address again only when it changes: Paris keeps one per hop
    for line in lines[1:]:
        assert len(re.findall(r"\d+\.\d+\.\d+\.\d+", line)) <= 1, line


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="traceroute not installed")
def test_same_hops_as_traceroute_on_the_same_flow(path: LabSpec,
                                                  udp_run: dict[str, Any]) -> None:
    start = udp_run["events"][0]
    sport, dport = start["sport"], start["dport"]
    proc = netns_run(path, "client", ["traceroute", "-n", "-U", f"--sport={sport}", "-p",
                                      str(dport), "-q", "1", path.trace_target])
    theirs = _hops(proc.stdout)
    ours = {e["ttl"]: e["from"] or "*" for e in udp_run["events"] if e["event"] == "probe"}
    assert sorted(theirs) == sorted(ours), proc.stdout
    for ttl, addr in ours.items():
        if ttl != path.trace_ttl("ratelimit"):  # (either may meet an empty bucket there)
            assert theirs[ttl] == [addr], (ttl, proc.stdout)


def _masked(text: str, skip_ttl: int) -> list[str]:
    """Lines without their times and pcapping's annotations, the ``skip_ttl`` line out."""
    out = []
    for line in text.splitlines():
        if line[:2].strip() == str(skip_ttl):
            continue
        line = re.sub(r"\d+\.\d{3} ms", "T ms", line)
        out.append(re.sub(r" \[modified: [a-z0-9_,]+\]", "", line))
    return out


def test_icmp_and_tcp_reach_the_destination(path: LabSpec) -> None:
    texts = {}
    for flag in ("-I", "-T"):
        rc, text, err = _trace(path, "-n", flag, "-q", "1", path.trace_target)
        assert rc == 0, err
        _check_hops(path, _hops(text), text)
        texts[flag] = text
    if shutil.which("traceroute") is not None:
        # every ICMP flow takes the same path here: traceroute -I prints the same lines
        theirs = netns_run(path, "client", ["traceroute", "-n", "-I", "-q", "1",
                                            path.trace_target]).stdout
        rl = path.trace_ttl("ratelimit")
        assert _masked(texts["-I"], rl) == _masked(theirs, rl), (texts["-I"], theirs)


def test_json_probe_events_and_summary(path: LabSpec, udp_run: dict[str, Any]) -> None:
    events = udp_run["events"]
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary"
    probes = [e for e in events if e["event"] == "probe"]
    n_hops = len(path.trace_hops())
    assert [(e["ttl"], e["probe"]) for e in probes] == [(t, 1) for t in range(1, n_hops + 1)]
    for e in probes:
        assert {"ttl", "probe", "from", "rtt_ms", "type", "code", "modified"} <= set(e)
        if e["from"] is not None:
            assert e["rtt_ms"] > 0 and e["rtt_ms"] < 50
            # wire clock at both ends: the RTT is the two capture timestamps' difference
            assert abs(e["rtt_ms"] - (e["ts"] - e["sent_ts"]) * 1000) < 0.002
    last = probes[-1]
    assert (last["from"], last["type"], last["code"], last["final"]) == (
        path.trace_target, 3, 3, True)
    summary = events[-1]
    assert summary["reached"] is True and len(summary["hops"]) == n_hops
    assert summary["hops"][-1]["reached"] is True
    silent = summary["hops"][path.trace_ttl("silent") - 1]
    assert silent["received"] == 0 and silent["silent"] and silent["addresses"] == []


def test_nat_and_dscp_flagged_from_where_they_show(path: LabSpec,
                                                   udp_run: dict[str, Any]) -> None:
    probes = [e for e in udp_run["events"] if e["event"] == "probe"]
    nat_ttl, dscp_ttl = path.trace_ttl("nat"), path.trace_ttl("dscp")
    modified = {e["ttl"]: set(e["modified"]) for e in probes if e["from"] is not None}
    # the NAT masquerades what it forwards: the first hop after it shows it, none before
    assert all("l4_checksum" not in modified[t] for t in modified if t <= nat_ttl)
    assert "l4_checksum" in modified[nat_ttl + 1]
    assert all("l4_checksum" in modified[t] for t in modified if t > nat_ttl)
    assert all("src" not in m for m in modified.values())  # Linux restores the address
    # the DSCP rewrite shows from the first answering hop after the rewriting router
    assert all("dscp" not in modified[t] for t in modified if t <= dscp_ttl)
    after = min(t for t in modified if t > dscp_ttl)
    assert "dscp" in modified[after]
    change = next(c for e in probes if e["ttl"] == after for c in e["changes"]
                  if c["field"] == "dscp")
    assert (change["sent"], change["quoted"]) == (0, path.dscp_value)
    text = udp_run["text"]
    assert f"{path.trace_ttl('dscp'):2d}  {path.dscp_hop} [modified: l4_checksum]" in text


def test_paris_one_path_per_run_classic_sees_both(path: LabSpec,
                                                  udp_run: dict[str, Any]) -> None:
    ecmp_ttl = path.trace_ttl("ecmpa")
    probes = {e["ttl"]: e["from"] for e in udp_run["events"] if e["event"] == "probe"}
    assert (probes[ecmp_ttl], probes[ecmp_ttl + 1]) in path.ecmp_paths()
    hops = _hops(udp_run["text"])
    assert len(set(hops[ecmp_ttl])) == 1 and len(set(hops[ecmp_ttl + 1])) == 1
    rc, text, err = _trace(path, "-n", "--classic", "-q", "10", "-f", str(ecmp_ttl), "-m",
                           str(ecmp_ttl), path.trace_target)
    assert set(_hops(text)[ecmp_ttl]) == set(path.ecmp_hops), text


def test_multipath_finds_both_routers_and_links(path: LabSpec) -> None:
    ecmp_ttl = path.trace_ttl("ecmpa")
    events = _json(path, "--multipath", "-m", str(ecmp_ttl + 1), path.trace_target)
    mp = events[-1]["multipath"]
    at = {h["ttl"]: {i["address"] for i in h["interfaces"]} for h in mp["hops"]}
    assert at[ecmp_ttl] == set(path.ecmp_hops)
    assert at[ecmp_ttl + 1] == set(path.nat_hops)
    links = {(ln["from"], ln["to"]) for ln in mp["links"] if ln["from_ttl"] == ecmp_ttl}
    assert links == set(path.ecmp_paths())
    flows_at_ecmp = sum(len(i["flows"]) for h in mp["hops"] if h["ttl"] == ecmp_ttl
                        for i in h["interfaces"])
    assert flows_at_ecmp >= 20  # the 99.9% stopping point having seen two interfaces


def test_library_api(path: LabSpec) -> None:
    code = (f"import json, pcapping; r = pcapping.trace({path.trace_target!r}, "
            f"max_ttl={path.trace_ttl('nat')}, queries=1); "
            "print(json.dumps([r.exit_status, r.events[-1]]))")
    proc = netns_run(path, "client", [sys.executable, "-c", code], env=repo_env(),
                     cwd=REPO_ROOT)
    status, summary = json.loads(proc.stdout)
    assert status == 1 and summary["reached"] is False  # stopped before the destination
    assert [h["ttl"] for h in summary["hops"]] == list(range(1, path.trace_ttl("nat") + 1))


def test_write_holds_every_probe_and_answer(path: LabSpec, udp_run: dict[str, Any]) -> None:
    from pcapping import read_capture

    frames = list(read_capture(str(udp_run["pcap"])))
    ours = [d for d in frames if d.ip is not None and d.ip.dst == bytes(
        ipaddress.ip_address(path.trace_target).packed) and d.ip.protocol == 17]
    errors = [d for d in frames if d.icmp is not None and d.ip is not None
              and d.ip.protocol == 1]
    n_hops = len(path.trace_hops())
    assert len(ours) >= 3 * n_hops
    assert len(errors) >= 3 * (n_hops - 2)  # everyone but the silent and rate-limited


@pytest.mark.skipif(shutil.which("mtr") is None, reason="mtr not installed")
def test_report_columns_and_mtrs_hops(path: LabSpec) -> None:
    rc, text, err = _trace(path, "-n", "-I", "--report", "-c", "2", "--interval", "0.2",
                           path.trace_target)
    assert rc == 0, err
    lines = text.splitlines()
    assert lines[0].startswith("Start: ")
    assert lines[1].endswith("Loss%   Snt   Last   Avg  Best  Wrst StDev   p50   p99 Jttr")
    ours = [ln.split()[1] for ln in lines[2:] if re.match(r"^ +\d+\.\|-- ", ln)]
    proc = netns_run(path, "client", ["mtr", "-r", "-n", "-c", "2", "-i", "0.2",
                                      path.trace_target])
    theirs = [ln.split()[1] for ln in proc.stdout.splitlines() if re.match(r"^ +\d+\.\|-- ", ln)]
    assert len(ours) == len(theirs) == len(path.trace_hops())
    for ttl, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        if ttl != path.trace_ttl("ratelimit"):
            assert a == b, (ttl, text, proc.stdout)


def test_rate_limited_router_is_not_loss(path: LabSpec) -> None:
    """Last: a burst of ten probes at the rate-limited router's TTL (and the
    destination's): it answers a burst, later probes go unanswered while the destination
    answers all of its own; that is rate limiting, not loss."""
    time.sleep(BUCKET_REFILL_S)
    rl = path.trace_ttl("ratelimit")
    events = _json(path, "--report", "-c", "10", "--interval", "0.05", "-f", str(rl),
                   path.trace_target)
    hops = {h["ttl"]: h for h in events[-1]["hops"]}
    hop = hops[rl]
    assert hop["addresses"] == [path.ratelimit_hop]
    assert hop["sent"] == 10 and 1 <= hop["received"] < 10, hop
    assert hop["rate_limited"] is True and hop["loss_pct"] == 0.0, hop
    assert "not loss" in hop["note"] and "burst" in hop["note"], hop
    dest = hops[max(hops)]
    assert dest["received"] == dest["sent"] == 10 and not dest["rate_limited"]


def test_text_notes_say_why(path: LabSpec) -> None:
    """(After the bucket was emptied) the text trace's notes on stderr: the silent router,
    and the rate-limited one when it answers part of its probes."""
    rc, _text, err = _trace(path, "-n", "-q", "1", path.trace_target)
    assert rc == 0
    assert f"hop {path.trace_ttl('silent')} (*): never answers" in err
