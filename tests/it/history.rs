//! Shopper history: each order's earlier items per customer, and the transformer's history
//! tokens, which personalize its ranking and change nothing for a model trained without them.

use crate::common;

use cartwise::serve::model::ModelConfig;
use cartwise::serve::suggest::{Evidence, Query};
use cartwise::train::history::customer_histories;
use cartwise::train::ingest::Order;
use cartwise::train::model::fit::{fit, FitConfig};
use cartwise::train::model::rank_catalog;
use cartwise::train::protocol::{hit_rate, validation_split};

fn order(id: &str, customer: Option<&str>, time: i64, items: &[u32]) -> Order {
    Order {
        id: id.into(),
        customer: customer.map(Into::into),
        time: Some(time),
        items: items.to_vec(),
        unit_prices: vec![None; items.len()],
    }
}

#[test]
fn histories_are_earlier_orders_by_time_most_recent_first_distinct_and_capped() {
    let orders = [
        order("late", Some("a"), 30, &[7, 8]),
        order("first", Some("a"), 10, &[1, 2]),
        order("other", Some("b"), 15, &[9]),
        order("second", Some("a"), 20, &[3, 1]),
        order("anon", None, 25, &[4]),
    ];
    let refs: Vec<&Order> = orders.iter().collect();
    let h = customer_histories(&refs, 3);
    assert_eq!(
        h[1],
        Vec::<u32>::new(),
        "a customer's first order has no history"
    );
    assert_eq!(h[3], vec![1, 2]);
    // Most recent order first, item 1 once, capped at 3.
    assert_eq!(h[0], vec![3, 1, 2]);
    assert_eq!(h[2], Vec::<u32>::new());
    assert_eq!(
        h[4],
        Vec::<u32>::new(),
        "orders without a customer have none"
    );
    assert!(customer_histories(&refs, 0).iter().all(Vec::is_empty));
}

#[test]
fn a_model_config_without_history_reads_from_older_exports() {
    let json = r#"{"items":3,"tokens":5,"dim":8,"heads":2,"layers":1,"ff":16,"maxCart":4}"#;
    let config: ModelConfig = serde_json::from_str(json).unwrap();
    assert_eq!(config.max_history, 0);
}

#[test]
fn history_tokens_personalize_the_ranking() {
    // Synthetic customers favour three categories each, so their past orders say what they
    // will add next.
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 4,
        items: 300,
        customers: 300,
        orders: 12_000,
    });
    let (catalog, log) = shop.to_log();
    let split = validation_split(&log, 100, 16, 1);
    assert!(split.carts.iter().filter(|t| !t.history.is_empty()).count() > split.carts.len() / 2);
    let config = FitConfig {
        dim: 32,
        ff: 64,
        epochs: 12,
        batch: 128,
        vocab: 500,
        max_history: 16,
        ..FitConfig::default()
    };
    let train = |config: &FitConfig| {
        fit(
            &catalog,
            &split.baskets,
            &split.histories,
            &split.carts,
            config,
            None,
            |_| std::ops::ControlFlow::Continue(()),
        )
        .unwrap()
        .to_export(true)
        .unwrap()
    };
    let carts: Vec<&[u32]> = split.carts.iter().map(|t| t.cart.as_slice()).collect();
    let histories: Vec<&[u32]> = split.carts.iter().map(|t| t.history.as_slice()).collect();
    let hr = |ranked: Vec<Vec<u32>>| hit_rate(&ranked, &split.carts);
    // The shipped (quantized) models, reloaded from their export sections.
    let export = train(&config);
    assert_eq!(export.config.max_history, 16);
    assert!(export.tensors.iter().any(|t| t.name == "segment.weight"));
    let model = export.load(&catalog.titles(), None).unwrap();
    let with = hr(rank_catalog(&model, &carts, &histories, usize::MAX).unwrap());
    let same_model_without = hr(rank_catalog(&model, &carts, &[], usize::MAX).unwrap());
    let plain = train(&FitConfig {
        max_history: 0,
        ..config
    })
    .load(&catalog.titles(), None)
    .unwrap();
    let trained_without = hr(rank_catalog(&plain, &carts, &[], usize::MAX).unwrap());
    eprintln!(
        "validation HR@10: history model with history {with:.4}, without {same_model_without:.4}; \
         model trained without history {trained_without:.4}"
    );
    assert!(
        with > trained_without * 1.05,
        "with {with}, trained without {trained_without}"
    );
}

