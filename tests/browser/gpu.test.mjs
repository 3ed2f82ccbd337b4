// The WGSL catalog-scoring kernel on WebGPU in Chromium: with `--enable-unsafe-webgpu` Chromium
// exposes a SwiftShader adapter and the kernel must rank exactly as the CPU kernel; without the
// flag there is no adapter and the probe must say so (never a silent skip).
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
