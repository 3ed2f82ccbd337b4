//! Parallel, memory-bounded counting of items and co-purchased pairs.
//!
//! Every pair in an order becomes a packed `u64` key; keys are produced in parallel for a chunk
//! of orders holding at most `chunk_pairs` pairs, sorted in parallel, run-length counted and
//! merged into the running totals. Memory is therefore bounded by the chunk plus the distinct
//! pairs seen, whatever the order sizes; orders over the item cap are left out entirely and
//! reported (see [`prepare_baskets`]).

use rayon::prelude::*;
use std::collections::HashSet;

/// Default bound on pair keys held at once per chunk (16M keys = 128 MiB).
pub const DEFAULT_CHUNK_PAIRS: usize = 16 << 20;

/// Packs an unordered pair into a key with the smaller index first.
pub fn pair_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (lo as u64) << 32 | hi as u64
}

/// Unpacks a pair key into (smaller, larger) item indices.
pub fn unpack_pair(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// Baskets ready for counting, and how many orders were left out for being too large.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baskets {
    /// Distinct item indices per order, ascending.
    pub baskets: Vec<Vec<u32>>,
    /// Index into the caller's orders for each basket.
    pub source: Vec<usize>,
    /// Orders with more distinct items than the cap (bulk or B2B orders), not counted.
    pub oversized: usize,
}

/// Dedups and sorts each order's items and leaves out orders with more than `max_items`.
///
/// A 200-item order alone would add ~20k pairs that say little about what goes together, so
/// oversized orders are excluded from item, pair, itemset and seasonal counts alike (keeping
/// lift consistent) and counted in [`Baskets::oversized`] for the training summary.
pub fn prepare_baskets<'a>(
    orders: impl IntoIterator<Item = &'a [u32]>,
    max_items: usize,
) -> Baskets {
    let mut out = Baskets::default();
    for (idx, items) in orders.into_iter().enumerate() {
        let mut basket = items.to_vec();
        basket.sort_unstable();
        basket.dedup();
        if basket.is_empty() {
            continue;
        }
        if basket.len() > max_items {
            out.oversized += 1;
            continue;
        }
        out.baskets.push(basket);
        out.source.push(idx);
    }
    out
}

/// Item counts n_i, pair counts c_ij (keys ascending) and the number of orders N.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairCounts {
    pub orders: u32,
    pub item_counts: Vec<u32>,
    pub pairs: Vec<(u64, u32)>,
}

/// Sorts keys in parallel and run-length counts them: `(key, occurrences)` ascending by key.
pub fn count_keys(mut keys: Vec<u64>) -> Vec<(u64, u32)> {
    keys.par_sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::new();
    for key in keys {
        match out.last_mut() {
            Some((k, c)) if *k == key => *c += 1,
            _ => out.push((key, 1)),
        }
    }
    out
}

/// Merges two lists sorted by `key` (each key at most once per list), combining the entries of
/// equal keys with `add`: running totals and a chunk's counts become one sorted list.
fn merge_sorted<T>(
    a: Vec<T>,
    b: Vec<T>,
    key: impl Fn(&T) -> u64,
    add: impl Fn(&mut T, T),
) -> Vec<T> {
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut x, mut y) = (a.into_iter().peekable(), b.into_iter().peekable());
    while let (Some(p), Some(q)) = (x.peek(), y.peek()) {
        match key(p).cmp(&key(q)) {
            std::cmp::Ordering::Equal => {
                let (mut p, q) = (x.next().unwrap(), y.next().unwrap());
                add(&mut p, q);
                out.push(p);
            }
            std::cmp::Ordering::Less => out.extend(x.next()),
            std::cmp::Ordering::Greater => out.extend(y.next()),
        }
    }
    out.extend(x);
    out.extend(y);
    out
}

/// Counts items and pairs over prepared baskets, at most `chunk_pairs` keys in memory at once.
pub fn count_pairs(baskets: &[Vec<u32>], n_items: usize, chunk_pairs: usize) -> PairCounts {
    let mut item_counts = vec![0u32; n_items];
    for basket in baskets {
        for &i in basket {
            item_counts[i as usize] += 1;
        }
    }
    let mut totals: Vec<(u64, u32)> = Vec::new();
    let mut start = 0;
    while start < baskets.len() {
        let mut end = start;
        let mut budget = 0usize;
        while end < baskets.len()
            && (end == start || budget + pairs_in(&baskets[end]) <= chunk_pairs)
        {
            budget += pairs_in(&baskets[end]);
            end += 1;
        }
        let keys: Vec<u64> = baskets[start..end]
            .par_iter()
            .flat_map_iter(|b| {
                b.iter()
                    .enumerate()
                    .flat_map(move |(x, &i)| b[x + 1..].iter().map(move |&j| pair_key(i, j)))
            })
            .collect();
        totals = merge_sorted(totals, count_keys(keys), |p| p.0, |p, q| p.1 += q.1);
        start = end;
    }
    PairCounts {
        orders: baskets.len() as u32,
        item_counts,
        pairs: totals,
    }
}

