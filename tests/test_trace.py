"""The trace strategy and its reports on a simulated path (tests/tracenet.py): no root.

What is held: traceroute's lines byte for byte, the stop at the destination, each method,
Paris flows (one path per trace through an ECMP pair; classic sees both), the diff of the
quotes (NAT from the hop after it and not before, DSCP likewise), extensions in text and
JSON, honest loss (rate limiting and silent hops), traceroute's timeouts (a silent hop
costs NEAR times a later hop's RTT), mtr's report layout, the MDA's stopping points, and
the command's one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from conftest import REPO_ROOT, repo_env
from tracenet import (
    EPOCH,
    FakePath,
    Hop,
    a,
    flow_hash,
    lab_like_path,
    run_trace,
)

from pcapping.probe.hopstats import HopStats, verdicts
from pcapping.probe.mda import stopping_point
from pcapping.probe.trace import TraceOptions, annotation
from pcapping.report.trace import (
    JsonTraceReport,
    MtrReport,
    MultipathReport,
    TextTraceReport,
    TraceSummary,
    header_line,
    probe_dict,
    report_lines,
)
from pcapping.wire.ext import InterfaceInfo, MplsEntry, mpls_object

DST = a("10.77.27.2")


def traced(path: FakePath, **kw: Any) -> tuple[str, list[str], Any]:
    """traceroute's text for a run over ``path``; (stdout, notes, strategy)."""
    out: list[str] = []
    notes: list[str] = []
    rep = TextTraceReport(out.append, notes.append, verbose=kw.pop("verbose", False))
    o = TraceOptions(**{k: v for k, v in kw.items() if k in TraceOptions._fields})
    rep.start(header_line("dest", "10.77.27.2", o.max_ttl, 60))
    s, _, _ = run_trace(path, rep, **kw)
    rep.finish(summary_of(s))
    return "".join(out), notes, s


def summary_of(s: Any, graph: Any = None) -> TraceSummary:
    return TraceSummary("dest", "10.77.27.2", s.hop_list(), s.destination_reached(),
                        s.sent_count, 1.0, graph, 0.999 if graph else None)


# --- traceroute's lines ---

def test_the_lab_path_in_traceroutes_lines() -> None:
    hops, dst = lab_like_path(nat_restore="linux")
    text, notes, s = traced(FakePath(hops, dst))
    flow = flow_hash(s.builder.build(1, 1).datagram)
    ecmp = "10.77.20.2" if flow % 2 == 0 else "10.77.21.2"
    nat = "10.77.22.2" if flow % 2 == 0 else "10.77.23.2"
    assert text == (
        "traceroute to dest (10.77.27.2), 30 hops max, 60 byte packets\n"
        " 1  10.77.1.1  0.050 ms  0.050 ms  0.050 ms\n"
        f" 2  {ecmp}  0.080 ms  0.080 ms  0.080 ms\n"
        f" 3  {nat}  0.110 ms  0.110 ms  0.110 ms\n"
        " 4  10.77.24.2  0.140 ms  0.140 ms  0.140 ms\n"
        " 5  * * *\n"
        " 6  10.77.26.2 [modified: dscp]  0.200 ms  0.200 ms  0.200 ms\n"
        " 7  10.77.27.2 [modified: dscp]  0.700 ms  0.700 ms  0.700 ms\n")
    assert s.exit_status() == 0 and 21 < s.sent_count <= 21 + 16  # -N 16: a few beyond
    assert any("hop 5" in n and "never answers" in n for n in notes)


def test_stops_at_the_destination_and_prints_nothing_beyond() -> None:
    text, _, s = traced(FakePath([Hop(a("10.0.0.1"))], a("10.0.9.9")), max_ttl=30)
    assert text.count("\n") == 3 and text.endswith(" 2  10.0.9.9  0.200 ms  0.200 ms  0.200 ms\n")
    assert s.reached_ttl == 2


