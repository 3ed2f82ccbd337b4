//! Association build time: the synthetic shop, and a shop of about one million order lines.

use cartwise::train::pipeline::{train, TrainConfig};
use cartwise::train::synth::{generate, SynthConfig};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("association build");
    group.sample_size(10);
    for (name, config) in [
        ("synthetic shop (50k orders)", SynthConfig::default()),
        (
            "1M order lines (330k orders, 10k items)",
            SynthConfig {
                items: 10_000,
                orders: 330_000,
                customers: 40_000,
                seed: 1,
            },
        ),
    ] {
        let (catalog, log) = generate(&config).to_log();
        eprintln!("{name}: {} order lines", log.lines);
        group.bench_function(name, |b| {
            b.iter(|| train(&catalog, &log, &TrainConfig::default(), |_| {}).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
