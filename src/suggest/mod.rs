//! Suggestions for a cart: ranked add-ons, bundles of one or two, prices and reasons.
//!
//! One code path for the native CLI and the wasm `Engine`; nothing here reads a clock or the
//! network, so the same export, cart and options give the same answer in both builds.

pub mod blend;
pub mod bundles;
pub mod new_items;
pub mod reasons;

use crate::export::Export;
use crate::kernel::{cpu, Hit, ItemTable};
use crate::model::{top_items, BasketModel};
use crate::pricing::Offer;
use crate::rules::{
    fraction_to_bp, DiscountForm, MerchantRules, PinnedBundle, PriceEnding, RuleError,
};
use blend::Features;
use bundles::Terms;
use new_items::{CategoryLift, Fresh, NewItem, NewItemError, PriorCounts};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Default number of ranked items and bundles.
pub const DEFAULT_K: u32 = 5;
/// Largest `k` a call may ask for.
pub const MAX_K: u32 = 100;
/// Default places of the `k` held for the call's best new items.
pub const DEFAULT_NEW_ITEM_SLOTS: u32 = 1;

/// A cart entry: a bare id (CLI JSONL) or `{id, qty, title?}` (JS); `title` lets the basket
/// model read an item the export has never seen (cold start).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CartEntry {
    Id(String),
    Item {
        id: String,
        #[serde(default = "one")]
        qty: u32,
        #[serde(default)]
        title: Option<String>,
    },
}

fn one() -> u32 {
    1
}

impl CartEntry {
    /// The item id of the entry.
    pub fn id(&self) -> &str {
        match self {
            CartEntry::Id(id) | CartEntry::Item { id, .. } => id,
        }
    }

    /// The title the page gave, if any.
    pub fn title(&self) -> Option<&str> {
        match self {
            CartEntry::Item { title, .. } => title.as_deref(),
            CartEntry::Id(_) => None,
        }
    }
}

/// The shopper's cart, and what the shopper did before on this device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Cart {
    pub items: Vec<CartEntry>,
    /// The shopper's on-device history: item ids, most relevant (recent) first. A basket model
    /// trained with history (`train --history N`) reads it as its history token; others ignore
    /// it. It never leaves the engine.
    #[serde(default)]
    pub history: Vec<String>,
}

/// Per-call options; every field is optional and falls back to the export's rules.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SuggestOptions {
    /// Ranked items and bundles to return (1..=100, default 5).
    pub k: Option<u32>,
    /// Calendar month 1..=12 for seasonal factors; the caller's clock when absent.
    pub month: Option<u8>,
    /// Maximum discount as a fraction (0.15 = 15%), overriding the export's rule.
    pub max_discount: Option<f64>,
    /// Minimum margin over cost as a fraction (0.2 = 20%), overriding the export's rule.
    pub min_margin: Option<f64>,
    /// Item ids not to suggest in this call, besides the export's exclusions.
    pub exclude: Vec<String>,
    /// Categories not to suggest in this call, besides the export's.
    pub exclude_categories: Vec<String>,
    /// Item ids never discounted in this call, besides the export's.
    pub no_discount: Vec<String>,
    /// Categories never discounted in this call, besides the export's.
    pub no_discount_categories: Vec<String>,
    /// The discount's form ("any", "percent", "amount"), overriding the export's rule.
    pub discount_form: Option<DiscountForm>,
    /// The discounted price's ending ("any", "99", "whole"), overriding the export's rule.
    pub price_ending: Option<PriceEnding>,
    /// Pinned bundles for this call, shown before the export's.
    pub pinned: Vec<PinnedBundle>,
    /// Units in stock per item id: an item at 0 is not suggested, and a bundle whose items all
    /// have a stock level reports the smallest as its own.
    pub stock: HashMap<String, u32>,
    /// Products the export has never seen (cold start), ranked and bundled with the catalog:
    /// the basket model reads their titles.
    pub new_items: Vec<NewItem>,
    /// Of the `k` places, how many at least go to the best of `newItems` (default 1): with no
    /// orders behind them they rarely outscore items with co-purchase evidence, so without a
    /// place of their own new products would never be shown. 0 lets them compete alone.
    pub new_item_slots: Option<u32>,
}