#[test]
fn a_model_trained_without_history_ignores_it() {
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 5,
        items: 300,
        customers: 200,
        orders: 3_000,
    });
    let (catalog, log) = shop.to_log();
    let split = validation_split(&log, 100, 8, 1);
    let config = FitConfig {
        dim: 16,
        ff: 32,
        epochs: 1,
        batch: 128,
        vocab: 200,
        ..FitConfig::default()
    };
    let fitted = fit(
        &catalog,
        &split.baskets,
        &split.histories,
        &split.carts,
        &config,
        None,
        |_| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    let export = fitted.to_export(true).unwrap();
    assert!(!export.tensors.iter().any(|t| t.name == "segment.weight"));
    let model = export.load(&catalog.titles(), None).unwrap();
    let carts: Vec<&[u32]> = split.carts.iter().map(|t| t.cart.as_slice()).collect();
    let histories: Vec<&[u32]> = split.carts.iter().map(|t| t.history.as_slice()).collect();
    assert!(histories.iter().any(|h| !h.is_empty()));
    assert_eq!(
        rank_catalog(&model, &carts, &histories, usize::MAX).unwrap(),
        rank_catalog(&model, &carts, &[], usize::MAX).unwrap()
    );
}

#[test]
fn suggest_reads_the_shoppers_history_through_the_model_and_names_unknown_ids() {
    use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 6,
        items: 300,
        customers: 300,
        orders: 6_000,
    });
    let (catalog, log) = shop.to_log();
    let train = |max_history: usize| {
        let config = cartwise::train::pipeline::TrainConfig {
            transformer: Some(common::tiny_transformer(max_history)),
            ..Default::default()
        };
        let mut export = cartwise::train::pipeline::train(&catalog, &log, &config, |_| {}).unwrap();
        // The blend's own history terms (affinity, rebuys) and the blend for calls without a
        // history are tested on their own below; here only the model's history token differs.
        export.blend.history = 0.0;
        export.blend.repeat = 0.0;
        export.blend_without_history = None;
        Engine::new(export).unwrap()
    };
    let with = train(16);
    let without = train(0);
    assert!(with.model().unwrap().takes_history());
    assert!(!without.model().unwrap().takes_history());
    let ids: Vec<String> = catalog.products().iter().map(|p| p.id.clone()).collect();
    let options = SuggestOptions {
        k: Some(10),
        month: Some(3),
        ..Default::default()
    };
    let mut changed = 0;
    for i in 0..30 {
        let items = vec![CartEntry::Id(ids[i * 7 % ids.len()].clone())];
        let history: Vec<String> = (0..6)
            .map(|j| ids[(i * 31 + j * 17) % ids.len()].clone())
            .collect();
        let bare = Cart {
            items: items.clone(),
            history: Vec::new(),
        };
        let personal = Cart { items, history };
        // The model's query changes with the history, and so (here and there) the ranking.
        let q = |engine: &Engine, cart: &Cart| {
            engine
                .begin(cart, &options, 1)
                .unwrap()
                .query()
                .unwrap()
                .vector
                .clone()
        };
        assert_ne!(q(&with, &personal), q(&with, &bare), "cart {i}");
        let a = with.suggest(&personal, &options, 1).unwrap();
        let b = with.suggest(&bare, &options, 1).unwrap();
        changed += usize::from(a.items != b.items);
        // A model trained without history ranks and prices exactly as if there were none;
        // only reasons may cite the history.
        let strip = |mut s: cartwise::serve::suggest::Suggestions| {
            for b in &mut s.bundles {
                b.reasons.retain(|r| !r.starts_with("From your history"));
                b.reason_codes.retain(|r| r.code != "history");
            }
            s
        };
        assert_eq!(
            strip(without.suggest(&personal, &options, 1).unwrap()),
            without.suggest(&bare, &options, 1).unwrap()
        );
    }
    assert!(changed > 0, "history changed no ranking of 30 carts");
    let cart = Cart {
        items: vec![CartEntry::Id(ids[0].clone())],
        history: vec!["NOPE".into(), ids[1].clone(), "NOPE".into()],
    };
    let out = with.suggest(&cart, &options, 1).unwrap();
    assert_eq!(out.unknown_history, vec!["NOPE".to_string()]);
    assert!(out.unknown.is_empty());
}

