//! Product quantization (Jégou, Douze, Schmid 2011; FAISS's `IndexPQ`): a row is stored as one
//! byte per subspace — the index of its nearest of 256 centroids in that slice of the
//! dimensions — and a query scores rows through a lookup table of its dot products with every
//! centroid. Both backends score the same way: the table quantized to int16 with one scale,
//! a row's entries summed exactly in i32, one rounding by the scale.
//!
//! The centroids are learned natively (`train::pq`); this module only encodes, decodes and
//! scores, so both builds read the same rows the same way.

use super::TableError;
use crate::serve::quant::quantize_query;

/// Centroids per subspace: a row's code for a subspace is one byte.
pub const CENTROIDS: usize = 256;

/// The centroids of every subspace: `subspaces` slices of `dim / subspaces` dimensions each.
#[derive(Debug, Clone, PartialEq)]
pub struct Codebook {
    pub dim: usize,
    pub subspaces: usize,
    /// Row-major [subspaces][CENTROIDS][dim / subspaces].
    pub centroids: Vec<f32>,
}

impl Codebook {
    /// Checks the shape (`subspaces` a multiple of 4 dividing `dim`, so codes pack into whole
    /// words for the GPU) and that every centroid is finite.
    pub fn new(dim: usize, subspaces: usize, centroids: Vec<f32>) -> Result<Self, TableError> {
        if subspaces == 0 || !subspaces.is_multiple_of(4) || !dim.is_multiple_of(subspaces) {
            return Err(TableError::Subspaces { dim, subspaces });
        }
        if centroids.len() != dim * CENTROIDS {
            return Err(TableError::Shape {
                values: centroids.len(),
                rows: CENTROIDS,
                dim,
            });
        }
        if let Some(i) = centroids.iter().position(|v| !v.is_finite()) {
            return Err(TableError::NotFinite {
                row: i / (dim / subspaces) % CENTROIDS,
            });
        }
        Ok(Self {
            dim,
            subspaces,
            centroids,
        })
    }

    /// Dimensions per subspace.
    pub fn width(&self) -> usize {
        self.dim / self.subspaces
    }

    /// Centroid `c` of subspace `m`.
    pub fn centroid(&self, m: usize, c: usize) -> &[f32] {
        let w = self.width();
        &self.centroids[(m * CENTROIDS + c) * w..][..w]
    }

    /// A row's codes: per subspace, its [`nearest`] centroid.
    pub fn encode(&self, row: &[f32]) -> Vec<u8> {
        let w = self.width();
        (0..self.subspaces)
            .map(|m| {
                let centroids = &self.centroids[m * CENTROIDS * w..][..CENTROIDS * w];
                nearest(centroids, &row[m * w..][..w]) as u8
            })
            .collect()
    }

    /// The row a code stands for: its centroids side by side.
    pub fn decode(&self, codes: &[u8]) -> Vec<f32> {
        codes
            .iter()
            .enumerate()
            .flat_map(|(m, &c)| self.centroid(m, c as usize).iter().copied())
            .collect()
    }

    /// A query's lookup table as both backends score with it: entry `m × 256 + c` is the dot
    /// product of the query's subspace `m` with centroid `c`, quantized to int16 with one
    /// scale. `None` if the query is not finite.
    pub fn lookup(&self, query: &[f32]) -> Option<(f32, Vec<i16>)> {
        let w = self.width();
        let table: Vec<f32> = (0..self.subspaces)
            .flat_map(|m| {
                let part = &query[m * w..][..w];
                (0..CENTROIDS).map(move |c| {
                    self.centroid(m, c)
                        .iter()
                        .zip(part)
                        .map(|(a, b)| a * b)
                        .sum::<f32>()
                })
            })
            .collect();
        quantize_query(&table)
    }
}

/// The index of the centroid (of `centroids`, each `x.len()` values) nearest `x` by squared
/// distance; ties go to the lower index. What encoding and k-means assign a row to.
pub fn nearest(centroids: &[f32], x: &[f32]) -> usize {
    centroids
        .chunks_exact(x.len())
        .map(|c| c.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f32>())
        .enumerate()
        .fold(
            (0, f32::INFINITY),
            |best, (k, d)| if d < best.1 { (k, d) } else { best },
        )
        .0
}

/// Rows stored as product-quantization codes, `subspaces` bytes each.
#[derive(Debug, Clone, PartialEq)]
pub struct PqRows {
    pub codebook: Codebook,
    /// Row-major [rows][subspaces].
    pub codes: Vec<u8>,
}

impl PqRows {
    /// Rows held.
    pub fn rows(&self) -> usize {
        self.codes.len() / self.codebook.subspaces
    }

    /// Row `r`'s codes, a byte per subspace.
    pub fn row(&self, r: usize) -> &[u8] {
        let m = self.codebook.subspaces;
        &self.codes[r * m..][..m]
    }

    /// Row `r` as its centroids, the vector the codes stand for.
    pub fn decoded(&self, r: usize) -> Vec<f32> {
        self.codebook.decode(self.row(r))
    }
}

/// A row's score from its codes and a query's [`Codebook::lookup`]: the entries summed
/// exactly (|sum| ≤ subspaces × 32767 < 2^31), then one rounding by the table's scale.
#[inline]
pub fn pq_score(lookup: &[i16], scale: f32, codes: &[u8]) -> f32 {
    // Subspace m's entries as a 256-array, so a code byte indexes it without a bounds check:
    // this sum is the whole cost of ranking a big catalog.
    let (tables, _) = lookup.as_chunks::<CENTROIDS>();
    let sum: i32 = codes
        .iter()
        .zip(tables)
        .map(|(&c, t)| i32::from(t[c as usize]))
        .sum();
    sum as f32 * scale
}
