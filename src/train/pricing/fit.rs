//! Fitting price sensitivity from promotions visible in the orders' unit prices.
//!
//! A week (Monday to Sunday, UTC) in which an item sold below its list price is a promotion
//! week for it, at the mean discount of its lines. Every order holding an item `a` is an
//! opportunity to add each of `a`'s strongest complements `j` (its best association partners
//! bought together at ≥ 10× chance: the pairs bundles are made of; items that merely share
//! shoppers respond to other things); the opportunity is taken when `j` is in the order. Per (a, j) pair the take-up at list
//! price gives an offset, logit p₀; the promotion-week opportunities then fit
//! `logit P = logit p₀ + β·d` for β by Newton's method, pooled over all categories with a
//! Gaussian prior around the configured prior, then per category around the pooled value.

use crate::serve::assoc::AssocTable;
use crate::serve::catalog::Catalog;
use crate::serve::pricing::acceptance::{
    Acceptance, CategoryCurve, CurveSource, MAX_SENSITIVITY, PRIOR_SENSITIVITY,
};
use crate::train::ingest::OrderLog;
use std::collections::{BTreeMap, HashMap};

/// Seconds in a week: promotions are looked up by item and week.
const WEEK_SECONDS: i64 = 7 * 24 * 3600;

/// The Monday-to-Sunday week (UTC) of a time, as ISO weeks run; the Unix epoch was a Thursday.
fn week_of(time: i64) -> i64 {
    (time - 4 * 24 * 3600).div_euclid(WEEK_SECONDS)
}
/// A week's mean discount below this (0.5%) is rounding, not a promotion.
const MIN_PROMOTION: f64 = 0.005;
/// Pairs need this many list-price opportunities for a trustworthy offset.
const MIN_BASE_TRIALS: u32 = 10;
/// Standard deviation of the Gaussian prior on β (one for the pooled fit and per category).
const PRIOR_SD: f64 = 5.0;

/// What shapes the fit besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// β when the orders show too little price variation, and the centre of the pooled fit.
    pub prior: f64,
    /// A category (and the pooled fit) needs this many promotion-week opportunities.
    pub min_trials: u64,
    /// Partners per item, strongest first, whose take-up is counted.
    pub partners: usize,
    /// Orders with more distinct items are skipped (bulk orders), as in counting.
    pub max_order_items: usize,
    /// Only partners bought together at this lift or more count: the complements bundles are
    /// made of, not items that merely share shoppers.
    pub min_lift: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            prior: PRIOR_SENSITIVITY,
            min_trials: 200,
            partners: 5,
            max_order_items: 100,
            min_lift: 10.0,
        }
    }
}

/// Promotion-week opportunities of one pair at one depth.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// logit of the pair's take-up at list price.
    offset: f64,
    discount: f64,
    trials: u32,
    taken: u32,
}