#[test]
fn a_bundle_says_which_history_item_it_goes_with_and_by_how_much() {
    use cartwise::serve::suggest::reasons::HISTORY_REASON_LIFT;
    use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
    // Association tables only: the history changes reasons, never the ranking or the bundles.
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 8,
        items: 300,
        customers: 300,
        orders: 6_000,
    });
    let (catalog, log) = shop.to_log();
    let export =
        cartwise::train::pipeline::train(&catalog, &log, &Default::default(), |_| {}).unwrap();
    let engine = Engine::new(export).unwrap();
    let assoc = &engine.export().assoc;
    let options = SuggestOptions {
        k: Some(5),
        month: Some(6),
        ..Default::default()
    };
    let mut explained = 0;
    for anchor in 0..40u32 {
        let items = vec![CartEntry::Id(catalog.get(anchor).id.clone())];
        let bare = Cart {
            items: items.clone(),
            history: Vec::new(),
        };
        let plain = engine.suggest(&bare, &options, 1).unwrap();
        let Some(bundle) = plain.bundles.first() else {
            continue;
        };
        let addon = catalog.lookup(&bundle.items[0].id).unwrap();
        // A past item (not the anchor) bought with the add-on well above chance.
        let Some((past, stats)) = (0..catalog.len() as u32)
            .filter(|&h| h != anchor && h != addon)
            .filter_map(|h| assoc.find(h, addon).map(|nb| (h, assoc.stats(h, nb))))
            .filter(|(_, s)| s.lift >= HISTORY_REASON_LIFT)
            .max_by(|a, b| a.1.lift.total_cmp(&b.1.lift))
        else {
            continue;
        };
        let personal = Cart {
            items,
            history: vec![catalog.get(past).id.clone()],
        };
        let out = engine.suggest(&personal, &options, 1).unwrap();
        assert_eq!(
            out.items, plain.items,
            "history does not move an association-only ranking"
        );
        let reason = format!(
            "From your history: {} is bought with {} {:.1}x more often than chance",
            catalog.get(past).title,
            catalog.get(addon).title,
            stats.lift
        );
        assert!(
            out.bundles[0]
                .reasons
                .iter()
                .any(|r| r.starts_with(&reason)),
            "{reason:?} not in {:?}",
            out.bundles[0].reasons
        );
        assert!(!plain.bundles[0]
            .reasons
            .iter()
            .any(|r| r.starts_with("From your history")));
        // The cart's own item in the history is not cited again.
        let again = Cart {
            items: personal.items.clone(),
            history: vec![catalog.get(anchor).id.clone()],
        };
        let again = engine.suggest(&again, &options, 1).unwrap();
        assert_eq!(
            again, plain,
            "a history of only the cart item changes nothing"
        );
        explained += 1;
    }
    assert!(
        explained >= 10,
        "only {explained} carts had a history reason to check"
    );
}

/// The association-only export (no EASE, no transformer) of a 300-item shop with customers,
/// whose blend weighs the history terms.
fn association_export() -> cartwise::serve::export::Export {
    shop_export(0)
}

/// The history fixture shop's export, with EASE up to `ease_max_items` items (0: none).
fn shop_export(ease_max_items: usize) -> cartwise::serve::export::Export {
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 6,
        items: 300,
        customers: 300,
        orders: 4_000,
    });
    let (catalog, log) = shop.to_log();
    cartwise::train::pipeline::train(
        &catalog,
        &log,
        &cartwise::train::pipeline::TrainConfig {
            ease_max_items,
            ..Default::default()
        },
        |_| {},
    )
    .unwrap()
}

