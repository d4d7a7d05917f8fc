"""Many-target ``send`` (fping-style) without root: target sets, route pieces, the sweep
strategy on a fake network (``tests/sweepnet.py``), fping's text and JSON reports, and the
command line's argv rewriting and dispatch."""

from __future__ import annotations

import io
import tracemalloc
from collections import Counter
from typing import Any

import pytest
from sweepnet import (
    EPOCH,
    GW,
    KEY,
    ME,
    NET,
    ROUTER,
    Calls,
    SweepNet,
    addr,
    alive_after,
    error_frame,
    reply_frame,
    routed_plan,
    run_sweep,
)

from pcapping.decode import decode_frame
from pcapping.errors import PcappingError
from pcapping.io.netinfo import Route
from pcapping.probe.sweep import (
    ALIVE,
    EXCLUDED,
    MARK_SPAN_S,
    Keyed,
    SweepOptions,
    SweepStrategy,
)
from pcapping.probe.targets import (
    ByAddress,
    RangeTargets,
    RoutePlan,
    dotted,
    generate,
    max_label_len,
    read_target_file,
    resolve_names,
)
from pcapping.report import fping as rep
from pcapping.send import normalize_argv

R24 = RangeTargets(NET + 1, NET + 254)  # 10.177.0.1 .. 10.177.0.254


def by_last_octet(alive: set[int] = frozenset(), unreach: set[int] = frozenset(),
                  rtt_s: float = 0.001) -> Any:
    """Targets answer by their last octet: replies, host unreachable from ROUTER, or
    nothing."""
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        if a & 255 in alive:
            return [(rtt_s, reply_frame(frame))]
        if a & 255 in unreach:
            return [(rtt_s * 2, error_frame(frame))]
        return []
    return behaviour


# --- target sets ---------------------------------------------------------------------

def test_generate_cidr_leaves_out_network_and_broadcast() -> None:
    t = generate(["10.177.3.0/24"])
    assert (len(t), t.label(0), t.label(len(t) - 1)) == (254, "10.177.3.1", "10.177.3.254")
    assert len(generate(["10.177.3.7/31"])) == 2  # /31 and /32 keep every address
    assert generate(["10.177.3.7/32"]).label(0) == "10.177.3.7"
    assert len(generate(["10.177.0.0/16"])) == 65534
    assert generate(["10.177.3.9/30"]).label(0) == "10.177.3.9"  # host bits are masked


def test_generate_range_and_fping_errors() -> None:
    t = generate(["10.177.0.250", "10.177.1.3"])
    assert [t.label(i) for i in range(len(t))][:2] == ["10.177.0.250", "10.177.0.251"]
    assert len(t) == 10
    cases = [
        (["10.177.0.0/33"], "netmask must be between 1 and 32 (is: 33)"),
        (["10.177.0.0/x"], "netmask must be between 1 and 32 (is: x)"),
        (["::1/64"], "-g works only with IPv4 addresses"),
        (["nosuch/24"], "can't parse address nosuch"),
        (["10.0.0.0", "10.2.0.0"], "-g parameter generates too many addresses"),
        (["10.0.0.1"], "-g needs NET/LEN or START END"),
        (["a", "b", "c"], "-g needs NET/LEN or START END"),
    ]
    for args, words in cases:
        with pytest.raises(PcappingError, match=words.replace("(", r"\(").replace(")", r"\)")):
            generate(args)


def test_max_label_len_matches_a_walk() -> None:
    import random

    rnd = random.Random(7)
    for _ in range(300):
        first = rnd.randrange(1 << 32)
        last = min(first + rnd.choice([0, 1, 9, 90, 300, 3000]), (1 << 32) - 1)
        walked = max(len(dotted(a)) for a in range(first, last + 1))
        assert max_label_len(first, last) == walked, (dotted(first), dotted(last))
    assert max_label_len(addr("10.177.0.1"), addr("10.177.255.254")) == 14
    assert max_label_len(addr("9.0.0.0"), addr("10.0.0.3")) == 13  # 9.255.255.255


def test_target_file_skips_comments_and_blank_lines(tmp_path: Any) -> None:
    path = tmp_path / "targets"
    path.write_text("# comment\n10.177.0.1   trailing words\n\n  10.177.0.2\n#10.177.0.3\n")
    assert read_target_file(str(path)) == ["10.177.0.1", "10.177.0.2"]
    assert read_target_file("-", stdin=io.StringIO("10.1.1.1\n")) == ["10.1.1.1"]
    with pytest.raises(PcappingError, match="nope"):
        read_target_file(str(tmp_path / "nope"))


