// The WGSL catalog-scoring kernel on WebGPU in Chromium: with `--enable-unsafe-webgpu` Chromium
// exposes a SwiftShader adapter and the kernel must rank exactly as the CPU kernel, and
// suggestAsync on a WebGPU engine must answer exactly as suggest on the CPU; without the flag
// there is no adapter, and the probe and Engine.load must say so (never a silent skip).
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, enginePage } from "./harness.mjs";

async function probe(webgpu) {
  const env = await launch({ webgpu });
  try {
    const { page, errors } = await enginePage(env.browser, env.base);
    const found = await page.evaluate(() => window.engine.probeGpu(16));
    const backend = await page.evaluate(() => window.engine.info().backend);
    assert.deepEqual(errors, []);
    return { found, backend };
  } finally {
    await env.close();
  }
}

test("WebGPU (SwiftShader) ranks the export's item table exactly as the CPU kernel", async () => {
  const { found } = await probe(true);
  console.log(`webgpu probe: ${JSON.stringify(found)}`);
  assert.equal(found.error, null, `the WebGPU path did not run: ${found.error}`);
  assert.match(found.adapter ?? "", /WebGpu/, "the browser's WebGPU adapter, not a native backend");
  assert.equal(found.identical, true, "GPU top-10 equals CPU top-10 for every query");
  assert.equal(found.queries, 16);
  assert.equal(found.rows, 2000);
  assert.ok(found.gpuMs > 0 && found.cpuMs >= 0);
});

test("without WebGPU the probe reports why and the engine stays on the CPU", async () => {
  const { found, backend } = await probe(false);
  console.log(`no-webgpu probe: ${JSON.stringify(found)}`);
  assert.equal(found.adapter, null);
  assert.match(found.error, /adapter/i);
  assert.equal(found.identical, false);
  assert.equal(found.gpuMs, null);
  assert.equal(backend, "cpu");
});

/** Loads engines by every backend mode and compares suggestAsync with suggest over many carts. */
async function backends(webgpu) {
  const env = await launch({ webgpu });
  try {
    const { page, errors } = await enginePage(env.browser, env.base);
    const out = await page.evaluate(async () => {
      const ids = window.engine.products(0, 2000).map((p) => p.id);
      const carts = Array.from({ length: 40 }, (_, i) => ({
        items: Array.from({ length: 1 + (i % 4) }, (_, j) => ({ id: ids[(i * 37 + j * 101) % ids.length], qty: 1 })),
      }));
      const result = {};
      for (const backend of ["webgpu", "auto", "cpu"]) {
        const engine = await window.cw.Engine.load(window.exportBytes, { backend });
        let mismatches = 0;
        for (const cart of carts) {
          const options = { k: 8, month: 6 };
          const [a, b] = [await engine.suggestAsync(cart, options), engine.suggest(cart, options)];
          if (JSON.stringify(a) !== JSON.stringify(b)) mismatches++;
        }
        result[backend] = { info: engine.info(), mismatches };
        engine.free();
      }
      let rejected = null;
      try {
        await window.cw.Engine.load(window.exportBytes, { backend: "cuda" });
      } catch (e) {
        rejected = e.message;
      }
      const bad = await window.engine.suggestAsync({ items: [] }, { k: 0 }).then(() => null, (e) => e.message);
      return { result, rejected, bad };
    });
    assert.deepEqual(errors, []);
    return out;
  } finally {
    await env.close();
  }
}

test("Engine.load chooses WebGPU when forced or faster, and suggestAsync answers as suggest", async () => {
  const { result, rejected, bad } = await backends(true);
  for (const [mode, r] of Object.entries(result)) console.log(`webgpu flag, backend ${mode}: ${JSON.stringify(r)}`);
  const forced = result.webgpu;
  assert.equal(forced.info.backend, "webgpu", forced.info.backendReason);
  assert.match(forced.info.gpuAdapter ?? "", /WebGpu/);
  assert.match(forced.info.backendReason, /^forced by the caller \(one query over 2000 rows/);
  assert.equal(forced.mismatches, 0, "suggestAsync on WebGPU equals suggest on the CPU for all 40 carts");
  assert.equal(forced.info.gpuFallbacks, 0);
  // auto keeps WebGPU exactly when its calibration median is within GPU_ADVANTAGE (0.8) of the CPU's.
  const auto = result.auto.info;
  const faster = auto.calibration.gpuMs <= auto.calibration.cpuMs * 0.8;
  assert.equal(auto.backend, faster ? "webgpu" : "cpu", auto.backendReason);
  assert.match(auto.backendReason, /^calibration: one query over 2000 rows: WebGPU [\d.]+ ms, CPU [\d.]+ ms/);
  assert.equal(result.auto.mismatches, 0);
  assert.deepEqual([result.cpu.info.backend, result.cpu.info.backendReason, result.cpu.info.calibration], ["cpu", "forced by the caller", null]);
  assert.match(rejected, /load options: .*cuda/);
  assert.match(bad, /option k: 0/);
});

test("without WebGPU, Engine.load({backend: 'webgpu'}) says why and suggestAsync runs on the CPU", async () => {
  const { result } = await backends(false);
  console.log(`no webgpu flag, backend webgpu: ${JSON.stringify(result.webgpu)}`);
  for (const mode of ["webgpu", "auto"]) {
    const { info, mismatches } = result[mode];
    assert.equal(info.backend, "cpu");
    assert.equal(info.gpuAdapter, null);
    assert.match(info.backendReason, /^WebGPU unavailable: no WebGPU adapter/);
    assert.equal(mismatches, 0);
  }
});
