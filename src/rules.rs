//! Merchant rules: discount limits, margin floor, exclusions and bundle size.

use serde::{Deserialize, Serialize};

/// Basis points in one whole (100% = 10,000 bp); rules are integers so pricing stays exact.
pub const BP: u32 = 10_000;

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
}

impl Default for MerchantRules {
    fn default() -> Self {
        Self {
            max_discount_bp: 1_500,
            min_margin_bp: 2_000,
            excluded_items: Vec::new(),
            excluded_categories: Vec::new(),
            max_addons: 2,
        }
    }
}

/// A rule value out of range, named by field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("rule {field}: {reason}")]
pub struct RuleError {
    pub field: &'static str,
    pub reason: String,
}

impl MerchantRules {
    /// Checks every field is within its meaningful range.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.max_discount_bp > BP {
            return Err(RuleError {
                field: "maxDiscount",
                reason: format!("{} bp is more than 100%", self.max_discount_bp),
            });
        }
        if self.min_margin_bp > 10 * BP {
            return Err(RuleError {
                field: "minMargin",
                reason: format!("{} bp is more than 1000%", self.min_margin_bp),
            });
        }
        if !(1..=2).contains(&self.max_addons) {
            return Err(RuleError {
                field: "maxAddons",
                reason: format!("{} is not 1 or 2", self.max_addons),
            });
        }
        Ok(())
    }
}

/// Converts a fraction given by a caller (0.15 = 15%) to basis points, rejecting nonsense.
pub fn fraction_to_bp(field: &'static str, value: f64, max: f64) -> Result<u32, RuleError> {
    if !value.is_finite() || value < 0.0 || value > max {
        return Err(RuleError {
            field,
            reason: format!("{value} is not a fraction between 0 and {max}"),
        });
    }
    Ok((value * BP as f64).round() as u32)
}
