"""The ping state machine: builds our echo requests and recognises what answers them.

``PingTracker`` is pure: it takes sequence numbers, clocks and decoded frames, and returns
frames and events.  The live loop in ``send.py`` (and the fakes in the tests) feed it.

Matching (DESIGN.md):

- a reply is ours when it is an echo reply to our source address with our identifier, a
  sequence number we sent, and our per-run nonce at the start of its payload: another
  pinger on the same host, even one using the same identifier, is never counted;
- an error is ours when the datagram it quotes is our echo request to the target (our
  identifier, a sequence we sent, and the nonce when the router quoted that far);
- our own request, seen leaving on the capture handle, gives the departure timestamp the
  RTT is measured from (capture clock at both ends, integer microseconds).
"""

from __future__ import annotations

from typing import NamedTuple

from pcapping.decode import Decoded
from pcapping.wire.checksum import checksum_should_be
from pcapping.wire.ethernet import EthernetHeader
from pcapping.wire.icmp import ICMPEcho, ICMPError
from pcapping.wire.ipv4 import DF, IPv4Header

NONCE_BYTES = 8


class Departed(NamedTuple):
    """Our request, seen leaving on the capture handle."""

    seq: int
    ts_sec: int
    ts_usec: int

    @property
    def ts(self) -> float:
        return self.ts_sec + self.ts_usec / 1e6


class EchoReplied(NamedTuple):
    seq: int
    src: bytes
    ttl: int
    icmp_length: int  # ICMP header + data, iputils' "N bytes from"
    rtt_us: int | None  # None when the departure was never seen
    ts: float
    duplicate: bool
    checksum_ok: bool  # False: counted as corrupted
    checksum: int | None
    checksum_should_be: int | None
    truncated: bool  # fewer data bytes than we sent


class ErrorReported(NamedTuple):
    seq: int
    src: bytes  # who sent the ICMP error (our own address for a local ARP failure)
    icmp_type: int
    code: int
    ts: float
    mtu: int | None = None
    gateway: bytes | None = None
    pointer: int | None = None
    local: bool = False  # generated here: the next hop never answered ARP
    counted: bool = True  # an error in the statistics (redirect and source quench are not)
    checksum_ok: bool = True
    checksum: int | None = None
    checksum_should_be: int | None = None
    quoted_checksum_ok: bool | None = None  # the quoted IP header's own verdict


class TimedOut(NamedTuple):
    seq: int


Event = Departed | EchoReplied | ErrorReported | TimedOut


