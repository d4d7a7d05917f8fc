"""pcap and pcapng files, read and written in pure Python.

Reading streams the file in 1 MiB chunks, so memory stays constant whatever
the file's size.  Every complete record is yielded before a damaged one
raises ``PcappingError`` with libpcap's wording ("truncated dump file; tried
to read 98 captured bytes, only got 4"), so a caller can print what it
decoded and then report the problem on one line.

``PcapWriter`` writes classic microsecond pcap and flushes each record, so a
run killed by Ctrl-C leaves a file whose every record is whole.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from pcapping.errors import PcappingError

MAX_SNAPLEN = 262144
_CHUNK = 1 << 20


class Captured(NamedTuple):
    ts_sec: int
    ts_usec: int
    length: int  # length on the wire
    data: bytes  # the captured bytes (caplen = len(data))
    linktype: int = 1


class _Stream:
    """A file read in big chunks, handing out exact byte counts."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.read = reader(f)
        self.buf = b""
        self.pos = 0

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at end of file."""
        end = self.pos + n
        if end > len(self.buf):
            parts = [self.buf[self.pos :]]
            have = len(parts[0])
            while have < n:  # a pipe hands out what it has: read until n bytes or the end
                more = self.read(max(_CHUNK, n - have))
                if not more:
                    break
                parts.append(more)
                have += len(more)
            self.buf = b"".join(parts)
            self.pos, end = 0, n
        out = self.buf[self.pos : end]
        self.pos = end if end <= len(self.buf) else len(self.buf)
        return out


def reader(f: BinaryIO):  # noqa: ANN201
    """``f``'s read1 when it has one: it returns what a pipe holds instead of waiting for
    a whole chunk, so ``-r -`` fed by a live ``tcpdump -w -`` shows frames as they come."""
    return getattr(f, "read1", f.read)


_EPB = {e: struct.Struct(e + "IIIII") for e in "<>"}

# classic pcap magic numbers: (byte order, timestamp ticks per second)
PCAP_FORMATS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000), b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000), b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # (a section header block's type)
MAX_BLOCK = 16 * 1024 * 1024  # the longest pcapng block read


def record_too_long(path: str, caplen: int) -> PcappingError:
    """libpcap's words for a classic pcap record claiming more than it may hold."""
    return PcappingError(f"{path}: invalid packet capture length {caplen}, bigger than "
                         f"maximum of {MAX_SNAPLEN}")


def record_cut(path: str, left: int, caplen: int) -> PcappingError:
    """libpcap's words for a classic pcap file that ends ``left`` bytes into a record
    (its header, or its ``caplen`` captured bytes)."""
    if left < 16:
        return PcappingError(f"{path}: truncated dump file; tried to read 16 header bytes, "
                             f"only got {left}")
    return PcappingError(f"{path}: truncated dump file; tried to read {caplen} captured "
                         f"bytes, only got {left - 16}")


def block_head(path: str, endian: str, head: bytes) -> tuple[int, int]:
    """(type, total length) of the pcapng block whose first bytes are ``head``, or
    ``PcappingError`` in libpcap's words for a cut header or an impossible length."""
    if len(head) < 8:
        raise PcappingError(
            f"{path}: truncated dump file; tried to read 8 header bytes, only got {len(head)}")
    btype, blen = struct.unpack_from(endian + "II", head)
    if blen < 12 or blen % 4 or blen > MAX_BLOCK:
        raise PcappingError(f"{path}: block length {blen} is invalid")
    return btype, blen


def block_cut(path: str, blen: int, got: int) -> PcappingError:
    """libpcap's words for a pcapng block of ``blen`` bytes cut after ``got`` of its body."""
    return PcappingError(f"{path}: truncated dump file; tried to read {blen - 8} bytes of "
                         f"block, only got {got}")


