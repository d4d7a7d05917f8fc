"""tcpdump 4.99's SNMP text (its snmp printer, no libsmi, ``-n``) for a quoted UDP datagram.

The formatter calls it for UDP to or from ports 161/162, plain or quoted inside an
ICMP error, in tcpdump's port precedence.  ``snmp`` follows the convention of
:mod:`pcapping.tcpdump.apps.text`: it takes the frame bytes ``data``, the SNMP message
offset ``p``, the payload ``length`` UDP claims and the capture end ``end``, and returns
``(text, hard)``.

tcpdump reads the message as a tree of BER elements, one at a time, each read
checked against both the claimed length and the captured bytes:

* a tag or length octet past the captured data is a *hard* stop (its GET_U_1
  longjmp): ``hard`` is ``"snmp"`` and the caller appends `` [|snmp]`` once for
  the frame, nothing else is printed;
* the octets of a long-form length or the contents of an element past the
  captured data are a *soft* stop (ND_TCHECK): `` [|snmp]`` is part of ``text``
  and the enclosing levels still print their closing braces;
* a malformed element prints tcpdump's bracketed complaint (``[no asnlen]``,
  ``[len5<asnlen9]``, ``[id?P/x/9]``...) and ends that level.

The text depends on the verbosity only through zero / non-zero, as tcpdump's
does: ``-v`` adds the ``{ SNMPv1 ... } `` braces, ``R=`` request ids and the
USM ``B=``/``T=`` fields.  OIDs are numeric, as tcpdump prints them with ``-n``.
Quirks kept on purpose: an extended tag number keeps only its low 8 bits, the
class name in ``[id?...]`` and ``C/x/...`` is the literal ``x`` (tcpdump's
stringizing slip), OID sub-identifiers wrap as 32-bit signed ints, and a
primitive context tag 3..8 is printed as ``[BE_ANY!?]``.  No divergence from
tcpdump 4.99.3 is known (tests/test_tcpdump_snmp.py compares it frame by frame).
"""

from __future__ import annotations

from dataclasses import dataclass

_UNIVERSAL = ("U-0", "Boolean", "Integer", "Bitstring", "String", "Null", "ObjID", "ObjectDes",
              "U-8", "U-9", "U-10", "U-11", "U-12", "U-13", "U-14", "U-15", "Sequence", "Set")
_APPLICATION = ("IpAddress", "Counter", "Gauge", "TimeTicks", "Opaque", "C-5", "Counter64")
_CONTEXT = ("GetRequest", "GetNextRequest", "GetResponse", "SetRequest", "Trap", "GetBulk",
            "Inform", "V2Trap", "Report")
_CLASS_IDS = (_UNIVERSAL, _APPLICATION, _CONTEXT, ("P-0",))
_EXCEPTIONS = ("noSuchObject", "noSuchInstance", "endOfMibView")
_ERROR_STATUS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr",
                 "noAccess", "wrongType", "wrongLength", "wrongEncoding", "wrongValue",
                 "noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
                 "undoFailed", "authorizationError", "notWritable", "inconsistentName")
_GENERIC_TRAP = ("coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure",
                 "egpNeighborLoss", "enterpriseSpecific")
_VERSIONS = {0: "SNMPv1", 1: "SNMPv2c", 3: "SNMPv3"}

# element kinds (tcpdump's BE_* types)
ANY, NULL, OCTET, OID, INT, UNS, STR, SEQ, INET, PDU, UNS64, EXC = range(12)

# PDU numbers
GETREQ, GETNEXT, GETRESP, SETREQ, TRAP, GETBULK, INFORM, V2TRAP, REPORT = range(9)
_GET_LIKE = (GETREQ, GETNEXT, GETBULK)
_NO_ERROR_EXPECTED = (GETREQ, GETNEXT, SETREQ, INFORM, V2TRAP, REPORT)
_V3_FLAGS = (0x00, 0x01, 0x03, 0x04, 0x05, 0x07)

_M32 = 0xFFFFFFFF


def _int32(v: int) -> int:
    """The low 32 bits of ``v`` as a C int32."""
    v &= _M32
    return v - (1 << 32) if v & 0x80000000 else v


