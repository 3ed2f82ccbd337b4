//! Checks a shop's pinned bundles against its catalog and the pricing limits: the rules alone
//! cannot say whether a fixed price keeps the margin floor, the pricing arithmetic can.

use super::{Limits, Offer};
use crate::serve::catalog::Catalog;
use crate::serve::rules::{Exclusions, MerchantRules, RuleError};

/// Checks merchant rules against a catalog: pinned bundles name known, priced items, and a
/// fixed bundle price keeps every other rule (no surcharge, at most the maximum discount,
/// at or above the margin floor, the price ending).
pub fn check_catalog(rules: &MerchantRules, catalog: &Catalog) -> Result<(), RuleError> {
    let currency = catalog.currency();
    if let Some(problem) = rules.price_ending.problem(currency) {
        return Err(RuleError::new("priceEnding", problem));
    }
    let format_minor = |minor: i64| currency.format(minor);
    // Built only when a pinned bundle has a fixed price to check (most calls have none).
    let mut exclusions = None;
    for (n, pin) in rules.pinned.iter().enumerate() {
        for (k, id) in pin.when.iter().enumerate() {
            if catalog.lookup(id).is_none() {
                return Err(RuleError::new(
                    format!("pinned[{n}].when[{k}]"),
                    format!("item {id:?} is not in the catalog"),
                ));
            }
        }
        let mut products = Vec::with_capacity(pin.items.len());
        for (k, id) in pin.items.iter().enumerate() {
            let field = format!("pinned[{n}].items[{k}]");
            let Some(item) = catalog.lookup(id) else {
                return Err(RuleError::new(
                    field,
                    format!("item {id:?} is not in the catalog"),
                ));
            };
            let product = catalog.get(item);
            if product.price.is_none() {
                return Err(RuleError::new(field, format!("item {id:?} has no price")));
            }
            products.push(product);
        }
        let Some(fixed) = pin.price else { continue };
        let field = format!("pinned[{n}].price");
        // Acceptance does not enter the limits.
        let exclusions = exclusions.get_or_insert_with(|| Exclusions::of(rules));
        let offer = Offer::new(&products, exclusions, 0.5, 0.0);
        let (base, cost) = (offer.base_price, offer.cost);
        let most = Limits::new(&offer, rules, currency).max;
        let discount = base - fixed;
        let (price, base_text) = (format_minor(fixed), format_minor(base));
        let problem = if discount < 0 {
            Some(format!(
                "{price} is above the bundle's base price {base_text}"
            ))
        } else if discount > 0 && cost.is_none() {
            Some(format!(
                "{price} is a discount on a bundle with an item of unknown cost (no margin floor to check)"
            ))
        } else if discount > most {
            Some(format!(
                "{price} is {} off {base_text}; the rules allow at most {} off (maximum \
                 discount {:.2}%, minimum margin {:.2}% over cost {}, no discount on \
                 excluded items)",
                format_minor(discount),
                format_minor(most),
                rules.max_discount_bp as f64 / 100.0,
                rules.min_margin_bp as f64 / 100.0,
                format_minor(cost.unwrap_or(0)),
            ))
        } else if discount > 0 && !rules.price_ending.fits(fixed, currency) {
            Some(format!(
                "{price} does not have the price ending {:?}",
                rules.price_ending
            ))
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(RuleError::new(field, reason));
        }
    }
    Ok(())
}
