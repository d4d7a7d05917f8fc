"""Multicast Listener Discovery: MLDv1 (RFC 2710) and MLDv2 (RFC 3810).

- ``MLDMessage``: a v1 query (130, exactly 24 bytes), report (131) or done (132):
  maximum response delay (ms) and multicast address.
- ``MLDv2Query``: a query of 28 bytes or more: maximum response code, group,
  S flag, QRV, QQIC and sources; ``max_response_delay`` and ``query_interval``
  decode the two floating-point codes (RFC 3810 §5.1.3, §5.1.9).
- ``MLDv2Report``: type 143 with its multicast address records.

``parse_mld(msg)`` takes the whole ICMPv6 message and picks the class.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pcapping.errors import Malformed, Truncated
from pcapping.wire.icmp6 import encode_icmp6

_REC = struct.Struct("!BBH16s")


class MLDMessage(NamedTuple):
    icmp_type: int  # 130 query, 131 report, 132 done
    max_delay: int
    group: bytes
    reserved: int = 0

    @classmethod
    def parse(cls, msg: bytes) -> MLDMessage:
        if len(msg) < 24:
            raise Truncated("mld", 24, len(msg))
        delay, res = struct.unpack_from("!HH", msg, 4)
        return cls(msg[0], delay, bytes(msg[8:24]), res)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        return encode_icmp6(self.icmp_type, 0, struct.pack("!HH", self.max_delay,
                                                           self.reserved), self.group, src, dst)


def _float_code(code: int, mant_bits: int) -> int:
    """RFC 3810's 8/16-bit floating point: below the threshold the value itself."""
    top = 1 << (mant_bits + 3)
    if code < top:
        return code
    mant = code & ((1 << mant_bits) - 1)
    exp = (code >> mant_bits) & 7
    return (mant | (1 << mant_bits)) << (exp + 3)


class MLDv2Query(NamedTuple):
    max_response_code: int
    group: bytes
    s_flag: bool = False
    qrv: int = 2
    qqic: int = 125
    sources: tuple[bytes, ...] = ()
    reserved: int = 0  # the 4 bits before S

    icmp_type = 130

    @property
    def max_response_delay(self) -> int:
        """Milliseconds (RFC 3810 §5.1.3)."""
        return _float_code(self.max_response_code, 12)

    @property
    def query_interval(self) -> int:
        """Seconds (RFC 3810 §5.1.9)."""
        return _float_code(self.qqic, 4)

    @classmethod
    def parse(cls, msg: bytes) -> MLDv2Query:
        if len(msg) < 28:
            raise Truncated("mldv2", 28, len(msg))
        mrc = int.from_bytes(msg[4:6], "big")
        flags, qqic, nsrc = msg[24], msg[25], int.from_bytes(msg[26:28], "big")
        if len(msg) < 28 + 16 * nsrc:
            raise Truncated("mldv2", 28 + 16 * nsrc, len(msg))
        sources = tuple(bytes(msg[28 + 16 * i: 44 + 16 * i]) for i in range(nsrc))
        return cls(mrc, bytes(msg[8:24]), bool(flags & 8), flags & 7, qqic, sources,
                   flags >> 4)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        flags = (self.reserved << 4) | (int(self.s_flag) << 3) | (self.qrv & 7)
        body = self.group + struct.pack("!BBH", flags, self.qqic, len(self.sources)) + (
            b"".join(self.sources))
        return encode_icmp6(130, 0, struct.pack("!HH", self.max_response_code, 0), body,
                            src, dst)


class MLDv2Record(NamedTuple):
    record_type: int  # 1 is_in, 2 is_ex, 3 to_in, 4 to_ex, 5 allow, 6 block
    group: bytes
    sources: tuple[bytes, ...] = ()
    aux: bytes = b""  # auxiliary data (aux length in 32-bit words)

    def encode(self) -> bytes:
        return _REC.pack(self.record_type, len(self.aux) // 4, len(self.sources),
                         self.group) + b"".join(self.sources) + self.aux


class MLDv2Report(NamedTuple):
    records: tuple[MLDv2Record, ...] = ()
    reserved: int = 0

    icmp_type = 143

    @classmethod
    def parse(cls, msg: bytes) -> MLDv2Report:
        if len(msg) < 8:
            raise Truncated("mldv2", 8, len(msg))
        res, count = struct.unpack_from("!HH", msg, 4)
        p = 8
        records = []
        for _ in range(count):
            if p + 20 > len(msg):
                raise Truncated("mldv2 record", p + 20, len(msg))
            rtype, auxlen, nsrc, group = _REC.unpack_from(msg, p)
            end = p + 20 + 16 * nsrc + 4 * auxlen
            if end > len(msg):
                raise Truncated("mldv2 record", end, len(msg))
            srcs = tuple(bytes(msg[p + 20 + 16 * i: p + 36 + 16 * i]) for i in range(nsrc))
            records.append(MLDv2Record(rtype, group, srcs,
                                       bytes(msg[p + 20 + 16 * nsrc: end])))
            p = end
        return cls(tuple(records), res)

    def encode(self, src: bytes, dst: bytes) -> bytes:
        body = b"".join(r.encode() for r in self.records)
        return encode_icmp6(143, 0, struct.pack("!HH", self.reserved, len(self.records)),
                            body, src, dst)


MLDAny = MLDMessage | MLDv2Query | MLDv2Report


def parse_mld(msg: bytes) -> MLDAny:
    """The MLD message in the ICMPv6 message ``msg`` (types 130-132, 143).  A query of
    24 bytes is v1, of 28 or more v2 (RFC 3810 §8.1); anything between is malformed."""
    if not msg:
        raise Truncated("mld", 8, 0)
    kind = msg[0]
    if kind == 143:
        return MLDv2Report.parse(msg)
    if kind == 130 and len(msg) >= 28:
        return MLDv2Query.parse(msg)
    if kind == 130 and len(msg) > 24:
        raise Malformed("mld", f"query of {len(msg)} bytes is neither v1 (24) nor v2 (28+)")
    if kind in (130, 131, 132):
        return MLDMessage.parse(msg)
    raise Malformed("mld", f"type {kind} is not MLD")


__all__ = ["MLDAny", "MLDMessage", "MLDv2Query", "MLDv2Record", "MLDv2Report", "parse_mld"]
