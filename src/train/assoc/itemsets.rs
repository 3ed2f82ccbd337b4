//! Frequent itemsets of three items: ready-made bundles mined from orders.

use super::count::{count_keys, PairSet};
use crate::serve::assoc::Itemset;
use rayon::prelude::*;

/// Bits per item index in a packed triple key; catalogs up to 2^21 items.
const TRIPLE_BITS: u32 = 21;

/// Mines 3-itemsets whose three pairs are all frequent, keeping those in `min_count`+ orders.
///
/// Orders longer than `max_order_items` are skipped (as for pair counting). Result is sorted by
/// count descending, ties by items, truncated to `limit`.
pub fn mine_triples(
    baskets: &[Vec<u32>],
    frequent_pairs: &PairSet,
    min_count: u32,
    limit: usize,
) -> Vec<Itemset> {
    let mask = (1u64 << TRIPLE_BITS) - 1;
    let keys = |basket: &Vec<u32>| {
        let mut out = Vec::new();
        for (x, &a) in basket.iter().enumerate() {
            for (y, &b) in basket.iter().enumerate().skip(x + 1) {
                if !frequent_pairs.contains(a, b) {
                    continue;
                }
                for &c in &basket[y + 1..] {
                    if frequent_pairs.contains(a, c) && frequent_pairs.contains(b, c) {
                        out.push(
                            (a as u64) << (2 * TRIPLE_BITS) | (b as u64) << TRIPLE_BITS | c as u64,
                        );
                    }
                }
            }
        }
        out
    };
    let keyed: Vec<u64> = baskets.par_iter().flat_map_iter(keys).collect();
    let mut sets: Vec<Itemset> = count_keys(keyed)
        .into_iter()
        .filter(|&(_, c)| c >= min_count)
        .map(|(key, count)| Itemset {
            items: [
                (key >> (2 * TRIPLE_BITS)) as u32,
                ((key >> TRIPLE_BITS) & mask) as u32,
                (key & mask) as u32,
            ],
            count,
        })
        .collect();
    sets.sort_by(|a, b| b.count.cmp(&a.count).then(a.items.cmp(&b.items)));
    sets.truncate(limit);
    sets
}
