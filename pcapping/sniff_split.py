"""``sniff -r FILE`` over the cores: one pcap or pcapng file cut into byte ranges, each part
decoded by a worker process into a temporary file, copied out in order, so that the output
(every whole record, then the error that ended the file) is byte for byte what one process
writes.

A part finds its first record by walking the 16-byte record headers (pcapng: the block
headers, and the interface descriptions that give each packet its link type and clock) from
the start of the file (cheap: nothing else is read), which also gives it the frame number
(``-#``) and the times ``-ttt``/``-ttttt`` count from.  JSON lines depend on nothing but
their frame.  Text depends on two more things carried from frame to frame, as tcpdump
carries them:

- TCP's relative sequence numbers: the first (seq, ack) seen of each connection.  A worker
  starts with no connection known, so a frame of a connection that began in an earlier
  part prints absolute numbers where one process prints relative ones.  The formatter tells
  the worker (``_tcp_watch``) which frames relied on a base the worker made itself from a
  frame that was not a SYN; the parent, which knows every connection of the earlier parts,
  formats exactly those frames again with the right base and puts them in place.
- AFS/RX's call cache: a part that prints RX after an earlier part did is formatted again
  whole by the parent, with the state one process would have had (so is a part where one
  frame relied on two connections at once).

The parent's share is small on ordinary captures (the frames of long TCP connections that
cross a part boundary), and the result never depends on how the file was cut.
"""

from __future__ import annotations

import mmap
import os
import shutil
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from pcapping.errors import PcappingError
from pcapping.io.pcapfile import (
    MAX_BLOCK,
    MAX_SNAPLEN,
    PCAP_FORMATS,
    PCAPNG_MAGIC,
    PcapReader,
    block_cut,
    block_head,
    record_cut,
    record_too_long,
)

SPLIT_MIN_BYTES = 16 << 20  # smaller files are not worth the workers

PCAP_MAGICS = tuple(PCAP_FORMATS)


def splittable(args: Any, path: str, bpf: str | None) -> bool:
    """True for one pcap or pcapng file of at least ``SPLIT_MIN_BYTES``, as JSON or text,
    with nothing that needs the frames in one stream (``-c``, ``-w``, ``--parquet``,
    ``-l``, ``-q``, ``-Z`` or standard input; a filter or ``--icmp`` with ``-#``, ``-ttt``
    or ``-ttttt``)."""
    if args.quiet or args.count is not None:
        return False
    if (bpf or args.icmp) and not args.json and (args.number or args.tflag in (3, 5)):
        return False  # (-# and -ttt count the frames shown: a part cannot know them)
    if args.write or args.parquet or args.line_buffered or path == "-":
        return False
    if args.user:
        return False  # (-Z: the workers would open the file again as that user)
    try:
        if os.path.getsize(path) < SPLIT_MIN_BYTES:
            return False
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError:
        return False
    return magic in PCAP_MAGICS or magic == PCAPNG_MAGIC


