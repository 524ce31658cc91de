"""The conformance oracle: reads (and writes) Delta tables with delta-rs (`deltalake`).

Reads a JSON list of requests on stdin and prints a JSON list of answers, one per
request, so a test pays Python's start-up once:

  {"op": "read", "path": "...", "version": 3}          -> {"version", "schema", "rows"} | {"error"}
  {"op": "write", "path": "...", "mode": "append"|"overwrite", "rows": [...],
   "schema": [{"name", "type"}], "partition_by": [...], "properties": {...}} -> {"version"}
  {"op": "checkpoint", "path": "..."}                   -> {"ok": true}
  {"op": "write_column_mapped", "path": "..."}          -> {"version"}  (nested, name mode)
  {"op": "file_fields", "path": "..."}                  -> {"fields": [...]}  (every depth)

Rows are canonicalized so they compare with alphalake's: timestamps as {"$ts": epoch ms},
dates as "YYYY-MM-DD", decimals as plain strings, binary as {"$hex"}, maps as {"$map"}.
"""
import datetime as dt
import decimal
import json
import math
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def canon(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 - 1 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, decimal.Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return {"$ts": (aware - EPOCH) // dt.timedelta(milliseconds=1)}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return {"$hex": bytes(value).hex()}
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {"$map": sorted(([canon(k), canon(v)] for k, v in value), key=json.dumps)}
        return [canon(v) for v in value]
    return str(value)


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
        data = table.to_pyarrow_table()
        answer["rows"] = sorted(json.dumps(canon(r), sort_keys=True) for r in data.to_pylist())
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
