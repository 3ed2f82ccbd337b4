//! Checkout verification: every bundle the engine proposes verifies at its price and not one
//! minor unit below, under the export's rules and any tightening of them, with or without the
//! shopper's history; ineligible or forged bundles are refused with the reason.

use crate::common;

use cartwise::serve::rules::{DiscountForm, PinnedBundle, PriceEnding};
use cartwise::serve::suggest::verify::{Claim, ClaimedBundle};
use cartwise::serve::suggest::{Bundle, Cart, CartEntry, Engine, SuggestOptions};
use cartwise::train::pipeline::{train, TrainConfig};
use proptest::prelude::*;
use std::sync::OnceLock;

/// The small shop trained with a tiny basket transformer that reads history, so suggestions
/// change with the shopper's past while prices must not.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let (catalog, log) = common::small_shop().to_log();
        let config = TrainConfig {
            transformer: Some(common::tiny_transformer(4)),
            ..TrainConfig::default()
        };
        Engine::new(train(&catalog, &log, &config, |_| {}).unwrap()).unwrap()
    })
}

fn ids(engine: &Engine, items: &[u32]) -> Vec<String> {
    let catalog = &engine.export().catalog;
    items.iter().map(|&i| catalog.get(i).id.clone()).collect()
}

fn claim(cart: &[String], bundle: &Bundle, price: i64) -> Claim {
    Claim {
        cart: cart.iter().cloned().map(CartEntry::Id).collect(),
        bundle: ClaimedBundle {
            items: bundle.items.iter().map(|i| i.id.clone()).collect(),
            bundle_price: price,
        },
    }
}