def _open_part(path: str, start: int, stop: int,
               before: Callable[[int, int, int, int], None] | None = None) -> Any:
    """The part of a classic pcap or pcapng file whose records start in [start, stop)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    return (_NgPart if magic == PCAPNG_MAGIC else _Part)(path, start, stop, before)


class _Part:
    """The records of one part of a classic pcap file: those whose header starts in
    ``[start, stop)``, found by walking the headers before them."""

    def __init__(self, path: str, start: int, stop: int,
                 before: Callable[[int, int, int, int], None] | None = None) -> None:
        reader = PcapReader(path)
        self.path = path
        self.unpack = struct.Struct(reader._endian + "IIII").unpack_from
        self.nano = reader._ticks == 1_000_000_000
        self.snaplen, self.linktype = min(reader.snaplen, MAX_SNAPLEN), reader.linktype
        reader.close()
        with open(path, "rb") as f:
            self.buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.size = len(self.buf)
        self.stop = min(stop, self.size)
        self.error: str | None = None
        self.skip = False  # damage before this part: an earlier part reports it
        pos, number, unpack, buf = 24, 0, self.unpack, self.buf
        while pos < start and pos + 16 <= self.size:  # to this part's first record
            sec, frac, caplen, length = unpack(buf, pos)
            if caplen > MAX_SNAPLEN:
                self.skip = True
                break
            if before is not None:
                before(sec, frac // 1000 if self.nano else frac, min(caplen, self.snaplen),
                       length)
            pos += 16 + caplen
            number += 1
        self.pos, self.number = pos, number

    def record(self, pos: int) -> tuple[int, int, bytes, int, int]:
        """(sec, usec, data, length, link type) of the record whose header is at ``pos``."""
        sec, frac, caplen, length = self.unpack(self.buf, pos)
        data = self.buf[pos + 16: pos + 16 + min(caplen, self.snaplen)]
        return sec, frac // 1000 if self.nano else frac, data, length, self.linktype

    def __iter__(self) -> Iterator[tuple[int, int, int, int, bytes, int, int]]:
        """(number, header position, sec, usec, data, length, link type) of each record; a
        damaged or cut record ends the walk with ``error`` set, in PcapReader's words."""
        if self.skip:
            return
        buf, unpack, size, snaplen, nano = (self.buf, self.unpack, self.size, self.snaplen,
                                             self.nano)
        pos, number, stop, path = self.pos, self.number, self.stop, self.path
        linktype = self.linktype
        while pos < stop:
            if pos + 16 > size:
                self.error = str(record_cut(path, size - pos, 0))
                return
            sec, frac, caplen, length = unpack(buf, pos)
            if caplen > MAX_SNAPLEN:
                self.error = str(record_too_long(path, caplen))
                return
            end = pos + 16 + caplen
            if end > size:
                self.error = str(record_cut(path, size - pos, caplen))
                return
            number += 1
            yield (number, pos, sec, frac // 1000 if nano else frac,
                   buf[pos + 16: end if caplen <= snaplen else pos + 16 + snaplen], length,
                   linktype)
            pos = end

    def close(self) -> None:
        self.buf.close()


