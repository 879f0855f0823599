"""Records to Arrow columns: typed, stable across pages and runs.

dlt loads Arrow data without running its per-record normaliser, which is where most of an
extract's time went (docs/benchmarks.md), and DuckDB scans it in place. The columns are built
with nanoarrow (``Columns``): DuckDB and pyarrow both take them through Arrow's C stream
interface without a copy, so a run into DuckDB never imports pyarrow (~45 MiB). An Arrow batch
must keep one type per column, so ``TableShaper`` decides each column's type once and holds it:

- a column already in dlt's schema (an earlier run) keeps the type stored there; otherwise the
  stream's declared JSON schema decides; otherwise the first values seen (all ints ``bigint``,
  ints and floats ``double``, ISO-8601 date-times with a zone ``timestamp``, plain
  ``YYYY-MM-DD`` dates ``date`` (DATE custom fields), mixed scalars ``text``, any list or
  object ``json``);
- every column the stream declares exists from the first load, typed, even while no record has
  a value for it (``company_name``, ``assigned_to``);
- a value that does not fit its column's type goes to a variant column ``<name>__v_<type>``
  (dlt's own convention), so nothing is dropped or mangled;
- top-level objects are flattened one level (``dndSettings.SMS`` -> ``dnd_settings__sms``,
  ``custom_field_values.membership_status`` -> ``custom_field_values__membership_status``);
  lists and deeper objects are JSON columns (``tags``, ``custom_fields``, ``stages``);
- names follow dlt's snake_case convention; when two keys map to one name
  (``locationId`` and ``location_id``) the later non-null value wins, ``location_id`` last; an
  embedded object's ``id`` joins the record's own ``<name>_id`` column when it has one
  (opportunities' ``contact.id`` and ``contactId`` are one ``contact_id`` column).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import nanoarrow as na

from ghlsync.extract.naming import snake_case
from ghlsync.extract.streams import LOCATION_ID

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["bool", "bigint", "double", "text", "timestamp", "date", "json"]


def arrow_type(kind: Kind, nullable: bool = True) -> Any:
    """The Arrow type a column of ``kind`` has (JSON is text: Arrow has no JSON type)."""
    if kind == "bool":
        return na.bool_(nullable=nullable)
    if kind == "bigint":
        return na.int64(nullable=nullable)
    if kind == "double":
        return na.float64(nullable=nullable)
    if kind == "timestamp":
        return na.timestamp("us", "UTC", nullable=nullable)
    if kind == "date":
        return na.date32(nullable=nullable)
    return na.string(nullable=nullable)


#: dlt data types read back from a stored schema; anything else is loaded as text
_FROM_DLT: dict[str, Kind] = {
    "bool": "bool",
    "bigint": "bigint",
    "double": "double",
    "text": "text",
    "timestamp": "timestamp",
    "date": "date",
    "json": "json",
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
)
_SCALARS = (bool, int, float, str)


def declared_kinds(json_schema: Mapping[str, Any]) -> dict[str, Kind]:
    """Column kinds from a stream's JSON schema (top-level properties; objects are flattened)."""
    kinds: dict[str, Kind] = {}
    for name, prop in (json_schema.get("properties") or {}).items():
        types = prop.get("type", [])
        types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
        kind: Kind | None = None
        if types == ["string"]:
            kind = "timestamp" if prop.get("format") == "date-time" else "text"
        elif types == ["number"]:
            kind = "double"
        elif types == ["integer"]:
            kind = "bigint"
        elif types == ["boolean"]:
            kind = "bool"
        elif types == ["array"]:
            kind = "json"
        if kind is not None:
            kinds[snake_case(name)] = kind
    return kinds


def _value_kind(value: Any) -> Kind:
    kind = type(value)
    if kind is bool:
        return "bool"
    if kind is int:
        return "bigint"
    if kind is float:
        return "double"
    if kind is str:
        return "text"
    return "json"