/// A call whose history has no known item ranks by the blend fitted on the validation carts
/// with their histories removed (training on a shop with customer ids fits it and stores it
/// when it differs); a call with one ranks by the top-level blend.
#[test]
fn a_call_without_a_history_ranks_by_the_blend_fitted_without_one() {
    use cartwise::serve::blend::Blend;
    use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
    let mut export = shop_export(cartwise::train::ease::TRAIN_MAX_ITEMS);
    let fitted = export
        .blend_without_history
        .expect("a shop with customer ids fits a blend for calls without a history");
    assert_ne!(fitted, export.blend);
    assert_eq!((fitted.history, fitted.repeat), (0.0, 0.0));
    // Popularity alone for calls without a history makes the choice show in every ranking.
    let bare_blend = Blend {
        assoc: 0.0,
        popularity: 1.0,
        ..fitted
    };
    export.blend_without_history = Some(bare_blend);
    let engine = Engine::new(export.clone()).unwrap();
    let by = |blend: Blend| {
        let mut e = export.clone();
        (e.blend, e.blend_without_history) = (blend, None);
        Engine::new(e).unwrap()
    };
    let (main, bare) = (by(export.blend), by(bare_blend));
    let ids: Vec<String> = export
        .catalog
        .products()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    let options = SuggestOptions {
        k: Some(10),
        month: Some(5),
        ..Default::default()
    };
    let mut differ = 0;
    for a in (0..300).step_by(10) {
        let cart = |history: Vec<String>| Cart {
            items: vec![CartEntry::Id(ids[a].clone())],
            history,
        };
        let history: Vec<String> = (1..=6).map(|k| ids[(a + 37 * k) % 300].clone()).collect();
        let suggest = |e: &Engine, c: &Cart| e.suggest(c, &options, 1).unwrap();
        assert_eq!(
            suggest(&engine, &cart(vec![])),
            suggest(&bare, &cart(vec![])),
            "cart {a}"
        );
        assert_eq!(
            suggest(&engine, &cart(history.clone())),
            suggest(&main, &cart(history)),
            "cart {a}"
        );
        // A history of unknown ids is no history.
        let unknown = suggest(&engine, &cart(vec!["NOPE".into()]));
        assert_eq!(
            unknown.items,
            suggest(&bare, &cart(vec![])).items,
            "cart {a}"
        );
        assert_eq!(unknown.unknown_history, vec!["NOPE".to_string()]);
        differ += usize::from(suggest(&main, &cart(vec![])).items != unknown.items);
    }
    assert!(
        differ > 5,
        "the two blends ranked only {differ} of 30 carts apart"
    );
}

#[test]
fn the_blend_history_term_reranks_the_carts_candidates_only_when_weighed() {
    let mut export = association_export();
    // The affinity term alone (rebuys have their own test).
    export.blend.repeat = 0.0;
    export.blend.history = 0.0;
    let plain = cartwise::serve::suggest::Engine::new(export.clone()).unwrap();
    export.blend.history = 2.0;
    let weighed = cartwise::serve::suggest::Engine::new(export.clone()).unwrap();
    let assoc = &export.assoc;
    let mut moved = 0;
    for a in (0..300u32).step_by(5) {
        let cart = [a];
        let history: Vec<u32> = (1..=6).map(|k| (a + 37 * k) % 300).collect();
        let ids = |c: &[cartwise::serve::suggest::Candidate]| {
            let mut v: Vec<u32> = c.iter().map(|c| c.item).collect();
            v.sort_unstable();
            v
        };
        let zero = cartwise::serve::blend::Blend {
            history: 0.0,
            ..export.blend
        };
        let query = |blend| Query {
            history: &history,
            ..Query::new(&cart, 5, blend)
        };
        let base = plain.candidates(&query(&zero)).unwrap();
        let with = weighed.candidates(&query(&export.blend)).unwrap();
        assert_eq!(
            base,
            plain
                .candidates(&Query::new(&cart, 5, &plain.export().blend))
                .unwrap(),
            "unweighed, a history changes nothing"
        );
        assert_eq!(ids(&base), ids(&with), "the term adds no candidates");
        // Each candidate's history feature is its summed association from the history items.
        let features = weighed.features(&query(&export.blend)).unwrap();
        for (f, _) in &features {
            let expected: f32 = history
                .iter()
                .filter_map(|&h| assoc.find(h, f.item))
                .map(|nb| nb.score.max(0.0))
                .sum();
            assert!(
                (f.history - expected).abs() <= 1e-5 * expected.max(1.0),
                "item {} history {} expected {expected}",
                f.item,
                f.history
            );
        }
        if base.iter().map(|c| c.item).ne(with.iter().map(|c| c.item)) {
            moved += 1;
        }
    }
    assert!(moved > 5, "the history term moved only {moved} rankings");
}

