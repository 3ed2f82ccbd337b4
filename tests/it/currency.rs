//! Currencies with other minor units than cents: a yen shop (no decimals) and a dinar shop
//! (three) are read, priced, exported, suggested and verified in their own minor units; the
//! merchant's endings and amount discounts follow the currency's unit.

use crate::common::{self, cartwise, ok};

use cartwise::serve::export::Export;
use cartwise::serve::money::Currency;
use cartwise::serve::rules::{DiscountForm, MerchantRules, PriceEnding};
use cartwise::serve::suggest::verify::{Claim, ClaimedBundle};
use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions, Suggestions};
use cartwise::train::currency::iso_4217;
use cartwise::train::pipeline::{train, TrainConfig};
use std::path::Path;

/// The small shop priced in `code` at `rate` per dollar, trained under `rules`.
fn engine_in(code: &str, rate: f64, rules: MerchantRules) -> Engine {
    let shop = common::small_shop()
        .in_currency(iso_4217(code).unwrap(), rate)
        .unwrap();
    let (catalog, log) = shop.to_log();
    let config = TrainConfig {
        rules,
        ..TrainConfig::default()
    };
    let export = train(&catalog, &log, &config, |_| {}).unwrap();
    // Through the file format and back, as the browser gets it.
    Engine::new(Export::from_bytes(&export.to_bytes()).unwrap()).unwrap()
}

/// Suggestions (k 5, June) for the first 60 products as one-item carts.
fn answers(engine: &Engine) -> Vec<(String, Suggestions)> {
    let catalog = &engine.export().catalog;
    (0..60)
        .map(|i| {
            let id = catalog.get(i).id.clone();
            let cart = Cart {
                items: vec![CartEntry::Id(id.clone())],
                ..Default::default()
            };
            let options = SuggestOptions {
                k: Some(5),
                month: Some(6),
                ..Default::default()
            };
            (id, engine.suggest(&cart, &options, 6).unwrap())
        })
        .collect()
}

#[test]
fn a_yen_shop_prices_in_whole_yen_and_ranks_as_the_dollar_shop_does() {
    let yen = engine_in("JPY", 150.0, MerchantRules::default());
    let dollars = Engine::new(common::small_export()).unwrap();
    let catalog = &yen.export().catalog;
    assert_eq!(catalog.currency(), &Currency::new("JPY", 0).unwrap());
    // $12.99 is ¥1,949 (1,948.5 rounded half away from zero).
    let usd_prices = dollars.export().catalog.products();
    for (p, usd) in catalog.products().iter().zip(usd_prices) {
        let expect = (usd.price.unwrap() as f64 * 1.5).round() as i64;
        assert_eq!(p.price, Some(expect), "{}", p.id);
    }
    let (mut discounted, mut verified) = (0, 0);
    for ((id, out), (_, usd)) in answers(&yen).into_iter().zip(answers(&dollars)) {
        // Prices do not enter the ranking: the same items in the same order.
        assert_eq!(out.items, usd.items, "cart {id}");
        for b in &out.bundles {
            discounted += usize::from(b.discount > 0);
            assert!(b.discount * 10_000 <= b.base_price * 1_500, "within 15%");
            let claim = |price| Claim {
                cart: vec![CartEntry::Id(id.clone())],
                bundle: ClaimedBundle {
                    items: b.items.iter().map(|i| i.id.clone()).collect(),
                    bundle_price: price,
                },
            };
            let verdict = yen.verify(&claim(b.bundle_price));
            assert!(verdict.ok, "{}", verdict.reason);
            // Messages speak whole yen: no decimal point.
            assert!(
                verdict.reason.contains(&b.bundle_price.to_string()),
                "{}",
                verdict.reason
            );
            assert!(!yen.verify(&claim(b.bundle_price - 1)).ok, "one yen below");
            verified += 1;
        }
    }
    assert!(
        verified > 100 && discounted > 10,
        "{verified} bundles, {discounted} discounted"
    );
}

