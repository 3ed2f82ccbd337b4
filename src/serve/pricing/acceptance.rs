//! The acceptance curve: how likely a shopper takes a bundle at a discount, by category.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Price sensitivity assumed when the orders show no price variation: a 10% discount
/// multiplies the odds of taking a bundle by exp(0.4) ≈ 1.5. `train --acceptance-prior` sets it.
pub const PRIOR_SENSITIVITY: f64 = 4.0;

/// Largest sensitivity kept: beyond it a 10% discount would multiply the odds by over 150.
pub const MAX_SENSITIVITY: f64 = 50.0;

/// Chance of taking an offer at discount fraction `d`: σ(logit p₀ + β·d), with `p₀` kept
/// inside (0, 1) so a certain or impossible offer still responds to price. `ln` and `exp` are
/// the libm crate's, not the platform's, so both builds compute the same bits (prices decided
/// from it must verify on the shop's server exactly as the browser computed them).
pub fn probability(base: f64, sensitivity: f64, d: f64) -> f64 {
    let p = base.clamp(1e-6, 1.0 - 1e-6);
    let z = libm::log(p / (1.0 - p)) + sensitivity * d;
    1.0 / (1.0 + libm::exp(-z))
}

/// Where the sensitivities came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CurveSource {
    /// The prior alone: the orders showed too little price variation.
    #[default]
    Prior,
    /// Fitted on promotions in the orders' unit prices.
    Fitted,
}

/// One category's fitted sensitivity and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryCurve {
    pub sensitivity: f64,
    /// Add-on opportunities (an order holding an item the add-on goes with) while the add-on
    /// was on promotion.
    pub discounted_trials: u64,
}

/// Price sensitivity per category (the `PRIC` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    pub source: CurveSource,
    /// The prior the fit started from.
    pub prior: f64,
    /// Sensitivity of categories without a curve of their own.
    pub default: f64,
    pub categories: BTreeMap<String, CategoryCurve>,
}

impl Default for Acceptance {
    fn default() -> Self {
        Self::prior(PRIOR_SENSITIVITY)
    }
}

impl Acceptance {
    /// The prior alone, for every category.
    pub fn prior(sensitivity: f64) -> Self {
        Self {
            source: CurveSource::Prior,
            prior: sensitivity,
            default: sensitivity,
            categories: BTreeMap::new(),
        }
    }

    /// The sensitivity of a category.
    pub fn sensitivity(&self, category: &str) -> f64 {
        self.categories
            .get(category)
            .map_or(self.default, |c| c.sensitivity)
    }

    /// Checks every sensitivity is finite and within [0, MAX_SENSITIVITY].
    pub fn validate(&self) -> Result<(), String> {
        let ok = |b: f64| b.is_finite() && (0.0..=MAX_SENSITIVITY).contains(&b);
        for (name, b) in [("prior", self.prior), ("default", self.default)]
            .into_iter()
            .chain(
                self.categories
                    .iter()
                    .map(|(c, v)| (c.as_str(), v.sensitivity)),
            )
        {
            if !ok(b) {
                return Err(format!(
                    "sensitivity {name}: {b} is not between 0 and {MAX_SENSITIVITY}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discount_multiplies_the_odds() {
        let p0 = 0.2;
        let p = probability(p0, 4.0, 0.1);
        let odds = |p: f64| p / (1.0 - p);
        assert!((odds(p) / odds(p0) - 0.4f64.exp()).abs() < 1e-9);
        assert_eq!(probability(p0, 4.0, 0.0), p0);
        assert!(probability(1.0, 4.0, 0.0) < 1.0 && probability(0.0, 4.0, 0.0) > 0.0);
    }
}
