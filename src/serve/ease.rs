//! Sparse EASE: the item-to-item regression weights of EASE (Steck, 2019), pruned to each item's
//! strongest weights and stored in int8 with a per-row scale, so the learned item-item model
//! ships in the export at a few bytes per kept weight instead of a dense n × n matrix.
//!
//! EASE predicts item j from the cart as Σ_{i ∈ cart} B_ij. Its weights are partial
//! regression coefficients: unlike co-occurrence or lift they discount evidence that another
//! cart item already explains, and negative weights mark substitutes. Fitting (a dense solve,
//! native only) lives in `train::ease`; both builds read and score the sparse table.

use crate::serve::quant::quantize;

/// Weights kept per item (by absolute value): on Complete Journey the pruned model keeps
/// HR@10 0.184 of the dense model's 0.189 at 32, 0.186 at 64.
pub const KEEP: usize = 32;

/// Each item's strongest EASE weights `i → j`, int8 with one scale per row, in CSR form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseEase {
    /// The L2 weight the model was fitted with (informational).
    pub lambda: f32,
    /// Row `i` is `items[offsets[i]..offsets[i + 1]]`; length items + 1.
    pub offsets: Vec<u32>,
    /// Predicted item of each kept weight; rows by |weight| descending, ties by item index.
    pub items: Vec<u32>,
    /// Quantized weight: the weight is `q × scales[row]`.
    pub weights: Vec<i8>,
    /// Per-row scale: the row's largest |weight| / 127.
    pub scales: Vec<f32>,
}

impl SparseEase {
    /// Number of items the table covers.
    pub fn items(&self) -> usize {
        self.scales.len()
    }

    /// Item `i`'s kept weights as `(j, B_ij)`, strongest first.
    pub fn row(&self, i: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let i = i as usize;
        let range = self.offsets[i] as usize..self.offsets[i + 1] as usize;
        let scale = self.scales[i];
        self.items[range.clone()]
            .iter()
            .zip(&self.weights[range])
            .map(move |(&j, &q)| (j, q as f32 * scale))
    }

    /// Builds the table from rows of `(j, weight)`, keeping the `keep` largest |weight| per row
    /// (ties by item index) and quantizing each row symmetrically to int8.
    pub fn from_rows(lambda: f32, rows: Vec<Vec<(u32, f32)>>, keep: usize) -> Self {
        let mut out = Self {
            lambda,
            offsets: vec![0],
            ..Self::default()
        };
        for mut row in rows {
            row.retain(|&(_, w)| w != 0.0 && w.is_finite());
            row.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            row.truncate(keep);
            let weights: Vec<f32> = row.iter().map(|&(_, w)| w).collect();
            let (scale, codes) = quantize(&weights).expect("non-finite weights were dropped");
            out.items.extend(row.iter().map(|&(j, _)| j));
            out.weights.extend(codes);
            out.scales.push(scale);
            out.offsets.push(out.items.len() as u32);
        }
        out
    }

    /// Serving size: item index and int8 weight per kept weight, plus offsets and scales.
    pub fn size_bytes(&self) -> u64 {
        (self.items.len() * 5 + self.offsets.len() * 4 + self.scales.len() * 4) as u64
    }

    /// Checks the CSR invariants and that the table covers `n` items.
    pub fn validate(&self, n: usize) -> Result<(), String> {
        if self.scales.len() != n || self.offsets.len() != n + 1 {
            return Err(format!(
                "{} scales and {} offsets for {n} items",
                self.scales.len(),
                self.offsets.len()
            ));
        }
        if self.offsets[0] != 0
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.offsets[n] as usize != self.items.len()
            || self.items.len() != self.weights.len()
        {
            return Err("row offsets do not span the weights".into());
        }
        if let Some(&j) = self.items.iter().find(|&&j| j as usize >= n) {
            return Err(format!("weight names item {j}, out of range ({n} items)"));
        }
        if let Some(s) = self.scales.iter().find(|s| !s.is_finite() || **s < 0.0) {
            return Err(format!("row scale {s} is not a finite non-negative number"));
        }
        if !self.lambda.is_finite() {
            return Err(format!("lambda {} is not finite", self.lambda));
        }
        Ok(())
    }
}
