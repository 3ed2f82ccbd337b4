//! The basket transformer's forward for one cart change, served two ways from the same export:
//! layers multiplied by their quantized blocks (candle-transformers' quantized layers, what the
//! engine serves with) against the same weights expanded to f32 (what the engine did before).
//! Prints the bytes each way holds for the layers' weights, then times one cart's query vector
//! (the forward the catalog-scoring kernel takes) for carts of 1 and 3 items.
//!
//! Reads the demo export (`./build.sh bench` trains it first; `CARTWISE_MODEL` names another).

use cartwise::serve::export::Export;
use cartwise::serve::model::{is_dense_weight, Layers, ModelInput};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn bench(c: &mut Criterion) {
    let path = std::env::var("CARTWISE_MODEL")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/model-export/synth.cwm").into());
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (./build.sh bench trains it first)"));
    let export = Export::from_bytes(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let stored = export
        .model
        .as_ref()
        .unwrap_or_else(|| panic!("{path}: the export has no basket model"));
    let dense: Vec<_> = stored
        .tensors
        .iter()
        .filter(|t| is_dense_weight(&t.name))
        .collect();
    let elements: usize = dense.iter().map(|t| t.dims.iter().product::<usize>()).sum();
    let kept: usize = dense.iter().map(|t| t.bytes.len()).sum();
    eprintln!(
        "layer weights: {elements} values; held quantized {kept} B, expanded to f32 {} B ({:.2}x)",
        elements * 4,
        (elements * 4) as f64 / kept as f64
    );
    let titles = export.catalog.titles();
    let popular = export.assoc.by_popularity();
    let carts = [&popular[..1], &popular[..3]];
    let mut group = c.benchmark_group("model forward");
    for (name, layers) in [
        ("quantized layers", Layers::Quantized),
        ("expanded f32 layers", Layers::Expanded),
    ] {
        let model = stored
            .load(&titles, layers)
            .expect("the export's model loads");
        for cart in carts {
            let input = ModelInput {
                cart,
                ..Default::default()
            };
            group.bench_with_input(BenchmarkId::new(name, cart.len()), &input, |b, input| {
                b.iter(|| model.query_vector(input).expect("forward"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
