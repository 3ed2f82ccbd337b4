//! Offline evaluation: hide one item of each held-out order and see who ranks it highest.
//!
//! Every method ranks the same seeded carts; baselines that need the training orders
//! (item-kNN, EASE) live in [`crate::train::baselines`].

use crate::serve::blend::Blend;
use crate::serve::ease::KEEP;
use crate::serve::export::Export;
use crate::serve::suggest::{Engine, Query};
use crate::train::baselines::Fitted;
use crate::train::model::CatalogRanker;
use crate::train::protocol::{carts_with_history, measure, Metrics, TestCart, RANK_DEPTH};
use serde::Serialize;
use std::collections::HashMap;

/// One method's row in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodReport {
    pub method: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// The metrics over the carts whose shopper has a history (none when no cart has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_history: Option<Metrics>,
    /// Bytes the method needs at serving time.
    pub size_bytes: u64,
}

/// The evaluation over one held-out file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Test carts (orders with ≥ 2 distinct known items).
    pub carts: usize,
    /// Of those, carts whose shopper has earlier orders (a history).
    pub carts_with_history: usize,
    pub seed: u64,
    /// Whether every item of each order was hidden in turn (`seed` then picks nothing).
    pub leave_one_out: bool,
    pub methods: Vec<MethodReport>,
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
    // Ranks as suggest does, by the blend `choose` gives for the cart's history.
    let ranked = move |choose: fn(&Export, &[u32]) -> Blend| -> RankFn<'a> {
        Box::new(move |t| {
            let blend = choose(engine.export(), &t.history);
            engine
                .candidates(&Query {
                    history: &t.history,
                    ..Query::new(&t.cart, t.month.unwrap_or(default_month), &blend)
                })
                .expect("the engine's model ran at load, so it scores any cart")
                .iter()
                .take(RANK_DEPTH)
                .map(|c| c.item)
                .collect()
        })
    };
    let blend = engine.export().blend;
    let as_suggest: fn(&Export, &[u32]) -> Blend = |e, history| *e.blend_for(history);
    let mut methods = vec![Method {
        name: "cartwise".into(),
        size_bytes: export_bytes,
        rank: ranked(as_suggest),
    }];
    if blend.history != 0.0
        || blend.repeat != 0.0
        || engine.export().blend_without_history.is_some()
        || engine.model().is_some_and(|m| m.takes_history())
    {
        // The same export for a shopper whose page keeps no history.
        methods.push(Method {
            name: "cartwise without history".into(),
            size_bytes: export_bytes,
            rank: Box::new(move |t| {
                ranked(as_suggest)(&TestCart {
                    history: Vec::new(),
                    ..t.clone()
                })
            }),
        });
    }
    if blend != Blend::default() {
        methods.push(Method {
            name: "cartwise assoc only".into(),
            // The file this export would be without its learned sections.
            size_bytes: Export {
                model: None,
                ease: None,
                blend: Blend::default(),
                blend_without_history: None,
                ..engine.export().clone()
            }
            .to_bytes()
            .len() as u64,
            rank: ranked(|_, _| Blend::default()),
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

/// Evaluates every method on the same carts.
pub fn evaluate(
    methods: &[Method],
    carts: &[TestCart],
    seed: u64,
    leave_one_out: bool,
) -> EvalReport {
    let with_history = carts_with_history(carts);
    EvalReport {
        carts: carts.len(),
        carts_with_history: with_history.len(),
        seed,
        leave_one_out,
        methods: methods
            .iter()
            .map(|m| MethodReport {
                method: m.name.clone(),
                metrics: measure(&m.rank, carts),
                with_history: (!with_history.is_empty()).then(|| measure(&m.rank, &with_history)),
                size_bytes: m.size_bytes,
            })
            .collect(),
    }
}

/// Every method `eval` compares on the same carts: [`export_methods`], the export's own
/// transformer and sparse EASE, and the baselines fitted on the training orders when given.
pub fn methods<'a>(
    engine: &'a Engine,
    export_bytes: u64,
    default_month: u8,
    fitted: Option<&'a Fitted>,
) -> Vec<Method<'a>> {
    let export = engine.export();
    let mut methods = export_methods(engine, export_bytes, default_month);
    if let Some((model, stored)) = engine.model().zip(export.model.as_ref()) {
        let ranker = CatalogRanker::new(model).expect("a loaded model reads its item vectors");
        methods.push(Method {
            name: format!("transformer ({})", stored.precision()),
            size_bytes: stored.weight_bytes(),
            rank: Box::new(move |t| {
                ranker
                    .rank(&[t.cart.as_slice()], &[], RANK_DEPTH)
                    .expect("a loaded model ranks any cart of known items")
                    .pop()
                    .unwrap_or_default()
            }),
        });
    }
    if let Some(sparse) = &export.ease {
        methods.push(Method {
            name: format!("sparse EASE (int8, {} per item)", KEEP),
            size_bytes: sparse.size_bytes(),
            rank: Box::new(|t| sparse.rank(&t.cart)),
        });
    }
    if let Some(Fitted {
        knn,
        ease,
        history_weight,
        local,
    }) = fitted
    {
        methods.push(Method {
            name: "item-kNN".into(),
            size_bytes: knn.size_bytes(),
            rank: Box::new(|t| knn.rank(&t.cart)),
        });
        methods.push(Method {
            name: match ease.whole {
                true => "EASE".into(),
                false => format!("EASE (dense, the {} most bought items)", ease.len()),
            },
            size_bytes: ease.size_bytes(),
            rank: Box::new(|t| ease.rank(&t.cart)),
        });
        methods.push(Method {
            name: format!("personalized EASE (history weight {history_weight})"),
            size_bytes: ease.size_bytes(),
            rank: Box::new(|t| ease.rank_with_history(&t.cart, &t.history, *history_weight)),
        });
        methods.push(Method {
            name: format!(
                "neighbourhood EASE ({} neighbours, int8)",
                crate::train::local_ease::NEIGHBOURS
            ),
            size_bytes: local.size_bytes(),
            rank: Box::new(|t| local.rank(&t.cart)),
        });
    }
    methods
}
