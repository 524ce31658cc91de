"""The delta-rs peer of bench/lake-query.ts: the same symbol-day and symbol-month reads
(with 1-minute bars computed by pyarrow), p50 in milliseconds, printed as JSON."""
import datetime as dt
import json
import os
import statistics
import sys
import time

import pyarrow.compute as pc
from deltalake import DeltaTable

path, symbol, day, first, last, runs = sys.argv[1:7]
day, first, last = (dt.date.fromisoformat(d) for d in (day, first, last))
runs = int(runs)
table = DeltaTable(path)


def bars(filters):
    # The same bar as alphalake's: open/close (first/last in file order, which is time
    # order), high, low, volume, trade count and the notional for the vwap.
    data = table.to_pyarrow_table(columns=["ts", "price", "size"], filters=filters)
    minute = pc.floor_temporal(data["ts"], unit="minute")
    notional = pc.multiply(data["price"], pc.cast(data["size"], "double"))
    data = data.append_column("minute", minute).append_column("notional", notional)
    return data.group_by("minute", use_threads=False).aggregate(
        [
            ("price", "first"),
            ("price", "max"),
            ("price", "min"),
            ("price", "last"),
            ("size", "sum"),
            ("notional", "sum"),
            ("size", "count"),
        ]
    )


def p50(filters):
    bars(filters)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        bars(filters)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


result = {
    "day": p50([("symbol", "=", symbol), ("date", "=", day)]),
    "month": p50([("symbol", "=", symbol), ("date", ">=", first), ("date", "<=", last)]),
}
print(json.dumps(result))
sys.stdout.flush()
os._exit(0)