def test_names_resolve_in_order_unknown_ones_counted_duplicates_once() -> None:
    warned: list[str] = []
    t = resolve_names(["10.177.0.9", "localhost", "nosuch.invalid", "10.177.0.9"],
                      warned.append)
    assert len(t) == 2 and t.label(0) == "10.177.0.9" and t.label(1) == "localhost"
    assert t.unknown == ["nosuch.invalid"]
    assert len(warned) == 1 and warned[0].startswith("nosuch.invalid: ")
    assert ByAddress(t).label(1) == "127.0.0.1"
    assert t.index(addr("127.0.0.1")) == 1 and t.index(addr("10.9.9.9")) == -1


# --- route pieces --------------------------------------------------------------------

def _lookup_table(table: dict[str, Route]) -> Any:
    """A route_get for a fake routing table: the longest prefix in ``table``."""
    import ipaddress

    nets = sorted(((ipaddress.ip_network(k), v) for k, v in table.items()),
                  key=lambda kv: -kv[0].prefixlen)
    calls: list[bytes] = []

    def lookup(a: bytes) -> Route:
        calls.append(a)
        ip = ipaddress.ip_address(a)
        for net, route in nets:
            if ip in net:
                return route._replace(destination=a)
        raise PcappingError("no route")
    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_route_pieces_one_lookup_each() -> None:
    table = {
        "0.0.0.0/0": Route("pc0", 2, ME, GW, b"", False),
        "10.77.1.0/24": Route("pc0", 2, ME, None, b"", False),
        "10.177.5.0/24": Route("pc0", 2, ME, bytes([10, 77, 1, 9]), b"", False),
    }
    lookup = _lookup_table(table)
    prefixes = [(0, 0), (addr("10.77.1.0"), 24), (addr("10.177.5.0"), 24)]
    plan = RoutePlan(lookup, prefixes)
    t = generate(["10.177.0.0/16"])
    hop = plan.check(t)
    assert hop.interface == "pc0" and hop.source == ME
    assert len(lookup.calls) == 3  # below 10.177.5/24, in it, above it
    assert plan.next_hop(addr("10.177.4.4")) == int.from_bytes(GW, "big")
    assert plan.next_hop(addr("10.177.5.4")) == addr("10.77.1.9")
    assert plan.next_hop(addr("10.77.1.33")) == addr("10.77.1.33")  # on-link: itself
    per_address = RoutePlan(_lookup_table(table), None)  # policy rules: no pieces
    per_address.check(generate(["10.177.0.0/28"]))
    assert per_address.lookups == 14


def test_route_plan_refuses_two_interfaces_and_two_sources() -> None:
    table = {
        "0.0.0.0/0": Route("pc0", 2, ME, GW, b"", False),
        "10.9.0.0/16": Route("eth1", 3, bytes([10, 9, 0, 1]), None, b"", False),
    }
    plan = RoutePlan(_lookup_table(table), [(0, 0), (addr("10.9.0.0"), 16)])
    with pytest.raises(PcappingError, match=r"more than one interface \(pc0 for 10.8.255.255, "
                       r"eth1 for 10.9.0.0\)"):
        plan.check(generate(["10.8.255.255", "10.9.0.1"]))
    table["10.9.0.0/16"] = Route("pc0", 2, bytes([10, 9, 0, 1]), None, b"", False)
    plan = RoutePlan(_lookup_table(table), [(0, 0), (addr("10.9.0.0"), 16)])
    with pytest.raises(PcappingError, match="more than one source address"):
        plan.check(generate(["10.8.255.255", "10.9.0.1"]))


def test_own_addresses_are_counted_for_the_loopback_lane() -> None:
    table = {
        "0.0.0.0/0": Route("pc0", 2, ME, GW, b"", False),
        "10.77.1.2/32": Route("lo", 1, ME, None, b"", True, 2),
    }
    plan = RoutePlan(_lookup_table(table), [(0, 0), (addr("10.77.1.2"), 32)])
    hop = plan.check(generate(["10.77.1.0/29"]))
    assert hop.interface == "pc0" and plan.local == 1
    only_local = RoutePlan(_lookup_table(table), [(0, 0), (addr("10.77.1.2"), 32)])
    assert only_local.check(generate(["10.77.1.2/32"])).interface == "lo"
    assert only_local.local == 0  # loopback is then the link itself


# --- probes: stateless fields --------------------------------------------------------

class _Engine:
    from pcapping.probe.engine import Link

    link = Link("pc0", "ethernet", 1, 1500, b"\x02" * 6, ME)
    macs: dict[bytes, bytes] = {}
    queued: dict[bytes, list[Any]] = {}


def _strategy(targets: Any = R24, **opts: Any) -> SweepStrategy:
    return SweepStrategy(targets, routed_plan(), SweepOptions(**opts), Calls(), engine=_Engine(),
                         src=ME, key=KEY)


