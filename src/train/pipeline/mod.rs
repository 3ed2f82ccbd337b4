//! Training: order log and catalog in, a complete [`Export`] out.

use crate::serve::blend::Blend;
use crate::serve::catalog::Catalog;
use crate::serve::ease::SparseEase;
use crate::serve::export::{Export, Meta};
use crate::serve::kernel::pq::PqRows;
use crate::serve::model::ModelExport;
use crate::serve::rebuy::RebuyIndex;
use crate::serve::rules::MerchantRules;
use crate::serve::seasonal::SeasonalIndex;
use crate::serve::suggest::{Engine, Evidence, Query};
use crate::train::assoc::build::{build_table, AssocConfig};
use crate::train::assoc::count::{count_pairs, prepare_baskets, DEFAULT_CHUNK_PAIRS};
use crate::train::blend::{self, FitCart};
use crate::train::counts::Counts;
use crate::train::ease::{self, Ease};
use crate::train::error::{FileError, TrainError};
use crate::train::history::customer_histories;
use crate::train::ingest::{Order, OrderLog};
use crate::train::local_ease;
use crate::train::model::fit::{FitConfig, Stopped, MAX_EPOCH_VALIDATION};
use crate::train::pricing::fit::{fit as fit_acceptance, FitConfig as PricingFit};
use crate::train::protocol::{measure, tuning_carts, validation_split, TestCart, Validation};
use crate::train::publish;
use crate::train::rebuy::rebuy_index;
use crate::train::seasonal;
use crate::train::Progress;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

mod transformer;
use transformer::{budget_end, fit_transformer, fit_within_budget, ship_model};

/// Everything that shapes training besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Orders with more distinct items are left out of all counts (see `prepare_baskets`).
    pub max_order_items: usize,
    /// Pair keys held at once while counting.
    pub chunk_pairs: usize,
    pub assoc: AssocConfig,
    /// A 3-itemset must appear in this many orders.
    pub min_itemset_count: u32,
    /// Most itemsets kept.
    pub itemset_limit: usize,
    pub rules: MerchantRules,
    /// How the acceptance curve is fitted from promotions in the orders.
    pub pricing: PricingFit,
    /// Also train the basket transformer, validating on the latest 10% of orders by time.
    pub transformer: Option<FitConfig>,
    /// Folder for the transformer's per-epoch checkpoint, resumed when it matches.
    pub checkpoint: Option<std::path::PathBuf>,
    /// Fit EASE's dense solve when at most this many items have orders (it grows as n³), its
    /// neighbourhood-restricted form ([`local_ease`]) past that; 0 turns EASE off.
    pub ease_max_items: usize,
    /// After early stopping, retrain the transformer on all orders for the epoch count it
    /// chose, so the shipped model has seen the latest orders too (doubles training time).
    pub refit: bool,
    /// Width of the margin bands the export states costs in, in basis points of price (see
    /// [`crate::serve::catalog::banded_cost`]); exact costs never enter the export.
    pub margin_band_bp: u32,
    /// Pairs and itemsets bought by fewer distinct customers (orders, without customer ids)
    /// stay out of the export (see [`crate::train::publish`]).
    pub min_buyers: u32,
    /// Seed of the validation carts' hidden items.
    pub seed: u64,
    /// The time budget's end (`--time-budget`): EASE and the counted tables are fitted whatever
    /// the time, the transformer only for the epochs that end before it (less
    /// [`BUDGET_RESERVE`] of what is left, and the time of the blend's passes counted in
    /// validation passes, [`FitConfig::reserve_validations`]) and not at all when its first
    /// epoch and those passes would not, the refit only when it fits too. `None`: no budget.
    pub deadline: Option<std::time::Instant>,
}

/// Share of the time left when the transformer starts that a time budget keeps for what
/// follows it besides the blend's passes (reserved in validation passes): product
/// quantization, publishing and writing the export.
pub const BUDGET_RESERVE: f64 = 0.05;

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            max_order_items: 100,
            chunk_pairs: DEFAULT_CHUNK_PAIRS,
            assoc: AssocConfig::default(),
            min_itemset_count: 10,
            itemset_limit: 5_000,
            rules: MerchantRules::default(),
            pricing: PricingFit::default(),
            transformer: None,
            checkpoint: None,
            ease_max_items: ease::TRAIN_MAX_ITEMS,
            refit: false,
            margin_band_bp: crate::serve::catalog::DEFAULT_MARGIN_BAND_BP,
            min_buyers: crate::train::publish::DEFAULT_MIN_BUYERS,
            seed: 42,
            deadline: None,
        }
    }
}