class PcapReader:
    """Iterate ``Captured`` records of a pcap or pcapng file (``"-"``: standard input).

    ``snaplen`` is what tcpdump's header line shows: the file header's snapshot length
    (pcapng: the first interface's), or libpcap's default where that is 0 or absurd.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        if path == "-":
            self.f: BinaryIO = sys.stdin.buffer
        else:
            try:
                self.f = open(path, "rb")  # noqa: SIM115 - closed by close()/__iter__
            except OSError as exc:
                raise PcappingError(f"{path}: {exc.strerror or exc}") from None
            if os.path.isdir(path):
                raise PcappingError(f"{path}: Is a directory")
        self.stream = _Stream(self.f)
        head = self.stream.take(4)
        if len(head) < 4:
            self.close()
            raise PcappingError(
                f"{path}: truncated dump file; tried to read 4 file header bytes, "
                f"only got {len(head)}"
            )
        self.pcapng = head == PCAPNG_MAGIC
        self.snaplen = MAX_SNAPLEN
        if self.pcapng:
            self._interfaces: list[tuple[int, int, int]] = []  # linktype, snaplen, ticks/s
            self._endian = "<"
            self._read_shb(head)
            self.linktype = self._first_linktype()
        else:
            self._open_pcap(head)

    # -- classic pcap ---------------------------------------------------------
    def _open_pcap(self, magic: bytes) -> None:
        if magic not in PCAP_FORMATS:
            self.close()
            raise PcappingError(f"{self.path}: unknown file format")
        self._endian, self._ticks = PCAP_FORMATS[magic]
        rest = self.stream.take(20)
        if len(rest) < 20:
            self.close()
            raise PcappingError(
                f"{self.path}: truncated dump file; tried to read 24 file header bytes, "
                f"only got {len(rest)}"
            )
        _major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack(
            self._endian + "HHiIII", rest)
        self.linktype = network & 0x03FFFFFF
        self.snaplen = adjust_snaplen(snaplen)

    def _pcap_records(self, raw: bool = False) -> Iterator[Any]:
        """Records (``Captured``, or just the bytes when ``raw``), straight off big chunks."""
        unpack = struct.Struct(self._endian + "IIII").unpack_from
        nano = self._ticks == 1_000_000_000
        snaplen, linktype, read = min(self.snaplen, MAX_SNAPLEN), self.linktype, reader(self.f)
        buf, pos = self.stream.buf, self.stream.pos
        while True:
            end = len(buf)
            while pos + 16 <= end:
                sec, frac, caplen, length = unpack(buf, pos)
                if caplen > MAX_SNAPLEN:
                    raise record_too_long(self.path, caplen)
                stop = pos + 16 + caplen
                if stop > end:
                    break
                # as libpcap: keep no more than the file's snapshot length
                data = buf[pos + 16 : stop if caplen <= snaplen else pos + 16 + snaplen]
                pos = stop
                if raw:
                    yield data
                else:
                    yield Captured(sec, frac // 1000 if nano else frac, length, data, linktype)
            more = read(_CHUNK)
            if not more:
                left = end - pos
                if left == 0:
                    return
                raise record_cut(self.path, left, unpack(buf, pos)[2] if left >= 16 else 0)
            buf, pos = buf[pos:] + more, 0

    def batches(self) -> Iterator[list[tuple[int, int, int, bytes, int]]]:
        """The records in lists (one per chunk read), each a plain tuple
        ``(ts_sec, ts_usec, length, data, linktype)``: ``Captured``'s fields in its order,
        without building one object per frame (the text and JSON paths of ``sniff``)."""
        try:
            if self.pcapng:
                batch: list[tuple[int, int, int, bytes, int]] = []
                try:
                    for rec in self._pcapng_records():
                        batch.append(tuple(rec))  # type: ignore[arg-type]
                        if len(batch) >= 1024:
                            yield batch
                            batch = []
                except PcappingError:
                    if batch:  # every whole record first, then the damage
                        yield batch
                    raise
                if batch:
                    yield batch
            else:
                yield from self._pcap_batches()
        finally:
            self.close()

    def _pcap_batches(self) -> Iterator[list[tuple[int, int, int, bytes, int]]]:
        """``_pcap_records`` a chunk at a time (the same checks, the same errors: every
        whole record before a damaged one is handed out first)."""
        unpack = struct.Struct(self._endian + "IIII").unpack_from
        nano = self._ticks == 1_000_000_000
        snaplen, linktype, read = min(self.snaplen, MAX_SNAPLEN), self.linktype, reader(self.f)
        buf, pos = self.stream.buf, self.stream.pos
        while True:
            end = len(buf)
            batch = []
            add = batch.append
            while pos + 16 <= end:
                sec, frac, caplen, length = unpack(buf, pos)
                stop = pos + 16 + caplen
                if stop > end or caplen > MAX_SNAPLEN:
                    break
                add((sec, frac // 1000 if nano else frac, length,
                     buf[pos + 16: stop if caplen <= snaplen else pos + 16 + snaplen],
                     linktype))
                pos = stop
            if batch:
                yield batch
            if pos + 16 <= end and unpack(buf, pos)[2] > MAX_SNAPLEN:
                raise record_too_long(self.path, unpack(buf, pos)[2])
            more = read(_CHUNK)
            if not more:
                left = end - pos
                if left == 0:
                    return
                raise record_cut(self.path, left, unpack(buf, pos)[2] if left >= 16 else 0)
            buf, pos = buf[pos:] + more, 0

    def frames(self) -> Iterator[bytes]:
        """Only the captured bytes of each record (all of ``linktype``): the fastest walk."""
        try:
            if self.pcapng:
                for rec in self._pcapng_records():
                    yield rec.data
            else:
                yield from self._pcap_records(raw=True)
        finally:
            self.close()

    # -- pcapng -------------------------------------------------------------
    def _read_block(self, first: bytes | None = None) -> tuple[int, bytes] | None:
        head = first if first is not None else self.stream.take(8)
        if not head:
            return None
        btype, blen = block_head(self.path, self._endian, head)
        body = self.stream.take(blen - 8)
        if len(body) < blen - 8:
            raise block_cut(self.path, blen, len(body))
        return btype, body[:-4]

    def _read_shb(self, magic: bytes) -> None:
        rest = self.stream.take(8)
        if len(rest) < 8:
            raise PcappingError(f"{self.path}: truncated dump file; section header block cut")
        bom = rest[4:8]
        if bom == b"\x4d\x3c\x2b\x1a":
            self._endian = "<"
        elif bom == b"\x1a\x2b\x3c\x4d":
            self._endian = ">"
        else:
            raise PcappingError(f"{self.path}: unknown file format")
        blen = struct.unpack(self._endian + "I", rest[:4])[0]
        if blen < 28 or blen % 4:
            raise PcappingError(f"{self.path}: section header block length {blen} is invalid")
        body = self.stream.take(blen - 12)
        if len(body) < blen - 12:
            raise PcappingError(f"{self.path}: truncated dump file; section header block cut")
        self._interfaces = []

    def _add_interface(self, body: bytes) -> None:
        if len(body) < 8:
            raise PcappingError(f"{self.path}: interface description block is too short")
        linktype, _res, snaplen = struct.unpack_from(self._endian + "HHI", body)
        ticks = 1_000_000
        pos = 8
        while pos + 4 <= len(body):
            code, olen = struct.unpack_from(self._endian + "HH", body, pos)
            if code == 0:
                break
            if code == 9 and olen >= 1:
                v = body[pos + 4]
                ticks = 2 ** (v & 0x7F) if v & 0x80 else 10**v
            pos += 4 + ((olen + 3) & ~3)
        self._interfaces.append((linktype, snaplen, ticks))

    def _first_linktype(self) -> int:
        """Read ahead to the first interface description (records wait in a queue)."""
        self._pending: list[tuple[int, bytes]] = []
        while True:
            block = self._read_block()
            if block is None:
                return 1
            if block[0] == 1:
                self._add_interface(block[1])
                self.snaplen = adjust_snaplen(self._interfaces[0][1])
                return self._interfaces[0][0]
            self._pending.append(block)

    def _pcapng_records(self) -> Iterator[Captured]:
        pending = self._pending
        packet = self.ng_packet
        while True:
            block = pending.pop(0) if pending else self._read_block()
            if block is None:
                return
            rec = packet(*block)
            if rec is not None:
                yield rec

    def ng_packet(self, btype: int, body: bytes) -> Captured | None:
        """One pcapng block's body (its trailing length left off): the record of a packet
        block, None for any other (an interface description is remembered); a damaged
        block raises ``PcappingError`` in libpcap's words."""
        if btype == 6 or btype == 2:  # enhanced / obsolete packet block
            if len(body) < 20:
                raise PcappingError(f"{self.path}: packet block is too short")
            if btype == 6:
                ifid, high, low, caplen, length = _EPB[self._endian].unpack_from(body)
            else:
                ifid, _drops, high, low, caplen, length = struct.unpack_from(
                    self._endian + "HHIIII", body)
            if ifid >= len(self._interfaces):
                raise PcappingError(f"{self.path}: a packet names unknown interface {ifid}")
            if caplen > len(body) - 20:
                raise PcappingError(
                    f"{self.path}: packet block caplen {caplen} exceeds its block")
            linktype, _snap, ticks = self._interfaces[ifid]
            stamp = (high << 32) | low
            sec, frac = divmod(stamp, ticks)
            usec = frac * 1_000_000 // ticks
            return Captured(sec, usec, length, body[20 : 20 + caplen], linktype)
        if btype == 3:  # simple packet block
            if not self._interfaces or len(body) < 4:
                raise PcappingError(f"{self.path}: simple packet block without interface")
            length = struct.unpack_from(self._endian + "I", body)[0]
            linktype, snap, _ticks = self._interfaces[0]
            caplen = min(length, len(body) - 4, snap or MAX_SNAPLEN)
            return Captured(0, 0, length, body[4 : 4 + caplen], linktype)
        if btype == 1:
            self._add_interface(body)
        elif btype == 0x0A0D0D0A:
            raise PcappingError(f"{self.path}: multiple sections are not supported")
        return None

    def __iter__(self) -> Iterator[Captured]:
        try:
            yield from (self._pcapng_records() if self.pcapng else self._pcap_records())
        finally:
            self.close()

    def close(self) -> None:
        if self.f is not sys.stdin.buffer:
            self.f.close()

    def __enter__(self) -> PcapReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def adjust_snaplen(snaplen: int) -> int:
    """libpcap's pcap_adjust_snapshot: 0 or more than INT_MAX means the default."""
    return snaplen if 0 < snaplen <= 0x7FFFFFFF else MAX_SNAPLEN


class PcapWriter:
    """Classic pcap, microsecond timestamps, flushed after every record (``"-"``: to
    standard output)."""

    def __init__(self, path: str, linktype: int = 1, snaplen: int = MAX_SNAPLEN) -> None:
        if path == "-":
            self.f: BinaryIO = sys.stdout.buffer
        else:
            try:
                self.f = open(path, "wb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise PcappingError(f"{path}: {exc.strerror or exc}") from None
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.f.flush()
        self.count = 0

    def write(self, ts_sec: int, ts_usec: int, data: bytes, length: int | None = None) -> None:
        wire = len(data) if length is None else length
        self.f.write(struct.pack("<IIII", ts_sec, ts_usec, len(data), wire) + data)
        self.f.flush()
        self.count += 1

    def close(self) -> None:
        if self.f is sys.stdout.buffer:
            self.f.flush()
        else:
            self.f.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
