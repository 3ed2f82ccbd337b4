//! Suggest: ranking, bundles, pricing rules and reasons on a trained export.

use crate::common;
use crate::common::cart;

use cartwise::serve::suggest::{Cart, CartEntry, Engine, Query, SuggestError, SuggestOptions};

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
            let cost = common::assert_keeps_rules(&export, b, "");
            assert!(cost.is_some(), "every cost is known in the fixture");
            assert!(!b.reasons.is_empty());
            // Shoppers read reasons from a public export: relative terms only.
            for r in &b.reasons {
                let words: Vec<&str> = r.split_whitespace().collect();
                let counts = words.windows(2).any(|w| {
                    w[0].trim_start_matches('(').parse::<u64>().is_ok() && w[1].starts_with("order")
                });
                assert!(
                    !counts && !r.contains("take-up"),
                    "a reason prints a count or the predicted take-up: {r}"
                );
            }
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
    assert!(matches!(
        bad(SuggestOptions {
            k: Some(0),
            ..Default::default()
        }),
        SuggestError::K(0)
    ));
    assert!(matches!(
        bad(SuggestOptions {
            month: Some(13),
            ..Default::default()
        }),
        SuggestError::Month(13)
    ));
    let e = bad(SuggestOptions {
        max_discount: Some(1.5),
        ..Default::default()
    });
    assert!(e.to_string().contains("maxDiscount"), "{e}");
    // Looser than the export's rules (15% at most, 20% margin): refused, naming the limit.
    for (options, says) in [
        (
            SuggestOptions {
                max_discount: Some(0.2),
                ..Default::default()
            },
            "maxDiscount: 0.2 (20%) is above the export's maximum discount 15%",
        ),
        (
            SuggestOptions {
                min_margin: Some(0.1),
                ..Default::default()
            },
            "minMargin: 0.1 (10%) is below the export's minimum margin 20%",
        ),
    ] {
        let e = bad(options).to_string();
        assert!(e.contains(says), "{e}");
    }
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

/// Item indices of a bundle's items.
fn indices(
    export: &cartwise::serve::export::Export,
    b: &cartwise::serve::suggest::Bundle,
) -> Vec<u32> {
    b.items
        .iter()
        .map(|i| export.catalog.lookup(&i.id).unwrap())
        .collect()
}

#[test]
fn carts_holding_part_of_an_itemset_get_the_rest_as_a_ready_made_bundle() {
    let export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let (mut carts, mut ready_made) = (0, 0);
    for set in export.itemsets.iter().take(40) {
        for held in 1..=2 {
            let inside = &set.items[..held];
            let ids: Vec<&str> = inside
                .iter()
                .map(|&i| export.catalog.get(i).id.as_str())
                .collect();
            let options = SuggestOptions {
                k: Some(5),
                month: Some(6),
                ..Default::default()
            };
            let out = engine.suggest(&cart(&ids), &options, 6).unwrap();
            carts += 1;
            let first = &out.bundles[0];
            if first.reasons[0] != "Completes a set often bought together" {
                continue;
            }
            ready_made += 1;
            // The bundle is the rest of an itemset the cart holds part of.
            let items = indices(&export, first);
            let source = export.itemsets.iter().find(|s| {
                items.iter().all(|i| s.items.contains(i))
                    && s.items
                        .iter()
                        .all(|i| items.contains(i) || inside.contains(i))
            });
            assert!(source.is_some(), "{:?} for cart {ids:?}", first);
        }
    }
    assert!(carts >= 20, "the fixture needs itemsets");
    assert!(
        ready_made * 10 >= carts * 9,
        "only {ready_made} of {carts} carts holding part of an itemset got it first"
    );
}

#[test]
fn carts_holding_a_whole_itemset_get_no_empty_bundle_and_every_bundle_verifies() {
    use cartwise::serve::suggest::verify::{Claim, ClaimedBundle};
    let export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let id = |i: u32| export.catalog.get(i).id.clone();
    let (mut carts, mut bundles) = (0, 0);
    for set in export.itemsets.iter().take(40) {
        // The set alone, and with one more item that is part of no set of the first ones.
        for extra in [None, Some((set.items[0] + 1) % export.catalog.len() as u32)] {
            let mut held: Vec<String> = set.items.iter().map(|&i| id(i)).collect();
            held.extend(extra.map(id));
            let ids: Vec<&str> = held.iter().map(String::as_str).collect();
            let options = SuggestOptions {
                k: Some(8),
                month: Some(3),
                ..Default::default()
            };
            let out = engine.suggest(&cart(&ids), &options, 6).unwrap();
            carts += 1;
            for b in &out.bundles {
                bundles += 1;
                assert!(!b.items.is_empty(), "empty bundle for cart {ids:?}: {b:?}");
                assert!(b.items.iter().all(|i| !held.contains(&i.id)), "{b:?}");
                let claim = Claim {
                    cart: cart(&ids).items,
                    bundle: ClaimedBundle {
                        items: b.items.iter().map(|i| i.id.clone()).collect(),
                        bundle_price: b.bundle_price,
                    },
                };
                let verdict = engine.verify(&claim);
                assert!(verdict.ok, "cart {ids:?}, {b:?}: {}", verdict.reason);
            }
        }
    }
    assert!(carts >= 20, "the fixture needs itemsets");
    assert!(bundles >= carts * 4, "{bundles} bundles for {carts} carts");
}