def test_every_method_reaches_the_destination() -> None:
    for method in ("udp", "icmp", "tcp"):
        hops, dst = lab_like_path()
        text, _, s = traced(FakePath(hops, dst), method=method)
        assert " 7  10.77.27.2" in text, method
        kinds = {ev.kind for ev in [r.result for r in s.schedule.slots if r and r.result]}
        final = {"udp": "unreachable", "icmp": "echo-reply", "tcp": "tcp"}[method]
        assert final in kinds and s.exit_status() == 0


def test_address_printed_again_only_when_it_changes() -> None:
    # classic traceroute: the flow changes every probe, so an ECMP pair alternates
    hops, dst = lab_like_path()
    text, _, _ = traced(FakePath(hops, dst), paris=False)
    line2 = text.splitlines()[2]
    assert line2.count("10.77.2") >= 2 or "10.77.20.2" in line2
    # a silent probe between two answers from one address: printed again after the *
    hop = Hop(a("10.0.0.1"), burst=1, per_s=0.0)
    text, _, _ = traced(FakePath([Hop(a("10.0.0.5")), hop], a("10.0.9.9")), queries=3)
    assert " 2  10.0.0.1  0.100 ms * *\n" in text


def test_annotations_after_the_time() -> None:
    assert [annotation(3, c, 1280) for c in (0, 1, 2, 3, 4, 5, 9, 13, 14, 15, 99)] == [
        "!N", "!H", "!P", "", "!F-1280", "!S", "!X", "!X", "!V", "!C", "!<99>"]
    assert annotation(11, 0, None) is None and annotation(11, 1, None) == "!<11-1>"
    assert annotation(12, 0, None) == "!<12-0>"
    hops = [Hop(a("10.0.0.1")), Hop(a("10.0.0.2"), unreachable=(3, 1))]
    text, _, s = traced(FakePath(hops, a("10.0.9.9")))
    assert text.endswith(" 2  10.0.0.2  0.100 ms !H  0.100 ms !H  0.100 ms !H\n")
    assert s.exit_status() == 1  # stopped there, the destination never answered
    hops = [Hop(a("10.0.0.1"), unreachable=(3, 4), mtu=1280)]
    text, _, _ = traced(FakePath(hops, a("10.0.9.9")), queries=1)
    assert text.endswith(" 1  10.0.0.1  0.100 ms !F-1280\n")


class _AnswersLate(Hop):
    """A router that drops its first answers (to the first probes it sees)."""

    skip = 2

    def allow(self, now: float) -> bool:
        if self.skip:
            self.skip -= 1
            return False
        return True


def test_a_late_final_answer_takes_an_expired_probes_place() -> None:
    """traceroute's check_expired: unreachables that answer only the latest probes are
    moved into the expired slots before them, and the trace ends at that hop."""
    hops = [Hop(a("10.0.0.1")), _AnswersLate(a("10.0.0.2"), unreachable=(3, 1))]
    text, _, s = traced(FakePath(hops, a("10.0.9.9")))
    assert text.endswith(" 2  10.0.0.2  0.100 ms !H  0.100 ms !H  0.100 ms !H\n"), text
    assert s.reached_ttl == 2 and s.hops[2].received == 3
    moved = [r.result.moved_from for r in s.schedule.slots[3:6]]
    assert moved == [2, 3, 3]  # (the third probe's answer, then two from TTL 3)


def test_silent_hop_costs_near_times_a_later_rtt() -> None:
    hops, dst = lab_like_path()
    path = FakePath(hops, dst)
    start = path.now
    traced(path)
    # the silent hop's probes expire (0.2 ms + 1 ms) x 10 after sending, not after 5 s
    assert path.now - start < 0.05


def test_wire_clock_rtt_from_departure_to_answer() -> None:
    hops, dst = lab_like_path()
    _, _, s = traced(FakePath(hops, dst))
    r = s.schedule.slots[0].result
    assert r.rtt_us == 50 and r.sent_ts is not None
    assert r.ts - r.sent_ts == pytest.approx(50e-6, abs=1e-6)


