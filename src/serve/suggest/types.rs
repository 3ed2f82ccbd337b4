//! What crosses the engine's boundary and passes between a call's steps: carts and options as
//! the page or the CLI gives them, suggestions as they go back, errors naming the field, and
//! the ranking's input ([`Query`]) and its scored candidates.

use super::new_items::{Fresh, NewItem, NewItemError};
use crate::serve::blend::Blend;
use crate::serve::catalog::Catalog;
use crate::serve::kernel::TableError;
use crate::serve::model::LoadError;
use crate::serve::pricing::Offer;
use crate::serve::rules::{
    fraction_to_bp, DiscountForm, Exclusions, MerchantRules, PinnedBundle, PriceEnding, RuleError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Default number of ranked items and bundles.
pub const DEFAULT_K: u32 = 5;
/// Largest `k` a call may ask for.
pub const MAX_K: u32 = 100;
/// Default places of the `k` held for the call's best new items.
pub const DEFAULT_NEW_ITEM_SLOTS: u32 = 1;

/// A cart entry: a bare id (CLI JSONL) or `{id, qty, title?}` (JS); `title` lets the basket
/// model read an item the export has never seen (cold start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartEntry {
    Id(String),
    Item {
        id: String,
        qty: u32,
        title: Option<String>,
    },
}

/// The object form of a cart entry; an unknown key is an error naming it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartItem {
    id: String,
    #[serde(default = "one")]
    qty: u32,
    #[serde(default)]
    title: Option<String>,
}

impl<'de> Deserialize<'de> for CartEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = CartEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an item id or {id, qty, title}")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<CartEntry, E> {
                Ok(CartEntry::Id(id.to_string()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<CartEntry, M::Error> {
                let item =
                    CartItem::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(CartEntry::Item {
                    id: item.id,
                    qty: item.qty,
                    title: item.title,
                })
            }
        }
        d.deserialize_any(Entry)
    }
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
#[serde(deny_unknown_fields)]
pub struct Cart {
    pub items: Vec<CartEntry>,
    /// The shopper's on-device history: item ids, most relevant (recent) first. A basket model
    /// trained with history (`train --history N`) reads it as its history token; others ignore
    /// it. It never leaves the engine.
    #[serde(default)]
    pub history: Vec<String>,
}

/// Per-call options; every field is optional and falls back to the export's rules, which an
/// option may only tighten. An unknown key is an error (a typo must not fall back silently).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SuggestOptions {
    /// Ranked items and bundles to return (1..=100, default 5).
    pub k: Option<u32>,
    /// Calendar month 1..=12 for seasonal factors; the caller's clock when absent.
    pub month: Option<u8>,
    /// Maximum discount as a fraction (0.15 = 15%), at most the export's.
    pub max_discount: Option<f64>,
    /// Minimum margin over cost as a fraction (0.2 = 20%), at least the export's.
    pub min_margin: Option<f64>,
    /// Item ids not to suggest in this call, besides the export's exclusions.
    pub exclude: Vec<String>,
    /// Categories not to suggest in this call, besides the export's.
    pub exclude_categories: Vec<String>,
    /// Item ids never discounted in this call, besides the export's.
    pub no_discount: Vec<String>,
    /// Categories never discounted in this call, besides the export's.
    pub no_discount_categories: Vec<String>,
    /// The discount's form ("any", "percent", "amount"): the export's, or a narrower one when
    /// the export's is "any".
    pub discount_form: Option<DiscountForm>,
    /// The discounted price's ending ("any", "99", "whole"): the export's, or a narrower one
    /// when the export's is "any".
    pub price_ending: Option<PriceEnding>,
    /// Pinned bundles for this call, shown before the export's and priced by its rules (no
    /// fixed `price`).
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
    /// The export's rules tightened by this call's options, every rule checked against the
    /// catalog. The export's rules are the authority: an option may lower the maximum discount,
    /// raise the margin floor, add exclusions, narrow an "any" discount form or price ending and
    /// pin bundles at the prices the rules give them; anything looser is an error naming the
    /// option and the export's limit.
    pub fn apply(
        &self,
        rules: &MerchantRules,
        catalog: &Catalog,
    ) -> Result<MerchantRules, RuleError> {
        let export = rules;
        let mut rules = rules.clone();
        if let Some(v) = self.max_discount {
            rules.max_discount_bp =
                tightened(Limit::Most, "maxDiscount", v, 1.0, export.max_discount_bp)?;
        }
        if let Some(v) = self.min_margin {
            rules.min_margin_bp =
                tightened(Limit::Least, "minMargin", v, 10.0, export.min_margin_bp)?;
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
        if let Some(form) = self.discount_form {
            if form != export.discount_form && export.discount_form != DiscountForm::Any {
                return Err(RuleError::new(
                    "discountForm",
                    format!(
                        "{} would loosen the export's discount form {}",
                        json_name(&form),
                        json_name(&export.discount_form)
                    ),
                ));
            }
            rules.discount_form = form;
        }
        if let Some(ending) = self.price_ending {
            if ending != export.price_ending && export.price_ending != PriceEnding::Any {
                return Err(RuleError::new(
                    "priceEnding",
                    format!(
                        "{} would loosen the export's price ending {}",
                        json_name(&ending),
                        json_name(&export.price_ending)
                    ),
                ));
            }
            rules.price_ending = ending;
        }
        if let Some(n) = self.pinned.iter().position(|p| p.price.is_some()) {
            return Err(RuleError::new(
                format!("pinned[{n}].price"),
                "a bundle pinned per call is priced by the export's rules; fixed prices come \
                 only from the export (train --rules), which the shop's server can verify",
            ));
        }
        rules.pinned.splice(0..0, self.pinned.iter().cloned());
        rules.validate()?;
        crate::serve::pricing::check_catalog(&rules, catalog)?;
        Ok(rules)
    }
}

