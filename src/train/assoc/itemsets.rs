//! Frequent itemsets of three items: ready-made bundles mined from orders (counted with their
//! buyers by [`crate::train::counts::Counts::of`]).

use super::count::PairSet;
use crate::serve::assoc::Itemset;

/// Bits per item index in a packed triple key; catalogs up to 2^21 items.
const TRIPLE_BITS: u32 = 21;

/// Keys of a basket's triples (distinct items, ascending) whose three pairs are all frequent.
pub fn triple_keys(basket: &[u32], frequent_pairs: &PairSet, out: &mut Vec<u64>) {
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
}

/// The items of a [`triple_keys`] key, ascending.
pub fn unpack_triple(key: u64) -> [u32; 3] {
    let mask = (1u64 << TRIPLE_BITS) - 1;
    [
        (key >> (2 * TRIPLE_BITS)) as u32,
        ((key >> TRIPLE_BITS) & mask) as u32,
        (key & mask) as u32,
    ]
}

/// Itemsets by count descending, ties by items, the first `limit`.
pub fn rank_itemsets(mut sets: Vec<Itemset>, limit: usize) -> Vec<Itemset> {
    sets.sort_by(|a, b| b.count.cmp(&a.count).then(a.items.cmp(&b.items)));
    sets.truncate(limit);
    sets
}
