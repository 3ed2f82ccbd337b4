//! The basket transformer: it learns (loss falls, validation HR@10 beats popularity), training is
//! deterministic for a seed, and an item known only by its title still gets a vector.

use cartwise::train::assoc::count::prepare_baskets;
use cartwise::train::ingest::OrderLog;
use cartwise::train::model::fit::{fit, FitConfig, FitProgress};
use cartwise::train::model::rank_catalog;
use cartwise::train::protocol::{hit_rate, test_carts};

/// A fit (or its error), popularity's HR@10 on the validation carts, the carts, the titles.
type SmallFit = (
    Result<cartwise::train::model::fit::Fitted, String>,
    f64,
    Vec<cartwise::train::protocol::TestCart>,
    Vec<String>,
);

/// Fits the small shop's model for `epochs` (stopping after `stop_after`), with an optional
/// checkpoint folder; returns the fit (or its error), popularity's HR@10, the carts and titles.
fn small_fit(
    seed: u64,
    epochs: usize,
    checkpoint: Option<&std::path::Path>,
    stop_after: usize,
) -> SmallFit {
    fit_small_shop(seed, epochs, checkpoint, stop_after, 0)
}

/// [`small_fit`] with `negatives` (0: the full softmax).
fn fit_small_shop(
    seed: u64,
    epochs: usize,
    checkpoint: Option<&std::path::Path>,
    stop_after: usize,
    negatives: usize,
) -> SmallFit {
    fit_small_shop_by(seed, epochs, checkpoint, stop_after, negatives, None)
}

/// [`fit_small_shop`] within a time budget ending at `deadline`.
fn fit_small_shop_by(
    seed: u64,
    epochs: usize,
    checkpoint: Option<&std::path::Path>,
    stop_after: usize,
    negatives: usize,
    deadline: Option<std::time::Instant>,
) -> SmallFit {
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 4,
        items: 300,
        customers: 1_000,
        orders: 12_000,
    });
    let (catalog, mut log) = shop.to_log();
    log.orders.sort_by_key(|o| o.time);
    let cut = log.orders.len() * 9 / 10;
    let baskets =
        prepare_baskets(log.orders[..cut].iter().map(|o| o.items.as_slice()), 100).baskets;
    let validation = test_carts(
        &OrderLog {
            orders: log.orders[cut..].to_vec(),
            lines: 0,
        },
        1,
    );
    let config = FitConfig {
        dim: 32,
        ff: 64,
        epochs,
        patience: 6,
        batch: 128,
        vocab: 500,
        seed,
        negatives: Some(negatives),
        deadline,
        ..FitConfig::default()
    };
    let fitted = fit(
        &catalog,
        &baskets,
        &[],
        &validation,
        &config,
        checkpoint,
        |p| match p {
            FitProgress::Epoch { record: e, .. } if e.epoch >= stop_after => {
                std::ops::ControlFlow::Break(())
            }
            _ => std::ops::ControlFlow::Continue(()),
        },
    )
    .map_err(|e| e.to_string());
    // Popularity's HR@10 on the same validation carts, for reference.
    let mut counts = vec![0u32; catalog.len()];
    baskets
        .iter()
        .flatten()
        .for_each(|&i| counts[i as usize] += 1);
    let mut popular: Vec<u32> = (0..catalog.len() as u32).collect();
    popular.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let ranked: Vec<Vec<u32>> = validation
        .iter()
        .map(|t| {
            popular
                .iter()
                .copied()
                .filter(|i| !t.cart.contains(i))
                .collect()
        })
        .collect();
    let titles = catalog.products().iter().map(|p| p.title.clone()).collect();
    (fitted, hit_rate(&ranked, &validation), validation, titles)
}

#[test]
fn transformer_learns_and_is_deterministic() {
    let (a, popularity, validation, titles) = small_fit(9, 6, None, usize::MAX);
    let a = a.unwrap();
    let first = a.history.first().unwrap();
    let last = a.history.last().unwrap();
    eprintln!("history {:?}, popularity HR@10 {popularity:.3}", a.history);
    assert!(last.loss < first.loss, "loss falls: {:?}", a.history);
    let best = a.history.iter().map(|e| e.val_hr10).fold(0.0, f64::max);
    assert!(
        best > popularity * 1.5,
        "validation HR@10 {best:.3} vs popularity {popularity:.3}"
    );
    let b = small_fit(9, 6, None, usize::MAX).0.unwrap();
    assert_eq!(a.history, b.history, "same seed, same training");

    // Quantized weights (Q8_0 layers, Q5_1 item ids) keep the f32 model's quality: HR@10
    // within 2% on the same carts.
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let views: Vec<&[u32]> = validation.iter().map(|t| t.cart.as_slice()).collect();
    let hr = |quantize: bool| {
        let export = a.to_export(quantize).unwrap();
        let ranked = rank_catalog(
            &export.load(&titles, None).unwrap(),
            &views,
            &[],
            usize::MAX,
        )
        .unwrap();
        (hit_rate(&ranked, &validation), export.weight_bytes())
    };
    let ((f32_hr, f32_bytes), (q_hr, q_bytes)) = (hr(false), hr(true));
    eprintln!("HR@10 f32 {f32_hr:.4} ({f32_bytes} B), quantized {q_hr:.4} ({q_bytes} B)");
    assert!(
        (q_hr - f32_hr).abs() <= 0.02 * f32_hr,
        "quantized {q_hr} vs f32 {f32_hr}"
    );
    assert!(q_bytes * 3 < f32_bytes, "about a quarter of f32");
}

