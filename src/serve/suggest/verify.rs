//! Checkout verification: the browser proposes, the server disposes. A bundle's allowed price
//! is re-derived from what the shop's server knows — the export, the cart's item ids and the
//! bundle's item ids, never the shopper's history or a page's options — and a claimed price is
//! valid when the bundle's items are eligible under the export's rules and it is at least that.

use super::bundles::{offer, triggers};
use super::candidates::Sources;
use super::new_items::Fresh;
use super::types::CartEntry;
use crate::serve::pricing::{quote, Policy};
use crate::serve::rules::MAX_PINNED_ITEMS;
use serde::{Deserialize, Serialize};

/// A bundle offer to check at checkout: the cart it was offered for and the bundle as taken.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The cart's item ids (or `{id, qty}` entries) besides the bundle.
    pub cart: Vec<CartEntry>,
    pub bundle: ClaimedBundle,
}

/// The bundle as the shopper took it: its add-ons' ids and the price it was offered at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimedBundle {
    pub items: Vec<String>,
    /// Minor units.
    pub bundle_price: i64,
}

/// Whether a claimed bundle price stands, the lowest price the export's rules allow for it
/// (`None` when an item is not in the export) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub ok: bool,
    pub allowed_price: Option<i64>,
    pub reason: String,
}

impl Verdict {
    fn refuse(allowed_price: Option<i64>, reason: String) -> Self {
        Self {
            ok: false,
            allowed_price,
            reason,
        }
    }
}

/// Checks a claim against the export: every add-on known, priced, listed once, not in the
/// cart and not excluded; at most the rules' add-ons (a pinned bundle's up to three); and the
/// price at least the lowest the engine gives these add-ons for this cart under the export's
/// rules — the optimiser's price, or a triggered pinned bundle's fixed price when lower. Cart
/// ids the export does not know are ignored, as `suggest` ignores them.
pub fn verify(src: &Sources, cart: &[u32], claim: &Claim) -> Verdict {
    let export = src.export;
    let (catalog, rules) = (&export.catalog, &export.rules);
    let ids = &claim.bundle.items;
    if let Err(e) = super::budget::check_entries("cart", &claim.cart) {
        return Verdict::refuse(None, e.to_string());
    }
    if ids.is_empty() {
        return Verdict::refuse(None, "bundle.items is empty".into());
    }
    let mut items = Vec::with_capacity(ids.len());
    for (k, id) in ids.iter().enumerate() {
        let field = format!("bundle.items[{k}]");
        let Some(i) = catalog.lookup(id) else {
            return Verdict::refuse(
                None,
                format!(
                    "{field}: item {id:?} is not in the export (items added since are never \
                     discounted: charge their list price)"
                ),
            );
        };
        if catalog.get(i).price.is_none() {
            return Verdict::refuse(None, format!("{field}: item {id:?} has no price"));
        }
        if items.contains(&i) {
            return Verdict::refuse(None, format!("{field}: item {id:?} is listed twice"));
        }
        items.push(i);
    }
    let base: i64 = items.iter().filter_map(|&i| catalog.get(i).price).sum();
    for (k, (&i, id)) in items.iter().zip(ids).enumerate() {
        let field = format!("bundle.items[{k}]");
        if cart.contains(&i) {
            return Verdict::refuse(
                Some(base),
                format!("{field}: item {id:?} is already in the cart"),
            );
        }
        if src.excluded.get(i as usize).copied().unwrap_or(true) {
            return Verdict::refuse(
                Some(base),
                format!("{field}: item {id:?} is excluded from bundles by the shop's rules"),
            );
        }
    }
    let same_items = |pin_items: &[String]| {
        pin_items.len() == ids.len() && pin_items.iter().all(|p| ids.contains(p))
    };
    let pin = rules
        .pinned
        .iter()
        .find(|pin| same_items(&pin.items) && triggers(pin, catalog, cart));
    let most = if pin.is_some() {
        MAX_PINNED_ITEMS
    } else {
        rules.max_addons as usize
    };
    if items.len() > most {
        return Verdict::refuse(
            Some(base),
            format!(
                "bundle.items: {} add-ons; the shop's bundles have at most {most}",
                items.len()
            ),
        );
    }
    let optimised = quote(
        &offer(src, cart, &items, src.exclusions, &Fresh::default()),
        rules,
        catalog.currency(),
        Policy::Optimize,
    )
    .bundle_price;
    let allowed = match pin.and_then(|p| p.price) {
        Some(fixed) => fixed.min(optimised),
        None => optimised,
    };
    let claimed = claim.bundle.bundle_price;
    let (price, allowed_text) = (
        catalog.currency().format(claimed),
        catalog.currency().format(allowed),
    );
    if claimed >= allowed {
        Verdict {
            ok: true,
            allowed_price: Some(allowed),
            reason: format!("{price} is at or above the allowed price {allowed_text}"),
        }
    } else {
        Verdict::refuse(
            Some(allowed),
            format!(
                "{price} is below {allowed_text}, the lowest price the shop's rules give these \
                 items with this cart"
            ),
        )
    }
}
