//! The whole pipeline over the shapes real shops have (`cartwise synth --shape`): `train` on
//! each either writes an export that loads and serves — every bundle has an add-on, keeps the
//! rules and verifies at checkout, for carts that hold nothing, whole itemsets, random items or
//! the whole catalog — or refuses with a named reason. `tests/node/shapes.test.mjs` holds the
//! wasm engine to the same. `CARTWISE_SHAPE_SEEDS` and `CARTWISE_SHAPE_SCALE` widen the sweep
//! (`./build.sh fuzz` runs 3 seeds at scale 20: a 100,000-product catalog, 1% ordered).

use crate::common;
use cartwise::serve::export::Export;
use cartwise::serve::suggest::budget::MAX_CART_ITEMS;
use cartwise::serve::suggest::verify::{Claim, ClaimedBundle};
use cartwise::serve::suggest::{Engine, SuggestOptions};
use cartwise::train::shapes::Shape;
use std::path::Path;

/// The shapes `train` may refuse, and what its error must then name.
const REFUSED: [(Shape, &str); 1] = [(Shape::NoTitles, "no usable order lines")];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The carts every export is asked about: nothing, each whole itemset (up to 20), each item
/// alone and with its neighbour (every 7th), and the whole catalog (its first
/// [`MAX_CART_ITEMS`], the most a cart may hold).
fn carts(export: &Export) -> Vec<Vec<String>> {
    let id = |i: u32| export.catalog.get(i).id.clone();
    let n = export.catalog.len() as u32;
    let mut carts = vec![vec![]];
    carts.extend(
        export
            .itemsets
            .iter()
            .take(20)
            .map(|s| s.items.iter().map(|&i| id(i)).collect()),
    );
    for i in (0..n.min(400)).step_by(7) {
        carts.push(vec![id(i)]);
        carts.push(vec![id(i), id((i + 1) % n)]);
    }
    carts.push((0..n.min(MAX_CART_ITEMS as u32)).map(id).collect());
    carts
}

/// Asks the export about every cart and checks every bundle; returns the bundles checked.
fn serve_and_verify(shape: Shape, export: &Export) -> usize {
    let engine = Engine::new(export.clone()).expect("the written export builds an engine");
    let mut checked = 0;
    for (c, ids) in carts(export).iter().enumerate() {
        let options = SuggestOptions {
            k: Some(5),
            month: Some(1 + (c % 12) as u8),
            ..Default::default()
        };
        let cart = common::cart(ids);
        let out = engine
            .suggest(&cart, &options, 7)
            .unwrap_or_else(|e| panic!("{}: cart of {} items: {e}", shape.name(), ids.len()));
        assert!(
            out.items.iter().all(|i| !ids.contains(i)),
            "{}",
            shape.name()
        );
        for b in &out.bundles {
            let what = || {
                format!(
                    "{}: cart {:?}: {b:?}",
                    shape.name(),
                    &ids[..ids.len().min(4)]
                )
            };
            assert!(!b.items.is_empty(), "an empty bundle: {}", what());
            assert!(b.items.iter().all(|i| !ids.contains(&i.id)), "{}", what());
            common::assert_keeps_rules(export, b, &what());
            let verdict = engine.verify(&Claim {
                cart: cart.items.clone(),
                bundle: ClaimedBundle {
                    items: b.items.iter().map(|i| i.id.clone()).collect(),
                    bundle_price: b.bundle_price,
                },
            });
            assert!(verdict.ok, "{}: {}", what(), verdict.reason);
            checked += 1;
        }
    }
    checked
}

/// Generates, trains and serves one shape; `extra` goes to `train`.
fn pipeline(shape: Shape, seed: u64, scale: usize, dir: &Path, extra: &[&str]) {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.join("m.cwm");
    common::ok(&[
        "synth",
        "--shape",
        shape.name(),
        "--seed",
        &seed.to_string(),
        "--scale",
        &scale.to_string(),
        "--out",
        &s(dir),
    ]);
    let mut args = vec![
        "train".to_string(),
        "--orders".into(),
        s(&dir.join("orders.csv")),
        "--products".into(),
        s(&dir.join("products.csv")),
        "--out".into(),
        s(&out),
        "--seed".into(),
        seed.to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::cartwise(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("panicked"), "{}: {stderr}", shape.name());
    if let Some((_, reason)) = REFUSED.iter().find(|(s, _)| *s == shape) {
        assert!(!run.status.success(), "{} trained", shape.name());
        assert!(stderr.contains(reason), "{}: {stderr}", shape.name());
        assert!(
            !out.exists(),
            "{}: a refused train left a file",
            shape.name()
        );
        return;
    }
    assert!(
        run.status.success(),
        "{} seed {seed}: {stderr}",
        shape.name()
    );
    let export = Export::from_bytes(&std::fs::read(&out).unwrap())
        .unwrap_or_else(|e| panic!("{}: the written export does not load: {e}", shape.name()));
    let checked = serve_and_verify(shape, &export);
    eprintln!(
        "{} (seed {seed}, scale {scale}, {extra:?}): {} items, {} bundles checked",
        shape.name(),
        export.catalog.len(),
        checked
    );
    // One item has nothing to bundle; every other shape bundles something.
    assert!(
        checked > 0 || shape == Shape::OneProduct,
        "{}: no bundle at all",
        shape.name()
    );
}

#[test]
fn every_shape_of_shop_trains_an_export_that_loads_serves_and_verifies() {
    let seeds = env_usize("CARTWISE_SHAPE_SEEDS", 1) as u64;
    let scale = env_usize("CARTWISE_SHAPE_SCALE", 1);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for shape in Shape::ALL {
        for seed in 1..=seeds {
            let dir = root.join(format!("{}-{seed}", shape.name()));
            pipeline(shape, seed, scale, &dir, &["--fast"]);
        }
    }
    // The transformer's sections (MODL, TOKN, PQIT) over titles in other scripts and over a
    // catalog mostly never ordered.
    for shape in [Shape::LongTitles, Shape::SparseCatalog] {
        let dir = root.join(format!("{}-model", shape.name()));
        let model = ["--transformer", "--epochs", "1", "--dim", "16", "--pq", "4"];
        pipeline(shape, 1, 1, &dir, &model);
    }
}

#[test]
fn a_50k_catalog_with_14k_ordered_and_no_timestamps_trains_and_loads() {
    // The grocery log whose seasonal index (every row neutral) deflated 980:1, past the
    // reader's bomb rule: `train` wrote a file `suggest` and `inspect` refused.
    let tmp = tempfile::tempdir().unwrap();
    pipeline(Shape::Grocery, 1, 1, tmp.path(), &["--fast"]);
    let bytes = std::fs::read(tmp.path().join("m.cwm")).unwrap();
    let export = Export::from_bytes(&bytes).unwrap();
    assert_eq!(export.catalog.len(), 50_000);
    assert!(export.seasonal.factors.iter().all(|r| *r == [32; 12]));
}
