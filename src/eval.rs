//! Offline evaluation: hide one item of each held-out order and see who ranks it highest.

use crate::ingest::OrderLog;
use crate::suggest::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
    pub methods: Vec<MethodReport>,
}

/// A held-out cart: the visible items, the hidden one, and the order's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCart {
    pub cart: Vec<u32>,
    pub hidden: u32,
    pub month: Option<u8>,
}

/// Picks one hidden item per order with ≥ 2 distinct items, seeded.
pub fn test_carts(log: &OrderLog, seed: u64) -> Vec<TestCart> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    log.orders
        .iter()
        .filter_map(|o| {
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
            Some(TestCart {
                cart: items,
                hidden,
                month: o.month(),
            })
        })
        .collect()
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

/// Evaluates cartwise against popularity and co-occurrence on the same carts.
pub fn evaluate(
    engine: &Engine,
    export_bytes: u64,
    carts: &[TestCart],
    seed: u64,
    default_month: u8,
) -> EvalReport {
    let assoc = &engine.export().assoc;
    let mut popular: Vec<u32> = (0..assoc.items() as u32).collect();
    popular.sort_by(|&a, &b| {
        assoc.item_counts[b as usize]
            .cmp(&assoc.item_counts[a as usize])
            .then(a.cmp(&b))
    });
    let mut sums = [Metrics::default(); 3];
    for t in carts {
        let ours: Vec<u32> = engine
            .candidates(&t.cart, t.month.unwrap_or(default_month))
            .iter()
            .take(RANK_DEPTH)
            .map(|c| c.item)
            .collect();
        score_rank(ours.iter().position(|&i| i == t.hidden), &mut sums[0]);
        let mut pop = popular
            .iter()
            .filter(|i| !t.cart.contains(i))
            .take(RANK_DEPTH);
        score_rank(pop.position(|&i| i == t.hidden), &mut sums[1]);
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
        score_rank(
            co.iter().take(RANK_DEPTH).position(|&(i, _)| i == t.hidden),
            &mut sums[2],
        );
    }
    let n = carts.len().max(1) as f64;
    let avg = |m: Metrics| Metrics {
        hr10: m.hr10 / n,
        ndcg10: m.ndcg10 / n,
        mrr: m.mrr / n,
    };
    let items = assoc.items() as u64;
    let pairs = assoc.neighbors.len() as u64;
    EvalReport {
        carts: carts.len(),
        seed,
        methods: vec![
            MethodReport {
                method: "cartwise".into(),
                metrics: avg(sums[0]),
                size_bytes: export_bytes,
            },
            MethodReport {
                method: "popularity".into(),
                metrics: avg(sums[1]),
                size_bytes: items * 4,
            },
            MethodReport {
                method: "co-occurrence".into(),
                metrics: avg(sums[2]),
                size_bytes: items * 4 + pairs * 8,
            },
        ],
    }
}
