//! Bundle construction: the merchant's pinned bundles first, then one or two add-ons per
//! bundle, diverse, from candidates and itemsets; each priced for expected margin.

use super::candidates::Sources;
use super::new_items::{Fresh, Shelf};
use super::reasons;
use super::types::{Bundle, BundleItem, BundleOption, Candidate, Terms};
use crate::serve::catalog::Catalog;
use crate::serve::pricing::{quote, quote_within, Limits, Offer, Policy};
use crate::serve::rules::{Exclusions, PinnedBundle};
use std::collections::{HashMap, HashSet};

/// The candidates single-item and paired bundles are drawn from: the best priced ones.
pub fn pool<'c>(candidates: &'c [Candidate], shelf: Shelf, k: usize) -> Vec<&'c Candidate> {
    candidates
        .iter()
        .filter(|c| shelf.get(c.item).price.is_some())
        .take((2 * k).max(8))
        .collect()
}

/// Builds up to `k` bundles (explained with the shopper's `history` too): the merchant's pinned
/// bundles, then ready-made ones (the rest of a frequent itemset the cart holds part of, never
/// all), then the best by score. Every bundle has an add-on, no add-on appears in two bundles,
/// a two-item bundle never pairs two interchangeable items, and no bundle differs from an
/// earlier one only by interchangeable items.
pub fn build(
    src: &Sources,
    cart: &[u32],
    history: &[u32],
    candidates: &[Candidate],
    terms: &Terms,
    month: u8,
    k: usize,
) -> Vec<Bundle> {
    let export = src.export;
    let shelf = terms.fresh.shelf(&src.export.catalog);
    let rules = &terms.rules;
    let priced = |j: u32| shelf.get(j).price.is_some();
    let pool = pool(candidates, shelf, k);
    let score_of: HashMap<u32, f32> = candidates.iter().map(|c| (c.item, c.score)).collect();
    let mut options: Vec<BundleOption> = pool
        .iter()
        .map(|c| BundleOption {
            items: vec![c.item],
            score: c.score,
            itemset_count: None,
            pinned: None,
        })
        .collect();
    // Ready-made bundles: the rest of a frequent itemset the cart holds part of. Its add-ons
    // must be candidates (so allowed, in stock and not in the cart) with prices.
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    for set in &export.itemsets {
        let rest: Vec<u32> = set
            .items
            .iter()
            .copied()
            .filter(|i| !cart.contains(i))
            .collect();
        let usable = |i: &u32| score_of.contains_key(i) && priced(*i);
        // A cart that holds the whole set has nothing left to offer.
        if rest.is_empty()
            || rest.len() == set.items.len()
            || rest.len() > rules.max_addons as usize
            || !rest.iter().all(usable)
            || !seen.insert(rest.clone())
        {
            continue;
        }
        let score = rest.iter().map(|i| score_of[i]).sum::<f32>()
            + match rest[..] {
                [a, b] => src.export.assoc.mutual(a, b),
                _ => 0.0,
            };
        options.push(BundleOption {
            items: rest,
            score,
            itemset_count: Some(set.count),
            pinned: None,
        });
    }
    if rules.max_addons >= 2 {
        for (x, ca) in pool.iter().enumerate() {
            for cb in &pool[x + 1..] {
                let (a, b) = (ca.item.min(cb.item), ca.item.max(cb.item));
                if interchangeable(src, shelf, a, b) {
                    continue;
                }
                let m = src.export.assoc.mutual(a, b);
                if seen.insert(vec![a, b]) {
                    options.push(BundleOption {
                        items: vec![a, b],
                        score: ca.score + cb.score + m,
                        itemset_count: None,
                        pinned: None,
                    });
                }
            }
        }
    }
    // Ready-made bundles first (the most bought first), then by score.
    options.sort_by(|a, b| {
        b.itemset_count
            .cmp(&a.itemset_count)
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.items.cmp(&b.items))
    });
    let pinned = pinned_options(src, cart, candidates, terms);
    let mut used: HashSet<u32> = HashSet::new();
    let mut chosen: Vec<BundleOption> = Vec::new();
    for option in pinned.into_iter().chain(options) {
        if chosen.len() == k {
            break;
        }
        if option.items.iter().any(|i| used.contains(i)) {
            continue;
        }
        if option.pinned.is_none()
            && chosen
                .iter()
                .any(|b| near_duplicate(src, shelf, &b.items, &option.items))
        {
            continue;
        }
        used.extend(option.items.iter().copied());
        chosen.push(option);
    }
    chosen
        .iter()
        .map(|option| price(src, cart, option, candidates, terms, month, history))
        .collect()
}

