"""report/ping.py: iputils 20221126 wording and number formatting, DESIGN.md JSON."""

from __future__ import annotations

import json

import pytest

from pcapping.probe.events import EchoReplied, ErrorReported
from pcapping.probe.stats import PingStats
from pcapping.report.ping import (
    error_line,
    error_text,
    header_line,
    json_error,
    json_reply,
    json_summary,
    reply_line,
    rtt_summary,
    rtt_text,
    status_line,
    summary_lines,
)

A = bytes([10, 77, 3, 2])
R1 = bytes([10, 77, 1, 1])
ME = bytes([10, 77, 1, 2])


@pytest.mark.parametrize(("us", "text"), [
    (0, "time=0.000 ms"), (91, "time=0.091 ms"), (999, "time=0.999 ms"),
    (1000, "time=1.00 ms"), (1234, "time=1.23 ms"), (9994, "time=9.99 ms"),
    (9995, "time=10.0 ms"), (12345, "time=12.3 ms"), (99949, "time=99.9 ms"),
    (99950, "time=100 ms"), (123456, "time=123 ms"), (1500000, "time=1500 ms"),
])
def test_rtt_precision(us: int, text: str) -> None:
    assert rtt_text(us) == text


UNREACH = [
    "Destination Net Unreachable", "Destination Host Unreachable",
    "Destination Protocol Unreachable", "Destination Port Unreachable",
    "Frag needed and DF set (mtu = 1280)", "Source Route Failed", "Destination Net Unknown",
    "Destination Host Unknown", "Source Host Isolated", "Destination Net Prohibited",
    "Destination Host Prohibited", "Destination Net Unreachable for Type of Service",
    "Destination Host Unreachable for Type of Service", "Packet filtered",
    "Precedence Violation", "Precedence Cutoff",
]


@pytest.mark.parametrize("code", range(16))
def test_every_unreachable_code(code: int) -> None:
    assert error_text(3, code, mtu=1280 if code == 4 else None) == UNREACH[code]


def test_other_error_wordings() -> None:
    assert error_text(3, 16) == "Dest Unreachable, Bad Code: 16"
    assert error_text(11, 0) == "Time to live exceeded"
    assert error_text(11, 1) == "Frag reassembly time exceeded"
    assert error_text(11, 7) == "Time exceeded, Bad Code: 7"
    assert error_text(4, 0) == "Source Quench"
    assert error_text(5, 1, gateway=R1) == "Redirect Host(New nexthop: 10.77.1.1)"
    assert error_text(5, 0, gateway=R1) == "Redirect Network(New nexthop: 10.77.1.1)"
    assert error_text(5, 2, gateway=R1).startswith("Redirect Type of Service and Network(")
    assert error_text(5, 3, gateway=R1).startswith("Redirect Type of Service and Host(")
    assert error_text(5, 9, gateway=R1).startswith("Redirect, Bad Code: 9(")
    assert error_text(12, 0, pointer=20) == "Parameter problem: pointer = 20"


def _reply(**kw: object) -> EchoReplied:
    base = dict(seq=1, src=A, ttl=62, icmp_length=64, rtt_us=91, ts=1763800000.123456,
                duplicate=False, checksum_ok=True, checksum=None, checksum_should_be=None,
                truncated=False)
    base.update(kw)
    return EchoReplied(**base)  # type: ignore[arg-type]


def test_reply_lines() -> None:
    assert reply_line(_reply(), 56) == "64 bytes from 10.77.3.2: icmp_seq=1 ttl=62 time=0.091 ms"
    assert reply_line(_reply(duplicate=True), 56).endswith("time=0.091 ms (DUP!)")
    bad = _reply(checksum_ok=False, checksum=0x1234, checksum_should_be=0x5678)
    assert reply_line(bad, 56).endswith("time=0.091 ms (wrong icmp cksum 1234 (->5678)!)")
    assert reply_line(_reply(), 56, timestamps=True).startswith("[1763800000.123456] 64 bytes")
    # iputils times a reply only with room for a timeval (16 bytes of data)
    assert reply_line(_reply(icmp_length=16), 8) == "16 bytes from 10.77.3.2: icmp_seq=1 ttl=62"
    assert reply_line(_reply(truncated=True), 56).endswith("ttl=62 (truncated)")


