"""``trace -6``: the trace strategy and its reports on a simulated IPv6 path
(tests/tracenet6.py): no root, a fake clock.

What is held: NDP for the link-local router first, then traceroute's lines with IPv6
addresses byte for byte (header with 80-byte packets), the stop at the destination, each
method (Port Unreachable 1/4, echo reply 129, TCP RST), hop-limit stepping, Paris flows
(flow label, next header, ports and ICMPv6 checksum constant; classic sees both routers),
traceroute's ICMPv6 annotations (!N !X !H !F-<mtu> !<n>), Packet Too Big teaching the
path MTU and later probes leaving in fragments whose quotes diff clean, the quote diff
(NAT66 from the hop after it and not before, DSCP, a rewritten flow label, a hop limit
quoted as 0, a truncated quote), RFC 4884 extensions in ICMPv6 errors, honest loss with
IPv6's faster rate limiter, wire-clock RTT, late answers, the JSON events and summary,
mtr's report, the MDA (both routers; with a balancer hashing the flow label, ICMPv6
flows too), NDP failure as !H, and the command's family options."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from conftest import REPO_ROOT, repo_env
from tracenet6 import (
    EPOCH,
    FakePath6,
    Hop,
    a6,
    lab_like_path6,
    run_trace6,
)

from pcapping.decode import decode_frame
from pcapping.probe.mda import stopping_point
from pcapping.probe.trace import TraceOptions
from pcapping.report.trace import (
    JsonTraceReport,
    MultipathReport,
    TextTraceReport,
    TraceSummary,
    header_line,
    probe_dict,
    report_lines,
)
from pcapping.wire.ext import InterfaceInfo, MplsEntry, mpls_object

DST = a6("fd00:10:77:27::2")
DST_TEXT = "fd00:10:77:27::2"


def summary_of(s: Any, graph: Any = None) -> TraceSummary:
    return TraceSummary("dest", DST_TEXT, s.hop_list(), s.destination_reached(),
                        s.sent_count, 1.0, graph, 0.999 if graph else None)


def traced(path: FakePath6, **kw: Any) -> tuple[str, list[str], Any]:
    """traceroute's text for a run over ``path``; (stdout, notes, strategy)."""
    out: list[str] = []
    notes: list[str] = []
    rep = TextTraceReport(out.append, notes.append, verbose=kw.pop("verbose", False))
    o = TraceOptions(**{k: v for k, v in kw.items() if k in TraceOptions._fields})
    rep.start(header_line("dest", DST_TEXT, o.max_ttl, 80))
    s, _, _ = run_trace6(path, rep, **kw)
    rep.finish(summary_of(s))
    return "".join(out), notes, s


def _results(s: Any) -> list[Any]:
    return [r.result for r in s.schedule.slots if r is not None and r.result is not None]


# --- traceroute's lines ---

def test_the_lab_path_in_traceroutes_lines() -> None:
    hops, dst = lab_like_path6(nat_restore="linux")
    path = FakePath6(hops, dst)
    text, notes, s = traced(path)
    first = decode_frame(path.injected[0])
    assert first.icmp6.icmp_type == 135 and first.ip6.src == a6("fe80::2")  # NDP first
    by = {r.ttl: r.src for r in _results(s)}
    assert (by[2], by[3]) in [(a6("fd00:10:77:20::2"), a6("fd00:10:77:22::2")),
                              (a6("fd00:10:77:21::2"), a6("fd00:10:77:23::2"))]
    ecmp = "fd00:10:77:20::2" if by[2] == a6("fd00:10:77:20::2") else "fd00:10:77:21::2"
    nat = "fd00:10:77:22::2" if ecmp.endswith("20::2") else "fd00:10:77:23::2"
    assert text == (
        "traceroute to dest (fd00:10:77:27::2), 30 hops max, 80 byte packets\n"
        " 1  fd00:10:77:1::1  0.050 ms  0.050 ms  0.050 ms\n"
        f" 2  {ecmp}  0.080 ms  0.080 ms  0.080 ms\n"
        f" 3  {nat}  0.110 ms  0.110 ms  0.110 ms\n"
        " 4  fd00:10:77:24::2  0.140 ms  0.140 ms  0.140 ms\n"
        " 5  * * *\n"
        " 6  fd00:10:77:26::2 [modified: dscp]  0.200 ms  0.200 ms  0.200 ms\n"
        " 7  fd00:10:77:27::2 [modified: dscp]  0.700 ms  0.700 ms  0.700 ms\n")
    assert s.exit_status() == 0 and 21 < s.sent_count <= 21 + 16
    assert any("hop 5" in n and "never answers" in n for n in notes)
    # hop-limit stepping: each probe's hop limit is its TTL
    assert sorted({p[7] for p in path.probes}) == list(range(1, max(p[7] for p in path.probes)
                                                             + 1))