@pytest.mark.parametrize("df", [True, False])
@pytest.mark.parametrize("size", [20, 21, 56, 1001])
def test_probe_bytes_are_valid_echo_requests_carrying_their_own_validation(
        df: bool, size: int) -> None:
    s = _strategy(df=df, size=size, pattern=b"\xab\xcd" if size == 1001 else None)
    keyed = Keyed(KEY)
    for a in (NET + 1, NET + 77, NET + 254):
        for r in (0, 1, 3):
            dg = s.probe_bytes(a, r, 1_800_000_000_123_456)
            d = decode_frame(b"\0" * 12 + b"\x08\x00" + dg)
            assert d.ip is not None and d.icmp is not None
            assert d.ip.checksum_ok and d.icmp.checksum_ok
            assert (d.ip.src, d.ip.dst, d.ip.df, d.ip.ttl) == (ME, a.to_bytes(4, "big"), df, 64)
            ident, seqb, nonce = keyed.fields(a)
            assert (d.icmp.ident, d.icmp.seq) == (ident, (seqb + r) & 0xFFFF)
            p = d.icmp.payload
            assert len(p) == size and p[:8] == nonce
            assert int.from_bytes(p[8:16], "big") == 1_800_000_000_123_456
            assert p[16:20] == a.to_bytes(4, "big")
            if size == 1001:
                assert p[20:24] == b"\xab\xcd\xab\xcd"


def test_keyed_fields_differ_per_target_and_per_key() -> None:
    a, b = Keyed(KEY), Keyed(bytes(16))
    assert a.fields(NET + 1) != a.fields(NET + 2)
    assert a.fields(NET + 1) != b.fields(NET + 1)
    assert a.fields(NET + 1) == Keyed(KEY).fields(NET + 1)
    assert len({a.fields(NET + i)[0] for i in range(1000)}) > 900  # identifiers spread


# --- the strategy on the fake network ------------------------------------------------

def test_default_mode_verdicts_retries_and_backoff() -> None:
    beh = by_last_octet(alive={1, 2, 3}, unreach={4})
    s, calls, net, _ = run_sweep(RangeTargets(NET + 1, NET + 5), SweepOptions(rate=1000), beh)
    assert [s.verdict[i] for i in range(5)] == [ALIVE, ALIVE, ALIVE, 0, 0]
    assert s.counts() == {"targets": 5, "alive": 3, "unreachable": 2, "error": 1,
                          "no_answer": 1, "excluded": 0}
    sends = Counter(dst & 255 for _, dst, _ in net.sent)
    assert sends == {1: 1, 2: 1, 3: 1, 4: 4, 5: 4}  # fping: 3 retries for the silent ones
    times = [t for t, dst, _ in net.sent if dst & 255 == 5]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]
    # 0.5 s, then x1.5 each retry (fping -t 500 -B 1.5); marks are exact to 1 ms
    for got, want in zip(gaps, [0.5, 0.75, 1.125], strict=True):
        assert want <= got <= want + MARK_SPAN_S + 0.0015
    assert s.stats.timeouts == 8 and s.stats.errors == 4 and s.stats.sent == 11
    errors = calls.of("error")
    assert {(i, src) for i, _r, src, *_ in errors} == {(3, ROUTER)}
    assert s.error_of(3) == (ROUTER, 3, 1, False) and s.error_of(4) is None


def test_all_alive_ends_without_waiting_for_retry_rounds() -> None:
    s, _c, net, _ = run_sweep(R24, SweepOptions(rate=10000), alive_after(0.001))
    assert s.alive_count == 254 and s.stats.sent == 254
    assert net.now < 1.0 + 254 / 10000 + 0.05  # no timeout was waited for


def test_replies_validate_themselves_statelessly() -> None:
    """A reply is ours by its keyed fields alone: another run's key, a foreign nonce or
    identifier, a target outside the set and an unsent round are all refused."""
    other = Keyed(bytes(16))

    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        good = reply_frame(frame)
        ip = bytearray(good)
        forged = []
        wrong_nonce = bytearray(frame)
        wrong_nonce[42] ^= 1
        forged.append(reply_frame(bytes(wrong_nonce)))
        wrong_ident = bytearray(frame)
        wrong_ident[38] ^= 1
        forged.append(reply_frame(bytes(wrong_ident)))
        ident, seqb, nonce = other.fields(a)  # a probe of another run, to the same target
        other_run = bytearray(frame)
        other_run[38:42] = ident.to_bytes(2, "big") + seqb.to_bytes(2, "big")
        other_run[42:50] = nonce
        forged.append(reply_frame(bytes(other_run)))
        later_round = bytearray(frame)
        later_round[40:42] = ((int.from_bytes(frame[40:42], "big") + 7) & 0xFFFF).to_bytes(
            2, "big")
        forged.append(reply_frame(bytes(later_round)))
        del ip
        return [(0.001, f) for f in forged] + ([(0.002, good)] if a & 1 else [])

    s, calls, _net, _ = run_sweep(RangeTargets(NET + 1, NET + 4), SweepOptions(rate=1000),
                                  behaviour)
    assert [s.verdict[i] for i in range(4)] == [ALIVE, 0, ALIVE, 0]
    assert s.stats.replies == 2 and s.stats.duplicates == 0