def test_error_lines() -> None:
    ev = ErrorReported(seq=2, src=R1, icmp_type=11, code=0, ts=1.0)
    assert error_line(ev) == "From 10.77.1.1 icmp_seq=2 Time to live exceeded"
    local = ErrorReported(seq=4, src=ME, icmp_type=3, code=1, ts=1.0, local=True)
    assert error_line(local) == "From 10.77.1.2 icmp_seq=4 Destination Host Unreachable"
    redirect = ErrorReported(seq=3, src=R1, icmp_type=5, code=1, ts=1.0, gateway=A,
                             counted=False)
    assert error_line(redirect) == (
        "From 10.77.1.1: icmp_seq=3 Redirect Host(New nexthop: 10.77.3.2)")
    bad = ev._replace(checksum_ok=False, checksum=0xABCD, checksum_should_be=0x1)
    assert error_line(bad).endswith("exceeded (wrong icmp cksum abcd (->1)!)")


def test_header() -> None:
    assert header_line("10.77.3.2", "10.77.3.2", 56) == (
        "PING 10.77.3.2 (10.77.3.2) 56(84) bytes of data.")
    assert header_line("t", "10.77.3.2", 1300, "10.77.1.2", "pc0") == (
        "PING t (10.77.3.2) from 10.77.1.2 pc0: 1300(1328) bytes of data.")


def _stats(rtts: list[int], sent: int, errors: int = 0) -> PingStats:
    s = PingStats()
    for i in range(sent):
        s.sent(i * 1.0)
        if i < len(rtts):
            s.reply(i + 1, rtts[i], False)
        elif i < len(rtts) + errors:
            s.error(i + 1)
    return s


def test_summary_matches_kernel_ping() -> None:
    # kernel ping in the lab: 0.117 and 0.076 ms -> 0.076/0.096/0.117/0.020
    s = _stats([117, 76], 2)
    s.last_send = 0.204
    assert summary_lines("10.79.3.2", s) == [
        "", "--- 10.79.3.2 ping statistics ---",
        "2 packets transmitted, 2 received, 0% packet loss, time 204ms",
        "rtt min/avg/max/mdev = 0.076/0.096/0.117/0.020 ms",
    ]


def test_summary_errors_only_ends_with_empty_line() -> None:
    s = _stats([], 1, errors=1)
    assert summary_lines("x", s)[2:] == [
        "1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms", ""]


def test_summary_loss_is_c_float_g() -> None:
    s = _stats([100], 3)
    assert "66.6667% packet loss" in summary_lines("x", s)[2]
    s = _stats([100], 6, errors=3)
    assert ", +3 errors, 83.3333% packet loss" in summary_lines("x", s)[2]


def test_summary_duplicates_corrupted_pipe() -> None:
    s = _stats([50], 6)
    s.reply(1, 60, True)
    s.corrupt()
    s.error(1)
    lines = summary_lines("x", s)
    assert ", +1 duplicates, +1 corrupted, +1 errors, " in lines[2]
    assert lines[3].endswith(" ms, pipe 6")


def _timed(rtts: list[int]) -> PingStats:
    s = PingStats()
    for r in rtts:
        s.rtt(r)
    return s


def test_integer_mdev_like_iputils() -> None:
    assert rtt_summary(_timed([34, 53, 73])) == (34, 53, 73, 15)  # kernel ping printed 0.015
    assert rtt_summary(_timed([47, 56, 53])) == (47, 52, 56, 3)


def test_status_line_like_iputils_sigquit() -> None:
    s = _stats([117, 76], 3)
    assert status_line(s) == "\r2/3 packets, 33% loss, min/avg/ewma/max = " \
        "0.076/0.096/0.111/0.117 ms"  # ewma: (117*8 + 76 - 117) // 8
    assert status_line(PingStats()) == "\r0/0 packets, 0% loss"


def test_header_with_source_address() -> None:
    assert header_line("t", "10.77.3.2", 56, "10.77.1.2", None, strict_source=True) == (
        "PING t (10.77.3.2) from 10.77.1.2 : 56(84) bytes of data.")


def test_ipg_ewma_only_when_asked() -> None:
    s = _stats([50, 60, 70], 3)
    s.last_send = 0.002
    assert "ipg/ewma" not in summary_lines("x", s)[3]
    assert summary_lines("x", s, ipg=True)[3].endswith(", ipg/ewma 1.000/0.053 ms")


def test_json_numbers_are_numbers() -> None:
    r = json_reply(_reply())
    assert r == {"event": "reply", "seq": 1, "from": "10.77.3.2", "bytes": 64, "ttl": 62,
                 "rtt_ms": 0.091, "ts": 1763800000.123456, "duplicate": False,
                 "checksum_ok": True}
    e = json_error(ErrorReported(seq=3, src=R1, icmp_type=3, code=4, ts=2.0, mtu=1280))
    assert e["mtu"] == 1280 and e["text"] == "Frag needed and DF set (mtu = 1280)"
    assert "local" not in e
    s = json_summary("t", _stats([88, 91], 3, errors=1))
    assert s["loss_pct"] == 33.333 and s["rtt_min_ms"] == 0.088 and s["errors"] == 1
    json.dumps(s)