def test_every_method_reaches_the_destination() -> None:
    for method, kind, itype in (("udp", "unreachable", 1), ("icmp", "echo-reply", 129),
                                ("tcp", "tcp", None)):
        hops, dst = lab_like_path6()
        text, _, s = traced(FakePath6(hops, dst), method=method)
        assert " 7  fd00:10:77:27::2" in text, method
        last = [r for r in _results(s) if r.ttl == 7]
        assert {(r.kind, r.icmp_type) for r in last} == {(kind, itype)}, method
        assert all(r.final and r.annotation == "" for r in last)
        assert s.exit_status() == 0


def test_annotations_of_icmpv6_errors() -> None:
    for code, mark in ((0, "!N"), (1, "!X"), (3, "!H"), (2, "!H"), (5, "!<5>")):
        hops = [Hop(a6("fd00::1")), Hop(a6("fd00::2"), unreachable=(1, code))]
        text, _, s = traced(FakePath6(hops, a6("fd00::9")))
        assert text.endswith(f" 2  fd00::2  0.100 ms {mark}  0.100 ms {mark}  "
                             f"0.100 ms {mark}\n"), text
        assert s.exit_status() == 1 and s.reached_ttl == 2


def test_packet_too_big_teaches_the_mtu_and_later_probes_go_in_fragments() -> None:
    hops = [Hop(a6("fd00::1")), Hop(a6("fd00::2"), link_mtu=1280), Hop(a6("fd00::3"))]
    path = FakePath6(hops, a6("fd00::9"))
    text, _, s = traced(path, packet_len=1400, queries=1, sim=1)
    assert text.endswith(" 3  fd00::2  0.100 ms !F-1280\n"), text
    r = _results(s)[-1]
    assert (r.kind, r.icmp_type, r.mtu, r.final) == ("packet-too-big", 2, 1280, True)
    assert s.engine.path_mtu(path.dst) == 1280
    # a new trace on the same engine state: the probes leave in fragments and pass
    hops = [Hop(a6("fd00::1")), Hop(a6("fd00::2"), link_mtu=1280), Hop(a6("fd00::3"))]
    path = FakePath6(hops, a6("fd00::9"))
    from pcapping.probe import engine as engine_mod

    orig = engine_mod.Engine.__init__

    def small(self: Any, *args: Any, **kw: Any) -> None:
        orig(self, *args, **kw)
        self.pmtu[a6("fd00::9")] = 1280

    engine_mod.Engine.__init__ = small  # type: ignore[method-assign]
    try:
        text, _, s = traced(path, packet_len=1400, queries=1)
    finally:
        engine_mod.Engine.__init__ = orig  # type: ignore[method-assign]
    assert text.endswith(" 4  fd00::9  0.400 ms\n"), text
    assert all(p[6] == 44 and len(p) <= 1280 for p in path.probes)
    # the routers quoted first fragments: diffed against the first fragment we sent
    assert all(r.modified == () for r in _results(s)), [r.modified for r in _results(s)]


def test_ndp_failure_is_host_unreachable_from_us() -> None:
    hops, dst = lab_like_path6()
    path = FakePath6(hops, dst, ndp=False)
    text, _, s = traced(path, queries=1)
    assert text.endswith(" 1  fd00:10:77:1::2 !H\n"), text
    assert path.solicitations == 3 and s.exit_status() == 1


# --- Paris ---

