//! Catalog scoring kernels: the CPU kernel ranks as a full sort does, and the wgpu kernel on a
//! real adapter (Mesa's lavapipe natively, installed by `build.sh setup`) returns the very same
//! top-k, ties by item index, for random and trained tables, with and without tiling.

use crate::common;

use cartwise::serve::kernel::gpu::{GpuError, GpuOptions, GpuScorer, Precision};
use cartwise::serve::kernel::{cpu, Hit, ItemTable, Rows};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_values(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows * dim)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect()
}

/// The top-k by a full sort of every score: the definition the kernels must meet.
fn sorted_top_k(table: &ItemTable, query: &[f32], k: usize) -> Vec<Hit> {
    let mut hits: Vec<Hit> = cpu::scores(table, query)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, score)| Hit {
            item: i as u32,
            score,
        })
        .collect();
    // Scores compare as numbers (-0 equals 0), then by item index.
    hits.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap()
            .then(a.item.cmp(&b.item))
    });
    hits.truncate(k);
    hits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn cpu_top_k_is_the_sorted_prefix(
        rows in 1usize..300,
        dim4 in 1usize..5,
        k in 0usize..40,
        seed in any::<u64>(),
        // Coarse values make exact ties common, so the index tie-break is exercised.
        levels in 1u32..4,
    ) {
        let dim = dim4 * 4;
        let coarse = |v: Vec<f32>| v.into_iter().map(|x| (x * levels as f32).round()).collect::<Vec<_>>();
        let values = coarse(random_values(rows, dim, seed));
        let query = coarse(random_values(1, dim, seed ^ 1));
        for table in [ItemTable::f32(values.clone(), dim).unwrap(), ItemTable::int8(&values, dim).unwrap()] {
            prop_assert_eq!(cpu::top_k(&table, &query, k).unwrap(), sorted_top_k(&table, &query, k));
        }
    }
}

#[test]
fn int8_rows_keep_their_values_within_half_a_step() {
    let values = random_values(50, 16, 3);
    let table = ItemTable::int8(&values, 16).unwrap();
    let Rows::Int8 { values: q, scales } = &table.data else {
        unreachable!()
    };
    for (r, row) in values.chunks_exact(16).enumerate() {
        for (c, v) in row.iter().enumerate() {
            let back = q[r * 16 + c] as f32 * scales[r];
            assert!(
                (back - v).abs() <= scales[r] / 2.0 + 1e-7,
                "row {r} col {c}"
            );
        }
    }
}

#[test]
fn bad_tables_and_queries_are_named() {
    assert_eq!(
        ItemTable::int8(&vec![0.5; 516], 516)
            .unwrap_err()
            .to_string(),
        "item table: int8 rows of 516 values are wider than 512"
    );
    assert_eq!(
        ItemTable::f32(vec![0.0; 6], 6).unwrap_err().to_string(),
        "item table: dimension 6 is not a positive multiple of 4"
    );
    let mut v = vec![0.0; 12];
    v[9] = f32::NAN;
    assert_eq!(
        ItemTable::int8(&v, 4).unwrap_err().to_string(),
        "item table: row 2 has a value that is not finite"
    );
    let table = ItemTable::f32(vec![1.0; 8], 4).unwrap();
    assert_eq!(
        cpu::top_k(&table, &[1.0; 3], 1).unwrap_err().to_string(),
        "query: 3 values, the table's rows have 4"
    );
    assert_eq!(
        cpu::top_k(&table, &[1.0, f32::INFINITY, 0.0, 0.0], 1)
            .unwrap_err()
            .to_string(),
        "query: value 1 is not finite"
    );
}

/// Opens the GPU kernel over `table`; a machine without an adapter fails the test by name.
fn gpu(table: &ItemTable, max_binding_bytes: Option<u64>) -> GpuScorer {
    gpu_with(
        table,
        GpuOptions {
            max_binding_bytes,
            ..Default::default()
        },
    )
}

fn gpu_with(table: &ItemTable, options: GpuOptions) -> GpuScorer {
    match pollster::block_on(GpuScorer::new(table, options)) {
        Ok(scorer) => scorer,
        Err(e @ GpuError::NoAdapter(_)) => panic!(
            "{e}: the wgpu tests need a real adapter (Debian's mesa-vulkan-drivers, which \
             `./build.sh setup` installs)"
        ),
        Err(e) => panic!("{e}"),
    }
}

