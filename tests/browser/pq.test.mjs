// An export whose model item vectors are product-quantized (`train --pq`): the wasm engine ranks
// with the codes exactly as the native CLI does, and WebGPU (SwiftShader, the WGSL PQ kernel)
// exactly as the CPU kernel, both in the probe and in suggestAsync on a forced-WebGPU engine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, enginePage } from "./harness.mjs";

const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
const MODEL = "model-export/pq-test.cwm";
let env, page, errors;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cartwise-pq-"));
  execFileSync(CLI, ["synth", "--out", dir, "--items", "600", "--orders", "6000", "--customers", "600"]);
  execFileSync(CLI, ["train", "--orders", join(dir, "orders.csv"), "--products", join(dir, "products.csv"),
    "--transformer", "--epochs", "2", "--dim", "32", "--pq", "8", "--ease-max-items", "0", "--out", MODEL]);
  env = await launch({ webgpu: true });
  ({ page, errors } = await enginePage(env.browser, env.base));
  await page.evaluate(async (model) => {
    window.pqBytes = new Uint8Array(await (await fetch("/" + model)).arrayBuffer());
    window.pqEngine = window.cw.Engine.fromBytes(window.pqBytes);
  }, MODEL);
});
after(async () => env?.close());

/** The carts of the test: one, two and three items over the shop's products. */
async function carts() {
  const ids = (await page.evaluate(() => window.pqEngine.products(0, 600))).map((p) => p.id);
  return Array.from({ length: 60 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, j) => ids[(i * 7 + j * 101) % ids.length]));
}

test("wasm suggest on a product-quantized export equals native `cartwise suggest`", async () => {
  const info = await page.evaluate(() => window.pqEngine.info());
  assert.equal(info.modelDims, 32);
  const list = await carts();
  const dir = mkdtempSync(join(tmpdir(), "cartwise-pq-carts-"));
  const file = join(dir, "carts.jsonl");
  writeFileSync(file, list.map((items) => JSON.stringify({ items })).join("\n") + "\n");
  const native = execFileSync(CLI, ["suggest", "--model", MODEL, "--carts", file, "--k", "10", "--month", "6"], { encoding: "utf8" })
    .trimEnd().split("\n").map((l) => JSON.parse(l));
  const wasm = await page.evaluate(
    (list) => list.map((items) => window.pqEngine.suggest({ items: items.map((id) => ({ id, qty: 1 })) }, { k: 10, month: 6 })),
    list,
  );
  let bundles = 0;
  for (let c = 0; c < list.length; c++) {
    assert.deepEqual(wasm[c].items, native[c].items, `ranking for ${JSON.stringify(list[c])}`);
    assert.deepEqual(wasm[c].bundles.map((b) => b.items.map((i) => i.id)), native[c].bundles.map((b) => b.items.map((i) => i.id)));
    assert.deepEqual(wasm[c].bundles.map((b) => b.bundlePrice), native[c].bundles.map((b) => b.bundlePrice));
    bundles += wasm[c].bundles.length;
  }
  assert.ok(bundles > 0, "bundles were produced");
});

test("WebGPU ranks the product-quantized table exactly as the CPU kernel, and suggestAsync as suggest", async () => {
  const found = await page.evaluate(() => window.pqEngine.probeGpu(16));
  assert.equal(found.error, null, `the WebGPU path did not run: ${found.error}`);
  assert.equal(found.identical, true, "GPU top-10 equals CPU top-10 for every query");
  assert.equal(found.rows, 600);
  const list = await carts();
  const out = await page.evaluate(async (list) => {
    const engine = await window.cw.Engine.load(window.pqBytes, { backend: "webgpu" });
    let mismatches = 0;
    for (const items of list) {
      const cart = { items: items.map((id) => ({ id, qty: 1 })) };
      const options = { k: 8, month: 6 };
      const [a, b] = [await engine.suggestAsync(cart, options), engine.suggest(cart, options)];
      if (JSON.stringify(a) !== JSON.stringify(b)) mismatches++;
    }
    const info = engine.info();
    engine.free();
    return { info, mismatches };
  }, list);
  assert.equal(out.info.backend, "webgpu", out.info.backendReason);
  assert.equal(out.info.gpuFallbacks, 0);
  assert.equal(out.mismatches, 0, "suggestAsync on WebGPU equals suggest on the CPU for every cart");
  assert.deepEqual(errors, []);
});
