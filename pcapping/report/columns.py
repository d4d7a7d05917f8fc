"""``sniff --parquet OUT``: the ``--json`` objects as a Parquet table, one row per frame.

The optional extra ``parquet`` (pyarrow) is needed; without it ``--parquet`` is refused
with one line.  The columns are the JSON schema's fields flattened with ``_`` (``ip.src``
is ``ip_src``, ``icmp.quoted.ip.dst`` is ``icmp_quoted_ip_dst``), the schema is fixed
(``SCHEMA``, the same for every capture, so one query reads a whole directory), and
nothing is lost: every key of the JSON object that has no column of its own (tunnel
``encap`` lists, the link headers of the rarer link types, RFC 4884 extensions, NDP, MLD,
IPv6 extension headers, ICMPv6 quotes, ...) is kept, as its JSON subtree, in the text
column ``extra`` (a JSON object, null when there is nothing more).

A column is null when its layer is absent, and also where the JSON value is null (a
checksum verdict that could not be made, the identifier of an ICMP error);
``icmp_quoted`` says whether the ICMP message has a ``quoted`` object.  ``row_to_dict``
turns a row back into exactly the ``--json`` object (``tests/test_parquet.py`` reads
tables back and compares them with ``--json`` frame by frame).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pcapping.errors import PcappingError

# (column, path in the JSON object, type, always): "always" keys are in their object
# whenever it is there (their null is a JSON null); the others appear only with a value.
_I, _F, _S, _B, _LI, _LS = "int64", "float64", "string", "bool", "list<int64>", "list<string>"
_IP = (("src", _S, True), ("dst", _S, True), ("ttl", _I, True), ("proto", _I, True),
       ("id", _I, True), ("len", _I, True), ("ihl", _I, True), ("tos", _I, True),
       ("df", _B, True), ("mf", _B, True), ("frag_offset", _I, True), ("checksum", _I, True),
       ("checksum_ok", _B, True))
_QIP = (("src", _S, True), ("dst", _S, True), ("ttl", _I, True), ("proto", _I, True),
        ("id", _I, True), ("len", _I, True), ("checksum", _I, True),
        ("checksum_ok", _B, True))
_QICMP = (("type", _I, True), ("code", _I, True), ("id", _I, True), ("seq", _I, True),
          ("checksum", _I, True), ("checksum_ok", _B, True))
# objects: path -> (fields, the field that is never null while the object is there)
OBJECTS: dict[tuple[str, ...], tuple[tuple[tuple[str, str, bool], ...], str | None]] = {
    (): ((("frame", _I, True), ("ts", _F, True), ("caplen", _I, True), ("len", _I, True),
          ("problems", _LS, True)), None),
    ("eth",): ((("src", _S, True), ("dst", _S, True), ("type", _I, True),
                ("vlan", _LI, False)), "src"),
    ("sll",): ((("pkttype", _I, True), ("hatype", _I, True), ("src", _S, True),
                ("type", _I, True), ("ifindex", _I, False)), "pkttype"),
    ("null",): ((("family", _I, True),), "family"),
    ("outer_ip",): (_IP, "ihl"),
    ("arp",): ((("op", _I, True), ("htype", _I, True), ("ptype", _I, True),
                ("sha", _S, True), ("spa", _S, True), ("tha", _S, True), ("tpa", _S, True)),
               "op"),
    ("ip",): (_IP, "ihl"),
    ("icmp",): ((("type", _I, True), ("code", _I, True), ("checksum", _I, True),
                 ("checksum_ok", _B, True), ("id", _I, True), ("seq", _I, True),
                 ("mtu", _I, False), ("gateway", _S, False), ("pointer", _I, False),
                 ("originate", _I, False), ("receive", _I, False), ("transmit", _I, False)),
                "type"),
    ("icmp", "quoted"): ((("sport", _I, False), ("dport", _I, False),
                          ("problem", _S, False)), None),
    ("icmp", "quoted", "ip"): (_QIP, "src"),
    ("icmp", "quoted", "icmp"): (_QICMP, "type"),
    ("ip6",): ((("src", _S, True), ("dst", _S, True), ("hlim", _I, True), ("nxt", _I, True),
                ("plen", _I, True), ("flow", _I, True), ("tclass", _I, True),
                ("proto", _I, False)), "src"),
    ("icmp6",): ((("type", _I, True), ("code", _I, True), ("checksum", _I, True),
                  ("checksum_ok", _B, True), ("id", _I, True), ("seq", _I, True),
                  ("mtu", _I, False), ("pointer", _I, False)), "type"),
}
PRESENCE = {("icmp", "quoted"): "icmp_quoted"}  # objects without a never-null field


def _column(path: tuple[str, ...], key: str) -> str:
    return "_".join((*path, key))


def schema_fields() -> list[tuple[str, str]]:
    """(column, type) of every column, in order (``extra`` last)."""
    out: list[tuple[str, str]] = []
    for path, (fields, _marker) in OBJECTS.items():
        if path in PRESENCE:
            out.append((PRESENCE[path], _B))
        out += [(_column(path, key), kind) for key, kind, _ in fields]
    out.append(("extra", _S))
    return out


SCHEMA = schema_fields()
COLUMNS = [name for name, _ in SCHEMA]


def flatten(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values, the rest of the object as a JSON subtree) for one frame."""
    row: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    _walk(obj, (), row, extra)
    return row, extra


