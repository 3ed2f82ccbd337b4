//! Suggest: ranking, bundles, pricing rules and reasons on a trained export.

mod common;

use cartwise::pricing::margin_floor;
use cartwise::rules::BP;
use cartwise::suggest::{Cart, CartEntry, Engine, SuggestError, SuggestOptions};

fn cart(ids: &[&str]) -> Cart {
    Cart {
        items: ids
            .iter()
            .map(|id| CartEntry::Item {
                id: id.to_string(),
                qty: 1,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn suggestions_never_include_cart_items_and_bundles_respect_rules() {
    let export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let products = export.catalog.products();
    for (n, anchor) in products.iter().enumerate().step_by(7) {
        let mut ids = vec![anchor.id.as_str()];
        if n + 1 < products.len() {
            ids.push(products[n + 1].id.as_str());
        }
        let options = SuggestOptions {
            k: Some(6),
            month: Some(12),
            ..Default::default()
        };
        let out = engine.suggest(&cart(&ids), &options, 1).unwrap();
        assert!(out.items.len() <= 6 && out.bundles.len() <= 6);
        assert!(
            out.items.iter().all(|id| !ids.contains(&id.as_str())),
            "cart item suggested"
        );
        let mut seen = std::collections::HashSet::new();
        for b in &out.bundles {
            assert!((1..=2).contains(&b.items.len()));
            assert_eq!(b.base_price, b.items.iter().map(|i| i.price).sum::<i64>());
            assert_eq!(b.bundle_price, b.base_price - b.discount);
            assert!(b.discount * BP as i64 <= b.base_price * export.rules.max_discount_bp as i64);
            let cost: i64 = b
                .items
                .iter()
                .map(|i| {
                    export
                        .catalog
                        .get(export.catalog.lookup(&i.id).unwrap())
                        .cost
                        .unwrap()
                })
                .sum();
            assert!(
                b.discount == 0 || b.bundle_price >= margin_floor(cost, export.rules.min_margin_bp)
            );
            assert!(!b.reasons.is_empty());
            for i in &b.items {
                assert!(!ids.contains(&i.id.as_str()));
                assert!(
                    seen.insert(i.id.clone()),
                    "an add-on appears in two bundles"
                );
            }
        }
    }
}

#[test]
fn options_and_unknown_ids() {
    let export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let id = export.catalog.products()[0].id.clone();
    let out = engine
        .suggest(&cart(&[&id, "NOPE", "NOPE"]), &SuggestOptions::default(), 3)
        .unwrap();
    assert_eq!(out.unknown, vec!["NOPE".to_string()]);
    let bad = |o: SuggestOptions| engine.suggest(&cart(&[&id]), &o, 3).unwrap_err();
    assert_eq!(
        bad(SuggestOptions {
            k: Some(0),
            ..Default::default()
        }),
        SuggestError::K(0)
    );
    assert_eq!(
        bad(SuggestOptions {
            month: Some(13),
            ..Default::default()
        }),
        SuggestError::Month(13)
    );
    let e = bad(SuggestOptions {
        max_discount: Some(1.5),
        ..Default::default()
    });
    assert!(e.to_string().contains("maxDiscount"), "{e}");
    // Zero max discount: no bundle is discounted.
    let none = engine
        .suggest(
            &cart(&[&id]),
            &SuggestOptions {
                max_discount: Some(0.0),
                ..Default::default()
            },
            3,
        )
        .unwrap();
    assert!(none.bundles.iter().all(|b| b.discount == 0));
    // An empty cart gets popular items.
    let empty = engine
        .suggest(&Cart::default(), &SuggestOptions::default(), 3)
        .unwrap();
    assert_eq!(empty.items.len(), 5);
}

#[test]
fn excluded_items_are_never_suggested() {
    let mut export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let id = export.catalog.products()[0].id.clone();
    let options = SuggestOptions {
        k: Some(10),
        month: Some(6),
        ..Default::default()
    };
    let before = engine.suggest(&cart(&[&id]), &options, 6).unwrap();
    let banned = before.items[0].clone();
    export.rules.excluded_items.push(banned.clone());
    let after = Engine::new(export)
        .unwrap()
        .suggest(&cart(&[&id]), &options, 6)
        .unwrap();
    assert!(!after.items.contains(&banned));
    assert!(after
        .bundles
        .iter()
        .all(|b| b.items.iter().all(|i| i.id != banned)));
}