/// Two items are interchangeable when they share a category and are not bought together:
/// alternatives (two coffees), not complements. A bundle never pairs them, and a bundle list
/// never offers both in otherwise matching bundles.
pub fn interchangeable(src: &Sources, shelf: Shelf, a: u32, b: u32) -> bool {
    a != b && shelf.get(a).category == shelf.get(b).category && src.export.assoc.mutual(a, b) <= 0.0
}

/// Whether `items` differs from a chosen bundle only by interchangeable items: the same size,
/// each item matched to one of the bundle's that is it or interchangeable with it.
fn near_duplicate(src: &Sources, shelf: Shelf, chosen: &[u32], items: &[u32]) -> bool {
    let alike = |a: u32, b: u32| a == b || interchangeable(src, shelf, a, b);
    match (items, chosen) {
        ([a], [x]) => alike(*a, *x),
        ([a, b], [x, y]) => (alike(*a, *x) && alike(*b, *y)) || (alike(*a, *y) && alike(*b, *x)),
        _ => false,
    }
}

/// Whether a cart (known item indices) triggers a pinned bundle: it holds one of `when`, or
/// `when` is empty.
pub fn triggers(pin: &PinnedBundle, catalog: &Catalog, cart: &[u32]) -> bool {
    pin.when.is_empty()
        || pin
            .when
            .iter()
            .any(|id| catalog.lookup(id).is_some_and(|i| cart.contains(&i)))
}

/// The merchant's pinned bundles this cart triggers, in rule order: every item known, priced,
/// in stock, allowed and not already in the cart.
fn pinned_options(
    src: &Sources,
    cart: &[u32],
    candidates: &[Candidate],
    terms: &Terms,
) -> Vec<BundleOption> {
    let catalog = &src.export.catalog;
    let score_of: HashMap<u32, f32> = candidates.iter().map(|c| (c.item, c.score)).collect();
    terms
        .rules
        .pinned
        .iter()
        .filter(|pin| triggers(pin, catalog, cart))
        .filter_map(|pin| {
            let items: Option<Vec<u32>> = pin.items.iter().map(|id| catalog.lookup(id)).collect();
            let items = items?;
            let allowed = |i: &u32| {
                !cart.contains(i)
                    && catalog.get(*i).price.is_some()
                    && terms.stock.get(i) != Some(&0)
                    && !src.blocked(*i, terms)
            };
            items.iter().all(allowed).then(|| BundleOption {
                score: items
                    .iter()
                    .map(|i| score_of.get(i).copied().unwrap_or(0.0))
                    .sum(),
                items,
                itemset_count: None,
                pinned: Some(pin.price),
            })
        })
        .collect()
}