def test_paris_one_flow_one_path_and_classic_sees_both() -> None:
    seen = set()
    for sport in range(40000, 40016):
        hops, dst = lab_like_path6()
        path = FakePath6(hops, dst)
        _, _, s = traced(path, sport=sport)
        flows = {bytes(p[1:4]) + bytes(p[6:7]) + bytes(p[40:44]) for p in path.probes}
        assert len(flows) == 1  # flow label, next header and ports never change
        assert len(set(s.hops[2].addresses)) == 1
        seen |= set(s.hops[2].addresses)
    assert seen == {a6("fd00:10:77:20::2"), a6("fd00:10:77:21::2")}
    hops, dst = lab_like_path6()
    _, _, s = traced(FakePath6(hops, dst), paris=False, queries=4)
    assert len(s.hops[2].addresses) == 2


def test_paris_icmpv6_flow_fields_are_constant_with_a_flow_label_balancer() -> None:
    hops, dst = lab_like_path6()
    path = FakePath6(hops, dst, hash_flow_label=True)
    _, _, s = traced(path, method="icmp", queries=5)
    assert len({p[1:4] + p[40:44] for p in path.probes}) == 1  # label, type, code, checksum
    assert all(len(s.hops[t].addresses) == 1 for t in (2, 3))


# --- what each hop changed ---

def _first_modified(s: Any, name: str) -> int | None:
    for ttl in sorted(s.hops):
        if name in s.hops[ttl].modified:
            return ttl
    return None


def test_nat66_flagged_from_the_hop_after_it_and_not_before() -> None:
    hops, dst = lab_like_path6(nat_restore="keep")
    _, notes, s = traced(FakePath6(hops, dst))
    assert _first_modified(s, "l4_checksum") == 4  # the NAT is hop 3
    assert all("l4_checksum" not in s.hops[t].modified for t in (1, 2, 3))
    assert "src" not in s.hops[4].modified  # the address itself was restored
    assert any("hop 4" in n and "address translator" in n for n in notes)
    # a NAT restoring a complete checksum leaves nothing to see ...
    hops, dst = lab_like_path6(nat_restore="linux")
    _, _, s = traced(FakePath6(hops, dst))
    assert _first_modified(s, "l4_checksum") is None
    # ... unless the checksum was left to the device (the lab's case): then it shows
    hops, dst = lab_like_path6(nat_restore="linux")
    _, _, s = traced(FakePath6(hops, dst), offload=True)
    assert _first_modified(s, "l4_checksum") == 4
    assert all(s.hops[t].received == 3 for t in (1, 2, 3, 4, 6, 7))
    by = {r.matched_by for r in _results(s) if r.src is not None}
    assert by == {"payload"}  # no tag in the checksum: the fixer bytes tell the probe


def test_a_nat_that_keeps_the_new_source_in_the_quote() -> None:
    hops, dst = lab_like_path6()
    hops[2].nat_restore = "none"

    orig = FakePath6._back6

    def half(self: Any, nats: Any, quote: Any) -> Any:
        return quote  # NPTv6-like: the quote keeps the outside address

    FakePath6._back6 = half  # type: ignore[method-assign]
    try:
        _, _, s = traced(FakePath6(hops, dst), verbose=True)
    finally:
        FakePath6._back6 = orig  # type: ignore[method-assign]
    assert _first_modified(s, "src") == 4
    change = next(c for r in _results(s) if r.ttl == 4 for c in r.changes if c.field == "src")
    assert (change.sent, change.quoted) == ("fd00:10:77:1::2", "fd00:10:77:24::1")


def test_dscp_and_flow_label_rewrites_and_ttl0_and_truncation() -> None:
    hops = [Hop(a6("fd00::1"), dscp=10), Hop(a6("fd00::2"), flow_label=0x55555),
            Hop(a6("fd00::3"), ttl0=True), Hop(a6("fd00::4"), quote=48)]
    text, _, s = traced(FakePath6(hops, a6("fd00::9")), queries=1, verbose=True)
    mods = {r.ttl: r.modified for r in _results(s)}
    assert mods[1] == ()
    assert mods[2] == ("dscp",)
    assert mods[3] == ("dscp", "flow_label", "ttl0")  # (it quotes a hop limit of 0)
    assert mods[4] == ("dscp", "flow_label", "truncated")
    assert "dscp 0->10" in text and "flow_label 0x12345->0x55555" in text
    hops = [Hop(a6("fd00::1"), ttl0=True)]
    _, _, s = traced(FakePath6(hops, a6("fd00::9")), queries=1)
    assert _results(s)[0].modified == ("ttl0",) and _results(s)[0].quoted_ttl == 0


