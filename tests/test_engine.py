"""The probe engine and the ping strategy on a fake network: fake capture, injector and
clock, no root.  The fake answers each injected frame after a simulated delay, as the lab
would, and hands frames to the engine through ``next_batch`` as libpcap does."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

from pcapping.decode import decode_frame
from pcapping.probe.engine import Engine, IntervalPacer, Link, RatePacer, WindowPacer
from pcapping.probe.events import (
    EchoReplied,
    ErrorReported,
    LocalError,
    TimedOut,
    Unassembled,
)
from pcapping.probe.ping import PingOptions, PingStrategy, make_payload, pmtu_decision
from pcapping.probe.resolve import ArpResolver, arp_request
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.frag import fragment_ipv4
from pcapping.wire.icmp import ICMPEcho, ICMPError
from pcapping.wire.ipv4 import IPv4Header

ME = bytes([10, 77, 1, 2])
GW = bytes([10, 77, 1, 1])
R2 = bytes([10, 77, 2, 2])
TARGET = bytes([10, 77, 3, 2])
MY_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
NONCE = b"NONCE-01"
EPOCH = 1_800_000_000
ETH = EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode()

Answer = Callable[[Any, bytes, float], list[tuple[float, bytes]]]


def reply_to(request: bytes, *, ttl: int = 62, nonce: bytes | None = None,
             ident: int | None = None, corrupt: bool = False, ip_ident: int = 7) -> bytes:
    """The target's echo reply to one of our request frames (a whole datagram)."""
    d = decode_frame(request)
    assert isinstance(d.icmp, ICMPEcho)
    payload = d.icmp.payload
    if nonce is not None:
        payload = nonce + payload[len(nonce):]
    icmp = ICMPEcho(True, d.icmp.ident if ident is None else ident, d.icmp.seq,
                    payload).encode()
    if corrupt:
        icmp = icmp[:2] + bytes([icmp[2] ^ 0xFF]) + icmp[3:]
    return ETH + IPv4Header(TARGET, ME, 1, ttl=ttl, ident=ip_ident).encode(icmp)


def error_about(request: bytes, src: bytes, icmp_type: int, code: int, quote: int = 28,
                rest: bytes = b"\0\0\0\0", corrupt: bool = False) -> bytes:
    quoted = request[14:14 + quote]
    icmp = ICMPError(icmp_type, code, quoted, rest).encode()
    if corrupt:
        icmp = icmp[:2] + bytes([icmp[2] ^ 0x01]) + icmp[3:]
    return ETH + IPv4Header(src, ME, 1, ttl=63).encode(icmp)


class FakeNet:
    """Capture handle, injector and clock of a small simulated network."""

    def __init__(self, answer: Answer, arp: bool = True) -> None:
        self.now = 1.0
        self.queue: list[tuple[float, bytes]] = []
        self.answer = answer
        self.arp = arp
        self.fd = -1
        self.linktype = 1
        self.frames_read = 0
        self.queued_total = 0
        self.injected: list[bytes] = []

    def clock(self) -> float:
        return self.now

    def send(self, frame: bytes | bytearray) -> None:
        frame = bytes(frame)
        self.injected.append(frame)
        self._queue(self.now, frame)  # the capture handle sees it leave
        d = decode_frame(frame)
        if d.arp is not None:
            if self.arp:
                reply = EthernetHeader(MY_MAC, GW_MAC, 0x0806).encode() + ARPPacket(
                    2, GW_MAC, GW, MY_MAC, ME).encode()
                self._queue(self.now + 50e-6, reply)
        else:
            for when, f in self.answer(d, frame, self.now):
                self._queue(when, f)

    def _queue(self, when: float, frame: bytes) -> None:
        self.queue.append((when, frame))
        self.queue.sort(key=lambda x: x[0])

    def close(self) -> None:
        pass

    def wait(self, fds: list[int], delay: float) -> list[int]:
        if self.queue and self.queue[0][0] <= self.now + delay:
            self.now = max(self.now, self.queue[0][0])
            return [self.fd]
        self.now += delay
        return []

    def next_batch(self, n: int) -> tuple[bytes, bytes]:
        buf, meta = bytearray(), bytearray()
        while self.queue and self.queue[0][0] <= self.now and len(meta) < 16 * n:
            when, frame = self.queue.pop(0)
            usec = round((EPOCH + when) * 1e6)
            meta += struct.pack("=IIII", usec // 1_000_000, usec % 1_000_000, len(buf),
                                len(frame))
            buf += frame
        return bytes(buf), bytes(meta)

    def drained(self) -> bool:
        return not self.queue or self.queue[0][0] > self.now


