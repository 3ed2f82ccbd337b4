//! The CPU scoring kernel: the reference every other backend must match, and the fallback.

use super::{int8_score, quantize, Hit, ItemTable, Rows, TableError};
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
    table.check_query(query)?;
    let dim = table.dim;
    Ok(match &table.data {
        Rows::F32(values) => values
            .chunks_exact(dim)
            .map(|row| row.iter().zip(query).map(|(a, b)| a * b).sum())
            .collect(),
        Rows::Int8 { values, scales } => {
            let (qs, q) = quantize(query).expect("check_query admits finite values only");
            values
                .chunks_exact(dim)
                .zip(scales)
                .map(|(row, &s)| {
                    let dot: i32 = row
                        .iter()
                        .zip(&q)
                        .map(|(&a, &b)| i32::from(a) * i32::from(b))
                        .sum();
                    int8_score(dot, s, qs)
                })
                .collect()
        }
    })
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
