//! The CPU scoring kernel: the reference every other backend must match, and the fallback.

use super::pq::pq_score;
use super::{int8_score, Hit, ItemTable, Rows, TableError};
use crate::serve::quant::quantize_query;
use std::cmp::Ordering;

/// The ranking order of [`Hit::before`] as an `Ordering` (best first).
pub fn rank_order(a: &Hit, b: &Hit) -> Ordering {
    if a.before(b) {
        Ordering::Less
    } else if b.before(a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Every row's score against `query`, in row order.
pub fn scores(table: &ItemTable, query: &[f32]) -> Result<Vec<f32>, TableError> {
    let score = row_scorer(table, query)?;
    // The row kind is chosen once for the whole walk, so the loop over a big catalog is the
    // kind's own (the same arithmetic as `RowScorer::score`).
    Ok(match (&table.data, &score.quantized) {
        (Rows::Pq(pq), Some((scale, lookup))) => pq
            .codes
            .chunks_exact(pq.codebook.subspaces)
            .map(|codes| pq_score(lookup, *scale, codes))
            .collect(),
        (Rows::Int8 { values, scales }, Some((qs, q))) => values
            .chunks_exact(table.dim)
            .zip(scales)
            .map(|(row, &s)| int8_score(dot_i8_i16(row, q), s, *qs))
            .collect(),
        _ => (0..table.rows).map(|r| score.score(r)).collect(),
    })
}

/// The scores of the listed rows against `query`, in the listed order: the same numbers
/// [`top_k`] (and the GPU kernel) give those rows.
pub fn scores_of(table: &ItemTable, query: &[f32], rows: &[u32]) -> Result<Vec<f32>, TableError> {
    let score = row_scorer(table, query)?;
    rows.iter()
        .map(|&r| match r as usize {
            r if r < table.rows => Ok(score.score(r)),
            _ => Err(TableError::Row {
                row: r as usize,
                rows: table.rows,
            }),
        })
        .collect()
}

/// Scores rows (by index) against one query, quantized once for an int8 table (the int16
/// query) or a product-quantized one (the int16 lookup table), with that quantization's scale.
struct RowScorer<'a> {
    table: &'a ItemTable,
    query: &'a [f32],
    quantized: Option<(f32, Vec<i16>)>,
}

impl RowScorer<'_> {
    #[inline]
    fn score(&self, r: usize) -> f32 {
        let dim = self.table.dim;
        match (&self.table.data, &self.quantized) {
            (Rows::Int8 { values, scales }, Some((qs, q))) => {
                int8_score(dot_i8_i16(&values[r * dim..][..dim], q), scales[r], *qs)
            }
            (Rows::Pq(pq), Some((scale, lookup))) => pq_score(lookup, *scale, pq.row(r)),
            (Rows::F32(values), _) => values[r * dim..][..dim]
                .iter()
                .zip(self.query)
                .map(|(a, b)| a * b)
                .sum(),
            (_, None) => unreachable!("a quantized table's scorer quantizes its query"),
        }
    }
}

fn row_scorer<'a>(table: &'a ItemTable, query: &'a [f32]) -> Result<RowScorer<'a>, TableError> {
    table.check_query(query)?;
    const FINITE: &str = "check_query admits finite values only";
    let quantized = match &table.data {
        Rows::Int8 { .. } => Some(quantize_query(query).expect(FINITE)),
        Rows::Pq(pq) => Some(pq.codebook.lookup(query).expect(FINITE)),
        Rows::F32(_) => None,
    };
    Ok(RowScorer {
        table,
        query,
        quantized,
    })
}

/// The exact integer dot product of an int8 row and an int16 query.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn dot_i8_i16(a: &[i8], b: &[i16]) -> i32 {
    // Natively the compiler vectorizes this loop by itself.
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// The exact integer dot product of an int8 row and an int16 query, 16 values at a time with
/// wasm simd128: the row's bytes widen to i16 lanes and `i32x4.dot_i16x8_s` sums products
/// pairwise into i32, exact (|2 × 127 × 32767| < 2^31).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn dot_i8_i16(a: &[i8], b: &[i16]) -> i32 {
    use core::arch::wasm32::*;
    let n = a.len().min(b.len());
    let mut acc = i32x4_splat(0);
    for i in (0..n - n % 16).step_by(16) {
        // SAFETY: i + 16 <= n <= both lengths; v128_load reads 16 unaligned bytes, so 16 i8 of
        // `a` and twice 8 i16 of `b`.
        let (x, y0, y1) = unsafe {
            (
                v128_load(a.as_ptr().add(i).cast()),
                v128_load(b.as_ptr().add(i).cast()),
                v128_load(b.as_ptr().add(i + 8).cast()),
            )
        };
        acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_low_i8x16(x), y0));
        acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_high_i8x16(x), y1));
    }
    let tail = n - n % 16;
    i32x4_extract_lane::<0>(acc)
        + i32x4_extract_lane::<1>(acc)
        + i32x4_extract_lane::<2>(acc)
        + i32x4_extract_lane::<3>(acc)
        + a[tail..n]
            .iter()
            .zip(&b[tail..n])
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum::<i32>()
}

/// The `k` best rows for `query`, best first, ties by row index.
pub fn top_k(table: &ItemTable, query: &[f32], k: usize) -> Result<Vec<Hit>, TableError> {
    let mut hits: Vec<Hit> = scores(table, query)?
        .into_iter()
        .enumerate()
        .map(|(i, score)| Hit {
            item: i as u32,
            score,
        })
        .collect();
    if k < hits.len() {
        hits.select_nth_unstable_by(k, rank_order);
        hits.truncate(k);
    }
    hits.sort_by(rank_order);
    Ok(hits)
}