#[test]
fn the_engines_own_bundles_verify_at_their_price_and_not_a_cent_below() {
    let engine = engine();
    let n = engine.export().catalog.len() as u32;
    let (mut checked, mut discounted) = (0, 0);
    for c in 0..200u32 {
        let cart = ids(engine, &[c % n, (c * 7 + 3) % n][..1 + (c % 2) as usize]);
        // A history that changes the ranking must not change any price.
        let history = ids(engine, &[(c * 13 + 5) % n, (c * 29 + 1) % n]);
        for history in [Vec::new(), history] {
            let out = engine
                .suggest(
                    &Cart {
                        items: cart.iter().cloned().map(CartEntry::Id).collect(),
                        history,
                    },
                    &SuggestOptions {
                        k: Some(5),
                        month: Some(3),
                        ..Default::default()
                    },
                    3,
                )
                .unwrap();
            for b in &out.bundles {
                let verdict = engine.verify(&claim(&cart, b, b.bundle_price));
                assert!(verdict.ok, "{verdict:?} for {b:?}");
                assert_eq!(verdict.allowed_price, Some(b.bundle_price), "{b:?}");
                let below = engine.verify(&claim(&cart, b, b.bundle_price - 1));
                assert!(!below.ok && below.reason.contains("is below"), "{below:?}");
                checked += 1;
                discounted += usize::from(b.discount > 0);
            }
        }
    }
    assert!(
        checked > 500 && discounted > 100,
        "{checked} checked, {discounted} discounted"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Page script may tighten the export's rules; whatever it picks, the prices it gets still
    /// verify against the export alone (never a bigger discount than the export's rules give).
    #[test]
    fn tightened_options_never_price_below_what_checkout_allows(
        anchor in 0u32..250,
        max_bp in 0u32..=1_500,
        margin_bp in 2_000u32..=4_000,
        form in prop_oneof![Just(DiscountForm::Any), Just(DiscountForm::Percent), Just(DiscountForm::Amount)],
        ending in prop_oneof![Just(PriceEnding::Any), Just(PriceEnding::NinetyNine), Just(PriceEnding::Whole)],
        no_discount in proptest::option::of(0u32..250),
    ) {
        let engine = engine();
        let cart = ids(engine, &[anchor]);
        let options = SuggestOptions {
            k: Some(6),
            month: Some(7),
            max_discount: Some(max_bp as f64 / 10_000.0),
            min_margin: Some(margin_bp as f64 / 10_000.0),
            discount_form: Some(form),
            price_ending: Some(ending),
            no_discount: no_discount.map(|i| ids(engine, &[i])).unwrap_or_default(),
            ..Default::default()
        };
        let cart_value = Cart { items: cart.iter().cloned().map(CartEntry::Id).collect(), ..Default::default() };
        let out = engine.suggest(&cart_value, &options, 3).unwrap();
        for b in &out.bundles {
            let verdict = engine.verify(&claim(&cart, b, b.bundle_price));
            prop_assert!(verdict.ok, "{:?} for {:?}", verdict, b);
            prop_assert!(verdict.allowed_price.unwrap() <= b.bundle_price);
        }
    }
}

#[test]
fn ineligible_and_forged_bundles_are_refused_with_the_reason() {
    let mut export = common::small_export();
    let catalog = export.catalog.clone();
    let id = |i: u32| catalog.get(i).id.clone();
    export.rules.excluded_items = vec![id(9)];
    export.rules.pinned = vec![PinnedBundle {
        when: vec![id(0)],
        items: vec![id(1), id(2), id(3)],
        price: Some((1..=3).map(|i| catalog.get(i).price.unwrap()).sum::<i64>() - 1),
    }];
    let engine = Engine::new(export).unwrap();
    let check = |cart: &[u32], items: Vec<String>, price: i64| {
        engine.verify(&Claim {
            cart: cart.iter().map(|&i| CartEntry::Id(id(i))).collect(),
            bundle: ClaimedBundle {
                items,
                bundle_price: price,
            },
        })
    };
    let list = |items: &[u32]| {
        items
            .iter()
            .map(|&i| catalog.get(i).price.unwrap())
            .sum::<i64>()
    };
    // At list price an eligible bundle always passes.
    let ok = check(&[0], vec![id(4), id(5)], list(&[4, 5]));
    assert!(
        ok.ok && ok.allowed_price.unwrap() <= list(&[4, 5]),
        "{ok:?}"
    );
    for (verdict, says) in [
        (
            check(&[0], vec![id(9)], list(&[9])),
            "excluded from bundles",
        ),
        (check(&[0], vec!["NOPE".into()], 100), "not in the export"),
        (check(&[4], vec![id(4)], list(&[4])), "already in the cart"),
        (
            check(&[0], vec![id(4), id(4)], list(&[4]) * 2),
            "listed twice",
        ),
        (check(&[0], vec![], 0), "empty"),
        // Three add-ons are only a bundle when the shop pinned them for this cart.
        (
            check(&[5], vec![id(1), id(2), id(3)], list(&[1, 2, 3])),
            "at most 2",
        ),
    ] {
        assert!(
            !verdict.ok && verdict.reason.contains(says),
            "{says}: {verdict:?}"
        );
    }
    assert_eq!(check(&[0], vec!["NOPE".into()], 100).allowed_price, None);
    // The pinned bundle, triggered by item 0, may be sold at its fixed price (any item order),
    // or at the optimiser's when that is lower.
    let fixed = list(&[1, 2, 3]) - 1;
    let pinned = check(&[0], vec![id(3), id(1), id(2)], fixed);
    let allowed = pinned.allowed_price.unwrap();
    assert!(pinned.ok && allowed <= fixed, "{pinned:?}");
    assert!(!check(&[0], vec![id(1), id(2), id(3)], allowed - 1).ok);
    // A forged list: the engine's bundle with one more item at the same price.
    let out = engine
        .suggest(
            &Cart {
                items: vec![CartEntry::Id(id(20))],
                ..Default::default()
            },
            &SuggestOptions::default(),
            3,
        )
        .unwrap();
    // A forged list: the engine's first bundle's price claimed for pricier items.
    let b = &out.bundles[0];
    let mut others: Vec<u32> = (0..250u32)
        .filter(|&i| i != 9 && i != 20 && b.items.iter().all(|x| x.id != id(i)))
        .collect();
    others.sort_by_key(|&i| std::cmp::Reverse(catalog.get(i).price));
    let forged = check(&[20], vec![id(others[0]), id(others[1])], b.bundle_price);
    assert!(
        !forged.ok && forged.reason.contains("is below"),
        "{forged:?}"
    );
}

#[test]
fn cartwise_verify_on_standard_input_answers_each_offer_before_the_next_arrives() {
    // A checkout server keeps one `cartwise verify --offers -` and asks it a line at a time: the
    // answer must come while standard input is still open.
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.cwm");
    std::fs::write(&model, common::small_export().to_bytes()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cartwise"))
        .args([
            "verify",
            "--model",
            model.to_str().unwrap(),
            "--offers",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Should an answer never come, the child is killed, so the read ends instead of hanging.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    for price in [1, 2] {
        let offer = format!(
            r#"{{"cart": ["SKU00001"], "bundle": {{"items": ["SKU00002"], "bundlePrice": {price}}}}}"#
        );
        writeln!(stdin, "{offer}").unwrap();
        stdin.flush().unwrap();
        let verdict: serde_json::Value =
            serde_json::from_str(&answers.next().unwrap().unwrap()).unwrap();
        assert_eq!(verdict["ok"], false, "{verdict}");
        assert!(
            verdict["reason"].as_str().unwrap().contains("is below"),
            "{verdict}"
        );
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
