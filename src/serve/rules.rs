//! Merchant rules: discount limits, margin floor, discount form and price endings,
//! exclusions, pinned bundles and bundle size.

use crate::serve::catalog::Product;
use crate::serve::money::Currency;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Basis points in one whole (100% = 10,000 bp); rules are integers so pricing stays exact.
pub const BP: u32 = 10_000;

/// Most add-ons a pinned bundle may hold.
pub const MAX_PINNED_ITEMS: usize = 3;

/// The merchant's rules, stored in the export (the authority) and tightened per call; an
/// unknown key in a rules file is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MerchantRules {
    /// Largest discount on a bundle, in basis points of its base price.
    pub max_discount_bp: u32,
    /// Smallest margin over cost a discounted bundle must keep, in basis points of cost.
    pub min_margin_bp: u32,
    /// Item ids never suggested.
    pub excluded_items: Vec<String>,
    /// Categories never suggested.
    pub excluded_categories: Vec<String>,
    /// Most add-ons in one bundle (1 or 2 in v1).
    pub max_addons: u8,
    /// Item ids that may be suggested but are never discounted.
    pub no_discount_items: Vec<String>,
    /// Categories whose items may be suggested but are never discounted.
    pub no_discount_categories: Vec<String>,
    /// The form a discount takes: any amount, whole percents, or whole currency units.
    pub discount_form: DiscountForm,
    /// What a discounted bundle's price ends in.
    pub price_ending: PriceEnding,
    /// Bundles the merchant shows first whenever the cart holds one of their triggers.
    pub pinned: Vec<PinnedBundle>,
}

/// The form a bundle discount takes, so it reads as the merchant wants ("10% off", "3.00 off").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscountForm {
    /// Any amount in minor units.
    #[default]
    Any,
    /// A whole percent of the bundle's base price (rounded half up to the minor unit).
    Percent,
    /// A whole number of major units (multiples of the currency's unit: 100 cents, 1 yen,
    /// 1,000 fils).
    Amount,
}

/// The ending a discounted bundle price must have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceEnding {
    /// Any price.
    #[default]
    #[serde(rename = "any")]
    Any,
    /// x.99 (x.990 in a three-decimal currency); needs a currency with at least two decimals.
    #[serde(rename = "99")]
    NinetyNine,
    /// A whole number of major units (every price, in a currency without decimals).
    #[serde(rename = "whole")]
    Whole,
}

impl PriceEnding {
    /// Whether a price in minor units of `currency` has this ending.
    pub fn fits(self, price: i64, currency: &Currency) -> bool {
        let unit = currency.unit();
        match self {
            PriceEnding::Any => true,
            PriceEnding::NinetyNine => {
                currency.exponent() >= 2 && price.rem_euclid(unit) == unit - unit / 100
            }
            PriceEnding::Whole => price.rem_euclid(unit) == 0,
        }
    }

    /// Why this ending cannot be kept in `currency`, if it cannot.
    pub fn problem(self, currency: &Currency) -> Option<String> {
        (self == PriceEnding::NinetyNine && currency.exponent() < 2).then(|| {
            format!(
                "\"99\" needs a currency with cents; {} has {} decimal(s): use \"whole\" or \"any\"",
                currency.code().unwrap_or("this currency"),
                currency.exponent()
            )
        })
    }
}

/// A bundle the merchant picked: shown first (in rule order) when the cart holds any of `when`
/// (always, when `when` is empty) and none of `items`, at `price` when fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinnedBundle {
    /// Cart item ids that trigger the bundle; empty triggers it for every cart.
    #[serde(default)]
    pub when: Vec<String>,
    /// The bundle's add-ons (1 to 3 item ids).
    pub items: Vec<String>,
    /// A fixed bundle price in minor units; priced like any bundle when absent.
    #[serde(default)]
    pub price: Option<i64>,
}

impl Default for MerchantRules {
    fn default() -> Self {
        Self {
            max_discount_bp: 1_500,
            min_margin_bp: 2_000,
            excluded_items: Vec::new(),
            excluded_categories: Vec::new(),
            max_addons: 2,
            no_discount_items: Vec::new(),
            no_discount_categories: Vec::new(),
            discount_form: DiscountForm::Any,
            price_ending: PriceEnding::Any,
            pinned: Vec::new(),
        }
    }
}

/// A rule value out of range, named by field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("rule {field}: {reason}")]
pub struct RuleError {
    pub field: String,
    pub reason: String,
}

impl RuleError {
    /// An error for `field`, with the reason it was refused.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A set of rules' exclusion lists as hash sets, so checking an item costs the same however
/// long the lists are (a call may add a thousand ids to each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    items: HashSet<String>,
    categories: HashSet<String>,
    no_discount_items: HashSet<String>,
    no_discount_categories: HashSet<String>,
}

impl Exclusions {
    /// The lists of `rules`.
    pub fn of(rules: &MerchantRules) -> Self {
        let set = |list: &[String]| list.iter().cloned().collect();
        Self {
            items: set(&rules.excluded_items),
            categories: set(&rules.excluded_categories),
            no_discount_items: set(&rules.no_discount_items),
            no_discount_categories: set(&rules.no_discount_categories),
        }
    }

    /// Whether the rules keep a product from being suggested.
    pub fn excludes(&self, p: &Product) -> bool {
        self.items.contains(&p.id) || self.categories.contains(&p.category)
    }

    /// Whether the rules let a product's price be discounted.
    pub fn discounts(&self, p: &Product) -> bool {
        !self.no_discount_items.contains(&p.id)
            && !self.no_discount_categories.contains(&p.category)
    }
}

impl MerchantRules {
    /// Checks every field is within its meaningful range.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.max_discount_bp > BP {
            return Err(RuleError::new(
                "maxDiscount",
                format!("{} bp is more than 100%", self.max_discount_bp),
            ));
        }
        if self.min_margin_bp > 10 * BP {
            return Err(RuleError::new(
                "minMargin",
                format!("{} bp is more than 1000%", self.min_margin_bp),
            ));
        }
        if !(1..=2).contains(&self.max_addons) {
            return Err(RuleError::new(
                "maxAddons",
                format!("{} is not 1 or 2", self.max_addons),
            ));
        }
        for (n, pin) in self.pinned.iter().enumerate() {
            let field = |name: &str| format!("pinned[{n}].{name}");
            if !(1..=MAX_PINNED_ITEMS).contains(&pin.items.len()) {
                return Err(RuleError::new(
                    field("items"),
                    format!(
                        "{} items; a pinned bundle has 1 to {MAX_PINNED_ITEMS}",
                        pin.items.len()
                    ),
                ));
            }
            if let Some((k, id)) = pin
                .items
                .iter()
                .enumerate()
                .find(|(k, id)| pin.items[..*k].contains(id))
            {
                return Err(RuleError::new(
                    format!("pinned[{n}].items[{k}]"),
                    format!("{id:?} is listed twice"),
                ));
            }
            if let Some(price) = pin.price.filter(|&p| !crate::serve::money::in_range(p)) {
                return Err(RuleError::new(
                    field("price"),
                    format!(
                        "{price} is outside 0 to {} minor units",
                        crate::serve::money::MAX_AMOUNT
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Converts a fraction given by a caller (0.15 = 15%) to basis points, rejecting nonsense.
pub fn fraction_to_bp(field: &'static str, value: f64, max: f64) -> Result<u32, RuleError> {
    if !value.is_finite() || value < 0.0 || value > max {
        return Err(RuleError::new(
            field,
            format!("{value} is not a fraction between 0 and {max}"),
        ));
    }
    Ok((value * BP as f64).round() as u32)
}
