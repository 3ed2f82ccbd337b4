//! Shared fixtures: small trained exports from the synthetic shop.

#![allow(dead_code)]

use cartwise::export::Export;
use cartwise::synth::{generate, Shop, SynthConfig};
use cartwise::train::{train, TrainConfig};

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
