//! The one validation protocol: how orders split by time, which carts are held out (one seeded
//! hidden item per order, or every item in turn), and how a ranking is scored (HR@10, NDCG@10,
//! MRR with ties broken by item index). Fitting (EASE's λ, early stopping, the blend), `eval`
//! and the cold-start measurement all use it, so their figures are comparable.

use crate::train::assoc::count::prepare_baskets;
use crate::train::error::{At, FileError};
use crate::train::history::{customer_histories, CART_HISTORY};
use crate::train::ingest::{parse_timestamp, Order, OrderLog};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Ranking depth for MRR; HR and NDCG are at 10.
pub const RANK_DEPTH: usize = 100;

/// Hit rate, NDCG and reciprocal rank, averaged over carts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    #[serde(rename = "hr@10")]
    pub hr10: f64,
    #[serde(rename = "ndcg@10")]
    pub ndcg10: f64,
    /// Mean reciprocal rank within the top [`RANK_DEPTH`] (0 beyond it).
    pub mrr: f64,
}

/// A held-out cart: the visible items, the hidden one, and the order's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCart {
    pub cart: Vec<u32>,
    pub hidden: u32,
    pub month: Option<u8>,
    /// The shopper's earlier items, most recent first (see [`crate::train::history`]); empty when
    /// unknown.
    pub history: Vec<u32>,
}

/// Picks one hidden item per order with ≥ 2 distinct items, seeded.
pub fn test_carts(log: &OrderLog, seed: u64) -> Vec<TestCart> {
    sourced_test_carts(log.orders.iter(), seed)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// [`test_carts`] with each shopper's history: the distinct items of the customer's orders
/// before the test order, in `earlier` (the training orders) and `log` alike, most recent
/// first, at most [`CART_HISTORY`].
pub fn test_carts_with_history(log: &OrderLog, earlier: &OrderLog, seed: u64) -> Vec<TestCart> {
    let orders: Vec<&Order> = earlier.orders.iter().chain(&log.orders).collect();
    let histories = customer_histories(&orders, CART_HISTORY);
    let offset = earlier.orders.len();
    sourced_test_carts(log.orders.iter(), seed)
        .into_iter()
        .map(|(i, t)| TestCart {
            history: histories[offset + i].clone(),
            ..t
        })
        .collect()
}

/// [`test_carts`] of `orders`, each with the position of the order it came from.
fn sourced_test_carts<'a>(
    orders: impl Iterator<Item = &'a Order>,
    seed: u64,
) -> Vec<(usize, TestCart)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    orders
        .enumerate()
        .filter_map(|(source, o)| {
            let mut items = Vec::new();
            for &i in &o.items {
                if !items.contains(&i) {
                    items.push(i);
                }
            }
            if items.len() < 2 {
                return None;
            }
            let hidden = items.remove(rng.random_range(0..items.len()));
            Some((
                source,
                TestCart {
                    cart: items,
                    hidden,
                    month: o.month(),
                    history: Vec::new(),
                },
            ))
        })
        .collect()
}

/// Every leave-one-out cart of each held-out order: the order's items (cart and hidden) with
/// each in turn hidden. The blend fit uses these so its few weights see several hidden items
/// per order rather than one, which steadies a step-shaped objective on small validation sets.
pub fn leave_one_out(carts: &[TestCart]) -> Vec<TestCart> {
    carts
        .iter()
        .flat_map(|t| {
            let mut items = t.cart.clone();
            items.push(t.hidden);
            (0..items.len()).map(move |h| {
                let mut cart = items.clone();
                let hidden = cart.remove(h);
                TestCart {
                    cart,
                    hidden,
                    month: t.month,
                    history: t.history.clone(),
                }
            })
        })
        .collect()
}

/// At most this many carts choose EASE's λ and fit the blend. Each holds a few hundred
/// candidates while the blend is fitted, and the blend weighs each with the model twice (with
/// the shopper's history and without): on all of Complete Journey 100,000 carts took 226 s of a
/// 5-minute budget. A dozen weights and one λ are steady on far fewer.
pub const MAX_TUNING_CARTS: usize = 20_000;

/// The carts whose shopper has earlier orders (a history), in order: where the history terms
/// and personalized EASE are measured.
pub fn carts_with_history(carts: &[TestCart]) -> Vec<TestCart> {
    carts
        .iter()
        .filter(|t| !t.history.is_empty())
        .cloned()
        .collect()
}

/// The carts that tune what is chosen on validation orders (EASE's λ for the shipped table and
/// the baseline alike, the blend's weights): every leave-one-out cart, or [`MAX_TUNING_CARTS`]
/// of them evenly spaced when there are more, so that the whole validation period counts (the
/// carts are in time order; its first carts alone would leave out the weeks nearest the shop's
/// future). On Complete Journey one hidden item per order chose λ = 200 for the pruned table and
/// leave-one-out λ = 50, which scores better on the test carts.
pub fn tuning_carts(validation: &[TestCart]) -> Vec<TestCart> {
    let carts = leave_one_out(validation);
    if carts.len() <= MAX_TUNING_CARTS {
        return carts;
    }
    (0..MAX_TUNING_CARTS)
        .map(|k| carts[k * carts.len() / MAX_TUNING_CARTS].clone())
        .collect()
}