/// GPU and CPU top-k of every query, compared entry by entry.
fn assert_parity(scorer: &GpuScorer, table: &ItemTable, queries: &[f32], k: usize, exact: bool) {
    let got = pollster::block_on(scorer.top_k(queries, k)).unwrap();
    let dim = table.dim;
    assert_eq!(got.len(), queries.len() / dim);
    for (q, (query, gpu)) in queries.chunks_exact(dim).zip(&got).enumerate() {
        let cpu = cpu::top_k(table, query, k).unwrap();
        let ids = |h: &[Hit]| h.iter().map(|h| h.item).collect::<Vec<_>>();
        assert_eq!(ids(gpu), ids(&cpu), "query {q}, k {k}, {} rows", table.rows);
        for (g, c) in gpu.iter().zip(&cpu) {
            if exact {
                assert_eq!(
                    g.score.to_bits(),
                    c.score.to_bits(),
                    "query {q} item {}",
                    c.item
                );
            } else {
                assert!((g.score - c.score).abs() <= 1e-5 * c.score.abs().max(1.0));
            }
        }
    }
}

#[test]
fn gpu_top_k_equals_cpu_top_k_on_random_tables_of_several_sizes() {
    let dim = 64;
    for (rows, tile_cap) in [
        (1, None),
        (1_000, None),
        (1_025, None),
        (20_000, None),
        // 64 KiB bindings hold 1,024 int8 rows: 20 tiles, the last one partial.
        (20_000, Some(64 << 10)),
        (131_072, None),
    ] {
        let values = random_values(rows, dim, rows as u64);
        let queries = random_values(5, dim, 99);
        let table = ItemTable::int8(&values, dim).unwrap();
        let scorer = gpu(&table, tile_cap);
        if tile_cap.is_some() {
            assert_eq!(scorer.tiles(), rows.div_ceil(1024));
        }
        for k in [1, 10, 100, 512] {
            assert_parity(&scorer, &table, &queries, k, true);
        }
        let table = ItemTable::f32(values, dim).unwrap();
        let scorer = gpu(&table, tile_cap.map(|c| c * 4));
        assert_parity(&scorer, &table, &queries, 10, false);
    }
}

#[test]
fn a_million_rows_reduce_to_the_cpu_top_k() {
    // 977 chunk lists of 512: three reduce passes; one merging workgroup stopped early here
    // (llvmpipe ends a loop after 65,535 iterations of one invocation).
    let dim = 16;
    let table = ItemTable::int8(&random_values(1_000_000, dim, 31), dim).unwrap();
    let scorer = gpu(&table, None);
    assert_parity(&scorer, &table, &random_values(1, dim, 32), 512, true);
    assert_parity(&scorer, &table, &random_values(2, dim, 33), 101, true);
}

#[test]
fn gpu_breaks_ties_by_item_index_like_the_cpu() {
    // 3,000 rows drawn from 7 distinct vectors: every score is shared by hundreds of items.
    let dim = 8;
    let distinct = random_values(7, dim, 5);
    let values: Vec<f32> = (0..3_000)
        .flat_map(|i| distinct[(i * 5 % 7) * dim..][..dim].to_vec())
        .collect();
    let table = ItemTable::int8(&values, dim).unwrap();
    let scorer = gpu(&table, Some(8 << 10));
    assert!(scorer.tiles() > 1);
    assert_parity(&scorer, &table, &random_values(3, dim, 6), 50, true);
}

#[test]
fn gpu_top_k_equals_cpu_top_k_on_a_trained_item_table() {
    let export = common::trained_with_model(4, 300, 500, 3_000);
    let catalog = &export.catalog;
    let model = export
        .model
        .clone()
        .unwrap()
        .load(&catalog.titles(), None)
        .unwrap();
    let values: Vec<f32> = model.item_vectors().unwrap();
    // Queries: the item vectors of a few carts' items, summed.
    let dim = model.config.dim;
    let carts: [&[usize]; 4] = [&[0], &[1, 2], &[3, 4, 5], &[10, 20, 30, 40]];
    let queries: Vec<f32> = carts
        .iter()
        .flat_map(|cart| (0..dim).map(|d| cart.iter().map(|&i| values[i * dim + d]).sum::<f32>()))
        .collect();
    let table = ItemTable::int8(&values, dim).unwrap();
    assert_parity(&gpu(&table, None), &table, &queries, 20, true);
}