def test_reply_from_another_address_names_its_target_from_the_payload() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(0.001, reply_frame(frame, src=bytes([10, 177, 9, 9])))]

    s, calls, _net, _ = run_sweep(RangeTargets(NET + 1, NET + 2), SweepOptions(rate=1000),
                                  behaviour)
    assert s.alive_count == 2
    assert [(c[0], c[2]) for c in calls.of("reply")] == [(0, bytes([10, 177, 9, 9])),
                                                         (1, bytes([10, 177, 9, 9]))]


def test_errors_are_attributed_to_the_quoted_target_even_with_8_bytes_quoted() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(0.001, error_frame(frame, ROUTER, 11, 0, quote=28))]  # no payload quoted

    s, calls, _net, _ = run_sweep(RangeTargets(NET + 1, NET + 3), SweepOptions(rate=1000,
                                                                             retries=0),
                                  behaviour)
    assert sorted(c[0] for c in calls.of("error")) == [0, 1, 2]
    assert all(c[2:5] == (ROUTER, 11, 0) for c in calls.of("error"))
    assert s.counts()["error"] == 3  # "an error came back", not "no answer"
    assert s.error_of(0) == (ROUTER, 11, 0, False)


def test_error_quoting_a_foreign_probe_is_not_ours() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        f = bytearray(frame)
        f[38] ^= 0xFF  # the quoted identifier is not the target's
        return [(0.001, error_frame(bytes(f)))]

    s, calls, _net, _ = run_sweep(RangeTargets(NET + 1, NET + 2), SweepOptions(rate=1000,
                                                                             retries=0),
                                  behaviour)
    assert calls.of("error") == [] and s.stats.errors == 0


def test_duplicates_late_and_corrupted_replies_are_counted_as_such() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        last = a & 255
        if last == 1:  # answered twice
            return [(0.001, reply_frame(frame)), (0.002, reply_frame(frame))]
        if last == 2:  # answered after the 0.5 s timeout
            return [(0.6, reply_frame(frame))]
        if last == 3:  # a bad ICMP checksum
            return [(0.001, reply_frame(frame, corrupt=True))]
        return []

    s, calls, _net, _ = run_sweep(RangeTargets(NET + 1, NET + 3), SweepOptions(rate=1000),
                                  behaviour)
    st = s.stats
    assert (st.duplicates, st.late, st.corrupted, st.received) == (2, 1, 4, 1)
    # default mode: a late reply still shows the target alive (fping's backoff usually
    # lets it); later replies from the retries are duplicates
    assert [s.verdict[i] for i in range(3)] == [ALIVE, ALIVE, 0]
    assert len(calls.of("corrupt")) == 4  # every probe to .3 got one (it never came alive)


def test_count_mode_lines_loss_and_duplicates() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        seq = int.from_bytes(frame[40:42], "big")
        if a & 255 == 1:
            return [(0.002, reply_frame(frame))] * (2 if seq & 1 else 1)
        if a & 255 == 2 and seq & 1:
            return [(0.003, reply_frame(frame))]
        return []

    opts = SweepOptions(rate=1000, count=4, period_s=0.2)
    s, calls, net, _ = run_sweep(RangeTargets(NET + 1, NET + 3), opts, behaviour,
                                 resolved=False)
    assert (list(s.xmt), list(s.rcv)) == ([4, 4, 4], [4, 2, 0])
    assert s.dup[0] == 2 and s.stats.duplicates == 2
    assert Counter(c[0] for c in calls.of("timeout")) == {1: 2, 2: 4}
    # RTT in µs (the fake clocks are floats near 1.8e9 s: exact to a microsecond); the
    # very first probe waited 50 µs for the gateway's ARP answer, as kernel ping's does
    rtts = [c[5] for c in calls.of("reply") if c[0] == 0]
    assert abs(rtts[0] - 2050) <= 1 and all(abs(r - 2000) <= 1 for r in rtts[1:])
    times = [t for t, dst, _ in net.sent if dst & 255 == 3]
    assert all(0.2 - 1e-9 <= b - a <= 0.2 + 0.0015 for a, b in zip(times, times[1:], strict=False))


def test_min_gap_holds_between_probes_to_one_target() -> None:
    opts = SweepOptions(rate=100000, count=5, period_s=0.0, min_gap_s=0.05, timeout_s=0.04)
    s, _c, net, _ = run_sweep(RangeTargets(NET + 1, NET + 50), opts, alive_after(0.001))
    per: dict[int, list[float]] = {}
    for t, dst, _ in net.sent:
        per.setdefault(dst, []).append(t)
    assert all(len(v) == 5 for v in per.values()) and len(per) == 50
    gaps = [b - a for v in per.values() for a, b in zip(v, v[1:], strict=False)]
    assert min(gaps) >= 0.05 - 1e-9
    assert s.rcv[0] == 5


