//! Evaluation baselines fitted on training orders: item-kNN (cosine) here, and dense EASE
//! from [`crate::ease::fit`].

use crate::assoc::count::{count_pairs, prepare_baskets, unpack_pair, DEFAULT_CHUNK_PAIRS};
use crate::eval::top_of_scores;

/// Neighbours kept per item by item-kNN.
pub const KNN_NEIGHBOURS: usize = 100;

/// Item-kNN: per item, the most cosine-similar items, c_ij / sqrt(n_i · n_j).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemKnn {
    rows: Vec<Vec<(u32, f32)>>,
}

impl ItemKnn {
    /// Fits on baskets (distinct item indices per order) over `n` items.
    pub fn fit(baskets: &[Vec<u32>], n: usize) -> Self {
        let counts = count_pairs(baskets, n, DEFAULT_CHUNK_PAIRS);
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for &(key, c) in &counts.pairs {
            let (a, b) = unpack_pair(key);
            let sim = c as f64
                / ((counts.item_counts[a as usize] as f64)
                    * (counts.item_counts[b as usize] as f64))
                    .sqrt();
            rows[a as usize].push((b, sim as f32));
            rows[b as usize].push((a, sim as f32));
        }
        for row in &mut rows {
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            row.truncate(KNN_NEIGHBOURS);
        }
        Self { rows }
    }

    /// Item `i`'s kept neighbours and similarities, most similar first.
    pub fn row(&self, i: u32) -> &[(u32, f32)] {
        &self.rows[i as usize]
    }

    /// Ranks items by summed similarity to the cart.
    pub fn rank(&self, cart: &[u32]) -> Vec<u32> {
        let mut scores = vec![0f32; self.rows.len()];
        for &i in cart {
            for &(j, s) in self.row(i) {
                scores[j as usize] += s;
            }
        }
        top_of_scores(&scores, cart)
    }

    /// Serving size: item id and f32 similarity per kept neighbour.
    pub fn size_bytes(&self) -> u64 {
        self.rows.iter().map(|r| r.len() as u64 * 8).sum()
    }
}

/// Distinct-item baskets of orders, with the same bulk-order cap as training.
pub fn baskets_of(orders: &[crate::ingest::Order], max_order_items: usize) -> Vec<Vec<u32>> {
    prepare_baskets(orders.iter().map(|o| o.items.as_slice()), max_order_items).baskets
}