def make_payload(size: int, nonce: bytes, pattern: bytes | None = None) -> bytes:
    """iputils' payload (bytes 0, 1, 2, ... or the -p pattern repeated) with our nonce first."""
    if pattern:
        body = (pattern * (size // len(pattern) + 1))[:size]
    else:
        body = bytes(i & 0xFF for i in range(size))
    n = min(NONCE_BYTES, size)
    return nonce[:n] + body[n:]


class PingTracker:
    """Builds requests, matches answers, keeps per-sequence state."""

    def __init__(
        self,
        *,
        src: bytes,
        dst: bytes,
        src_mac: bytes,
        dst_mac: bytes | None,
        ident: int,
        nonce: bytes,
        size: int = 56,
        ttl: int = 64,
        dont_fragment: bool = False,
        pattern: bytes | None = None,
        timeout_s: float = 2.0,
        ip_ident: int = 0,
    ) -> None:
        self.src = src
        self.dst = dst
        self.src_mac = src_mac
        self.dst_mac = dst_mac
        self.ident = ident & 0xFFFF
        self.nonce = nonce[:NONCE_BYTES]
        self.size = size
        self.ttl = ttl
        self.flags = DF if dont_fragment else 0
        self.timeout_s = timeout_s
        self.ip_ident = ip_ident & 0xFFFF
        self.payload = make_payload(size, self.nonce, pattern)
        self._nonce_len = min(NONCE_BYTES, size)
        self.sent_at: dict[int, float] = {}  # wire seq -> clock passed to request()
        self.departed: dict[int, tuple[int, int]] = {}  # wire seq -> capture (sec, usec)
        self.answered: set[int] = set()  # replied (good checksum) or errored
        self.replied: set[int] = set()
        self.timed_out: set[int] = set()
        self._pending: dict[int, float] = {}  # unanswered, not yet timed out, in send order

    # --- building ---
    def frame(self, seq: int) -> bytes:
        """The whole Ethernet frame of echo request ``seq`` (no state change)."""
        wire_seq = seq & 0xFFFF
        icmp = ICMPEcho(False, self.ident, wire_seq, self.payload).encode()
        ip = IPv4Header(self.src, self.dst, 1, ttl=self.ttl,
                        ident=(self.ip_ident + wire_seq) & 0xFFFF, flags=self.flags)
        eth = EthernetHeader(self.dst_mac or b"\0" * 6, self.src_mac, 0x0800)
        return eth.encode() + ip.encode(icmp)

    def request(self, seq: int, now: float) -> bytes:
        """Record that request ``seq`` goes out at ``now`` and return its frame."""
        wire_seq = seq & 0xFFFF
        self.sent_at[wire_seq] = now
        self.departed.pop(wire_seq, None)
        for s in (self.answered, self.replied, self.timed_out):
            s.discard(wire_seq)
        self._pending.pop(wire_seq, None)
        self._pending[wire_seq] = now
        return self.frame(seq)

    # --- matching ---
    def _nonce_ok(self, payload: bytes, whole: bool) -> bool:
        n = self._nonce_len
        if len(payload) < n:
            return not whole and payload == self.nonce[: len(payload)]
        return payload[:n] == self.nonce[:n]

    def handle(self, d: Decoded, ts: float | None = None) -> Event | None:
        """The event a decoded frame means for this run, or None when it is not ours."""
        ip = d.ip
        msg = d.icmp
        if ip is None or msg is None or ip.protocol != 1:
            return None
        when = d.ts if ts is None else ts
        if isinstance(msg, ICMPEcho):
            if msg.ident != self.ident or msg.seq not in self.sent_at:
                return None
            if not self._nonce_ok(msg.payload, whole=False):
                return None
            if not msg.is_reply:
                if ip.src != self.src or ip.dst != self.dst or msg.seq in self.departed:
                    return None
                self.departed[msg.seq] = (d.ts_sec, d.ts_usec)
                return Departed(msg.seq, d.ts_sec, d.ts_usec)
            if ip.dst != self.src:
                return None
            return self._reply(d, msg, when)
        if isinstance(msg, ICMPError):
            if ip.dst != self.src:
                return None
            return self._error(d, msg, when)
        return None

    def _rtt_us(self, seq: int, d: Decoded) -> int | None:
        dep = self.departed.get(seq)
        if dep is None:
            return None
        rtt = (d.ts_sec - dep[0]) * 1_000_000 + (d.ts_usec - dep[1])
        return max(rtt, 0)

    def _verdict(self, d: Decoded, ok: bool | None, stored: int | None) -> int | None:
        if ok is not False or stored is None:
            return None
        return checksum_should_be(stored, d.data[d.l4_offset : d.l4_end])

    def _reply(self, d: Decoded, msg: ICMPEcho, when: float) -> EchoReplied:
        seq = msg.seq
        ok = msg.checksum_ok is not False
        duplicate = ok and seq in self.replied
        if ok:
            self.replied.add(seq)
            self.answered.add(seq)
            self._pending.pop(seq, None)
        assert d.ip is not None
        return EchoReplied(
            seq=seq, src=d.ip.src, ttl=d.ip.ttl, icmp_length=msg.length,
            rtt_us=self._rtt_us(seq, d), ts=when, duplicate=duplicate, checksum_ok=ok,
            checksum=msg.checksum,
            checksum_should_be=self._verdict(d, msg.checksum_ok, msg.checksum),
            truncated=len(msg.payload) < self.size,
        )

    def _error(self, d: Decoded, msg: ICMPError, when: float) -> ErrorReported | None:
        q = msg.quoted
        if q.ip is None or q.ip.dst != self.dst or q.ip.protocol != 1:
            return None
        inner = q.icmp
        if not isinstance(inner, ICMPEcho) or inner.is_reply or inner.ident != self.ident:
            return None
        if inner.seq not in self.sent_at or not self._nonce_ok(inner.payload, whole=False):
            return None
        ok = msg.checksum_ok is not False
        counted = msg.icmp_type not in (4, 5)
        if ok and counted:
            self.answered.add(inner.seq)
            self._pending.pop(inner.seq, None)
        assert d.ip is not None
        return ErrorReported(
            seq=inner.seq, src=d.ip.src, icmp_type=msg.icmp_type, code=msg.code, ts=when,
            mtu=msg.mtu, gateway=msg.gateway, pointer=msg.pointer, counted=counted,
            checksum_ok=ok, checksum=msg.checksum,
            checksum_should_be=self._verdict(d, msg.checksum_ok, msg.checksum),
            quoted_checksum_ok=q.ip.checksum_ok,
        )

    # --- local events and time ---
    def local_unreachable(self, seq: int, ts: float) -> ErrorReported:
        """The next hop never answered ARP: what the kernel reports for a queued request."""
        wire_seq = seq & 0xFFFF
        self.answered.add(wire_seq)
        self._pending.pop(wire_seq, None)
        return ErrorReported(seq=wire_seq, src=self.src, icmp_type=3, code=1, ts=ts,
                             local=True)

    def unanswered(self) -> list[int]:
        """Sequences sent and not answered yet, oldest first."""
        return [s for s in self.sent_at if s not in self.answered]

    def next_expiry(self) -> float | None:
        """When the oldest pending request times out (clock of ``request``), or None."""
        for at in self._pending.values():
            return at + self.timeout_s
        return None

    def expire(self, now: float, final: bool = False) -> list[TimedOut]:
        """Requests unanswered for ``timeout_s`` (all unanswered ones when ``final``)."""
        out = []
        for seq, at in list(self._pending.items()):
            if not final and now - at < self.timeout_s:
                break
            del self._pending[seq]
            self.timed_out.add(seq)
            out.append(TimedOut(seq))
        return out
