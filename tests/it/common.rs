//! Shared fixtures: small trained exports from the synthetic shop.

#![allow(dead_code)]

use cartwise::serve::export::{
    read_sections, section_payload, tags, Export, ExportError, Tag, ENTRY_LEN, FLAG_DEFLATE,
    HEADER_LEN,
};
use cartwise::serve::money::Currency;
use cartwise::serve::pricing::margin_floor;
use cartwise::serve::rules::BP;
use cartwise::serve::suggest::{Bundle, Cart, CartEntry};
use cartwise::train::pipeline::{train, TrainConfig};
use cartwise::train::synth::{generate, Shop, SynthConfig};
use proptest::prelude::*;

/// Runs the `cartwise` binary with `args`.
pub fn cartwise(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cartwise"))
        .args(args)
        .output()
        .expect("cartwise runs")
}

/// Runs the `cartwise` binary with `args` and checks it succeeded.
pub fn ok(args: &[&str]) -> std::process::Output {
    let out = cartwise(args);
    assert!(
        out.status.success(),
        "cartwise {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A cart of one unit of each id, without a history.
pub fn cart<S: AsRef<str>>(ids: &[S]) -> Cart {
    Cart {
        items: ids
            .iter()
            .map(|id| CartEntry::Item {
                id: id.as_ref().to_string(),
                qty: 1,
                title: None,
            })
            .collect(),
        ..Default::default()
    }
}

/// Checks that a bundle keeps the export's rules: its prices add up, its discount is within the
/// maximum and, where every add-on's cost is known, above the margin floor (`what` names the
/// case in a failure). Returns the add-ons' summed cost, when known.
pub fn assert_keeps_rules(export: &Export, b: &Bundle, what: &str) -> Option<i64> {
    let rules = &export.rules;
    assert_eq!(
        b.base_price,
        b.items.iter().map(|i| i.price).sum::<i64>(),
        "{what}"
    );
    assert_eq!(b.bundle_price, b.base_price - b.discount, "{what}");
    assert!(b.discount >= 0, "{what}");
    assert!(
        b.discount * BP as i64 <= b.base_price * rules.max_discount_bp as i64,
        "over the maximum discount: {what}"
    );
    let catalog = &export.catalog;
    let cost: Option<i64> = b
        .items
        .iter()
        .map(|i| catalog.get(catalog.lookup(&i.id).unwrap()).cost)
        .sum();
    if let (Some(cost), true) = (cost, b.discount > 0) {
        assert!(
            b.bundle_price >= margin_floor(cost, rules.min_margin_bp),
            "under the margin floor: {what}"
        );
    }
    cost
}

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

/// Sections as a writer before version 7 laid them out: the catalog without its currency.
pub fn without_currency(parts: &mut [(Tag, u32, Vec<u8>)], export: &Export) {
    let code = export.catalog.currency().code().unwrap_or("");
    let catl = parts.iter_mut().find(|p| p.0 == tags::CATALOG).unwrap();
    // A one-entry string table (count, two offsets, the code) and the exponent.
    let trailer = 4 + 8 + code.len() + 4;
    catl.2.truncate(catl.2.len() - trailer);
}

/// Sections as a writer before version 10 laid them out: ASOC, SEAS and RBUY with a row per
/// item.
pub fn dense_rows(parts: &mut [(Tag, u32, Vec<u8>)], export: &Export) {
    let t = &export.assoc;
    let mut assoc = Vec::new();
    let mut u32s = |v: &mut dyn Iterator<Item = u32>| v.for_each(|x| assoc.extend(x.to_le_bytes()));
    u32s(&mut [t.orders, t.item_counts.len() as u32].into_iter());
    u32s(&mut t.item_counts.iter().copied());
    u32s(&mut t.offsets.iter().copied());
    u32s(&mut std::iter::once(t.neighbors.len() as u32));
    u32s(&mut t.neighbors.iter().map(|nb| nb.item));
    u32s(&mut t.neighbors.iter().map(|nb| nb.count));
    u32s(&mut t.neighbors.iter().map(|nb| nb.score.to_bits()));
    let mut seasonal = (export.seasonal.factors.len() as u32)
        .to_le_bytes()
        .to_vec();
    export
        .seasonal
        .factors
        .iter()
        .for_each(|row| seasonal.extend_from_slice(row));
    let mut rebuy = (export.rebuy.factors.len() as u32).to_le_bytes().to_vec();
    rebuy.extend_from_slice(&export.rebuy.factors);
    for (tag, payload) in [
        (tags::ASSOC, assoc),
        (tags::SEASONAL, seasonal),
        (tags::REBUY, rebuy),
    ] {
        if let Some(part) = parts.iter_mut().find(|p| p.0 == tag) {
            part.1 &= !cartwise::serve::export::FLAG_DEFLATE;
            part.2 = payload;
        }
    }
}

/// What a file written before version 7 reads as: the same, with no currency stated.
pub fn read_before_currency(export: &Export, version: u32) -> Export {
    Export {
        version,
        catalog: export.catalog.clone().in_currency(Currency::unstated()),
        ..export.clone()
    }
}

/// Rewrites a file's format version, keeping its table checksum valid: how an older writer's
/// file looks when its sections are laid out as that version had them.
pub fn set_version(bytes: &mut [u8], version: u32) {
    bytes[8..12].copy_from_slice(&version.to_le_bytes());
    let count = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[..24]);
    crc.update(&bytes[HEADER_LEN..HEADER_LEN + count * ENTRY_LEN]);
    let table_crc = crc.finalize();
    bytes[24..28].copy_from_slice(&table_crc.to_le_bytes());
}

/// A basket transformer small enough to train in seconds: dim 16, two epochs.
pub fn tiny_transformer(max_history: usize) -> cartwise::train::model::fit::FitConfig {
    cartwise::train::model::fit::FitConfig {
        dim: 16,
        ff: 32,
        epochs: 2,
        batch: 128,
        vocab: 200,
        max_history,
        ..Default::default()
    }
}

/// A synthetic shop of `items` items and `orders` orders, trained with the tiny transformer.
pub fn trained_with_model(seed: u64, items: usize, customers: usize, orders: usize) -> Export {
    let shop = generate(&SynthConfig {
        seed,
        items,
        customers,
        orders,
    });
    let (catalog, log) = shop.to_log();
    let config = TrainConfig {
        transformer: Some(tiny_transformer(0)),
        ..TrainConfig::default()
    };
    train(&catalog, &log, &config, |_| {}).unwrap()
}

/// The (tag, flags, raw payload) of every section, inflated, to rebuild variants with
/// `write_sections` (which stores them uncompressed).
pub fn parts_of(bytes: &[u8]) -> Vec<(Tag, u32, Vec<u8>)> {
    read_sections(bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let raw = section_payload(bytes, e).unwrap().into_owned();
            (e.tag, e.flags & !FLAG_DEFLATE, raw)
        })
        .collect()
}

/// The reason a hostile file is refused with, when it names `tag`.
pub fn refused(bytes: &[u8], tag: &str) -> String {
    match Export::from_bytes(bytes) {
        Err(ExportError::Malformed { tag: t, reason }) if t == tag => reason,
        other => panic!("expected a malformed {tag}, got {other:?}"),
    }
}