def infer(values: Iterable[Any]) -> Kind | None:
    """The kind a new column takes from its first non-null values (None: all null)."""
    kinds = {_value_kind(v) for v in values if v is not None}
    if not kinds:
        return None
    if "json" in kinds:
        return "json"
    if len(kinds) == 1:
        (kind,) = kinds
        if kind == "text" and all(_ISO_DATETIME.match(v) for v in values if v is not None):
            return "timestamp"
        if kind == "text" and all(_ISO_DATE.match(v) for v in values if v is not None):
            return "date"
        return kind
    if kinds == {"bigint", "double"}:
        return "double"
    return "text"


_encode = msgspec.json.Encoder(enc_hook=str).encode


def _to_json(value: Any) -> str:
    return _encode(value).decode()


def _put(columns: dict[str, list[Any]], name: str, values: list[Any]) -> None:
    """Add a column; a second key of the same name fills in where the first is null."""
    old = columns.get(name)
    if old is None:
        columns[name] = values
    else:
        columns[name] = [b if b is not None else a for a, b in zip(old, values, strict=True)]


#: the Python types a column of each kind takes as they are (others are converted or variants)
_TAKES: dict[Kind, frozenset[type]] = {
    "bool": frozenset({bool}),
    "bigint": frozenset({int}),
    "double": frozenset({int, float}),
    "text": frozenset({str}),
    "timestamp": frozenset({str}),
    "date": frozenset({str}),
    "json": frozenset(),
}


def _fits(kind: Kind, value: Any) -> bool:
    """Whether ``value`` (not None) belongs in a ``kind`` column (text also takes scalars)."""
    t = type(value)
    if kind == "json":
        return True
    if kind == "text":
        return t in _SCALARS
    return t in _TAKES[kind]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


def _converted(
    values: list[Any], convert: Callable[[Any], Any]
) -> tuple[list[Any], list[tuple[int, Any]]]:
    """Each value through ``convert``, nulls kept; a value it refuses (``ValueError``) comes
    back as a stray, a null in its place."""
    out: list[Any] = []
    strays: list[tuple[int, Any]] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(convert(value))
        except ValueError:
            out.append(None)
            strays.append((i, value))
    return out, strays


def _microseconds(value: str) -> int:
    """An ISO-8601 date-time as microseconds since the epoch (no zone: UTC)."""
    stamp = dt.datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return (stamp - _EPOCH) // _MICROSECOND


def _days(value: str) -> int:
    """A ``YYYY-MM-DD`` date as days since the epoch (``2026-02-30`` or a time: refused)."""
    if not _ISO_DATE.match(value):
        raise ValueError(value)
    return dt.date.fromisoformat(value).toordinal() - _EPOCH_DAY


_INT64 = -(2**63)


def _int64(value: int) -> int:
    """An integer that fits 64 bits (a larger one is refused)."""
    if not _INT64 <= value < -_INT64:
        raise ValueError(value)
    return value


def _json_array(values: list[Any]) -> Any:
    """Values as a string array of their JSON text (encoded to bytes once, not decoded)."""
    encoded = na.c_array([None if v is None else _encode(v) for v in values], na.binary())
    buffers = list(encoded.view().buffers)
    return na.c_array_from_buffers(
        na.string(), encoded.length, buffers=buffers, null_count=encoded.null_count
    )