def test_rate_is_held_by_the_token_bucket() -> None:
    """The global rate, on the fake clock: over the whole run and over any 10 ms."""
    t = RangeTargets(NET, NET + 9999)
    for rate in (1000.0, 50000.0, 150000.0):
        net = SweepNet(alive_after(0.0005))
        net.keep_frames = False
        s, _c, net, _ = run_sweep(t, SweepOptions(rate=rate), alive_after(0.0005), net=net)
        times = [x[0] for x in net.sent]
        span = times[-1] - times[0]
        assert len(times) == 10000
        assert abs((len(times) - 1) / span - rate) / rate < 0.01
        n, secs = s.stats.send_rate()
        assert abs(n / secs - rate) / rate < 0.02
        window = 0.01
        j = 0
        worst = 0
        for i, ti in enumerate(times):
            while times[j] < ti - window:
                j += 1
            worst = max(worst, i - j + 1)
        assert worst <= rate * window * 2 + 2  # never more than the 10 ms bucket at once


def test_unresolved_gateway_gives_local_host_unreachable() -> None:
    net = SweepNet(alive_after(0.001), arp=False)
    s, calls, net, _ = run_sweep(RangeTargets(NET + 1, NET + 2),
                                 SweepOptions(rate=1000, retries=0), alive_after(0.001),
                                 net=net)
    errs = calls.of("error")
    assert sorted(c[0] for c in errs) == [0, 1]
    assert all(c[2] == ME and c[3:5] == (3, 1) and c[6] is True for c in errs)
    assert s.counts()["error"] == 2


def test_broadcast_targets_are_not_probed_and_not_retried() -> None:
    table = {
        "0.0.0.0/0": Route("pc0", 2, ME, GW, b"", False),
        "10.177.0.255/32": Route("pc0", 2, ME, None, b"", False, 3),
    }
    plan = RoutePlan(_lookup_table(table), [(0, 0), (addr("10.177.0.255"), 32)])
    targets = generate(["10.177.0.254", "10.177.1.0"])
    s, calls, net, _ = run_sweep(targets, SweepOptions(rate=1000), alive_after(0.001),
                                 plan=plan)
    assert calls.of("unsent") == [(1, 0, "Permission denied")]
    assert s.verdict[1] == EXCLUDED and s.alive_count == 2
    assert addr("10.177.0.255") not in {dst for _, dst, _ in net.sent}


def test_rate_limited_router_is_named_not_counted_as_loss() -> None:
    """5 errors at once then 1 per second, for a /24 probed at 100/s: the router is
    rate-limiting, and the silent targets beside the answered ones say so."""
    sent_errors: list[float] = []

    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        if (a >> 8) & 255 != 4:
            return [(0.001, reply_frame(frame))]
        tokens = 5 + int(now - 1.0) - len(sent_errors)
        if tokens <= 0:
            return []
        sent_errors.append(now)
        return [(0.001, error_frame(frame))]

    s, _c, _n, _ = run_sweep(generate(["10.177.3.250", "10.177.5.5"]),
                             SweepOptions(rate=100, retries=0), behaviour)
    limited = s.rate_limited()
    assert len(limited) == 1
    rl = limited[0]
    assert (rl["router"], rl["type"], rl["code"], rl["burst"]) == (ROUTER, 3, 1, 5)
    assert rl["prefixes"] == [addr("10.177.4.0") >> 8]
    assert rl["errors"] == len(sent_errors) and rl["silent"] == 256 - len(sent_errors)
    assert 0.5 < rl["rate_per_s"] < 1.5
    text = rep.rate_limit_text(rl)
    assert text.startswith(f"rate-limited: 10.77.2.2 sent {rl['errors']} ICMP Host "
                           "Unreachable (5 at once, then about 1 per second)")


def test_loop_mode_runs_until_the_deadline() -> None:
    opts = SweepOptions(rate=1000, loop=True, period_s=0.25, deadline_s=2.0)
    s, _c, net, _ = run_sweep(RangeTargets(NET + 1, NET + 3), opts, alive_after(0.001))
    assert 7 <= s.xmt[0] <= 9 and s.rcv[0] == s.xmt[0]
    assert 2.0 <= net.now < 2.0 + 1.0 + 0.6  # started at 1.0, drained briefly


