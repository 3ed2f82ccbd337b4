//! Fits the blend weights on held-out carts.

use crate::serve::blend::{Blend, Features};
use crate::train::protocol::{ranked_ahead, HIT_DEPTH};

/// One held-out cart for fitting: every candidate's features and where the hidden item is.
pub struct FitCart {
    pub candidates: Vec<Features>,
    /// Index of the hidden item in `candidates`, if it is a candidate at all.
    pub hidden: Option<usize>,
    /// Per candidate (or empty for none): whether only the shopper's history made it one (a
    /// rebuy no cart item points to). Suggest adds those only when the blend weighs rebuys, so
    /// a blend without that weight is scored without them.
    pub rebuy_only: Vec<bool>,
}

/// HR@10 of `blend` over the carts, by the protocol's one tie rule.
pub fn hit_rate(blend: &Blend, carts: &[FitCart]) -> f64 {
    use rayon::prelude::*;
    let hits: usize = carts
        .par_iter()
        .filter(|c| {
            let shown =
                |k: usize| blend.repeat != 0.0 || !c.rebuy_only.get(k).copied().unwrap_or(false);
            let Some(h) = c.hidden.filter(|&h| shown(h)) else {
                return false;
            };
            let target = &c.candidates[h];
            let others = (0..c.candidates.len())
                .filter(|&k| shown(k))
                .map(|k| (c.candidates[k].item, blend.score(&c.candidates[k])));
            ranked_ahead((target.item, blend.score(target)), others) < HIT_DEPTH
        })
        .count();
    hits as f64 / carts.len().max(1) as f64
}

/// Fits the blend by coordinate search on validation HR@10: a coarse grid per weight, then
/// finer steps around the best; returns the blend and its HR@10. Only ratios matter, so one
/// evidence stays fixed at 1: the model's when there is one, else EASE's. `has_ease`,
/// `model_candidates > 0` and `has_history` (the history term and rebuys) say which evidence the
/// carts carry. A tie keeps the earlier (simpler) weight.
///
/// With a history the search runs twice: first without the rebuy weight (rebuy-only candidates
/// left out, as suggest leaves them out), then over every weight from there. Coordinate search is
/// greedy, and from the plain start the rebuy weight can pull it into a worse corner (measured:
/// 0.4137 against 0.4394 without rebuys on the 100,000-item shop); continuing from the fit
/// without it never ends below that fit.
pub fn fit(
    carts: &[FitCart],
    has_ease: bool,
    model_candidates: u32,
    has_history: bool,
) -> (Blend, f64) {
    let has_model = model_candidates > 0;
    let start = Blend {
        assoc: 1.0,
        ease: if has_ease { 1.0 } else { 0.0 },
        model: if has_model { 1.0 } else { 0.0 },
        popularity: 0.0,
        history: 0.0,
        repeat: 0.0,
        model_candidates,
    };
    let mut free = axes(has_ease && has_model, has_history);
    let best = search(carts, (start, hit_rate(&start, carts)), &free);
    if !has_history {
        return best;
    }
    free.push(Axis {
        set: |b, repeat| Blend { repeat, ..b },
        get: |b| b.repeat,
        additive: false,
    });
    search(carts, best, &free)
}

/// Fits the blend for calls without a history on `carts` (the validation carts with their
/// histories removed), starting from `fitted`, the blend fitted with them, less its history
/// weights: the search only moves on strict gains, so the result ranks these carts at least as
/// well as `fitted` does (from the plain start it had ended below it on Complete Journey).
pub fn fit_without_history(carts: &[FitCart], fitted: &Blend, has_ease: bool) -> (Blend, f64) {
    let start = Blend {
        history: 0.0,
        repeat: 0.0,
        ..*fitted
    };
    let free = axes(has_ease && fitted.model_candidates > 0, false);
    search(carts, (start, hit_rate(&start, carts)), &free)
}

/// The weights a search moves: association, EASE when the model's stays fixed at 1
/// (`free_ease`), the history term with a history, and popularity; not the rebuys'.
fn axes(free_ease: bool, has_history: bool) -> Vec<Axis> {
    let mut free = vec![Axis {
        set: |b, assoc| Blend { assoc, ..b },
        get: |b| b.assoc,
        additive: false,
    }];
    if free_ease {
        free.push(Axis {
            set: |b, ease| Blend { ease, ..b },
            get: |b| b.ease,
            additive: false,
        });
    }
    if has_history {
        free.push(Axis {
            set: |b, history| Blend { history, ..b },
            get: |b| b.history,
            additive: false,
        });
    }
    free.push(Axis {
        set: |b, popularity| Blend { popularity, ..b },
        get: |b| b.popularity,
        additive: true,
    });
    free
}

/// A free coordinate of the search: how to replace its weight, read it, and whether its steps
/// add (the popularity exponent, which may be negative) rather than scale.
struct Axis {
    set: fn(Blend, f32) -> Blend,
    get: fn(&Blend) -> f32,
    additive: bool,
}

/// Coordinate search from `best` over the `free` axes: two passes of a coarse grid per axis,
/// then two rounds of finer steps around the best; only strict gains move it.
fn search(carts: &[FitCart], mut best: (Blend, f64), free: &[Axis]) -> (Blend, f64) {
    let scale_grid: Vec<f32> = std::iter::once(0.0)
        .chain((-4..=9).map(|e| 2f32.powi(e)))
        .collect();
    let popularity_grid = [-1.0, -0.5, -0.25, 0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0];
    let sweep = |best: &mut (Blend, f64), axis: &Axis, values: &[f32]| {
        let base = best.0;
        for &v in values {
            let trial = (axis.set)(base, v);
            let hr = hit_rate(&trial, carts);
            if hr > best.1 {
                *best = (trial, hr);
            }
        }
    };
    for _ in 0..2 {
        for axis in free {
            let grid: &[f32] = if axis.additive {
                &popularity_grid
            } else {
                &scale_grid
            };
            sweep(&mut best, axis, grid);
        }
    }
    for (factor, delta) in [(0.7f32, 0.1f32), (0.85, 0.05)] {
        for axis in free {
            let v = (axis.get)(&best.0);
            let steps = if axis.additive {
                [v - delta, v + delta]
            } else {
                [v * factor, v / factor]
            };
            sweep(&mut best, axis, &steps);
        }
    }
    best
}
