//! The held-out protocol: which carts the metrics are computed on.

use cartwise::train::protocol::{leave_one_out, tuning_carts, TestCart, MAX_TUNING_CARTS};
use proptest::prelude::*;

proptest! {
    /// Every item of each order is hidden exactly once, the rest of the order is its cart, and
    /// the month carries over.
    #[test]
    fn leave_one_out_hides_each_item_once(
        orders in prop::collection::vec(
            (prop::collection::btree_set(0u32..50, 2..8), prop::option::of(1u8..=12)),
            0..20,
        )
    ) {
        let carts: Vec<TestCart> = orders
            .iter()
            .map(|(items, month)| {
                let mut cart: Vec<u32> = items.iter().copied().collect();
                let hidden = cart.remove(cart.len() / 2);
                TestCart { cart, hidden, month: *month, history: Vec::new() }
            })
            .collect();
        let expanded = leave_one_out(&carts);
        prop_assert_eq!(expanded.len(), orders.iter().map(|(items, _)| items.len()).sum::<usize>());
        let mut next = expanded.iter();
        for (items, month) in &orders {
            let mut hidden = Vec::new();
            for _ in 0..items.len() {
                let t = next.next().unwrap();
                prop_assert_eq!(t.month, *month);
                prop_assert!(!t.cart.contains(&t.hidden));
                let mut whole: Vec<u32> = t.cart.clone();
                whole.push(t.hidden);
                whole.sort_unstable();
                prop_assert_eq!(&whole, &items.iter().copied().collect::<Vec<_>>());
                hidden.push(t.hidden);
            }
            hidden.sort_unstable();
            prop_assert_eq!(&hidden, &items.iter().copied().collect::<Vec<_>>());
        }
    }
}

/// Above the cap, the tuning carts are spread over the whole validation period (the carts come
/// in time order; the month stands for when): the first and the last orders both count, and
/// each stretch of it gets its share.
#[test]
fn tuning_carts_above_the_cap_cover_the_whole_validation_period() {
    // 12 months of orders of 4 items: 4 leave-one-out carts per order.
    let per_month = MAX_TUNING_CARTS / 12;
    let carts: Vec<TestCart> = (0..12 * per_month)
        .map(|k| TestCart {
            cart: vec![0, 1, 2],
            hidden: 3 + (k % 40) as u32,
            month: Some(1 + (k / per_month) as u8),
            history: Vec::new(),
        })
        .collect();
    let tuning = tuning_carts(&carts);
    assert_eq!(tuning.len(), MAX_TUNING_CARTS);
    let mut by_month = [0usize; 12];
    for t in &tuning {
        by_month[t.month.unwrap() as usize - 1] += 1;
    }
    for (m, &n) in by_month.iter().enumerate() {
        assert!(
            n.abs_diff(MAX_TUNING_CARTS / 12) <= 4,
            "month {} has {n} of {} tuning carts: {by_month:?}",
            m + 1,
            MAX_TUNING_CARTS
        );
    }
    // Below the cap every leave-one-out cart tunes.
    assert_eq!(tuning_carts(&carts[..100]).len(), 400);
}
