"""The Spark oracle: reads (and writes) Delta tables with Apache Spark and delta-spark.

Reads a JSON list of requests on stdin and prints a JSON list of answers, like
delta_oracle.py, with rows in the same canonical form (its `canon`):

  {"op": "read", "path": "...", "version": 3}   -> {"version", "rows"} | {"error"}
  {"op": "append_sql", "path": "...", "sql": "SELECT ..."}  -> {"version"}  (Spark writes)

The session is scripts/services/spark_check.py's (Delta's jars from
.services/cache/spark/lib, nothing resolved from the network); one serves every request.
"""
import datetime as dt
import json
import os
import sys
import time

os.environ["TZ"] = "UTC"  # pyspark turns timestamps into datetimes in the process's zone
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delta_oracle import canon, canon_key  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts", "services"))
from spark_check import spark_session  # noqa: E402


def read(spark, req):
    reader = spark.read.format("delta")
    if req.get("version") is not None:
        reader = reader.option("versionAsOf", req["version"])
    frame = reader.load(req["path"])
    history = spark.sql(f"DESCRIBE HISTORY delta.`{req['path']}`").agg({"version": "max"}).collect()[0][0]
    # pyspark collects TIMESTAMP (UTC) and TIMESTAMP_NTZ both as naive datetimes (with
    # TZ=UTC, the UTC wall clock): the schema says which was which, so the UTC ones get
    # their zone back before `canon` (which tells the two apart by it).
    utc = [f.name for f in frame.schema.fields if f.dataType.typeName() == "timestamp"]

    def row(r):
        values = r.asDict(recursive=True)
        for name in utc:
            if values.get(name) is not None:
                values[name] = values[name].replace(tzinfo=dt.timezone.utc)
        return values

    rows = sorted(canon_key(canon(row(r))) for r in frame.collect())
    version = req["version"] if req.get("version") is not None else history
    return {"version": version, "columns": frame.columns, "rows": rows}


def append_sql(spark, req):
    spark.sql(req["sql"]).write.format("delta").mode("append").save(req["path"])
    version = spark.sql(f"DESCRIBE HISTORY delta.`{req['path']}`").agg({"version": "max"}).collect()[0][0]
    return {"version": version}


def main():
    requests = json.load(sys.stdin)
    time.tzset()
    spark = spark_session("alphalake-spark-oracle")
    answers = []
    try:
        for req in requests:
            try:
                answers.append({"read": read, "append_sql": append_sql}[req["op"]](spark, req))
            except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
                answers.append({"error": f"{type(error).__name__}: {error}"})
    finally:
        spark.stop()
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
