//! Fitting EASE natively: the dense closed form, λ chosen on validation carts, and pruning to
//! the [`SparseEase`] table the export ships. The dense model is also the evaluation baseline.

use crate::serve::ease::SparseEase;
use crate::train::assoc::count::{
    count_pairs, pair_key, unpack_pair, PairCounts, DEFAULT_CHUNK_PAIRS,
};
use crate::train::protocol::top_of_scores;
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

/// Largest catalog EASE is fitted for in evaluation: its dense solve needs about 20·n² bytes.
pub const EVAL_MAX_ITEMS: usize = 20_000;
/// Largest catalog `train` fits EASE for by default (the λ search's dense solves of this size,
/// three to six, take a few minutes on two cores and about 2 GB).
pub const TRAIN_MAX_ITEMS: usize = 10_000;
/// λ values tried on the validation slice.
pub const LAMBDAS: [f64; 6] = [10.0, 50.0, 200.0, 500.0, 1_000.0, 3_000.0];

/// EASE (Steck, 2019): B = I − P · diag(1 / diag P) with P = (XᵀX + λI)⁻¹, zero diagonal.
#[derive(Debug, Clone, PartialEq)]
pub struct Ease {
    n: usize,
    /// Row-major n × n item-to-item weights.
    weights: Vec<f32>,
    pub lambda: f64,
}

impl Ease {
    /// Fits the closed form on baskets over `n` items with L2 weight `lambda`.
    pub fn fit(baskets: &[Vec<u32>], n: usize, lambda: f64) -> Self {
        Self::from_counts(&count_pairs(baskets, n, DEFAULT_CHUNK_PAIRS), lambda)
    }

    /// Fits the closed form from item and pair counts (the Gram matrix XᵀX of binary baskets:
    /// item counts on the diagonal, pair counts off it) with L2 weight `lambda`.
    pub fn from_counts(counts: &PairCounts, lambda: f64) -> Self {
        let n = counts.item_counts.len();
        let mut gram = Mat::<f64>::zeros(n, n);
        for (i, &c) in counts.item_counts.iter().enumerate() {
            gram[(i, i)] = c as f64 + lambda;
        }
        for &(key, c) in &counts.pairs {
            let (a, b) = unpack_pair(key);
            gram[(a as usize, b as usize)] = c as f64;
            gram[(b as usize, a as usize)] = c as f64;
        }
        let factor = gram
            .llt(Side::Lower)
            .expect("XᵀX + λI is positive definite for λ > 0");
        drop(gram);
        let p = factor.inverse();
        drop(factor);
        let mut weights = vec![0f32; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    weights[i * n + j] = (-p[(i, j)] / p[(j, j)]) as f32;
                }
            }
        }
        Self { n, weights, lambda }
    }

    /// Weight of item `i` for predicting item `j`.
    pub fn weight(&self, i: u32, j: u32) -> f32 {
        self.weights[i as usize * self.n + j as usize]
    }

    /// Ranks items by Σ over cart items of their weight rows.
    pub fn rank(&self, cart: &[u32]) -> Vec<u32> {
        self.rank_with_history(cart, &[], 0.0)
    }

    /// Personalized EASE: ranks items by the cart's weight rows plus `weight` × those of the
    /// shopper's history items that are not in the cart (EASE's input vector with the history
    /// at a lower weight); cart items are never ranked, history items may be (a rebuy).
    pub fn rank_with_history(&self, cart: &[u32], history: &[u32], weight: f32) -> Vec<u32> {
        let mut scores = vec![0f32; self.n];
        let inputs = cart.iter().map(|&i| (i, 1.0)).chain(
            history
                .iter()
                .filter(|h| weight != 0.0 && !cart.contains(h))
                .map(|&h| (h, weight)),
        );
        for (i, x) in inputs {
            let row = &self.weights[i as usize * self.n..(i as usize + 1) * self.n];
            scores.iter_mut().zip(row).for_each(|(s, w)| *s += x * w);
        }
        top_of_scores(&scores, cart)
    }

    /// Serving size of the dense f32 matrix.
    pub fn size_bytes(&self) -> u64 {
        (self.n * self.n * 4) as u64
    }

    /// The `keep` strongest weights of every row, int8 per row (what the export ships).
    pub fn sparsify(&self, keep: usize) -> SparseEase {
        let rows = (0..self.n)
            .map(|i| {
                let row = &self.weights[i * self.n..(i + 1) * self.n];
                row.iter()
                    .enumerate()
                    .filter(|&(j, &w)| j != i && w != 0.0)
                    .map(|(j, &w)| (j as u32, w))
                    .collect()
            })
            .collect();
        SparseEase::from_rows(self.lambda as f32, rows, keep)
    }
}

impl SparseEase {
    /// Ranks items by Σ over cart items of their kept weights (evaluation and λ choice).
    pub fn rank(&self, cart: &[u32]) -> Vec<u32> {
        let mut scores = vec![0f32; self.items()];
        for &i in cart {
            for (j, w) in self.row(i) {
                scores[j as usize] += w;
            }
        }
        top_of_scores(&scores, cart)
    }
}

/// The items that occur in a set of baskets, numbered densely: EASE's Gram matrix is n × n, so
/// it is fitted over these (a long-tail catalog's products without orders would only add
/// empty rows) and its rows mapped back to catalog items.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveItems {
    /// Dense index → catalog index.
    items: Vec<u32>,
    /// Catalog index → dense index, `u32::MAX` for an item without orders.
    dense: Vec<u32>,
}

