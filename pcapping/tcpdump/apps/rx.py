"""tcpdump 4.99's AFS/RX printer (UDP ports 7000-7009), for datagrams ICMP errors quote.

RX replies carry no opcode: tcpdump remembers the last 64 client calls it saw (from
any frame, quoted or not) and decodes a reply only when its call is remembered.
``RxPrinter`` keeps that memory, so one instance must see every frame of a run in
order, as ``TcpdumpFormatter`` does.

``RxPrinter.print`` follows the convention of ``pcapping.tcpdump.apps.text``: it returns
``(text, hard)``, where ``hard`` is ``"rx"`` when tcpdump would give up on a fetch
past the captured data (the caller prints `` [|rx]``).  A check tcpdump makes
before it reads (ND_TCHECK) is soft: the service's `` [|fs]`` mark, then the
closing `` (length)``.
"""

from __future__ import annotations

import time

from pcapping.tcpdump.apps.text import printn

HEADER = 28  # epoch cid call seq serial | type flags status secidx | spare serviceid
_DATA, _ACK, _ABORT = 1, 2, 4
_CLIENT_INIT = 1

_TYPES = {1: "data", 2: "ack", 3: "busy", 4: "abort", 5: "ackall", 6: "challenge",
          7: "response", 8: "debug", 9: "params", 13: "version"}
# (bit, only for this packet type or 0, name), in tcpdump's order
_FLAGS = ((1, 0, "client-init"), (2, 0, "req-ack"), (4, 0, "last-pckt"), (8, 0, "more-pckts"),
          (16, 0, "free-pckt"), (32, _ACK, "slow-start"), (32, _DATA, "jumbogram"))
_ACK_REASONS = {1: "ack requested", 2: "duplicate packet", 3: "out of sequence",
                4: "exceeds window", 5: "no buffer space", 6: "ping", 7: "ping response",
                8: "delay", 9: "idle"}
_FS_ERRORS = {101: "salvage volume", 102: "no such vnode", 103: "no such volume",
              104: "volume exist", 105: "no service", 106: "volume offline",
              107: "voline online", 108: "diskfull", 109: "diskquota exceeded",
              110: "volume busy", 111: "volume moved", 112: "AFS IO error",
              -100: "restarting fileserver"}
_VOLTYPE = ("read-write", "read-only", "backup")


def _names(first: int, text: str) -> dict[int, str]:
    return {first + k: name for k, name in enumerate(text.split())}


FS_OPS = _names(130, "fetch-data fetch-acl fetch-status store-data store-acl store-status "
                     "remove-file create-file rename symlink link makedir rmdir oldsetlock "
                     "oldextlock oldrellock get-stats give-cbs get-vlinfo get-vlstats "
                     "set-vlstats get-rootvl check-token get-time nget-vlinfo bulk-stat "
                     "setlock extlock rellock xstat-ver get-xstat dfs-lookup dfs-flushcps "
                     "dfs-symlink")
FS_OPS[220] = "residency"
FS_OPS.update(_names(65536, "inline-bulk-status fetch-data-64 store-data-64 give-up-all-cbs "
                            "get-caps cb-rx-conn-addr"))
CB_OPS = _names(204, "callback initcb probe getlock getce xstatver getxstat initcb2 "
                     "whoareyou initcb3 probeuuid getsrvprefs getcellservdb getlocalcell "
                     "getcacheconf")
CB_OPS.update(_names(65536, "getce64 getcellbynum tellmeaboutyourself"))
PT_OPS = _names(500, "new-user where-is-it dump-entry add-to-group name-to-id id-to-name "
                     "delete remove-from-group get-cps new-entry list-max set-max list-entry "
                     "change-entry list-elements same-mbr-of set-fld-sentry list-owned "
                     "get-cps2 get-host-cps update-entry list-entries")
PT_OPS[530] = "list-super-groups"
VLDB_OPS = _names(501, "create-entry delete-entry get-entry-by-id get-entry-by-name "
                       "get-new-volume-id replace-entry update-entry setlock releaselock "
                       "list-entry list-attrib linked-list get-stats probe get-addrs "
                       "change-addr create-entry-n get-entry-by-id-n get-entry-by-name-n "
                       "replace-entry-n list-entry-n list-attrib-n linked-list-n "
                       "update-entry-by-name create-entry-u get-entry-by-id-u "
                       "get-entry-by-name-u replace-entry-u list-entry-u list-attrib-u "
                       "linked-list-u regaddr get-addrs-u list-attrib-n2")
