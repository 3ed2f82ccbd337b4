//! Merchant rules: discount limits, margin floor, discount form and price endings,
//! exclusions, pinned bundles and bundle size.

use crate::catalog::{Catalog, Product};
use crate::money::format_minor;
use crate::pricing::{Limits, Offer};
use serde::{Deserialize, Serialize};

/// Basis points in one whole (100% = 10,000 bp); rules are integers so pricing stays exact.
pub const BP: u32 = 10_000;

/// Most add-ons a pinned bundle may hold.
pub const MAX_PINNED_ITEMS: usize = 3;

/// The merchant's rules, stored in the export and overridable per call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
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
    /// A whole number of major units (multiples of 100 minor units).
    Amount,
}

/// The ending a discounted bundle price must have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceEnding {
    /// Any price.
    #[default]
    #[serde(rename = "any")]
    Any,
    /// x.99
    #[serde(rename = "99")]
    NinetyNine,
    /// x.00
    #[serde(rename = "whole")]
    Whole,
}

impl PriceEnding {
    /// Whether a price in minor units has this ending.
    pub fn fits(self, price: i64) -> bool {
        match self {
            PriceEnding::Any => true,
            PriceEnding::NinetyNine => price.rem_euclid(100) == 99,
            PriceEnding::Whole => price.rem_euclid(100) == 0,
        }
    }
}

/// A bundle the merchant picked: shown first (in rule order) when the cart holds any of `when`
/// (always, when `when` is empty) and none of `items`, at `price` when fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl MerchantRules {
    /// Whether the rules keep a product from being suggested.
    pub fn excludes(&self, p: &Product) -> bool {
        self.excluded_items.contains(&p.id) || self.excluded_categories.contains(&p.category)
    }

    /// Whether the rules let a product's price be discounted.
    pub fn discounts(&self, p: &Product) -> bool {
        !self.no_discount_items.contains(&p.id)
            && !self.no_discount_categories.contains(&p.category)
    }

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
            if let Some(price) = pin.price.filter(|&p| p < 0) {
                return Err(RuleError::new(
                    field("price"),
                    format!("{price} is negative"),
                ));
            }
        }
        Ok(())
    }

    /// Checks the rules against a catalog: pinned bundles name known, priced items, and a
    /// fixed bundle price keeps every other rule (no surcharge, at most the maximum discount,
    /// at or above the margin floor, the price ending).
    pub fn check_catalog(&self, catalog: &Catalog) -> Result<(), RuleError> {
        for (n, pin) in self.pinned.iter().enumerate() {
            for (k, id) in pin.when.iter().enumerate() {
                if catalog.lookup(id).is_none() {
                    return Err(RuleError::new(
                        format!("pinned[{n}].when[{k}]"),
                        format!("item {id:?} is not in the catalog"),
                    ));
                }
            }
            let mut products = Vec::with_capacity(pin.items.len());
            for (k, id) in pin.items.iter().enumerate() {
                let field = format!("pinned[{n}].items[{k}]");
                let Some(item) = catalog.lookup(id) else {
                    return Err(RuleError::new(
                        field,
                        format!("item {id:?} is not in the catalog"),
                    ));
                };
                let product = catalog.get(item);
                if product.price.is_none() {
                    return Err(RuleError::new(field, format!("item {id:?} has no price")));
                }
                products.push(product);
            }
            let Some(fixed) = pin.price else { continue };
            let field = format!("pinned[{n}].price");
            // Acceptance does not enter the limits.
            let offer = Offer::new(&products, self, 0.5, 0.0);
            let (base, cost) = (offer.base_price, offer.cost);
            let most = Limits::new(&offer, self).max;
            let discount = base - fixed;
            let (price, base_text) = (format_minor(fixed), format_minor(base));
            let problem = if discount < 0 {
                Some(format!(
                    "{price} is above the bundle's base price {base_text}"
                ))
            } else if discount > 0 && cost.is_none() {
                Some(format!(
                    "{price} is a discount on a bundle with an item of unknown cost (no margin floor to check)"
                ))
            } else if discount > most {
                Some(format!(
                    "{price} is {} off {base_text}; the rules allow at most {} off (maximum \
                     discount {:.2}%, minimum margin {:.2}% over cost {}, no discount on \
                     excluded items)",
                    format_minor(discount),
                    format_minor(most),
                    self.max_discount_bp as f64 / 100.0,
                    self.min_margin_bp as f64 / 100.0,
                    format_minor(cost.unwrap_or(0)),
                ))
            } else if discount > 0 && !self.price_ending.fits(fixed) {
                Some(format!(
                    "{price} does not have the price ending {:?}",
                    self.price_ending
                ))
            } else {
                None
            };
            if let Some(reason) = problem {
                return Err(RuleError::new(field, reason));
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