#[test]
fn sampled_softmax_learns_nearly_as_well_as_the_full_one_and_is_deterministic() {
    // 64 of the 300 items drawn per step (plus the batch's targets), logQ-corrected.
    let (sampled, popularity, ..) = fit_small_shop(9, 6, None, usize::MAX, 64);
    let sampled = sampled.unwrap();
    let (full, ..) = fit_small_shop(9, 6, None, usize::MAX, 0);
    let best = |f: &cartwise::train::model::fit::Fitted| {
        f.history.iter().map(|e| e.val_hr10).fold(0.0, f64::max)
    };
    let (s, f) = (best(&sampled), best(&full.unwrap()));
    eprintln!("validation HR@10: sampled {s:.4}, full {f:.4}, popularity {popularity:.4}");
    assert!(
        s > popularity * 1.5,
        "sampled {s:.3} vs popularity {popularity:.3}"
    );
    assert!(s >= 0.9 * f, "sampled {s:.4} vs full softmax {f:.4}");
    let again = fit_small_shop(9, 6, None, usize::MAX, 64).0.unwrap();
    assert_eq!(sampled.history, again.history, "same seed, same draws");
}

#[test]
fn interrupted_training_resumes_from_its_checkpoint_to_the_same_weights() {
    let whole = small_fit(5, 4, None, usize::MAX).0.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = small_fit(5, 4, Some(dir.path()), 2).0.unwrap();
    assert_eq!(cut.history.len(), 2, "stopped after epoch 2");
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    assert!(state.contains("\"epoch\": 2"), "{state}");
    let resumed = small_fit(5, 4, Some(dir.path()), usize::MAX).0.unwrap();
    assert_eq!(
        resumed.history, whole.history,
        "the resumed run continues the same history"
    );
    let (a, b) = (
        whole.to_export(false).unwrap(),
        resumed.to_export(false).unwrap(),
    );
    assert_eq!(
        a.tensors, b.tensors,
        "and ends with exactly the same weights"
    );
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "state and the last epoch's tensors only: {files:?}"
    );
    // A checkpoint of other settings is refused, naming why.
    let err = small_fit(5, 6, Some(dir.path()), usize::MAX)
        .0
        .err()
        .unwrap();
    assert!(err.contains("other settings"), "{err}");
}

#[test]
fn title_tokenizer_is_deterministic_and_covers_new_titles() {
    use cartwise::serve::model::titles::title_tokens;
    use cartwise::train::model::tokenizer::train_tokenizer;
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed: 4,
        items: 300,
        customers: 10,
        orders: 10,
    });
    let titles: Vec<&str> = shop.products.iter().map(|p| p.title.as_str()).collect();
    let a = train_tokenizer(titles.iter().copied(), 500).unwrap();
    let b = train_tokenizer(titles.iter().copied(), 500).unwrap();
    let sorted = |t: &tokenizers::Tokenizer| {
        t.get_vocab(true)
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let keys = |t: &tokenizers::Tokenizer| {
        t.get_vocab(true)
            .into_keys()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&a), keys(&b), "same token set");
    assert_eq!(
        sorted(&a),
        sorted(&b),
        "same titles, same vocabulary and ids"
    );
    // A title never seen in training still tokenizes into known pieces.
    let (ids, owner) = title_tokens(&a, &["Nordvik Premium Espresso Grinder"]).unwrap();
    assert!(!ids.is_empty() && owner.iter().all(|&o| o == 0));
}

