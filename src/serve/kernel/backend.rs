//! Which kernel ranks the catalog: WebGPU where a short calibration on the real table shows it
//! answers a cart change faster than the CPU, the CPU otherwise, and the CPU again from the first
//! GPU error or device loss on, without failing the call that met it.

use super::gpu::{GpuError, GpuScorer};
use super::probe::{measure, Probe};
use super::{cpu, Hit, ItemTable, TableError};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// The GPU is chosen only when its median query takes at most this share of the CPU's: a
/// readback's latency varies, and a tie is not worth a device.
pub const GPU_ADVANTAGE: f64 = 0.8;
/// Queries a calibration times on each kernel; medians absorb the first call's warm-up.
pub const CALIBRATION_QUERIES: usize = 9;

/// How the caller wants the backend chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Calibrate: WebGPU only where it is faster on this table.
    #[default]
    Auto,
    /// WebGPU wherever an adapter runs the kernel and ranks as the CPU does.
    WebGpu,
    /// The CPU kernel, no GPU opened.
    Cpu,
}

/// The backend in use and why: what `engine.info()` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// "webgpu" or "cpu".
    pub backend: &'static str,
    /// Why this backend: forced, calibration figures, or the GPU error that ended the GPU path.
    pub reason: String,
    /// The GPU adapter that was opened, if any.
    pub adapter: Option<String>,
    /// Calibration medians of one query, in milliseconds.
    pub cpu_ms: Option<f64>,
    pub gpu_ms: Option<f64>,
    /// Calls the GPU failed and the CPU answered (at most one: the GPU is dropped after it).
    pub fallbacks: u32,
}

/// The chosen kernel for one item table; see the module docs.
pub struct Backend {
    gpu: RefCell<Option<Rc<GpuScorer>>>,
    status: RefCell<Status>,
}

impl Backend {
    /// The CPU kernel, for `reason`.
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self {
            gpu: RefCell::new(None),
            status: RefCell::new(Status {
                backend: "cpu",
                reason: reason.into(),
                adapter: None,
                cpu_ms: None,
                gpu_ms: None,
                fallbacks: 0,
            }),
        }
    }

    /// An already-open GPU scorer, for `reason`: the caller has chosen it.
    pub fn with_gpu(gpu: Rc<GpuScorer>, reason: impl Into<String>) -> Self {
        let adapter = Some(gpu.adapter().to_string());
        Self {
            gpu: RefCell::new(Some(gpu)),
            status: RefCell::new(Status {
                backend: "webgpu",
                reason: reason.into(),
                adapter,
                cpu_ms: None,
                gpu_ms: None,
                fallbacks: 0,
            }),
        }
    }

    /// Chooses a backend for `table` by `mode`, calibrating on `queries` (row-major, the real
    /// carts' kind of vector) with `k` results each; `now` is a millisecond clock.
    pub async fn choose(
        table: &ItemTable,
        mode: Mode,
        queries: &[f32],
        k: usize,
        now: impl Fn() -> f64,
    ) -> Self {
        if mode == Mode::Cpu {
            return Self::cpu("forced by the caller");
        }
        let (found, gpu) = measure(table, queries, k, now).await;
        let (gpu, reason) = decide(mode, &found, gpu);
        let backend = if gpu.is_some() { "webgpu" } else { "cpu" };
        Self {
            gpu: RefCell::new(gpu.map(Rc::new)),
            status: RefCell::new(Status {
                backend,
                reason,
                adapter: found.adapter,
                cpu_ms: Some(found.cpu_ms),
                gpu_ms: found.gpu_ms,
                fallbacks: 0,
            }),
        }
    }

    /// The backend in use and why.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// The best `k` rows of `table` for `query`, best first, ties by row index: on the GPU when
    /// it is chosen, else (or when it fails, from then on) on the CPU. `table` must be the
    /// table the backend was chosen for.
    pub async fn top_k(
        &self,
        table: &ItemTable,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<Hit>, TableError> {
        // Cloned out, so no borrow is held across the await.
        let gpu = self.gpu.borrow().clone();
        if let Some(gpu) = gpu {
            match gpu.top_k(query, k).await {
                Ok(mut lists) => return Ok(lists.pop().unwrap_or_default()),
                // A bad query is the caller's error on every backend.
                Err(GpuError::Table(e)) => return Err(e),
                Err(e) => self.fall_back(&e),
            }
        }
        cpu::top_k(table, query, k)
    }

    /// Drops the GPU after `error`: this call and every later one run on the CPU.
    fn fall_back(&self, error: &GpuError) {
        if let Some(gpu) = self.gpu.borrow_mut().take() {
            gpu.destroy();
        }
        let mut status = self.status.borrow_mut();
        status.backend = "cpu";
        status.reason = format!("fell back to the CPU after a GPU error: {error}");
        status.fallbacks += 1;
    }
}

/// The calibration's verdict: the scorer to keep, if any, and why.
fn decide(mode: Mode, found: &Probe, gpu: Option<GpuScorer>) -> (Option<GpuScorer>, String) {
    let Some(gpu) = gpu else {
        let why = found.error.as_deref().unwrap_or("no GPU");
        return (None, format!("WebGPU unavailable: {why}"));
    };
    let gpu_ms = found.gpu_ms.unwrap_or(f64::INFINITY);
    let figures = format!(
        "one query over {} rows: WebGPU {gpu_ms:.3} ms, CPU {:.3} ms",
        found.rows, found.cpu_ms
    );
    let keep = if !found.identical {
        Err(format!(
            "WebGPU ranked differently from the CPU ({figures})"
        ))
    } else if mode == Mode::WebGpu {
        Ok(format!("forced by the caller ({figures})"))
    } else if gpu_ms <= found.cpu_ms * GPU_ADVANTAGE {
        Ok(format!("calibration: {figures}"))
    } else {
        Err(format!(
            "calibration: {figures}; WebGPU must take at most {GPU_ADVANTAGE}× the CPU's time"
        ))
    };
    match keep {
        Ok(reason) => (Some(gpu), reason),
        Err(reason) => {
            gpu.destroy();
            (None, reason)
        }
    }
}
