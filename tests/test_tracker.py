"""PingTracker and the send loop on a fake network: fake capture, injector and clock, no root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pcapping.decode import decode_frame
from pcapping.io.pcapfile import Captured
from pcapping.probe.resolve import ArpResolver, arp_request
from pcapping.probe.stats import PingStats
from pcapping.probe.tracker import (
    Departed,
    EchoReplied,
    ErrorReported,
    PingTracker,
    TimedOut,
    make_payload,
)
from pcapping.send import Options, Sink, _loop, _Stop
from pcapping.wire.arp import ARPPacket
from pcapping.wire.ethernet import EthernetHeader
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


def tracker(**kw: Any) -> PingTracker:
    args: dict[str, Any] = dict(src=ME, dst=TARGET, src_mac=MY_MAC, dst_mac=GW_MAC,
                                ident=0x1234, nonce=NONCE, timeout_s=2.0)
    args.update(kw)
    return PingTracker(**args)


def at(frame: bytes, sec: int, usec: int) -> Any:
    return decode_frame(frame, 1, ts_sec=sec, ts_usec=usec)


def reply_to(request: bytes, *, ttl: int = 62, nonce: bytes | None = None,
             ident: int | None = None, corrupt: bool = False) -> bytes:
    d = decode_frame(request)
    assert isinstance(d.icmp, ICMPEcho)
    payload = d.icmp.payload
    if nonce is not None:
        payload = nonce + payload[len(nonce):]
    icmp = ICMPEcho(True, d.icmp.ident if ident is None else ident, d.icmp.seq,
                    payload).encode()
    if corrupt:
        icmp = icmp[:2] + bytes([icmp[2] ^ 0xFF]) + icmp[3:]
    ip = IPv4Header(TARGET, ME, 1, ttl=ttl).encode(icmp)
    return EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode() + ip


def error_about(request: bytes, src: bytes, icmp_type: int, code: int, quote: int = 28,
                rest: bytes = b"\0\0\0\0", corrupt: bool = False) -> bytes:
    quoted = request[14 : 14 + quote]
    icmp = ICMPError(icmp_type, code, quoted, rest).encode()
    if corrupt:
        icmp = icmp[:2] + bytes([icmp[2] ^ 0x01]) + icmp[3:]
    ip = IPv4Header(src, ME, 1, ttl=63).encode(icmp)
    return EthernetHeader(MY_MAC, GW_MAC, 0x0800).encode() + ip


# --- PingTracker, pure ---

def test_request_frame_fields() -> None:
    t = tracker(ttl=7, size=56, dont_fragment=True)
    d = decode_frame(t.request(1, 0.0))
    assert d.link.dst == GW_MAC and d.link.src == MY_MAC
    assert d.ip.src == ME and d.ip.dst == TARGET and d.ip.ttl == 7 and d.ip.df
    assert d.ip.total_length == 84 and d.ip.checksum_ok
    assert isinstance(d.icmp, ICMPEcho) and not d.icmp.is_reply and d.icmp.checksum_ok
    assert (d.icmp.ident, d.icmp.seq) == (0x1234, 1)
    assert d.icmp.payload[:8] == NONCE and d.icmp.payload[8:12] == bytes([8, 9, 10, 11])


def test_payload_pattern_and_small_sizes() -> None:
    assert make_payload(12, NONCE, b"\xab\xcd") == NONCE + b"\xab\xcd\xab\xcd"
    assert make_payload(3, NONCE) == b"NON"
    assert make_payload(0, NONCE) == b""


def test_rtt_from_departure_to_reply_capture_timestamps() -> None:
    t = tracker()
    req = t.request(1, 100.0)
    dep = t.handle(at(req, EPOCH, 999_990))
    assert dep == Departed(1, EPOCH, 999_990)
    ev = t.handle(at(reply_to(req), EPOCH + 1, 24))
    assert isinstance(ev, EchoReplied)
    assert ev.rtt_us == 34 and ev.ttl == 62 and ev.icmp_length == 64 and ev.src == TARGET
    assert not ev.duplicate and ev.checksum_ok
    again = t.handle(at(reply_to(req), EPOCH + 1, 50))
    assert isinstance(again, EchoReplied) and again.duplicate


def test_other_pinger_same_ident_is_not_ours() -> None:
    t = tracker()
    req = t.request(1, 0.0)
    assert t.handle(at(reply_to(req, nonce=b"OTHERONE"), EPOCH, 5)) is None
    assert t.handle(at(reply_to(req, ident=0x4321), EPOCH, 5)) is None
    other = reply_to(tracker().request(9, 0.0))  # a seq we never sent
    assert t.handle(at(other, EPOCH, 5)) is None
    assert t.unanswered() == [1]


def test_corrupted_reply_is_reported_not_answered() -> None:
    t = tracker()
    req = t.request(1, 0.0)
    bad = reply_to(req, corrupt=True)
    ev = t.handle(at(bad, EPOCH, 5))
    assert isinstance(ev, EchoReplied) and not ev.checksum_ok
    assert ev.checksum is not None and ev.checksum_should_be is not None
    assert ev.checksum_should_be != ev.checksum
    assert t.unanswered() == [1]


def test_errors_match_quoted_request() -> None:
    t = tracker()
    req = t.request(3, 0.0)
    ev = t.handle(at(error_about(req, GW, 11, 0), EPOCH, 1))
    assert isinstance(ev, ErrorReported)
    assert (ev.seq, ev.src, ev.icmp_type, ev.code, ev.counted) == (3, GW, 11, 0, True)
    frag = t.handle(at(error_about(req, R2, 3, 4, rest=b"\0\0\x05\x00"), EPOCH, 2))
    assert isinstance(frag, ErrorReported) and frag.mtu == 1280
    # quoting the whole request: the nonce is checked too
    full = t.handle(at(error_about(req, R2, 3, 13, quote=84), EPOCH, 3))
    assert isinstance(full, ErrorReported) and full.code == 13
    other = tracker(nonce=b"ELSEWHER").request(3, 0.0)
    assert t.handle(at(error_about(other, R2, 3, 13, quote=84), EPOCH, 4)) is None
    redirect = t.handle(at(error_about(req, GW, 5, 1, rest=R2), EPOCH, 5))
    assert isinstance(redirect, ErrorReported) and not redirect.counted
    assert redirect.gateway == R2
    bad = t.handle(at(error_about(req, GW, 11, 0, corrupt=True), EPOCH, 6))
    assert isinstance(bad, ErrorReported) and not bad.checksum_ok


def test_error_about_another_destination_is_not_ours() -> None:
    t = tracker()
    other = tracker(dst=GW).request(1, 0.0)
    t.request(1, 0.0)
    assert t.handle(at(error_about(other, GW, 11, 0), EPOCH, 1)) is None


def test_timeouts() -> None:
    t = tracker(timeout_s=2.0)
    t.request(1, 0.0)
    t.request(2, 1.0)
    assert t.next_expiry() == 2.0
    assert t.expire(1.5) == []
    assert t.expire(2.0) == [TimedOut(1)]
    assert t.expire(10.0, final=True) == [TimedOut(2)]
    assert t.next_expiry() is None


def test_local_unreachable() -> None:
    t = tracker()
    t.request(1, 0.0)
    ev = t.local_unreachable(1, 5.0)
    assert (ev.src, ev.icmp_type, ev.code, ev.local) == (ME, 3, 1, True)
    assert t.unanswered() == []


def test_arp_resolver_paces_like_the_kernel() -> None:
    r = ArpResolver(MY_MAC, ME, GW)
    frame = r.start(0.0)
    d = decode_frame(frame)
    assert d.arp is not None and d.arp.op == 1 and d.arp.tpa == GW and d.link.dst == b"\xff" * 6
    assert r.poll(0.5) is None
    assert r.poll(1.0)[0] == "probe"  # type: ignore[index]
    assert r.poll(2.0)[0] == "probe"  # type: ignore[index]
    assert r.poll(2.9) is None
    assert r.poll(3.0) == ("failed", None)
    assert not r.active
    answer = EthernetHeader(MY_MAC, GW_MAC, 0x0806).encode() + ARPPacket(
        2, GW_MAC, GW, MY_MAC, ME).encode()
    assert r.handle(decode_frame(answer)) == GW_MAC
    assert r.mac == GW_MAC


# --- the loop on a fake network ---

class FakeNet:
    """Capture handle B, injector A and the clock of a small simulated network."""

    def __init__(self, answer: Callable[[Any, bytes, float], list[tuple[float, bytes]]],
                 arp: bool = True) -> None:
        self.now = 0.0
        self.queue: list[tuple[float, bytes]] = []
        self.answer = answer
        self.arp = arp
        self.fd = -1
        self.linktype = 1
        self.injected: list[bytes] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def inject(self, frame: bytes) -> None:
        self.injected.append(frame)
        self.queue.append((self.now, frame))  # handle B sees it leave
        d = decode_frame(frame)
        if d.arp is not None:
            if self.arp:
                reply = EthernetHeader(MY_MAC, GW_MAC, 0x0806).encode() + ARPPacket(
                    2, GW_MAC, GW, MY_MAC, ME).encode()
                self.queue.append((self.now + 50e-6, reply))
        else:
            self.queue.extend(self.answer(d, frame, self.now))
        self.queue.sort(key=lambda x: x[0])

    def wait(self, fds: list[int], delay: float) -> list[int]:
        if self.queue and self.queue[0][0] <= self.now + delay:
            self.now = max(self.now, self.queue[0][0])
            return [self.fd]
        self.now += delay
        return []

    def read(self) -> Captured | None:
        if not self.queue or self.queue[0][0] > self.now:
            return None
        when, frame = self.queue.pop(0)
        usec = round((EPOCH + when) * 1e6)
        return Captured(usec // 1_000_000, usec % 1_000_000, len(frame), frame, 1)


class ListSink(Sink):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def start(self, obj: dict[str, Any]) -> None:
        self.events.append(("start", obj["next_hop_mac"]))

    def reply(self, ev: EchoReplied) -> None:
        self.events.append(ev)

    def error(self, ev: ErrorReported) -> None:
        self.events.append(ev)

    def timeout(self, seq: int) -> None:
        self.events.append(TimedOut(seq))


def run_loop(net: FakeNet, opts: Options, t: PingTracker | None = None,
             local: bool = False) -> tuple[PingStats, int, ListSink]:
    sink = ListSink()
    stats = PingStats()
    tr = t or tracker(dst_mac=None, timeout_s=opts.timeout_s)
    resolver = None if local else ArpResolver(MY_MAC, ME, GW)
    stats, status = _loop(opts, sink, stats, tr, resolver, net, net, None, _Stop(),
                          lambda mac: sink.start({"next_hop_mac": mac}), local, decode_frame,
                          clock=net.clock, wall=net.wall, wait=net.wait)
    return stats, status, sink


def echo_after(rtt_s: float) -> Callable[[Any, bytes, float], list[tuple[float, bytes]]]:
    return lambda d, frame, now: [(now + rtt_s, reply_to(frame))]


def test_loop_replies_and_exits_when_last_reply_is_in() -> None:
    net = FakeNet(echo_after(91e-6))
    stats, status, sink = run_loop(net, Options(count=3, interval_s=1.0))
    replies = [e for e in sink.events if isinstance(e, EchoReplied)]
    assert [r.seq for r in replies] == [1, 2, 3]
    assert all(r.rtt_us == 91 for r in replies)
    assert sink.events[0] == ("start", GW_MAC)
    assert (stats.transmitted, stats.received, status) == (3, 3, 0)
    assert net.now < 2.01  # no linger once every request was answered
    assert arp_request(MY_MAC, ME, GW) == net.injected[0]


def test_loop_lost_replies_linger_then_exit_1() -> None:
    net = FakeNet(lambda d, f, now: [])
    stats, status, sink = run_loop(net, Options(count=2, interval_s=0.5, timeout_s=1.0))
    assert (stats.transmitted, stats.received, status) == (2, 0, 1)
    assert [e.seq for e in sink.events if isinstance(e, TimedOut)] == [1, 2]
    assert 1.49 < net.now < 1.6  # last request at 0.5 s, then -W 1 s


def test_loop_errors_and_deadline_stops_at_first_error() -> None:
    net = FakeNet(lambda d, f, now: [(now + 1e-4, error_about(f, GW, 11, 0))])
    stats, status, sink = run_loop(net, Options(count=5, interval_s=0.2, deadline_s=10))
    assert (stats.errors, stats.received, status) == (1, 0, 1)


def test_loop_arp_failure_reports_queued_requests_like_the_kernel() -> None:
    net = FakeNet(echo_after(1e-4), arp=False)
    stats, status, sink = run_loop(net, Options(count=8, interval_s=0.5, timeout_s=1.0))
    errors = [e for e in sink.events if isinstance(e, ErrorReported)]
    # probes at 0, 1, 2 s; given up at 3 s: requests 1-6 (0.0 .. 2.5 s) reported at once
    assert [e.seq for e in errors] == [1, 2, 3, 4, 5, 6]
    assert all(e.local and e.src == ME and e.code == 1 for e in errors)
    assert len({e.ts for e in errors}) == 1
    assert sink.events[0] == ("start", None)
    assert (stats.transmitted, stats.errors, stats.pipesize, status) == (8, 6, 6, 1)


def test_loop_forged_reply_with_wrong_nonce_not_counted() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(now + 1e-5, reply_to(frame, nonce=b"FORGED!!")),
                (now + 2e-5, reply_to(frame))]
    net = FakeNet(answer)
    stats, status, sink = run_loop(net, Options(count=2, interval_s=0.1))
    assert (stats.received, stats.duplicates, stats.corrupted) == (2, 0, 0)
    assert [e.rtt_us for e in sink.events if isinstance(e, EchoReplied)] == [20, 20]


def test_loop_duplicates_and_corrupted() -> None:
    def answer(d: Any, frame: bytes, now: float) -> list[tuple[float, bytes]]:
        return [(now + 1e-5, reply_to(frame, corrupt=True)), (now + 2e-5, reply_to(frame)),
                (now + 3e-5, reply_to(frame))]
    net = FakeNet(answer)
    stats, status, sink = run_loop(net, Options(count=2, interval_s=0.1))
    # the run ends as soon as the last request is answered: its duplicate is never read
    assert (stats.received, stats.duplicates, stats.corrupted, status) == (2, 1, 2, 0)
    assert [(e.seq, e.checksum_ok, e.duplicate) for e in sink.events
            if isinstance(e, EchoReplied)] == [
        (1, False, False), (1, True, False), (1, True, True), (2, False, False),
        (2, True, False)]


def test_loop_stop_flag_ends_run() -> None:
    net = FakeNet(echo_after(1e-4))
    stop = _Stop()
    stop.flag = True
    stats, status = _loop(Options(), ListSink(), PingStats(), tracker(), None, net, net, None,
                          stop, lambda mac: None, True, decode_frame, clock=net.clock,
                          wall=net.wall, wait=net.wait)
    assert stats.transmitted == 0 and status == 1
