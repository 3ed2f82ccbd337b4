"""Counts an order log into cartwise's Parquet counts contract (model-export/COUNTS.md) on
Apache Spark, for logs larger than one machine; `cartwise train --counts OUT` builds the export.

The counting is plain Spark SQL over two views, `raw_orders` and `raw_products` (the CLI
contract's columns, every cell as text), so the same statements run on Databricks, EMR or
Dataproc over warehouse tables. Here they are read from CSV (header row) or Parquet files:

    spark-submit spark/cartwise_counts.py --orders orders.csv --products products.csv --out counts/

A counts folder is what `cartwise counts` writes natively for the same log: equal tables, so
equal exports.
"""

import argparse
import json
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, TimestampType

# The contract version this job writes (summary.contract_version).
CONTRACT_VERSION = 1
# Buckets a buyer's hash falls into; the sample keeps buyers under a threshold.
BUCKETS = 1_000_000

ORDER_COLUMNS = ["order_id", "item_id", "customer_id", "timestamp", "quantity", "unit_price", "currency"]

# Each statement defines one view; tables are written from the views named in TABLES.
# {max_items}, {min_itemset} and {threshold} are integers filled in by this script.
VIEWS = [
    # The order lines counted: ids given, item in the products, a positive whole quantity
    # and a readable timestamp and unit price where given (the native reader's checks on
    # these columns; it also checks a line's currency, which this job leaves to the warehouse).
    ("lines", """
        SELECT o.order_id, o.item_id, NULLIF(o.customer_id, '') AS customer_id,
               try_to_timestamp(NULLIF(o.timestamp, '')) AS ts,
               o.timestamp, o.quantity, o.unit_price, o.currency
        FROM raw_orders o LEFT SEMI JOIN raw_products p ON o.item_id = p.item_id
        WHERE COALESCE(o.order_id, '') <> '' AND COALESCE(o.item_id, '') <> ''
          AND (COALESCE(o.quantity, '') = ''
               OR (o.quantity RLIKE '^[+]?[0-9]{{1,18}}$' AND CAST(o.quantity AS BIGINT) > 0))
          AND (COALESCE(o.timestamp, '') = '' OR try_to_timestamp(o.timestamp) IS NOT NULL)
          AND (COALESCE(o.unit_price, '') = '' OR o.unit_price RLIKE '^[0-9]+([.][0-9]+)?$')
    """),
    # One row per order: its buyer (the customer, or the order itself without one) and time.
    ("orders", """
        SELECT order_id,
               CASE WHEN MIN(customer_id) IS NULL THEN concat('o:', order_id)
                    ELSE concat('c:', MIN(customer_id)) END AS buyer,
               MIN(ts) AS ts
        FROM lines GROUP BY order_id
    """),
    ("basket_sizes", """
        SELECT order_id, COUNT(DISTINCT item_id) AS n FROM lines GROUP BY order_id
    """),
    # Baskets: each order's distinct items, orders over the item cap left out.
    ("baskets", """
        SELECT DISTINCT l.order_id, l.item_id, o.buyer, month(o.ts) AS month
        FROM lines l
        JOIN basket_sizes s ON s.order_id = l.order_id AND s.n <= {max_items}
        JOIN orders o ON o.order_id = l.order_id
    """),
    ("items", """
        SELECT item_id, COUNT(*) AS orders FROM baskets GROUP BY item_id
    """),
    ("pairs", """
        SELECT a.item_id AS item_a, b.item_id AS item_b,
               COUNT(*) AS orders, COUNT(DISTINCT a.buyer) AS buyers
        FROM baskets a JOIN baskets b ON a.order_id = b.order_id AND a.item_id < b.item_id
        GROUP BY a.item_id, b.item_id
    """),
    ("frequent_pairs", """
        SELECT item_a, item_b FROM pairs WHERE orders >= {min_itemset}
    """),
    # A triple in {min_itemset}+ baskets has its three pairs there too: only those are joined.
    ("triples", """
        SELECT a.item_id AS item_a, b.item_id AS item_b, c.item_id AS item_c,
               COUNT(*) AS orders, COUNT(DISTINCT a.buyer) AS buyers
        FROM baskets a
        JOIN baskets b ON b.order_id = a.order_id AND a.item_id < b.item_id
        JOIN frequent_pairs ab ON ab.item_a = a.item_id AND ab.item_b = b.item_id
        JOIN baskets c ON c.order_id = a.order_id AND b.item_id < c.item_id
        JOIN frequent_pairs ac ON ac.item_a = a.item_id AND ac.item_b = c.item_id
        JOIN frequent_pairs bc ON bc.item_a = b.item_id AND bc.item_b = c.item_id
        GROUP BY a.item_id, b.item_id, c.item_id
        HAVING COUNT(*) >= {min_itemset}
    """),
    ("item_months", """
        SELECT item_id, month, COUNT(*) AS orders
        FROM baskets WHERE month IS NOT NULL GROUP BY item_id, month
    """),
    ("months", """
        SELECT month, COUNT(DISTINCT order_id) AS orders
        FROM baskets WHERE month IS NOT NULL GROUP BY month
    """),
    # The sample: every line of the buyers whose XXH64 bucket is under the threshold.
    ("sampled_orders", """
        SELECT order_id FROM orders WHERE pmod(xxhash64(buyer), {buckets}) < {threshold}
    """),
    ("sample", """
        SELECT l.order_id, l.item_id, l.customer_id, l.timestamp, l.quantity, l.unit_price,
               l.currency
        FROM lines l LEFT SEMI JOIN sampled_orders s ON s.order_id = l.order_id
    """),
    ("summary", """
        SELECT CAST({version} AS BIGINT) AS contract_version,
               (SELECT COUNT(*) FROM orders) AS orders,
               (SELECT COUNT(*) FROM lines) AS lines,
               (SELECT COUNT(DISTINCT order_id) FROM baskets) AS baskets,
               (SELECT COUNT(*) FROM basket_sizes WHERE n > {max_items}) AS oversized_orders,
               (SELECT COUNT(*) FROM raw_orders) - (SELECT COUNT(*) FROM lines) AS rejected_lines,
               CAST({max_items} AS BIGINT) AS max_order_items,
               CAST({min_itemset} AS BIGINT) AS min_itemset_count,
               CAST({threshold} AS BIGINT) AS sample_threshold,
               (SELECT COUNT(*) FROM sampled_orders) AS sample_orders
    """),
]

