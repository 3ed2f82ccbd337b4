//! EASE past the dense limit: each item's weights fitted over its co-purchase neighbourhood.
//!
//! EASE's column j (the weights that predict item j) is a ridge regression of j's baskets on
//! every other item's: b = (G₋ⱼ₋ⱼ + λI)⁻¹ G₋ⱼⱼ, G = XᵀX. The dense closed form solves that for
//! all columns at once in O(n³) time and O(n²) memory, which stops at ~20,000 items. Here each
//! column is regressed on only the `neighbours` items bought with j most often — the feature
//! selection of fsSLIM (Ning & Karypis, 2011) applied to EASE's closed form — so a column costs
//! one small Cholesky solve, the whole fit O(n · m³) with m the neighbourhood, and the Gram
//! entries come from the pair counts alone (items never bought with j get no weight, which the
//! export's top-32 rows would mostly drop anyway). With the neighbourhood holding every item
//! bought with j it is exact for j's co-purchased items up to their correlations with the rest.

use crate::serve::ease::SparseEase;
use crate::train::assoc::count::{unpack_pair, PairCounts};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rayon::prelude::*;

/// Default neighbourhood size: items each column is regressed on.
pub const NEIGHBOURS: usize = 256;

/// Pair counts as per-item lists of `(other item, baskets together)`, sorted by item.
struct Adjacency {
    offsets: Vec<usize>,
    entries: Vec<(u32, u32)>,
}

impl Adjacency {
    fn new(counts: &PairCounts) -> Self {
        let n = counts.item_counts.len();
        let mut degree = vec![0usize; n + 1];
        for &(key, _) in &counts.pairs {
            let (a, b) = unpack_pair(key);
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        for i in 0..n {
            degree[i + 1] += degree[i];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut entries = vec![(0u32, 0u32); offsets[n]];
        for &(key, c) in &counts.pairs {
            let (a, b) = unpack_pair(key);
            entries[fill[a as usize]] = (b, c);
            fill[a as usize] += 1;
            entries[fill[b as usize]] = (a, c);
            fill[b as usize] += 1;
        }
        // A row's larger partners arrive in order, its smaller ones interleaved with them.
        for i in 0..n {
            entries[offsets[i]..offsets[i + 1]].sort_unstable();
        }
        Self { offsets, entries }
    }

    fn row(&self, i: u32) -> &[(u32, u32)] {
        &self.entries[self.offsets[i as usize]..self.offsets[i as usize + 1]]
    }

    /// Baskets holding both `a` and `b` (0 if never together).
    fn together(&self, a: u32, b: u32) -> u32 {
        let row = self.row(a);
        row.binary_search_by_key(&b, |&(j, _)| j)
            .map_or(0, |at| row[at].1)
    }
}

/// Fits the neighbourhood-restricted EASE over the items of `counts` (indices as in `counts`),
/// L2 weight `lambda`, each column on its `neighbours` most co-purchased items, and keeps each
/// row's `keep` strongest weights as the export's int8 table.
pub fn fit(counts: &PairCounts, lambda: f64, neighbours: usize, keep: usize) -> SparseEase {
    let n = counts.item_counts.len();
    let adjacency = Adjacency::new(counts);
    // Column j: (predicting item i, B_ij) for i in j's neighbourhood.
    let columns: Vec<Vec<(u32, f32)>> = (0..n as u32)
        .into_par_iter()
        .map(|j| column(&adjacency, &counts.item_counts, j, lambda, neighbours))
        .collect();
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for (j, column) in columns.into_iter().enumerate() {
        for (i, w) in column {
            rows[i as usize].push((j as u32, w));
        }
    }
    SparseEase::from_rows(lambda as f32, rows, keep)
}

/// One column of B: item `j` regressed on its neighbourhood.
fn column(
    adjacency: &Adjacency,
    item_counts: &[u32],
    j: u32,
    lambda: f64,
    neighbours: usize,
) -> Vec<(u32, f32)> {
    let mut near: Vec<(u32, u32)> = adjacency.row(j).to_vec();
    if near.is_empty() {
        return Vec::new();
    }
    if near.len() > neighbours {
        near.select_nth_unstable_by(neighbours - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        near.truncate(neighbours);
        near.sort_unstable();
    }
    let m = near.len();
    let mut gram = Mat::<f64>::zeros(m, m);
    for x in 0..m {
        let a = near[x].0;
        gram[(x, x)] = item_counts[a as usize] as f64 + lambda;
        for y in x + 1..m {
            let c = adjacency.together(a, near[y].0) as f64;
            gram[(x, y)] = c;
            gram[(y, x)] = c;
        }
    }
    let rhs = Mat::<f64>::from_fn(m, 1, |x, _| near[x].1 as f64);
    let Ok(factor) = gram.llt(Side::Lower) else {
        // G + λI is positive definite for λ > 0; a failure means λ ≤ 0 or non-finite input.
        return Vec::new();
    };
    let b = factor.solve(&rhs);
    near.iter()
        .enumerate()
        .map(|(x, &(i, _))| (i, b[(x, 0)] as f32))
        .filter(|&(_, w)| w != 0.0)
        .collect()
}