/// Counts, mines and assembles the export. `stage` is told each step as it starts, and each
/// transformer epoch as it ends.
pub fn train(
    catalog: &Catalog,
    log: &OrderLog,
    config: &TrainConfig,
    mut stage: impl FnMut(Progress),
) -> Result<Export, TrainError> {
    config.rules.validate()?;
    stage(Progress::Step(
        "counting items, pairs, 3-itemsets and months".to_string(),
    ));
    let counts = Counts::of(
        log,
        catalog.len(),
        config.max_order_items,
        config.min_itemset_count,
        config.chunk_pairs,
    );
    train_counted(catalog, &counts, log, config, stage)
}

/// Assembles the export from counts (native, or a Spark job's: [`crate::train::counts`]) and a
/// sample of the log they were counted from (the whole log natively): the association table,
/// itemsets, seasonal index and EASE's refit come from the counts, what learns from whole
/// baskets from the sample. Counts cut at another item cap, or with triples cut above the
/// config's itemset threshold, are refused.
pub fn train_counted(
    catalog: &Catalog,
    counts: &Counts,
    sample: &OrderLog,
    config: &TrainConfig,
    mut stage: impl FnMut(Progress),
) -> Result<Export, TrainError> {
    config.rules.validate()?;
    if counts.pairs.item_counts.len() != catalog.len() || counts.item_months.len() != catalog.len()
    {
        return Err(FileError::Invalid(format!(
            "counts over {} items for a catalog of {}",
            counts.pairs.item_counts.len(),
            catalog.len()
        ))
        .into());
    }
    if counts.max_order_items != config.max_order_items {
        return Err(FileError::Invalid(format!(
            "the counts left out orders over {} items, training asks for {} (count again with that cap, or train with --max-order-items {})",
            counts.max_order_items, config.max_order_items, counts.max_order_items
        ))
        .into());
    }
    if counts.min_itemset_count > config.min_itemset_count {
        return Err(FileError::Invalid(format!(
            "the counts keep 3-itemsets of {} orders or more, training asks for {} (count again with a lower threshold)",
            counts.min_itemset_count, config.min_itemset_count
        ))
        .into());
    }
    // The export states costs by margin band; its pinned prices must keep the rules on those.
    let shipped_catalog = catalog.with_banded_costs(config.margin_band_bp);
    crate::serve::pricing::check_catalog(&config.rules, &shipped_catalog)?;
    stage(Progress::Step("building neighbour table".to_string()));
    let assoc = build_table(&counts.pairs, &config.assoc);
    let itemsets = counts.itemsets(config.min_itemset_count, config.itemset_limit);
    stage(Progress::Step("seasonal index".to_string()));
    let seasonal = seasonal::from_counts(&counts.item_months, &counts.months);
    stage(Progress::Step("acceptance curve".to_string()));
    let acceptance = fit_acceptance(
        catalog,
        sample,
        &assoc,
        &PricingFit {
            max_order_items: config.max_order_items,
            ..config.pricing.clone()
        },
    );
    // EASE's dense solve grows with the items that have orders, not with catalog rows; past
    // the limit each item's weights are fitted over its neighbourhood.
    let active = ease::ActiveItems::with_counts(&counts.pairs.item_counts);
    let fit_ease = !active.is_empty() && config.ease_max_items > 0;
    if fit_ease && active.len() > config.ease_max_items {
        stage(Progress::Record(format!(
            "EASE: {} of the {} items have orders, over --ease-max-items {}: each item's weights fitted over its {} most co-purchased items (neighbourhood EASE)",
            active.len(),
            catalog.len(),
            config.ease_max_items,
            local_ease::NEIGHBOURS
        )));
    }
    let learned = if config.transformer.is_some() || fit_ease {
        let ease_items = fit_ease.then_some(&active);
        fit_learned(
            catalog, sample, counts, config, ease_items, &seasonal, &mut stage,
        )?
    } else {
        Learned::default()
    };
    stage(Progress::Step(
        "publishing: pairs of enough buyers, rounded counts".to_string(),
    ));
    let (assoc, itemsets, withheld) =
        publish::publish(&assoc, &itemsets, counts, config.min_buyers);
    stage(Progress::Record(format!(
        "left out of the export: {} pairs and {} itemsets bought by fewer than {} customers",
        withheld.pairs, withheld.itemsets, config.min_buyers
    )));
    // Rebuy factors only help a blend that weighs rebuys.
    let rebuy = match learned.blend.repeat != 0.0 {
        true => rebuy_index(&sample.orders, catalog.len(), config.min_buyers),
        false => RebuyIndex::default(),
    };
    let published = |c: u64| publish::round_count(c.min(u32::MAX as u64) as u32) as u64;
    Ok(Export {
        version: crate::serve::export::VERSION,
        meta: Meta {
            generator: format!("cartwise {}", env!("CARGO_PKG_VERSION")),
            orders_read: published(counts.orders),
            order_lines: published(counts.lines),
            rejected_rows: 0,
            oversized_orders: published(counts.oversized),
            max_order_items: config.max_order_items as u64,
        },
        catalog: shipped_catalog,
        assoc,
        itemsets,
        seasonal,
        rebuy,
        rules: config.rules.clone(),
        model: learned.model,
        ease: learned.ease,
        blend: learned.blend,
        blend_without_history: learned.blend_without_history,
        acceptance,
        links: Default::default(),
        pq: learned.pq,
    })
}

