//! Association tables against a brute-force reference, on random order logs.

use cartwise::serve::assoc::PairStats;
use cartwise::train::assoc::build::{build_table, AssocConfig};
use cartwise::train::assoc::count::{count_pairs, pair_key, prepare_baskets};
use cartwise::train::counts::Counts;
use cartwise::train::ingest::{Order, OrderLog};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

fn orders_strategy() -> impl Strategy<Value = (usize, Vec<Vec<u32>>)> {
    (2usize..25).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(prop::collection::vec(0..n as u32, 0..9), 0..120),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn counts_match_brute_force((n, orders) in orders_strategy(), chunk in 1usize..50, cap in 2usize..10) {
        let baskets = prepare_baskets(orders.iter().map(|o| o.as_slice()), cap);
        let counts = count_pairs(&baskets.baskets, n, chunk);
        // Brute force: dedup each order, skip empty and oversized, count every pair directly.
        let mut items = vec![0u32; n];
        let mut pairs: BTreeMap<u64, u32> = BTreeMap::new();
        let (mut kept, mut oversized) = (0u32, 0usize);
        for order in &orders {
            let set: Vec<u32> = order.iter().copied().collect::<HashSet<_>>().into_iter().collect();
            if set.is_empty() { continue; }
            if set.len() > cap { oversized += 1; continue; }
            kept += 1;
            for &i in &set { items[i as usize] += 1; }
            for &i in &set { for &j in &set { if i < j { *pairs.entry(pair_key(i, j)).or_default() += 1; } } }
        }
        prop_assert_eq!(counts.orders, kept);
        prop_assert_eq!(baskets.oversized, oversized);
        prop_assert_eq!(&counts.item_counts, &items);
        prop_assert_eq!(counts.pairs.clone(), pairs.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn table_rows_are_the_brute_force_top_k((n, orders) in orders_strategy(), k_score in 1usize..6, k_count in 0usize..4) {
        let baskets = prepare_baskets(orders.iter().map(|o| o.as_slice()), 100);
        let counts = count_pairs(&baskets.baskets, n, 1 << 20);
        let config = AssocConfig { min_pair_count: 2, top_k_score: k_score, top_k_count: k_count };
        let table = build_table(&counts, &config);
        prop_assert!(table.validate().is_ok());
        for i in 0..n as u32 {
            // Every pair (i, j) with c_ij >= 2, with its score from the formula.
            let mut all: Vec<(u32, u32, f32)> = Vec::new();
            for j in 0..n as u32 {
                if j == i { continue; }
                let c = baskets.baskets.iter().filter(|b| b.contains(&i) && b.contains(&j)).count() as u32;
                if c >= 2 {
                    let s = PairStats::from_counts(counts.orders, counts.item_counts[i as usize], counts.item_counts[j as usize], c);
                    all.push((j, c, s.score()));
                }
            }
            let mut by_score: Vec<_> = all.iter().filter(|x| x.2 > 0.0).copied().collect();
            by_score.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
            by_score.truncate(k_score);
            let mut by_count = all.clone();
            by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            by_count.truncate(k_count);
            let row = table.row(i);
            let head: Vec<(u32, u32, f32)> = row.iter().take(by_score.len()).map(|nb| (nb.item, nb.count, nb.score)).collect();
            prop_assert_eq!(head, by_score.clone());
            let expected: HashSet<u32> = by_score.iter().chain(by_count.iter()).map(|x| x.0).collect();
            let got: HashSet<u32> = row.iter().map(|nb| nb.item).collect();
            prop_assert_eq!(got.len(), row.len(), "no duplicate neighbours");
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn triples_match_brute_force((n, orders) in orders_strategy(), min in 1u32..4) {
        let baskets = prepare_baskets(orders.iter().map(|o| o.as_slice()), 100);
        let log = OrderLog {
            lines: 0,
            orders: orders
                .iter()
                .enumerate()
                .map(|(k, items)| Order {
                    id: format!("o{k}"),
                    customer: None,
                    time: None,
                    items: items.clone(),
                    unit_prices: vec![None; items.len()],
                })
                .collect(),
        };
        let counts = Counts::of(&log, n, 100, min, 1 << 20);
        let sets = counts.itemsets(min, usize::MAX);
        // Without customer ids each order is its own buyer.
        prop_assert!(counts.triples.iter().all(|&(_, c, b)| b == c));
        let mut expected: BTreeMap<[u32; 3], u32> = BTreeMap::new();
        for a in 0..n as u32 { for b in a + 1..n as u32 { for c in b + 1..n as u32 {
            let k = baskets.baskets.iter().filter(|x| x.contains(&a) && x.contains(&b) && x.contains(&c)).count() as u32;
            // Apriori: a frequent triple has all three pairs frequent, so nothing is lost.
            if k >= min { expected.insert([a, b, c], k); }
        }}}
        let got: BTreeMap<[u32; 3], u32> = sets.iter().map(|s| (s.items, s.count)).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(sets.windows(2).all(|w| w[0].count >= w[1].count));
    }
}

#[test]
fn stats_formulas() {
    // N = 100, n_i = 10, n_j = 20, c = 8: lift = 100*8/(10*20) = 4.
    let s = PairStats::from_counts(100, 10, 20, 8);
    assert!((s.lift - 4.0).abs() < 1e-12);
    assert!((s.confidence - 0.8).abs() < 1e-12);
    assert!((s.support - 0.08).abs() < 1e-12);
    assert!(
        (s.shrunk_lift - 13.0 / 7.0).abs() < 1e-12,
        "(8 + 5) / (2 + 5)"
    );
    let npmi = (0.08f64 / (0.1 * 0.2)).ln() / -(0.08f64).ln();
    assert!((s.npmi - npmi).abs() < 1e-12);
    // A rare pair with the same lift is shrunk much harder than a frequent one.
    let rare = PairStats::from_counts(10_000, 2, 2, 2);
    let common = PairStats::from_counts(10_000, 200, 200, 200);
    assert!(rare.lift > common.lift);
    assert!(rare.shrunk_lift < common.shrunk_lift);
}