class Columns:
    """A table's rows as Arrow columns (nanoarrow arrays) with the shaper's kind of each.

    DuckDB scans it and ``pyarrow.table`` takes it through the Arrow C stream interface
    (``__arrow_c_stream__``, a new stream each time it is asked), without copying."""

    def __init__(
        self,
        columns: Mapping[str, tuple[Kind, Any]],
        num_rows: int,
        keys: frozenset[str],
        repeated_keys: bool = True,
    ):
        #: column name -> (kind, nanoarrow array), in table order
        self.columns = dict(columns)
        self.num_rows = num_rows
        self._keys = keys
        #: whether two rows may share a key (True unless the shaper saw every key unique)
        self.repeated_keys = repeated_keys

    @classmethod
    def from_lists(
        cls,
        columns: Mapping[str, tuple[Kind, list[Any]]],
        keys: Iterable[str],
        repeated_keys: bool = True,
    ) -> Columns:
        """Columns of Python values (``name -> (kind, values)``, as many values each) that
        need no converting: text, bigint, double or bool."""
        arrays = {
            name: (kind, na.c_array(values, arrow_type(kind)))
            for name, (kind, values) in columns.items()
        }
        rows = len(next(iter(columns.values()))[1]) if columns else 0
        return cls(arrays, rows, frozenset(keys), repeated_keys)

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def kind(self, name: str) -> Kind:
        return self.columns[name][0]

    def with_column(self, name: str, kind: Kind, values: list[Any]) -> Columns:
        """A copy with one more column (``values``, one per row) at the end."""
        columns = dict(self.columns)
        columns[name] = (kind, na.c_array(values, arrow_type(kind)))
        return Columns(columns, self.num_rows, self._keys, self.repeated_keys)

    def _struct(self) -> Any:
        fields = {  # keys without nulls say so, as dlt's primary-key hints do
            name: arrow_type(kind, nullable=name not in self._keys or array.null_count > 0)
            for name, (kind, array) in self.columns.items()
        }
        children = [array for _, array in self.columns.values()]
        return na.c_array_from_buffers(
            na.struct(fields, nullable=False), self.num_rows, [None], children=children
        )

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return na.c_array_stream(self._struct()).__arrow_c_stream__(requested_schema)

    def to_arrow(self) -> pa.Table:
        """As a pyarrow table (what dlt loads; imports pyarrow)."""
        import pyarrow as pa

        return pa.table(self)

    def to_pylist(self, name: str) -> list[Any]:
        """One column's values as Python objects."""
        return list(na.Array(self.columns[name][1]).to_pylist())


