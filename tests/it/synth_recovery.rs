//! The default synthetic shop: the planted structure is recovered by the trained tables.

use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
use cartwise::train::pipeline::{train, TrainConfig};
use cartwise::train::synth::{generate, SynthConfig};
use std::sync::OnceLock;

fn trained() -> &'static (cartwise::train::synth::Shop, Engine) {
    static SHOP: OnceLock<(cartwise::train::synth::Shop, Engine)> = OnceLock::new();
    SHOP.get_or_init(|| {
        let shop = generate(&SynthConfig::default());
        let (catalog, log) = shop.to_log();
        let export = train(&catalog, &log, &TrainConfig::default(), |_| {}).unwrap();
        (shop, Engine::new(export).unwrap())
    })
}

#[test]
fn planted_partners_top_the_neighbour_lists() {
    let (shop, engine) = trained();
    let export = engine.export();
    let mut precision = Vec::new();
    for group in &shop.planted.groups {
        for anchor in &group.items {
            let i = export.catalog.lookup(anchor).unwrap();
            let cart = Cart {
                items: vec![CartEntry::Id(anchor.clone())],
                ..Default::default()
            };
            let out = engine
                .suggest(
                    &cart,
                    &SuggestOptions {
                        k: Some(5),
                        month: Some(3),
                        ..Default::default()
                    },
                    3,
                )
                .unwrap();
            let hits = out
                .items
                .iter()
                .filter(|id| group.items.contains(id))
                .count();
            precision.push(hits as f64 / 5.0);
            assert!(
                export.assoc.row(i).len() >= 5,
                "{anchor} has a neighbour row"
            );
        }
    }
    let mean = precision.iter().sum::<f64>() / precision.len() as f64;
    eprintln!(
        "planted partner precision@5 over {} anchors: {mean:.3}",
        precision.len()
    );
    assert_eq!(precision.len(), 240);
    assert!(mean >= 0.8, "precision@5 = {mean:.3}");
}

#[test]
fn planted_seasons_are_recovered() {
    let (shop, engine) = trained();
    let export = engine.export();
    for s in &shop.planted.seasonal {
        let i = export.catalog.lookup(&s.item).unwrap();
        let peak = (1..=12u8)
            .max_by(|&a, &b| {
                export
                    .seasonal
                    .factor(i, a)
                    .total_cmp(&export.seasonal.factor(i, b))
            })
            .unwrap();
        assert!(
            s.months.contains(&peak),
            "{} ({}) peaks in month {peak}, planted {:?}",
            s.item,
            s.season,
            s.months
        );
        assert!(
            export.seasonal.factor(i, peak) >= 2.0,
            "{} peak factor {}",
            s.item,
            export.seasonal.factor(i, peak)
        );
    }
}

#[test]
fn bulk_orders_are_left_out_and_reported() {
    let (_, engine) = trained();
    let meta = &engine.export().meta;
    assert!(
        meta.oversized_orders > 0,
        "the synthetic shop plants bulk orders"
    );
    // Published to two significant figures: the sum agrees within rounding.
    let counted = engine.export().assoc.orders as u64 + meta.oversized_orders;
    assert!(
        counted.abs_diff(meta.orders_read) * 100 <= meta.orders_read,
        "{counted} vs {}",
        meta.orders_read
    );
}

#[test]
fn espresso_machine_gets_a_discounted_bundle_with_reasons() {
    let (shop, engine) = trained();
    let machine = &shop.planted.groups[0].items[0];
    let cart = Cart {
        items: vec![CartEntry::Id(machine.clone())],
        ..Default::default()
    };
    let out = engine
        .suggest(
            &cart,
            &SuggestOptions {
                k: Some(3),
                month: Some(5),
                ..Default::default()
            },
            5,
        )
        .unwrap();
    let top = &out.bundles[0];
    assert_eq!(top.items.len(), 2, "{top:?}");
    assert!(
        top.items
            .iter()
            .all(|i| shop.planted.groups[0].items.contains(&i.id)),
        "{top:?}"
    );
    assert!(top.discount > 0, "{top:?}");
    assert!(
        top.reasons
            .iter()
            .any(|r| r.contains("more often than chance")),
        "{:?}",
        top.reasons
    );
}