def test_an_answer_after_its_timeout_is_late_not_an_answer() -> None:
    hops = [Hop(a("10.0.0.1"), rtt_us=30_000)] + [Hop(a(f"10.0.0.{i}")) for i in range(2, 9)]
    text, _, s = traced(FakePath(hops, a("10.0.9.9")), sendwait_s=0.005)
    assert " 1  * * *\n" in text  # given up after 10 x (0.1 + 1) ms: NEAR, hop 2's RTT
    assert s.hops[1].late == 3 and s.late == 3
    assert summary_of(s).hop_dicts()[0]["late"] == 3


def test_first_ttl_queries_and_max_hops() -> None:
    hops, dst = lab_like_path(nat_restore="linux")
    text, _, s = traced(FakePath(hops, dst), first_ttl=3, queries=1, max_ttl=5)
    assert text.splitlines()[1:] == [" 3  10.77.22.2  0.110 ms" if "22.2" in text
                                     else " 3  10.77.23.2  0.110 ms",
                                     " 4  10.77.24.2  0.140 ms", " 5  *"]
    assert s.exit_status() == 1


def test_extensions_in_text_and_json() -> None:
    info = InterfaceInfo(0, ifindex=4, address=a("10.0.0.1"), name="eth1", mtu=1500)
    hops = [Hop(a("10.0.0.1"), extension=[mpls_object([MplsEntry(16, 0, True, 1)]),
                                          info.to_object()]),
            Hop(a("10.0.0.2"), extension=[mpls_object([MplsEntry(17, 2, True, 2)])],
                compliant=False)]
    text, _, s = traced(FakePath(hops, a("10.0.9.9")), queries=1)
    assert ' 1  10.0.0.1 <MPLS:L=16,E=0,S=1,T=1;INC:4,10.0.0.1,"eth1",mtu=1500>  0.100 ms\n' \
        in text
    assert " 2  10.0.0.2 <MPLS:L=17,E=2,S=1,T=2>  0.100 ms\n" in text
    ev = probe_dict(s.schedule.slots[0].result)
    ext = ev["extensions"]
    assert ext["compliant"] and ext["checksum_ok"]
    assert ext["objects"][0]["mpls"] == [{"label": 16, "tc": 0, "s": 1, "ttl": 1}]
    assert ext["objects"][1]["name"] == "eth1" and ext["objects"][1]["mtu"] == 1500
    assert probe_dict(s.schedule.slots[1].result)["extensions"]["compliant"] is False


# --- Paris ---

def test_paris_one_flow_one_path_and_classic_sees_both() -> None:
    seen = set()
    for sport in range(40000, 40016):
        hops, dst = lab_like_path()
        path = FakePath(hops, dst)
        _, _, s = traced(path, sport=sport)
        flows = {bytes(p[9:10] + p[20:24]) for p in path.probes}
        assert len(flows) == 1  # protocol and ports never change
        at2 = set(s.hops[2].addresses)
        assert len(at2) == 1
        seen |= at2
    assert seen == {a("10.77.20.2"), a("10.77.21.2")}  # different runs, different flows
    hops, dst = lab_like_path()
    _, _, s = traced(FakePath(hops, dst), paris=False, queries=4)
    assert len(s.hops[2].addresses) == 2


def test_paris_icmp_flow_fields_are_constant() -> None:
    hops, dst = lab_like_path()
    path = FakePath(hops, dst)
    traced(path, method="icmp")
    assert len({p[20:24] for p in path.probes}) == 1  # type, code and checksum


# --- what each hop changed ---

def _first_modified(s: Any, name: str) -> int | None:
    for ttl in sorted(s.hops):
        if name in s.hops[ttl].modified:
            return ttl
    return None


