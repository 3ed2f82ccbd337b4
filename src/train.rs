//! Training: order log and catalog in, a complete [`Export`] out.

use crate::assoc::build::{build_table, AssocConfig};
use crate::assoc::count::{count_pairs, prepare_baskets, PairSet, DEFAULT_CHUNK_PAIRS};
use crate::assoc::itemsets::mine_triples;
use crate::catalog::Catalog;
use crate::eval::validation_split;
use crate::export::{Export, Meta};
use crate::ingest::OrderLog;
use crate::model::fit::{fit, FitConfig};
use crate::model::ModelExport;
use crate::rules::MerchantRules;
use crate::seasonal::{self, SeasonalIndex};
use crate::suggest::blend::{self, Blend, FitCart};
use crate::suggest::Engine;

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
    /// Also train the basket transformer, validating on the latest 10% of orders by time.
    pub transformer: Option<FitConfig>,
    /// Folder for the transformer's per-epoch checkpoint, resumed when it matches.
    pub checkpoint: Option<std::path::PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            max_order_items: 100,
            chunk_pairs: DEFAULT_CHUNK_PAIRS,
            assoc: AssocConfig::default(),
            min_itemset_count: 10,
            itemset_limit: 5_000,
            rules: MerchantRules::default(),
            transformer: None,
            checkpoint: None,
        }
    }
}

/// Why training failed (only the transformer can: tokenizer or tensor errors).
pub type TrainError = Box<dyn std::error::Error + Send + Sync>;

/// Counts, mines and assembles the export. `stage` is told each step as it starts, and each
/// transformer epoch as it ends.
pub fn train(
    catalog: &Catalog,
    log: &OrderLog,
    config: &TrainConfig,
    mut stage: impl FnMut(&str),
) -> Result<Export, TrainError> {
    stage("preparing baskets");
    let baskets = prepare_baskets(
        log.orders.iter().map(|o| o.items.as_slice()),
        config.max_order_items,
    );
    stage("counting items and pairs");
    let counts = count_pairs(&baskets.baskets, catalog.len(), config.chunk_pairs);
    stage("building neighbour table");
    let assoc = build_table(&counts, &config.assoc);
    stage("mining 3-itemsets");
    let frequent = PairSet::frequent(&counts, config.min_itemset_count);
    let itemsets = mine_triples(
        &baskets.baskets,
        &frequent,
        config.min_itemset_count,
        config.itemset_limit,
    );
    stage("seasonal index");
    let months: Vec<Option<u8>> = baskets
        .source
        .iter()
        .map(|&o| log.orders[o].month())
        .collect();
    let seasonal = seasonal::build(&baskets.baskets, &months, catalog.len());
    let (model, blend) = match &config.transformer {
        Some(fit_config) => {
            let (model, blend) =
                train_transformer(catalog, log, config, fit_config, &seasonal, &mut stage)?;
            (Some(model), blend)
        }
        None => (None, Blend::default()),
    };
    Ok(Export {
        meta: Meta {
            generator: format!("cartwise {}", env!("CARGO_PKG_VERSION")),
            orders_read: log.orders.len() as u64,
            order_lines: log.lines,
            rejected_rows: 0,
            oversized_orders: baskets.oversized as u64,
            max_order_items: config.max_order_items as u64,
        },
        catalog: catalog.clone(),
        assoc,
        itemsets,
        seasonal,
        rules: config.rules.clone(),
        model,
        blend,
    })
}

/// The transformer's best items that join the association candidates in suggest.
pub const MODEL_CANDIDATES: u32 = 100;

/// Fits the transformer, validating on the latest tenth of orders (see `validation_split`),
/// then fits the blend on those validation carts against association tables counted without
/// them, so neither the model nor the tables have seen the hidden items.
fn train_transformer(
    catalog: &Catalog,
    log: &OrderLog,
    config: &TrainConfig,
    fit_config: &FitConfig,
    seasonal: &SeasonalIndex,
    stage: &mut impl FnMut(&str),
) -> Result<(ModelExport, Blend), TrainError> {
    let (fit_baskets, validation) = validation_split(log, config.max_order_items, fit_config.seed);
    stage(&format!(
        "transformer: {} training baskets, {} validation carts",
        fit_baskets.len(),
        validation.len()
    ));
    let fitted = fit(
        catalog,
        &fit_baskets,
        &validation,
        fit_config,
        config.checkpoint.as_deref(),
        |e| {
            stage(&format!(
                "transformer epoch {}: loss {:.4}, validation HR@10 {:.4}",
                e.epoch, e.loss, e.val_hr10
            ));
            std::ops::ControlFlow::Continue(())
        },
    )?;
    let model = fitted.to_export(fit_config.quantize)?;
    stage("fitting the blend on the validation carts");
    let counts = count_pairs(&fit_baskets, catalog.len(), config.chunk_pairs);
    let candidates = Blend {
        model_candidates: MODEL_CANDIDATES,
        ..Blend::default()
    };
    let held_out = Engine::new(Export {
        meta: Meta::default(),
        catalog: catalog.clone(),
        assoc: build_table(&counts, &config.assoc),
        itemsets: Vec::new(),
        seasonal: seasonal.clone(),
        rules: config.rules.clone(),
        model: Some(model.clone()),
        blend: Blend::default(),
    })?;
    let carts = validation
        .iter()
        .map(|t| {
            let candidates: Vec<_> = held_out
                .features(&t.cart, t.month.unwrap_or(1), &candidates)?
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            let hidden = candidates.iter().position(|f| f.item == t.hidden);
            Ok(FitCart { candidates, hidden })
        })
        .collect::<Result<Vec<_>, crate::suggest::SuggestError>>()?;
    let assoc_only = blend::hit_rate(&Blend::default(), &carts);
    let model_only = blend::hit_rate(
        &Blend {
            assoc: 0.0,
            model: 1.0,
            popularity: 0.0,
            model_candidates: MODEL_CANDIDATES,
        },
        &carts,
    );
    let (blend, blended) = blend::fit(&carts, MODEL_CANDIDATES);
    stage(&format!(
        "blend: assoc {} + model {} + popularity {}; validation HR@10 {blended:.4} \
         (association only {assoc_only:.4}, model only {model_only:.4})",
        blend.assoc, blend.model, blend.popularity
    ));
    Ok((model, blend))
}