class _NgPart:
    """The packets of one part of a pcapng file: those whose block starts in
    ``[start, stop)``, found by walking the block headers from the file's start (the
    interface descriptions on the way give each packet its link type and clock)."""

    def __init__(self, path: str, start: int, stop: int,
                 before: Callable[[int, int, int, int], None] | None = None) -> None:
        self.path = path
        self.ng = PcapReader(path)  # (checks the section header; its block parser is used)
        self.ng.close()
        self.ng._interfaces = []
        self.linktype = self.ng.linktype  # (the first interface's, as the header line says)
        with open(path, "rb") as f:
            self.buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.size = len(self.buf)
        self.stop = min(stop, self.size)
        self.error: str | None = None
        self.skip = False
        e = self.ng._endian
        self._unpack_head = struct.Struct(e + "II").unpack_from
        self._unpack_epb = struct.Struct(e + "IIIIIII").unpack_from  # (with its header)
        self.interfaces = self.ng._interfaces  # (grows as descriptions are met)
        pos = block_head(path, e, self.buf[0:8])[1]  # past the section header
        if before is None:
            self.pos, self.number = self._walk(pos, start)
        else:
            self.pos, self.number = self._walk_stamped(pos, start, before)

    def _walk(self, pos: int, start: int) -> tuple[int, int]:
        """From ``pos`` to the first block at ``start`` or after, reading only the block
        headers (and the interface descriptions, which are remembered): (its position, the
        packets before it).  Damage on the way sets ``skip``."""
        buf, size, unpack = self.buf, self.size, self._unpack_head
        number = 0
        try:
            while pos < start:
                if pos + 8 > size:
                    self.skip = True
                    break
                btype, blen = unpack(buf, pos)
                if blen < 12 or blen % 4 or blen > MAX_BLOCK or pos + blen > size:
                    self.skip = True
                    break
                if btype == 6 or btype == 3 or btype == 2:
                    number += 1
                elif btype == 1:
                    self.ng._add_interface(buf[pos + 8: pos + blen - 4])
                pos += blen
        except PcappingError:
            self.skip = True
        return pos, number

    def _walk_stamped(self, pos: int, start: int,
                      before: Callable[[int, int, int, int], None]) -> tuple[int, int]:
        """``_walk``, parsing each packet on the way to hand its stamp to ``before``."""
        number = 0
        try:
            while pos < start and pos < self.size:
                btype, body, end = self._block(pos)
                rec = self.ng.ng_packet(btype, body)
                if rec is not None:
                    number += 1
                    before(rec.ts_sec, rec.ts_usec, len(rec.data), rec.length)
                pos = end
        except PcappingError:
            self.skip = True  # damage before this part: an earlier part reports it
        return pos, number

    def _block(self, pos: int) -> tuple[int, bytes, int]:
        """(type, body without its trailing length, end) of the block at ``pos``."""
        btype, blen = block_head(self.path, self.ng._endian, self.buf[pos: pos + 8])
        if pos + blen > self.size:
            raise block_cut(self.path, blen, self.size - pos - 8)
        return btype, self.buf[pos + 8: pos + blen - 4], pos + blen

    def record(self, pos: int) -> tuple[int, int, bytes, int, int]:
        """(sec, usec, data, length, link type) of the packet block at ``pos``, with the
        interfaces as a part that holds it knew them (``interfaces``: descriptions are
        only ever added, so a later list serves an earlier packet)."""
        btype, body, _end = self._block(pos)
        rec = self.ng.ng_packet(btype, body)
        assert rec is not None
        return rec.ts_sec, rec.ts_usec, rec.data, rec.length, rec.linktype

    def __iter__(self) -> Iterator[tuple[int, int, int, int, bytes, int, int]]:
        if self.skip:
            return
        pos, number, packet = self.pos, self.number, self.ng.ng_packet
        buf, size, stop, ifaces = self.buf, self.size, self.stop, self.interfaces
        epb = self._unpack_epb
        try:
            while pos < stop:
                if pos + 32 <= size:  # an enhanced packet block, whole and sound: inline
                    btype, blen, ifid, high, low, caplen, length = epb(buf, pos)
                    if (btype == 6 and 32 <= blen <= MAX_BLOCK and not blen % 4
                            and pos + blen <= size and ifid < len(ifaces)
                            and caplen <= blen - 32):
                        linktype, _snap, ticks = ifaces[ifid]
                        sec, frac = divmod((high << 32) | low, ticks)
                        number += 1
                        yield (number, pos, sec, frac * 1_000_000 // ticks,
                               buf[pos + 28: pos + 28 + caplen], length, linktype)
                        pos += blen
                        continue
                btype, body, end = self._block(pos)  # anything else: PcapReader's parser
                rec = packet(btype, body)
                if rec is not None:
                    number += 1
                    yield (number, pos, rec.ts_sec, rec.ts_usec, rec.data, rec.length,
                           rec.linktype)
                pos = end
        except PcappingError as exc:
            self.error = str(exc)

    def close(self) -> None:
        self.buf.close()


def _selected(part: Any, select: tuple[str | None, bool]) -> Iterator[tuple]:
    """The part's records that a filter expression and ``--icmp`` let through, as one
    process selects them (the expression compiled for the file's first link type)."""
    bpf, icmp = select
    if not bpf and not icmp:
        yield from part
        return
    from pcapping.sniff import _frame_filter, icmp_selected

    keep = _frame_filter(bpf, part.linktype)
    for rec in part:
        data, linktype = rec[4], rec[6]
        if keep is not None and not keep(data):
            continue
        if icmp and not icmp_selected(data, linktype)[0]:
            continue
        yield rec


def _flush(out: TextIO, lines: list[str]) -> None:
    lines.append("")
    out.write("\n".join(lines))
    lines.clear()


def _json_part(job: tuple[str, int, int, str, tuple[str | None, bool]]) -> dict[str, Any]:
    """One part as JSON lines into the job's target file."""
    from pcapping.report.jsonframe import frame_json

    path, start, stop, target, select = job
    part = _open_part(path, start, stop)
    lines: list[str] = []
    with open(target, "w", encoding="utf-8", errors="surrogateescape") as out:
        for number, _pos, sec, usec, data, length, linktype in _selected(part, select):
            lines.append(frame_json(data, linktype, number, sec, usec, length))
            if len(lines) >= 4096:
                _flush(out, lines)
        if lines:
            _flush(out, lines)
    part.close()
    return {"error": "skip" if part.skip else part.error}