class _Hard(Exception):
    """A fetch past the captured data: tcpdump's longjmp out of the whole packet."""


@dataclass(slots=True)
class _Elem:
    kind: int
    ident: int
    asnlen: int
    body: int      # offset of the contents in the frame
    size: int      # header plus contents
    value: int = 0


class _Printer:
    """One message's worth of tcpdump's snmp_print, appending to ``out``."""

    def __init__(self, data: bytes, end: int, verbose: int) -> None:
        self.data = data
        self.end = end
        self.v = verbose > 0
        self.out: list[str] = []

    # -- low level --------------------------------------------------------------

    def put(self, s: str) -> None:
        self.out.append(s)

    def byte(self, q: int) -> int:
        """tcpdump's GET_U_1: a byte past the capture ends the packet."""
        if not 0 <= q < self.end:
            raise _Hard
        return self.data[q]

    def captured(self, q: int, n: int) -> bool:
        """tcpdump's ND_TTEST_LEN; when false the caller prints the soft `` [|snmp]``."""
        if 0 <= q and q + n <= self.end:
            return True
        self.put(" [|snmp]")
        return False

    # -- BER ----------------------------------------------------------------------

    def parse(self, q: int, length: int) -> _Elem | None:
        """tcpdump's asn1_parse: the element at ``q`` within ``length`` bytes, or None
        after printing why not."""
        if length < 1:
            self.put("[nothing to parse]")
            return None
        first = self.byte(q)
        ident, form, cls = first & 0x1F, (first >> 5) & 1, first >> 6
        q += 1
        length -= 1
        hdr = 1
        if ident == 0x1F:
            ident = 0
            while self.byte(q) & 0x80:
                if length < 1:
                    self.put("[Xtagfield?]")
                    return None
                ident = ((ident << 7) | (self.byte(q) & 0x7F)) & 0xFF
                q, length, hdr = q + 1, length - 1, hdr + 1
            if length < 1:
                self.put("[Xtagfield?]")
                return None
            ident = ((ident << 7) | self.byte(q)) & 0xFF
            q, length, hdr = q + 1, length - 1, hdr + 1
        if length < 1:
            self.put("[no asnlen]")
            return None
        asnlen = self.byte(q)
        q, length, hdr = q + 1, length - 1, hdr + 1
        if asnlen & 0x80:
            noct = asnlen & 0x7F
            asnlen = 0
            if length < noct:
                self.put(f"[asnlen? {length}<{noct}]")
                return None
            if not self.captured(q, noct):
                return None
            for _ in range(noct):
                asnlen = ((asnlen << 8) | self.data[q]) & _M32
                q, length, hdr = q + 1, length - 1, hdr + 1
        if length < asnlen:
            self.put(f"[len{length}<asnlen{asnlen}]")
            return None
        names = _CLASS_IDS[cls]
        if ident >= len(names):
            self.put(f"[id?{'PC'[form]}/x/{ident}]")
            return None
        if not self.captured(q, asnlen):
            return None
        elem = _Elem(ANY, ident, asnlen, q, hdr + asnlen)
        if form == 0:
            if not self._primitive(elem, cls):
                return None
        elif cls == 0 and ident == 16:
            elem.kind = SEQ
        elif cls == 2:
            elem.kind = PDU
        else:
            elem.kind = OCTET
            self.put(f"C/{'U' if cls == 0 else 'x'}/{names[ident]}")
        return elem

    def _primitive(self, elem: _Elem, cls: int) -> bool:
        """Type and value of a primitive element; False after ``[asnlen=0]``."""
        ident, body, asnlen = elem.ident, elem.body, elem.asnlen
        raw = self.data[body: body + asnlen]
        if cls == 0:
            if ident == 4:
                elem.kind = STR
            elif ident == 2:
                elem.kind = INT
                if not asnlen:
                    self.put("[asnlen=0]")
                    return False
                v = -1 if raw[0] & 0x80 else 0
                for b in raw:
                    v = (v << 8) | b
                elem.value = _int32(v)
            elif ident == 6:
                elem.kind = OID
            elif ident == 5:
                elem.kind = NULL
            else:
                elem.kind = OCTET
                self.put(f"[P/U/{_UNIVERSAL[ident]}]")
        elif cls == 1:
            if ident == 0:
                elem.kind = INET
            elif ident in (1, 2, 3):
                elem.kind = UNS
                elem.value = int.from_bytes(raw, "big") & _M32
            elif ident == 6:
                elem.kind = UNS64
                elem.value = int.from_bytes(raw, "big") & 0xFFFFFFFFFFFFFFFF
            else:
                elem.kind = OCTET
                self.put(f"[P/A/{_APPLICATION[ident]}]")
        elif cls == 2:
            if ident < 3:
                elem.kind = EXC
        else:
            elem.kind = OCTET
            self.put(f"[P/x/{_CLASS_IDS[cls][ident]}]")
        return True

    # -- values -------------------------------------------------------------------

    def octets(self, e: _Elem) -> None:
        self.put("".join(f"_{b:02x}" for b in self.data[e.body: e.body + e.asnlen]))

    def string(self, e: _Elem) -> None:
        raw = self.data[e.body: e.body + e.asnlen]
        if all(0x20 <= b <= 0x7E for b in raw):
            self.put(f'"{raw.decode("ascii")}"')
        else:
            self.put("_".join(f"{b:02x}" for b in raw))

    def oid(self, e: _Elem) -> None:
        out = []
        o = 0
        first = True
        for b in self.data[e.body: e.body + e.asnlen]:
            o = _int32((o << 7) + (b & 0x7F))
            if b & 0x80:
                continue
            if first:
                first = False
                s = min(int(o / 40), 2)  # C division truncates toward zero
                out.append(f".{s & _M32}")
                o = _int32(o - s * 40)
            out.append(f".{o & _M32}")
            o = 0
        self.put("".join(out))

    def show(self, e: _Elem) -> None:
        """tcpdump's asn1_print (which cannot fail once the element was parsed)."""
        kind = e.kind
        if kind == OCTET:
            self.octets(e)
        elif kind == OID:
            self.oid(e)
        elif kind == INT:
            self.put(str(e.value))
        elif kind in (UNS, UNS64):
            self.put(str(e.value))
        elif kind == STR:
            self.string(e)
        elif kind == SEQ:
            self.put(f"Seq({e.asnlen})")
        elif kind == INET:
            if e.asnlen != 4:
                self.put("[inetaddr len!=4]")
            self.put(".".join(str(b) for b in self.data[e.body: e.body + e.asnlen]))
        elif kind == EXC:
            self.put(f"[{_EXCEPTIONS[e.ident]}]")
        elif kind == PDU:
            self.put(f"{_CONTEXT[e.ident]}({e.asnlen})")
        elif kind == ANY:
            self.put("[BE_ANY!?]")

    def field(self, q: int, length: int, kind: int, complaint: str) -> _Elem | None:
        """The next element, which must be of ``kind``; else ``[complaint]`` and its text."""
        e = self.parse(q, length)
        if e is None:
            return None
        if e.kind != kind:
            self.put(f"[{complaint}]")
            self.show(e)
            return None
        return e

    # -- SNMP structure -------------------------------------------------------------

    def message(self, q: int, length: int) -> None:
        self.put(" ")
        e = self.field(q, length, SEQ, "!init SEQ")
        if e is None:
            return
        if e.size < length:
            self.put(f"[{length - e.size} extra after iSEQ]")
        q, length = e.body, e.asnlen
        e = self.field(q, length, INT, "version!=INT")
        if e is None:
            return
        version = e.value
        if version not in _VERSIONS:
            self.put(f"SNMP [version = {version}]")
            return
        if self.v:
            self.put(f"{{ {_VERSIONS[version]} ")
        q, length = q + e.size, length - e.size
        if version == 3:
            self.v3_message(q, length)
        else:
            self.community(q, length, version)
        if self.v:
            self.put("} ")

    def community(self, q: int, length: int, version: int) -> None:
        e = self.field(q, length, STR, "comm!=STR")
        if e is None:
            return
        if self.data[e.body: e.body + e.asnlen] != b"public":
            self.put("C=")
            self.string(e)
            self.put(" ")
        self.pdu(q + e.size, length - e.size, version)

    def pdu(self, q: int, length: int, version: int) -> None:
        e = self.parse(q, length)
        if e is None:
            return
        if e.kind != PDU:
            self.put("[no PDU]")
            return
        if e.size < length:
            self.put(f"[{length - e.size} extra after PDU]")
        if self.v:
            self.put("{ ")
        self.show(e)
        self.put(" ")
        pduid = e.ident
        if version == 0 and pduid in (GETBULK, INFORM, V2TRAP, REPORT):
            self.put("[v2 PDU in v1 message]")
            return
        if version == 1 and pduid == TRAP:
            self.put("[v1 PDU in v2 message]")
            return
        if pduid == TRAP:
            self.trap(e.body, e.asnlen)
        else:
            self.request(pduid, e.body, e.asnlen)
        if self.v:
            self.put(" } ")

    def request(self, pduid: int, q: int, length: int) -> None:
        e = self.field(q, length, INT, "reqId!=INT")
        if e is None:
            return
        if self.v:
            self.put(f"R={e.value} ")
        q, length = q + e.size, length - e.size
        e = self.field(q, length, INT, "errorStatus!=INT")
        if e is None:
            return
        status = e.value
        error_status = 0
        if pduid in _NO_ERROR_EXPECTED and status != 0:
            self.put(f"[errorStatus({_error_name(status)})!=0]")
        elif pduid == GETBULK:
            self.put(f" N={status}")
        elif status != 0:
            self.put(f" {_error_name(status)}")
            error_status = status
        q, length = q + e.size, length - e.size
        e = self.field(q, length, INT, "errorIndex!=INT")
        if e is None:
            return
        index = e.value
        if pduid in _NO_ERROR_EXPECTED and index != 0:
            self.put(f"[errorIndex({index})!=0]")
        elif pduid == GETBULK:
            self.put(f" M={index}")
        elif index != 0:
            self.put(f"@{index}" if error_status else f"[errorIndex({index}) w/o errorStatus]")
        elif error_status:
            self.put("[errorIndex==0]")
        self.varbinds(pduid, q + e.size, length - e.size)

    def trap(self, q: int, length: int) -> None:
        self.put(" ")
        e = self.field(q, length, OID, "enterprise!=OID")
        if e is None:
            return
        self.show(e)
        q, length = q + e.size, length - e.size
        self.put(" ")
        e = self.field(q, length, INET, "agent-addr!=INETADDR")
        if e is None:
            return
        self.show(e)
        q, length = q + e.size, length - e.size
        e = self.field(q, length, INT, "generic-trap!=INT")
        if e is None:
            return
        generic = e.value
        self.put(f" {_GENERIC_TRAP[generic]}" if 0 <= generic < 7 else f" gt={generic}")
        q, length = q + e.size, length - e.size
        e = self.field(q, length, INT, "specific-trap!=INT")
        if e is None:
            return
        if generic == 6:
            self.put(f" s={e.value}")
        elif e.value != 0:
            self.put(f"[specific-trap({e.value})!=0]")
        q, length = q + e.size, length - e.size
        self.put(" ")
        e = self.field(q, length, UNS, "time-stamp!=TIMETICKS")
        if e is None:
            return
        self.show(e)
        self.varbinds(TRAP, q + e.size, length - e.size)

    def varbinds(self, pduid: int, q: int, length: int) -> None:
        e = self.field(q, length, SEQ, "!SEQ of varbind")
        if e is None:
            return
        if e.size < length:
            self.put(f"[{length - e.size} extra after SEQ of varbind]")
        q, length = e.body, e.asnlen
        get_like = pduid in _GET_LIKE
        while length > 0:
            self.put(" ")
            e = self.field(q, length, SEQ, "!varbind")
            if e is None:
                return
            after, left = q + e.size, length - e.size
            q, length = e.body, e.asnlen
            e = self.field(q, length, OID, "objName!=OID")
            if e is None:
                return
            self.show(e)
            q, length = q + e.size, length - e.size
            if not get_like:
                self.put("=")
            e = self.parse(q, length)
            if e is None:
                return
            if e.kind != NULL:
                if get_like:
                    self.put("[objVal!=NULL]")
                self.show(e)
            q, length = after, left

    def v3_message(self, q: int, length: int) -> None:
        start, total = q, length
        e = self.field(q, length, SEQ, "!message")
        if e is None:
            return
        q, length = e.body, e.asnlen
        if self.v:
            self.put("{ ")
        e = self.field(q, length, INT, "msgID!=INT")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        e = self.field(q, length, INT, "msgMaxSize!=INT")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        e = self.field(q, length, STR, "msgFlags!=STR")
        if e is None:
            return
        if e.asnlen != 1:
            self.put(f"[msgFlags size {e.asnlen}]")
            return
        flags = self.data[e.body]
        if flags not in _V3_FLAGS:
            self.put(f"[msgFlags=0x{flags:02X}]")
            return
        q, length = q + e.size, length - e.size
        self.put(f"F={'a' if flags & 1 else ''}{'p' if flags & 2 else ''}"
                 f"{'r' if flags & 4 else ''} ")
        e = self.field(q, length, INT, "msgSecurityModel!=INT")
        if e is None:
            return
        model = e.value
        q, length = q + e.size, length - e.size
        if e.size < length:
            self.put(f"[{length - e.size} extra after message SEQ]")
        if self.v:
            self.put("} ")
        if model != 3:
            self.put(f"[security model {model}]")
            return
        if self.v:
            self.put("{ USM ")
        # tcpdump goes on from where the header's last field ended, within the message
        length = total - (q - start)
        e = self.field(q, length, STR, "msgSecurityParameters!=STR")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        self.usm(e.body, e.asnlen)
        if self.v:
            self.put("} ")
            self.put("{ ScopedPDU ")
        self.scoped_pdu(q, length)
        if self.v:
            self.put("} ")

    def usm(self, q: int, length: int) -> None:
        e = self.field(q, length, SEQ, "!usm")
        if e is None:
            return
        q, length = e.body, e.asnlen
        e = self.field(q, length, STR, "msgAuthoritativeEngineID!=STR")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        for name, label in (("Boots", "B"), ("Time", "T")):
            e = self.field(q, length, INT, f"msgAuthoritativeEngine{name}!=INT")
            if e is None:
                return
            if self.v:
                self.put(f"{label}={e.value} ")
            q, length = q + e.size, length - e.size
        e = self.field(q, length, STR, "msgUserName!=STR")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        self.put("U=")
        self.string(e)
        self.put(" ")
        for name in ("msgAuthenticationParameters", "msgPrivacyParameters"):
            e = self.field(q, length, STR, f"{name}!=STR")
            if e is None:
                return
            q, length = q + e.size, length - e.size
        if e.size < length:
            self.put(f"[{length - e.size} extra after usm SEQ]")

    def scoped_pdu(self, q: int, length: int) -> None:
        e = self.field(q, length, SEQ, "!scoped PDU")
        if e is None:
            return
        q, length = e.body, e.asnlen
        e = self.field(q, length, STR, "contextEngineID!=STR")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        self.put("E=")
        self.octets(e)
        self.put(" ")
        e = self.field(q, length, STR, "contextName!=STR")
        if e is None:
            return
        q, length = q + e.size, length - e.size
        self.put("C=")
        self.string(e)
        self.put(" ")
        self.pdu(q, length, 3)


def _error_name(status: int) -> str:
    return _ERROR_STATUS[status] if 0 <= status < len(_ERROR_STATUS) else f"err={status & _M32}"


def snmp(data: bytes, p: int, length: int, end: int, verbose: int) -> tuple[str, str]:
    """tcpdump's text for the SNMP message at data[p:], `length` bytes claimed by UDP,
    captured bytes stop at `end` (data[end:] must never be read)."""
    printer = _Printer(data, max(0, min(end, len(data))), verbose)
    try:
        printer.message(p, max(0, length))
    except _Hard:
        return "".join(printer.out), "snmp"
    return "".join(printer.out), ""


__all__ = ["snmp"]
