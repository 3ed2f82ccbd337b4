//! The held-out protocol: which carts the metrics are computed on.

use cartwise::train::protocol::{leave_one_out, TestCart};
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