TABLES = ["summary", "items", "pairs", "triples", "item_months", "months", "sample"]
# Views read more than once, kept in memory after their first use.
CACHED = ["lines", "orders", "baskets", "pairs"]


def read_table(spark, path, columns, required):
    """A CSV (header row) or Parquet file or folder as a view of text columns: typed timestamps
    as UTC ISO 8601, dates as ISO dates, numbers as their decimal text; a missing optional
    column as nulls, a missing required one an error naming it."""
    if path.endswith(".csv"):
        frame = spark.read.option("header", True).option("inferSchema", False).csv(path)
    else:
        frame = spark.read.parquet(path)
    types = dict((f.name, f.dataType) for f in frame.schema.fields)
    out = []
    for name in columns:
        if name not in types:
            if name in required:
                sys.exit(f"{path}: no column {name!r} (columns: {', '.join(types)})")
            out.append(F.lit(None).cast("string").alias(name))
        elif isinstance(types[name], TimestampType):
            out.append(F.date_format(F.col(name), "yyyy-MM-dd'T'HH:mm:ss'Z'").alias(name))
        elif isinstance(types[name], DateType):
            out.append(F.date_format(F.col(name), "yyyy-MM-dd").alias(name))
        else:
            out.append(F.col(name).cast("string").alias(name))
    return frame.select(*out)


def count(spark, orders, products, out, max_order_items=100, min_itemset_count=10,
          sample_orders=200_000):
    """Counts the log at `orders` against `products` into the new folder `out`; returns the
    job's figures (seconds per table written, the summary row, pairs and triples)."""
    started = time.time()
    read_table(spark, orders, ORDER_COLUMNS, {"order_id", "item_id"}).createOrReplaceTempView("raw_orders")
    read_table(spark, products, ["item_id"], {"item_id"}).createOrReplaceTempView("raw_products")
    params = {
        "max_items": int(max_order_items),
        "min_itemset": int(min_itemset_count),
        "buckets": BUCKETS,
        "version": CONTRACT_VERSION,
        "threshold": BUCKETS,
    }
    figures = {"seconds": {}}
    for name, sql in VIEWS:
        if name == "sampled_orders":
            # The threshold that keeps about `sample_orders` orders (all of a smaller log).
            total = spark.sql("SELECT COUNT(*) FROM orders").first()[0]
            params["threshold"] = (
                BUCKETS if total <= sample_orders else -(-sample_orders * BUCKETS // total))
        frame = spark.sql(sql.format(**params))
        if name in CACHED:
            frame = frame.cache()
        frame.createOrReplaceTempView(name)
    for name in TABLES:
        t = time.time()
        spark.table(name).write.mode("errorifexists").parquet(f"{out.rstrip('/')}/{name}")
        figures["seconds"][name] = round(time.time() - t, 2)
    figures.update(spark.table("summary").first().asDict())
    figures["pairs"] = spark.table("pairs").count()
    figures["triples"] = spark.table("triples").count()
    figures["total_seconds"] = round(time.time() - started, 2)
    spark.catalog.clearCache()
    return figures


def session(master=None, shuffle_partitions=None):
    """A Spark session with what the counts need: UTC months, no console progress bars."""
    builder = SparkSession.builder.appName("cartwise-counts")
    if master:
        builder = builder.master(master)
    # Months are calendar months in UTC, as the native counter takes them.
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", required=True, help="order lines: .csv, or Parquet file/folder")
    parser.add_argument("--products", required=True, help="products: .csv, or Parquet")
    parser.add_argument("--out", required=True, help="a new folder for the counts")
    parser.add_argument("--max-order-items", type=int, default=100)
    parser.add_argument("--min-itemset-count", type=int, default=10)
    parser.add_argument("--sample-orders", type=int, default=200_000)
    parser.add_argument("--master", help="Spark master (default: spark-submit's)")
    parser.add_argument(
        "--shuffle-partitions", type=int,
        help="spark.sql.shuffle.partitions (default: the cluster's; a few for a small local run)")
    args = parser.parse_args()
    spark = session(args.master, args.shuffle_partitions)
    figures = count(spark, args.orders, args.products, args.out, args.max_order_items,
                    args.min_itemset_count, args.sample_orders)
    print(json.dumps(figures))
    spark.stop()


if __name__ == "__main__":
    main()
