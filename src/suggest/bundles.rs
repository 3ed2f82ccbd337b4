//! Bundle construction: one or two add-ons per bundle, diverse, from candidates and itemsets.

use super::discount::price_bundle;
use super::reasons;
use super::{Bundle, BundleItem, Candidate, Engine};
use crate::rules::MerchantRules;
use std::collections::{HashMap, HashSet};

/// A bundle before pricing: its add-ons (item indices) and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleOption {
    pub items: Vec<u32>,
    pub score: f32,
    /// Orders that bought the cart item and both add-ons as one itemset, if it came from one.
    pub itemset_count: Option<u32>,
}

/// Mutual association of two add-ons: the stronger of the two directed scores, 0 if none kept.
pub fn mutual(engine: &Engine, a: u32, b: u32) -> f32 {
    let assoc = &engine.export().assoc;
    let ab = assoc.find(a, b).map_or(0.0, |nb| nb.score);
    let ba = assoc.find(b, a).map_or(0.0, |nb| nb.score);
    ab.max(ba)
}

/// Builds up to `k` bundles (explained with the shopper's `history` too); no add-on appears in two bundles, and a two-item bundle never pairs
/// two interchangeable items (same category with no association of their own).
pub fn build(
    engine: &Engine,
    cart: &[u32],
    history: &[u32],
    candidates: &[Candidate],
    rules: &MerchantRules,
    month: u8,
    k: usize,
) -> Vec<Bundle> {
    let export = engine.export();
    let catalog = &export.catalog;
    let priced = |j: u32| catalog.get(j).price.is_some();
    let pool: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| priced(c.item))
        .take((2 * k).max(8))
        .collect();
    let score_of: HashMap<u32, f32> = candidates.iter().map(|c| (c.item, c.score)).collect();
    let mut options: Vec<BundleOption> = pool
        .iter()
        .map(|c| BundleOption {
            items: vec![c.item],
            score: c.score,
            itemset_count: None,
        })
        .collect();
    if rules.max_addons >= 2 {
        let mut seen: HashSet<(u32, u32)> = HashSet::new();
        for set in &export.itemsets {
            let inside: Vec<u32> = set
                .items
                .iter()
                .copied()
                .filter(|i| cart.contains(i))
                .collect();
            if inside.len() != 1 {
                continue;
            }
            let rest: Vec<u32> = set
                .items
                .iter()
                .copied()
                .filter(|i| !cart.contains(i))
                .collect();
            let (a, b) = (rest[0], rest[1]);
            if !(score_of.contains_key(&a) && score_of.contains_key(&b) && priced(a) && priced(b)) {
                continue;
            }
            if seen.insert((a, b)) {
                options.push(BundleOption {
                    items: vec![a, b],
                    score: score_of[&a] + score_of[&b] + mutual(engine, a, b),
                    itemset_count: Some(set.count),
                });
            }
        }
        for (x, ca) in pool.iter().enumerate() {
            for cb in &pool[x + 1..] {
                let (a, b) = (ca.item.min(cb.item), ca.item.max(cb.item));
                let m = mutual(engine, a, b);
                if catalog.get(a).category == catalog.get(b).category && m <= 0.0 {
                    continue;
                }
                if seen.insert((a, b)) {
                    options.push(BundleOption {
                        items: vec![a, b],
                        score: ca.score + cb.score + m,
                        itemset_count: None,
                    });
                }
            }
        }
    }
    options.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.items.cmp(&b.items))
    });
    let mut used: HashSet<u32> = HashSet::new();
    let mut out = Vec::new();
    for option in options {
        if out.len() == k {
            break;
        }
        if option.items.iter().any(|i| used.contains(i)) {
            continue;
        }
        used.extend(option.items.iter().copied());
        out.push(price(engine, &option, candidates, rules, month, history));
    }
    out
}

/// Prices and explains one bundle option.
fn price(
    engine: &Engine,
    option: &BundleOption,
    candidates: &[Candidate],
    rules: &MerchantRules,
    month: u8,
    history: &[u32],
) -> Bundle {
    let catalog = &engine.export().catalog;
    let products: Vec<_> = option.items.iter().map(|&i| catalog.get(i)).collect();
    let base: i64 = products.iter().map(|p| p.price.unwrap_or(0)).sum();
    let cost: Option<i64> = products.iter().map(|p| p.cost).sum();
    let pricing = price_bundle(
        base,
        cost,
        option.items.len() as u8,
        rules.max_addons,
        rules.max_discount_bp,
        rules.min_margin_bp,
    );
    Bundle {
        items: products
            .iter()
            .map(|p| BundleItem {
                id: p.id.clone(),
                title: p.title.clone(),
                price: p.price.unwrap_or(0),
            })
            .collect(),
        base_price: pricing.base_price,
        discount: pricing.discount,
        bundle_price: pricing.bundle_price,
        score: option.score,
        reasons: reasons::explain(engine, option, candidates, month, history),
    }
}
