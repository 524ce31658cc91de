"""Checks that Spark with Delta Lake starts offline and reads and writes Delta tables.

Run with the services venv's Python (scripts/services/fetch spark installs it):

    .services/venv/bin/python scripts/services/spark_check.py [TABLE_DIR]

It writes a table with delta-rs (deltalake), reads it with Spark, has Spark append to
it, and reads it back with delta-rs. Without TABLE_DIR it uses a temporary folder.
Delta's Spark jars come from .services/cache/spark/lib (fetched by Maven), given to
Spark as spark.jars, so nothing is resolved from the network at run time. Prints one
line 'spark-check: ok ...' and exits 0 when all of that works.
"""

import glob
import os
import sys
import tempfile
import time

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STATE = os.environ.get("ALPHALAKE_SERVICES_HOME", os.path.join(REPO, ".services"))


def delta_jars() -> list[str]:
    jars = sorted(glob.glob(os.path.join(STATE, "cache", "spark", "lib", "*.jar")))
    if not jars:
        sys.exit("spark-check: no Delta jars in .services/cache/spark/lib: run scripts/services/fetch spark")
    return jars


def spark_session(app_name: str):
    """A local Spark session with Delta, offline: the jars come from .services/cache/spark/lib."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import tempfile

    from pyspark.sql import SparkSession

    # Spark makes its warehouse folder in the working directory unless told otherwise;
    # a temporary one keeps the checkout clean (no stray spark-warehouse/).
    warehouse = tempfile.mkdtemp(prefix="alphalake-spark-warehouse-")
    spark = (
        SparkSession.builder.master("local[1]")
        .appName(app_name)
        .config("spark.jars", ",".join(delta_jars()))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.warehouse.dir", warehouse)
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


def main() -> None:
    table = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="alphalake-spark-")
    table = os.path.join(table, "trades") if len(sys.argv) <= 1 else table
    started = time.monotonic()

    trades = pa.table(
        {
            "symbol": pa.array(["AAPL", "MSFT", "AAPL"]),
            "price": pa.array([190.5, 410.25, 191.0]),
            "size": pa.array([100, 50, 25], type=pa.int64()),
            "date": pa.array(["2026-01-02", "2026-01-02", "2026-01-05"]),
        }
    )
    write_deltalake(table, trades, partition_by=["date"])

    spark = spark_session("alphalake-spark-check")
    try:
        started_spark = time.monotonic() - started
        frame = spark.read.format("delta").load(table)
        rows = frame.count()
        volume = frame.groupBy().sum("size").collect()[0][0]
        if rows != 3 or volume != 175:
            sys.exit(f"spark-check: Spark read {rows} rows / volume {volume}, expected 3 / 175")
        extra = spark.createDataFrame([("IBM", 250.0, 10, "2026-01-05")], "symbol string, price double, size long, date string")
        extra.write.format("delta").mode("append").save(table)
        version = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").agg({"version": "max"}).collect()[0][0]
    finally:
        spark.stop()

    back = DeltaTable(table)
    total = back.to_pyarrow_table().num_rows
    if total != 4 or back.version() != version:
        sys.exit(f"spark-check: delta-rs read {total} rows at version {back.version()}, expected 4 at {version}")
    print(
        f"spark-check: ok (Spark {spark.version} with Delta read a delta-rs table and appended to it; "
        f"delta-rs read version {version}; Spark up in {started_spark:.1f}s, total {time.monotonic() - started:.1f}s)"
    )


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # delta-rs can abort while its runtime shuts down (see delta_oracle.py); the answer is out.
    os._exit(0)
