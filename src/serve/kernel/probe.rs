//! Both kernels on the same table and queries: whether the GPU path runs here, whether it ranks
//! exactly as the CPU does, and what one query costs on each — the measurement a backend choice
//! rests on.

use super::gpu::{GpuOptions, GpuScorer};
use super::{cpu, ItemTable};
use serde::Serialize;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The GPU adapter and backend; `None` when the GPU path could not run.
    pub adapter: Option<String>,
    /// Why the GPU path could not run (no adapter, device or shader error).
    pub error: Option<String>,
    /// Whether the GPU top-k equalled the CPU top-k for every query (false without a GPU).
    pub identical: bool,
    pub queries: usize,
    pub rows: usize,
    /// Tiles the table was split into on the device.
    pub tiles: usize,
    /// Median time of one query's scoring + top-k on the CPU, in milliseconds.
    pub cpu_ms: f64,
    /// The same on the GPU, readback included; `None` without a GPU.
    pub gpu_ms: Option<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs every query of `queries` (row-major, `table.dim` values each) through both kernels,
/// one query at a time as a cart change would; `now` is a millisecond clock.
pub async fn probe(table: &ItemTable, queries: &[f32], k: usize, now: impl Fn() -> f64) -> Probe {
    let (found, gpu) = measure(table, queries, k, now).await;
    if let Some(gpu) = gpu {
        gpu.destroy();
    }
    found
}

/// [`probe`], keeping the GPU scorer when its device opened and ran every query.
pub async fn measure(
    table: &ItemTable,
    queries: &[f32],
    k: usize,
    now: impl Fn() -> f64,
) -> (Probe, Option<GpuScorer>) {
    let mut cpu_times = Vec::new();
    let mut expected = Vec::new();
    for q in queries.chunks_exact(table.dim) {
        let start = now();
        expected.push(cpu::top_k(table, q, k));
        cpu_times.push(now() - start);
    }
    let mut out = Probe {
        adapter: None,
        error: None,
        identical: false,
        queries: expected.len(),
        rows: table.rows,
        tiles: 0,
        cpu_ms: median(cpu_times),
        gpu_ms: None,
    };
    let gpu = match GpuScorer::new(table, GpuOptions::default()).await {
        Ok(gpu) => gpu,
        Err(e) => {
            out.error = Some(e.to_string());
            return (out, None);
        }
    };
    out.adapter = Some(gpu.adapter().to_string());
    out.tiles = gpu.tiles();
    let mut gpu_times = Vec::new();
    let mut identical = true;
    for (q, want) in queries.chunks_exact(table.dim).zip(&expected) {
        let start = now();
        let got = gpu.top_k(q, k).await;
        gpu_times.push(now() - start);
        match (got, want) {
            (Ok(got), Ok(want)) => identical &= got.first() == Some(want),
            (Err(e), _) => {
                out.error = Some(e.to_string());
                gpu.destroy();
                return (out, None);
            }
            (_, Err(_)) => identical = false,
        }
    }
    out.identical = identical;
    out.gpu_ms = Some(median(gpu_times));
    (out, Some(gpu))
}