KAUTH_OPS = {1: "auth-old", 21: "authenticate", 22: "authenticate-v2", 2: "change-pw",
             3: "get-ticket-old", 23: "get-ticket", 4: "set-pw", 5: "set-fields",
             6: "create-user", 7: "delete-user", 8: "get-entry", 9: "list-entry",
             10: "get-stats", 11: "debug", 12: "get-pw", 13: "get-random-key", 14: "unlock",
             15: "lock-status"}
VOL_OPS = _names(100, "create-volume delete-volume restore forward end-trans clone set-flags "
                      "get-flags trans-create dump get-nth-volume set-forwarding get-name "
                      "get-status sig-restore list-partitions list-volumes set-id-types "
                      "monitor partition-info reclone list-one-volume nuke set-date "
                      "x-list-volumes x-list-one-volume set-info x-list-partitions "
                      "forward-multiple")
VOL_OPS.update(_names(65536, "convert-ro get-size dump-v2"))
BOS_OPS = _names(80, "create-bnode delete-bnode set-status get-status enumerate-instance "
                     "get-instance-info get-instance-parm add-superuser delete-superuser "
                     "list-superusers list-keys add-key delete-key set-cell-name "
                     "get-cell-name get-cell-host add-cell-host delete-cell-host "
                     "set-t-status shutdown-all restart-all startup-all set-noauth-flag "
                     "re-bozo restart start-bozo-install uninstall get-dates exec prune "
                     "set-restart-time get-restart-time start-bozo-log wait-all "
                     "get-instance-strings get-restricted set-restricted")
UBIK_OPS = _names(10000, "vote-beacon vote-debug-old vote-sdebug-old vote-getsyncsite "
                         "vote-debug vote-sdebug vote-xdebug vote-xsdebug")
UBIK_OPS.update(_names(20000, "disk-begin disk-commit disk-lock disk-write disk-getversion "
                              "disk-getfile disk-sendfile disk-abort disk-releaselocks "
                              "disk-truncate disk-probe disk-writev disk-interfaceaddr "
                              "disk-setversion"))

# Arguments as small programs: "fid", "u32", "s32", "u64", "date", "str:MAX", "vec:MAX",
# "store", "ver" (ubik version), "uuid", "dest" (server triple), "skip:N"; any other
# item (it starts with a space) is printed as is.
_AFSNAME, _PRNAME, _VLNAME, _KANAME, _BOSNAME = "str:256", "str:64", "str:65", "str:64", "str:256"
_FS_CALL = {
    130: ("fid", " offset", "u32", " length", "u32"),
    **dict.fromkeys((131, 132, 143, 144, 145, 156, 157, 158), ("fid",)),
    135: ("fid", "store"),
    133: ("fid", "store", " offset", "u32", " length", "u32", " flen", "u32"),
    **dict.fromkeys((137, 141), ("fid", _AFSNAME, "store")),
    **dict.fromkeys((136, 142), ("fid", _AFSNAME)),
    138: (" old", "fid", _AFSNAME, " new", "fid", _AFSNAME),
    139: ("fid", _AFSNAME, " link to", _AFSNAME),
    140: ("fid", _AFSNAME, " link to", "fid"),
    148: (_AFSNAME,),
    **dict.fromkeys((149, 150), (" volid", "u32")),
    154: (" volname", _AFSNAME),
    65537: ("fid", " offset", "u64", " length", "u64"),
    65538: ("fid", "store", " offset", "u64", " length", "u64", " flen", "u64"),
    65541: (" addr", "u32"),
}
_FS_REPLY = {137: (" new", "fid"), 141: (" new", "fid"), 151: (" root volume", _AFSNAME),
             153: ("date",)}
