//! The blend's history terms and rebuys: a call without a history ranks by the blend fitted
//! without one, the history term reranks only when weighed, rebuys join the candidates by
//! recency and are scaled by how often their buyers come back, and no blend weighing them fits
//! below the one without.

use cartwise::serve::suggest::{Evidence, Query};

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
