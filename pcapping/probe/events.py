"""Typed events: what the strategies make of the frames they match, for the reports.

Events are plain values (NamedTuples).  Times: ``ts`` is the capture clock (seconds since
the epoch, microsecond resolution) of the frame that caused the event; ``rtt_us`` is the
difference of two capture timestamps, in integer microseconds.
"""

from __future__ import annotations

from typing import NamedTuple


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
    fragments: int = 1  # how many fragments the reply came in (reassembled when > 1)


class ErrorReported(NamedTuple):
    seq: int
    src: bytes  # who sent the ICMP error (our own address for a local failure)
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


class LocalError(NamedTuple):
    """The request was not sent: larger than the path MTU with DF (iputils' EMSGSIZE)."""

    seq: int
    mtu: int
    ts: float
    v6: bool = False


class Unassembled(NamedTuple):
    """A fragmented answer to one of our requests that never became whole."""

    seq: int | None  # from the first fragment, when it came
    src: bytes
    reason: str  # ReassemblyFailed.describe()
    fragments: int
    ts: float


class TimedOut(NamedTuple):
    seq: int




class ProbeAnswered(NamedTuple):
    """An RFC 8335 extended echo reply: what the target says about one of its interfaces."""

    seq: int
    src: bytes
    code: int  # 0 no error, 1 malformed query, 2 no such interface, ...
    state: int
    active: bool
    ipv4: bool
    ipv6: bool
    rtt_us: int | None
    ts: float
    ttl: int


Event = EchoReplied | ErrorReported | LocalError | Unassembled | TimedOut | ProbeAnswered