class _RxSpy:
    """The formatter's RX printer, noting whether this part printed any RX."""

    def __init__(self, rx: Any) -> None:
        self.rx = rx
        self.used = False

    def print(self, *a: Any) -> tuple[str, str]:
        self.used = True
        return self.rx.print(*a)


def _formatter(options: dict[str, Any]) -> Any:
    from pcapping.tcpdump.formatter import TcpdumpFormatter

    return TcpdumpFormatter(**options)


def _clock_setter(fmt: Any) -> Callable[[int, int, int, int], None] | None:
    """What a part does with each record header before it, so that ``-ttt``/``-ttttt``
    count from where one process would: ``_stamp`` on the records tcpdump would stamp."""
    t = fmt.tflag
    if t not in (3, 5):
        return None

    def before(sec: int, usec: int, caplen: int, length: int) -> None:
        if not 0 < caplen <= length <= MAX_SNAPLEN:
            return  # (an invalid header is not stamped)
        if t == 3 or fmt._tv_ref in (None, 0):
            fmt._stamp(sec, usec)
    return before


def _text_part(job: tuple[str, int, int, str, dict[str, Any], dict | None, Any,
                          tuple[str | None, bool]]) -> dict[str, Any]:
    """One part as tcpdump's text into the job's target file.  ``tcp``/``rx``: the state
    one process would have at the part's start, when the parent knows it (it formats a
    part again itself); None in a worker, which then notes what it could not know."""
    path, start, stop, target, options, tcp, rx, select = job
    fmt = _formatter(options)
    part = _open_part(path, start, stop, _clock_setter(fmt))
    fmt._count = part.number
    exact = tcp is not None
    if exact:
        fmt._tcp_seq = tcp
        fmt._rx = rx
    spy = fmt._rx = _RxSpy(fmt._rx)
    fresh: set[tuple] = set()  # connections whose base this part made up
    deps: list[tuple] = []  # what the frame being formatted relied on

    def watch(key: tuple, kind: bool | None) -> None:
        if kind is None:
            if key in fresh:
                deps.append(key)
        elif kind:
            fresh.add(key)
            deps.append(key)
        else:
            fresh.discard(key)

    if not exact:
        fmt._tcp_watch = watch
    redo: list[tuple] = []  # (number, pos, char offset, text length, key, -ttt reference)
    tangled = False
    line = fmt.format_record
    timed = fmt.tflag in (3, 5)
    offset = 0
    lines: list[str] = []
    with open(target, "w", encoding="utf-8", errors="surrogateescape") as out:
        for number, pos, sec, usec, data, length, linktype in _selected(part, select):
            ref = fmt._tv_ref if timed else None
            text = line(data, linktype, length, sec, usec)
            if deps:
                if len(set(deps)) > 1:
                    tangled = True
                redo.append((number, pos, offset, len(text), deps[0], ref))
                deps.clear()
            offset += len(text) + 1
            lines.append(text)
            if len(lines) >= 4096:
                _flush(out, lines)
        if lines:
            _flush(out, lines)
    part.close()
    return {"error": "skip" if part.skip else part.error, "redo": redo, "tcp": fmt._tcp_seq,
            "interfaces": getattr(part, "interfaces", None),
            "fresh": fresh, "rx_used": spy.used, "rx": spy.rx, "tangled": tangled}


def _copy_fixed(src: TextIO, out: TextIO, redo: list[tuple], fix: Callable[[tuple], str | None]
                ) -> None:
    """The worker's text with the frames of ``redo`` replaced where ``fix`` says."""
    at = 0
    for item in redo:
        offset, n = item[2], item[3]
        if offset > at:
            out.write(src.read(offset - at))
        text = src.read(n)
        better = fix(item)
        out.write(text if better is None else better)
        at = offset + n
    shutil.copyfileobj(src, out, 1 << 20)


