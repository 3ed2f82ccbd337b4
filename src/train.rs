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
use crate::seasonal;

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
    let model = match &config.transformer {
        Some(fit_config) => Some(train_transformer(
            catalog,
            log,
            config.max_order_items,
            fit_config,
            &mut stage,
        )?),
        None => None,
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
    })
}

/// Fits the transformer, validating on the latest tenth of orders (see `validation_split`).
fn train_transformer(
    catalog: &Catalog,
    log: &OrderLog,
    max_order_items: usize,
    config: &FitConfig,
    stage: &mut impl FnMut(&str),
) -> Result<ModelExport, TrainError> {
    let (fit_baskets, validation) = validation_split(log, max_order_items, config.seed);
    stage(&format!(
        "transformer: {} training baskets, {} validation carts",
        fit_baskets.len(),
        validation.len()
    ));
    let fitted = fit(catalog, &fit_baskets, &validation, config, |e| {
        stage(&format!(
            "transformer epoch {}: loss {:.4}, validation HR@10 {:.4}",
            e.epoch, e.loss, e.val_hr10
        ))
    })?;
    fitted.to_export(config.quantize)
}