/// Which way a per-call limit may move from the export's: down for a maximum, up for a minimum.
#[derive(Clone, Copy, PartialEq)]
enum Limit {
    Most,
    Least,
}

/// A per-call fraction in basis points (between 0 and `max`), refused when it loosens the
/// export's limit `export_bp`.
fn tightened(
    limit: Limit,
    field: &'static str,
    value: f64,
    max: f64,
    export_bp: u32,
) -> Result<u32, RuleError> {
    let bp = fraction_to_bp(field, value, max)?;
    let percent = |bp: u32| format!("{}%", bp as f64 / 100.0);
    let (looser, what) = match limit {
        Limit::Most => (bp > export_bp, "above the export's maximum discount"),
        Limit::Least => (bp < export_bp, "below the export's minimum margin"),
    };
    if looser {
        return Err(RuleError::new(
            field,
            format!(
                "{value} ({}) is {what} {}; options may only tighten the export's rules",
                percent(bp),
                percent(export_bp)
            ),
        ));
    }
    Ok(bp)
}

/// A rule value as the page writes it (`"percent"`, `"99"`), for error messages.
fn json_name<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// One reason as data, beside its English text: a stable `code` and its `params` (titles as
/// strings, figures as numbers, a month as 1-12), so a page can say it in its own language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub params: serde_json::Value,
    /// The English sentence (`Bundle::reasons`).
    #[serde(skip)]
    pub text: String,
}

/// One item shown in a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleItem {
    pub id: String,
    pub title: String,
    /// Unit price in minor units.
    pub price: i64,
    /// The product's image, when the catalog has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The product's page, when the catalog has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
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
    /// The same reasons as codes and parameters, for pages in other languages.
    pub reason_codes: Vec<Reason>,
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

/// A call input over its budget, named by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {got} {unit} is over the budget of {max} (README, \"Input budgets\")")]
pub struct BudgetError {
    pub field: String,
    pub got: usize,
    pub max: usize,
    pub unit: &'static str,
}

/// A call that cannot be answered, naming the offending field (or the model step that failed).
#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error("option k: {0} is not between 1 and {MAX_K}")]
    K(u32),
    #[error("option month: {0} is not between 1 and 12")]
    Month(u8),
    #[error("option {0}")]
    Rule(#[from] RuleError),
    #[error("{0}")]
    Budget(#[from] BudgetError),
    #[error("{0}")]
    NewItem(#[from] NewItemError),
    /// The export's basket model could not be rebuilt.
    #[error("basket model: {0}")]
    Load(#[from] LoadError),
    /// A step of the basket model's forward failed.
    #[error("basket model: {0}")]
    Model(#[from] candle_core::Error),
    /// The catalog-scoring kernel refused its input.
    #[error("basket model: {0}")]
    Kernel(#[from] TableError),
    #[error("basket model: this export has no basket model")]
    NoModel,
    #[error("basket model: the cart's catalog scores are missing")]
    MissingScores,
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
    /// The shopper bought it before (in the page's on-device history), and no cart item points
    /// to it: a candidate because the blend weighs rebuys.
    Rebuy,
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

/// What a ranking is asked: the cart's known items (catalog indices, in cart order), the
/// shopper's history (most recent first), the month for seasonal factors, the blend that weighs
/// the evidence, and title vectors of cart items the export has never seen.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub cart: &'a [u32],
    pub history: &'a [u32],
    pub month: u8,
    pub blend: &'a Blend,
    /// The basket model's vectors of unseen cart items, by their titles (cold start).
    pub unseen: &'a [candle_core::Tensor],
}

impl<'a> Query<'a> {
    /// A cart with no history and no unseen items.
    pub fn new(cart: &'a [u32], month: u8, blend: &'a Blend) -> Self {
        Self {
            cart,
            history: &[],
            month,
            blend,
            unseen: &[],
        }
    }
}

/// A bundle before pricing: its add-ons (item indices) and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleOption {
    pub items: Vec<u32>,
    pub score: f32,
    /// Orders that bought the cart item and both add-ons as one itemset, if it came from one.
    pub itemset_count: Option<u32>,
    /// The merchant pinned it; `Some(price)` when at a fixed bundle price.
    pub pinned: Option<Option<i64>>,
}

/// What one call's bundles are built under: the merchant's rules with the call's overrides
/// (and their exclusion lists as sets), the call's stock levels (item index → units) and its
/// new items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    pub rules: MerchantRules,
    pub exclusions: Exclusions,
    pub stock: HashMap<u32, u32>,
    pub fresh: Fresh,
}

impl Terms {
    /// The terms of a call under `rules`.
    pub fn new(rules: MerchantRules, stock: HashMap<u32, u32>, fresh: Fresh) -> Self {
        Self {
            exclusions: Exclusions::of(&rules),
            rules,
            stock,
            fresh,
        }
    }
}
