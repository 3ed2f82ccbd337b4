//! Cold start, second step: products the export has never seen, passed per call as
//! `newItems`, are ranked by the basket model from their titles, bundled, priced within the
//! rules and explained; measured on items held out of training.

use crate::common;

use cartwise::serve::catalog::Catalog;
use cartwise::serve::pricing::margin_floor;
use cartwise::serve::suggest::new_items::NewItem;
use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestError, SuggestOptions};
use cartwise::train::holdout::{evaluate, hold_out, HeldOut};
use cartwise::train::pipeline::{train, TrainConfig};
use cartwise::train::synth::{generate, SynthConfig};
use std::sync::OnceLock;

/// A synthetic shop with a tenth of its items held out, and an engine trained without them.
fn fixture() -> &'static (Catalog, HeldOut, Engine) {
    static FIXTURE: OnceLock<(Catalog, HeldOut, Engine)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shop = generate(&SynthConfig {
            seed: 12,
            items: 600,
            customers: 800,
            orders: 12_000,
        });
        let (full, log) = shop.to_log();
        let held = hold_out(&full, &log, 0.1, 5);
        let config = TrainConfig {
            // Trained for cold start: a quarter of the id vectors dropped per step.
            transformer: Some(cartwise::train::model::fit::FitConfig {
                id_dropout: 0.25,
                epochs: 4,
                ..common::tiny_transformer(0)
            }),
            ..TrainConfig::default()
        };
        let export = train(&held.catalog, &held.train, &config, |_| {}).unwrap();
        let engine = Engine::new(export).unwrap();
        (full, held, engine)
    })
}

fn options(held: &HeldOut) -> SuggestOptions {
    SuggestOptions {
        k: Some(10),
        month: Some(5),
        new_items: held.new_items.clone(),
        ..Default::default()
    }
}

fn cart(ids: &[&str]) -> Cart {
    Cart {
        items: ids.iter().map(|id| CartEntry::Id(id.to_string())).collect(),
        ..Default::default()
    }
}

/// Carts of one known item each, every fifth catalog item.
fn one_item_carts(engine: &Engine) -> Vec<Cart> {
    engine
        .export()
        .catalog
        .products()
        .iter()
        .step_by(5)
        .map(|p| cart(&[&p.id]))
        .collect()
}

#[test]
fn the_cold_start_report_measures_every_method_on_the_same_carts() {
    let (full, held, engine) = fixture();
    let report = evaluate(engine, full, held, 7).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert_eq!(report.held_out, held.new_items.len());
    assert!(report.carts >= 50, "{} cold test carts", report.carts);
    let among_held = report
        .rows
        .iter()
        .filter(|r| r.among.contains("held-out items"));
    assert_eq!(among_held.count(), 6);
    for r in &report.rows {
        assert!((0.0..=1.0).contains(&r.hr10), "{r:?}");
    }
    let hr = |method: &str| {
        report
            .rows
            .iter()
            .find(|r| r.method == method)
            .unwrap()
            .hr10
    };
    // Ten of about sixty: chance is near 1/6 (fewer candidates when the cart holds some).
    assert!((0.15..0.2).contains(&hr("chance")), "{}", hr("chance"));
    // Every cart gets a new item in its top 10 (one place is held for them).
    assert_eq!(report.carts_showing_new, report.carts);
    assert!(hr("cartwise suggest, hidden item known") > 0.2);
}

/// New items that are title twins of catalog items (a new id, the same title and category):
/// with all ten places held for new items, the twins the engine picks for a cart are twins of
/// items the basket model itself ranks high for that cart far more often than when the same
/// new items carry each other's titles (categories kept): the titles, not only the
/// categories, steer the ranking.
#[test]
fn new_items_are_ranked_from_their_titles_like_their_known_twins() {
    let (_, _, engine) = fixture();
    let catalog = &engine.export().catalog;
    let n = catalog.len();
    let twins = |title_of: &dyn Fn(usize) -> usize| -> Vec<NewItem> {
        (0..n)
            .map(|k| {
                let p = catalog.get(k as u32);
                NewItem {
                    id: format!("TWIN-{}", p.id),
                    title: catalog.get(title_of(k) as u32).title.clone(),
                    category: p.category.clone(),
                    price: p.price,
                    cost: None,
                }
            })
            .collect()
    };
    let overlap = |new_items: Vec<NewItem>| {
        let options = SuggestOptions {
            k: Some(10),
            month: Some(5),
            new_items,
            new_item_slots: Some(10),
            ..Default::default()
        };
        let (mut overlap, mut carts) = (0usize, 0usize);
        for cart in one_item_carts(engine).into_iter().step_by(2) {
            let known: Vec<String> = engine.model_scores(&cart, 50).unwrap().items;
            let out = engine.suggest(&cart, &options, 5).unwrap();
            assert!(
                out.items.iter().all(|id| id.starts_with("TWIN-")),
                "{:?}",
                out.items
            );
            overlap += out
                .items
                .iter()
                .filter(|id| known.contains(&id["TWIN-".len()..].to_string()))
                .count();
            carts += 1;
        }
        overlap as f64 / carts as f64
    };
    let titled = overlap(twins(&|k| k));
    let shuffled = overlap(twins(&|k| (k * 7 + 3) % n));
    eprintln!(
        "twins picked from the model's top 50: {titled:.2} of 10 per cart with their own titles, \
         {shuffled:.2} with each other's (chance {:.2})",
        10.0 * 50.0 / n as f64
    );
    // 1.87 vs 1.35 since a call without a history ranks by the blend fitted for one, which
    // weighs popularity (a new item's is its category's, the same in both variants) at +2.05
    // where the top-level blend has −0.9; 2.02 vs 1.33 before, since attention's queries, keys
    // and layer norms train (4 epochs; 1.26 vs 1.02 at 2); 1.70 vs 1.17 before that, when the
    // export began keeping only pairs of 5+ customers.
    assert!(
        titled >= 1.3 * shuffled.max(0.5),
        "{titled:.2} vs {shuffled:.2} of 10"
    );
}

