//! Turns pair counts into the per-item top-K neighbour table.

use super::count::{unpack_pair, PairCounts};
use crate::serve::assoc::{AssocTable, Neighbor, PairStats};
use rayon::prelude::*;

/// How many neighbours each row keeps and which pairs qualify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssocConfig {
    /// Pairs seen in fewer orders are ignored.
    pub min_pair_count: u32,
    /// Neighbours kept per item by ranking score.
    pub top_k_score: usize,
    /// Neighbours kept per item by raw co-occurrence count (for the co-occurrence baseline).
    pub top_k_count: usize,
}

impl Default for AssocConfig {
    fn default() -> Self {
        Self {
            min_pair_count: 2,
            top_k_score: 40,
            top_k_count: 20,
        }
    }
}

/// Keeps, per item, the top neighbours by score (score > 0) then any of the top by count not
/// already kept; ties always break by item index so the table is reproducible.
pub fn build_table(counts: &PairCounts, config: &AssocConfig) -> AssocTable {
    let n = counts.item_counts.len();
    let mut adjacency: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for &(key, c) in &counts.pairs {
        if c < config.min_pair_count {
            continue;
        }
        let (a, b) = unpack_pair(key);
        adjacency[a as usize].push((b, c));
        adjacency[b as usize].push((a, c));
    }
    let rows: Vec<Vec<Neighbor>> = adjacency
        .into_par_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut scored: Vec<Neighbor> = row
                .iter()
                .map(|&(j, c)| Neighbor {
                    item: j,
                    count: c,
                    score: PairStats::from_counts(
                        counts.orders,
                        counts.item_counts[i],
                        counts.item_counts[j as usize],
                        c,
                    )
                    .score(),
                })
                .collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
            let keep = scored
                .iter()
                .take(config.top_k_score)
                .take_while(|nb| nb.score > 0.0)
                .count();
            let kept = &scored[..keep];
            let mut top_count = scored.clone();
            top_count.sort_by(|a, b| b.count.cmp(&a.count).then(a.item.cmp(&b.item)));
            top_count.truncate(config.top_k_count);
            let mut out = kept.to_vec();
            out.extend(
                top_count
                    .into_iter()
                    .filter(|nb| !kept.iter().any(|k| k.item == nb.item)),
            );
            out
        })
        .collect();
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0u32);
    let mut neighbors = Vec::new();
    for row in rows {
        neighbors.extend(row);
        offsets.push(neighbors.len() as u32);
    }
    AssocTable {
        orders: counts.orders,
        item_counts: counts.item_counts.clone(),
        offsets,
        neighbors,
    }
}
