//! The counts an export is built from: native counting with distinct buyers, the Parquet
//! contract written and read back, training from counts and a sample as from the log, and the
//! refusals of a counts folder that does not add up. (The Spark job's side is
//! tests/spark/counts_test.py.)

use crate::common::{ok, small_shop};
use cartwise::train::assoc::count::{basket_pairs, count_keys_by_buyer, pair_key, pairs_in};
use cartwise::train::counts::{sample, store, Counts};
use cartwise::train::pipeline::{train, train_counted, TrainConfig};
use std::path::Path;

/// The small shop's catalog and log (canonical), its counts and their folder.
fn counted(
    dir: &Path,
) -> (
    cartwise::serve::catalog::Catalog,
    cartwise::train::ingest::OrderLog,
    Counts,
) {
    let (catalog, mut log) = small_shop().to_log();
    log.canonicalize();
    let config = TrainConfig::default();
    let counts = Counts::of(
        &log,
        catalog.len(),
        config.max_order_items,
        config.min_itemset_count,
        1 << 20,
    );
    store::write(dir, &catalog, &counts, &log, sample::BUCKETS).unwrap();
    (catalog, log, counts)
}

#[test]
fn a_buyer_counts_once_per_pair_however_the_baskets_are_chunked() {
    // Buyer 0 buys {1, 2} twice, buyer 1 once; buyer 2 buys {1, 2, 3}.
    let baskets = vec![vec![1, 2], vec![1, 2], vec![1, 2], vec![1, 2, 3]];
    let buyers = [0, 0, 1, 2];
    for chunk in [1, 3, usize::MAX] {
        let tallies = count_keys_by_buyer(&baskets, &buyers, chunk, pairs_in, basket_pairs);
        assert_eq!(
            tallies,
            vec![
                (pair_key(1, 2), 4, 3),
                (pair_key(1, 3), 1, 1),
                (pair_key(2, 3), 1, 1)
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn counts_read_back_from_parquet_build_the_export_the_log_builds() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, log, counts) = counted(dir.path());
    assert!(
        !counts.triples.is_empty(),
        "the shop has 3-itemsets to carry"
    );
    assert!(counts.months.iter().filter(|&&m| m > 0).count() >= 6);
    let (read, info) = store::read(dir.path(), &catalog).unwrap();
    assert_eq!(read, counts);
    assert_eq!(info.orders, log.orders.len() as u64);
    let (mut sampled, rejects) = store::read_sample(dir.path(), &catalog).unwrap();
    assert!(rejects.is_empty(), "{rejects:?}");
    sampled.canonicalize();
    assert_eq!(sampled, log, "the whole-log sample reads back as the log");
    let config = TrainConfig::default();
    let from_log = train(&catalog, &log, &config, |_| {}).unwrap();
    let from_counts = train_counted(&catalog, &read, &sampled, &config, |_| {}).unwrap();
    assert_eq!(from_counts.to_bytes(), from_log.to_bytes());
}

#[test]
fn a_sample_keeps_whole_shoppers_near_its_target() {
    let (_, mut log) = small_shop().to_log();
    log.canonicalize();
    let threshold = sample::threshold(log.orders.len() as u64, 1_000);
    assert_eq!(threshold, 333_334, "⌈1,000 · 10⁶ / 3,000⌉");
    let kept = sample::sample(&log, threshold);
    assert!(
        (700..1_300).contains(&kept.orders.len()),
        "{}",
        kept.orders.len()
    );
    let customers: std::collections::HashSet<_> =
        kept.orders.iter().map(|o| o.customer.clone()).collect();
    let whole = log
        .orders
        .iter()
        .filter(|o| customers.contains(&o.customer))
        .count();
    assert_eq!(
        whole,
        kept.orders.len(),
        "a kept shopper's orders are all kept"
    );
    assert_eq!(sample::threshold(10, 1_000), sample::BUCKETS);
}

#[test]
fn a_counts_folder_that_does_not_add_up_is_refused_naming_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, log, counts) = counted(dir.path());
    // Written only into a new folder.
    let err = store::write(dir.path(), &catalog, &counts, &log, sample::BUCKETS).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    // A catalog without one of the counted items (its first).
    let first = (0..catalog.len() as u32)
        .find(|&i| counts.pairs.item_counts[i as usize] > 0)
        .unwrap();
    let other = cartwise::serve::catalog::Catalog::new(
        catalog
            .products()
            .iter()
            .filter(|p| p.id != catalog.get(first).id)
            .cloned()
            .collect(),
    )
    .unwrap();
    let err = store::read(dir.path(), &other).unwrap_err().to_string();
    assert!(
        err.contains("items")
            && err.contains("row group 0, row")
            && err.contains("is not in the products file"),
        "{err}"
    );
    // A pair listed twice (a second part file repeating the first).
    let pairs = dir.path().join("pairs");
    std::fs::copy(
        pairs.join("part-00000.parquet"),
        pairs.join("part-00001.parquet"),
    )
    .unwrap();
    let err = store::read(dir.path(), &catalog).unwrap_err().to_string();
    assert!(
        err.contains("pairs") && err.contains("listed twice"),
        "{err}"
    );
    std::fs::remove_file(pairs.join("part-00001.parquet")).unwrap();
    // Training at another item cap than the counts were cut at.
    let (read, _) = store::read(dir.path(), &catalog).unwrap();
    let config = TrainConfig {
        max_order_items: 50,
        ..TrainConfig::default()
    };
    let err = train_counted(&catalog, &read, &log, &config, |_| {})
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("over 100 items") && err.contains("asks for 50"),
        "{err}"
    );
    // A missing table.
    std::fs::remove_dir_all(dir.path().join("months")).unwrap();
    let err = store::read(dir.path(), &catalog).unwrap_err().to_string();
    assert!(err.contains("no table \"months\""), "{err}");
}

#[test]
fn the_cli_builds_the_same_export_from_its_counts_and_from_shuffled_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    ok(&[
        "synth",
        "--out",
        &d("shop"),
        "--seed",
        "5",
        "--items",
        "300",
        "--orders",
        "4000",
        "--customers",
        "500",
    ]);
    let products = d("shop/products.csv");
    // The same rows in another order: reversed lines, header first.
    let text = std::fs::read_to_string(d("shop/orders.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    std::fs::write(d("reversed.csv"), lines.join("\n") + "\n").unwrap();
    ok(&[
        "train",
        "--fast",
        "--orders",
        &d("shop/orders.csv"),
        "--products",
        &products,
        "--out",
        &d("a.cwm"),
    ]);
    ok(&[
        "train",
        "--fast",
        "--orders",
        &d("reversed.csv"),
        "--products",
        &products,
        "--out",
        &d("b.cwm"),
    ]);
    ok(&[
        "counts",
        "--orders",
        &d("reversed.csv"),
        "--products",
        &products,
        "--out",
        &d("counts"),
    ]);
    ok(&[
        "train",
        "--fast",
        "--counts",
        &d("counts"),
        "--products",
        &products,
        "--out",
        &d("c.cwm"),
    ]);
    let a = std::fs::read(d("a.cwm")).unwrap();
    assert_eq!(
        a,
        std::fs::read(d("b.cwm")).unwrap(),
        "row order changed the export"
    );
    assert_eq!(
        a,
        std::fs::read(d("c.cwm")).unwrap(),
        "counts built another export"
    );
}