/// Counts the keys `keys` emits per basket over baskets grouped by buyer (`buyers[b]` is
/// `baskets[b]`'s): `(key, baskets, distinct buyers)` ascending by key. A buyer's baskets are
/// counted together, so a key they bought ten times counts ten baskets and one buyer; chunks
/// of buyers whose estimated keys (`size` per basket) stay within `chunk_keys` are counted at
/// a time and merged, as [`count_pairs`] does.
pub fn count_keys_by_buyer(
    baskets: &[Vec<u32>],
    buyers: &[u32],
    chunk_keys: usize,
    size: impl Fn(&[u32]) -> usize,
    keys: impl Fn(&[u32], &mut Vec<u64>) + Sync,
) -> Vec<(u64, u32, u32)> {
    let mut by_buyer: Vec<usize> = (0..baskets.len()).collect();
    by_buyer.sort_by_key(|&b| (buyers[b], b));
    let groups: Vec<&[usize]> = by_buyer.chunk_by(|&a, &b| buyers[a] == buyers[b]).collect();
    let mut totals: Vec<(u64, u32, u32)> = Vec::new();
    let mut start = 0;
    while start < groups.len() {
        let (mut end, mut budget) = (start, 0usize);
        while end < groups.len() {
            let cost: usize = groups[end].iter().map(|&b| size(&baskets[b])).sum();
            if end > start && budget + cost > chunk_keys {
                break;
            }
            budget += cost;
            end += 1;
        }
        let mut counted: Vec<(u64, u32, u32)> = groups[start..end]
            .par_iter()
            .flat_map_iter(|group| {
                let mut own = Vec::new();
                for &b in group.iter() {
                    keys(&baskets[b], &mut own);
                }
                count_keys(own).into_iter().map(|(k, c)| (k, c, 1))
            })
            .collect();
        counted.par_sort_unstable_by_key(|&(k, _, _)| k);
        let mut chunk: Vec<(u64, u32, u32)> = Vec::with_capacity(counted.len());
        for (k, c, n) in counted {
            match chunk.last_mut() {
                Some((key, count, buyers)) if *key == k => {
                    *count += c;
                    *buyers += n;
                }
                _ => chunk.push((k, c, n)),
            }
        }
        totals = merge_sorted(
            totals,
            chunk,
            |t| t.0,
            |t, u| {
                t.1 += u.1;
                t.2 += u.2;
            },
        );
        start = end;
    }
    totals
}

/// Pair keys of a basket (distinct items, ascending), for [`count_keys_by_buyer`].
pub fn basket_pairs(basket: &[u32], out: &mut Vec<u64>) {
    for (x, &i) in basket.iter().enumerate() {
        out.extend(basket[x + 1..].iter().map(|&j| pair_key(i, j)));
    }
}

/// Upper bound on a basket's pair keys, for [`count_keys_by_buyer`]'s chunking.
pub fn pairs_in(basket: &[u32]) -> usize {
    basket.len() * basket.len().saturating_sub(1) / 2
}

/// A set of unordered pairs, for itemset mining.
#[derive(Debug, Clone, Default)]
pub struct PairSet(HashSet<u64>);

impl PairSet {
    /// The pairs counted at least `min_count` times.
    pub fn frequent(counts: &PairCounts, min_count: u32) -> Self {
        Self(
            counts
                .pairs
                .iter()
                .filter(|&&(_, c)| c >= min_count)
                .map(|&(k, _)| k)
                .collect(),
        )
    }

    /// Whether the unordered pair is in the set.
    pub fn contains(&self, a: u32, b: u32) -> bool {
        self.0.contains(&pair_key(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_does_not_change_counts() {
        let baskets: Vec<Vec<u32>> = (0..200u32)
            .map(|o| (0..(o % 7 + 1)).map(|k| (o * 3 + k * 5) % 17).collect())
            .map(|mut b: Vec<u32>| {
                b.sort_unstable();
                b.dedup();
                b
            })
            .collect();
        let whole = count_pairs(&baskets, 17, usize::MAX);
        let tiny = count_pairs(&baskets, 17, 3);
        assert_eq!(whole, tiny);
    }

    #[test]
    fn oversized_orders_are_reported_not_counted() {
        let big: Vec<u32> = (0..300).collect();
        let small = vec![1u32, 2, 2];
        let b = prepare_baskets([big.as_slice(), small.as_slice(), &[][..]], 100);
        assert_eq!(b.oversized, 1);
        assert_eq!(b.baskets, vec![vec![1, 2]]);
        assert_eq!(b.source, vec![1]);
    }
}