def test_extensions_in_icmpv6_errors_in_text_and_json() -> None:
    info = InterfaceInfo(0, ifindex=4, address=a6("fd00::1"), name="eth1", mtu=1500)
    hops = [Hop(a6("fd00::1"), extension=[mpls_object([MplsEntry(16, 0, True, 1)]),
                                          info.to_object()]),
            Hop(a6("fd00::2"), extension=[mpls_object([MplsEntry(17, 2, True, 2)])],
                compliant=False)]
    text, _, s = traced(FakePath6(hops, a6("fd00::9")), queries=1)
    assert ' 1  fd00::1 <MPLS:L=16,E=0,S=1,T=1;INC:4,fd00::1,"eth1",mtu=1500>  0.100 ms\n' \
        in text
    assert " 2  fd00::2 <MPLS:L=17,E=2,S=1,T=2>  0.100 ms\n" in text
    r1, r2 = _results(s)[:2]
    assert r1.modified == () and r2.modified == ()  # the padding to 128 is not a change
    ev = probe_dict(r1)
    ext = ev["extensions"]
    assert ext["compliant"] and ext["checksum_ok"]
    assert ext["objects"][1]["address"] == "fd00::1" and ext["objects"][1]["name"] == "eth1"
    assert probe_dict(r2)["extensions"]["compliant"] is False


# --- timing and loss ---

def test_wire_clock_rtt_and_a_silent_hop_costs_near_times_a_later_rtt() -> None:
    hops, dst = lab_like_path6()
    path = FakePath6(hops, dst)
    start = path.now
    _, _, s = traced(path)
    r = s.schedule.slots[0].result
    assert r.rtt_us == 50 and r.ts - r.sent_ts == pytest.approx(50e-6, abs=1e-6)
    assert path.now - start < 0.05


def test_an_answer_after_its_timeout_is_late_not_an_answer() -> None:
    hops = [Hop(a6("fd00::1"), rtt_us=30_000)] + [Hop(a6(f"fd00::{i}")) for i in range(2, 9)]
    for offload in (False, True):
        text, _, s = traced(FakePath6(hops, a6("fd00::99")), sendwait_s=0.005,
                            offload=offload)
        assert " 1  * * *\n" in text
        assert s.hops[1].late == 3 and s.late == 3, offload


def test_ipv6_rate_limiting_is_not_loss() -> None:
    """Linux's IPv6 limiter: a burst of 6, then about one per 100 ms (lab.md)."""
    hops, dst = lab_like_path6(ratelimit=6)
    hops[-1].per_s = 10.0
    s, _, _ = run_trace6(FakePath6(hops, dst), mode="report", count=20, interval_s=0.02,
                         first_ttl=6)
    hop6 = summary_of(s).hop_dicts()[0]
    assert hop6["ttl"] == 6 and hop6["sent"] == 20 and 6 < hop6["received"] < 20
    assert hop6["rate_limited"] and hop6["loss_pct"] == 0.0
    assert "burst of" in hop6["note"] and "then about one every 100 ms" in hop6["note"]
    assert "not loss" in hop6["note"]
    assert not summary_of(s).hop_dicts()[1]["rate_limited"]


