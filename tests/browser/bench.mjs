// Browser benchmark: Engine.fromBytes and engine.suggest() latency in Chromium (CPU path), then
// catalog scoring + top-k on both kernels (wasm SIMD CPU vs WebGPU) at 10k / 100k / 1M items.
// Prints medians and p99 over per-call timings; performance.now() is coarsened by Chromium
// (about 0.1 ms), so a batched mean is printed beside them.
import { launch, enginePage } from "./harness.mjs";

const env = await launch();
try {
  const { page } = await enginePage(env.browser, env.base);
  const r = await page.evaluate(() => {
    const pct = (xs, p) => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
    };
    const loads = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      window.cw.Engine.fromBytes(window.exportBytes).free();
      loads.push(performance.now() - t);
    }
    const ids = window.engine.products(0, 2000).map((p) => p.id);
    const carts = [];
    for (let i = 0; i < 1000; i++) {
      const n = 1 + (i % 4);
      carts.push({ items: Array.from({ length: n }, (_, j) => ({ id: ids[(i * 7 + j * 131) % ids.length], qty: 1 })) });
    }
    for (const c of carts.slice(0, 100)) window.engine.suggest(c, { k: 5 }); // warm up
    const calls = [];
    for (let round = 0; round < 3; round++) {
      for (const c of carts) {
        const t = performance.now();
        window.engine.suggest(c, { k: 5 });
        calls.push(performance.now() - t);
      }
    }
    const t = performance.now();
    for (const c of carts) window.engine.suggest(c, { k: 5 });
    const batched = (performance.now() - t) / carts.length;
    return {
      loadMedian: pct(loads, 50),
      suggestMedian: pct(calls, 50),
      suggestP99: pct(calls, 99),
      suggestMean: batched,
      calls: calls.length,
    };
  });
  console.log(`Engine.fromBytes (${(await page.evaluate(() => window.exportBytes.length))} bytes): median ${r.loadMedian.toFixed(2)} ms`);
  console.log(`suggest() over ${r.calls} calls (1-4 item carts, k=5): median ${r.suggestMedian.toFixed(3)} ms, p99 ${r.suggestP99.toFixed(3)} ms, batched mean ${r.suggestMean.toFixed(3)} ms`);
  // What new products cost a call: the same carts with 0, 20 and 200 newItems, interleaved
  // rounds of batched calls (each new item's title is tokenized and scored every call).
  const fresh = await page.evaluate(() => {
    const products = window.engine.products(0, 2000);
    const make = (n) => Array.from({ length: n }, (_, i) => {
      const like = products[(i * 89 + 13) % products.length];
      return { id: `NEW-${i}`, title: `${like.title} Mk${i}`, category: like.category, price: like.price };
    });
    const sizes = [0, 20, 200];
    const sets = sizes.map(make);
    const carts = Array.from({ length: 300 }, (_, i) => ({ items: [{ id: products[(i * 37) % products.length].id, qty: 1 }] }));
    for (const c of carts.slice(0, 30)) window.engine.suggest(c, { k: 5, newItems: sets[2] }); // warm up
    const times = sizes.map(() => []);
    for (let round = 0; round < 5; round++) {
      sets.forEach((newItems, k) => {
        const t = performance.now();
        for (const c of carts) window.engine.suggest(c, { k: 5, newItems });
        times[k].push((performance.now() - t) / carts.length);
      });
    }
    return sizes.map((n, k) => ({ n, median: [...times[k]].sort((a, b) => a - b)[2] }));
  });
  console.log(`suggest() with newItems (batched means, median of 5 interleaved rounds of 300 calls): ${fresh.map((f) => `${f.n} new → ${f.median.toFixed(3)} ms`).join(", ")}`);
  // Optional side-by-side load comparison of other exports (paths served from the repo root,
  // e.g. CARTWISE_BENCH_EXPORTS=model-export/a.cwm,model-export/b.cwm): loads interleaved in one
  // page, so the medians share the same conditions.
  const extra = (process.env.CARTWISE_BENCH_EXPORTS ?? "").split(",").filter(Boolean);
  if (extra.length) {
    const loads = await page.evaluate(async (paths) => {
      const files = [];
      for (const p of paths) files.push(new Uint8Array(await (await fetch("/" + p)).arrayBuffer()));
      const times = files.map(() => []);
      for (let round = 0; round < 15; round++) {
        files.forEach((bytes, k) => {
          const t = performance.now();
          window.cw.Engine.fromBytes(bytes).free();
          times[k].push(performance.now() - t);
        });
      }
      return times.map((xs, k) => ({ bytes: files[k].length, median: [...xs].sort((a, b) => a - b)[7] }));
    }, extra);
    loads.forEach((l, k) => console.log(`Engine.fromBytes ${extra[k]} (${l.bytes} bytes): median ${l.median.toFixed(2)} ms`));
  }
} finally {
  await env.close();
}

// Both catalog-scoring kernels in one page (WebGPU through Chromium's SwiftShader adapter, as a
// GPU-less machine has it): the export's int8 item table repeated to each size, the popular
// items' vectors as queries, k = 10 and k = 101 (what suggest asks: 100 model candidates + cart).
const gpuEnv = await launch({ webgpu: true });
try {
  const { page } = await enginePage(gpuEnv.browser, gpuEnv.base);
  const sizes = (process.env.CARTWISE_BENCH_ROWS ?? "10000,100000,1000000").split(",").map(Number);
  console.log("catalog scoring + top-k, one query (medians, ms): rows, k, CPU (wasm simd128), WebGPU, WebGPU/CPU");
  for (const rows of sizes) {
    for (const k of [10, 101]) {
      const queries = rows >= 1_000_000 ? 5 : 9;
      const r = await page.evaluate(([q, n, k]) => window.engine.probeGpu(q, n, k), [queries, rows, k]);
      if (r.gpuMs === null) {
        console.log(`  ${rows} rows, k ${k}: CPU ${r.cpuMs.toFixed(2)}; WebGPU did not run: ${r.error}`);
        continue;
      }
      console.log(`  ${rows} rows, k ${k}: CPU ${r.cpuMs.toFixed(2)}, WebGPU ${r.gpuMs.toFixed(2)} (${r.tiles} tile(s), ` +
        `${r.adapter}), ratio ${(r.gpuMs / Math.max(r.cpuMs, 0.1)).toFixed(1)}x, identical top-k: ${r.identical}`);
    }
  }
} finally {
  await gpuEnv.close();
}
