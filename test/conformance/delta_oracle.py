"""The conformance oracle: reads (and writes) Delta tables with delta-rs (`deltalake`).

Reads a JSON list of requests on stdin and prints a JSON list of answers, one per
request, so a test pays Python's start-up once:

  {"op": "read", "path": "...", "version": 3}          -> {"version", "schema", "rows"} | {"error"}
      ("raw_files": true reads the rows from the data files with pyarrow, see raw_files_table)
  {"op": "write", "path": "...", "mode": "append"|"overwrite", "rows": [...],
   "schema": [{"name", "type"}], "partition_by": [...], "properties": {...}} -> {"version"}
  {"op": "checkpoint", "path": "..."}                   -> {"ok": true}
  {"op": "write_column_mapped", "path": "..."}          -> {"version"}  (nested, name mode)
  {"op": "file_fields", "path": "..."}                  -> {"fields": [...]}  (every depth)

Rows are put in the one JSON form both sides produce (harness.ts `canonical`), at full
precision and keeping every type distinction: integers as {"$int": "digits"}, timestamps
as {"$ts": "epoch µs"} (UTC) or {"$ts_ntz": "epoch µs"} (wall clock), decimals as the exact
text of their scale ("1.500000000000000000"), doubles as JSON numbers (NaN, ±Infinity and
-0.0, which JSON cannot hold, as strings), dates as "YYYY-MM-DD", binary as {"$hex"}, maps
as {"$map": entries}. The only canonicalisations are lossless (see `canon`).
"""
import datetime as dt
import decimal
import json
import math
import os
import sys

import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import DeltaTable, write_deltalake

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def canon(value):
    """The canonical JSON of a value. Lossless: every case keeps the exact value and its
    kind; only representation changes, each needed because JSON cannot say it otherwise."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        # Exact digits, tagged so an int64 never compares equal to a double.
        return {"$int": str(value)}
    if isinstance(value, float):
        # JSON has no NaN/Infinity and drops the sign of zero: spelled out instead.
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value == 0 and math.copysign(1.0, value) < 0:
            return "-0"
        return value
    if isinstance(value, decimal.Decimal):
        # pyarrow gives decimal(p, s) values with exponent -s: "f" prints all s digits.
        return format(value, "f")
    if isinstance(value, dt.datetime):
        # Aware (UTC) for `timestamp`, naive for `timestamp_ntz`: exact microseconds.
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        micros = (moment - EPOCH) // dt.timedelta(microseconds=1)
        return {"$ts" if value.tzinfo else "$ts_ntz": str(micros)}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return {"$hex": bytes(value).hex()}
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            # A Delta map has no entry order (PROTOCOL.md "Map Type"; Spark compares maps
            # as sets of entries): sorting them is lossless. harness.ts sorts the same way.
            return {"$map": sorted(([canon(k), canon(v)] for k, v in value), key=canon_key)}
        return [canon(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def canon_key(value):
    """A sort key both sides compute alike (harness.ts `stableStringify`)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def type_name(t):
    if isinstance(t, str):
        return t
    kind = t["type"]
    if kind == "struct":
        return "struct<" + ", ".join(f"{f['name']}: {type_name(f['type'])}" for f in t["fields"]) + ">"
    if kind == "array":
        return f"array<{type_name(t['elementType'])}>"
    if kind == "map":
        return f"map<{type_name(t['keyType'])}, {type_name(t['valueType'])}>"
    return str(kind)


def raw_files_table(table, schema):
    """The rows of a snapshot read straight from its data files with pyarrow, top-level
    physical column names mapped to logical ones from the schema (PROTOCOL.md "Column
    Mapping") and string partition values taken from the add actions: an oracle for where
    delta-rs' own reader is wrong. Deletion vectors and non-string partition columns are
    refused rather than guessed."""
    import urllib.parse

    import pyarrow.parquet as pq

    fields = {f["name"]: f for f in schema["fields"]}
    partitions = table.metadata().partition_columns
    if any(fields[name]["type"] != "string" for name in partitions):
        raise ValueError("raw_files reads only string partition columns")
    names = {
        (f.get("metadata") or {}).get("delta.columnMapping.physicalName", f["name"]): f["name"]
        for f in schema["fields"]
    }
    root = table.table_uri.removeprefix("file://").rstrip("/")
    parts = []
    for action in pa.table(table.get_add_actions(flatten=True)).to_pylist():
        if action.get("deletionVector.storageType"):
            raise ValueError("raw_files does not apply deletion vectors")
        data = pq.read_table(os.path.join(root, urllib.parse.unquote(action["path"])))
        data = data.rename_columns([names.get(n, n) for n in data.column_names])
        for name in partitions:
            value = action.get(f"partition.{name}")
            data = data.append_column(name, pa.array([value] * data.num_rows, pa.string()))
        parts.append(data)
    return pa.concat_tables(parts, promote_options="default") if parts else pa.table({})


