//! Shared fixtures: small trained exports from the synthetic shop.

#![allow(dead_code)]

use cartwise::export::Export;
use cartwise::synth::{generate, Shop, SynthConfig};
use cartwise::train::{train, TrainConfig};
use proptest::prelude::*;

/// A small shop (250 items, 3,000 orders) that trains in milliseconds.
pub fn small_shop() -> Shop {
    generate(&SynthConfig {
        seed: 3,
        items: 250,
        customers: 300,
        orders: 3_000,
    })
}

/// The small shop trained with default settings.
pub fn small_export() -> Export {
    let (catalog, log) = small_shop().to_log();
    train(&catalog, &log, &TrainConfig::default(), |_| {}).unwrap()
}

/// Random baskets (1–4 distinct items each, 5–59 baskets) over a catalog of `items` items.
pub fn baskets_strategy(
    items: std::ops::Range<usize>,
) -> impl Strategy<Value = (usize, Vec<Vec<u32>>)> {
    items.prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(
                prop::collection::btree_set(0..n as u32, 1..5)
                    .prop_map(|s| s.into_iter().collect()),
                5..60,
            ),
        )
    })
}
