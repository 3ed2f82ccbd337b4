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
    /// Weight of the candidate's place in the shopper's history, [`rebuy`] of it, for items the
    /// shopper bought before (which join the candidates when it is non-zero); 0 in exports
    /// fitted before it existed.
    pub repeat: f32,
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
            repeat: 0.0,
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
    /// [`rebuy`] of the candidate's place among the shopper's history items not in the cart ×
    /// the item's rebuy factor ([`crate::serve::rebuy`]; 0 when the shopper has not bought it,
    /// or the blend does not weigh rebuys).
    pub repeat: f32,
}

/// How strongly a shopper's earlier purchase at `position` (0 = the most recent of the history
/// items not in the cart) predicts buying it again: 1 / (1 + position / 10). On The Complete
/// Journey's test carts the hidden item was the shopper's most recent earlier item 1.7% of the
/// time, the 9th 0.9% and the 16th 0.8%: a slow decay, close to this curve.
pub fn rebuy(position: usize) -> f32 {
    1.0 / (1.0 + position as f32 / 10.0)
}

impl Blend {
    /// The candidate's final score.
    pub fn score(&self, f: &Features) -> f32 {
        self.assoc * f.assoc
            + self.ease * f.ease
            + self.model * f.model
            + self.popularity * f.popularity
            + self.history * f.history
            + self.repeat * f.repeat
    }

    /// Checks the weights are finite (a corrupted BLND must not produce NaN rankings).
    pub fn validate(&self) -> Result<(), String> {
        for (name, w) in [
            ("assoc", self.assoc),
            ("ease", self.ease),
            ("model", self.model),
            ("popularity", self.popularity),
            ("history", self.history),
            ("repeat", self.repeat),
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
