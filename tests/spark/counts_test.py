"""The Spark counts job against the native counter, on the synthetic shop: equal tables, and
the exports `cartwise train` builds from either (and from the order log itself) byte for byte.

Run by `./build.sh test` (and `./build.sh test-spark`) with the pyspark venv's python:
CARTWISE_CLI names the native binary. One local[2] Spark session runs every count.
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "spark"))
import cartwise_counts  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

CLI = os.environ.get("CARTWISE_CLI", "target/release/cartwise")
TABLES = ["summary", "items", "pairs", "triples", "item_months", "months"]
SAMPLE_KEY = ["order_id", "item_id", "customer_id"]


def cli(*args):
    done = subprocess.run([CLI, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"cartwise {' '.join(args)} failed:\n{done.stderr}")
    return done


class SparkCounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="cartwise-spark-")
        cls.dir = cls.tmp.name
        cls.spark = cartwise_counts.session("local[2]", 4)
        shop = os.path.join(cls.dir, "shop")
        cli("synth", "--out", shop, "--seed", "11")
        cls.products = os.path.join(shop, "products.csv")
        # Three lines both counters must leave out: an unknown item, a quantity that is not a
        # whole number, a quantity of 0.
        cls.orders = os.path.join(cls.dir, "orders.csv")
        with open(os.path.join(shop, "orders.csv")) as src, open(cls.orders, "w") as dst:
            lines = src.read().splitlines()
            header, first = lines[0].split(","), lines[1].split(",")
            bad = []
            for column, value in [("item_id", "NOT-A-SKU"), ("quantity", "two"), ("quantity", "0")]:
                row = list(first)
                row[header.index(column)] = value
                bad.append(",".join(row))
            dst.write("\n".join(lines[:2] + bad + lines[2:]) + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def table(self, counts, name, columns=None):
        frame = self.spark.read.parquet(os.path.join(counts, name))
        columns = columns or frame.columns
        return frame.select(*[F.col(c).cast("string").alias(c) for c in columns])

    def assert_same_tables(self, spark_dir, native_dir):
        for name in TABLES:
            a, b = self.table(spark_dir, name), self.table(native_dir, name)
            self.assertEqual(sorted(a.columns), sorted(b.columns), name)
            b = b.select(*a.columns)
            self.assertGreater(a.count(), 0, name)
            self.assertEqual(a.count(), b.count(), name)
            self.assertEqual(a.exceptAll(b).count(), 0, f"{name}: Spark rows the native counts lack")
            self.assertEqual(b.exceptAll(a).count(), 0, f"{name}: native rows Spark's counts lack")
        a = self.table(spark_dir, "sample", SAMPLE_KEY)
        b = self.table(native_dir, "sample", SAMPLE_KEY)
        self.assertEqual(a.exceptAll(b).count() + b.exceptAll(a).count(), 0, "sample lines")

    def train(self, out, *source):
        cli("train", "--fast", *source, "--products", self.products, "--out", out)
        with open(out, "rb") as f:
            return f.read()

    def test_whole_log_counts_equal_and_build_the_same_export(self):
        native, spark = self.path("native"), self.path("spark")
        cli("counts", "--orders", self.orders, "--products", self.products, "--out", native)
        figures = cartwise_counts.count(self.spark, self.orders, self.products, spark)
        print(f"spark job, whole log: {figures}", file=sys.stderr)
        self.assertEqual(figures["rejected_lines"], 3)
        self.assertEqual(figures["sample_orders"], figures["orders"])
        self.assert_same_tables(spark, native)
        from_log = self.train(self.path("log.cwm"), "--orders", self.orders)
        from_spark = self.train(self.path("spark.cwm"), "--counts", spark)
        from_native = self.train(self.path("native.cwm"), "--counts", native)
        self.assertEqual(from_spark, from_log, "export from Spark's counts differs from the log's")
        self.assertEqual(from_native, from_log)

    def test_a_sample_keeps_the_same_whole_shoppers(self):
        native, spark = self.path("native-sampled"), self.path("spark-sampled")
        cli("counts", "--orders", self.orders, "--products", self.products, "--out", native,
            "--sample-orders", "12000")
        figures = cartwise_counts.count(self.spark, self.orders, self.products, spark,
                                        sample_orders=12000)
        print(f"spark job, 12,000-order sample: {figures}", file=sys.stderr)
        self.assertLess(figures["sample_threshold"], cartwise_counts.BUCKETS)
        self.assertTrue(8000 < figures["sample_orders"] < 16000, figures["sample_orders"])
        self.assert_same_tables(spark, native)
        # Whole shoppers: a sampled customer's orders are all there.
        full = self.spark.read.option("header", True).csv(self.orders)
        sampled = self.table(spark, "sample", SAMPLE_KEY)
        customers = sampled.select("customer_id").distinct()
        want = full.join(customers, "customer_id").select("order_id").distinct().count()
        self.assertEqual(sampled.select("order_id").distinct().count(), want)
        self.assertEqual(self.train(self.path("spark-s.cwm"), "--counts", spark),
                         self.train(self.path("native-s.cwm"), "--counts", native))

    def test_a_typed_parquet_log_counts_as_its_csv(self):
        typed = self.path("orders.parquet")
        (self.spark.read.option("header", True).csv(self.orders)
         .withColumn("timestamp", F.to_timestamp("timestamp"))
         .withColumn("quantity", F.expr("try_cast(quantity AS INT)"))
         .withColumn("unit_price", F.col("unit_price").cast("decimal(12,2)"))
         .repartition(3).write.parquet(typed))
        native, spark = self.path("native-csv"), self.path("spark-parquet")
        cli("counts", "--orders", self.orders, "--products", self.products, "--out", native)
        cartwise_counts.count(self.spark, typed, self.products, spark)
        # "two" is null once typed, so that line is counted (an order line without a quantity).
        for name in TABLES[1:]:
            a, b = self.table(spark, name), self.table(native, name)
            self.assertEqual(a.exceptAll(b.select(*a.columns)).count(), 0, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