class Report:
    """Collects what the strategy tells its report."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.sent_seqs: list[int] = []
        self.outstanding_seqs: list[int] = []
        self.statuses = 0

    def sent(self, seq: int) -> None:
        self.sent_seqs.append(seq)

    def outstanding(self, seq: int) -> None:
        self.outstanding_seqs.append(seq)

    def reply(self, ev: EchoReplied) -> None:
        self.events.append(ev)

    error = local_error = unassembled = timeout = reply

    def status(self, stats: Any) -> None:
        self.statuses += 1

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def run(net: FakeNet, report: Report | None = None, mtu: int = 1500, **kw: Any,
        ) -> tuple[PingStrategy, Report, Engine]:
    opts = PingOptions(**kw)
    report = report or Report()
    link = Link("pc0", "ethernet", 1, mtu, MY_MAC, ME)
    engine = Engine(link, net, net, resolver=lambda hop: ArpResolver(MY_MAC, ME, hop),
                    clock=net.clock, wait=net.wait)
    strategy = PingStrategy(opts, report, src=ME, dst=TARGET, next_hop=GW, dst_mac=None,
                            engine=engine, ident=0x1234, nonce=NONCE, ip_ident=100,
                            clock_start=net.now)
    engine.run(strategy)
    return strategy, report, engine


def echo_after(rtt_s: float) -> Answer:
    return lambda d, frame, now: [(now + rtt_s, reply_to(frame))]


# --- the ping strategy on the engine ---

def test_replies_and_exit_once_the_last_reply_is_in() -> None:
    net = FakeNet(echo_after(91e-6))
    s, report, _ = run(net, count=3, interval_s=1.0)
    replies = report.of(EchoReplied)
    assert [r.seq for r in replies] == [1, 2, 3]
    assert all(r.rtt_us == 91 for r in replies)
    assert (s.stats.transmitted, s.stats.received, s.stats.exit_status(3, False)) == (3, 3, 0)
    assert net.now < 3.01  # no linger once every request was answered
    assert arp_request(MY_MAC, ME, GW) == net.injected[0]


def test_request_frames_are_iputils_echo_requests() -> None:
    net = FakeNet(echo_after(1e-4))
    run(net, count=3, interval_s=0.1, ttl=7, size=56)
    requests = [decode_frame(f) for f in net.injected[1:]]
    for seq, d in enumerate(requests, 1):
        assert d.ip is not None and isinstance(d.icmp, ICMPEcho)
        assert (d.ip.src, d.ip.dst, d.ip.ttl, d.ip.df) == (ME, TARGET, 7, True)
        assert d.ip.checksum_ok and d.icmp.checksum_ok  # the patched template verifies
        assert (d.icmp.ident, d.icmp.seq) == (0x1234, seq)
        assert d.icmp.payload == make_payload(56, NONCE)
        assert d.link.dst == GW_MAC  # type: ignore[union-attr]


def test_lost_replies_linger_then_exit_1() -> None:
    net = FakeNet(lambda d, f, now: [])
    s, report, _ = run(net, count=2, interval_s=0.5, timeout_s=1.0)
    assert (s.stats.transmitted, s.stats.received) == (2, 0)
    assert [e.seq for e in report.of(TimedOut)] == [1, 2]
    assert 2.49 < net.now < 2.6  # last request at 1.5 s, then -W 1 s


def test_errors_and_deadline_stop_at_the_first_error() -> None:
    net = FakeNet(lambda d, f, now: [(now + 1e-4, error_about(f, GW, 11, 0))])
    s, report, _ = run(net, count=5, interval_s=0.2, deadline_s=10)
    assert (s.stats.errors, s.stats.received) == (1, 0)
    assert report.of(ErrorReported)[0].src == GW


def test_arp_failure_reports_queued_requests_like_the_kernel() -> None:
    net = FakeNet(echo_after(1e-4), arp=False)
    s, report, _ = run(net, count=8, interval_s=0.5, timeout_s=4.0)
    errors = report.of(ErrorReported)
    # solicitations at 0, 1, 2 s; given up at 3 s: requests 1-6 (0.0 .. 2.5 s) at once
    assert [e.seq for e in errors][:6] == [1, 2, 3, 4, 5, 6]
    assert all(e.local and e.src == ME and e.code == 1 for e in errors)
    assert len({e.ts for e in errors[:6]}) == 1
    assert (s.stats.transmitted, s.stats.pipesize) == (8, 6)


def test_forged_reply_with_the_wrong_nonce_is_not_counted() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(now + 1e-5, reply_to(frame, nonce=b"FORGED!!")),
                (now + 2e-5, reply_to(frame))]
    s, report, _ = run(FakeNet(answer), count=2, interval_s=0.1)
    assert (s.stats.received, s.stats.duplicates, s.stats.corrupted) == (2, 0, 0)
    assert [e.rtt_us for e in report.of(EchoReplied)] == [20, 20]


def test_duplicates_and_corrupted() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(now + 1e-5, reply_to(frame, corrupt=True)), (now + 2e-5, reply_to(frame)),
                (now + 3e-5, reply_to(frame))]
    s, report, _ = run(FakeNet(answer), count=2, interval_s=0.1)
    # the run ends as soon as the last request is answered: its duplicate is not there yet
    assert (s.stats.received, s.stats.duplicates, s.stats.corrupted) == (2, 1, 2)
    assert [(e.seq, e.checksum_ok, e.duplicate) for e in report.of(EchoReplied)] == [
        (1, False, False), (1, True, False), (1, True, True), (2, False, False),
        (2, True, False)]


def test_stop_flag_ends_the_run() -> None:
    net = FakeNet(echo_after(1e-4))
    opts = PingOptions()
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, net, net, clock=net.clock, wait=net.wait)
    engine.stop.flag = True
    s = PingStrategy(opts, Report(), src=ME, dst=TARGET, next_hop=GW, dst_mac=GW_MAC,
                     engine=engine)
    engine.run(s)
    assert s.stats.transmitted == 0


def test_status_request_asks_the_report_once() -> None:
    net = FakeNet(echo_after(1e-4))
    report = Report()
    opts = PingOptions(count=2, interval_s=0.1)
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, net, net, clock=net.clock, wait=net.wait)
    engine.preset(GW, GW_MAC)
    engine.stop.status = True
    s = PingStrategy(opts, report, src=ME, dst=TARGET, next_hop=GW, dst_mac=None,
                     engine=engine)
    engine.run(s)
    assert report.statuses == 1 and s.stats.received == 2


def test_every_reply_already_captured_is_read_before_the_end() -> None:
    """The false loss of a fast run: the last replies sit in the capture when ping would
    stop; the engine reads until the capture says it holds nothing more."""
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(now, reply_to(frame))]  # queued at once, read only at the next drain
    s, report, _ = run(FakeNet(answer), count=1000, interval_s=0)
    assert s.stats.received == 1000
    assert [e.seq for e in report.of(EchoReplied)][-3:] == [998, 999, 1000]


def test_sequence_numbers_wrap_like_iputils() -> None:
    net = FakeNet(echo_after(1e-6))
    s, report, _ = run(net, count=65540, interval_s=0)
    seqs = [e.seq for e in report.of(EchoReplied)]
    assert seqs[65533:65540] == [65534, 65535, 0, 1, 2, 3, 4]
    assert s.stats.received == 65540 and s.stats.duplicates == 0


def test_pending_state_stays_bounded_in_a_long_run() -> None:
    net = FakeNet(echo_after(1e-6))
    s, _, _ = run(net, count=20000, interval_s=0)
    assert len(s._pending) < 10 and s.stats.received == 20000


# --- fast path vs slow path ---

def test_fast_path_gives_the_slow_paths_answer() -> None:
    from pcapping.probe.engine import Frame

    replies: dict[str, list[EchoReplied]] = {}
    for name in ("fast", "slow"):
        net = FakeNet(echo_after(0))
        report = Report()
        link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
        engine = Engine(link, net, net, clock=net.clock, wait=net.wait)
        s = PingStrategy(PingOptions(count=1), report, src=ME, dst=TARGET, next_hop=GW,
                         dst_mac=GW_MAC, engine=engine, ident=0x1234, nonce=NONCE)
        probe = s.next_probes(1.0, 1)[0]
        request = ETH + bytes(probe.datagram)
        s.departed(1, EPOCH, 10)
        reply = reply_to(request)
        if name == "fast":
            assert s.fast(reply, 14, EPOCH, 40)
        else:
            assert s.on_frame(Frame(reply, EPOCH, 40, 1))
        replies[name] = report.of(EchoReplied)
    assert replies["fast"] == replies["slow"] and replies["fast"][0].rtt_us == 30


def test_fast_path_declines_what_is_not_ours() -> None:
    net = FakeNet(echo_after(0))
    link = Link("pc0", "ethernet", 1, 1500, MY_MAC, ME)
    engine = Engine(link, net, net, clock=net.clock, wait=net.wait)
    s = PingStrategy(PingOptions(count=5), Report(), src=ME, dst=TARGET, next_hop=GW,
                     dst_mac=GW_MAC, engine=engine, ident=0x1234, nonce=NONCE)
    request = ETH + bytes(s.next_probes(1.0, 1)[0].datagram)
    good = reply_to(request)
    assert not s.fast(reply_to(request, ident=0x4321), 14, 1, 1)
    assert not s.fast(reply_to(request, nonce=b"other!!!"), 14, 1, 1)
    assert not s.fast(reply_to(request, corrupt=True), 14, 1, 1)  # the slow path says so
    bad_ip = bytearray(good)
    bad_ip[24] ^= 0xFF  # IP checksum
    assert not s.fast(bytes(bad_ip), 14, 1, 1)
    unsent = bytearray(good)
    unsent[14 + 27] = 9  # a sequence number never sent
    assert not s.fast(bytes(unsent), 14, 1, 1)
    assert s.fast(good, 14, 1, 1)


# --- fragments and path MTU ---

def fragmenting_target(mtu: int, rtt_s: float = 1e-4) -> Answer:
    """A target whose link has MTU ``mtu``: large requests arrive in pieces (ignored
    here), replies leave in fragments; a DF request over r2's MTU gets Frag Needed."""
    pieces: dict[int, list[bytes]] = {}

    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        ip = d.ip
        if ip.is_fragment:  # our own fragments: the target reassembles them
            pieces.setdefault(ip.ident, []).append(frame)
            if ip.mf:
                return []
            whole = _reassemble(pieces.pop(ip.ident))
            d = decode_frame(whole)
            frame = whole
        elif ip.df and ip.total_length > mtu:
            return [(now + rtt_s / 2, error_about(frame, R2, 3, 4,
                                                  rest=b"\0\0" + mtu.to_bytes(2, "big")))]
        reply = reply_to(frame)
        out = []
        for i, f in enumerate(fragment_ipv4(reply[14:], mtu)):
            out.append((now + rtt_s + i * 1e-6, ETH + f))
        return out
    return answer


