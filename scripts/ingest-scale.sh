#!/usr/bin/env bash
# Native ingest and counting at scale, CSV against Parquet, and the Spark counts job on the same
# log: `scripts/ingest-scale.sh LINES [DIR]` synthesizes a 100,000-item shop of about LINES
# order lines into DIR (default /tmp/cartwise-scale-LINES), converts the orders to Parquet with
# Spark (string columns, as a CSV is read), then times `cartwise counts` on each (wall time and
# peak RSS by GNU time) and, when SPARK=1, the Spark job in local[2]. Figures go to stdout;
# BENCHMARKS.md "Big catalogs" reports them. Needs `./build.sh native` and the pyspark venv
# (`./build.sh test-spark` makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:?usage: scripts/ingest-scale.sh LINES [DIR]}
dir=${2:-/tmp/cartwise-scale-$lines}
cli="${CARGO_TARGET_DIR:-$HOME/.cache/cartwise/target}/release/cartwise"
python="${CARTWISE_SPARK_VENV:-$HOME/.cache/cartwise/spark-venv}/bin/python"
mkdir -p "$dir"
# The synthetic shop has about 2.9 order lines per order.
orders=$((lines * 10 / 29))
if [ ! -f "$dir/shop/orders.csv" ]; then
  "$cli" synth --out "$dir/shop" --items 100000 --orders "$orders" --customers $((orders / 8)) --seed 3
fi
if [ ! -d "$dir/orders.parquet" ]; then
  "$python" - "$dir" <<'EOF'
import sys
sys.path.insert(0, "spark")
import cartwise_counts
d = sys.argv[1]
spark = cartwise_counts.session("local[2]")
spark.read.option("header", True).option("inferSchema", False).csv(f"{d}/shop/orders.csv") \
    .coalesce(1).write.parquet(f"{d}/orders.parquet")
spark.stop()
EOF
fi
parquet=$(ls "$dir"/orders.parquet/*.parquet | head -1)
printf 'lines: %s; CSV %s bytes, Parquet %s bytes\n' "$(($(wc -l <"$dir/shop/orders.csv") - 1))" \
  "$(stat -c %s "$dir/shop/orders.csv")" "$(stat -c %s "$parquet")"
for input in "$dir/shop/orders.csv" "$parquet"; do
  out="$dir/counts-$(basename "$input" | cut -c1-8)"
  rm -rf "$out"
  /usr/bin/time -f "%e s wall, %M KiB peak RSS" "$cli" counts --orders "$input" \
    --products "$dir/shop/products.csv" --out "$out" 2>&1 | tail -2
done
if [ "${SPARK:-0}" = 1 ]; then
  rm -rf "$dir/counts-spark"
  /usr/bin/time -f "spark job: %e s wall" "$python" -W ignore spark/cartwise_counts.py --master 'local[2]' \
    --shuffle-partitions 16 --orders "$parquet" --products "$dir/shop/products.csv" \
    --out "$dir/counts-spark" 2>&1 | grep -v WARN | tail -2
fi