def test_json_probe_events_and_summary() -> None:
    hops, dst = lab_like_path6()
    events: list[dict[str, Any]] = []
    rep = JsonTraceReport(events.append)
    s, _, _ = run_trace6(FakePath6(hops, dst), rep)
    rep.finish(summary_of(s))
    probes = [e for e in events if e["event"] == "probe"]
    assert [(e["ttl"], e["probe"]) for e in probes] == [(t, n) for t in range(1, 8)
                                                         for n in (1, 2, 3)]
    assert probes[0]["from"] == "fd00:10:77:1::1" and probes[0]["type"] == 3
    assert probes[0]["code"] == 0 and probes[0]["quoted_ttl"] == 1
    assert probes[-1]["type"] == 1 and probes[-1]["code"] == 4 and probes[-1]["final"]
    assert all(e["from"] is None for e in probes if e["ttl"] == 5)
    summary = events[-1]
    assert summary["reached"] is True and summary["hops"][0]["addresses"] == [
        "fd00:10:77:1::1"]
    json.dumps(events)


def test_report_rows_with_ipv6_addresses() -> None:
    hops, dst = lab_like_path6()
    s, _, _ = run_trace6(FakePath6(hops, dst), mode="report", count=3, interval_s=0.2)
    lines = report_lines(summary_of(s), "vm")
    assert lines[1] == ("  1.|-- fd00:10:77:1::1            0.0%     3    0.1   0.1   0.1   "
                        "0.1   0.0   0.1   0.1  0.0")
    assert lines[5].startswith("  5.|-- ???")


def test_mda_finds_both_routers_and_their_links() -> None:
    hops, dst = lab_like_path6()
    out: list[str] = []
    rep = MultipathReport(out.append, lambda t: None)
    s, _, _ = run_trace6(FakePath6(hops, dst), rep, mode="multipath")
    graph = s.schedule.graph()
    assert set(graph["hops"][2]) == {a6("fd00:10:77:20::2"), a6("fd00:10:77:21::2")}
    assert set(graph["hops"][3]) == {a6("fd00:10:77:22::2"), a6("fd00:10:77:23::2")}
    links = set(graph["links"])
    assert (2, a6("fd00:10:77:20::2"), 3, a6("fd00:10:77:22::2")) in links
    assert (2, a6("fd00:10:77:20::2"), 3, a6("fd00:10:77:23::2")) not in links
    assert sum(len(f) for f in graph["hops"][2].values()) >= stopping_point(2, 0.001)
    rep.finish(summary_of(s, graph))
    assert " 2  fd00:10:77:2" in "".join(out)


def test_mda_icmpv6_flows_differ_by_flow_label() -> None:
    hops, dst = lab_like_path6()
    s, _, _ = run_trace6(FakePath6(hops, dst, hash_flow_label=True), mode="multipath",
                         method="icmp", max_ttl=3)
    graph = s.schedule.graph()
    assert set(graph["hops"][2]) == {a6("fd00:10:77:20::2"), a6("fd00:10:77:21::2")}


# --- the command ---

def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pcapping", "trace", *argv],
                          capture_output=True, text=True, env=repo_env(), cwd=REPO_ROOT,
                          timeout=60)


@pytest.mark.parametrize(("argv", "words"), [
    (["-4", "-6", "fd00::1"], "-4 and -6 cannot be used together"),
    (["-6", "-l", "1048576", "fd00::1"], "bad flow label 1048576"),
    (["-l", "x", "fd00::1"], "invalid number"),
])
def test_bad_input_is_one_line_and_status_2(argv: list[str], words: str) -> None:
    proc = _cli(*argv)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_resolve_by_family() -> None:
    from pcapping.errors import PcappingError
    from pcapping.trace import resolve, resolve_scoped

    assert resolve("fd00::1", 0) == a6("fd00::1") == resolve("fd00::1", 6)
    assert resolve("10.0.0.1", 0) == bytes([10, 0, 0, 1])
    assert resolve_scoped("fe80::1%lo", 6) == (a6("fe80::1"), "lo")
    with pytest.raises(PcappingError):
        resolve("fd00::1", 4)
    assert EPOCH  # (the fake clock's epoch, shared with the IPv4 tests)


