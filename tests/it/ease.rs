//! Sparse EASE: pruning and int8 storage against the dense model, its section in the export,
//! and its part in suggest.

use crate::common;

use cartwise::serve::blend::Blend;
use cartwise::serve::ease::SparseEase;
use cartwise::serve::export::{
    read_sections, section_payload, tags, write_sections, Export, ExportError, FLAG_DEFLATE,
    FLAG_REQUIRED,
};
use cartwise::serve::suggest::{Cart, CartEntry, Engine, Evidence, Query, SuggestOptions};
use cartwise::train::ease::Ease;
use cartwise::train::pipeline::{train, TrainConfig};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Each row keeps exactly the `keep` largest |weights| of the dense row (ties by item
    /// index), strongest first, each within half a quantization step of the dense weight.
    #[test]
    fn sparsify_keeps_the_strongest_weights_of_each_row(
        (n, baskets) in common::baskets_strategy(4usize..14),
        lambda in 0.5f64..20.0,
        keep in 1usize..6,
    ) {
        let dense = Ease::fit(&baskets, n, lambda);
        let sparse = dense.sparsify(keep);
        prop_assert!(sparse.validate(n).is_ok());
        for i in 0..n as u32 {
            let mut expect: Vec<(u32, f32)> = (0..n as u32)
                .filter(|&j| j != i && dense.weight(i, j) != 0.0)
                .map(|j| (j, dense.weight(i, j)))
                .collect();
            expect.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            expect.truncate(keep);
            let got: Vec<(u32, f32)> = sparse.row(i).collect();
            let ids = |r: &[(u32, f32)]| r.iter().map(|p| p.0).collect::<Vec<_>>();
            prop_assert_eq!(ids(&got), ids(&expect));
            let step = expect.first().map_or(0.0, |p| p.1.abs()) / 127.0;
            for ((_, w), (_, d)) in got.iter().zip(&expect) {
                prop_assert!((w - d).abs() <= step * 0.5 + 1e-6, "{w} vs {d}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Items without orders add only empty rows and columns to EASE's Gram matrix: fitted over
    /// the items that occur, EASE has the same weights as over the whole catalog, and the
    /// other items' rows stay empty.
    #[test]
    fn ease_over_the_items_with_orders_has_the_catalog_fit_s_weights(
        (n, baskets) in common::baskets_strategy(4usize..14),
        lambda in 0.5f64..20.0,
        unused in 1usize..8,
    ) {
        use cartwise::train::ease::ActiveItems;
        // Spread the items over a bigger catalog: the odd indices, plus `unused` at the end.
        let wide = 2 * n + unused;
        let spread: Vec<Vec<u32>> = baskets
            .iter()
            .map(|b| b.iter().map(|&i| 2 * i + 1).collect())
            .collect();
        let active = ActiveItems::of(&spread, wide);
        let compact = Ease::fit(&active.remap(&spread), active.len(), lambda);
        let full = Ease::fit(&spread, wide, lambda);
        let items = active.items();
        for (a, &i) in items.iter().enumerate() {
            for (b, &j) in items.iter().enumerate() {
                let (c, f) = (compact.weight(a as u32, b as u32), full.weight(i, j));
                prop_assert!((c - f).abs() <= 1e-4 * f.abs().max(1e-2), "{i}→{j}: {c} vs {f}");
            }
        }
        let sparse = active.sparsify(&compact, 8);
        prop_assert!(sparse.validate(wide).is_ok());
        for i in (0..wide as u32).filter(|i| !items.contains(i)) {
            prop_assert_eq!(sparse.row(i).count(), 0);
            prop_assert!((0..wide as u32).all(|j| full.weight(i, j) == 0.0 && full.weight(j, i) == 0.0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Where every two items were bought together and the neighbourhood holds them all,
    /// neighbourhood EASE is dense EASE: each column's ridge regression over every other item.
    #[test]
    fn neighbourhood_ease_is_dense_ease_when_the_neighbourhood_is_everything(
        n in 3usize..9,
        extra in prop::collection::vec(prop::collection::vec(0u32..9, 1..5), 0..30),
        lambda in 0.5f64..20.0,
    ) {
        use cartwise::train::assoc::count::{count_pairs, prepare_baskets};
        // One basket of every item makes every pair co-purchased; random baskets vary counts.
        let every: Vec<u32> = (0..n as u32).collect();
        let raw: Vec<Vec<u32>> = std::iter::once(every)
            .chain(extra.into_iter().map(|b| b.into_iter().filter(|&i| (i as usize) < n).collect()))
            .collect();
        let baskets = prepare_baskets(raw.iter().map(Vec::as_slice), 100).baskets;
        let dense = Ease::fit(&baskets, n, lambda);
        let local = cartwise::train::local_ease::fit(
            &count_pairs(&baskets, n, 1 << 20), lambda, n, usize::MAX,
        );
        prop_assert!(local.validate(n).is_ok());
        for i in 0..n as u32 {
            let row: Vec<(u32, f32)> = local.row(i).collect();
            prop_assert_eq!(row.len(), (0..n as u32).filter(|&j| j != i && dense.weight(i, j) != 0.0).count());
            let step = row.iter().map(|p| p.1.abs()).fold(0.0, f32::max) / 127.0;
            for (j, w) in row {
                let d = dense.weight(i, j);
                prop_assert!((w - d).abs() <= step * 0.5 + 1e-4 * d.abs().max(1e-2), "{i}→{j}: {w} vs {d}");
            }
        }
    }
}

#[test]
fn neighbourhood_ease_on_half_the_typical_neighbourhood_ranks_within_five_percent_of_dense_ease() {
    use cartwise::train::assoc::count::count_pairs;
    use cartwise::train::protocol::{measure, tuning_carts, validation_split};
    let (catalog, log) = common::small_shop().to_log();
    let n = catalog.len();
    let split = validation_split(&log, 100, 0, 7);
    let carts = tuning_carts(&split.carts);
    let lambda = 200.0;
    let dense = Ease::fit(&split.baskets, n, lambda).sparsify(cartwise::serve::ease::KEEP);
    // Half the co-purchased items of the median item: the approximation has to carry the
    // fit, not a neighbourhood covering everything.
    let counts = count_pairs(&split.baskets, n, 1 << 20);
    let mut degree = vec![0usize; n];
    for &(key, _) in &counts.pairs {
        let (a, b) = cartwise::train::assoc::count::unpack_pair(key);
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    degree.sort_unstable();
    let neighbours = degree[n / 2] / 2;
    assert!(
        neighbours >= 16,
        "median co-purchased items {}",
        degree[n / 2]
    );
    let local =
        cartwise::train::local_ease::fit(&counts, lambda, neighbours, cartwise::serve::ease::KEEP);
    let (d, l) = (
        measure(|t| dense.rank(&t.cart), &carts).hr10,
        measure(|t| local.rank(&t.cart), &carts).hr10,
    );
    assert!(
        carts.len() > 200 && d > 0.1,
        "{} carts, dense HR@10 {d}",
        carts.len()
    );
    assert!(
        l >= 0.95 * d,
        "neighbourhood of {neighbours}: {l} vs dense {d}"
    );
}

#[test]
fn training_past_the_dense_limit_fits_neighbourhood_ease() {
    let (catalog, log) = common::small_shop().to_log();
    let mut stages = Vec::new();
    let export = train(
        &catalog,
        &log,
        &TrainConfig {
            ease_max_items: 50,
            ..TrainConfig::default()
        },
        |p| stages.push(p.message().to_string()),
    )
    .unwrap();
    let ease = export.ease.as_ref().expect("EASE past the dense limit");
    assert!(ease.validate(catalog.len()).is_ok());
    assert!(
        ease.items.len() > catalog.len() * 8,
        "{} weights",
        ease.items.len()
    );
    assert!(
        stages
            .iter()
            .any(|s| s.starts_with("EASE (neighbourhood): λ =")),
        "{stages:?}"
    );
}

#[test]
fn training_fits_ease_and_the_blend_unless_turned_off() {
    let (catalog, log) = common::small_shop().to_log();
    let with = train(&catalog, &log, &TrainConfig::default(), |_| {}).unwrap();
    let ease = with
        .ease
        .as_ref()
        .expect("EASE is fitted for a 250-item shop");
    assert_eq!(ease.items(), catalog.len());
    assert!(ease.items.len() <= catalog.len() * cartwise::serve::ease::KEEP);
    assert_ne!(with.blend, Blend::default(), "the blend is fitted");
    let without = train(
        &catalog,
        &log,
        &TrainConfig {
            ease_max_items: 0,
            ..TrainConfig::default()
        },
        |_| {},
    )
    .unwrap();
    assert!(without.ease.is_none());
    assert_eq!(without.blend, Blend::default(), "association only, as v1");
    assert_eq!(
        without.assoc, with.assoc,
        "the tables do not depend on EASE"
    );
}

#[test]
fn the_section_is_required_round_trips_and_is_checked() {
    let export = common::small_export();
    let bytes = export.to_bytes();
    let entry = read_sections(&bytes)
        .unwrap()
        .into_iter()
        .find(|e| e.tag == tags::EASE)
        .expect("EASE written");
    assert_eq!(
        entry.flags & FLAG_REQUIRED,
        FLAG_REQUIRED,
        "a reader that cannot weigh EASE must refuse the file"
    );
    assert_eq!(Export::from_bytes(&bytes).unwrap(), export);

    let parts: Vec<_> = read_sections(&bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let raw = section_payload(&bytes, e).unwrap().into_owned();
            (e.tag, e.flags & !FLAG_DEFLATE, raw)
        })
        .collect();
    // A kept weight that names an item out of range, with a valid checksum.
    let mut bad = parts.clone();
    let ease = bad.iter_mut().find(|p| p.0 == tags::EASE).unwrap();
    let n = export.catalog.len();
    let items = 4 + 4 + 4 * (n + 1) + 4 * n + 4;
    let m = u32::from_le_bytes(ease.2[items - 4..items].try_into().unwrap()) as usize;
    // The first item's high byte: its plane is the fourth.
    ease.2[items + 3 * m] = 0xff;
    let err = Export::from_bytes(&write_sections(&bad)).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "EASE" && reason.contains("out of range")),
        "{err}"
    );
    // Version 3 stored the items interleaved, and such files still read.
    let table = export.ease.as_ref().unwrap();
    let mut v3 = parts.clone();
    let ease = v3.iter_mut().find(|p| p.0 == tags::EASE).unwrap();
    let planes = ease.2[items..items + 4 * m].to_vec();
    for (k, j) in table.items.iter().enumerate() {
        assert_eq!(
            u32::from_le_bytes([
                planes[k],
                planes[m + k],
                planes[2 * m + k],
                planes[3 * m + k]
            ]),
            *j
        );
        ease.2[items + 4 * k..items + 4 * k + 4].copy_from_slice(&j.to_le_bytes());
    }
    common::dense_rows(&mut v3, &export);
    common::without_currency(&mut v3, &export);
    let mut v3 = write_sections(&v3);
    common::set_version(&mut v3, 3);
    assert_eq!(
        Export::from_bytes(&v3).unwrap(),
        common::read_before_currency(&export, 3),
        "a version 3 file reads the same, and says its version"
    );
    // A blend that weighs EASE in a file without it.
    let mut bad = parts.clone();
    bad.retain(|p| p.0 != tags::EASE);
    let blend = bad.iter_mut().find(|p| p.0 == tags::BLEND).unwrap();
    blend.2 = br#"{"assoc": 1.0, "ease": 2.0}"#.to_vec();
    let err = Export::from_bytes(&write_sections(&bad)).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "BLND" && reason.contains("EASE")),
        "{err}"
    );
}

#[test]
fn suggest_weighs_ease_and_explains_what_only_it_knows() {
    let mut export = common::small_export();
    let n = export.catalog.len();
    let anchor = 0u32;
    let assoc_top = export.assoc.row(anchor)[0].item;
    let stranger = (1..n as u32)
        .rev()
        .find(|&j| export.assoc.find(anchor, j).is_none())
        .expect("some item is no neighbour of item 0");
    // Item 0 weighs `stranger` strongly and its best association partner negatively.
    let mut rows = vec![Vec::new(); n];
    rows[anchor as usize] = vec![(stranger, 5.0), (assoc_top, -5.0)];
    export.ease = Some(SparseEase::from_rows(100.0, rows, 32));
    export.blend = Blend {
        assoc: 1.0,
        ease: 1.0,
        ..Blend::default()
    };
    let engine = Engine::new(export.clone()).unwrap();
    let ranked = engine
        .candidates(&Query::new(&[anchor], 1, &export.blend))
        .unwrap();
    assert_eq!(ranked[0].item, stranger);
    assert!(matches!(
        ranked[0].evidence,
        Evidence::Learned { anchor: 0, weight } if (weight - 5.0).abs() < 0.05
    ));
    let position = |item| ranked.iter().position(|c| c.item == item).unwrap();
    assert!(
        position(assoc_top) > 1,
        "a substitute's negative weight pushes it down"
    );
    let cart = Cart {
        items: vec![CartEntry::Id(export.catalog.get(anchor).id.clone())],
        ..Default::default()
    };
    let options = SuggestOptions {
        k: Some(3),
        month: Some(1),
        ..SuggestOptions::default()
    };
    let answer = engine.suggest(&cart, &options, 1).unwrap();
    assert_eq!(answer.items[0], export.catalog.get(stranger).id);
    let reasons = answer
        .bundles
        .iter()
        .flat_map(|b| b.reasons.iter())
        .find(|r| r.contains("goes with"))
        .expect("the learned candidate is explained");
    assert!(reasons.contains("5.00"), "{reasons}");
}

#[test]
fn the_lambda_search_stops_past_its_peak_and_keeps_the_earliest_best() {
    use cartwise::train::ease::{tune_by, LAMBDAS};
    // A curve that peaks at the second λ: the third scores below it and ends the search.
    let peak = |l: f64| 1.0 - (l.ln() - 50f64.ln()).abs() / 10.0;
    let (lambda, kept, tried) = tune_by(|l| (peak(l), l));
    assert_eq!((lambda, kept), (50.0, 50.0));
    assert_eq!(
        tried.iter().map(|t| t.0).collect::<Vec<_>>(),
        LAMBDAS[..3].to_vec()
    );
    // Rising all the way: every λ is tried and the largest kept.
    let (lambda, _, tried) = tune_by(|l| (l, ()));
    assert_eq!((lambda, tried.len()), (LAMBDAS[5], 6));
    // A flat stretch is walked through (a tie is not a fall); the earliest of a tie is kept.
    let flat = |l: f64| if l <= 200.0 { 0.5 } else { 0.4 };
    let (lambda, _, tried) = tune_by(|l| (flat(l), ()));
    assert_eq!((lambda, tried.len()), (LAMBDAS[0], 4));
}