/// The transformer's best items that join the association candidates in suggest.
pub const MODEL_CANDIDATES: u32 = 100;

/// Chooses EASE's λ by the pruned model's HR@10 on the (leave-one-out) validation carts, fitting on
/// `fit_baskets`; returns that held-out table (for fitting the blend) and the one refitted on
/// all the counts with the same λ (for the export). Dense EASE up to `max_dense` active items,
/// the neighbourhood-restricted fit ([`local_ease`]) past that.
fn fit_sparse_ease(
    fit_baskets: &[Vec<u32>],
    all: &Counts,
    active: &ease::ActiveItems,
    max_dense: usize,
    validation: &[TestCart],
    stage: &mut impl FnMut(Progress),
) -> (SparseEase, SparseEase) {
    stage(Progress::Step(
        "EASE: choosing λ on the validation carts".to_string(),
    ));
    // Fitted over `active`, the items of all orders (a superset of the fit's), rows mapped
    // back to the catalog.
    let keep = crate::serve::ease::KEEP;
    let dense = active.len() <= max_dense;
    let score = |sparse: SparseEase| {
        let hr = measure(|t| sparse.rank(&t.cart), validation).hr10;
        (hr, sparse)
    };
    let (lambda, held_out, tried) = if dense {
        ease::tune(&active.remap(fit_baskets), active.len(), |e| {
            score(active.sparsify(e, keep))
        })
    } else {
        let counts = count_pairs(
            &active.remap(fit_baskets),
            active.len(),
            DEFAULT_CHUNK_PAIRS,
        );
        ease::tune_by(|lambda| {
            score(active.widen(local_ease::fit(
                &counts,
                lambda,
                local_ease::NEIGHBOURS,
                keep,
            )))
        })
    };
    stage(Progress::Record(format!(
        "EASE{}: λ = {lambda}, over the {} items with orders, {keep} weights kept per item (validation HR@10 {})",
        if dense { "" } else { " (neighbourhood)" },
        active.len(),
        ease::describe_tried(&tried)
    )));
    stage(Progress::Step(format!(
        "EASE: refitting on all {} orders",
        all.pairs.orders
    )));
    let all_counts = active.remap_counts(&all.pairs);
    let shipped = if dense {
        active.sparsify(&Ease::from_counts(&all_counts, lambda), keep)
    } else {
        active.widen(local_ease::fit(
            &all_counts,
            lambda,
            local_ease::NEIGHBOURS,
            keep,
        ))
    };
    (held_out, shipped)
}

/// The learned parts of an export and the blend that weighs them.
#[derive(Default)]
struct Learned {
    model: Option<ModelExport>,
    ease: Option<SparseEase>,
    blend: Blend,
    /// The blend for calls without a history, when it differs.
    blend_without_history: Option<Blend>,
    /// The model's item vectors as codes, when it ships them so.
    pq: Option<Arc<PqRows>>,
}