def _reassemble(frames: list[bytes]) -> bytes:
    from pcapping.wire.frag import Reassembled, Reassembler

    r = Reassembler()
    for f in frames:
        got = r.add_ipv4(f[14:], 0.0)
    assert isinstance(got, Reassembled)
    return ETH + got.datagram


def test_fragmented_replies_are_matched_whole_and_timed_at_the_last_fragment() -> None:
    s, report, _ = run(FakeNet(fragmenting_target(1280)), count=2, interval_s=0.2,
                       size=1300, pmtudisc="dont")
    replies = report.of(EchoReplied)
    assert [(r.seq, r.icmp_length, r.fragments, r.truncated) for r in replies] == [
        (1, 1308, 2, False), (2, 1308, 2, False)]
    assert all(r.rtt_us == 101 for r in replies)  # the second fragment came 1 µs later
    assert s.stats.received == 2


def test_want_learns_the_path_mtu_and_fragments_later_requests() -> None:
    net = FakeNet(fragmenting_target(1280))
    s, report, engine = run(net, count=3, interval_s=0.2, size=1400)
    errors = report.of(ErrorReported)
    assert [(e.seq, e.mtu) for e in errors] == [(1, 1280)]
    assert [(r.seq, r.icmp_length) for r in report.of(EchoReplied)] == [(2, 1408), (3, 1408)]
    assert engine.path_mtu(TARGET) == 1280
    sizes = [len(f) - 14 for f in net.injected[1:]]
    assert sizes[0] == 1428  # the first request went whole, with DF
    assert max(sizes[1:]) <= 1280 and len(sizes) == 5  # then two requests in two pieces
    later = [decode_frame(f).ip for f in net.injected[2:]]
    assert not any(ip.df for ip in later)  # type: ignore[union-attr]


