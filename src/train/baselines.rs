//! Evaluation baselines fitted on training orders: item-kNN (cosine) here, and dense EASE
//! from [`crate::train::ease`].

use crate::serve::export::Export;
use crate::train::assoc::count::{count_pairs, prepare_baskets, unpack_pair, DEFAULT_CHUNK_PAIRS};
use crate::train::ease::{self, Ease};
use crate::train::ingest::OrderLog;
use crate::train::protocol::{measure, top_of_scores, tuning_carts, validation_split, Validation};
use crate::train::Progress;

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
pub fn baskets_of(orders: &[crate::train::ingest::Order], max_order_items: usize) -> Vec<Vec<u32>> {
    prepare_baskets(orders.iter().map(|o| o.items.as_slice()), max_order_items).baskets
}

/// The baselines `eval` fits on the training orders.
pub struct Fitted {
    pub knn: ItemKnn,
    /// Dense EASE, when the catalog is within its dense-solve limit.
    pub ease: Option<Ease>,
}

/// Fits item-kNN and dense EASE on the training orders of an export; EASE's λ is tuned on
/// their latest tenth (the validation protocol), then EASE is refitted on all of them.
pub fn fit(
    export: &Export,
    log: &OrderLog,
    seed: u64,
    mut progress: impl FnMut(Progress),
) -> Fitted {
    let n = export.catalog.len();
    let cap = export.meta.max_order_items.max(1) as usize;
    let all = baskets_of(&log.orders, cap);
    progress(Progress::Step("fitting item-kNN".into()));
    let knn = ItemKnn::fit(&all, n);
    if n > ease::EVAL_MAX_ITEMS {
        progress(Progress::Record(format!(
            "EASE skipped: {n} items is over its dense-solve limit of {}",
            ease::EVAL_MAX_ITEMS
        )));
        return Fitted { knn, ease: None };
    }
    let Validation {
        baskets: fit_baskets,
        carts: validation,
        ..
    } = validation_split(log, cap, 0, seed);
    let validation = tuning_carts(&validation);
    progress(Progress::Step(format!(
        "tuning EASE λ on {} leave-one-out validation carts",
        validation.len()
    )));
    let (lambda, (), tried) = ease::tune(&fit_baskets, n, |ease| {
        let hr = measure(|t| ease.rank(&t.cart), &validation).hr10;
        (hr, ())
    });
    progress(Progress::Step(format!("fitting EASE (λ = {lambda})")));
    let ease = Ease::fit(&all, n, lambda);
    progress(Progress::Record(format!(
        "EASE validation HR@10 ({}); chose λ = {lambda}",
        ease::describe_tried(&tried)
    )));
    Fitted {
        knn,
        ease: Some(ease),
    }
}
