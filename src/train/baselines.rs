//! Evaluation baselines fitted on training orders: item-kNN (cosine) here, dense EASE from
//! [`crate::train::ease`] and neighbourhood EASE from [`crate::train::local_ease`].

use crate::serve::ease::SparseEase;
use crate::serve::export::Export;
use crate::train::assoc::count::{count_pairs, prepare_baskets, unpack_pair, DEFAULT_CHUNK_PAIRS};
use crate::train::ease::{self, Ease};
use crate::train::ingest::OrderLog;
use crate::train::local_ease;
use crate::train::protocol::{
    carts_with_history, measure, top_of_scores, tuning_carts, validation_split, TestCart,
    Validation,
};
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

/// Dense EASE over a set of items (all of them, or the most bought when the catalog is past
/// the dense limit); carts and rankings in catalog indices.
pub struct DenseEase {
    items: ease::ActiveItems,
    ease: Ease,
    /// Fitted over every catalog item (not a head of the most bought).
    pub whole: bool,
}

impl DenseEase {
    /// Ranks the fitted items for a cart (items outside the set are left out of the cart).
    pub fn rank(&self, cart: &[u32]) -> Vec<u32> {
        self.rank_with_history(cart, &[], 0.0)
    }

    /// [`Ease::rank_with_history`] over the fitted items (others left out of cart and history).
    pub fn rank_with_history(&self, cart: &[u32], history: &[u32], weight: f32) -> Vec<u32> {
        let [cart, history] =
            [cart, history].map(|ids| self.items.remap(&[ids.to_vec()]).remove(0));
        self.ease
            .rank_with_history(&cart, &history, weight)
            .into_iter()
            .map(|k| self.items.items()[k as usize])
            .collect()
    }

    /// Serving size of the dense f32 matrix.
    pub fn size_bytes(&self) -> u64 {
        self.ease.size_bytes()
    }

    /// How many items it was fitted over.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it was fitted over no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The baselines `eval` fits on the training orders.
pub struct Fitted {
    pub knn: ItemKnn,
    /// Dense EASE: over the whole catalog within its dense-solve limit, else over the
    /// [`ease::TRAIN_MAX_ITEMS`] most bought items.
    pub ease: DenseEase,
    /// The weight of the shopper's history in personalized dense EASE
    /// ([`DenseEase::rank_with_history`]), tuned on the validation carts' histories (0 when
    /// they have none, or history does not help).
    pub history_weight: f32,
    /// EASE restricted to each item's co-purchase neighbourhood ([`local_ease`]), all its
    /// weights kept (int8 per row).
    pub local: SparseEase,
}

/// Fits item-kNN, dense EASE and neighbourhood EASE on the training orders of an export;
/// each EASE's λ is tuned on their latest tenth (the validation protocol), then it is refitted
/// on all of them.
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
    let Validation {
        baskets: fit_baskets,
        carts: validation,
        ..
    } = validation_split(log, cap, 0, seed);
    let validation = tuning_carts(&validation);
    let all_counts = count_pairs(&all, n, DEFAULT_CHUNK_PAIRS);
    let whole = n <= ease::EVAL_MAX_ITEMS;
    let items = if whole {
        ease::ActiveItems::with_counts(&vec![1; n])
    } else {
        // The most bought items, ties by index.
        let mut by_count: Vec<u32> = (0..n as u32).collect();
        by_count.sort_by_key(|&i| (std::cmp::Reverse(all_counts.item_counts[i as usize]), i));
        let mut head = vec![0u32; n];
        for &i in by_count.iter().take(ease::TRAIN_MAX_ITEMS) {
            head[i as usize] = all_counts.item_counts[i as usize];
        }
        progress(Progress::Record(format!(
            "dense EASE over the {} most bought of the {n} items (the dense solve's limit is {})",
            ease::TRAIN_MAX_ITEMS,
            ease::EVAL_MAX_ITEMS
        )));
        ease::ActiveItems::with_counts(&head)
    };
    progress(Progress::Step(format!(
        "tuning EASE λ on {} leave-one-out validation carts",
        validation.len()
    )));
    let with_history = carts_with_history(&validation);
    // λ by the carts alone; at each λ the history weight too, so the chosen λ's comes free.
    let (lambda, history, tried) = ease::tune(&items.remap(&fit_baskets), items.len(), |e| {
        let dense = DenseEase {
            items: items.clone(),
            ease: e.clone(),
            whole,
        };
        let hr = measure(|t| dense.rank(&t.cart), &validation).hr10;
        (hr, tune_history_weight(&dense, &with_history))
    });
    progress(Progress::Step(format!("fitting EASE (λ = {lambda})")));
    let dense = DenseEase {
        ease: Ease::fit(&items.remap(&all), items.len(), lambda),
        items,
        whole,
    };
    progress(Progress::Record(format!(
        "EASE validation HR@10 ({}); chose λ = {lambda}",
        ease::describe_tried(&tried)
    )));
    if !with_history.is_empty() {
        progress(Progress::Record(format!(
            "personalized EASE HR@10 on the {} validation carts with a history ({}); chose history weight {}",
            with_history.len(),
            history
                .1
                .iter()
                .map(|(w, hr)| format!("{w}: {hr:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            history.0
        )));
    }
    progress(Progress::Step(
        "tuning neighbourhood EASE λ on the same carts".into(),
    ));
    let fit_counts = count_pairs(&fit_baskets, n, DEFAULT_CHUNK_PAIRS);
    let local =
        |counts, lambda| local_ease::fit(counts, lambda, local_ease::NEIGHBOURS, usize::MAX);
    let (lambda, (), tried) = ease::tune_by(|lambda| {
        let model = local(&fit_counts, lambda);
        (measure(|t| model.rank(&t.cart), &validation).hr10, ())
    });
    progress(Progress::Record(format!(
        "neighbourhood EASE validation HR@10 ({}); chose λ = {lambda}",
        ease::describe_tried(&tried)
    )));
    Fitted {
        knn,
        ease: dense,
        history_weight: history.0,
        local: local(&all_counts, lambda),
    }
}

/// History weights tried for personalized EASE.
pub const HISTORY_WEIGHTS: [f32; 6] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5];

/// Chooses personalized EASE's history weight by HR@10 on validation carts that have a history
/// (`with_history`): the fair anchor for what the shopper's history is worth. Returns the
/// weight (0 when there are no such carts) and each weight tried with its HR@10.
fn tune_history_weight(dense: &DenseEase, with_history: &[TestCart]) -> (f32, Vec<(f32, f64)>) {
    if with_history.is_empty() {
        return (0.0, Vec::new());
    }
    let tried: Vec<(f32, f64)> = HISTORY_WEIGHTS
        .iter()
        .map(|&w| {
            let rank = |t: &TestCart| dense.rank_with_history(&t.cart, &t.history, w);
            (w, measure(rank, with_history).hr10)
        })
        .collect();
    let best = tried.iter().fold(
        (0.0, f64::MIN),
        |b, &(w, hr)| if hr > b.1 { (w, hr) } else { b },
    );
    (best.0, tried)
}