def test_do_refuses_locally_once_the_path_mtu_is_known() -> None:
    s, report, _ = run(FakeNet(fragmenting_target(1280)), count=3, interval_s=0.2,
                       size=1400, pmtudisc="do")
    assert [e.seq for e in report.of(ErrorReported)] == [1]
    assert [(e.seq, e.mtu) for e in report.of(LocalError)] == [(2, 1280), (3, 1280)]
    assert (s.stats.transmitted, s.stats.errors, s.stats.received) == (3, 3, 0)


def test_do_refuses_above_the_link_mtu_at_once() -> None:
    net = FakeNet(echo_after(1e-4))
    s, report, _ = run(net, count=1, size=3000, pmtudisc="do")
    assert [(e.seq, e.mtu) for e in report.of(LocalError)] == [(1, 1500)]
    assert len(net.injected) == 0  # nothing sent, not even ARP


def test_probe_ignores_the_learnt_path_mtu() -> None:
    s, report, _ = run(FakeNet(fragmenting_target(1280)), count=3, interval_s=0.2,
                       size=1400, pmtudisc="probe")
    assert [e.seq for e in report.of(ErrorReported)] == [1, 2, 3]


def test_a_reply_missing_a_fragment_is_a_verdict_not_a_reply() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        parts = fragment_ipv4(reply_to(frame)[14:], 1280)
        return [(now + 1e-4, ETH + parts[0])]  # the last fragment never comes
    net = FakeNet(answer)
    s, report, engine = run(net, count=1, size=1300, pmtudisc="dont", timeout_s=1.0)
    assert s.stats.received == 0 and not report.of(EchoReplied)
    verdicts = report.of(Unassembled)
    assert len(verdicts) == 1 and verdicts[0].seq == 1
    assert verdicts[0].reason.startswith("missing bytes 1256-")