_PT_CALL = {
    500: (_PRNAME, " id", "s32", " oldid", "s32"),
    **dict.fromkeys((501, 506, 508, 512, 514, 517, 518, 519, 530), (" id", "s32")),
    502: (" pos", "s32"),
    **dict.fromkeys((503, 507, 515), (" uid", "s32", " gid", "s32")),
    509: (_PRNAME, " flag", "s32", " oid", "s32"),
    511: (" id", "s32", " gflag", "s32"),
    513: (" id", "s32", _PRNAME, " oldid", "s32", " newid", "s32"),
    520: (" id", "s32", _PRNAME),
}
_VLDB_CALL = {
    501: ("vec:65",), 517: ("vec:65",),
    **dict.fromkeys((504, 519, 524, 527), (_VLNAME,)),
    505: (" bump", "s32"),
    510: (" index", "s32"), 521: (" index", "s32"),
}
_KAUTH_PRINCIPAL = (" principal", _KANAME, _KANAME)
_KAUTH_CALL = {
    **dict.fromkeys((1, 21, 22, 2, 5, 6, 7, 8, 14, 15), _KAUTH_PRINCIPAL),
    4: _KAUTH_PRINCIPAL + (" kvno", "s32"),
    12: (" name", _KANAME),
}
_VOL_CALL = {
    100: (" partition", "u32", " name", _AFSNAME, " type", "u32", " parent", "u32"),
    101: (" trans", "u32"), 107: (" trans", "u32"), 104: (" trans", "u32"),
    102: (" totrans", "u32", " flags", "u32"),
    103: (" fromtrans", "u32", " fromdate", "date", "dest", " desttrans", "s32"),
    105: (" trans", "u32", " purgevol", "u32", " newtype", "u32", " newname", _AFSNAME),
    106: (" trans", "u32", " flags", "u32"),
    108: (" vol", "u32", " partition", "u32", " flags", "u32"),
    109: (" fromtrans", "u32", " fromdate", "date"),
    655537: (" fromtrans", "u32", " fromdate", "date"),  # sic: tcpdump's "get size" case
    110: (" index", "u32"),
    111: (" tid", "u32", " newsite", "u32"),
    112: (" tid",), 113: (" tid",),
    114: (" name", _AFSNAME, " type", "u32", " pid", "u32", " cloneid", "u32"),
    116: (" partition", "u32", " flags", "u32"),
    117: (" tid", "u32", " name", _AFSNAME, " type", "u32", " pid", "u32", " clone", "u32",
          " backup", "u32"),
    119: (" name", _AFSNAME),
    120: (" tid", "u32"), 126: (" tid", "u32"),
    **dict.fromkeys((121, 122, 124, 125, 65536), (" partid", "u32", " volid", "u32")),
    123: (" tid", "u32", " date", "date"),
    65538: (" fromtrans", "u32", " fromdate", "date", " flags", "u32"),
}
_VOL_REPLY = {
    100: (" volid", "u32", " trans", "u32"), 104: ("u32",), 105: (" newvol", "u32"),
    107: ("u32",), 108: (" trans", "u32"), 110: (" volume", "u32", " partition", "u32"),
    112: (_AFSNAME,),
    113: (" volid", "u32", " nextuniq", "u32", " type", "u32", " parentid", "u32",
          " clone", "u32", " backup", "u32", " restore", "u32", " maxquota", "u32",
          " minquota", "u32", " owner", "u32", " create", "date", " access", "date",
          " update", "date", " expire", "date", " backup", "date", " copy", "date"),
}
_BOS_CALL = {
    80: (" type", _BOSNAME, " instance", _BOSNAME),
    **dict.fromkeys((81, 83, 85, 87, 88, 93, 96, 97, 104, 106, 108, 112, 114), (_BOSNAME,)),
    82: (_BOSNAME, " status", "s32"), 98: (_BOSNAME, " status", "s32"),
    86: (_BOSNAME, " num", "s32"),
    **dict.fromkeys((84, 89, 90, 91, 92, 95), ("s32",)),
    105: (_BOSNAME, " size", "s32", " flags", "s32", " date", "s32"),
}
_UBIK_CALL = {
    10003: (" site", "u32"),
    **dict.fromkeys((20000, 20001, 20007, 20008, 20010), (" tid", "ver")),
    20003: (" tid", "ver", " file", "s32", " pos", "s32"),
    20005: (" file", "s32"),
    20006: (" file", "s32", " length", "s32", " dbversion", "ver"),
    20009: (" tid", "ver", " file", "s32", " length", "s32"),
    20012: (" tid", "ver", " oldversion", "ver", " newversion", "ver"),
}


class _Hard(Exception):
    """A fetch past the captured data: tcpdump's longjmp, `` [|rx]`` ends the frame."""


class _Soft(Exception):
    """A failed ND_TCHECK: the service's `` [|name]``, then rx_print goes on."""