/// A synthetic shop of 3,000 orders and a train config with a tiny transformer (dim 16).
fn tiny_transformer_shop(
    seed: u64,
    items: usize,
    customers: usize,
    epochs: usize,
    vocab: usize,
) -> (
    cartwise::serve::catalog::Catalog,
    OrderLog,
    cartwise::train::pipeline::TrainConfig,
) {
    let shop = cartwise::train::synth::generate(&cartwise::train::synth::SynthConfig {
        seed,
        items,
        customers,
        orders: 3_000,
    });
    let (catalog, log) = shop.to_log();
    let config = cartwise::train::pipeline::TrainConfig {
        transformer: Some(FitConfig {
            dim: 16,
            ff: 32,
            epochs,
            batch: 128,
            vocab,
            ..FitConfig::default()
        }),
        ..Default::default()
    };
    (catalog, log, config)
}

#[test]
fn a_fit_whose_first_epoch_cannot_end_in_time_is_refused() {
    // The budget is spent before the first step: the first epoch's probe must say so rather
    // than train past the deadline.
    let (fitted, ..) =
        fit_small_shop_by(1, 4, None, usize::MAX, 0, Some(std::time::Instant::now()));
    let error = fitted.err().expect("a fit with no time left is refused");
    assert!(
        error.contains("its first epoch and the validation passes after it need about")
            && error.contains("the time budget leaves 0 s"),
        "{error}"
    );
}

#[test]
fn model_sections_round_trip_and_reload_to_the_same_rankings() {
    use cartwise::serve::export::{read_sections, Export, ExportError};
    use cartwise::train::pipeline::train;
    let (catalog, log, config) = tiny_transformer_shop(4, 300, 500, 1, 200);
    let export = train(&catalog, &log, &config, |_| {}).unwrap();
    let model = export.model.as_ref().expect("trained with a transformer");
    let bytes = export.to_bytes();
    let back = Export::from_bytes(&bytes).unwrap();
    assert_eq!(&back, &export);
    // The reloaded model ranks exactly as the one rebuilt from the original weights.
    let titles = catalog.titles();
    let carts: Vec<&[u32]> = vec![&[0], &[1, 2], &[3, 4, 5]];
    let a = rank_catalog(&model.load(&titles, None).unwrap(), &carts, &[], usize::MAX).unwrap();
    let b = rank_catalog(
        &back.model.as_ref().unwrap().load(&titles, None).unwrap(),
        &carts,
        &[],
        usize::MAX,
    )
    .unwrap();
    assert_eq!(a, b);
    assert!(a
        .iter()
        .zip(&carts)
        .all(|(r, c)| r.len() == catalog.len() - c.len()));
    // Damage to the model section is caught like any other.
    let sections = read_sections(&bytes).unwrap();
    let modl = sections.iter().find(|s| &s.tag == b"MODL").unwrap();
    let mut bad = bytes.clone();
    bad[(modl.offset + modl.length / 2) as usize] ^= 1;
    assert_eq!(
        Export::from_bytes(&bad).unwrap_err(),
        ExportError::SectionChecksum { tag: "MODL".into() }
    );
}

#[test]
fn the_served_model_reads_its_stored_tables_as_the_training_graph_computes_them() {
    // Width 16 stores every table as f32 (rows do not fill 32-value blocks); width 32 stores the
    // id table as Q5_1 and the token table as Q8_0.
    for (dim, ids_as, tokens_as) in [(16, "f32", "f32"), (32, "q5_1", "q8_0")] {
        served_equals_graph(dim, ids_as, tokens_as);
    }
}