impl ActiveItems {
    /// The items of `baskets` over a catalog of `n` items, in catalog order.
    pub fn of(baskets: &[Vec<u32>], n: usize) -> Self {
        let mut seen = vec![0u32; n];
        baskets.iter().flatten().for_each(|&i| seen[i as usize] = 1);
        Self::with_counts(&seen)
    }

    /// The items whose count (by catalog index) is not 0, in catalog order.
    pub fn with_counts(item_counts: &[u32]) -> Self {
        let items: Vec<u32> = (0..item_counts.len() as u32)
            .filter(|&i| item_counts[i as usize] > 0)
            .collect();
        let mut dense = vec![u32::MAX; item_counts.len()];
        for (k, &i) in items.iter().enumerate() {
            dense[i as usize] = k as u32;
        }
        Self { items, dense }
    }

    /// The items that occur, in catalog indices (dense index order).
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// How many items occur.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item occurs.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `baskets` in dense indices (items outside the set dropped).
    pub fn remap(&self, baskets: &[Vec<u32>]) -> Vec<Vec<u32>> {
        baskets
            .iter()
            .map(|b| {
                b.iter()
                    .map(|&i| self.dense[i as usize])
                    .filter(|&k| k != u32::MAX)
                    .collect()
            })
            .collect()
    }

    /// `counts` in dense indices (pairs of an item outside the set dropped); the mapping keeps
    /// item order, so pair keys stay ascending.
    pub fn remap_counts(&self, counts: &PairCounts) -> PairCounts {
        PairCounts {
            orders: counts.orders,
            item_counts: self
                .items
                .iter()
                .map(|&i| counts.item_counts[i as usize])
                .collect(),
            pairs: counts
                .pairs
                .iter()
                .filter_map(|&(key, c)| {
                    let (a, b) = unpack_pair(key);
                    let (a, b) = (self.dense[a as usize], self.dense[b as usize]);
                    (a != u32::MAX && b != u32::MAX).then(|| (pair_key(a, b), c))
                })
                .collect(),
        }
    }

    /// The table of `ease` (fitted in dense indices) over the whole catalog (see
    /// [`ActiveItems::widen`]), `keep` weights per row.
    pub fn sparsify(&self, ease: &Ease, keep: usize) -> SparseEase {
        self.widen(ease.sparsify(keep))
    }

    /// A table fitted in dense indices over the whole catalog: each active item's row, its
    /// items in catalog indices (the mapping keeps their order, so ties stay broken by item
    /// index) and its int8 codes and scale as they are; an empty row for every other item.
    pub fn widen(&self, dense: SparseEase) -> SparseEase {
        let mut out = SparseEase {
            lambda: dense.lambda,
            offsets: vec![0],
            ..SparseEase::default()
        };
        for &k in &self.dense {
            if k != u32::MAX {
                let range =
                    dense.offsets[k as usize] as usize..dense.offsets[k as usize + 1] as usize;
                out.items.extend(
                    dense.items[range.clone()]
                        .iter()
                        .map(|&j| self.items[j as usize]),
                );
                out.weights.extend_from_slice(&dense.weights[range]);
            }
            out.scales.push(match k {
                u32::MAX => 0.0,
                k => dense.scales[k as usize],
            });
            out.offsets.push(out.items.len() as u32);
        }
        out
    }
}

/// The λ values tried and their scores, as a log line: `λ=10: 0.1713, λ=50: 0.1736, …`.
pub fn describe_tried(tried: &[(f64, f64)]) -> String {
    tried
        .iter()
        .map(|(l, hr)| format!("λ={l}: {hr:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fits EASE on `fit_baskets` for λ up [`LAMBDAS`] (see [`tune_by`]) and keeps the one `score`
/// (a validation HR@10) rates best, earliest on ties; returns it with every tried λ's score.
pub fn tune<T>(
    fit_baskets: &[Vec<u32>],
    n: usize,
    mut score: impl FnMut(&Ease) -> (f64, T),
) -> (f64, T, Vec<(f64, f64)>) {
    tune_by(|lambda| score(&Ease::fit(fit_baskets, n, lambda)))
}

/// Up [`LAMBDAS`], smallest first, `fit` fits a model and scores it (a validation HR@10) until
/// one scores below the best so far: validation HR@10 over the ridge's λ rises to one peak and
/// falls (on The Complete Journey 0.1171, 0.1189, 0.1113, … — stopping there saves half the
/// fits, minutes on a large catalog). Keeps the best, earliest on ties, and returns its λ with
/// every tried λ's score.
pub fn tune_by<T>(mut fit: impl FnMut(f64) -> (f64, T)) -> (f64, T, Vec<(f64, f64)>) {
    let mut best: Option<(f64, f64, T)> = None;
    let mut tried = Vec::new();
    for lambda in LAMBDAS {
        let (hr, kept) = fit(lambda);
        tried.push((lambda, hr));
        match &best {
            Some(b) if hr < b.1 => break,
            Some(b) if hr == b.1 => {}
            _ => best = Some((lambda, hr, kept)),
        }
    }
    let (lambda, _, kept) = best.expect("LAMBDAS is not empty");
    (lambda, kept, tried)
}