def _s32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def _cstr(raw: bytes) -> str:
    """tcpdump's fn_print_str: up to the first NUL, escaped as nd_printn does."""
    raw = raw.split(b"\0", 1)[0]
    return printn(raw, 0, len(raw), len(raw))


class _Reader:
    """A cursor over the captured bytes that prints as tcpdump's macros do."""

    __slots__ = ("data", "q", "end", "out")

    def __init__(self, data: bytes, q: int, end: int, out: list[str]) -> None:
        self.data, self.q, self.end, self.out = data, q, end, out

    def check(self, n: int) -> None:
        if n < 0 or self.q + n > self.end:
            raise _Soft

    def u32(self) -> int:
        q = self.q
        if q + 4 > self.end:
            raise _Hard
        self.q = q + 4
        return int.from_bytes(self.data[q: q + 4], "big")

    def run(self, program: tuple[str, ...]) -> None:
        for item in program:
            if item[0] == " ":
                self.out.append(item)
            else:
                self.item(item)

    def item(self, kind: str) -> None:
        out = self.out
        if kind == "u32":
            out.append(f" {self.u32()}")
        elif kind == "s32":
            out.append(f" {_s32(self.u32())}")
        elif kind == "u64":
            hi = self.u32()
            out.append(f" {(hi << 32) | self.u32()}")
        elif kind == "date":
            when = time.localtime(_s32(self.u32()))
            out.append(" " + time.strftime("%Y/%m/%d %H:%M:%S", when))
        elif kind == "fid":
            self.check(12)
            out.append(f" fid {self.u32()}/{self.u32()}/{self.u32()}")
        elif kind == "dest":
            self.check(12)
            out.append(f" server {self.u32()}:{self.u32()}:{self.u32()}")
        elif kind == "ver":
            self.check(8)
            out.append(f" {self.u32()}.{self.u32()}")
        elif kind == "uuid":
            self.check(44)
            out.append(f" {self.u32():08x}{self.u32():04x}{self.u32():04x}")
            out.append("".join(f"{self.u32() & 0xFF:02x}" for _ in range(8)))
        elif kind == "store":
            self.store()
        elif kind.startswith("str:"):
            self.string(int(kind[4:]))
        elif kind.startswith("vec:"):
            self.vector(int(kind[4:]))
        else:  # "skip:N"
            n = int(kind[5:])
            self.check(n)
            self.q += n

    def string(self, limit: int) -> None:
        """STROUT: a length-prefixed string padded to 4 bytes."""
        n = self.u32()
        if n > limit:
            raise _Soft
        self.out.append(' "' + printn(self.data, self.q, n, self.end))
        if self.q + n > self.end:
            raise _Soft
        self.out.append('"')
        self.q += (n + 3) & ~3

    def vector(self, size: int) -> None:
        """VECOUT: ``size`` characters, one per 32-bit word."""
        self.check(size * 4)
        raw = bytes(self.u32() & 0xFF for _ in range(size))
        self.out.append(f' "{_cstr(raw)}"')

    def store(self) -> None:
        """STOREATTROUT: an AFSStoreStatus, only its fields the mask selects."""
        self.check(24)
        out = self.out
        mask = self.u32()
        if mask:
            out.append(" StoreStatus")
        if mask & 1:
            out.append(" date")
            self.item("date")
        else:
            self.q += 4
        for bit, fmt in ((2, " owner {}"), (4, " group {}"), (8, " mode {:o}"),
                         (16, " segsize {}")):
            v = self.u32()
            if mask & bit:
                out.append(fmt.format(v & 0o7777 if bit == 8 else v))
        if mask & 1024:
            out.append(" fsync")

    def count_list(self, each: tuple[str, ...], sep: str = "") -> None:
        """A counted list: ``each`` per element, ``sep`` between, `` <none!>`` if empty."""
        n = self.u32()
        for k in range(n):
            self.run(each)
            if sep and k != n - 1:
                self.out.append(sep)
        if n == 0:
            self.out.append(" <none!>")