def _walk(obj: dict[str, Any], path: tuple[str, ...], row: dict[str, Any],
          extra: dict[str, Any]) -> None:
    fields, marker = OBJECTS[path]
    known = {key for key, _, _ in fields}
    fine = True
    for key, _kind, always in fields:
        if key in obj:
            if not always and obj[key] is None:
                fine = False
        elif always:
            fine = False
    if marker is not None and obj.get(marker) is None:
        fine = False
    if not fine and path:  # not the shape the columns can say: keep it whole in extra
        _put(extra, path, obj)
        return
    if path in PRESENCE:
        row[PRESENCE[path]] = True
    for key, value in obj.items():
        if key in known:
            row[_column(path, key)] = value
        elif (*path, key) in OBJECTS and isinstance(value, dict):
            _walk(value, (*path, key), row, extra)
        else:
            _put(extra, (*path, key), value)


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def row_to_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` object of one row (as ``pyarrow.Table.to_pylist`` gives it)."""
    out: dict[str, Any] = {}
    for path, (fields, marker) in OBJECTS.items():
        if path in PRESENCE:
            if not row.get(PRESENCE[path]):
                continue
        elif marker is not None and row.get(_column(path, marker)) is None:
            continue
        target = out
        for key in path:
            target = target.setdefault(key, {})
        for key, _kind, always in fields:
            value = row.get(_column(path, key))
            if always or value is not None:
                target[key] = value
    if row.get("extra"):
        _merge(out, json.loads(row["extra"]))
    return out


def _merge(into: dict[str, Any], tree: dict[str, Any]) -> None:
    for key, value in tree.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _pyarrow():  # noqa: ANN202
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise PcappingError("--parquet needs pyarrow: pip install 'pcapping[parquet]'"
                            ) from None
    return pa, pq


def arrow_schema():  # noqa: ANN201
    pa, _ = _pyarrow()
    kinds = {_I: pa.int64(), _F: pa.float64(), _S: pa.string(), _B: pa.bool_(),
             _LI: pa.list_(pa.int64()), _LS: pa.list_(pa.string())}
    return pa.schema([(name, kinds[kind]) for name, kind in SCHEMA],
                     metadata={"pcapping": "sniff --json, flattened (pcapping.report.columns)"})


class ParquetFrames:
    """Rows gathered a batch at a time and written as row groups of ``OUT``."""

    def __init__(self, path: str, rows_per_group: int = 65536) -> None:
        pa, pq = _pyarrow()
        self._pa = pa
        self.schema = arrow_schema()
        try:
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        except OSError as exc:
            raise PcappingError(f"{path}: {exc}") from None
        self._rows_per_group = rows_per_group
        self._cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self._n = 0
        self.rows = 0

    def add(self, obj: dict[str, Any]) -> None:
        row, extra = flatten(obj)
        row["extra"] = json.dumps(extra, separators=(",", ":")) if extra else None
        n = self._n
        for name, values in self._cols.items():
            values.append(row.get(name))
        self._n = n + 1
        if self._n >= self._rows_per_group:
            self._flush()

    def add_all(self, objs: Iterable[dict[str, Any]]) -> None:
        for obj in objs:
            self.add(obj)

    def _flush(self) -> None:
        if not self._n:
            return
        batch = self._pa.RecordBatch.from_pydict(self._cols, schema=self.schema)
        self._writer.write_batch(batch)
        self.rows += self._n
        self._cols = {name: [] for name in COLUMNS}
        self._n = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


__all__ = ["COLUMNS", "OBJECTS", "ParquetFrames", "SCHEMA", "flatten", "row_to_dict"]