/// Fits the transformer and EASE (as asked; EASE over `ease_items`, the items with orders, when
/// given) on all but the latest tenth of the sample's orders (see `validation_split`), then the
/// blend on that tenth's carts against association tables counted without them, so nothing
/// the blend is fitted on has seen the hidden items. EASE is then refitted on all the counts
/// with the chosen λ; the transformer keeps its early-stopped weights unless `config.refit`
/// retrains it on every order of the sample for the chosen epoch count.
fn fit_learned(
    catalog: &Catalog,
    log: &OrderLog,
    counts: &Counts,
    config: &TrainConfig,
    ease_items: Option<&ease::ActiveItems>,
    seasonal: &SeasonalIndex,
    stage: &mut impl FnMut(Progress),
) -> Result<Learned, TrainError> {
    let fit_ease = ease_items.is_some();
    let max_history = config.transformer.map_or(0, |f| f.max_history);
    let Validation {
        baskets: fit_baskets,
        histories: fit_histories,
        carts: validation,
        fit_orders,
    } = validation_split(log, config.max_order_items, max_history, config.seed);
    stage(Progress::Record(format!(
        "validation: {} training baskets, {} validation carts from the latest tenth of orders",
        fit_baskets.len(),
        validation.len()
    )));
    let loo = tuning_carts(&validation);
    let (held_out_ease, ease) = match ease_items {
        Some(active) => {
            let (held_out, shipped) = fit_sparse_ease(
                &fit_baskets,
                counts,
                active,
                config.ease_max_items,
                &loo,
                stage,
            );
            (Some(held_out), Some(shipped))
        }
        None => (None, None),
    };
    let has_history = loo.iter().any(|t| !t.history.is_empty());
    let (model, pq, trained) = match &config.transformer {
        Some(fit_config) => {
            // Under a budget, what follows the transformer is mostly the blend's passes over the
            // leave-one-out carts (with their histories and without), each cart a model forward
            // as in an epoch's validation (over at most MAX_EPOCH_VALIDATION carts).
            let passes = if has_history { 2.0 } else { 1.0 };
            let reserve_validations = 1.0
                + passes * loo.len() as f64
                    / validation.len().clamp(1, MAX_EPOCH_VALIDATION) as f64;
            match fit_within_budget(
                catalog,
                &fit_baskets,
                &fit_histories,
                &validation,
                &FitConfig {
                    reserve_validations,
                    ..*fit_config
                },
                config,
                stage,
            )? {
                Some(trained) => {
                    let (shipped, codes) =
                        ship_model(catalog, &trained.fitted, fit_config, config.seed, stage)?;
                    (Some(shipped), codes, Some(trained))
                }
                None => (None, None, None),
            }
        }
        None => (None, None, None),
    };
    let counts = count_pairs(&fit_baskets, catalog.len(), config.chunk_pairs);
    let model_candidates = if model.is_some() { MODEL_CANDIDATES } else { 0 };
    let candidates = Blend {
        ease: if fit_ease { 1.0 } else { 0.0 },
        history: if has_history { 1.0 } else { 0.0 },
        repeat: if has_history { 1.0 } else { 0.0 },
        model_candidates,
        ..Blend::default()
    };
    let held_out = Engine::new(Export {
        version: crate::serve::export::VERSION,
        meta: Meta::default(),
        catalog: catalog.clone(),
        assoc: build_table(&counts, &config.assoc),
        itemsets: Vec::new(),
        seasonal: seasonal.clone(),
        // The fit orders' own: the validation carts' orders must not count as comebacks.
        rebuy: rebuy_index(fit_orders, catalog.len(), config.min_buyers),
        rules: config.rules.clone(),
        model: model.clone(),
        ease: held_out_ease,
        blend: Blend::default(),
        blend_without_history: None,
        acceptance: Default::default(),
        links: Default::default(),
        pq: pq.clone(),
    })?;
    stage(Progress::Step(format!(
        "fitting the blend on {} leave-one-out validation carts",
        loo.len()
    )));
    let blend_started = Instant::now();
    // Each validation cart's candidates and features, with its shopper's history or without.
    let fit_carts = |with_history: bool| {
        loo.par_iter()
            .map(|t| {
                let history: &[u32] = if with_history { &t.history } else { &[] };
                let (candidates, rebuy_only): (Vec<_>, Vec<_>) = held_out
                    .features(&Query {
                        history,
                        ..Query::new(&t.cart, t.month.unwrap_or(1), &candidates)
                    })?
                    .into_iter()
                    .map(|(f, evidence)| (f, matches!(evidence, Evidence::Rebuy)))
                    .unzip();
                let hidden = candidates.iter().position(|f| f.item == t.hidden);
                Ok(FitCart {
                    candidates,
                    hidden,
                    rebuy_only,
                })
            })
            .collect::<Result<Vec<_>, crate::serve::suggest::SuggestError>>()
    };
    let carts = fit_carts(true)?;
    let only = |ease: f32, model: f32| {
        let b = Blend {
            assoc: 0.0,
            ease,
            model,
            popularity: 0.0,
            history: 0.0,
            repeat: 0.0,
            model_candidates,
        };
        blend::hit_rate(&b, &carts)
    };
    let mut alone = vec![format!(
        "association only {:.4}",
        blend::hit_rate(&Blend::default(), &carts)
    )];
    if fit_ease {
        alone.push(format!("EASE only {:.4}", only(1.0, 0.0)));
    }
    if model.is_some() {
        alone.push(format!("model only {:.4}", only(0.0, 1.0)));
    }
    let (blend, blended) = blend::fit(&carts, fit_ease, model_candidates, has_history);
    // A shopper without a history gets weights fitted for one: the validation carts with their
    // histories removed.
    let (blend_without_history, without_record) = if has_history {
        let bare = fit_carts(false)?;
        let (without, fitted) = blend::fit_without_history(&bare, &blend, fit_ease);
        let record = Progress::Record(format!(
            "blend without a history: assoc {} + ease {} + model {} + popularity {}; validation HR@10 {fitted:.4} on the carts with their history removed ({:.4} by the blend above)",
            without.assoc,
            without.ease,
            without.model,
            without.popularity,
            blend::hit_rate(&blend, &bare)
        ));
        (Some(without).filter(|w| *w != blend), Some(record))
    } else {
        (None, None)
    };
    // A table the blend does not weigh would only add bytes to every shopper's download.
    let weighs_ease = std::iter::once(&blend)
        .chain(&blend_without_history)
        .any(|b| b.ease != 0.0);
    let ease = match ease {
        Some(_) if !weighs_ease => {
            stage(Progress::Step(
                "EASE: left out of the export, the blend gives it no weight".to_string(),
            ));
            None
        }
        ease => ease,
    };
    stage(Progress::Record(format!(
        "blend: assoc {} + ease {} + model {} + popularity {} + history {} + repeat {}; validation HR@10 {blended:.4} ({}; {} leave-one-out carts, {:.0} s)",
        blend.assoc,
        blend.ease,
        blend.model,
        blend.popularity,
        blend.history,
        blend.repeat,
        alone.join(", "),
        loo.len(),
        blend_started.elapsed().as_secs_f64()
    )));
    if let Some(record) = without_record {
        stage(record);
    }
    let (model, pq) = match (&config.transformer, &trained, config.refit) {
        (Some(fit_config), Some(trained), true) => 'refit: {
            let all = prepare_baskets(
                log.orders.iter().map(|o| o.items.as_slice()),
                config.max_order_items,
            );
            let best_epoch = trained.fitted.best_epoch;
            let deadline = config.deadline.map(budget_end);
            if let Some(end) = deadline {
                let needed = trained.step_seconds * best_epoch as f64 * all.baskets.len() as f64
                    / fit_baskets.len().max(1) as f64;
                let left = end.saturating_duration_since(Instant::now()).as_secs_f64();
                if needed > left {
                    stage(Progress::Record(format!(
                        "transformer: no refit on all orders, its {best_epoch} epochs need about {needed:.0} s and the time budget leaves {left:.0} s"
                    )));
                    break 'refit (model, pq);
                }
            }
            stage(Progress::Record(format!(
                "transformer: refitting on all {} orders for {best_epoch} epochs",
                all.baskets.len()
            )));
            let refit_config = FitConfig {
                epochs: best_epoch,
                deadline,
                ..*fit_config
            };
            let orders: Vec<&Order> = log.orders.iter().collect();
            let histories = customer_histories(&orders, max_history);
            let all_histories: Vec<Vec<u32>> =
                all.source.iter().map(|&o| histories[o].clone()).collect();
            let fitted = match fit_transformer(
                catalog,
                &all.baskets,
                &all_histories,
                &[],
                &refit_config,
                config
                    .checkpoint
                    .as_ref()
                    .map(|c| c.join("refit"))
                    .as_deref(),
                stage,
            ) {
                Err(e @ TrainError::OverBudget { .. }) => {
                    stage(Progress::Record(format!(
                        "transformer: no refit on all orders, {e}"
                    )));
                    break 'refit (model, pq);
                }
                fitted => fitted?.0,
            };
            if fitted.stopped == Stopped::Deadline {
                stage(Progress::Record(format!(
                    "transformer: the refit stopped by the time budget after {} of {best_epoch} epochs",
                    fitted.history.len()
                )));
            }
            let (shipped, codes) = ship_model(catalog, &fitted, fit_config, config.seed, stage)?;
            (Some(shipped), codes)
        }
        _ => (model, pq),
    };
    Ok(Learned {
        model,
        ease,
        blend,
        blend_without_history,
        pq,
    })
}