def test_nat_flagged_from_the_hop_after_it_and_not_before() -> None:
    hops, dst = lab_like_path(nat_restore="keep")
    _, notes, s = traced(FakePath(hops, dst))
    assert _first_modified(s, "l4_checksum") == 4  # the NAT is hop 3
    assert all("l4_checksum" not in s.hops[t].modified for t in (1, 2, 3))
    assert "src" not in s.hops[4].modified  # the address itself was restored
    assert any("hop 4" in n and "address translator" in n for n in notes)
    # a NAT that restores the whole quote (Linux, full checksums) leaves nothing to see
    hops, dst = lab_like_path(nat_restore="linux")
    _, _, s = traced(FakePath(hops, dst))
    assert _first_modified(s, "l4_checksum") is None


def test_dscp_flagged_after_the_rewriting_hop() -> None:
    hops, dst = lab_like_path()
    text, _, s = traced(FakePath(hops, dst), verbose=True)
    assert _first_modified(s, "dscp") == 6  # hop 4 rewrites, hop 5 is silent
    assert "dscp 0->8" in text


def test_a_rewritten_ip_id_still_identifies_the_probe() -> None:
    hops = [Hop(a("10.0.0.1"), ip_id=0x7777), Hop(a("10.0.0.2")), Hop(a("10.0.0.3"))]
    for method in ("udp", "icmp"):
        _, _, s = traced(FakePath(hops, a("10.0.9.9")), method=method)
        assert all(s.hops[t].received == 3 for t in (1, 2, 3, 4)), method
        assert "ip_id" not in s.hops[1].modified
        assert s.hops[2].modified.get("ip_id") == 3
        by = {r.result.matched_by for r in s.schedule.slots if r and r.result and r.result.src}
        assert by & {"checksum", "icmp_seq"}, (method, by)
    # checksums left to the device say nothing: the payload bytes that make them do
    _, _, s = traced(FakePath(hops, a("10.0.9.9")), offload=True)
    assert all(s.hops[t].received == 3 for t in (1, 2, 3, 4))
    by = {r.result.matched_by for r in s.schedule.slots if r and r.result and r.result.src}
    assert "payload" in by


def test_truncated_quote_and_ttl0() -> None:
    hops = [Hop(a("10.0.0.1"), quote=28), Hop(a("10.0.0.2"), ttl0=True)]
    _, _, s = traced(FakePath(hops, a("10.0.9.9")), queries=1)
    r1, r2 = s.schedule.slots[0].result, s.schedule.slots[1].result
    assert r1.modified == ("truncated",) and r2.modified == ("ttl0",)
    assert [(c.sent, c.quoted) for c in r1.changes] == [(60, 28)]


def test_json_probe_events_and_summary() -> None:
    hops, dst = lab_like_path()
    events: list[dict[str, Any]] = []
    rep = JsonTraceReport(events.append)
    s, _, _ = run_trace(FakePath(hops, dst), rep)
    rep.finish(summary_of(s))
    probes = [e for e in events if e["event"] == "probe"]
    assert [(e["ttl"], e["probe"]) for e in probes] == [(t, n) for t in range(1, 8)
                                                         for n in (1, 2, 3)]
    for e in probes:
        assert {"ttl", "probe", "from", "rtt_ms", "type", "code", "modified"} <= set(e)
    silent = [e for e in probes if e["ttl"] == 5]
    assert all(e["from"] is None and e["rtt_ms"] is None for e in silent)
    assert probes[0]["type"] == 11 and probes[0]["code"] == 0 and probes[0]["rtt_ms"] == 0.05
    assert probes[-1]["type"] == 3 and probes[-1]["code"] == 3 and probes[-1]["final"]
    summary = events[-1]
    assert summary["event"] == "summary" and summary["reached"] is True
    hop = summary["hops"][0]
    for key in ("ttl", "addresses", "sent", "received", "loss_pct", "rate_limited",
                "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_p50_ms", "rtt_p99_ms"):
        assert key in hop
    assert summary["hops"][-1]["reached"] is True and summary["hops"][0]["reached"] is False
    assert summary["hops"][4]["loss_pct"] == 100.0 and summary["hops"][4]["silent"]
    json.dumps(events)  # numbers as numbers, everything serialisable