def test_overlapping_reply_fragments_are_refused() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        parts = fragment_ipv4(reply_to(frame)[14:], 1280)
        evil = bytearray(parts[1])
        evil[6:8] = (1248 // 8).to_bytes(2, "big")  # starts 8 bytes inside the first
        h = IPv4Header.parse(bytes(evil))
        evil = bytearray(IPv4Header(h.src, h.dst, h.protocol, h.ttl, h.ident, h.tos, h.flags,
                                    h.frag_offset, h.total_length).encode(bytes(evil[20:])))
        return [(now + 1e-4, ETH + parts[0]), (now + 2e-4, ETH + bytes(evil))]
    s, report, _ = run(FakeNet(answer), count=1, size=1300, pmtudisc="dont", timeout_s=1.0)
    assert s.stats.received == 0
    assert [v.reason for v in report.of(Unassembled)] == ["overlapping fragments"]


# --- options ---

def test_outstanding_reports_the_unanswered_previous_request() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [] if d.icmp.seq == 2 else [(now + 1e-4, reply_to(frame))]
    s, report, _ = run(FakeNet(answer), count=4, interval_s=0.1, outstanding=True)
    assert report.outstanding_seqs == [2]


def test_preload_sends_back_to_back_then_by_interval() -> None:
    net = FakeNet(echo_after(1e-3))
    run(net, count=5, interval_s=0.5, preload=3)
    times = [t for t, f in _departures(net)]
    assert times[1] - times[0] < 1e-3 and times[2] - times[1] < 1e-3
    assert times[4] - times[3] == pytest.approx(0.5, abs=2e-3)


def _departures(net: FakeNet) -> list[tuple[float, bytes]]:
    return net.sent_log  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _log_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    original = FakeNet.send

    def send(self: FakeNet, frame: bytes | bytearray) -> None:
        log = self.__dict__.setdefault("sent_log", [])
        if decode_frame(bytes(frame)).icmp is not None:
            log.append((self.now, bytes(frame)))
        original(self, frame)
    monkeypatch.setattr(FakeNet, "send", send)


def test_flood_keeps_one_request_in_flight_or_ten_per_100_ms() -> None:
    net = FakeNet(lambda d, f, now: [])  # nothing answers
    run(net, count=11, interval_s=0, interval_given=False, flood=True, timeout_s=0.1)
    times = [t for t, f in _departures(net)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g == pytest.approx(0.010, abs=1e-3) for g in gaps)


def test_flood_with_answers_sends_as_fast_as_they_come() -> None:
    net = FakeNet(echo_after(2e-5))
    s, _, _ = run(net, count=200, flood=True)
    times = [t for t, f in _departures(net)]
    assert times[-1] - times[0] < 200 * 3e-5 and s.stats.received == 200


def test_pmtu_decision_matches_the_kernel_modes() -> None:
    assert pmtu_decision("do", 1428, 1280, 1500) == (True, 1280)
    assert pmtu_decision("do", 1200, 1280, 1500) == (True, None)
    assert pmtu_decision("want", 1428, 1280, 1500) == (False, None)
    assert pmtu_decision("want", 1200, 1280, 1500) == (True, None)
    assert pmtu_decision(None, 1200, 1280, 1500) == (True, None)  # type: ignore[arg-type]
    assert pmtu_decision("dont", 1200, 1280, 1500) == (False, None)
    assert pmtu_decision("probe", 1428, 1280, 1500) == (True, None)
    assert pmtu_decision("probe", 3028, 1280, 1500) == (True, 1500)


# --- pacers ---

def test_interval_pacer_follows_iputils_tokens() -> None:
    p = IntervalPacer(1000, preload=2)
    t = 0.0
    assert p.ready(t, 0)
    p.sent(t)
    assert p.ready(t, 1)  # the preload token
    p.sent(t)
    assert not p.ready(0.5, 2) and p.next_at(0.5, 2) == pytest.approx(1.0)
    assert p.ready(1.0, 2)


def test_rate_pacer_holds_its_rate() -> None:
    p = RatePacer(1000.0, burst=10)
    sent, t = 0, 0.0
    while t < 2.0:
        n = p.ready(t, 0)
        p.sent(t, n)
        sent += n
        t += 0.0007
    assert 1990 <= sent <= 2010


def test_window_pacer_caps_outstanding() -> None:
    p = WindowPacer(16)
    assert p.ready(0.0, 0) == 16 and p.ready(0.0, 10) == 6 and p.ready(0.0, 16) == 0
    g = WindowPacer(3, gap_s=0.05)
    assert g.ready(0.0, 0) == 1
    g.sent(0.0)
    assert g.ready(0.01, 1) == 0 and g.ready(0.05, 1) == 1


# --- the flood lane (pump) against the generic path ---

def _mixed_answers(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
    """At once (so the lane reads them in its own turn): good replies, and every few
    requests something the lane must not count as a good reply: a bad ICMP checksum, a
    bad IP header checksum, a nonzero code, a duplicate, a time exceeded, a stranger's
    reply."""
    seq = d.icmp.seq
    good = reply_to(frame, ip_ident=seq)
    kind = seq % 11
    if kind == 3:
        return [(now, reply_to(frame, corrupt=True))]
    if kind == 4:
        bad = bytearray(good)
        bad[24] ^= 0x10  # the IP header checksum
        return [(now, bytes(bad))]
    if kind == 5:
        odd = bytearray(good)
        odd[35] = 5  # ICMP code 5 (the checksum no longer fits)
        return [(now, bytes(odd))]
    if kind == 6:
        return [(now, good), (now, good)]
    if kind == 7:
        return [(now, error_about(frame, GW, 11, 0))]
    if kind == 8:
        return [(now, reply_to(frame, ident=0x4321)), (now + 1e-6, good)]
    return [(now + (seq % 5) * 1e-6, good)]


def _flood_run(monkeypatch: pytest.MonkeyPatch, lane: bool, **kw: Any,
               ) -> tuple[PingStrategy, str]:
    from pcapping.report.ping import TextPingReport

    out: list[str] = []
    report = TextPingReport(out.append, out.append, size=56, dst=TARGET, flood=True,
                            quiet=kw.pop("quiet", False))
    with monkeypatch.context() as m:
        if not lane:
            m.setattr(PingStrategy, "_build_lane", lambda self: False)
        calls: list[int] = []
        counted = PingStrategy._pump_counted

        def spy(self: PingStrategy, now: float, lane_: tuple) -> int:
            calls.append(1)
            return counted(self, now, lane_)
        m.setattr(PingStrategy, "_pump_counted", spy)
        net = FakeNet(_mixed_answers)
        s, _, _ = run(net, report, interval_s=0, interval_given=False, flood=True, **kw)
    assert bool(calls) == lane
    return s, "".join(out)


@pytest.mark.parametrize("quiet", [False, True])
def test_the_flood_lane_counts_what_the_generic_path_counts(
        monkeypatch: pytest.MonkeyPatch, quiet: bool) -> None:
    fields = ("transmitted", "received", "duplicates", "corrupted", "errors", "timed",
              "tsum", "tsum2", "tmin", "tmax", "rtt8", "jitter_sum", "last_rtt", "pipesize")
    lane, lane_out = _flood_run(monkeypatch, True, count=700, quiet=quiet)
    generic, generic_out = _flood_run(monkeypatch, False, count=700, quiet=quiet)
    assert ({f: getattr(lane.stats, f) for f in fields}
            == {f: getattr(generic.stats, f) for f in fields})
    assert lane.stats.histogram.counts == generic.stats.histogram.counts
    assert lane_out == generic_out
    st = lane.stats
    # 700 requests: 3 x 64 corrupted (ICMP or IP checksum, the code), 64 duplicates,
    # 64 time exceeded; strangers are never counted
    assert (st.transmitted, st.corrupted, st.duplicates, st.errors) == (700, 192, 64, 64)
    assert st.received == 700 - 192 - 64


def test_the_flood_lane_wraps_the_sequence_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    s, _ = _flood_run(monkeypatch, True, count=66_000, quiet=True)
    assert s.stats.transmitted == 66_000 and s.stats.errors == 6000
    assert s.stats.received + s.stats.corrupted + s.stats.errors == 66_000