def read(req):
    kwargs = {}
    if req.get("version") is not None:
        kwargs["version"] = req["version"]
    table = DeltaTable(req["path"], **kwargs)
    schema = json.loads(table.schema().to_json())
    answer = {
        "version": table.version(),
        "schema": [{"name": f["name"], "type": type_name(f["type"])} for f in schema["fields"]],
        "files": sorted(table.file_uris()),
    }
    try:
        try:
            data = raw_files_table(table, schema) if req.get("raw_files") else table.to_pyarrow_table()
        except pa.ArrowInvalid as error:
            if "timestamp[ns]" not in str(error):
                raise
            # Parquet INT96 timestamps are read as nanoseconds by default, which overflows
            # beyond 2262 (e.g. 9999-12-31): read the same files at the microseconds Delta
            # defines (PROTOCOL.md "Primitive Types") instead of giving up on the rows.
            options = ds.ParquetReadOptions(coerce_int96_timestamp_unit="us")
            data = table.to_pyarrow_dataset(parquet_read_options=options).to_table()
            answer["rows_read_as"] = "microseconds (INT96 coerced)"
        # A table's rows have no order (a Delta snapshot is a set of files): sorting the
        # canonical rows compares them as a multiset, duplicates kept. Lossless.
        answer["rows"] = sorted(canon_key(canon(r)) for r in data.to_pylist())
    except Exception as error:  # noqa: BLE001 - e.g. a fixture whose data files were never kept
        answer["rows_error"] = f"{type(error).__name__}: {error}"
    return answer


ARROW_TYPES = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "decimal(38,18)": pa.decimal128(38, 18),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
    "binary": pa.binary(),
}


def decode(value, type_):
    if value is None:
        return None
    if type_ in ("timestamp", "timestamp_ntz"):
        moment = EPOCH + dt.timedelta(microseconds=int(value))
        return moment if type_ == "timestamp" else moment.replace(tzinfo=None)
    if type_ == "date":
        return dt.date.fromisoformat(value)
    if type_ == "long":
        return int(value)  # the harness sends int64 beyond 2^53 as a string of digits
    if type_.startswith("decimal"):
        return decimal.Decimal(value)
    return value


def write(req):
    schema = pa.schema([pa.field(c["name"], ARROW_TYPES[c["type"]]) for c in req["schema"]])
    columns = {
        c["name"]: [decode(r.get(c["name"]), c["type"]) for r in req["rows"]] for c in req["schema"]
    }
    data = pa.table(columns, schema=schema)
    write_deltalake(
        req["path"],
        data,
        mode=req.get("mode", "append"),
        partition_by=req.get("partition_by") or None,
        configuration=req.get("properties") or None,
    )
    return {"version": DeltaTable(req["path"]).version()}


def write_column_mapped(req):
    """A column-mapped (name mode) table with nested fields: struct in struct, array of
    structs, map of structs. delta-rs gives every field at every depth a physical name."""
    venue = pa.struct([("mic", pa.string())])
    quote = pa.struct([("bid price", pa.float64()), ("venue", venue)])
    fill = pa.struct([("qty", pa.int64()), ("px", pa.float64())])
    volume = pa.struct([("volume", pa.int64())])
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("quote info", quote),
            ("fills", pa.list_(fill)),
            ("by_venue", pa.map_(pa.string(), volume)),
        ]
    )
    data = pa.table(
        {
            "id": [1, 2],
            "quote info": [{"bid price": 101.5, "venue": {"mic": "XNAS"}}, None],
            "fills": [[{"qty": 10, "px": 101.4}], None],
            "by_venue": [[("XNAS", {"volume": 15})], None],
        },
        schema=schema,
    )
    DeltaTable.create(req["path"], schema=schema, configuration={"delta.columnMapping.mode": "name"})
    write_deltalake(req["path"], data, mode="append")
    return {"version": DeltaTable(req["path"]).version()}


def file_fields(req):
    """Field names at every depth of every Parquet file under a table (physical names)."""
    import pyarrow.parquet as pq

    names = set()

    def visit(field):
        names.add(field.name)
        t = field.type
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                visit(t.field(i))
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            visit(t.value_field)
        elif pa.types.is_map(t):
            visit(t.item_field)

    for folder, _dirs, files in os.walk(req["path"]):
        if "_delta_log" in folder:
            continue
        for name in files:
            if name.endswith(".parquet"):
                for field in pq.read_schema(os.path.join(folder, name)):
                    visit(field)
    return {"fields": sorted(names)}


def main():
    answers = []
    for req in json.load(sys.stdin):
        try:
            if req["op"] == "read":
                answers.append(read(req))
            elif req["op"] == "write":
                answers.append(write(req))
            elif req["op"] == "write_column_mapped":
                answers.append(write_column_mapped(req))
            elif req["op"] == "file_fields":
                answers.append(file_fields(req))
            elif req["op"] == "checkpoint":
                DeltaTable(req["path"]).create_checkpoint()
                answers.append({"ok": True})
            else:
                answers.append({"error": f"unknown op {req['op']}"})
        except Exception as error:  # noqa: BLE001 - every failure is an answer
            answers.append({"error": f"{type(error).__name__}: {error}"})
    json.dump(answers, sys.stdout)
    sys.stdout.flush()
    # delta-rs can abort while its runtime shuts down; the answers are already out.
    os._exit(0)


if __name__ == "__main__":
    main()