/// The association-only export weighing rebuys alone beside the cart's evidence: no affinity
/// term, no popularity prior.
fn rebuying_export() -> cartwise::serve::export::Export {
    let mut export = association_export();
    export.blend.history = 0.0;
    export.blend.popularity = 0.0;
    export.blend.repeat = 5.0;
    export
}

/// A history for a cart of `a` of items the cart does not point to: what only the history can
/// bring.
fn history_beside(a: u32) -> Vec<u32> {
    (1..=8)
        .map(|k| (a + 41 * k) % 300)
        .filter(|&h| h != a)
        .collect()
}

#[test]
fn rebuys_join_the_candidates_by_recency_only_for_a_cart_with_a_history() {
    let mut export = rebuying_export();
    let rebuying = cartwise::serve::suggest::Engine::new(export.clone()).unwrap();
    export.blend.repeat = 0.0;
    let plain = cartwise::serve::suggest::Engine::new(export.clone()).unwrap();
    export.blend.repeat = 5.0;
    let mut joined = 0;
    for a in (0..300u32).step_by(7) {
        let cart = [a];
        let history = history_beside(a);
        let without = Query::new(&cart, 5, &export.blend);
        assert_eq!(
            rebuying.candidates(&without).unwrap(),
            plain.candidates(&without).unwrap(),
            "without a history the rebuy weight changes nothing"
        );
        let with = Query {
            history: &history,
            ..Query::new(&cart, 5, &export.blend)
        };
        let features = rebuying.features(&with).unwrap();
        for (position, &h) in history.iter().enumerate() {
            let (f, _) = features
                .iter()
                .find(|(f, _)| f.item == h)
                .unwrap_or_else(|| panic!("history item {h} is a candidate"));
            assert_eq!(f.repeat, cartwise::serve::blend::rebuy(position));
        }
        assert!(features
            .iter()
            .all(|(f, _)| f.repeat == 0.0 || history.contains(&f.item)));
        let ranked = rebuying.candidates(&with).unwrap();
        assert!(
            ranked.iter().all(|c| c.item != a),
            "never the cart's own item"
        );
        let most_recent = ranked.iter().position(|c| c.item == history[0]).unwrap();
        let oldest = ranked
            .iter()
            .position(|c| c.item == history[history.len() - 1]);
        if ranked
            .iter()
            .find(|c| c.item == history[0])
            .is_some_and(|c| matches!(c.evidence, Evidence::Rebuy))
        {
            joined += 1;
            // Between two rebuys with no other evidence, the more recent ranks first.
            if let Some(oldest) = oldest.filter(|&k| matches!(ranked[k].evidence, Evidence::Rebuy))
            {
                assert!(most_recent < oldest, "{most_recent} vs {oldest}");
            }
        }
    }
    assert!(
        joined > 10,
        "only {joined} carts gained a rebuy the cart did not point to"
    );
}

/// The export's rebuy factors scale each rebuy: an item its buyers come back for outranks a
/// more recent one they do not.
#[test]
fn rebuy_factors_scale_each_rebuy_by_how_often_its_buyers_come_back() {
    use cartwise::serve::rebuy::{RebuyIndex, SCALE};
    let mut export = rebuying_export();
    let mut reordered = 0;
    for a in (0..300u32).step_by(7) {
        let cart = [a];
        let history = history_beside(a);
        let (recent, staple) = (history[0], history[history.len() - 1]);
        // The oldest item a staple (4x the shop's share), the most recent a one-off (0.25x).
        let mut factors = vec![SCALE as u8; 300];
        factors[staple as usize] = 4 * SCALE as u8;
        factors[recent as usize] = SCALE as u8 / 4;
        export.rebuy = RebuyIndex { factors };
        let engine = cartwise::serve::suggest::Engine::new(export.clone()).unwrap();
        let with = Query {
            history: &history,
            ..Query::new(&cart, 5, &export.blend)
        };
        let features = engine.features(&with).unwrap();
        for (position, &h) in history.iter().enumerate() {
            let (f, _) = features.iter().find(|(f, _)| f.item == h).unwrap();
            assert_eq!(
                f.repeat,
                cartwise::serve::blend::rebuy(position) * export.rebuy.factor(h)
            );
        }
        let ranked = engine.candidates(&with).unwrap();
        let at = |item: u32| ranked.iter().position(|c| c.item == item);
        let rebuy_only = |item: u32| {
            ranked
                .iter()
                .any(|c| c.item == item && matches!(c.evidence, Evidence::Rebuy))
        };
        if rebuy_only(recent) && rebuy_only(staple) {
            reordered += 1;
            assert!(at(staple) < at(recent), "the staple ranks first");
        }
    }
    assert!(
        reordered > 5,
        "only {reordered} carts had both as pure rebuys"
    );
}

