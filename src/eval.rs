//! Offline evaluation: hide one item of each held-out order and see who ranks it highest.
//!
//! Every method ranks the same seeded carts; baselines that need the training orders
//! (item-kNN, EASE) live in [`crate::baselines`].

use crate::assoc::count::prepare_baskets;
use crate::export::Export;
use crate::ingest::{Order, OrderLog};
use crate::suggest::blend::Blend;
use crate::suggest::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

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

/// One method's row in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodReport {
    pub method: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Bytes the method needs at serving time.
    pub size_bytes: u64,
}

/// The evaluation over one held-out file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Test carts (orders with ≥ 2 distinct known items).
    pub carts: usize,
    pub seed: u64,
    /// Whether every item of each order was hidden in turn (`seed` then picks nothing).
    pub leave_one_out: bool,
    pub methods: Vec<MethodReport>,
}

/// A held-out cart: the visible items, the hidden one, and the order's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCart {
    pub cart: Vec<u32>,
    pub hidden: u32,
    pub month: Option<u8>,
    /// The shopper's earlier items, most recent first (see [`crate::history`]); empty when
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
/// first, at most [`crate::history::CART_HISTORY`].
pub fn test_carts_with_history(log: &OrderLog, earlier: &OrderLog, seed: u64) -> Vec<TestCart> {
    let orders: Vec<&Order> = earlier.orders.iter().chain(&log.orders).collect();
    let histories = crate::history::customer_histories(&orders, crate::history::CART_HISTORY);
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

/// At most this many carts choose EASE's λ and fit the blend (each holds a few hundred
/// candidates while the blend is fitted).
pub const MAX_TUNING_CARTS: usize = 100_000;

/// The carts that tune what is chosen on validation orders (EASE's λ for the shipped table and
/// the baseline alike, the blend's weights): every leave-one-out cart, up to
/// [`MAX_TUNING_CARTS`]. On Complete Journey one hidden item per order chose λ = 200 for the
/// pruned table and leave-one-out λ = 50, which scores better on the test carts.
pub fn tuning_carts(validation: &[TestCart]) -> Vec<TestCart> {
    let mut carts = leave_one_out(validation);
    carts.truncate(MAX_TUNING_CARTS);
    carts
}

/// What the validation protocol fits on and checks against.
pub struct Validation {
    /// Baskets of all but the latest tenth of orders by time (see `prepare_baskets`).
    pub baskets: Vec<Vec<u32>>,
    /// Each basket's shopper history, at most `max_history` items (empty without it).
    pub histories: Vec<Vec<u32>>,
    /// Seeded test carts from the latest tenth, with their shoppers' histories (at most
    /// `max(max_history, CART_HISTORY)` items).
    pub carts: Vec<TestCart>,
}

/// The validation protocol shared by early stopping and λ tuning: all but the latest tenth of
/// orders by time (untimed orders count as earliest) to fit on, seeded test carts from the
/// latest tenth, and each one's shopper history (baskets' only with `max_history`).
pub fn validation_split(
    log: &OrderLog,
    max_order_items: usize,
    max_history: usize,
    seed: u64,
) -> Validation {
    let mut orders: Vec<&Order> = log.orders.iter().collect();
    orders.sort_by_key(|o| o.time);
    let cut = orders.len() - orders.len() / 10;
    let histories =
        crate::history::customer_histories(&orders, max_history.max(crate::history::CART_HISTORY));
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
    }
}

fn score_rank(rank: Option<usize>, m: &mut Metrics) {
    if let Some(r) = rank {
        if r < 10 {
            m.hr10 += 1.0;
            m.ndcg10 += 1.0 / ((r + 2) as f64).log2();
        }
        m.mrr += 1.0 / (r + 1) as f64;
    }
}

/// A method's ranking function for one test cart.
pub type RankFn<'a> = Box<dyn Fn(&TestCart) -> Vec<u32> + Sync + 'a>;

/// A ranking method under evaluation: returns up to [`RANK_DEPTH`] items, never cart items.
pub struct Method<'a> {
    pub name: String,
    /// Bytes the method needs at serving time.
    pub size_bytes: u64,
    pub rank: RankFn<'a>,
}

/// Ranks a dense score vector: best first (ties by item index), cart items and items scored
/// 0 or below left out, at most [`RANK_DEPTH`].
pub fn top_of_scores(scores: &[f32], cart: &[u32]) -> Vec<u32> {
    crate::model::top_items(scores, RANK_DEPTH, |i| {
        !cart.contains(&i) && scores[i as usize] > 0.0
    })
}

/// Cartwise itself plus the baselines that need only the export: popularity and co-occurrence.
pub fn export_methods<'a>(
    engine: &'a Engine,
    export_bytes: u64,
    default_month: u8,
) -> Vec<Method<'a>> {
    let assoc = &engine.export().assoc;
    let popular = assoc.by_popularity();
    let items = assoc.items() as u64;
    let pairs = assoc.neighbors.len() as u64;
    let ranked = move |blend: Blend| -> RankFn<'a> {
        Box::new(move |t| {
            engine
                .candidates_with(
                    &t.cart,
                    &t.history,
                    t.month.unwrap_or(default_month),
                    &blend,
                )
                .expect("the engine's model ran at load, so it scores any cart")
                .iter()
                .take(RANK_DEPTH)
                .map(|c| c.item)
                .collect()
        })
    };
    let blend = engine.export().blend;
    let mut methods = vec![Method {
        name: "cartwise".into(),
        size_bytes: export_bytes,
        rank: ranked(blend),
    }];
    if blend != Blend::default() {
        methods.push(Method {
            name: "cartwise assoc only".into(),
            // The file this export would be without its learned sections.
            size_bytes: Export {
                model: None,
                ease: None,
                blend: Blend::default(),
                ..engine.export().clone()
            }
            .to_bytes()
            .len() as u64,
            rank: ranked(Blend::default()),
        });
    }
    methods.extend([
        Method {
            name: "popularity".into(),
            size_bytes: items * 4,
            rank: Box::new(move |t| {
                popular
                    .iter()
                    .copied()
                    .filter(|i| !t.cart.contains(i))
                    .take(RANK_DEPTH)
                    .collect()
            }),
        },
        Method {
            name: "co-occurrence".into(),
            size_bytes: items * 4 + pairs * 8,
            rank: Box::new(move |t| {
                let mut co: HashMap<u32, u64> = HashMap::new();
                for &i in &t.cart {
                    for nb in assoc.row(i) {
                        if !t.cart.contains(&nb.item) {
                            *co.entry(nb.item).or_default() += nb.count as u64;
                        }
                    }
                }
                let mut co: Vec<(u32, u64)> = co.into_iter().collect();
                co.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                co.into_iter().take(RANK_DEPTH).map(|(i, _)| i).collect()
            }),
        },
    ]);
    methods
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

/// Evaluates every method on the same carts.
pub fn evaluate(
    methods: &[Method],
    carts: &[TestCart],
    seed: u64,
    leave_one_out: bool,
) -> EvalReport {
    EvalReport {
        carts: carts.len(),
        seed,
        leave_one_out,
        methods: methods
            .iter()
            .map(|m| MethodReport {
                method: m.name.clone(),
                metrics: measure(&m.rank, carts),
                size_bytes: m.size_bytes,
            })
            .collect(),
    }
}