class RxPrinter:
    """tcpdump's RX printer and its call cache (see the module docstring)."""

    def __init__(self) -> None:
        zero = (0, 0, 0, 0, 0, 0)
        self._cache: list[tuple[int, int, int, int, int, int]] = [zero] * 64
        self._next = 0
        self._hint = 0

    def print(self, data: bytes, p: int, length: int, end: int, sport: int, dport: int,
              src: bytes, dst: bytes, verbose: int) -> tuple[str, str]:
        """The text after ``a.p > b.q:`` for the RX packet at ``data[p:]``; the IPv4
        ``src``/``dst`` are those of the datagram carrying it."""
        out: list[str] = []
        try:
            self._print(_Reader(data, p, end, out), length, sport, dport, src, dst, verbose)
        except _Hard:
            return "".join(out), "rx"
        return "".join(out), ""

    def _print(self, r: _Reader, length: int, sport: int, dport: int, src: bytes,
               dst: bytes, verbose: int) -> None:
        data, p, out = r.data, r.q, r.out
        if p + HEADER > r.end:
            out.append(f" [|rx] ({length})")
            return
        callnum, seq, serial = (int.from_bytes(data[p + k: p + k + 4], "big") for k in (8, 12, 16))
        ptype, flags, secidx = data[p + 20], data[p + 21], data[p + 23]
        service = int.from_bytes(data[p + 26: p + 28], "big")
        out.append(f" rx {_TYPES.get(ptype, f'type {ptype}')}")
        if verbose:
            if verbose > 1:
                out.append(f" cid {int.from_bytes(data[p + 4: p + 8], 'big'):08x}"
                           f" call# {callnum}")
            out.append(f" seq {seq} ser {serial}")
            if verbose > 2:
                out.append(f" secindex {secidx} serviceid {service}")
            if verbose > 1:
                shown = [f"<{name}>" for bit, only, name in _FLAGS
                         if flags & bit and (not only or ptype == only)]
                if shown:
                    out.append(" " + ",".join(shown))
        client, server = int.from_bytes(src, "big"), int.from_bytes(dst, "big")
        if ptype == _DATA and seq == 1 and flags & _CLIENT_INIT:
            if p + HEADER + 4 <= r.end:
                opcode = int.from_bytes(data[p + HEADER: p + HEADER + 4], "big")
                self._cache[self._next] = (callnum, client, server, dport, service, opcode)
                self._next = (self._next + 1) % 64
            call = _CALLS.get(dport)
            if call is not None and length > HEADER:
                r.q = p + HEADER
                opcode = r.u32()
                _guarded(call, r, opcode)
        elif ((ptype == _DATA and seq == 1) or ptype == _ABORT) and not flags & _CLIENT_INIT:
            opcode = self._find(callnum, server, client, service, sport)
            if opcode is not None:
                reply = _REPLIES.get(sport)
                if reply is not None:
                    r.q = p + HEADER
                    _guarded(reply, r, opcode, ptype, length)
        elif ptype == _ACK and length >= HEADER:
            r.q = p + HEADER
            try:
                _ack(r, verbose)
            except _Soft:
                out.append(" [|ack]")
        out.append(f" ({length})")

    def _find(self, callnum: int, client: int, server: int, service: int,
              port: int) -> int | None:
        """The opcode of the remembered call this reply answers, searching from the
        last hit as tcpdump does."""
        i = self._hint
        while True:
            entry = self._cache[i]
            if entry[:5] == (callnum, client, server, port, service):
                self._hint = i
                return entry[5]
            i = (i + 1) % 64
            if i == self._hint:
                return None


def _guarded(printer, r: _Reader, *args: int) -> None:  # noqa: ANN001
    try:
        printer(r, *args)
    except _Soft:
        r.out.append(f" [|{printer.tag}]")


def _tag(name: str):  # noqa: ANN202
    def mark(fn):  # noqa: ANN001, ANN202
        fn.tag = name
        return fn
    return mark


def _op(names: dict[int, str], op: int) -> str:
    """An opcode's name, or tcpdump's ``op#N``."""
    return names.get(op, f"op#{op}")


def _is_ubik(op: int) -> bool:
    return 10000 <= op <= 10007 or 20000 <= op <= 20013


# -- calls (client to server): opcode already read, r.q at the arguments ---------

@_tag("fs")
def _fs_call(r: _Reader, op: int) -> None:
    r.out.append(f" fs call {_op(FS_OPS, op)}")
    if op == 134:  # store ACL
        r.item("fid")
        _acl(r)
    elif op in (155, 65536):  # bulk stat
        r.count_list(("fid",), ",")
    else:
        r.run(_FS_CALL.get(op, ()))


