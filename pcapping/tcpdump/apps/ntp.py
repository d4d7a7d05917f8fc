"""tcpdump 4.99's NTP text (UDP port 123, ``-n``) for a datagram's payload.

``ntp`` follows the convention of :mod:`pcapping.tcpdump.apps.text`: it takes the
frame bytes ``data``, the NTP message offset ``p``, the payload ``length`` UDP
claims and the capture end ``end`` (``data[end:]`` is never read), and returns
``(text, hard)``.

What tcpdump prints:

* always ``NTPv<version>`` from the first octet; without ``-v`` only
  ``, <mode name>, length N`` follows;
* with ``-v`` (any level: the NTP text does not change past ``-v``) the mode
  line is followed by ``\\n\\tLeap indicator: ...`` and, by mode,
  - modes 0-5 (time messages): stratum, poll (with its ``(64s)`` /
    ``(1/4s)`` rendering), precision, root delay and dispersion, the
    reference id (``(unspec)`` for stratum 0, the four octets as escaped text
    for stratum 1, ``a.b.c.d INFO_QUERY`` / ``INFO_REPLY`` for strata 62/63,
    which end the message, else hex), the four time stamps with their UTC
    date (seconds since 1900, no date for 0), the two differences from the
    originate time stamp, then by the claimed length a key id (52 octets), a
    key id and 128- or 160-bit digest (68 / 72 octets) or
    ``(N more bytes after the header)``; a message shorter than 48 octets is
    `` (invalid)``;
  - mode 6 (control messages): the R/E/M flags and opcode, sequence, status,
    association, offset and count, ``TO-BE-DONE: data not interpreted`` when
    there is data, `` (invalid)`` when the header or the counted data does
    not fit the claimed length;
  - mode 7: nothing more.

Truncation follows tcpdump 4.99.3's two kinds of checks:

* its GET macros (the first octet; stratum, poll and precision; the control
  header fields; the key id and digest) longjmp when they read past the
  capture: ``hard`` is ``"ntp"``, ``text`` holds what was printed before and
  the caller appends `` [|ntp]``;
* its ND_TCHECKs (root delay, root dispersion and reference id before their
  labels are printed, each time stamp before its label, the claimed length
  after `` (invalid)``, the counted data of a control message) are *soft*:
  `` [|ntp]`` ends ``text`` and ``hard`` is ``""``.

Only the last two can fail where tcpdump's output tells the kinds apart (a
quote of 101-104 octets, where the ICMP printer around it carries on with its
own `` [|icmp]`` after a soft stop): tcpdump confirms both are soft.  The
kind of the others shows in no output (they sit in the first 72 octets) and
follows the source.

No divergence from tcpdump 4.99.3 is known (tests/test_tcpdump_ntp_syslog.py
compares it frame by frame).
"""

from __future__ import annotations

import datetime

from pcapping.tcpdump.apps.text import printn

_MODES = ("unspecified", "symmetric active", "symmetric passive", "Client", "Server",
          "Broadcast", "Control Message", "Reserved")
_LEAP = {0x00: "", 0x40: "+1s", 0x80: "-1s", 0xC0: "clock unsynchronized"}
_EPOCH = datetime.datetime(1970, 1, 1)
_NTP_TO_UNIX = 2208988800
_TWO32 = 4294967296.0
_M32 = 0xFFFFFFFF
_TIME_MIN = 48   # a time message without key id or digest
_CTRL_MIN = 12   # a control message header


class _Hard(Exception):
    """A GET past the captured bytes: tcpdump's longjmp out of the packet."""


class _Soft(Exception):
    """A failed ND_TCHECK: tcpdump prints `` [|ntp]`` and leaves the NTP printer."""