def test_state_does_not_grow_with_the_number_of_targets() -> None:
    """Default mode: what a /16 keeps beyond a /24 is its per-target bytes (verdict, first
    error, probe count: 3 bytes each), no per-probe state; marks stay bounded."""
    def peak(n: int) -> tuple[int, int]:
        t = RangeTargets(NET, NET + n - 1)
        net = SweepNet(alive_after(0.0002))
        net.record = False
        seen_marks = [0]
        tracemalloc.start()
        s, _c, net, _ = run_sweep(t, SweepOptions(rate=200000), alive_after(0.0002),
                                  net=net, report=_MarkWatch(seen_marks))
        _cur, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert s.alive_count == n and net.count == n
        return top, seen_marks[0]

    small, _marks = peak(512)
    big, marks_big = peak(8192)
    per_target = (big - small) / (8192 - 512)
    assert per_target < 6, per_target  # bytes per target (3 are the byte arrays)
    assert marks_big <= 2 * (8192 / 200000 / MARK_SPAN_S) + 4


class _MarkWatch(Calls):
    def __init__(self, box: list[int]) -> None:
        super().__init__()
        self.box = box

    def reply(self, *args: Any) -> None:
        s = self.strategy
        self.box[0] = max(self.box[0], max((len(r.marks) for r in s.rounds), default=0))


# --- text and JSON reports -----------------------------------------------------------

def test_sprint_tm_as_fping() -> None:
    assert [rep.sprint_tm(us) for us in (0, 51, 999, 1000, 9994, 12345, 99949, 123456,
                                         2_000_000_000)] == [
        "0.000", "0.051", "0.999", "1.00", "9.99", "12.3", "99.9", "123", "2.000e+06"]


def test_error_words_as_fping() -> None:
    assert rep.error_text(3, 1) == "ICMP Host Unreachable"
    assert rep.error_text(3, 13) == ("ICMP Unreachable (Communication Administratively "
                                     "Prohibited)")
    assert rep.error_text(3, 16) == "ICMP Unreachable (Invalid Code)"
    assert rep.error_text(11, 0) == "ICMP Time Exceeded"
    assert rep.error_text(12, 0) == "ICMP Parameter Problem"
    assert rep.error_line(3, 1, ROUTER, "10.177.4.1") == (
        "ICMP Host Unreachable from 10.77.2.2 for ICMP Echo sent to 10.177.4.1")


@pytest.mark.parametrize(("kw", "want"), [
    ({}, (True, False, False, False)),
    ({"quiet": True}, (False, False, False, False)),
    ({"alive": True}, (False, True, False, False)),
    ({"unreach": True}, (False, False, True, False)),
    ({"reachable": 3}, (False, False, False, False)),
])
def test_flags_derived_as_fping(kw: dict[str, Any], want: tuple[bool, ...]) -> None:
    f = rep.Flags(SweepOptions(), **kw)
    assert (f.verbose, f.alive, f.unreach, f.per_recv) == want
    c = rep.Flags(SweepOptions(count=2), **kw)
    assert (c.verbose, c.alive, c.unreach) == (False, False, False)
    assert c.per_recv == (not kw)  # -c prints per-probe lines unless -q/-a/-u/-x
    loop = rep.Flags(SweepOptions(loop=True), **kw)
    assert loop.per_recv  # fping -l prints them even with -q


def _text_run(targets: Any, opts: SweepOptions, behaviour: Any, **flags: Any,
              ) -> tuple[str, str, SweepStrategy]:
    out, err = io.StringIO(), io.StringIO()
    report = rep.FpingTextReport(targets, opts, rep.Flags(opts, **flags), out.write, err.write)
    s, _r, net, _ = run_sweep(targets, opts, behaviour, report=report)
    report.finish(s, 1.234)
    return out.getvalue(), err.getvalue(), s


def test_text_default_mode_as_fping() -> None:
    beh = by_last_octet(alive={1, 3}, unreach={2})
    out, err, _s = _text_run(RangeTargets(NET + 1, NET + 4), SweepOptions(rate=1000), beh)
    assert out == ("10.177.0.1 is alive\n10.177.0.3 is alive\n10.177.0.2 is unreachable\n"
                   "10.177.0.4 is unreachable\n")
    assert err == "ICMP Host Unreachable from 10.77.2.2 for ICMP Echo sent to 10.177.0.2\n" * 4
    out, err, _s = _text_run(RangeTargets(NET + 1, NET + 4), SweepOptions(rate=1000), beh,
                             alive=True, elapsed=True)
    assert out == "10.177.0.1 (1.00 ms)\n10.177.0.3 (1.00 ms)\n"
    out, _e, _s = _text_run(RangeTargets(NET + 1, NET + 4), SweepOptions(rate=1000), beh,
                            unreach=True, quiet=True)
    assert out == "10.177.0.2\n10.177.0.4\n"
    out, _e, s = _text_run(RangeTargets(NET + 1, NET + 4), SweepOptions(rate=1000), beh,
                           reachable=2)
    assert out == "Enough hosts reachable (required: 2, reachable: 2)\n"