@_tag("cb")
def _cb_call(r: _Reader, op: int) -> None:
    r.out.append(f" cb call {_op(CB_OPS, op)}")
    if op == 204:  # callback: fids; then versions, expiries and (unprinted) types
        r.count_list(("fid",), ",")
        n = r.u32()
        if n:
            r.out.append(";")
        for _ in range(n):
            r.run((" ver", "s32", " expires", "date"))
            r.u32()
    elif op == 214:
        r.run((" afsuuid", "uuid"))


def _ubik_call(r: _Reader, op: int) -> None:
    r.out.append(f" ubik call {_op(UBIK_OPS, op)}")
    if op == 10000:  # beacon
        r.out.append(f" syncsite {'yes' if r.u32() else 'no'}")
        r.run((" votestart", "date", " dbversion", "ver", " tid", "ver"))
    elif op == 20002:  # lock; its lock type is read but not printed
        r.run((" tid", "ver", " file", "s32", " pos", "s32", " length", "s32"))
        r.u32()
    else:
        r.run(_UBIK_CALL.get(op, ()))


def _db_call(name: str, ops: dict[int, str], table: dict[int, tuple[str, ...]]):  # noqa: ANN202
    """Calls to the replicated databases (pt, vldb, kauth), which also speak ubik."""
    @_tag(name)
    def call(r: _Reader, op: int) -> None:
        r.out.append(f" {name}")
        if _is_ubik(op):
            try:
                _ubik_call(r, op)
            except _Soft:
                r.out.append(" [|ubik]")
            return
        r.out.append(f" call {_op(ops, op)}")
        _db_args(r, name, op, table)
    return call


def _db_args(r: _Reader, name: str, op: int, table: dict[int, tuple[str, ...]]) -> None:
    if name == "pt" and op == 504:  # name to id: names one char per word
        r.count_list(("vec:64",))
    elif name == "pt" and op == 505:
        r.out.append(" ids:")
        r.count_list(("s32",))
    elif name == "vldb" and op in (502, 503, 506, 507, 508, 509, 518, 520):
        r.run((" volid", "s32"))
        kind = r.u32()
        if kind <= 2:
            r.out.append(f" type {_VOLTYPE[kind]}")
        if op in (506, 520):
            r.item("vec:65")
    elif name == "kauth" and op in (3, 23):  # get ticket: skip the opaque block
        r.run((" kvno", "s32", " domain", _KANAME))
        n = r.u32()
        r.check(n)
        r.q += n
        r.run(_KAUTH_PRINCIPAL)
    else:
        r.run(table.get(op, ()))


@_tag("vol")
def _vol_call(r: _Reader, op: int) -> None:
    r.out.append(f" vol call {_op(VOL_OPS, op)}")
    if op == 128:  # forward multiple
        r.run((" fromtrans", "u32", " fromdate", "date"))
        r.count_list(("dest",), ",")
    else:
        r.run(_VOL_CALL.get(op, ()))


@_tag("bos")
def _bos_call(r: _Reader, op: int) -> None:
    r.out.append(f" bos call {_op(BOS_OPS, op)}")
    r.run(_BOS_CALL.get(op, ()))


# -- replies (server to client): r.q just after the RX header ---------------------

def _errcode(r: _Reader) -> None:
    r.run((" errcode", "s32"))


@_tag("fs")
def _fs_reply(r: _Reader, op: int, ptype: int, length: int) -> None:
    if length <= HEADER:
        return
    r.out.append(f" fs reply {_op(FS_OPS, op)}")
    if ptype == _DATA:
        if op == 131:
            _acl(r)
        else:
            r.run(_FS_REPLY.get(op, ()))
    else:
        code = _s32(r.u32())
        r.out.append(f" error {_FS_ERRORS.get(code, f'#{code}')}")


@_tag("cb")
def _cb_reply(r: _Reader, op: int, ptype: int, length: int) -> None:
    if length <= HEADER:
        return
    r.out.append(f" cb reply {_op(CB_OPS, op)}")
    if ptype != _DATA:
        _errcode(r)
    elif op == 213:
        r.item("uuid")


def _ubik_reply(r: _Reader, op: int, ptype: int) -> None:
    r.out.append(f" ubik reply {_op(UBIK_OPS, op)}")
    if ptype == _DATA:
        if op == 10000:
            r.out.append(" vote no")
        elif op == 20004:
            r.run((" dbversion", "ver"))
    elif op == 10000:
        r.run((" vote yes until", "date"))
    else:
        _errcode(r)


