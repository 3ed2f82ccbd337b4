//! Reason strings drawn from the evidence behind each add-on. They are shown to shoppers from a
//! public export, so they speak in relative terms (lift, share of buyers, rank, seasonal
//! factor, discount) and never print order counts or the predicted take-up: the
//! merchant-facing figures stay in `cartwise inspect` and `eval`.

use super::candidates::Sources;
use super::types::Reason;
use super::types::{BundleOption, Candidate, Evidence, Terms};
use crate::serve::assoc::PairStats;
use crate::serve::pricing::Quote;
use crate::serve::seasonal::MONTH_NAMES;
use serde_json::{json, Value};

fn say(code: &'static str, params: Value, text: String) -> Reason {
    Reason { code, params, text }
}

/// Seasonal factors at or above this are worth telling the shopper about.
pub const SEASONAL_REASON_FACTOR: f32 = 1.25;

/// Lift at or above this between a cart item's category and a new item's is worth telling
/// the shopper about.
pub const CATEGORY_REASON_LIFT: f64 = 1.5;

/// Lift at or above this between an item of the shopper's history and an add-on is worth
/// telling the shopper about.
pub const HISTORY_REASON_LIFT: f64 = 2.0;

/// Explains a bundle: the merchant's pick, association with the cart, itemsets, the shopper's
/// history (items of `history`, catalog indices), seasonality, popularity, a new item's
/// similar title, and its price.
#[allow(clippy::too_many_arguments)]
pub fn explain(
    src: &Sources,
    terms: &Terms,
    cart: &[u32],
    option: &BundleOption,
    candidates: &[Candidate],
    month: u8,
    history: &[u32],
    price: &Quote,
) -> Vec<Reason> {
    let export = src.export;
    let (catalog, assoc) = (terms.fresh.shelf(&src.export.catalog), &export.assoc);
    let mut reasons = Vec::new();
    if option.pinned.is_some() {
        reasons.push(say("picked", json!({}), "Picked by the shop".into()));
    }
    if option.itemset_count.is_some() {
        reasons.push(say(
            "completes_set",
            json!({}),
            "Completes a set often bought together".into(),
        ));
    }
    for &item in &option.items {
        let title = &catalog.get(item).title;
        let found = candidates.iter().position(|c| c.item == item);
        match found.map(|k| candidates[k].evidence) {
            Some(Evidence::Assoc { anchor, count, .. }) => {
                let stats = PairStats::from_counts(
                    assoc.orders,
                    assoc.item_counts[anchor as usize],
                    assoc.item_counts[item as usize],
                    count,
                );
                let anchor = &catalog.get(anchor).title;
                reasons.push(say(
                    "bought_with",
                    json!({"item": title, "anchor": anchor, "lift": stats.lift, "share": stats.confidence}),
                    format!(
                        "{title} is bought with {anchor} {:.1}x more often than chance ({:.0}% of its buyers)",
                        stats.lift,
                        stats.confidence * 100.0
                    ),
                ));
            }
            Some(Evidence::Learned { anchor, weight }) => {
                let anchor = &catalog.get(anchor).title;
                reasons.push(say(
                    "goes_with",
                    json!({"item": title, "anchor": anchor, "weight": f64::from(weight)}),
                    format!(
                        "{title} goes with {anchor}: having it in the cart adds {weight:.2} to the \
                         predicted chance of {title}, beyond what the rest of the cart explains \
                         (regression on past orders)"
                    ),
                ))
            }
            Some(Evidence::Rebuy) => reasons.push(say(
                "bought_before",
                json!({"item": title}),
                format!("you bought {title} before (your history on this device)"),
            )),
            Some(Evidence::Model) => {
                let (rank, of) = (found.map_or(0, |k| k + 1), catalog.len());
                reasons.push(say(
                    "model_rank",
                    json!({"item": title, "rank": rank, "of": of}),
                    format!(
                        "{title} ranks #{rank} of {of} items as the completion of carts like this one (basket model)"
                    ),
                ))
            }
            Some(Evidence::New { read: true }) => {
                let (rank, of) = (found.map_or(0, |k| k + 1), catalog.len());
                reasons.push(match terms.fresh.look_alike.get(&item) {
                    Some(&(like, similarity)) => {
                        let like = &catalog.get(like).title;
                        say(
                            "new_like",
                            json!({"item": title, "like": like, "similarity": f64::from(similarity), "rank": rank, "of": of}),
                            format!(
                                "{title} is new here: its title reads like {like}'s (title similarity \
                                 {similarity:.2}), and the basket model ranks it #{rank} of {of} items \
                                 for this cart from its title and category"
                            ),
                        )
                    }
                    None => say(
                        "new_ranked",
                        json!({"item": title, "rank": rank, "of": of}),
                        format!(
                            "{title} is new here: the basket model ranks it #{rank} of {of} items \
                             for this cart from its title and category"
                        ),
                    ),
                })
            }
            Some(Evidence::New { read: false }) => {
                let category = &catalog.get(item).category;
                reasons.push(say(
                    "new_typical",
                    json!({"item": title, "category": category}),
                    format!("{title} is new here, ranked as a typical {category} item"),
                ))
            }
            _ => reasons.push(say(
                "popular",
                json!({"item": title}),
                format!("{title} is one of the shop's most popular items"),
            )),
        }
        // A new item's category, by how it goes with the cart's.
        if let Some(Evidence::New { .. }) = found.map(|k| candidates[k].evidence) {
            let category = &catalog.get(item).category;
            let best = src
                .titles
                .category_lift
                .best(&export.catalog, cart, category);
            if let Some((lift, from)) = best.filter(|(lift, _)| *lift >= CATEGORY_REASON_LIFT) {
                reasons.push(say(
                    "category_lift",
                    json!({"category": category, "from": from, "lift": lift}),
                    format!(
                        "{category} items are bought with {from} items {lift:.1}x more often than chance"
                    ),
                ));
            }
        }
        // The history item most strongly bought with this add-on, by lift.
        let past = history
            .iter()
            .filter(|&&h| h != item)
            .filter_map(|&h| assoc.find(h, item).map(|nb| (h, assoc.stats(h, nb))))
            .filter(|(_, s)| s.lift >= HISTORY_REASON_LIFT)
            .max_by(|a, b| a.1.lift.total_cmp(&b.1.lift).then(b.0.cmp(&a.0)));
        if let Some((h, stats)) = past {
            let past = &catalog.get(h).title;
            reasons.push(say(
                "history",
                json!({"past": past, "item": title, "lift": stats.lift}),
                format!(
                    "From your history: {past} is bought with {title} {:.1}x more often than chance",
                    stats.lift
                ),
            ));
        }
        let factor = export.seasonal.factor(item, month);
        if factor >= SEASONAL_REASON_FACTOR {
            reasons.push(say(
                "seasonal",
                json!({"item": title, "month": month, "factor": f64::from(factor)}),
                format!(
                    "{title} is popular in {} ({factor:.1}x its usual sales)",
                    MONTH_NAMES[month as usize - 1]
                ),
            ));
        }
    }
    if let [a, b] = option.items[..] {
        if option.itemset_count.is_none() && src.export.assoc.mutual(a, b) > 0.0 {
            if let Some(nb) = assoc.find(a, b) {
                let (a, b, lift) = (
                    &catalog.get(a).title,
                    &catalog.get(b).title,
                    assoc.stats(a, nb).lift,
                );
                reasons.push(say(
                    "together",
                    json!({"a": a, "b": b, "lift": lift}),
                    format!("{a} and {b} are bought together {lift:.1}x more often than chance"),
                ));
            }
        }
    }
    if price.discount > 0 {
        let share = price.discount as f64 / price.base_price as f64;
        reasons.push(say(
            "discount",
            json!({"share": share}),
            format!("{:.0}% off when bought together", share * 100.0),
        ));
    }
    reasons
}