def test_text_count_mode_as_fping() -> None:
    beh = by_last_octet(alive={1}, rtt_s=0.0005)
    targets = RangeTargets(NET + 1, NET + 2)
    out, err, _s = _text_run(targets, SweepOptions(rate=1000, count=2, period_s=0.1), beh,
                             timestamps=True)
    lines = out.splitlines()
    assert lines[0] == (f"[{EPOCH + 1.0005:.5f}] 10.177.0.1 : [0], 64 bytes, 0.500 ms "
                        "(0.500 avg, 0% loss)")
    # .2's probe 0 times out 0.1 s after it left, just after .1's probe 1 came back
    assert lines[1].endswith("10.177.0.1 : [1], 64 bytes, 0.500 ms (0.500 avg, 0% loss)")
    assert lines[2] == f"[{EPOCH + 1.101:.5f}] 10.177.0.2 : [0], timed out (NaN avg, 100% loss)"
    assert err == ("\n10.177.0.1 : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.500/0.500/0.500\n"
                   "10.177.0.2 : xmt/rcv/%loss = 2/0/100%\n")
    out, err, _s = _text_run(targets, SweepOptions(rate=1000, count=3, period_s=0.1,
                                                   report_all=True), beh, quiet=True)
    assert out == ""
    assert err == "10.177.0.1 : 0.500 0.500 0.500\n10.177.0.2 : - - -\n"


def test_text_stats_block_as_fping_then_pcapping_s_lines() -> None:
    beh = by_last_octet(alive={1}, unreach={2}, rtt_s=0.001)
    _o, err, _s = _text_run(RangeTargets(NET + 1, NET + 3), SweepOptions(rate=1000), beh,
                            stats=True, quiet=True)
    assert err.startswith("\n")  # fping's block opens with an empty line
    fping_part = err[1:].split("\n\n")[:3]
    assert fping_part == [
        "       3 targets\n       1 alive\n       2 unreachable\n       0 unknown addresses",
        "       8 timeouts (waiting for response)\n       9 ICMP Echos sent\n"
        "       1 ICMP Echo Replies received\n       4 other ICMP received",
        " 1.00 ms (min round trip time)\n 1.00 ms (avg round trip time)\n"
        " 1.00 ms (max round trip time)\n        1.234 sec (elapsed real time)",
    ]
    assert "       1 unreachable with an ICMP error back\n" in err
    assert "       1   ICMP Host Unreachable from 10.77.2.2\n" in err
    assert "       1 unreachable with no answer at all\n" in err


def test_duplicate_line_in_default_mode_as_fping() -> None:
    def behaviour(a: int, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(0.001, reply_frame(frame)), (0.0015, reply_frame(frame))]

    _o, err, _s = _text_run(RangeTargets(NET + 1, NET + 1), SweepOptions(rate=1000), behaviour)
    assert err == "10.177.0.1 : duplicate for [0], 64 bytes, 1.50 ms\n"


def test_json_events_and_summaries() -> None:
    beh = by_last_octet(alive={1}, unreach={2})
    events: list[dict[str, Any]] = []
    targets = RangeTargets(NET + 1, NET + 3)
    opts = SweepOptions(rate=1000, retries=1)
    report = rep.FpingJsonReport(targets, opts, events.append)
    s, _r, _n, _ = run_sweep(targets, opts, beh, report=report)
    report.finish(s, 2.5, 1)
    kinds = Counter(e["event"] for e in events)
    assert kinds == {"reply": 1, "error": 2, "timeout": 4, "target": 3, "summary": 1}
    reply = next(e for e in events if e["event"] == "reply")
    assert reply["target"] == "10.177.0.1" and reply["rtt_ms"] == 1.0 and reply["probe"] == 0
    err = next(e for e in events if e["event"] == "error")
    assert (err["target"], err["from"], err["type"], err["code"], err["text"]) == (
        "10.177.0.2", "10.77.2.2", 3, 1, "ICMP Host Unreachable")
    per = {e["target"]: e for e in events if e["event"] == "target"}
    assert [per[f"10.177.0.{i}"]["verdict"] for i in (1, 2, 3)] == ["alive", "error",
                                                                      "no answer"]
    assert per["10.177.0.2"]["error"]["from"] == "10.77.2.2"
    assert per["10.177.0.3"]["transmitted"] == 2
    summary = events[-1]
    assert (summary["alive"], summary["unreachable_error"], summary["unreachable_no_answer"],
            summary["exit_status"]) == (1, 1, 1, 1)
    assert all(isinstance(summary[k], int) for k in ("sent", "timeouts", "errors"))


# --- the command line ----------------------------------------------------------------

