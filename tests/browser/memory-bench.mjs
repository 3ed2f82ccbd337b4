// Browser benchmark: the wasm linear memory an engine takes, per export. Each export loads in a
// fresh page (a fresh wasm instance): linear memory only grows, so its size after a step is the
// peak up to that step. Figures: after init, after Engine.fromBytes, after a first suggest()
// with new products (the look-alike title table), after modelScores() (the model's full logits);
// then suggest()'s batched mean time over 300 carts.
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
  const t2 = performance.now();
  for (const c of carts) engine.suggest(c, { k: 5 });
  const suggestMs = (performance.now() - t2) / carts.length;
  return { bytes: bytes.length, init, loaded, loadMs, suggested, scored, suggestMs };
}

const env = await launch();
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
      `suggest() batched mean ${m((r) => r.suggestMs).toFixed(3)} ms`);
  }
} finally {
  await env.close();
}
