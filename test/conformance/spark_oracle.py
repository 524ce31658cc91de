"""The Spark oracle: reads (and writes) Delta tables with Apache Spark and delta-spark.

Reads a JSON list of requests on stdin and prints a JSON list of answers, like
delta_oracle.py, with rows in the same canonical form (its `canon`):

  {"op": "read", "path": "...", "version": 3}   -> {"version", "rows"} | {"error"}
  {"op": "append_sql", "path": "...", "sql": "SELECT ..."}  -> {"version"}  (Spark writes)

Delta's Spark jars come from .services/cache/spark/lib (scripts/services/fetch spark),
so nothing is resolved from the network. One Spark session serves every request.
"""
import glob
import json
import os
import sys

os.environ["TZ"] = "UTC"  # pyspark turns timestamps into datetimes in the process's zone
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delta_oracle import canon  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STATE = os.environ.get("ALPHALAKE_SERVICES_HOME", os.path.join(REPO, ".services"))


def session():
    import time

    time.tzset()
    from pyspark.sql import SparkSession

    jars = sorted(glob.glob(os.path.join(STATE, "cache", "spark", "lib", "*.jar")))
    if not jars:
        raise SystemExit("spark oracle: no Delta jars in .services/cache/spark/lib: run scripts/services/fetch spark")
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("alphalake-spark-oracle")
        .config("spark.jars", ",".join(jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read(spark, req):
    reader = spark.read.format("delta")
    if req.get("version") is not None:
        reader = reader.option("versionAsOf", req["version"])
    frame = reader.load(req["path"])
    history = spark.sql(f"DESCRIBE HISTORY delta.`{req['path']}`").agg({"version": "max"}).collect()[0][0]
    rows = sorted(json.dumps(canon(r.asDict(recursive=True)), sort_keys=True) for r in frame.collect())
    version = req["version"] if req.get("version") is not None else history
    return {"version": version, "columns": frame.columns, "rows": rows}


def append_sql(spark, req):
    spark.sql(req["sql"]).write.format("delta").mode("append").save(req["path"])
    version = spark.sql(f"DESCRIBE HISTORY delta.`{req['path']}`").agg({"version": "max"}).collect()[0][0]
    return {"version": version}


def main():
    requests = json.load(sys.stdin)
    spark = session()
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
