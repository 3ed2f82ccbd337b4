//! Evaluation baselines fitted on training orders: item-kNN (cosine) and EASE (closed form).

use crate::assoc::count::{count_pairs, prepare_baskets, unpack_pair, DEFAULT_CHUNK_PAIRS};
use crate::eval::{measure, top_of_scores, Method, TestCart};
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

/// Neighbours kept per item by item-kNN.
pub const KNN_NEIGHBOURS: usize = 100;
/// Largest catalog EASE is fitted for: its dense n × n solve needs 8·n² bytes.
pub const EASE_MAX_ITEMS: usize = 20_000;
/// λ values tried for EASE on the validation slice.
pub const EASE_LAMBDAS: [f64; 6] = [10.0, 50.0, 200.0, 500.0, 1_000.0, 3_000.0];

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
        let counts = count_pairs(baskets, n, DEFAULT_CHUNK_PAIRS);
        let mut gram = Mat::<f64>::zeros(n, n);
        for (i, &c) in counts.item_counts.iter().enumerate() {
            gram[(i, i)] = c as f64 + lambda;
        }
        for &(key, c) in &counts.pairs {
            let (a, b) = unpack_pair(key);
            gram[(a as usize, b as usize)] = c as f64;
            gram[(b as usize, a as usize)] = c as f64;
        }
        let p = gram
            .llt(Side::Lower)
            .expect("XᵀX + λI is positive definite for λ > 0")
            .inverse();
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
        let mut scores = vec![0f32; self.n];
        for &i in cart {
            let row = &self.weights[i as usize * self.n..(i as usize + 1) * self.n];
            scores.iter_mut().zip(row).for_each(|(s, w)| *s += w);
        }
        top_of_scores(&scores, cart)
    }

    /// Serving size of the dense f32 matrix.
    pub fn size_bytes(&self) -> u64 {
        (self.n * self.n * 4) as u64
    }
}

/// Picks EASE's λ by HR@10 on `validation` carts, fitting on `fit_baskets`; returns (λ, HR@10) per λ.
pub fn tune_ease(
    fit_baskets: &[Vec<u32>],
    n: usize,
    validation: &[TestCart],
) -> (f64, Vec<(f64, f64)>) {
    let tried: Vec<(f64, f64)> = EASE_LAMBDAS
        .iter()
        .map(|&lambda| {
            let ease = Ease::fit(fit_baskets, n, lambda);
            let method = Method {
                name: "EASE".into(),
                size_bytes: 0,
                rank: Box::new(|t: &TestCart| ease.rank(&t.cart)),
            };
            (lambda, measure(&method, validation).hr10)
        })
        .collect();
    let best = tried
        .iter()
        .fold((EASE_LAMBDAS[0], f64::MIN), |best, &(l, hr)| {
            if hr > best.1 {
                (l, hr)
            } else {
                best
            }
        });
    (best.0, tried)
}

/// Distinct-item baskets of orders, with the same bulk-order cap as training.
pub fn baskets_of(orders: &[crate::ingest::Order], max_order_items: usize) -> Vec<Vec<u32>> {
    prepare_baskets(orders.iter().map(|o| o.items.as_slice()), max_order_items).baskets
}