#[test]
fn a_dinar_shop_ends_prices_in_990_fils_and_discounts_whole_dinars() {
    let rules = |form, ending| MerchantRules {
        discount_form: form,
        price_ending: ending,
        max_discount_bp: 3_000,
        min_margin_bp: 500,
        ..MerchantRules::default()
    };
    for (form, ending) in [
        (DiscountForm::Any, PriceEnding::NinetyNine),
        (DiscountForm::Amount, PriceEnding::Any),
    ] {
        let kwd = engine_in("KWD", 0.31, rules(form, ending));
        assert_eq!(kwd.export().catalog.currency().exponent(), 3);
        let mut discounted = 0;
        for (_, out) in answers(&kwd) {
            for b in out.bundles.iter().filter(|b| b.discount > 0) {
                discounted += 1;
                match form {
                    DiscountForm::Amount => assert_eq!(b.discount % 1_000, 0, "{b:?}"),
                    _ => assert_eq!(b.bundle_price % 1_000, 990, "{b:?}"),
                }
            }
        }
        assert!(
            discounted > 5,
            "{form:?}/{ending:?}: {discounted} discounted bundles"
        );
    }
}

#[test]
fn an_ending_the_currency_cannot_have_is_refused_at_train_and_per_call() {
    let shop = common::small_shop()
        .in_currency(iso_4217("JPY").unwrap(), 150.0)
        .unwrap();
    let (catalog, log) = shop.to_log();
    let config = TrainConfig {
        rules: MerchantRules {
            price_ending: PriceEnding::NinetyNine,
            ..MerchantRules::default()
        },
        ..TrainConfig::default()
    };
    let err = train(&catalog, &log, &config, |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("priceEnding") && err.contains("JPY"), "{err}");
    let yen = engine_in("JPY", 150.0, MerchantRules::default());
    let cart = Cart {
        items: vec![CartEntry::Id(catalog.get(0).id.clone())],
        ..Default::default()
    };
    let options = SuggestOptions {
        price_ending: Some(PriceEnding::NinetyNine),
        ..Default::default()
    };
    let err = yen.suggest(&cart, &options, 6).unwrap_err().to_string();
    assert!(err.contains("priceEnding") && err.contains("JPY"), "{err}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_cli_reads_the_currency_from_the_products_file_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = ["--items", "222", "--orders", "1500", "--customers", "200"];
    let shop = d.join("kwd");
    ok(&[
        &[
            "synth",
            "--out",
            s(&shop),
            "--currency",
            "kwd",
            "--rate",
            "0.31",
        ],
        &small[..],
    ]
    .concat());
    let csv = std::fs::read_to_string(shop.join("products.csv")).unwrap();
    let first = csv.lines().nth(1).unwrap();
    assert!(first.ends_with(",KWD"), "{first}");
    let price = first.split(',').nth(3).unwrap();
    assert_eq!(price.split('.').nth(1).map(str::len), Some(3), "{first}");
    let model = d.join("kwd.cwm");
    let (orders, products) = (shop.join("orders.csv"), shop.join("products.csv"));
    let train = |extra: &[&str]| {
        let args = [
            &[
                "train",
                "--fast",
                "--orders",
                s(&orders),
                "--products",
                s(&products),
                "--out",
                s(&model),
                "--ease-max-items",
                "0",
            ][..],
            extra,
        ]
        .concat();
        cartwise(&args)
    };
    assert!(train(&[]).status.success());
    let info: serde_json::Value =
        serde_json::from_slice(&ok(&["inspect", s(&model), "--json"]).stdout).unwrap();
    assert_eq!(
        info["currency"],
        serde_json::json!({"code": "KWD", "exponent": 3})
    );
    let text = String::from_utf8(ok(&["inspect", s(&model)]).stdout).unwrap();
    assert!(text.contains("prices in KWD (3 decimals)"), "{text}");
    // A flag naming another currency than the file's rows: every row is rejected, by name.
    let out = train(&["--currency", "JPY", "--strict"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("currency mismatch"),
        "{err}"
    );
    let out = train(&["--currency", "XYZ"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--currency") && err.contains("ISO 4217"),
        "{err}"
    );
}