def _db_reply(name: str, ops: dict[int, str], minimum: int, ubik: bool = True):  # noqa: ANN202
    """Replies of the database services (pt, vldb, kauth) and bos: the call's name, an
    error code for aborts, and for pt and vldb the data.  ``minimum`` is the shortest
    length tcpdump decodes, which differs between services; bos speaks no ubik."""
    @_tag(name)
    def reply(r: _Reader, op: int, ptype: int, length: int) -> None:
        if length < minimum:
            return
        r.out.append(f" {name}")
        if ubik and _is_ubik(op):
            try:
                _ubik_reply(r, op, ptype)
            except _Soft:
                r.out.append(" [|ubik]")
            return
        r.out.append(f" reply {_op(ops, op)}")
        if ptype != _DATA:
            _errcode(r)
        elif name == "pt":
            _pt_reply_data(r, op)
        elif name == "vldb":
            _vldb_reply_data(r, op)
    return reply


def _pt_reply_data(r: _Reader, op: int) -> None:
    if op == 504:
        r.out.append(" ids:")
        r.count_list(("s32",))
    elif op == 505:
        r.count_list(("vec:64",))
    elif op in (508, 514, 517, 518, 519):
        r.count_list(("s32",))
    elif op == 510:
        r.run((" maxuid", "s32", " maxgid", "s32"))


def _vldb_reply_data(r: _Reader, op: int) -> None:
    if op in (510, 521, 529):
        r.run((" count", "s32", " nextindex", "s32"))
    if op in (503, 504, 510):
        slots, skip = 8, True
    elif op in (518, 519, 521, 529):
        slots, skip = 13, False
    elif op in (526, 527):
        _vldb_entry_u(r)
        return
    else:
        if op == 505:
            r.run((" newvol", "u32"))
        return
    r.item("vec:65")
    if skip:
        r.item("skip:4")
    r.out.append(" numservers")
    nservers = r.u32()
    r.out.append(f" {nservers} servers")
    for k in range(slots):
        r.check(4)
        if k < nservers:
            r.out.append(" " + ".".join(str(b) for b in r.data[r.q: r.q + 4]))
        r.q += 4
    _vldb_tail(r, slots, nservers)


def _vldb_entry_u(r: _Reader) -> None:
    r.item("vec:65")
    r.out.append(" numservers")
    nservers = r.u32()
    r.out.append(f" {nservers} servers")
    for k in range(13):
        if k < nservers:
            r.run((" afsuuid", "uuid"))
        else:
            r.item("skip:44")
    r.item("skip:52")
    _vldb_tail(r, 13, nservers)


def _vldb_tail(r: _Reader, slots: int, nservers: int) -> None:
    r.out.append(" partitions")
    for k in range(slots):
        part = r.u32()
        if k < nservers:
            r.out.append(f" {chr(97 + part)}" if part <= 26 else f" {part}")
    r.item(f"skip:{slots * 4}")
    r.run((" rwvol", "u32", " rovol", "u32", " backup", "u32"))


@_tag("vol")
def _vol_reply(r: _Reader, op: int, ptype: int, length: int) -> None:
    if length <= HEADER:
        return
    r.out.append(f" vol reply {_op(VOL_OPS, op)}")
    if ptype != _DATA:
        _errcode(r)
    elif op in (116, 121):
        n = r.u32()
        for k in range(n):
            r.run((" name", "vec:32", " volid", "u32", " type"))
            r.q += 84
            if k != n - 1:
                r.out.append(",")
        if n == 0:
            r.out.append(" <none!>")
    else:
        r.run(_VOL_REPLY.get(op, ()))


# -- ACL text and acks --------------------------------------------------------

_WS = b" \t\n\v\f\r"


def _scan_int(s: bytes, i: int) -> tuple[int, int] | None:
    """sscanf's %d at ``s[i:]``: (value as a C int, index after), or None."""
    while i < len(s) and s[i] in _WS:
        i += 1
    j = i + 1 if i < len(s) and s[i] in b"+-" else i
    k = j
    while k < len(s) and 48 <= s[k] <= 57:
        k += 1
    if k == j:
        return None
    v = max(-(1 << 63), min((1 << 63) - 1, int(s[i:k])))
    return _s32(v & 0xFFFFFFFF), k