#[test]
fn weighing_rebuys_never_fits_a_blend_below_the_fit_without_them() {
    use cartwise::serve::blend::Features;
    use cartwise::train::blend::fit;
    for seed in 0..12u64 {
        let carts = random_fit_carts(seed);
        // The same carts as they were before rebuys: no rebuy-only candidates, no recency.
        let without = without_rebuys(&carts, |f| Features { repeat: 0.0, ..f });
        let (_, with_rebuys) = fit(&carts, false, 100, true);
        let (blend, no_rebuys) = fit(&without, false, 100, true);
        assert_eq!(
            blend.repeat, 0.0,
            "a weight on nothing is never a strict gain"
        );
        assert!(
            with_rebuys >= no_rebuys,
            "seed {seed}: {with_rebuys} < {no_rebuys}"
        );
    }
}

/// The blend for calls without a history starts from the blend fitted with them (less its
/// history weights) and ranks the history-less carts at least as well as that blend does.
#[test]
fn the_blend_without_a_history_is_never_below_the_blend_with_one_on_carts_without() {
    use cartwise::serve::blend::Features;
    use cartwise::train::blend::{fit, fit_without_history, hit_rate};
    for seed in 0..12u64 {
        let carts = random_fit_carts(seed);
        let (with, _) = fit(&carts, false, 100, true);
        // The same carts for a shopper without a history: no rebuys, no history evidence.
        let bare = without_rebuys(&carts, |f| Features {
            history: 0.0,
            repeat: 0.0,
            ..f
        });
        let (without, fitted) = fit_without_history(&bare, &with, false);
        assert_eq!((without.history, without.repeat), (0.0, 0.0));
        assert_eq!(without.model_candidates, with.model_candidates);
        assert_eq!(fitted, hit_rate(&without, &bare));
        assert!(
            fitted >= hit_rate(&with, &bare),
            "seed {seed}: {fitted} < {}",
            hit_rate(&with, &bare)
        );
    }
}

/// `carts` without their rebuy-only candidates, each remaining candidate's features through
/// `strip`.
fn without_rebuys(
    carts: &[cartwise::train::blend::FitCart],
    strip: impl Fn(cartwise::serve::blend::Features) -> cartwise::serve::blend::Features,
) -> Vec<cartwise::train::blend::FitCart> {
    carts
        .iter()
        .map(|c| {
            let kept: Vec<usize> = (0..c.candidates.len())
                .filter(|&k| !c.rebuy_only[k])
                .collect();
            cartwise::train::blend::FitCart {
                candidates: kept.iter().map(|&k| strip(c.candidates[k])).collect(),
                hidden: c.hidden.and_then(|h| kept.iter().position(|&k| k == h)),
                rebuy_only: Vec::new(),
            }
        })
        .collect()
}

/// 150 random validation carts of 25 candidates each, some with history evidence and rebuys.
fn random_fit_carts(seed: u64) -> Vec<cartwise::train::blend::FitCart> {
    use cartwise::serve::blend::Features;
    use cartwise::train::blend::FitCart;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..150)
        .map(|_| {
            let candidates: Vec<Features> = (0..25u32)
                .map(|item| Features {
                    item,
                    assoc: rng.random_range(0.0..1.0),
                    ease: 0.0,
                    model: rng.random_range(-2.0..2.0),
                    popularity: rng.random_range(-6.0..-1.0),
                    history: if rng.random_bool(0.3) {
                        rng.random_range(0.0..1.0)
                    } else {
                        0.0
                    },
                    repeat: if rng.random_bool(0.2) {
                        rng.random_range(0.3..1.0)
                    } else {
                        0.0
                    },
                })
                .collect();
            // Some history items are candidates only because the shopper bought them.
            let rebuy_only = candidates
                .iter()
                .map(|f| f.repeat > 0.0 && f.assoc < 0.2)
                .collect();
            FitCart {
                hidden: Some(rng.random_range(0..candidates.len())),
                candidates,
                rebuy_only,
            }
        })
        .collect()
}
