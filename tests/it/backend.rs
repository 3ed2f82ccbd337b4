//! The backend layer on a real wgpu adapter (Mesa's lavapipe): suggest answered through the GPU
//! kernel equals suggest on the CPU, calibration picks by its own figures, forcing works, and a
//! lost device falls back to the CPU without failing the call.

use crate::common;

use cartwise::serve::kernel::backend::{Backend, Mode, GPU_ADVANTAGE};
use cartwise::serve::kernel::cpu;
use cartwise::serve::kernel::gpu::{GpuOptions, GpuScorer};
use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
use std::rc::Rc;
use std::sync::OnceLock;

/// A trained shop with a basket model whose blend consults it.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<cartwise::serve::export::Export> = OnceLock::new();
    static_engine(ENGINE.get_or_init(|| common::trained_with_model(11, 400, 600, 4_000)))
}

fn static_engine(export: &'static cartwise::serve::export::Export) -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(export.clone()).unwrap())
}

fn clock() -> impl Fn() -> f64 {
    let start = std::time::Instant::now();
    move || start.elapsed().as_secs_f64() * 1e3
}

/// Carts of 1–4 catalog items, spread over the catalog.
fn carts(engine: &Engine, n: usize) -> Vec<Cart> {
    let products = engine.export().catalog.products();
    (0..n)
        .map(|i| Cart {
            items: (0..1 + i % 4)
                .map(|j| CartEntry::Id(products[(i * 37 + j * 101) % products.len()].id.clone()))
                .collect(),
            ..Default::default()
        })
        .collect()
}

/// Calibration queries: the first rows of the table, as the engine's loader takes them.
fn queries(engine: &Engine) -> Vec<f32> {
    let table = &engine.scoring_table().unwrap().table;
    (0..8).flat_map(|r| table.row(r).unwrap()).collect()
}

/// suggest through `backend`, the way the wasm engine's suggestAsync runs it.
fn suggest_on(
    backend: &Backend,
    engine: &Engine,
    cart: &Cart,
) -> cartwise::serve::suggest::Suggestions {
    let options = SuggestOptions {
        k: Some(10),
        month: Some(6),
        ..Default::default()
    };
    let pending = engine.begin(cart, &options, 1).unwrap();
    let table = &engine.scoring_table().unwrap().table;
    let hits = pending
        .query()
        .map(|q| pollster::block_on(backend.top_k(table, &q.vector, q.k)).unwrap());
    engine.finish(pending, hits).unwrap()
}

fn suggest_cpu(engine: &Engine, cart: &Cart) -> cartwise::serve::suggest::Suggestions {
    let options = SuggestOptions {
        k: Some(10),
        month: Some(6),
        ..Default::default()
    };
    engine.suggest(cart, &options, 1).unwrap()
}

#[test]
fn suggest_through_webgpu_equals_suggest_on_the_cpu() {
    let engine = engine();
    assert!(
        engine.export().blend.model_candidates > 0,
        "the blend must consult the model"
    );
    let table = &engine.scoring_table().unwrap().table;
    let backend = pollster::block_on(Backend::choose(
        table,
        Mode::WebGpu,
        &queries(engine),
        10,
        clock(),
    ));
    let status = backend.status();
    assert_eq!(status.backend, "webgpu", "{status:?}");
    assert!(
        status.reason.starts_with("forced by the caller"),
        "{status:?}"
    );
    let mut with_model = 0;
    for cart in carts(engine, 60) {
        let gpu = suggest_on(&backend, engine, &cart);
        assert_eq!(gpu, suggest_cpu(engine, &cart), "cart {cart:?}");
        with_model += usize::from(
            engine
                .begin(&cart, &SuggestOptions::default(), 1)
                .unwrap()
                .query()
                .is_some(),
        );
    }
    assert_eq!(with_model, 60, "every known cart asks the model");
    assert_eq!(backend.status().fallbacks, 0);
}

#[test]
fn a_lost_device_falls_back_to_the_cpu_without_failing_the_call() {
    let engine = engine();
    let table = &engine.scoring_table().unwrap().table;
    let scorer = Rc::new(pollster::block_on(GpuScorer::new(table, GpuOptions::default())).unwrap());
    let backend = Backend::with_gpu(scorer.clone(), "test");
    let carts = carts(engine, 6);
    assert_eq!(
        suggest_on(&backend, engine, &carts[0]),
        suggest_cpu(engine, &carts[0])
    );
    assert_eq!(backend.status().backend, "webgpu");
    scorer.destroy();
    // The call that meets the lost device still answers, on the CPU, and so do later ones.
    for cart in &carts {
        assert_eq!(
            suggest_on(&backend, engine, cart),
            suggest_cpu(engine, cart)
        );
    }
    let status = backend.status();
    assert_eq!((status.backend, status.fallbacks), ("cpu", 1), "{status:?}");
    assert!(status.reason.contains("GPU error"), "{status:?}");
}

#[test]
fn calibration_chooses_by_its_own_figures_and_cpu_can_be_forced() {
    let engine = engine();
    let table = &engine.scoring_table().unwrap().table;
    let auto = pollster::block_on(Backend::choose(
        table,
        Mode::Auto,
        &queries(engine),
        10,
        clock(),
    ));
    let s = auto.status();
    let (cpu_ms, gpu_ms) = (s.cpu_ms.unwrap(), s.gpu_ms.unwrap());
    let faster = gpu_ms <= cpu_ms * GPU_ADVANTAGE;
    assert_eq!(s.backend, if faster { "webgpu" } else { "cpu" }, "{s:?}");
    assert!(s.reason.starts_with("calibration: one query over"), "{s:?}");
    assert!(s.adapter.is_some());
    // Whatever it chose ranks as the CPU kernel does.
    let q = queries(engine);
    let q = &q[..table.dim];
    assert_eq!(
        pollster::block_on(auto.top_k(table, q, 25)).unwrap(),
        cpu::top_k(table, q, 25).unwrap()
    );

    let forced = pollster::block_on(Backend::choose(table, Mode::Cpu, &[], 10, clock()));
    let s = forced.status();
    assert_eq!(
        (s.backend, s.reason.as_str(), s.adapter),
        ("cpu", "forced by the caller", None)
    );
    // A bad query is the caller's error, not a GPU failure.
    assert!(pollster::block_on(forced.top_k(table, &[f32::NAN; 4], 1)).is_err());
}