def test_names_take_the_first_answers_family(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without -4/-6 a name is traced in the family of getaddrinfo's first answer (as
    ``send`` picks); -4/-6 ask for that family only.  (No resolver is asked here.)"""
    import socket

    from pcapping.trace import resolve

    asked: list[int] = []

    def fake(host: str, port: Any, family: int, kind: int, *rest: int) -> list[Any]:
        asked.append(family)
        six = (socket.AF_INET6, kind, 17, "", ("fd00::5", 0, 0, 0))
        four = (socket.AF_INET, kind, 17, "", ("10.0.0.5", 0))
        return {socket.AF_UNSPEC: [six, four], socket.AF_INET6: [six],
                socket.AF_INET: [four]}[family]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert resolve("dual.test", 0) == a6("fd00::5")
    assert resolve("dual.test", 4) == bytes([10, 0, 0, 5])
    assert resolve("dual.test", 6) == a6("fd00::5")
    assert asked == [socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6]


def test_the_run_ends_when_its_last_probe_is_done() -> None:
    """No idle wait after the last answer (the fake clock counts every wait): a trace
    stopped by -m ends within the answers' own time."""
    hops, dst = lab_like_path6()
    path = FakePath6(hops, dst)
    start = path.now
    _, _, s = traced(path, max_ttl=2, queries=1)
    assert s.sent_count == 2 and path.now - start < 0.01


def test_cut_and_damaged_answers_never_raise() -> None:
    """Every answer of a run, cut at every length and with bytes flipped, handed to a
    strategy with probes in flight: extension headers walked, lengths checked, nothing
    raised (a damaged answer is just not an answer)."""
    import random

    from pcapping.probe.engine import Frame

    for method in ("udp", "icmp", "tcp"):
        hops, dst = lab_like_path6()
        info = InterfaceInfo(0, ifindex=4, address=a6("fd00::1"), name="eth1", mtu=1500)
        hops[0].extension = [mpls_object([MplsEntry(16, 0, True, 1)]), info.to_object()]
        path = FakePath6(hops, dst)
        answers: list[bytes] = []
        orig = path._queue

        def keep(when: float, frame: bytes, orig: Any = orig,
                 answers: list[bytes] = answers) -> None:
            if frame[:6] == bytes.fromhex("020000000002"):  # to us
                answers.append(frame)
            orig(when, frame)

        path._queue = keep  # type: ignore[method-assign]
        _, _, s = traced(path, method=method)
        # a fresh run's strategy, its probes sent again and still waiting
        s2, _, _ = run_trace6(FakePath6(*lab_like_path6()), method=method, max_ttl=1,
                              queries=1)
        for rec in s.schedule.slots:
            if rec is not None and rec.sent is not None:
                rec.done = False
                s2.tags.live[rec.tag] = rec
        rnd = random.Random(6)
        for frame in answers:
            for cut in range(len(frame)):
                s2.on_frame(Frame(frame[:cut], 1, 0, 1))
            for _ in range(40):
                bad = bytearray(frame)
                for _ in range(rnd.randint(1, 4)):
                    bad[rnd.randrange(14, len(bad))] = rnd.randrange(256)
                s2.on_frame(Frame(bytes(bad), 1, 0, 1))
        assert answers, method
        # (quotes cut after the transport header's first 8 bytes still told their probes)
        assert sum(h.received for h in s2.hops.values()) > 1, method


def test_dont_fragment_and_too_big_for_the_link_is_a_local_mark() -> None:
    """-F with a probe larger than the link's MTU: nothing is sent, each probe is marked
    !F-<mtu> here and the trace stops, as traceroute -F does on EMSGSIZE (IPv4 alike)."""
    hops, dst = lab_like_path6()
    path = FakePath6(hops, dst)
    text, _, s = traced(path, packet_len=1600, dont_fragment=True)
    assert text.endswith(" 1  * !F-1500 * !F-1500 * !F-1500\n"), text
    assert path.probes == [] and s.exit_status() == 1
    # below the MTU, -F sends whole datagrams: no Fragment header ever
    hops = [Hop(a6("fd00::1")), Hop(a6("fd00::2"), link_mtu=1280), Hop(a6("fd00::3"))]
    path = FakePath6(hops, a6("fd00::9"))
    text, _, s = traced(path, packet_len=1400, dont_fragment=True, queries=1)
    assert text.endswith(" 3  fd00::2  0.100 ms !F-1280\n")
    assert all(p[6] != 44 for p in path.probes)
