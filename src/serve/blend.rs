//! The final score of a candidate add-on: a weighted sum of association evidence, sparse EASE
//! weights, the basket transformer's logit, the shopper's history affinity and a popularity
//! prior, with weights fitted natively on held-out carts and stored in the export (section
//! BLND).

use serde::{Deserialize, Serialize};

/// Blend weights. The default (association only) reproduces exports that carry no blend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Blend {
    /// Weight of Σ association score(cart item → candidate) × seasonal factor.
    pub assoc: f32,
    /// Weight of Σ EASE weight(cart item → candidate).
    pub ease: f32,
    /// Weight of the transformer's logit for the candidate.
    pub model: f32,
    /// Weight of ln(share of orders containing the candidate).
    pub popularity: f32,
    /// Weight of Σ association score(history item → candidate) over the shopper's on-device
    /// history (items not in the cart); 0 in exports fitted before it existed.
    pub history: f32,
    /// The transformer's best items that join the association candidates.
    pub model_candidates: u32,
}

impl Default for Blend {
    fn default() -> Self {
        Self {
            assoc: 1.0,
            ease: 0.0,
            model: 0.0,
            popularity: 0.0,
            history: 0.0,
            model_candidates: 0,
        }
    }
}

/// The evidence the blend weighs for one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    pub item: u32,
    /// Σ association score × seasonal factor (0 when no cart item names the candidate).
    pub assoc: f32,
    /// Σ EASE weight over cart items (0 without EASE or when no cart item keeps the candidate).
    pub ease: f32,
    /// Transformer logit (0 without a model).
    pub model: f32,
    /// ln(share of orders containing the candidate).
    pub popularity: f32,
    /// Σ association score(history item → candidate) (0 without a history, or when the blend
    /// does not weigh it).
    pub history: f32,
}

impl Blend {
    /// The candidate's final score.
    pub fn score(&self, f: &Features) -> f32 {
        self.assoc * f.assoc
            + self.ease * f.ease
            + self.model * f.model
            + self.popularity * f.popularity
            + self.history * f.history
    }

    /// Checks the weights are finite (a corrupted BLND must not produce NaN rankings).
    pub fn validate(&self) -> Result<(), String> {
        for (name, w) in [
            ("assoc", self.assoc),
            ("ease", self.ease),
            ("model", self.model),
            ("popularity", self.popularity),
            ("history", self.history),
        ] {
            if !w.is_finite() {
                return Err(format!("blend weight {name} is {w}, not a finite number"));
            }
        }
        if self.model_candidates > 10_000 {
            return Err(format!(
                "modelCandidates {} is above 10000",
                self.model_candidates
            ));
        }
        Ok(())
    }
}
