//! Catalog scoring + top-10: the CPU kernel against the wgpu kernel (Mesa's lavapipe here; a
//! real GPU where there is one), int8, f32 and product-quantized (16 bytes a row) tables (and f32
//! held as f16 on the GPU) of 10k,
//! 100k and 1M items × 64 dims, one
//! query per cart change, and a batch of 64 carts (native evaluation) up to 100k items (on
//! lavapipe a 1M-item batch takes most of a minute per iteration).

use cartwise::serve::kernel::gpu::{GpuOptions, GpuScorer};
use cartwise::serve::kernel::{cpu, ItemTable};
use cartwise::train::pq::quantize;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DIM: usize = 64;
const K: usize = 10;
const BATCH: usize = 64;

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalog top-k");
    group.sample_size(10);
    let queries = values(BATCH * DIM, 7);
    let one = &queries[..DIM];
    for items in [10_000, 100_000, 1_000_000] {
        let raw = values(items * DIM, items as u64);
        for (precision, table) in [
            ("int8", ItemTable::int8(&raw, DIM).unwrap()),
            ("f32", ItemTable::f32(raw.clone(), DIM).unwrap()),
            (
                "pq16",
                ItemTable::pq(quantize(&raw, DIM, 16, 1).unwrap()).unwrap(),
            ),
        ] {
            let gpu = pollster::block_on(GpuScorer::new(&table, GpuOptions::default()))
                .expect("a wgpu adapter (build.sh setup installs Mesa's lavapipe)");
            eprintln!(
                "{items} items {precision}: {} in {} tile(s)",
                gpu.adapter(),
                gpu.tiles()
            );
            let id = |what: &str| BenchmarkId::new(format!("{what} {precision}"), items);
            group.bench_function(id("cpu 1 query"), |b| {
                b.iter(|| cpu::top_k(&table, one, K).unwrap())
            });
            group.bench_function(id("gpu 1 query"), |b| {
                b.iter(|| pollster::block_on(gpu.top_k(one, K)).unwrap())
            });
            if precision == "f32" {
                let options = GpuOptions {
                    half: true,
                    ..Default::default()
                };
                let half = pollster::block_on(GpuScorer::new(&table, options)).unwrap();
                group.bench_function(BenchmarkId::new("gpu 1 query f16", items), |b| {
                    b.iter(|| pollster::block_on(half.top_k(one, K)).unwrap())
                });
            }
            if items > 100_000 {
                continue;
            }
            group.bench_function(id(&format!("cpu {BATCH} queries")), |b| {
                b.iter(|| {
                    queries
                        .chunks_exact(DIM)
                        .map(|q| cpu::top_k(&table, q, K).unwrap())
                        .collect::<Vec<_>>()
                })
            });
            group.bench_function(id(&format!("gpu {BATCH} queries")), |b| {
                b.iter(|| pollster::block_on(gpu.top_k(&queries, K)).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