def _skip_ws(s: bytes, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _acl(r: _Reader) -> None:
    """An AFS ACL: "pos neg\\n" then "user bits\\n" lines, rights as rlidwka."""
    n = r.u32()
    r.check(n)
    s = r.data[r.q: r.q + min(n, 1024)].split(b"\0", 1)[0]
    r.q += n
    first = _scan_int(s, 0)
    second = _scan_int(s, first[1]) if first else None
    if second is None:
        return
    i = _skip_ws(s, second[1])
    for sign, count in (("+", first[0]), ("-", second[0])):
        for _ in range(count):
            i = _skip_ws(s, i)
            j = i
            while j < len(s) and s[j] not in _WS and j - i < 1024:
                j += 1
            if j == i:
                return
            bits = _scan_int(s, j)
            if bits is None:
                return
            user, acl = s[i:j], bits[0]
            i = _skip_ws(s, bits[1])
            rights = "".join(ch for bit, ch in ((1, "r"), (8, "l"), (4, "i"), (16, "d"),
                                                (2, "w"), (32, "k"), (64, "a")) if acl & bit)
            r.out.append(f" {sign}{{{_cstr(user)} {rights}}}")


def _ranges(r: _Reader, acks: bytes, want: int, first: int, word: str) -> None:
    """Runs of packets acked (or nacked) as `` acked 1-3,5``."""
    out = r.out
    start = last = -2
    i = 0
    for i, kind in enumerate(acks):
        if kind == want:
            if last == -2:
                out.append(f" {word} {(first + i) & 0xFFFFFFFF}")
                start = i
            elif last != i - 1:
                out.append(f",{(first + i) & 0xFFFFFFFF}")
                start = i
            last = i
        elif last == i - 1 and start != last:
            out.append(f"-{(first + i - 1) & 0xFFFFFFFF}")
    i = len(acks)
    if last == i - 1 and start != last:
        out.append(f"-{(first + i - 1) & 0xFFFFFFFF}")


def _ack(r: _Reader, verbose: int) -> None:
    r.check(18)
    data, q = r.data, r.q
    if verbose > 2:
        r.out.append(f" bufspace {int.from_bytes(data[q: q + 2], 'big')}"
                     f" maxskew {int.from_bytes(data[q + 2: q + 4], 'big')}")
    first = int.from_bytes(data[q + 4: q + 8], "big")
    serial = int.from_bytes(data[q + 12: q + 16], "big")
    reason = data[q + 16]
    r.out.append(f" first {first} serial {serial} reason "
                 f"{_ACK_REASONS.get(reason, f'#{reason}')}")
    nacks = data[q + 17]
    r.q = q + 18
    if nacks:
        r.check(nacks)
        acks = data[r.q: r.q + nacks]
        _ranges(r, acks, 1, first, "acked")
        _ranges(r, acks, 0, first, "nacked")
        r.q += nacks
    r.q += 3
    if verbose > 1:
        for name in (" ifmtu", " maxmtu", " rwind", " maxpackets"):
            if r.end - r.q <= 3:
                return
            r.run((name, "u32"))


_CALLS = {7000: _fs_call, 7001: _cb_call, 7002: _db_call("pt", PT_OPS, _PT_CALL),
          7003: _db_call("vldb", VLDB_OPS, _VLDB_CALL),
          7004: _db_call("kauth", KAUTH_OPS, _KAUTH_CALL), 7005: _vol_call, 7007: _bos_call}
_REPLIES = {7000: _fs_reply, 7001: _cb_reply, 7002: _db_reply("pt", PT_OPS, HEADER),
            7003: _db_reply("vldb", VLDB_OPS, HEADER),
            7004: _db_reply("kauth", KAUTH_OPS, HEADER + 1), 7005: _vol_reply,
            7007: _db_reply("bos", BOS_OPS, HEADER + 1, ubik=False)}

# Ports tcpdump's UDP printer hands to another dissector before it tries RX.
PORTS_BEFORE_RX = frozenset((53, 67, 68, 69, 88, 123, 161, 162, 500, 520, 525, 654, 750, 1701,
                             2103, 2104, 4500, 5353, 7500, 8500))


def is_rx(sport: int, dport: int) -> bool:
    """Whether tcpdump prints a UDP datagram between these ports as RX."""
    return ((7000 <= sport <= 7009 or 7000 <= dport <= 7009) and dport != 3456
            and sport not in PORTS_BEFORE_RX and dport not in PORTS_BEFORE_RX)


__all__ = ["PORTS_BEFORE_RX", "RxPrinter", "is_rx"]