/// The pricing inputs of a bundle for a cart: prices and costs summed, the part the rules let
/// be discounted, the chance it is taken at list price and its price sensitivity.
///
/// An add-on's chance at list price is its best confidence from a cart item,
/// (c_aj + ½) / (n_a + 1), or its popularity when no cart item is associated with it; a
/// bundle's is the product over its add-ons. A new item's popularity is its category's typical
/// one. Its sensitivity is its add-ons' categories', weighted by price. It reads the cart's
/// known items and the export only (never the shopper's history), so the shop's server can
/// re-derive it at checkout ([`super::verify`]).
pub fn offer(
    src: &Sources,
    cart: &[u32],
    items: &[u32],
    exclusions: &Exclusions,
    fresh: &Fresh,
) -> Offer {
    let export = src.export;
    let (catalog, assoc) = (&export.catalog, &export.assoc);
    let shelf = fresh.shelf(&src.export.catalog);
    let products: Vec<_> = items.iter().map(|&i| shelf.get(i)).collect();
    let base: i64 = products.iter().map(|p| p.price.unwrap_or(0)).sum();
    let chance = |j: u32| {
        let count = match assoc.item_counts.get(j as usize) {
            Some(&c) => c,
            None => fresh.prior_count(catalog, j),
        };
        let popularity = (count as f64 + 0.5) / (assoc.orders as f64 + 1.0);
        cart.iter()
            .filter_map(|&a| assoc.find(a, j).map(|nb| (a, nb.count)))
            .map(|(a, c)| (c as f64 + 0.5) / (assoc.item_counts[a as usize] as f64 + 1.0))
            .fold(popularity, f64::max)
    };
    let weighted: f64 = products
        .iter()
        .map(|p| p.price.unwrap_or(0) as f64 * export.acceptance.sensitivity(&p.category))
        .sum();
    let sensitivity = if base > 0 {
        weighted / base as f64
    } else {
        export.acceptance.default
    };
    Offer::new(
        &products,
        exclusions,
        items.iter().map(|&j| chance(j)).product(),
        sensitivity,
    )
}

/// The discount the export's rules alone give a bundle for a cart.
fn offer_under_export(src: &Sources, cart: &[u32], items: &[u32], fresh: &Fresh) -> i64 {
    let rules = &src.export.rules;
    quote(
        &offer(src, cart, items, src.exclusions, fresh),
        rules,
        src.export.catalog.currency(),
        Policy::Optimize,
    )
    .discount
}

/// Prices and explains one bundle option.
fn price(
    src: &Sources,
    cart: &[u32],
    option: &BundleOption,
    candidates: &[Candidate],
    terms: &Terms,
    month: u8,
    history: &[u32],
) -> Bundle {
    let shelf = terms.fresh.shelf(&src.export.catalog);
    let products: Vec<_> = option.items.iter().map(|&i| shelf.get(i)).collect();
    let offer = offer(src, cart, &option.items, &terms.exclusions, &terms.fresh);
    let export_rules = &src.export.rules;
    let currency = src.export.catalog.currency();
    let mut pricing = if terms.rules == *export_rules {
        quote(&offer, export_rules, currency, Policy::Optimize)
    } else {
        // The call tightened the export's rules: never a bigger discount than the export's
        // rules give this bundle for this cart, which is what checkout verifies.
        let ceiling = offer_under_export(src, cart, &option.items, &terms.fresh);
        let limits = Limits::new(&offer, &terms.rules, currency).at_most(ceiling);
        quote_within(&offer, &limits, Policy::Optimize)
    };
    if let Some(Some(fixed)) = option.pinned {
        // check_catalog made sure a fixed price keeps every rule.
        pricing.discount = offer.base_price - fixed;
        pricing.bundle_price = fixed;
        pricing.acceptance = offer.acceptance(pricing.discount);
    }
    let explained = reasons::explain(
        src, terms, cart, option, candidates, month, history, &pricing,
    );
    let stock = option
        .items
        .iter()
        .map(|i| terms.stock.get(i).copied())
        .collect::<Option<Vec<u32>>>()
        .and_then(|s| s.into_iter().min());
    Bundle {
        items: option
            .items
            .iter()
            .zip(&products)
            .map(|(&i, p)| {
                let (image, url) = src.export.links.get(i);
                BundleItem {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    price: p.price.unwrap_or(0),
                    image: image.map(str::to_string),
                    url: url.map(str::to_string),
                }
            })
            .collect(),
        base_price: pricing.base_price,
        discount: pricing.discount,
        bundle_price: pricing.bundle_price,
        score: option.score,
        reasons: explained.iter().map(|r| r.text.clone()).collect(),
        reason_codes: explained,
        stock,
        offer,
    }
}
