//! The rebuy index ([`RebuyIndex`]): per item, the share of its buyers who bought it in two or
//! more orders, as a multiple of the shop's share — aggregate over customers, never one
//! customer's record.

use std::collections::HashMap;

use crate::serve::rebuy::{RebuyIndex, SCALE};
use crate::train::ingest::Order;

/// Pseudo-buyers at the shop's share that every item's share is shrunk toward: an item of three
/// buyers who all came back is not yet a staple.
pub const PRIOR_BUYERS: f64 = 5.0;

/// The rebuy index of `orders` over a catalog of `items`: each item's share of returning buyers
/// (distinct customers who bought it in two or more orders), shrunk by [`PRIOR_BUYERS`], divided
/// by the shop's share. Items of fewer than `min_buyers` buyers get 1.0 (the export would
/// otherwise tell whether those few customers came back). Empty (every factor 1.0) when no
/// order names a customer or nobody bought an item twice.
pub fn rebuy_index<'a>(
    orders: impl IntoIterator<Item = &'a Order>,
    items: usize,
    min_buyers: u32,
) -> RebuyIndex {
    // Orders per (customer, item), each order counted once however many lines it has.
    let mut customers: HashMap<&str, u32> = HashMap::new();
    let mut bought: HashMap<(u32, u32), u32> = HashMap::new();
    let mut lines: Vec<u32> = Vec::new();
    for order in orders {
        let Some(customer) = order.customer.as_deref() else {
            continue;
        };
        let next = customers.len() as u32;
        let c = *customers.entry(customer).or_insert(next);
        lines.clear();
        lines.extend(
            order
                .items
                .iter()
                .copied()
                .filter(|&i| (i as usize) < items),
        );
        lines.sort_unstable();
        lines.dedup();
        for &i in &lines {
            *bought.entry((c, i)).or_default() += 1;
        }
    }
    let (mut buyers, mut returning) = (vec![0u32; items], vec![0u32; items]);
    for (&(_, i), &orders) in &bought {
        buyers[i as usize] += 1;
        returning[i as usize] += u32::from(orders >= 2);
    }
    let total_buyers: u64 = buyers.iter().map(|&b| b as u64).sum();
    let total_returning: u64 = returning.iter().map(|&r| r as u64).sum();
    if total_returning == 0 {
        return RebuyIndex::default();
    }
    let shop = total_returning as f64 / total_buyers as f64;
    let factors = buyers
        .iter()
        .zip(&returning)
        .map(|(&b, &r)| {
            if b < min_buyers.max(1) {
                return SCALE as u8;
            }
            let share = (r as f64 + PRIOR_BUYERS * shop) / (b as f64 + PRIOR_BUYERS);
            (share / shop * SCALE as f64).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    RebuyIndex { factors }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, customer: Option<&str>, items: &[u32]) -> Order {
        Order {
            id: id.into(),
            customer: customer.map(Into::into),
            time: None,
            items: items.to_vec(),
            unit_prices: vec![None; items.len()],
        }
    }

    #[test]
    fn staples_weigh_more_than_one_off_buys() {
        // Ten customers: each buys item 0 in two orders and item 1 in one (twice on one line).
        let orders: Vec<Order> = (0..10)
            .flat_map(|c| {
                let c = format!("c{c}");
                vec![
                    order(&format!("{c}a"), Some(&c), &[0, 1, 1]),
                    order(&format!("{c}b"), Some(&c), &[0, 2]),
                ]
            })
            .collect();
        let index = rebuy_index(&orders, 4, 5);
        assert!(index.factor(0) > 1.0, "{:?}", index.factors);
        assert!(index.factor(1) < 1.0, "{:?}", index.factors);
        assert!(index.factor(1) > 0.0, "shrunk toward the shop's share");
        // Item 3 has no buyers: the shop's average.
        assert_eq!(index.factor(3), 1.0);
        // With a higher publishing threshold than any item's buyers, nothing is said.
        let withheld = rebuy_index(&orders, 4, 11);
        assert!(withheld.factors.iter().all(|&f| f as f32 == SCALE));
    }

    #[test]
    fn no_customers_or_no_returns_give_no_index() {
        let anonymous = [order("a", None, &[0, 1]), order("b", None, &[0])];
        assert!(rebuy_index(&anonymous, 2, 1).factors.is_empty());
        let once = [order("a", Some("x"), &[0]), order("b", Some("y"), &[0])];
        assert!(rebuy_index(&once, 2, 1).factors.is_empty());
    }
}
