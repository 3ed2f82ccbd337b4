//! What the public export may say about the orders: pairs and itemsets bought by at least `K`
//! distinct buyers only (customers; orders where there is no customer id), so no pair speaks
//! for one or two shoppers, and every count rounded (to a multiple of 5 below 100, to two
//! significant figures above), so no exact sales volume is published. Scores are recomputed from the published counts: nothing in the table
//! is a function of an exact count.

use crate::serve::assoc::{AssocTable, Itemset, Neighbor, PairStats};
use crate::train::counts::Counts;

/// Default `train --min-customers`.
pub const DEFAULT_MIN_BUYERS: u32 = 5;

/// What publishing left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Withheld {
    /// Pairs (undirected) bought by fewer distinct buyers than required.
    pub pairs: usize,
    pub itemsets: usize,
}

/// A count as published: 0 stays 0; below 100, the nearest multiple of 5 (ties up), at least 5;
/// above, rounded half up to two significant figures. A reader learns a sales volume to within
/// 5% (large counts) or 2 orders (small ones), never exactly.
pub fn round_count(c: u32) -> u32 {
    let unit = match c {
        0 => return 0,
        1..100 => 5,
        _ => 10u64.pow(c.ilog10() - 1),
    };
    ((c as u64 + unit / 2) / unit * unit).clamp(5, u32::MAX as u64) as u32
}

/// The table and itemsets a public export may carry: pairs and itemsets with at least
/// `min_buyers` distinct buyers (as `counts` has them), counts rounded ([`round_count`]), each
/// row rescored from the published counts and sorted by score (ties by item index).
pub fn publish(
    table: &AssocTable,
    itemsets: &[Itemset],
    counts: &Counts,
    min_buyers: u32,
) -> (AssocTable, Vec<Itemset>, Withheld) {
    let key = |a: u32, b: u32| ((a.min(b) as u64) << 32) | a.max(b) as u64;
    let orders = round_count(table.orders);
    let item_counts: Vec<u32> = table.item_counts.iter().map(|&c| round_count(c)).collect();
    let mut offsets = vec![0u32];
    let mut neighbors = Vec::with_capacity(table.neighbors.len());
    let mut withheld_pairs = std::collections::HashSet::new();
    for i in 0..table.items() as u32 {
        let mut row: Vec<Neighbor> = table
            .row(i)
            .iter()
            .filter(|nb| {
                let keep = counts.pair_buyers(i, nb.item) >= min_buyers;
                if !keep {
                    withheld_pairs.insert(key(i, nb.item));
                }
                keep
            })
            .map(|nb| {
                let count = round_count(nb.count);
                let stats = PairStats::from_counts(
                    orders,
                    item_counts[i as usize],
                    item_counts[nb.item as usize],
                    count,
                );
                Neighbor {
                    item: nb.item,
                    count,
                    score: stats.score(),
                }
            })
            .collect();
        row.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        neighbors.extend(row);
        offsets.push(neighbors.len() as u32);
    }
    let mut kept: Vec<Itemset> = itemsets
        .iter()
        .filter(|s| counts.triple_buyers(s.items) >= min_buyers)
        .map(|s| Itemset {
            items: s.items,
            count: round_count(s.count),
        })
        .collect();
    kept.sort_by(|a, b| b.count.cmp(&a.count).then(a.items.cmp(&b.items)));
    let withheld = Withheld {
        pairs: withheld_pairs.len(),
        itemsets: itemsets.len() - kept.len(),
    };
    let table = AssocTable {
        orders,
        item_counts,
        offsets,
        neighbors,
    };
    (table, kept, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::assoc::build::{build_table, AssocConfig};
    use crate::train::ingest::{Order, OrderLog};

    #[test]
    fn counts_round_to_two_significant_figures() {
        assert_eq!(round_count(0), 0);
        assert_eq!(round_count(1), 5);
        assert_eq!(round_count(7), 5);
        assert_eq!(round_count(8), 10);
        assert_eq!(round_count(97), 95);
        assert_eq!(round_count(98), 100);
        assert_eq!(round_count(104), 100);
        assert_eq!(round_count(105), 110);
        assert_eq!(round_count(1_234), 1_200);
        assert_eq!(round_count(98_765), 99_000);
    }

    #[test]
    fn a_pair_needs_enough_distinct_buyers_not_orders() {
        // Items 0+1: 40 orders by 4 customers; items 2+3: 5 orders by 5 customers.
        let mut baskets = Vec::new();
        let mut customers = Vec::new();
        for k in 0..40 {
            baskets.push(vec![0, 1]);
            customers.push(Some(format!("c{}", k % 4)));
        }
        for k in 0..5 {
            baskets.push(vec![2, 3]);
            customers.push(Some(format!("d{k}")));
        }
        let config = AssocConfig::default();
        let log = |customers: &[Option<String>]| OrderLog {
            lines: 0,
            orders: baskets
                .iter()
                .zip(customers)
                .enumerate()
                .map(|(k, (b, c))| Order {
                    id: format!("o{k}"),
                    customer: c.clone(),
                    time: None,
                    items: b.clone(),
                    unit_prices: vec![None; b.len()],
                })
                .collect(),
        };
        let counts = Counts::of(&log(&customers), 4, 100, 10, 1 << 20);
        let table = build_table(&counts.pairs, &config);
        let (published, _, withheld) = publish(&table, &[], &counts, 5);
        assert!(published.row(0).is_empty() && published.row(1).is_empty());
        assert_eq!(published.row(2)[0].item, 3);
        assert_eq!(withheld.pairs, 1);
        // Without customer ids every order is its own buyer: the 40 orders keep the pair.
        let anonymous = Counts::of(&log(&vec![None; customers.len()]), 4, 100, 10, 1 << 20);
        let (published, _, _) = publish(&table, &[], &anonymous, 5);
        assert_eq!(published.row(0)[0].item, 1);
    }
}