class TableShaper:
    """Turns pages of one stream's records into Arrow tables of stable column types."""

    def __init__(
        self,
        declared: Mapping[str, Kind] | None = None,
        stored: Mapping[str, str] | None = None,
        keys: Iterable[str] = ("id", LOCATION_ID),
    ) -> None:
        self.keys = frozenset(keys)
        self.kinds: dict[str, Kind] = dict(declared or {})
        #: columns a table always has, null until a record has a value
        self.declared: tuple[str, ...] = tuple(declared or ())
        for name, data_type in (stored or {}).items():
            self.kinds[name] = _FROM_DLT.get(data_type, "text")
        self._names: dict[str, str] = {}
        #: json columns dlt has not been told about yet (``new_json_columns`` drains it)
        self._untold_json: set[str] = set()
        self._told_json: set[str] = {n for n, k in (stored or {}).items() if k == "json"}

    def _name(self, key: str) -> str:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = snake_case(key)
        return name

    def table(self, records: Sequence[Mapping[str, Any]]) -> pa.Table:
        """``columns`` as a pyarrow table (imports pyarrow)."""
        return self.columns(records).to_arrow()

    def columns(self, records: Sequence[Mapping[str, Any]]) -> Columns:
        """One page (or several) as Arrow columns, built column by column so the loops run in
        C."""
        keys: dict[str, None] = dict.fromkeys(chain.from_iterable(records))  # first-seen order
        if LOCATION_ID in keys:  # ghlsync's location_id goes last, so it wins a name clash
            del keys[LOCATION_ID]
            keys[LOCATION_ID] = None
        columns: dict[str, list[Any]] = {}
        #: the types of a column's values, with the list they are of (``_column`` needs them
        #: too, unless another key of the same name was merged into it since)
        types: dict[str, tuple[list[Any], set[type]]] = {}
        names = {self._name(key) for key in keys}
        order = list(keys)
        # record by record, each one's values in ``order`` (a C loop), then turned into columns
        by_row = [tuple(map(r.get, order)) for r in records]
        for key, column in zip(order, zip(*by_row, strict=True), strict=True):
            values = list(column)
            name = self._name(key)
            present = set(map(type, values))
            if dict not in present:
                types[name] = (values, present)
                _put(columns, name, values)
                continue
            inner: dict[Any, None] = {}
            others = False
            for value in values:
                if type(value) is dict:
                    inner.update(dict.fromkeys(value))
                elif value is not None:
                    others = True
            for item in inner:
                sub = [v.get(item) if type(v) is dict else None for v in values]
                column = f"{name}__{self._name(str(item))}"
                if item == "id" and f"{name}_id" in names:
                    column = f"{name}_id"  # contact.id is contactId: one column, not two
                _put(columns, column, sub)
            if others:  # scalars or lists where other records have an object
                _put(columns, name, [None if type(v) is dict else v for v in values])
        for name in self.declared:
            if name not in columns:
                columns[name] = [None] * len(records)
        repeated = self._repeated_keys(columns, len(records))
        arrays: dict[str, tuple[Kind, Any]] = {}
        for name, values in columns.items():
            known = types.get(name)
            self._column(name, values, arrays, known[1] if known and known[0] is values else None)
        if not arrays:
            arrays[LOCATION_ID] = ("text", na.c_array([], na.string()))
        return Columns(arrays, len(records), self.keys, repeated)

    def _repeated_keys(self, columns: Mapping[str, list[Any]], rows: int) -> bool:
        """Whether two rows may share a key: False only when every key is seen and unique."""
        if not self.keys <= columns.keys():
            return True
        try:
            unique = set(zip(*(columns[k] for k in sorted(self.keys)), strict=True))
        except TypeError:  # a key that is a list or an object: let the loader find out
            return True
        return len(unique) < rows

    def _column(
        self,
        name: str,
        values: list[Any],
        out: dict[str, tuple[Kind, Any]],
        present: set[type] | None = None,
    ) -> None:
        """``values`` as a column of ``out`` (and variants for values its kind cannot hold);
        ``present``: the types of ``values``, where known."""
        kind = self.kinds.get(name)
        if kind is None:
            kind = infer(values)
            if kind is None:
                return  # all null and never typed: dlt would drop the column anyway
            self.kinds[name] = kind
        present = set(map(type, values)) if present is None else set(present)
        present.discard(type(None))
        strays: list[tuple[int, Any]] = []
        if kind != "json" and not present <= _TAKES[kind]:  # the slow path: sort values out
            kept: list[Any] = []
            for i, value in enumerate(values):
                if value is None or type(value) in _TAKES[kind]:
                    kept.append(value)
                elif _fits(kind, value):
                    kept.append(_to_json(value))  # a scalar in a text column: true, 3, 2.5
                else:
                    kept.append(None)
                    strays.append((i, value))
            values = kept
        if kind == "json":
            self._note_json(name)
            out[name] = (kind, _json_array(values))
        else:
            if kind == "timestamp":
                values, late = _converted(values, _microseconds)
                strays.extend(late)
            elif kind == "date":
                values, late = _converted(values, _days)
                strays.extend(late)
            elif kind == "bigint":  # beyond 64 bits: a text variant, not an overflow
                values, late = _converted(values, _int64)
                strays.extend((i, str(v)) for i, v in late)
            out[name] = (kind, na.c_array(values, arrow_type(kind)))
        if strays:
            self._variants(name, len(values), strays, out)

    def _variants(
        self,
        name: str,
        length: int,
        strays: list[tuple[int, Any]],
        out: dict[str, tuple[Kind, Any]],
    ) -> None:
        by_kind: dict[Kind, list[tuple[int, Any]]] = {}
        for i, value in strays:
            by_kind.setdefault(_value_kind(value), []).append((i, value))
        for kind, items in by_kind.items():
            values: list[Any] = [None] * length
            for i, value in items:
                values[i] = value
            variant = f"{name}__v_{kind}"
            # typed by the strays' own kind, never re-inferred: a string that looks like a date
            # but is not one (2026-02-30) must land as text, not loop back here
            self.kinds.setdefault(variant, kind)
            self._column(variant, values, out)

    def _note_json(self, name: str) -> None:
        if name not in self._told_json:
            self._told_json.add(name)
            self._untold_json.add(name)

    def new_json_columns(self) -> list[str]:
        """JSON columns first seen since the last call (dlt must be told their type)."""
        names, self._untold_json = sorted(self._untold_json), set()
        return names