class _Printer:
    def __init__(self, data: bytes, end: int) -> None:
        self.data = data
        self.end = end
        self.out: list[str] = []

    def put(self, s: str) -> None:
        self.out.append(s)

    def captured(self, q: int, n: int) -> bool:
        return 0 <= q and q + n <= self.end

    def check(self, q: int, n: int) -> None:
        """ND_TCHECK_LEN: soft."""
        if not self.captured(q, n):
            raise _Soft

    def get(self, q: int, n: int) -> int:
        """A GET macro: hard."""
        if not self.captured(q, n):
            raise _Hard
        return int.from_bytes(self.data[q: q + n], "big")

    def u8(self, q: int) -> int:
        return self.get(q, 1)

    def s8(self, q: int) -> int:
        v = self.u8(q)
        return v - 256 if v & 0x80 else v

    def u16(self, q: int) -> int:
        return self.get(q, 2)

    def u32(self, q: int) -> int:
        return self.get(q, 4)

    # -- fixed point values -------------------------------------------------------

    def sfix(self, q: int) -> None:
        whole = self.u16(q)
        frac = self.u16(q + 2)
        self.put(f"{whole}.{int(frac / 65536.0 * 1000000.0):06d}")

    def time(self, q: int) -> None:
        secs = self.u32(q)
        frac = self.u32(q + 4)
        self.put(f"{secs}.{int(frac / _TWO32 * 1000000000.0):09d}")
        if secs:
            when = _EPOCH + datetime.timedelta(seconds=secs - _NTP_TO_UNIX)
            self.put(f" ({when.year:04d}-{when.month:02d}-{when.day:02d}T"
                     f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z)")

    def delta(self, old: int, new: int) -> None:
        u = self.u32(new)
        ou = self.u32(old)
        uf = self.u32(new + 4)
        ouf = self.u32(old + 4)
        if ou == 0 and ouf == 0:
            self.time(new)
            return
        if u > ou:
            neg = False
            i = u - ou - (1 if ouf > uf else 0)
            f = (uf - ouf) & _M32
        elif u < ou:
            neg = True
            i = ou - u - (1 if uf > ouf else 0)
            f = (ouf - uf) & _M32
        else:
            i = 0
            neg = not uf > ouf
            f = uf - ouf if uf > ouf else ouf - uf
        self.put(f"{'-' if neg else '+'}{i}.{int(f / _TWO32 * 1000000000.0):09d}")

    # -- messages -----------------------------------------------------------------

    def invalid(self, p: int, length: int) -> None:
        self.put(" (invalid)")
        self.check(p, length)

    def time_message(self, p: int, length: int) -> None:
        if length < _TIME_MIN:
            self.invalid(p, length)
            return
        stratum = self.u8(p + 1)
        if stratum == 0:
            name = "unspecified"
        elif stratum == 1:
            name = "primary reference"
        elif stratum <= 15:
            name = "secondary reference"
        else:
            name = "reserved"
        self.put(f", Stratum {stratum} ({name})")
        poll = self.s8(p + 2)
        self.put(f", poll {poll}")
        if -32 < poll < 32:
            self.put(f" ({1 << poll}s)" if poll >= 0 else f" (1/{1 << -poll}s)")
        self.put(f", precision {self.s8(p + 3)}")
        self.check(p + 4, 4)
        self.put("\n\tRoot Delay: ")
        self.sfix(p + 4)
        self.check(p + 8, 4)
        self.put(", Root dispersion: ")
        self.sfix(p + 8)
        refid = p + 12
        self.check(refid, 4)
        self.put(", Reference-ID: ")
        if stratum == 0:
            self.put("(unspec)")
        elif stratum == 1:
            self.put(printn(self.data, refid, 4, self.end))
        elif stratum in (62, 63):
            addr = ".".join(str(b) for b in self.data[refid: refid + 4])
            self.put(f"{addr} {'INFO_QUERY' if stratum == 62 else 'INFO_REPLY'}")
            return
        else:
            self.put(f"0x{self.u32(refid):08x}")
        for label, off in (("Reference Timestamp:  ", 16), ("Originator Timestamp: ", 24),
                           ("Receive Timestamp:    ", 32), ("Transmit Timestamp:   ", 40)):
            self.check(p + off, 8)
            self.put(f"\n\t  {label}")
            self.time(p + off)
        self.put("\n\t    Originator - Receive Timestamp:  ")
        self.delta(p + 24, p + 32)
        self.put("\n\t    Originator - Transmit Timestamp: ")
        self.delta(p + 24, p + 40)
        if length in (_TIME_MIN + 4, _TIME_MIN + 20, _TIME_MIN + 24):
            self.put(f"\n\tKey id: {self.u32(p + 48)}")
            words = (length - _TIME_MIN - 4) // 4
            if words:
                digest = "".join(f"{self.u32(p + 52 + 4 * k):08x}" for k in range(words))
                self.put(f"\n\tAuthentication: {digest}")
        elif length > _TIME_MIN:
            self.put(f"\n\t({length - _TIME_MIN} more bytes after the header)")

    def control_message(self, p: int, length: int) -> None:
        if length < _CTRL_MIN:
            self.invalid(p, length)
            return
        control = self.u8(p + 1)
        self.put(f", {'Response' if control & 0x80 else 'Request'}, "
                 f"{'Error' if control & 0x40 else 'OK'}, "
                 f"{'More' if control & 0x20 else 'Last'}, OpCode={control & 0x1F}\n")
        self.put(f"\tSequence={self.u16(p + 2)}")
        status = self.u16(p + 4)
        self.put(f", Status={status:#x}" if status else ", Status=0")
        self.put(f", Assoc.={self.u16(p + 6)}")
        self.put(f", Offset={self.u16(p + 8)}")
        count = self.u16(p + 10)
        self.put(f", Count={count}")
        if _CTRL_MIN + count > length:
            self.invalid(p, length)
            return
        if count:
            self.check(p + _CTRL_MIN, count)
            self.put("\n\tTO-BE-DONE: data not interpreted")

    def message(self, p: int, length: int, verbose: int) -> None:
        status = self.u8(p)
        mode = status & 0x07
        self.put(f"NTPv{(status >> 3) & 0x07}, {_MODES[mode]}, length {length}")
        if not verbose:
            return
        leap = status & 0xC0
        self.put(f"\n\tLeap indicator: {_LEAP[leap]} ({leap})")
        try:
            if mode <= 5:
                self.time_message(p, length)
            elif mode == 6:
                self.control_message(p, length)
        except _Soft:
            self.put(" [|ntp]")


def ntp(data: bytes, p: int, length: int, end: int, verbose: int) -> tuple[str, str]:
    """tcpdump's text for the NTP message at data[p:], ``length`` octets claimed by UDP,
    captured octets stopping at ``end`` (data[end:] is never read)."""
    printer = _Printer(data, max(0, min(end, len(data))))
    try:
        printer.message(p, length & _M32, verbose)
    except _Hard:
        return "".join(printer.out), "ntp"
    return "".join(printer.out), ""


__all__ = ["ntp"]
