//! The counts an export's tables are built from — items, pairs, 3-itemsets and months over the
//! order log's baskets, with distinct buyers where publishing needs them — whoever counted
//! them: [`Counts::of`] natively, or a distributed engine writing the Parquet contract
//! ([`store`], `model-export/COUNTS.md`, the Spark job in `spark/`). Training reads the
//! association table, the itemsets, the seasonal index and EASE's Gram matrix from these alone;
//! what learns from whole baskets (the transformer, the blend, EASE's λ, the acceptance curve)
//! reads a [`sample`] of the log.

pub mod sample;
pub mod store;

use crate::serve::assoc::Itemset;
use crate::train::assoc::count::{
    basket_pairs, count_keys_by_buyer, pair_key, pairs_in, prepare_baskets, PairCounts, PairSet,
};
use crate::train::assoc::itemsets::{rank_itemsets, triple_keys, unpack_triple};
use crate::train::ingest::OrderLog;
use crate::train::seasonal::monthly_counts;
use std::collections::HashMap;

/// Everything the export's counted tables are built from, over the log's baskets (its orders
/// with their items deduplicated, orders over `max_order_items` items left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Orders with at least one accepted line.
    pub orders: u64,
    /// Accepted order lines.
    pub lines: u64,
    /// Orders left out for having more than `max_order_items` distinct items.
    pub oversized: u64,
    /// Lines the counter left out as unreadable: 0 natively (the reader reports each line it
    /// rejects, with its place), the Spark job's count of lines its checks dropped.
    pub rejected_lines: u64,
    /// The item cap the baskets were cut at.
    pub max_order_items: usize,
    /// The fewest orders a counted triple has.
    pub min_itemset_count: u32,
    /// Baskets, orders per item and per pair (keys ascending).
    pub pairs: PairCounts,
    /// Distinct buyers of each pair, beside `pairs.pairs`.
    pub pair_buyers: Vec<u32>,
    /// Triples in at least `min_itemset_count` baskets: items ascending, baskets, distinct
    /// buyers; ascending by items.
    pub triples: Vec<([u32; 3], u32, u32)>,
    /// Baskets per item and calendar month (January first), timed baskets only.
    pub item_months: Vec<[u32; 12]>,
    /// Timed baskets per calendar month.
    pub months: [u64; 12],
}

impl Counts {
    /// Counts a log over a catalog of `n_items`, at most `chunk_pairs` pair keys in memory at
    /// once (see [`crate::train::assoc::count`]). A buyer is a customer id, or the order where
    /// it has none ([`buyer_ids`]).
    pub fn of(
        log: &OrderLog,
        n_items: usize,
        max_order_items: usize,
        min_itemset_count: u32,
        chunk_pairs: usize,
    ) -> Self {
        let baskets = prepare_baskets(
            log.orders.iter().map(|o| o.items.as_slice()),
            max_order_items,
        );
        let buyers = buyer_ids(
            baskets
                .source
                .iter()
                .map(|&o| log.orders[o].customer.as_deref()),
        );
        let mut item_counts = vec![0u32; n_items];
        baskets
            .baskets
            .iter()
            .flatten()
            .for_each(|&i| item_counts[i as usize] += 1);
        let tallies = count_keys_by_buyer(
            &baskets.baskets,
            &buyers,
            chunk_pairs,
            pairs_in,
            basket_pairs,
        );
        let (pairs, pair_buyers) = tallies.into_iter().map(|(k, c, b)| ((k, c), b)).unzip();
        let pairs = PairCounts {
            orders: baskets.baskets.len() as u32,
            item_counts,
            pairs,
        };
        let frequent = PairSet::frequent(&pairs, min_itemset_count);
        let triples = count_keys_by_buyer(
            &baskets.baskets,
            &buyers,
            chunk_pairs,
            pairs_in,
            |basket, out| triple_keys(basket, &frequent, out),
        )
        .into_iter()
        .filter(|&(_, c, _)| c >= min_itemset_count)
        .map(|(k, c, b)| (unpack_triple(k), c, b))
        .collect();
        let months: Vec<Option<u8>> = baskets
            .source
            .iter()
            .map(|&o| log.orders[o].month())
            .collect();
        let (item_months, months) = monthly_counts(&baskets.baskets, &months, n_items);
        Self {
            orders: log.orders.len() as u64,
            lines: log.lines,
            oversized: baskets.oversized as u64,
            rejected_lines: 0,
            max_order_items,
            min_itemset_count,
            pairs,
            pair_buyers,
            triples,
            item_months,
            months,
        }
    }

    /// Distinct buyers of the unordered pair `a`, `b` (0 when never bought together).
    pub fn pair_buyers(&self, a: u32, b: u32) -> u32 {
        let key = pair_key(a, b);
        self.pairs
            .pairs
            .binary_search_by_key(&key, |&(k, _)| k)
            .map_or(0, |at| self.pair_buyers[at])
    }

    /// Distinct buyers of a triple (items ascending; 0 for a triple not counted).
    pub fn triple_buyers(&self, items: [u32; 3]) -> u32 {
        self.triples
            .binary_search_by_key(&items, |&(t, _, _)| t)
            .map_or(0, |at| self.triples[at].2)
    }

    /// The triples in at least `min_count` baskets, most bought first (ties by items), the
    /// first `limit`: the export's candidate bundles.
    pub fn itemsets(&self, min_count: u32, limit: usize) -> Vec<Itemset> {
        rank_itemsets(
            self.triples
                .iter()
                .filter(|&&(_, c, _)| c >= min_count)
                .map(|&(items, count, _)| Itemset { items, count })
                .collect(),
            limit,
        )
    }
}

/// Buyer ids for baskets: each distinct customer id one buyer, each order without one its own.
pub fn buyer_ids<'a>(customers: impl IntoIterator<Item = Option<&'a str>>) -> Vec<u32> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut next = 0u32;
    customers
        .into_iter()
        .map(|c| {
            let fresh = next;
            let id = match c {
                Some(c) => *ids.entry(c).or_insert(fresh),
                None => fresh,
            };
            next += u32::from(id == fresh);
            id
        })
        .collect()
}
