// Browser benchmark: the wasm linear memory an engine takes, per export. Each export loads in a
// fresh page (a fresh wasm instance): linear memory only grows, so its size after a step is the
// peak up to that step. Figures: after init, after Engine.fromBytes, after a first suggest()
// with new products (the look-alike title table), after modelScores() (the model's full logits);
// then suggest()'s time over 300 carts (batched mean, per-call p50 and p99), and with
// CARTWISE_BENCH_WEBGPU=1 (Chromium's WebGPU adapter) suggestAsync's on an engine forced onto it.
// Exports: model-export/synth.cwm plus CARTWISE_BENCH_EXPORTS (comma-separated, repo-relative).
// Builds: pkg/ plus CARTWISE_BENCH_PKGS (e.g. pkg/before, an older build copied there), measured
// side by side in interleaved rounds; figures are medians over the rounds.
import { launch } from "./harness.mjs";

const exports = ["model-export/synth.cwm", ...(process.env.CARTWISE_BENCH_EXPORTS ?? "").split(",").filter(Boolean)];
const pkgs = ["pkg", ...(process.env.CARTWISE_BENCH_PKGS ?? "").split(",").filter(Boolean)];
const rounds = Number(process.env.CARTWISE_BENCH_ROUNDS ?? 3);
const mib = (b) => (b / 1048576).toFixed(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs in the page: loads `path` with the build in `pkg` and reads linear memory after each step. */
async function measure([pkg, path]) {
  const mod = await import(`/${pkg}/cartwise.js`);
  const wasm = await mod.default();
  const size = () => wasm.memory.buffer.byteLength;
  const bytes = new Uint8Array(await (await fetch("/" + path)).arrayBuffer());
  const init = size();
  const t = performance.now();
  const engine = mod.Engine.fromBytes(bytes);
  const loadMs = performance.now() - t;
  const loaded = size();
  const products = engine.products(0, 50);
  const cart = { items: products.slice(0, 3).map((p) => ({ id: p.id, qty: 1 })) };
  const newItems = products.slice(0, 20).map((p, i) => ({ id: `NEW-${i}`, title: `${p.title} Mk${i}`, category: p.category, price: p.price }));
  engine.suggest(cart, { k: 5, newItems });
  const suggested = size();
  let scored = null;
  if (engine.info().modelDims > 0) {
    engine.modelScores(cart, 10);
    scored = size();
  }
  // What the stored tables cost a call: suggest() batched over 300 carts of 1-4 items.
  const ids = engine.products(0, 2000).map((p) => p.id);
  const carts = Array.from({ length: 300 }, (_, i) => ({
    items: Array.from({ length: 1 + (i % 4) }, (_, j) => ({ id: ids[(i * 7 + j * 131) % ids.length], qty: 1 })),
  }));
  for (const c of carts.slice(0, 50)) engine.suggest(c, { k: 5 });
  const calls = [];
  const t2 = performance.now();
  for (const c of carts) {
    const t = performance.now();
    engine.suggest(c, { k: 5 });
    calls.push(performance.now() - t);
  }
  const suggestMs = (performance.now() - t2) / carts.length;
  calls.sort((a, b) => a - b);
  const p50 = calls[Math.floor(calls.length / 2)];
  const p99 = calls[Math.floor(calls.length * 0.99)];
  // The same carts through WebGPU (suggestAsync on an engine forced onto it), where the page
  // has an adapter.
  let gpu = null;
  if (navigator.gpu && (await navigator.gpu.requestAdapter())) {
    const onGpu = await mod.Engine.load(bytes, { backend: "webgpu" });
    if (onGpu.info().backend === "webgpu") {
      for (const c of carts.slice(0, 10)) await onGpu.suggestAsync(c, { k: 5 });
      const times = [];
      for (const c of carts.slice(0, 100)) {
        const t = performance.now();
        await onGpu.suggestAsync(c, { k: 5 });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      gpu = { p50: times[50], p99: times[98], fallbacks: onGpu.info().gpuFallbacks };
    }
    onGpu.free();
  }
  return { bytes: bytes.length, init, loaded, loadMs, suggested, scored, suggestMs, p50, p99, gpu };
}

const env = await launch({ webgpu: process.env.CARTWISE_BENCH_WEBGPU === "1" });
try {
  console.log("wasm memory (MiB; peak so far after each step): export, bytes, init, fromBytes (+growth), suggest with 20 newItems, modelScores");
  const runs = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const path of exports) {
      for (const pkg of pkgs) {
        const page = await env.browser.newPage();
        await page.goto(`${env.base}/www/demo/blank.html`);
        const r = await page.evaluate(measure, [pkg, path]);
        await page.close();
        const key = `${path} ${pkg}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }
  for (const [key, rs] of runs) {
    const m = (f) => median(rs.map(f));
    const scored = rs[0].scored === null ? "no model" : mib(m((r) => r.scored));
    console.log(`  ${key}, ${rs[0].bytes} B: init ${mib(m((r) => r.init))}, fromBytes ${mib(m((r) => r.loaded))} ` +
      `(+${mib(m((r) => r.loaded - r.init))}, ${m((r) => r.loadMs).toFixed(1)} ms), suggest ${mib(m((r) => r.suggested))}, modelScores ${scored}; ` +
      `suggest() batched mean ${m((r) => r.suggestMs).toFixed(3)} ms, p50 ${m((r) => r.p50).toFixed(2)} ms, p99 ${m((r) => r.p99).toFixed(2)} ms` +
      (rs[0].gpu ? `; WebGPU suggestAsync p50 ${m((r) => r.gpu.p50).toFixed(2)} ms, p99 ${m((r) => r.gpu.p99).toFixed(2)} ms` : ""));
  }
} finally {
  await env.close();
}