#[test]
fn product_quantized_tables_rank_alike_on_both_kernels_and_near_the_exact_ranking() {
    use cartwise::serve::kernel::pq::CENTROIDS;
    use cartwise::train::pq::quantize;
    let dim = 64;
    let values = random_values(6_000, dim, 31);
    let table = ItemTable::pq(quantize(&values, dim, 16, 7).unwrap()).unwrap();
    assert!(matches!(&table.data, Rows::Pq(pq) if pq.codes.len() == 6_000 * 16));
    // The GPU kernel sums the same lookup-table entries in integers: bit-for-bit scores, with
    // and without tiling (16-byte rows: 32 KiB bindings hold two chunks of 1,024 rows).
    let queries = random_values(5, dim, 32);
    assert_parity(&gpu(&table, None), &table, &queries, 101, true);
    let tiled = gpu(&table, Some(32 << 10));
    assert!(tiled.tiles() > 1);
    assert_eq!(tiled.precision(), Precision::Pq);
    assert_parity(&tiled, &table, &queries, 10, true);
    // Scores approximate the exact dot products: the exact top 10 is mostly in the PQ top 20.
    let exact = ItemTable::f32(values.clone(), dim).unwrap();
    let mut found = 0;
    for q in queries.chunks_exact(dim) {
        let want = cpu::top_k(&exact, q, 10).unwrap();
        let got: Vec<u32> = cpu::top_k(&table, q, 20)
            .unwrap()
            .iter()
            .map(|h| h.item)
            .collect();
        found += want.iter().filter(|h| got.contains(&h.item)).count();
    }
    eprintln!("exact top 10 within the PQ top 20: {found} of 50");
    assert!(found >= 35, "{found} of 50");
    // Deterministic for a seed; a codebook of the wrong shape is refused.
    assert_eq!(
        ItemTable::pq(quantize(&values, dim, 16, 7).unwrap()).unwrap(),
        table
    );
    assert!(quantize(&values, dim, 6, 7).is_err());
    assert!(cartwise::serve::kernel::pq::Codebook::new(dim, 16, vec![0.0; CENTROIDS]).is_err());
}

#[test]
fn gpu_refuses_what_it_cannot_rank() {
    let table = ItemTable::int8(&random_values(10, 4, 1), 4).unwrap();
    let scorer = gpu(&table, None);
    let err = pollster::block_on(scorer.top_k(&[1.0; 4], 2_000)).unwrap_err();
    assert_eq!(err, GpuError::K(2_000));
    let err = pollster::block_on(scorer.top_k(&[1.0, f32::NAN, 0.0, 0.0], 1)).unwrap_err();
    assert_eq!(err.to_string(), "query: value 1 is not finite");
    // k beyond the catalog returns the whole catalog, ranked.
    let all = pollster::block_on(scorer.top_k(&[1.0; 4], 50)).unwrap();
    assert_eq!(all[0].len(), 10);
    assert!(matches!(
        pollster::block_on(GpuScorer::new(
            &ItemTable::f32(Vec::new(), 4).unwrap(),
            GpuOptions::default()
        )),
        Err(GpuError::Empty)
    ));
}

#[test]
fn probe_reports_the_adapter_parity_and_both_timings() {
    use cartwise::serve::kernel::probe::probe;
    let table = ItemTable::int8(&random_values(5_000, 16, 8), 16).unwrap();
    let start = std::time::Instant::now();
    let clock = || start.elapsed().as_secs_f64() * 1e3;
    let found = pollster::block_on(probe(&table, &random_values(4, 16, 9), 10, clock));
    assert!(
        found.adapter.is_some() && found.error.is_none(),
        "{found:?}"
    );
    assert!(found.identical);
    assert_eq!((found.queries, found.rows, found.tiles), (4, 5_000, 1));
    assert!(found.cpu_ms > 0.0 && found.gpu_ms.is_some_and(|ms| ms > 0.0));
}

/// Values as the f16 path holds them: rounded to the nearest f16.
fn f16_rounded(values: &[f32]) -> Vec<f32> {
    values
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect()
}

#[test]
fn f16_tables_rank_as_the_cpu_on_f16_rounded_values() {
    let dim = 64;
    let values = random_values(20_000, dim, 21);
    let queries = random_values(4, dim, 22);
    let table = ItemTable::f32(values.clone(), dim).unwrap();
    // 256 KiB bindings: 10 tiles of f16 rows (2,048 rows each; f32 rows would need 20).
    let half = gpu_with(
        &table,
        GpuOptions {
            max_binding_bytes: Some(256 << 10),
            half: true,
        },
    );
    assert_eq!(half.precision(), Precision::F16);
    assert_eq!(half.tiles(), 20_000usize.div_ceil(2_048));
    let rounded = ItemTable::f32(f16_rounded(&values), dim).unwrap();
    let got = pollster::block_on(half.top_k(&queries, 50)).unwrap();
    for (q, list) in f16_rounded(&queries).chunks_exact(dim).zip(&got) {
        assert_eq!(list, &cpu::top_k(&rounded, q, 50).unwrap(), "bit for bit");
    }
    assert_eq!(
        gpu(&table, None).precision(),
        Precision::F32,
        "f16 only when asked"
    );
    let int8 = ItemTable::int8(&values, dim).unwrap();
    let options = GpuOptions {
        half: true,
        ..Default::default()
    };
    assert_eq!(gpu_with(&int8, options).precision(), Precision::Int8);
}