impl SuggestOptions {
    /// The export's rules with this call's overrides; every rule checked against the catalog.
    pub fn apply(
        &self,
        rules: &MerchantRules,
        catalog: &crate::catalog::Catalog,
    ) -> Result<MerchantRules, RuleError> {
        let mut rules = rules.clone();
        if let Some(v) = self.max_discount {
            rules.max_discount_bp = fraction_to_bp("maxDiscount", v, 1.0)?;
        }
        if let Some(v) = self.min_margin {
            rules.min_margin_bp = fraction_to_bp("minMargin", v, 10.0)?;
        }
        rules.excluded_items.extend(self.exclude.iter().cloned());
        rules
            .excluded_categories
            .extend(self.exclude_categories.iter().cloned());
        rules
            .no_discount_items
            .extend(self.no_discount.iter().cloned());
        rules
            .no_discount_categories
            .extend(self.no_discount_categories.iter().cloned());
        rules.discount_form = self.discount_form.unwrap_or(rules.discount_form);
        rules.price_ending = self.price_ending.unwrap_or(rules.price_ending);
        rules.pinned.splice(0..0, self.pinned.iter().cloned());
        rules.validate()?;
        rules.check_catalog(catalog)?;
        Ok(rules)
    }
}

/// One item shown in a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleItem {
    pub id: String,
    pub title: String,
    /// Unit price in minor units.
    pub price: i64,
}

/// A bundle of add-ons for the cart, priced and explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub items: Vec<BundleItem>,
    pub base_price: i64,
    pub discount: i64,
    pub bundle_price: i64,
    pub score: f32,
    pub reasons: Vec<String>,
    /// Units available: the smallest stock of its items, when the call gave every item's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<u32>,
    /// What its price was chosen from (chance at list price, sensitivity, costs).
    #[serde(skip)]
    pub offer: Offer,
}

/// The answer for one cart: single-item ranking (ids, best first) and bundles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    pub items: Vec<String>,
    pub bundles: Vec<Bundle>,
    /// Cart ids the export does not know; they were ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
    /// History ids the export does not know; they were ignored.
    #[serde(rename = "unknownHistory", skip_serializing_if = "Vec::is_empty")]
    pub unknown_history: Vec<String>,
    /// Cart ids the export does not know that the basket model read by their titles.
    #[serde(rename = "coldStart", skip_serializing_if = "Vec::is_empty")]
    pub cold_start: Vec<String>,
}

/// The basket model's ranking of a cart's completions: ids best first and their logits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelScores {
    pub items: Vec<String>,
    pub scores: Vec<f32>,
    /// Cart ids the export does not know; they were ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// A call that cannot be answered, naming the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SuggestError {
    #[error("option k: {0} is not between 1 and {MAX_K}")]
    K(u32),
    #[error("option month: {0} is not between 1 and 12")]
    Month(u8),
    #[error("option {0}")]
    Rule(#[from] RuleError),
    #[error("basket model: {0}")]
    Model(String),
    #[error("{0}")]
    NewItem(#[from] NewItemError),
}

/// Why an item is a candidate: its strongest association with a cart item, its strongest EASE
/// weight from one, the basket model, or popularity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence {
    /// `anchor` (in the cart) and the candidate share `count` orders.
    Assoc {
        anchor: u32,
        count: u32,
        contribution: f32,
    },
    /// No association evidence; `anchor` (in the cart) has EASE weight `weight` toward it.
    Learned { anchor: u32, weight: f32 },
    /// No association or EASE evidence; among the basket model's best completions of the cart.
    Model,
    /// No association evidence: ranked by how many orders contain it.
    Popular,
    /// A product the export has never seen, passed with the call; `read` when the basket
    /// model scored it from its title and category (otherwise its category alone ranks it).
    New { read: bool },
}