/// Fits the acceptance curve; the prior alone when the orders show no promotions.
pub fn fit(
    catalog: &Catalog,
    log: &OrderLog,
    assoc: &AssocTable,
    config: &FitConfig,
) -> Acceptance {
    let promotions = promotion_calendar(catalog, log);
    if promotions.is_empty() {
        return Acceptance::prior(config.prior);
    }
    // (a, j) -> (list-price trials, taken); (a, j, discount in bp) -> (trials, taken)
    let mut base: HashMap<(u32, u32), (u32, u32)> = HashMap::new();
    let mut promoted: HashMap<(u32, u32, u32), (u32, u32)> = HashMap::new();
    let mut items: Vec<u32> = Vec::new();
    for order in &log.orders {
        let Some(time) = order.time else { continue };
        items.clear();
        items.extend(&order.items);
        items.sort_unstable();
        items.dedup();
        if items.len() > config.max_order_items {
            continue;
        }
        let week = week_of(time);
        for &a in &items {
            let strong = assoc
                .row(a)
                .iter()
                .filter(|nb| assoc.stats(a, nb).lift >= config.min_lift);
            for nb in strong.take(config.partners) {
                let taken = items.binary_search(&nb.item).is_ok() as u32;
                let cell = match promotions.get(&(nb.item, week)) {
                    Some(&bp) => promoted.entry((a, nb.item, bp)).or_default(),
                    None => base.entry((a, nb.item)).or_default(),
                };
                cell.0 += 1;
                cell.1 += taken;
            }
        }
    }
    let mut by_category: BTreeMap<&str, Vec<Cell>> = BTreeMap::new();
    let mut keys: Vec<_> = promoted.into_iter().collect();
    keys.sort_unstable_by_key(|&(k, _)| k); // a reproducible order for the float sums
    for ((a, j, bp), (trials, taken)) in keys {
        let Some(&(n0, y0)) = base.get(&(a, j)).filter(|(n0, _)| *n0 >= MIN_BASE_TRIALS) else {
            continue;
        };
        let p0 = (y0 as f64 + 0.5) / (n0 as f64 + 1.0);
        by_category
            .entry(catalog.get(j).category.as_str())
            .or_default()
            .push(Cell {
                offset: (p0 / (1.0 - p0)).ln(),
                discount: bp as f64 / 10_000.0,
                trials,
                taken,
            });
    }
    let trials = |cells: &[Cell]| cells.iter().map(|c| c.trials as u64).sum::<u64>();
    let all: Vec<Cell> = by_category.values().flatten().copied().collect();
    if trials(&all) < config.min_trials {
        return Acceptance::prior(config.prior);
    }
    let pooled = newton(&all, config.prior);
    let categories = by_category
        .into_iter()
        .filter(|(_, cells)| trials(cells) >= config.min_trials)
        .map(|(category, cells)| {
            let curve = CategoryCurve {
                sensitivity: newton(&cells, pooled),
                discounted_trials: trials(&cells),
            };
            (category.to_string(), curve)
        })
        .collect();
    Acceptance {
        source: CurveSource::Fitted,
        prior: config.prior,
        default: pooled,
        categories,
    }
}

/// Mean discount fraction, in basis points, of every (item, week) whose lines sold below list.
fn promotion_calendar(catalog: &Catalog, log: &OrderLog) -> HashMap<(u32, i64), u32> {
    let mut sums: HashMap<(u32, i64), (f64, u32)> = HashMap::new();
    for order in &log.orders {
        let Some(time) = order.time else { continue };
        let week = week_of(time);
        for (&item, paid) in order.items.iter().zip(&order.unit_prices) {
            let (Some(paid), Some(list)) = (*paid, catalog.get(item).price) else {
                continue;
            };
            if list <= 0 {
                continue;
            }
            let d = (1.0 - paid as f64 / list as f64).clamp(0.0, 0.9);
            let e = sums.entry((item, week)).or_default();
            e.0 += d;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .filter_map(|(key, (sum, n))| {
            let mean = sum / n as f64;
            (mean >= MIN_PROMOTION).then(|| (key, (mean * 10_000.0).round() as u32))
        })
        .collect()
}

/// The β maximising the cells' likelihood under a Gaussian prior N(centre, PRIOR_SD²),
/// within [0, MAX_SENSITIVITY].
fn newton(cells: &[Cell], centre: f64) -> f64 {
    let lambda = 1.0 / (PRIOR_SD * PRIOR_SD);
    let mut beta = centre;
    for _ in 0..100 {
        let (mut grad, mut hess) = (-lambda * (beta - centre), lambda);
        for c in cells {
            let p = 1.0 / (1.0 + (-(c.offset + beta * c.discount)).exp());
            grad += c.discount * (c.taken as f64 - c.trials as f64 * p);
            hess += c.trials as f64 * c.discount * c.discount * p * (1.0 - p);
        }
        let next = (beta + grad / hess).clamp(0.0, MAX_SENSITIVITY);
        let done = (next - beta).abs() < 1e-9;
        beta = next;
        if done {
            break;
        }
    }
    beta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newton_recovers_a_planted_slope() {
        // Offsets at logit 0.2, discounts 0..30%, take-up exactly as β = 6 predicts.
        let offset = (0.2f64 / 0.8).ln();
        let cells: Vec<Cell> = (1..=6)
            .map(|k| {
                let d = k as f64 * 0.05;
                let p = 1.0 / (1.0 + (-(offset + 6.0 * d)).exp());
                Cell {
                    offset,
                    discount: d,
                    trials: 1_000_000,
                    taken: (p * 1e6).round() as u32,
                }
            })
            .collect();
        assert!((newton(&cells, 1.0) - 6.0).abs() < 0.01);
        // No evidence: the prior's centre.
        assert_eq!(newton(&[], 3.0), 3.0);
    }
}