# --- honest loss ---

def test_rate_limiting_is_not_loss() -> None:
    hops, dst = lab_like_path(ratelimit=6)
    hops[-1].per_s = 1.0
    s, _, _ = run_trace(FakePath(hops, dst), queries=10)
    summary = summary_of(s)
    hop6 = summary.hop_dicts()[5]
    assert (hop6["sent"], hop6["received"]) == (10, 6)
    assert hop6["rate_limited"] and hop6["loss_pct"] == 0.0 and hop6["unanswered"] == 4
    assert "burst of 6" in hop6["note"] and "not loss" in hop6["note"]
    assert not summary.hop_dicts()[6]["rate_limited"]


def test_verdicts_one_per_second_and_real_loss() -> None:
    def hop(ttl: int, pattern: list[tuple[float, float | None]]) -> HopStats:
        h = HopStats(ttl)
        for sent, got in pattern:
            h.probe_sent()
            h.answered(a("10.0.0.1") if got is not None else None, 100, sent, got, [],
                       None, None, False)
        return h

    limited = hop(3, [(t * 0.25, t * 0.25 + 0.001 if t % 4 == 0 else None)
                      for t in range(12)])
    full = hop(4, [(t * 0.25, t * 0.25 + 0.001) for t in range(12)])
    v = verdicts([limited, full])
    assert v[0].rate_limited and "about one per second" in v[0].reason
    lossy = hop(3, [(t * 0.25, t * 0.25 + 0.001 if t % 2 else None) for t in range(12)])
    lossy_later = hop(4, [(t * 0.25, t * 0.25 + 0.001 if t % 3 else None) for t in range(12)])
    v = verdicts([lossy, lossy_later])
    assert not v[0].rate_limited and v[0].loss_pct == 50.0


# --- mtr's report ---

def test_report_rounds_and_mtr_layout() -> None:
    hops, dst = lab_like_path()
    rep_rounds: list[int] = []

    class R:
        def probe(self, ev: Any) -> None:
            pass

        def round_done(self, n: int) -> None:
            rep_rounds.append(n)

        def flush(self) -> None:
            pass

    path = FakePath(hops, dst)
    s, _, _ = run_trace(path, R(), mode="report", count=4, interval_s=0.5)
    assert rep_rounds == [1, 2, 3, 4]
    assert [s.hops[t].sent for t in range(1, 8)] == [4] * 7
    lines = report_lines(summary_of(s), "vm")
    assert lines[0] == ("HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst "
                        "StDev   p50   p99 Jttr")
    assert lines[1] == ("  1.|-- 10.77.1.1                  0.0%     4    0.1   0.1   0.1   "
                        "0.1   0.0   0.1   0.1  0.0")
    assert lines[5].startswith("  5.|-- ???                       100.0     4    0.0")
    assert path.now - 1.0 < 2.0  # 4 rounds, 0.5 s apart