/// What the validation protocol fits on and checks against.
pub struct Validation<'a> {
    /// All but the latest tenth of orders by time: what `baskets` came from.
    pub fit_orders: Vec<&'a Order>,
    /// Baskets of all but the latest tenth of orders by time (see `prepare_baskets`).
    pub baskets: Vec<Vec<u32>>,
    /// Each basket's shopper history, at most `max_history` items (empty without it).
    pub histories: Vec<Vec<u32>>,
    /// Seeded test carts from the latest tenth, with their shoppers' histories (at most
    /// `max(max_history, CART_HISTORY)` items).
    pub carts: Vec<TestCart>,
}

/// Share of the latest orders that validation holds out of fitting.
pub const VALIDATION_SHARE: f64 = 0.1;

/// The validation protocol shared by early stopping and λ tuning: all but the latest tenth of
/// orders by time (untimed orders count as earliest) to fit on, seeded test carts from the
/// latest tenth, and each one's shopper history (baskets' only with `max_history`).
pub fn validation_split(
    log: &OrderLog,
    max_order_items: usize,
    max_history: usize,
    seed: u64,
) -> Validation<'_> {
    let mut orders: Vec<&Order> = log.orders.iter().collect();
    orders.sort_by_key(|o| o.time);
    let cut = time_cut(orders.len(), VALIDATION_SHARE);
    let histories = customer_histories(&orders, max_history.max(CART_HISTORY));
    let fit = prepare_baskets(
        orders[..cut].iter().map(|o| o.items.as_slice()),
        max_order_items,
    );
    let carts = sourced_test_carts(orders[cut..].iter().copied(), seed)
        .into_iter()
        .map(|(i, t)| TestCart {
            history: histories[cut + i].clone(),
            ..t
        })
        .collect();
    Validation {
        histories: fit
            .source
            .iter()
            .map(|&i| histories[i][..histories[i].len().min(max_history)].to_vec())
            .collect(),
        baskets: fit.baskets,
        carts,
        fit_orders: orders[..cut].to_vec(),
    }
}

/// Depth of the hit rate and NDCG.
pub const HIT_DEPTH: usize = 10;

/// The tie rule of every ranking's hit rate: how many of `others` rank ahead of `hidden`, by a
/// higher score or the same score and a lower item index (the order
/// [`crate::serve::rank::top_items`] gives, so what the engine would list). The hidden item hits
/// when fewer than [`HIT_DEPTH`] do. Score functions that tie whole groups use
/// [`expected_hit`].
pub fn ranked_ahead<S: PartialOrd + Copy>(
    hidden: (u32, S),
    others: impl IntoIterator<Item = (u32, S)>,
) -> usize {
    let (item, score) = hidden;
    others
        .into_iter()
        .filter(|&(i, s)| s > score || (s == score && i < item))
        .count()
}

/// Chance that a hidden item scored `hidden` is in the top [`HIT_DEPTH`] of `others` plus
/// itself when ties are broken at random: the rule for score functions that tie whole groups
/// (the cold-start report's category baselines). Breaking their ties by item index instead
/// would rank a shop's low-index items first: on the synthetic shop, whose planted (popular)
/// items come first, category co-purchase rose from 0.2638 to 0.3673 that way. A method that
/// outputs a ranking is scored by [`ranked_ahead`], its own order.
pub fn expected_hit(hidden: f64, others: impl Iterator<Item = f64>) -> f64 {
    let (mut above, mut tied) = (0usize, 1usize);
    for s in others {
        if s > hidden {
            above += 1;
        } else if s == hidden {
            tied += 1;
        }
    }
    ((HIT_DEPTH as f64 - above as f64) / tied as f64).clamp(0.0, 1.0)
}

/// HR@10 of ranked lists (best first), one per cart.
pub fn hit_rate(ranked: &[Vec<u32>], carts: &[TestCart]) -> f64 {
    let hits = ranked
        .iter()
        .zip(carts)
        .filter(|(r, t)| r.iter().take(HIT_DEPTH).any(|&i| i == t.hidden))
        .count();
    hits as f64 / carts.len().max(1) as f64
}

fn score_rank(rank: Option<usize>, m: &mut Metrics) {
    if let Some(r) = rank {
        if r < HIT_DEPTH {
            m.hr10 += 1.0;
            m.ndcg10 += 1.0 / ((r + 2) as f64).log2();
        }
        m.mrr += 1.0 / (r + 1) as f64;
    }
}

/// Ranks a dense score vector: best first (ties by item index), cart items and items scored
/// 0 or below left out, at most [`RANK_DEPTH`].
pub fn top_of_scores(scores: &[f32], cart: &[u32]) -> Vec<u32> {
    crate::serve::rank::top_items(scores, RANK_DEPTH, |i| {
        !cart.contains(&i) && scores[i as usize] > 0.0
    })
}