fn served_equals_graph(dim: usize, ids_as: &str, tokens_as: &str) {
    use candle_core::{DType, Device, Tensor};
    use cartwise::serve::model::titles::{title_tokens, tokenizer_from_json};
    use cartwise::serve::model::{BasketModel, ModelInput};
    use cartwise::train::pipeline::train;
    use std::collections::HashMap;
    let (catalog, log, mut config) = tiny_transformer_shop(6, 300, 500, 1, 200);
    let fit = config.transformer.as_mut().unwrap();
    (fit.dim, fit.ff) = (dim, 2 * dim);
    let export = train(&catalog, &log, &config, |_| {}).unwrap();
    let stored = export.model.as_ref().unwrap();
    let dtype = |name: &str| {
        stored
            .tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .dtype
            .name()
    };
    assert_eq!(
        (dtype("item_id.weight"), dtype("token.weight")),
        (ids_as, tokens_as)
    );
    let titles = catalog.titles();
    let served = stored.load(&titles, None).unwrap();
    // The served tables share the export's bytes (held by the export and the model), not copies.
    for name in ["item_id.weight", "token.weight"] {
        let t = stored.tensors.iter().find(|t| t.name == name).unwrap();
        assert_eq!(std::sync::Arc::strong_count(&t.bytes), 2, "{name}");
    }
    // The training graph over the same (dequantized) weights: whole f32 tables, the item table
    // computed by embedding every title token.
    let device = Device::Cpu;
    let tensors: HashMap<String, Tensor> = stored
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.to_tensor(&device).unwrap()))
        .collect();
    let tokenizer = tokenizer_from_json(&stored.tokenizer_json).unwrap();
    let (ids, owner) = title_tokens(&tokenizer, &titles).unwrap();
    let vb = candle_nn::VarBuilder::from_tensors(tensors, DType::F32, &device);
    let graph = BasketModel::new(stored.config, vb, &ids, &owner).unwrap();
    // Same vectors to the bit, read a row at a time from the quantized tables.
    assert_eq!(
        served.item_vectors().unwrap(),
        graph.item_vectors().unwrap()
    );
    assert_eq!(
        served.title_vectors().unwrap(),
        graph.title_vectors().unwrap()
    );
    let some: Vec<u32> = vec![7, 0, 299, 7];
    let d = stored.config.dim;
    let all = graph.item_vectors().unwrap();
    let expected: Vec<f32> = some
        .iter()
        .flat_map(|&i| all[i as usize * d..][..d].to_vec())
        .collect();
    assert_eq!(served.item_vectors_of(&some).unwrap(), expected);
    // The same forward: query vectors equal, logits (the served model scores the catalog a
    // chunk at a time) equal to float rounding, rankings equal.
    for cart in [&[0u32][..], &[1, 2], &[3, 4, 5, 6]] {
        let input = ModelInput {
            cart,
            ..Default::default()
        };
        assert_eq!(
            served.query_vector(&input).unwrap(),
            graph.query_vector(&input).unwrap()
        );
        let (a, b) = (
            served.cart_logits(&input).unwrap(),
            graph.cart_logits(&input).unwrap(),
        );
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs().max(1.0)));
    }
    let carts: Vec<&[u32]> = vec![&[0], &[1, 2], &[3, 4, 5]];
    assert_eq!(
        rank_catalog(&served, &carts, &[], usize::MAX).unwrap(),
        rank_catalog(&graph, &carts, &[], usize::MAX).unwrap()
    );
    // An item asked of the stored table past its rows is an error, not a panic.
    assert!(served
        .item_vectors_of(&[stored.config.items as u32 + 2])
        .is_err());
}

#[test]
fn refit_retrains_on_all_orders_for_the_chosen_epochs() {
    use cartwise::train::pipeline::{train, TrainConfig};
    use cartwise::train::Progress;
    let (catalog, log, config) = tiny_transformer_shop(6, 250, 300, 3, 300);
    let (mut stages, mut steps) = (Vec::new(), Vec::new());
    // The records; step messages ("transformer epoch 1: 3 of 14 steps") come between.
    let early = train(&catalog, &log, &config, |s| match s {
        Progress::Record(m) => stages.push(m),
        Progress::Step(m) => steps.push(m),
    })
    .unwrap();
    let kept = stages
        .iter()
        .filter(|s| s.starts_with("transformer epoch"))
        .count();
    // Each epoch reports its steps as they go, up to the last.
    for epoch in 1..=kept {
        let of: Vec<(usize, usize)> = steps
            .iter()
            .filter_map(|m| m.strip_prefix(&format!("transformer epoch {epoch}: ")))
            .filter_map(|m| m.strip_suffix(" steps")?.split_once(" of "))
            .map(|(done, of)| (done.parse().unwrap(), of.parse().unwrap()))
            .collect();
        let &(last, total) = of.last().expect("steps reported");
        assert_eq!(last, total, "epoch {epoch} ends at its last step: {of:?}");
        assert!(of.windows(2).all(|w| w[0].0 < w[1].0), "{of:?}");
    }
    let record = |s: Progress| match s {
        Progress::Record(m) => Some(m),
        Progress::Step(_) => None,
    };
    let mut refit_stages = Vec::new();
    let refit = train(
        &catalog,
        &log,
        &TrainConfig {
            refit: true,
            ..config.clone()
        },
        |s| refit_stages.extend(record(s)),
    )
    .unwrap();
    let refit_epochs = refit_stages
        .iter()
        .filter(|s| s.starts_with("transformer refit epoch"))
        .count();
    assert!(
        (1..=kept).contains(&refit_epochs),
        "{refit_epochs} refit epochs after {kept}: {refit_stages:?}"
    );
    assert!(refit_stages
        .iter()
        .any(|s| s.contains(&format!("for {refit_epochs} epochs"))));
    assert_eq!(
        early.blend, refit.blend,
        "the blend is fitted before the refit"
    );
    assert_ne!(
        early.model.unwrap().tensors,
        refit.model.unwrap().tensors,
        "the shipped weights are the refit's"
    );
}