/// A scored candidate add-on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub item: u32,
    pub score: f32,
    pub evidence: Evidence,
}

/// The basket model's item vectors as the scoring kernels rank them: int8 rows (one scale per
/// row) of the items a suggestion may offer, merchant exclusions left out.
pub struct ScoringTable {
    /// The rows, in catalog order of the items they hold.
    pub table: ItemTable,
    /// Row → catalog index.
    items: Vec<u32>,
    /// Catalog index → row, `u32::MAX` for an excluded item.
    rows: Vec<u32>,
}

impl ScoringTable {
    fn new(model: &BasketModel, excluded: &[bool]) -> Result<Self, SuggestError> {
        let dim = model.config.dim;
        let vectors = model
            .item_vectors()
            .map_err(|e| SuggestError::Model(format!("item table: {e}")))?;
        let mut kept = Vec::with_capacity(vectors.len());
        let mut items = Vec::new();
        let mut rows = vec![u32::MAX; excluded.len()];
        for (i, row) in vectors.chunks_exact(dim).enumerate() {
            if !excluded.get(i).copied().unwrap_or(true) {
                rows[i] = items.len() as u32;
                items.push(i as u32);
                kept.extend_from_slice(row);
            }
        }
        let table = ItemTable::int8(&kept, dim).map_err(|e| SuggestError::Model(e.to_string()))?;
        Ok(Self { table, items, rows })
    }

    /// The catalog index of a row.
    pub fn item(&self, row: u32) -> u32 {
        self.items[row as usize]
    }
}

/// What a call asks of the catalog-scoring kernel: the basket model's query vector for the
/// cart and how many of the best rows of [`ScoringTable`] it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelQuery {
    pub vector: Vec<f32>,
    pub k: usize,
}

/// A suggest call up to its catalog-scoring step, which a caller may run on any backend (the
/// CPU kernel, or WebGPU asynchronously) before [`Engine::finish`].
#[derive(Debug, Clone)]
pub struct Pending {
    in_cart: Vec<u32>,
    history: Vec<u32>,
    unknown: Vec<String>,
    unknown_history: Vec<String>,
    cold_start: Vec<String>,
    k: u32,
    new_item_slots: u32,
    month: u8,
    terms: Terms,
    query: Option<ModelQuery>,
}

impl Pending {
    /// The scoring the call needs, if the export's blend consults the basket model.
    pub fn query(&self) -> Option<&ModelQuery> {
        self.query.as_ref()
    }
}

/// Loaded export, its basket model (when it has one) and the per-item exclusion mask.
pub struct Engine {
    export: Export,
    model: Option<BasketModel>,
    scoring: Option<ScoringTable>,
    excluded: Vec<bool>,
    /// How popular a new item of a category is assumed to be.
    priors: PriorCounts,
    /// How well a new item's category goes with a cart's.
    category_lift: CategoryLift,
    /// Known items' title vectors, unit length, row-major: computed when a new item first
    /// needs its look-alike.
    title_rows: OnceLock<Vec<f32>>,
    /// New items' title vectors by title: a page passes the same new products on every call.
    title_cache: Mutex<HashMap<String, Option<Vec<f32>>>>,
}

