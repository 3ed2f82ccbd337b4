//! Training: order log and catalog in, a complete [`Export`] out.

use crate::assoc::build::{build_table, AssocConfig};
use crate::assoc::count::{count_pairs, prepare_baskets, PairSet, DEFAULT_CHUNK_PAIRS};
use crate::assoc::itemsets::mine_triples;
use crate::catalog::Catalog;
use crate::export::{Export, Meta};
use crate::ingest::OrderLog;
use crate::rules::MerchantRules;
use crate::seasonal;

/// Everything that shapes training besides the data.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        }
    }
}

/// Counts, mines and assembles the export. `stage` is told the name of each step as it starts.
pub fn train(
    catalog: &Catalog,
    log: &OrderLog,
    config: &TrainConfig,
    mut stage: impl FnMut(&str),
) -> Export {
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
    Export {
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
    }
}