/// Mean metrics of a ranking function over the carts (computed in parallel).
pub fn measure(rank: impl Fn(&TestCart) -> Vec<u32> + Sync, carts: &[TestCart]) -> Metrics {
    let sum = carts
        .par_iter()
        .map(|t| {
            let mut m = Metrics::default();
            score_rank(rank(t).iter().position(|&i| i == t.hidden), &mut m);
            m
        })
        .reduce(Metrics::default, |a, b| Metrics {
            hr10: a.hr10 + b.hr10,
            ndcg10: a.ndcg10 + b.ndcg10,
            mrr: a.mrr + b.mrr,
        });
    let n = carts.len().max(1) as f64;
    Metrics {
        hr10: sum.hr10 / n,
        ndcg10: sum.ndcg10 / n,
        mrr: sum.mrr / n,
    }
}

/// Where a time-ordered list of `n` orders splits so that the latest `share` (rounded to whole
/// orders) come after the cut: one rule for `cartwise split`, validation and cold start.
pub fn time_cut(n: usize, share: f64) -> usize {
    n - ((n as f64 * share).round() as usize).min(n)
}

/// Orders written by [`split_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitCounts {
    pub train: usize,
    pub test: usize,
}

/// Time-based split of an orders CSV: the latest `share` of timed orders (by each order's first
/// timestamp) go to `out/test.csv`, the rest (and all untimed orders) to `out/train.csv`; rows
/// are copied verbatim with the header.
pub fn split_file(orders: &Path, out: &Path, share: f64) -> Result<SplitCounts, FileError> {
    if !(0.0..1.0).contains(&share) {
        return Err(FileError::Invalid(format!(
            "--test-fraction {share} is not in [0, 1)"
        )));
    }
    let file = orders.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(orders)
        .at(|| format!("opening {file}"))?;
    let header = reader
        .byte_headers()
        .at(|| format!("{file}:1: reading header"))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let (Some(order_col), Some(time_col)) = (col("order_id"), col("timestamp")) else {
        return Err(FileError::Invalid(format!(
            "{file}:1: split needs order_id and timestamp columns"
        )));
    };
    let rows: Vec<csv::ByteRecord> = reader
        .byte_records()
        .collect::<Result<_, _>>()
        .at(|| file.clone())?;
    let mut first_time: HashMap<&[u8], i64> = HashMap::new();
    for row in &rows {
        let id = row.get(order_col).unwrap_or_default();
        let t = std::str::from_utf8(row.get(time_col).unwrap_or_default())
            .ok()
            .and_then(parse_timestamp);
        if let Some(t) = t {
            let e = first_time.entry(id).or_insert(i64::MAX);
            *e = (*e).min(t.timestamp());
        }
    }
    let mut times: Vec<(i64, &[u8])> = first_time.iter().map(|(&id, &t)| (t, id)).collect();
    times.sort();
    let cut = time_cut(times.len(), share);
    let test: HashSet<&[u8]> = times[cut..].iter().map(|&(_, id)| id).collect();
    std::fs::create_dir_all(out).at(|| format!("creating {}", out.display()))?;
    let (train_path, test_path) = (out.join("train.csv"), out.join("test.csv"));
    let writing = |p: &Path| format!("writing {}", p.display());
    let mut train_w = csv::Writer::from_path(&train_path).at(|| writing(&train_path))?;
    let mut test_w = csv::Writer::from_path(&test_path).at(|| writing(&test_path))?;
    train_w
        .write_byte_record(&header)
        .at(|| writing(&train_path))?;
    test_w
        .write_byte_record(&header)
        .at(|| writing(&test_path))?;
    for row in &rows {
        if test.contains(row.get(order_col).unwrap_or_default()) {
            test_w.write_byte_record(row).at(|| writing(&test_path))?;
        } else {
            train_w.write_byte_record(row).at(|| writing(&train_path))?;
        }
    }
    train_w.flush().at(|| writing(&train_path))?;
    test_w.flush().at(|| writing(&test_path))?;
    Ok(SplitCounts {
        train: first_time.len() - test.len(),
        test: test.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::{expected_hit, ranked_ahead};

    #[test]
    fn tied_scores_share_the_last_places_evenly() {
        assert_eq!(expected_hit(1.0, [0.0; 50].into_iter()), 1.0);
        assert_eq!(expected_hit(0.0, [1.0; 10].into_iter()), 0.0);
        // 8 above, the hidden item and 3 more tied for the last 2 places.
        let others = [2.0; 8].into_iter().chain([1.0; 3]);
        assert_eq!(expected_hit(1.0, others), 0.5);
    }

    #[test]
    fn ties_go_to_the_lower_item_index() {
        assert_eq!(ranked_ahead((5, 1.0), [(1, 0.0); 50]), 0);
        assert_eq!(ranked_ahead((5, 0.0), [(9, 1.0); 10]), 10);
        // 8 above, 3 tied: the two with lower indices rank ahead, the one above does not.
        let others = [(9, 2.0); 8]
            .into_iter()
            .chain([(1, 1.0), (2, 1.0), (7, 1.0)]);
        assert_eq!(ranked_ahead((5, 1.0), others), 10);
    }
}