class _TextMerge:
    """The parent's side of a text split: every connection's base and RX's state after
    each part, and the frames of a part formatted again with them."""

    def __init__(self, path: str, options: dict[str, Any],
                 select: tuple[str | None, bool]) -> None:
        self.path, self.options, self.select = path, options, select
        self.conns: dict[tuple, tuple[int, int]] = {}
        self.rx: Any = None  # RX's call cache, once a part has printed RX
        self.fixer = _formatter(options)
        self.whole = _open_part(path, 0, 0)

    def emit(self, job: tuple, res: dict[str, Any], out: TextIO) -> dict[str, Any]:
        """Part ``job``'s text, as one process would have written it, into ``out``."""
        target = job[3]
        if res["tangled"] or (res["rx_used"] and self.rx is not None):
            from pcapping.tcpdump.apps.rx import RxPrinter

            again = target + ".again"  # the whole part again, from the exact state
            res = _text_part((self.path, job[1], job[2], again, self.options,
                              dict(self.conns), self.rx or RxPrinter(), self.select))
            os.replace(again, target)
            self.conns = res["tcp"]
            if res["rx_used"] or self.rx is not None:
                self.rx = res["rx"]
            res["redo"] = []
        elif res["rx_used"]:
            self.rx = res["rx"]  # (no part before printed RX: this one started right)
        if res["interfaces"] is not None:
            self.whole.ng._interfaces = list(res["interfaces"])
        with open(target, encoding="utf-8", errors="surrogateescape") as fh:
            _copy_fixed(fh, out, res["redo"], self._fix)
        os.unlink(target)
        fresh, conns = res["fresh"], self.conns
        for key, base in res["tcp"].items():
            if key not in fresh or key not in conns:
                conns[key] = base
        return res

    def _fix(self, item: tuple) -> str | None:
        """A frame that relied on a connection's base made up in its part, with the base
        an earlier part had (None: no earlier part saw it, so the worker was right)."""
        number, pos, _offset, _n, key, ref = item
        base = self.conns.get(key)
        if base is None:
            return None
        fixer = self.fixer
        fixer._count, fixer._tv_ref, fixer._tcp_seq = number - 1, ref, {key: base}
        sec, usec, data, length, linktype = self.whole.record(pos)
        return fixer.format_record(data, linktype, length, sec, usec)

    def close(self) -> None:
        self.whole.close()


def run_split(args: Any, path: str, out: TextIO, jobs: int,
              formatter_options: dict[str, Any] | None, bpf: str | None = None) -> int:
    """``sniff -r FILE`` (JSON, or text with ``formatter_options``; the frames that
    ``bpf`` and ``--icmp`` select) over ``jobs`` worker processes, into ``out``; returns
    the exit status."""
    import tempfile

    from pcapping.sniff import _drop, _frame_filter, reading_from, worker_pool

    reader = PcapReader(path)
    sys.stderr.write(reading_from(path, reader))
    sys.stderr.flush()
    reader.close()
    _drop(args)
    _frame_filter(bpf, reader.linktype)  # (a bad expression: its error before any work)
    select = (bpf, bool(args.icmp))
    size = os.path.getsize(path)
    parts = jobs * 2  # a little more than the workers: the last ones walk the longest
    bounds = [24 + (size - 24) * i // parts for i in range(parts)] + [size + 1]
    status = 0
    merge = (_TextMerge(path, formatter_options, select) if formatter_options is not None
             else None)
    with tempfile.TemporaryDirectory(prefix="pcapping-sniff-") as tmp:
        if merge is not None:
            work: list[tuple] = [
                (path, bounds[i], bounds[i + 1], os.path.join(tmp, f"{i}.txt"),
                 formatter_options, None, None, select) for i in range(parts)]
            task: Callable[[Any], dict[str, Any]] = _text_part
        else:
            work = [(path, bounds[i], bounds[i + 1], os.path.join(tmp, f"{i}.json"), select)
                    for i in range(parts)]
            task = _json_part
        pool = worker_pool(jobs)
        try:
            for job, res in zip(work, pool.imap(task, work, chunksize=1), strict=True):
                if res["error"] == "skip":
                    os.unlink(job[3])
                    continue
                if merge is not None:
                    res = merge.emit(job, res, out)
                else:
                    with open(job[3], encoding="utf-8", errors="surrogateescape") as fh:
                        shutil.copyfileobj(fh, out, 1 << 20)
                    os.unlink(job[3])
                if res["error"] is not None:
                    out.flush()
                    sys.stderr.write(f"pcapping: {res['error']}\n")
                    status = 2
                    break
        except KeyboardInterrupt:
            sys.stderr.write("\n")
        finally:
            pool.terminate()
            pool.join()
            if merge is not None:
                merge.close()
            out.flush()
    return status