def test_report_lists_every_address_of_a_hop_as_mtr() -> None:
    h = HopStats(2)
    for addr in (a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.1")):
        h.probe_sent()
        h.answered(addr, 1000, 0.0, 0.001, [], None, None, False)
    lines = report_lines(TraceSummary("x", "10.0.9.9", [h], False, 3, 1.0), "host")
    assert lines[1].startswith("  2.|-- 10.0.0.1 ")
    assert lines[2] == "        10.0.0.2                         "


def test_live_redraws_after_every_round() -> None:
    hops, dst = lab_like_path()
    out: list[str] = []
    box: list[Any] = []
    rep = MtrReport(out.append, out.append, live=True, local_host="vm", start=EPOCH,
                    summary_for=lambda: summary_of(box[0]))
    rep.start("traceroute to dest")

    class Tap:
        def probe(self, ev: Any) -> None:
            rep.probe(ev)

        def round_done(self, n: int) -> None:
            if box:
                rep.round_done(n)

        def flush(self) -> None:
            pass

    from pcapping.probe.trace import TraceStrategy

    orig = TraceStrategy.__init__

    def grab(self: Any, *args: Any, **kw: Any) -> None:
        orig(self, *args, **kw)
        box.append(self)

    TraceStrategy.__init__ = grab  # type: ignore[method-assign]
    try:
        run_trace(FakePath(hops, dst), Tap(), mode="report", count=3, interval_s=0.2)
    finally:
        TraceStrategy.__init__ = orig  # type: ignore[method-assign]
    frames = "".join(out).split(MtrReport.CLEAR)
    assert len([f for f in frames if "HOST: vm" in f]) == 3
    assert "round 3" in frames[-1]


# --- multipath ---

def test_stopping_points() -> None:
    assert [stopping_point(k, 0.05) for k in range(1, 7)] == [6, 11, 16, 21, 27, 33]
    assert [stopping_point(k, 0.01) for k in range(1, 6)] == [8, 15, 21, 28, 36]


def test_mda_finds_both_routers_and_their_links() -> None:
    hops, dst = lab_like_path()
    out: list[str] = []
    rep = MultipathReport(out.append, lambda t: None)
    s, _, _ = run_trace(FakePath(hops, dst), rep, mode="multipath")
    graph = s.schedule.graph()
    assert set(graph["hops"][2]) == {a("10.77.20.2"), a("10.77.21.2")}
    assert set(graph["hops"][3]) == {a("10.77.22.2"), a("10.77.23.2")}
    links = {(t1, a1, t2, a2) for t1, a1, t2, a2 in graph["links"]}
    assert (2, a("10.77.20.2"), 3, a("10.77.22.2")) in links
    assert (2, a("10.77.21.2"), 3, a("10.77.23.2")) in links
    assert (2, a("10.77.20.2"), 3, a("10.77.23.2")) not in links
    assert (4, a("10.77.24.2"), 6, a("10.77.26.2")) in links  # across the silent hop
    # every hop met its stopping rule: 20 answered flows where two interfaces were seen
    assert sum(len(f) for f in graph["hops"][2].values()) >= stopping_point(2, 0.001)
    rep.finish(summary_of(s, graph))
    text = "".join(out)
    assert " 2  10.77.2" in text and "links:" in text and " 5  *" in text


# --- the command ---

def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pcapping", "trace", *argv],
                          capture_output=True, text=True, env=repo_env(), cwd=REPO_ROOT,
                          timeout=60)


@pytest.mark.parametrize(("argv", "words"), [
    ([], "Destination address required"),
    (["-m", "300", "10.0.0.1"], "max hops cannot be more than 255"),
    (["-f", "9", "-m", "5", "10.0.0.1"], "first hop out of range"),
    (["-q", "11", "10.0.0.1"], "no more than 10 probes per hop"),
    (["-w", "x", "10.0.0.1"], "bad wait specifications"),
    (["-s", "70000", "10.0.0.1"], "too big packetlen"),
    (["--multipath", "--report", "10.0.0.1"], "cannot be combined"),
    (["-p", "0", "10.0.0.1"], "bad port"),
    (["-t", "zz", "10.0.0.1"], "invalid number"),
    (["-4", "-6", "::1"], "-4 and -6 cannot be used together"),
    (["-6", "-l", "0x100000", "::1"], "bad flow label 1048576"),
])
def test_bad_input_is_one_line_and_status_2(argv: list[str], words: str) -> None:
    """(Refused before anything is opened or sent; no name is looked up.)"""
    proc = _cli(*argv)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_and_help() -> None:
    proc = _cli("--version")
    assert proc.returncode == 0 and "traceroute 2.1" in proc.stdout
    proc = _cli("--help")
    assert proc.returncode == 0 and "--multipath" in proc.stdout