@pytest.mark.parametrize(("argv", "want"), [
    (["-s", "10.1.1.1", "10.1.1.2"], ["--stats", "--", "10.1.1.1", "10.1.1.2"]),
    (["-s", "100", "h"], ["-s", "100", "--", "h"]),
    (["-s", "-1", "h"], ["-s", "-1", "--", "h"]),
    (["a", "-c", "3", "b", "-qs"], ["-c", "3", "-q", "--stats", "--", "a", "b"]),
    (["-l", "-c", "2", "a"], ["--loop", "-c", "2", "--", "a"]),
    (["-l", "3", "h"], ["-l", "3", "--", "h"]),
    (["-4", "-W0.5", "h"], ["-4", "-W0.5", "--", "h"]),
    (["-s"], ["--stats"]),
    (["--rate", "5000", "-g", "10.0.0.0/24"], ["--rate", "5000", "-g", "--", "10.0.0.0/24"]),
    (["--ra", "5", "x"], ["--ra", "5", "--", "x"]),
    (["-s", "56.5", "h"], ["-s", "56.5", "--", "h"]),
])
def test_normalize_argv(argv: list[str], want: list[str]) -> None:
    assert normalize_argv(argv) == want


def _parse(argv: list[str]) -> Any:
    from pcapping.cli import build_parser

    return build_parser("send").parse_args(["send", *normalize_argv(argv)])


def test_dispatch_keeps_single_target_ping() -> None:
    from pcapping.many import wants_sweep

    assert not wants_sweep(_parse(["10.1.1.1", "-c", "3", "-a", "-s", "100", "-l", "2"]))
    for argv in (["a", "b"], ["-g", "10.0.0.0/30"], ["-F", "f"], ["-s", "a"], ["-l", "a"],
                 ["-C", "2", "a"], ["-u", "a"], ["-e", "a"], ["--rate", "9", "a"],
                 ["-x", "1", "a"], ["--min-gap", "1", "a"], ["-r", "0", "a"]):
        assert wants_sweep(_parse(argv)), argv


@pytest.mark.parametrize(("argv", "words"), [
    (["-c", "2", "-l", "--", "a", "b"], "specify only one of c, l"),
    (["-a", "-u", "a", "b"], "specify only one of a, u"),
    (["-f", "a", "b"], "-f (flood) needs a single target"),
    (["-O", "a", "b"], "-O (report outstanding) needs a single target"),
    (["-l", "2", "a", "b"], "-l PRELOAD needs a single target"),
    (["-s", "10", "a", "b"], "the payload is 20 to 65507 bytes"),
    (["-C", "0", "a", "b"], "out of range: 1 <= value <= 65535"),
    (["-B", "9", "a", "b"], "backoff factor 9.0 not valid"),
    (["--rate", "0", "a", "b"], "bad rate: 0"),
    (["-t", "0", "a", "b"], "ttl 0 out of range"),
    (["-g", "10.0.0.0/40"], "netmask must be between 1 and 32 (is: 40)"),
    (["-F", "/nonexistent/file"], "/nonexistent/file"),
    (["-g", "-F", "x"], "-F reads the targets from a file"),
    (["-6", "a", "b"], "-6: many targets are IPv4 only"),
    (["--probe-if", "eth0", "a", "b"], "--probe-if needs a single target"),
    (["-C", "1000", "-g", "10.0.0.0/8"], "would keep 16777214000 RTTs"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], words: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from pcapping.cli import main

    assert main(["send", *argv]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcapping: ") and words in lines[0], err


@pytest.mark.parametrize(("df", "size", "pattern"), [(True, 56, None), (False, 57, b"\x01\x02"),
                                                    (True, 20, None), (False, 1400, None)])
def test_probes_that_leave_are_valid_in_every_shape(df: bool, size: int,
                                                   pattern: bytes | None) -> None:
    """The send loop's in-line fill (batched and not): the fake network checks the IPv4 and
    ICMP checksums and the length of every probe it is handed."""
    opts = SweepOptions(rate=100000, df=df, size=size, pattern=pattern, count=2, period_s=0.01)
    s, _c, net, _ = run_sweep(RangeTargets(NET + 1, NET + 300), opts, alive_after(0.0002),
                              resolved=False)
    assert net.count == 600 and s.stats.received == 600
    assert {len(f) for _t, _d, f in net.sent} == {14 + 28 + size}


def test_an_answer_already_queued_is_read_before_its_probe_times_out() -> None:
    """The answer came 1 ms before the timeout but nobody had read it yet (a busy loop,
    a wait that did not wake): the strategy reads what is queued before giving up."""
    net = SweepNet(alive_after(0.499))
    net.lazy = True
    s, calls, net, _ = run_sweep(RangeTargets(NET + 1, NET + 3),
                                 SweepOptions(rate=1000, count=2, period_s=1.0,
                                              timeout_s=0.5), alive_after(0.499), net=net)
    assert list(s.rcv) == [2, 2, 2] and s.stats.timeouts == 0 and s.stats.late == 0