#[test]
fn new_items_are_suggested_bundled_priced_and_explained() {
    let (_, held, engine) = fixture();
    let options = options(held);
    let rules = &engine.export().rules;
    let is_new = |id: &str| held.new_items.iter().any(|n| n.id == id);
    let (mut listed, mut bundled, mut by_category) = (0, 0, 0);
    for cart in one_item_carts(engine) {
        let out = engine.suggest(&cart, &options, 5).unwrap();
        listed += out.items.iter().filter(|id| is_new(id)).count();
        for b in &out.bundles {
            let news: Vec<_> = b.items.iter().filter(|i| is_new(&i.id)).collect();
            if news.is_empty() {
                continue;
            }
            bundled += 1;
            for item in news {
                let new = held.new_items.iter().find(|n| n.id == item.id).unwrap();
                assert_eq!(item.title, new.title);
                assert_eq!(Some(item.price), new.price);
                let reason = b
                    .reasons
                    .iter()
                    .find(|r| r.starts_with(&format!("{} is new here", new.title)))
                    .unwrap_or_else(|| panic!("no new-item reason in {:?}", b.reasons));
                assert!(
                    reason.contains("its title reads like") && reason.contains("title similarity"),
                    "{reason}"
                );
                let lift = format!("{} items are bought with ", new.category);
                by_category += b.reasons.iter().filter(|r| r.starts_with(&lift)).count();
            }
            // Priced within the rules: never over the max discount, never under the floor, and
            // never discounted when it holds a new item (no cost the export vouches for).
            assert!(b.discount * 10_000 <= b.base_price * rules.max_discount_bp as i64);
            match b.offer.cost {
                Some(cost) => assert!(
                    b.discount == 0 || b.bundle_price >= margin_floor(cost, rules.min_margin_bp),
                    "{b:?}"
                ),
                None => assert_eq!(b.discount, 0, "{b:?}"),
            }
        }
    }
    eprintln!("new items: {listed} listed, in {bundled} bundles, {by_category} category reasons");
    assert!(
        by_category > 0,
        "no new item's category is explained by the cart's"
    );
    assert!(
        listed > 0 && bundled > 0,
        "{listed} listed, {bundled} bundled"
    );
}

#[test]
fn the_calls_rules_and_stock_cover_new_items() {
    let (_, held, engine) = fixture();
    let carts = one_item_carts(engine);
    let base = options(held);
    // The new items a first pass suggests, then the same calls with each kind of block.
    let shown: Vec<(Cart, String)> = carts
        .into_iter()
        .filter_map(|c| {
            let out = engine.suggest(&c, &base, 5).unwrap();
            let first = out
                .items
                .into_iter()
                .find(|id| held.new_items.iter().any(|n| &n.id == id))?;
            Some((c, first))
        })
        .take(10)
        .collect();
    assert!(!shown.is_empty());
    for (cart, id) in &shown {
        let category = &held
            .new_items
            .iter()
            .find(|n| &n.id == id)
            .unwrap()
            .category;
        let blocked = [
            SuggestOptions {
                stock: [(id.clone(), 0)].into(),
                ..base.clone()
            },
            SuggestOptions {
                exclude: vec![id.clone()],
                ..base.clone()
            },
            SuggestOptions {
                exclude_categories: vec![category.clone()],
                ..base.clone()
            },
        ];
        for options in &blocked {
            let out = engine.suggest(cart, options, 5).unwrap();
            assert!(!out.items.contains(id));
            assert!(out
                .bundles
                .iter()
                .all(|b| b.items.iter().all(|i| &i.id != id)));
        }
        // A bundle holding only stocked items reports the smallest stock, new items included.
        let out = engine
            .suggest(
                cart,
                &SuggestOptions {
                    stock: [(id.clone(), 3)].into(),
                    ..base.clone()
                },
                5,
            )
            .unwrap();
        if let Some(b) = out
            .bundles
            .iter()
            .find(|b| b.items.len() == 1 && &b.items[0].id == id)
        {
            assert_eq!(b.stock, Some(3));
        }
        // A new item already in the cart is read from its title there, and not suggested.
        let mut with_new = cart.clone();
        with_new.items.push(CartEntry::Id(id.clone()));
        let out = engine.suggest(&with_new, &base, 5).unwrap();
        assert_eq!(out.cold_start, vec![id.clone()]);
        assert!(!out.items.contains(id));
    }
}

#[test]
fn bad_new_items_are_refused_by_field() {
    let (_, held, engine) = fixture();
    let known = engine.export().catalog.get(0).id.clone();
    let mut options = options(held);
    options.new_items[3].id = known.clone();
    let err = engine.suggest(&cart(&[&known]), &options, 5).unwrap_err();
    assert!(matches!(err, SuggestError::NewItem(_)));
    assert!(
        err.to_string()
            .starts_with("option newItems[3].id: item \"")
            && err.to_string().contains("already in the export's catalog"),
        "{err}"
    );
    let mut options = self::options(held);
    options.new_items[1].price = Some(-5);
    let err = engine.suggest(&cart(&[&known]), &options, 5).unwrap_err();
    assert_eq!(err.to_string(), "option newItems[1].price: -5 is negative");
}