#[test]
fn no_two_bundles_differ_only_by_interchangeable_items() {
    use cartwise::serve::suggest::bundles::interchangeable;
    let export = common::small_export();
    let engine = Engine::new(export.clone()).unwrap();
    let fresh = cartwise::serve::suggest::new_items::Fresh::default();
    let shelf = fresh.shelf(&export.catalog);
    let alike = |a: u32, b: u32| a == b || interchangeable(&engine.sources(), shelf, a, b);
    let mut tempting = 0;
    for anchor in export.catalog.products().iter().step_by(3) {
        let options = SuggestOptions {
            k: Some(8),
            month: Some(3),
            ..Default::default()
        };
        let out = engine.suggest(&cart(&[&anchor.id]), &options, 3).unwrap();
        let bundles: Vec<Vec<u32>> = out.bundles.iter().map(|b| indices(&export, b)).collect();
        for (x, a) in bundles.iter().enumerate() {
            for b in &bundles[x + 1..] {
                let near = match (&a[..], &b[..]) {
                    ([p], [q]) => alike(*p, *q),
                    ([p1, p2], [q1, q2]) => {
                        (alike(*p1, *q1) && alike(*p2, *q2)) || (alike(*p1, *q2) && alike(*p2, *q1))
                    }
                    _ => false,
                };
                assert!(
                    !near,
                    "{a:?} and {b:?} differ only by interchangeable items"
                );
            }
        }
        // Count carts where the rule had work to do: two interchangeable top candidates.
        let cart_index = export.catalog.lookup(&anchor.id).unwrap();
        let top: Vec<u32> = engine
            .candidates(&Query::new(&[cart_index], 3, &export.blend))
            .unwrap()
            .iter()
            .take(16)
            .map(|c| c.item)
            .collect();
        if top.iter().enumerate().any(|(x, &a)| {
            top[x + 1..]
                .iter()
                .any(|&b| interchangeable(&engine.sources(), shelf, a, b))
        }) {
            tempting += 1;
        }
    }
    assert!(
        tempting > 10,
        "the rule never had interchangeable candidates to keep apart"
    );
}

#[test]
fn unknown_keys_in_options_carts_and_rules_are_errors_naming_the_key() {
    use cartwise::serve::rules::MerchantRules;
    let err = |r: Result<(), serde_json::Error>| r.unwrap_err().to_string();
    let options = err(serde_json::from_str::<SuggestOptions>(r#"{"maxDiscout": 0.05}"#).map(drop));
    assert!(options.contains("unknown field `maxDiscout`"), "{options}");
    let cart =
        err(serde_json::from_str::<Cart>(r#"{"items": [{"id": "a", "quantity": 2}]}"#).map(drop));
    assert!(cart.contains("unknown field `quantity`"), "{cart}");
    let cart = err(serde_json::from_str::<Cart>(r#"{"items": [], "histroy": []}"#).map(drop));
    assert!(cart.contains("unknown field `histroy`"), "{cart}");
    // The rules file's fields are in basis points: the fraction's name is a typo here.
    let rules = err(serde_json::from_str::<MerchantRules>(r#"{"maxDiscount": 0.1}"#).map(drop));
    assert!(rules.contains("unknown field `maxDiscount`"), "{rules}");
    let pin = err(serde_json::from_str::<MerchantRules>(
        r#"{"pinned": [{"items": ["a"], "prize": 100}]}"#,
    )
    .map(drop));
    assert!(pin.contains("unknown field `prize`"), "{pin}");
    // Both cart entry forms still read.
    let ok: Cart =
        serde_json::from_str(r#"{"items": ["a", {"id": "b", "qty": 2, "title": "B"}]}"#).unwrap();
    assert_eq!(
        ok.items,
        vec![
            CartEntry::Id("a".into()),
            CartEntry::Item {
                id: "b".into(),
                qty: 2,
                title: Some("B".into())
            }
        ]
    );
}