impl Engine {
    /// Prepares an engine over a decoded export, rebuilding its basket model if it has one.
    pub fn new(export: Export) -> Result<Self, SuggestError> {
        let rules = &export.rules;
        let excluded: Vec<bool> = export
            .catalog
            .products()
            .iter()
            .map(|p| rules.excludes(p))
            .collect();
        let model = match &export.model {
            Some(m) => Some(
                m.load(&export.catalog.titles())
                    .map_err(SuggestError::Model)?,
            ),
            None => None,
        };
        let scoring = match &model {
            Some(m) => Some(ScoringTable::new(m, &excluded)?),
            None => None,
        };
        let priors = PriorCounts::new(&export.catalog, &export.assoc.item_counts);
        let category_lift = CategoryLift::new(&export.catalog, &export.assoc);
        Ok(Self {
            export,
            model,
            scoring,
            excluded,
            priors,
            category_lift,
            title_rows: OnceLock::new(),
            title_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The table the catalog-scoring kernels rank, when the export has a basket model.
    pub fn scoring_table(&self) -> Option<&ScoringTable> {
        self.scoring.as_ref()
    }

    /// The kernel query a cart needs under `blend`: `None` when the blend does not consult the
    /// model, the export has none, or the cart is empty.
    pub fn model_query(
        &self,
        cart: &[u32],
        blend: &blend::Blend,
    ) -> Result<Option<ModelQuery>, SuggestError> {
        self.model_query_with_history(cart, &[], blend)
    }

    /// [`Engine::model_query`] for a shopper with a history (item indices, most recent first).
    pub fn model_query_with_history(
        &self,
        cart: &[u32],
        history: &[u32],
        blend: &blend::Blend,
    ) -> Result<Option<ModelQuery>, SuggestError> {
        self.model_query_cold(cart, &[], history, blend)
    }

    /// [`Engine::model_query_with_history`] with cart items the export has never seen, as the
    /// model's title vectors of them (see [`Engine::cold_cart_vectors`]).
    fn model_query_cold(
        &self,
        cart: &[u32],
        unseen: &[candle_core::Tensor],
        history: &[u32],
        blend: &blend::Blend,
    ) -> Result<Option<ModelQuery>, SuggestError> {
        let weighs_model = blend.model != 0.0 || blend.model_candidates > 0;
        let Some(model) = self
            .model
            .as_ref()
            .filter(|_| weighs_model && !(cart.is_empty() && unseen.is_empty()))
        else {
            return Ok(None);
        };
        let vector = model
            .query_vector_with(cart, history, unseen)
            .map_err(|e| SuggestError::Model(e.to_string()))?;
        // Cart items may be among the best rows; ask for enough to drop them.
        let k = (blend.model_candidates as usize + cart.len()).min(crate::kernel::gpu::MAX_K);
        Ok(Some(ModelQuery { vector, k }))
    }

    /// Runs a query on the CPU kernel: the reference every other backend must equal.
    pub fn cpu_hits(&self, query: &ModelQuery) -> Result<Vec<Hit>, SuggestError> {
        let table = self
            .scoring_table()
            .expect("a model query implies a scoring table");
        cpu::top_k(&table.table, &query.vector, query.k)
            .map_err(|e| SuggestError::Model(e.to_string()))
    }

    /// Whether an item (a new one of the call's too) may not be suggested under the export's
    /// exclusions or a call's rules.
    pub fn blocked(&self, item: u32, terms: &Terms) -> bool {
        let product = terms.fresh.shelf(&self.export.catalog).get(item);
        self.excluded.get(item as usize).copied().unwrap_or(false) || terms.rules.excludes(product)
    }

    /// The export behind the engine.
    pub fn export(&self) -> &Export {
        &self.export
    }

    /// The basket model, when the export has one.
    pub fn model(&self) -> Option<&BasketModel> {
        self.model.as_ref()
    }

    /// The blend's evidence for every candidate add-on of a cart (indices), unordered.
    ///
    /// Candidates are the association neighbours of cart items, the items their EASE rows
    /// weigh positively and the model's best `blend.model_candidates` items; with none of these
    /// (an empty or unknown cart), every ordered item. EASE and the model are consulted only
    /// when the blend weighs them.
    pub fn features(
        &self,
        cart: &[u32],
        history: &[u32],
        month: u8,
        blend: &blend::Blend,
    ) -> Result<Vec<(Features, Evidence)>, SuggestError> {
        let (query, hits) = self.cpu_scored(cart, history, blend)?;
        self.features_from(
            cart,
            history,
            month,
            blend,
            query.as_ref().zip(hits.as_deref()),
        )
    }

    /// The model query of a cart and shopper history under `blend`, and its best rows on the
    /// CPU kernel; none when the blend does not consult the model.
    fn cpu_scored(
        &self,
        cart: &[u32],
        history: &[u32],
        blend: &blend::Blend,
    ) -> Result<(Option<ModelQuery>, Option<Vec<Hit>>), SuggestError> {
        let query = self.model_query_with_history(cart, history, blend)?;
        let hits = query.as_ref().map(|q| self.cpu_hits(q)).transpose()?;
        Ok((query, hits))
    }

    /// [`Engine::features`] given the model query's best rows (from any backend).
    fn features_from(
        &self,
        cart: &[u32],
        history: &[u32],
        month: u8,
        blend: &blend::Blend,
        scored: Option<(&ModelQuery, &[Hit])>,
    ) -> Result<Vec<(Features, Evidence)>, SuggestError> {
        let export = &self.export;
        let assoc = &export.assoc;
        let blocked = |j: u32| self.excluded[j as usize] || cart.contains(&j);
        let popularity = |j: u32| {
            ((assoc.item_counts[j as usize] as f32 + 1.0) / (assoc.orders as f32 + 1.0)).ln()
        };
        let mut slot: HashMap<u32, usize> = HashMap::new();
        let mut out: Vec<(Features, Evidence)> = Vec::new();
        // The candidate's entry in `out`, created with `evidence` when new.
        let mut add = |j: u32, evidence: Evidence, out: &mut Vec<(Features, Evidence)>| {
            *slot.entry(j).or_insert_with(|| {
                out.push((
                    Features {
                        item: j,
                        assoc: 0.0,
                        ease: 0.0,
                        model: 0.0,
                        popularity: popularity(j),
                        history: 0.0,
                    },
                    evidence,
                ));
                out.len() - 1
            })
        };
        for &i in cart {
            for nb in assoc.row(i) {
                if nb.score <= 0.0 || blocked(nb.item) {
                    continue;
                }
                let k = add(nb.item, Evidence::Popular, &mut out);
                let (f, evidence) = &mut out[k];
                f.assoc += nb.score;
                let stronger = match *evidence {
                    Evidence::Assoc { contribution, .. } => nb.score > contribution,
                    _ => true,
                };
                if stronger {
                    *evidence = Evidence::Assoc {
                        anchor: i,
                        count: nb.count,
                        contribution: nb.score,
                    };
                }
            }
        }
        let ease = export.ease.as_ref().filter(|_| blend.ease != 0.0);
        if let Some(ease) = ease {
            for &i in cart {
                for (j, w) in ease.row(i) {
                    if w <= 0.0 || blocked(j) {
                        continue;
                    }
                    let k = add(
                        j,
                        Evidence::Learned {
                            anchor: i,
                            weight: w,
                        },
                        &mut out,
                    );
                    let evidence = &mut out[k].1;
                    if matches!(*evidence, Evidence::Learned { weight, .. } if w > weight) {
                        *evidence = Evidence::Learned {
                            anchor: i,
                            weight: w,
                        };
                    }
                }
            }
        }
        if let (Some((query, hits)), Some(table)) = (scored, &self.scoring) {
            let best = hits
                .iter()
                .map(|h| table.item(h.item))
                .filter(|&j| !blocked(j));
            for j in best.take(blend.model_candidates as usize) {
                add(j, Evidence::Model, &mut out);
            }
            // Every candidate's model score, as the kernel scores its row; excluded items have
            // no row and are never candidates.
            let rows: Vec<u32> = out
                .iter()
                .map(|(f, _)| table.rows[f.item as usize])
                .collect();
            let scores = cpu::scores_of(&table.table, &query.vector, &rows)
                .map_err(|e| SuggestError::Model(e.to_string()))?;
            for ((f, _), s) in out.iter_mut().zip(scores) {
                f.model = s;
            }
        }
        for (f, _) in &mut out {
            f.assoc *= export.seasonal.factor(f.item, month);
        }
        // Every cart item's EASE row adds to the candidates it keeps, substitutes included.
        if let Some(ease) = ease {
            for &i in cart {
                for (j, w) in ease.row(i) {
                    if let Some(&k) = slot.get(&j) {
                        out[k].0.ease += w;
                    }
                }
            }
        }
        if out.is_empty() {
            out = (0..assoc.items() as u32)
                .filter(|&j| !blocked(j) && assoc.item_counts[j as usize] > 0)
                .map(|j| {
                    let f = Features {
                        item: j,
                        assoc: 0.0,
                        ease: 0.0,
                        model: 0.0,
                        popularity: popularity(j) + export.seasonal.factor(j, month).ln(),
                        history: 0.0,
                    };
                    (f, Evidence::Popular)
                })
                .collect();
        }
        // The shopper's affinity: how strongly past items (not in the cart) go with each
        // candidate. It ranks the candidates (the bestsellers of an empty cart too); it adds
        // none.
        if blend.history != 0.0 {
            let at: HashMap<u32, usize> = out
                .iter()
                .enumerate()
                .map(|(k, (f, _))| (f.item, k))
                .collect();
            for &h in history.iter().filter(|h| !cart.contains(h)) {
                for nb in assoc.row(h) {
                    if let Some(&k) = at.get(&nb.item) {
                        out[k].0.history += nb.score.max(0.0);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Ranks candidate add-ons for cart items (indices) by the export's blend, best first,
    /// ties by item index. Without association or model evidence, seasonal popularity ranks.
    pub fn candidates(&self, cart: &[u32], month: u8) -> Result<Vec<Candidate>, SuggestError> {
        self.candidates_with(cart, &[], month, &self.export.blend)
    }

    /// [`Engine::candidates`] for a shopper with a history (item indices, most recent first)
    /// under another blend (for evaluation against the export's).
    pub fn candidates_with(
        &self,
        cart: &[u32],
        history: &[u32],
        month: u8,
        blend: &blend::Blend,
    ) -> Result<Vec<Candidate>, SuggestError> {
        let (query, hits) = self.cpu_scored(cart, history, blend)?;
        self.rank(
            cart,
            history,
            month,
            blend,
            query.as_ref().zip(hits.as_deref()),
            &Fresh::default(),
        )
    }

    /// Ranks the candidates of [`Engine::features_from`] and the call's new items by `blend`.
    fn rank(
        &self,
        cart: &[u32],
        history: &[u32],
        month: u8,
        blend: &blend::Blend,
        scored: Option<(&ModelQuery, &[Hit])>,
        fresh: &Fresh,
    ) -> Result<Vec<Candidate>, SuggestError> {
        let fallback = blend::Blend {
            popularity: 1.0,
            history: blend.history,
            ..blend::Blend::default()
        };
        let mut features = self.features_from(cart, history, month, blend, scored)?;
        // New items are ranked the way the known candidates are: by popularity alone when
        // nothing in the cart points anywhere (the bestsellers), else by the blend.
        let by_popularity = features.iter().all(|(_, e)| matches!(e, Evidence::Popular));
        features.extend(self.new_item_features(cart, fresh, scored.map(|(q, _)| q))?);
        let mut out: Vec<Candidate> = features
            .into_iter()
            .map(|(f, evidence)| Candidate {
                item: f.item,
                score: match evidence {
                    Evidence::Popular => fallback.score(&f),
                    Evidence::New { .. } if by_popularity => fallback.score(&f),
                    _ => blend.score(&f),
                },
                evidence,
            })
            .collect();
        // Bundles add their items' scores, so keep scores non-negative (logits and log
        // popularity are not): shift the list so its weakest candidate scores 0.
        let floor = out.iter().map(|c| c.score).fold(0.0f32, f32::min);
        for c in &mut out {
            c.score -= floor;
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        Ok(out)
    }

    /// The cart's distinct known items (indices, in cart order) and its unknown ids.
    fn resolve(&self, cart: &Cart) -> (Vec<u32>, Vec<String>) {
        self.resolve_ids(cart.items.iter().map(CartEntry::id))
    }

    /// Title vectors of the cart's unknown ids that came with a title the basket model can
    /// read (or are among the call's new items), with those ids; the rest of `unknown` stays
    /// unknown.
    fn cold_cart_vectors(
        &self,
        cart: &Cart,
        fresh: &Fresh,
        unknown: &mut Vec<String>,
    ) -> Result<(Vec<candle_core::Tensor>, Vec<String>), SuggestError> {
        let mut vectors = Vec::new();
        let mut read = Vec::new();
        for entry in &cart.items {
            let id = entry.id();
            let listed = || fresh.lookup(id).map(|p| p.title.as_str());
            let Some(title) = entry.title().or_else(listed) else {
                continue;
            };
            if read.iter().any(|r| r == id) || !unknown.iter().any(|u| u == id) {
                continue;
            }
            if let Some(v) = self.read_title(title)? {
                let v = candle_core::Tensor::new(v.as_slice(), &candle_core::Device::Cpu)
                    .map_err(|e| SuggestError::Model(e.to_string()))?;
                vectors.push(v);
                read.push(id.to_string());
            }
        }
        unknown.retain(|u| !read.contains(u));
        Ok((vectors, read))
    }

    /// Distinct known items of a list of ids (indices, in order) and its unknown ids.
    fn resolve_ids<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> (Vec<u32>, Vec<String>) {
        let mut known: Vec<u32> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for id in ids {
            match self.export.catalog.lookup(id) {
                Some(i) if !known.contains(&i) => known.push(i),
                Some(_) => {}
                None if !unknown.iter().any(|u| u == id) => unknown.push(id.to_string()),
                None => {}
            }
        }
        (known, unknown)
    }

    /// The basket model's own top `k` completions of a cart with their logits, cart items
    /// left out (ties by item index): what both builds must agree on.
    pub fn model_scores(&self, cart: &Cart, k: u32) -> Result<ModelScores, SuggestError> {
        if !(1..=MAX_K).contains(&k) {
            return Err(SuggestError::K(k));
        }
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| SuggestError::Model("this export has no basket model".into()))?;
        let (in_cart, unknown) = self.resolve(cart);
        let logits = model
            .cart_logits(&in_cart)
            .map_err(|e| SuggestError::Model(e.to_string()))?;
        let items = top_items(&logits, k as usize, |j| !in_cart.contains(&j));
        Ok(ModelScores {
            items: items
                .iter()
                .map(|&j| self.export.catalog.get(j).id.clone())
                .collect(),
            scores: items.iter().map(|&j| logits[j as usize]).collect(),
            unknown,
        })
    }

    /// Answers one cart: ranking, bundles, prices and reasons. `clock_month` is used when the
    /// options name no month. Catalog scoring runs on the CPU kernel.
    pub fn suggest(
        &self,
        cart: &Cart,
        options: &SuggestOptions,
        clock_month: u8,
    ) -> Result<Suggestions, SuggestError> {
        let pending = self.begin(cart, options, clock_month)?;
        let hits = pending.query().map(|q| self.cpu_hits(q)).transpose()?;
        self.finish(pending, hits)
    }

    /// Checks a call and prepares its catalog scoring: the first half of [`Engine::suggest`].
    pub fn begin(
        &self,
        cart: &Cart,
        options: &SuggestOptions,
        clock_month: u8,
    ) -> Result<Pending, SuggestError> {
        let k = options.k.unwrap_or(DEFAULT_K);
        if !(1..=MAX_K).contains(&k) {
            return Err(SuggestError::K(k));
        }
        let month = options.month.unwrap_or(clock_month);
        if !(1..=12).contains(&month) {
            return Err(SuggestError::Month(month));
        }
        let rules = options.apply(&self.export.rules, &self.export.catalog)?;
        let fresh = self.fresh(&options.new_items)?;
        let shelf = fresh.shelf(&self.export.catalog);
        // Stock of ids neither the export nor the call knows cannot matter: those items are
        // never suggested.
        let stock = options
            .stock
            .iter()
            .filter_map(|(id, &n)| shelf.lookup(id).map(|i| (i, n)))
            .collect();
        let (in_cart, mut unknown) = self.resolve(cart);
        let (unseen, cold_start) = self.cold_cart_vectors(cart, &fresh, &mut unknown)?;
        let (history, unknown_history) = self.resolve_ids(cart.history.iter().map(String::as_str));
        let query = self.model_query_cold(&in_cart, &unseen, &history, &self.export.blend)?;
        Ok(Pending {
            in_cart,
            history,
            unknown,
            unknown_history,
            cold_start,
            k,
            new_item_slots: options
                .new_item_slots
                .unwrap_or(DEFAULT_NEW_ITEM_SLOTS)
                .min(k),
            month,
            terms: Terms {
                rules,
                stock,
                fresh,
            },
            query,
        })
    }

    /// Ranks, bundles, prices and explains a prepared call given its query's best rows: the
    /// second half of [`Engine::suggest`]. `hits` must answer `pending.query()`.
    pub fn finish(
        &self,
        pending: Pending,
        hits: Option<Vec<Hit>>,
    ) -> Result<Suggestions, SuggestError> {
        let Pending {
            in_cart,
            history,
            unknown,
            unknown_history,
            cold_start,
            k,
            new_item_slots,
            month,
            mut terms,
            query,
        } = pending;
        let scored = match (&query, &hits) {
            (Some(q), Some(h)) => Some((q, h.as_slice())),
            (None, _) => None,
            (Some(_), None) => {
                return Err(SuggestError::Model(
                    "the cart's catalog scores are missing".into(),
                ))
            }
        };
        let mut candidates = self.rank(
            &in_cart,
            &history,
            month,
            &self.export.blend,
            scored,
            &terms.fresh,
        )?;
        let shelf = terms.fresh.shelf(&self.export.catalog);
        // A new item the cart already holds came in as a cold cart item (or stayed unknown).
        let carried = |id: &String| cold_start.contains(id) || unknown.contains(id);
        candidates.retain(|c| {
            !self.blocked(c.item, &terms)
                && terms.stock.get(&c.item) != Some(&0)
                && !carried(&shelf.get(c.item).id)
        });
        new_items::hold_places(
            &mut candidates,
            k as usize,
            new_item_slots as usize,
            |c: &Candidate| matches!(c.evidence, Evidence::New { .. }),
        );
        let items = candidates
            .iter()
            .take(k as usize)
            .map(|c| shelf.get(c.item).id.clone())
            .collect();
        // The new items a bundle may hold get their look-alike for the "similar title" reason.
        let bundled: Vec<u32> = bundles::pool(&candidates, shelf, k as usize)
            .iter()
            .map(|c| c.item)
            .collect();
        terms.fresh.look_alike = self.look_alikes(&terms.fresh, &bundled)?;
        // Reasons cite history items the cart does not already explain.
        let past: Vec<u32> = history
            .into_iter()
            .filter(|h| !in_cart.contains(h))
            .collect();
        let bundles = bundles::build(
            self,
            &in_cart,
            &past,
            &candidates,
            &terms,
            month,
            k as usize,
        );
        Ok(Suggestions {
            items,
            bundles,
            unknown,
            unknown_history,
            cold_start,
        })
    }
}
