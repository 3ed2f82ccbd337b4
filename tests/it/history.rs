//! Shopper history: each order's earlier items per customer, and the transformer's history
//! tokens, which personalize its ranking and change nothing for a model trained without them.

use crate::common;

use cartwise::serve::model::ModelConfig;
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
