// The wasm Engine in real Chromium: same answers as the native CLI, errors as JS Errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, enginePage } from "./harness.mjs";

const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
const MODEL = process.env.CARTWISE_MODEL ?? "model-export/synth.cwm";
let env, page;

before(async () => {
  env = await launch();
  ({ page } = await enginePage(env.browser, env.base));
});
after(async () => env?.close());

test("engine.info describes the export", async () => {
  const info = await page.evaluate(() => window.engine.info());
  assert.equal(info.catalogSize, 2000);
  assert.equal(info.backend, "cpu");
  assert.equal(info.exportVersion, 1);
  assert.ok(info.orders > 40000, `orders ${info.orders}`);
  assert.ok(info.neighbours > 1000);
});

test("wasm suggest equals native `cartwise suggest` on the same carts", async () => {
  const ids = (await page.evaluate(() => window.engine.products(0, 400))).map((p) => p.id);
  const carts = [];
  for (let i = 0; i < 60; i++) carts.push([ids[i * 5]]);
  for (let i = 0; i < 40; i++) carts.push([ids[i], ids[399 - i]]);
  for (let i = 0; i < 20; i++) carts.push([ids[i * 3], ids[i * 3 + 1], ids[i * 3 + 2]]);
  // Planted complement: the espresso machine, and carts with unknown ids or nothing at all.
  carts.push(["SKU00001"], ["SKU00001", "NOT-A-SKU"], ["NOT-A-SKU"], []);
  const dir = mkdtempSync(join(tmpdir(), "cartwise-parity-"));
  const file = join(dir, "carts.jsonl");
  writeFileSync(file, carts.map((items) => JSON.stringify({ items })).join("\n") + "\n");
  const out = execFileSync(CLI, ["suggest", "--model", MODEL, "--carts", file, "--k", "10", "--month", "11"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const native = out.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.equal(native.length, carts.length, "one output line per cart");
  const wasm = await page.evaluate(
    (carts) => carts.map((items) => window.engine.suggest({ items: items.map((id) => ({ id, qty: 1 })) }, { k: 10, month: 11 })),
    carts,
  );
  let bundles = 0;
  for (let c = 0; c < carts.length; c++) {
    assert.deepEqual(wasm[c].items, native[c].items, `ranking for cart ${JSON.stringify(carts[c])}`);
    assert.ok(wasm[c].items.length <= 10);
    assert.ok(wasm[c].items.every((id) => !carts[c].includes(id)), "never an item already in the cart");
    const strip = (b) => ({ ...b, score: Math.fround(b.score) });
    assert.deepEqual(wasm[c].bundles.map(strip), native[c].bundles.map(strip), `bundles for cart ${c}`);
    bundles += wasm[c].bundles.length;
  }
  assert.ok(bundles > carts.length, `bundles were produced (${bundles})`);
  const espresso = wasm[carts.length - 4];
  assert.ok(espresso.bundles[0].discount > 0, "the espresso machine's top bundle is discounted");
  assert.deepEqual(wasm[carts.length - 3].unknown, ["NOT-A-SKU"]);
});

test("bad input becomes a JS Error with a message, never a panic", async () => {
  const messages = await page.evaluate(() => {
    const grab = (f) => {
      try {
        f();
        return "no error";
      } catch (e) {
        return `${e instanceof Error}:${e.message}`;
      }
    };
    const bytes = window.exportBytes;
    const flipped = bytes.slice();
    flipped[flipped.length - 10] ^= 0xff;
    const future = bytes.slice();
    future[8] = 9;
    return {
      garbage: grab(() => window.cw.Engine.fromBytes(new Uint8Array([1, 2, 3]))),
      truncated: grab(() => window.cw.Engine.fromBytes(bytes.slice(0, bytes.length - 100))),
      flipped: grab(() => window.cw.Engine.fromBytes(flipped)),
      future: grab(() => window.cw.Engine.fromBytes(future)),
      badCart: grab(() => window.engine.suggest({ items: 5 }, {})),
      badK: grab(() => window.engine.suggest({ items: [] }, { k: 0 })),
      badMonth: grab(() => window.engine.suggest({ items: [] }, { month: 13 })),
      badDiscount: grab(() => window.engine.suggest({ items: [] }, { maxDiscount: 2 })),
      stillWorks: window.engine.suggest({ items: [{ id: "SKU00001" }] }, { k: 2 }).items.length,
    };
  });
  assert.match(messages.garbage, /^true:.*truncated/);
  assert.match(messages.truncated, /^true:.*truncated/);
  assert.match(messages.flipped, /^true:.*corrupted/);
  assert.match(messages.future, /^true:.*newer than this reader/);
  assert.match(messages.badCart, /^true:.*cart/);
  assert.match(messages.badK, /^true:.*option k/);
  assert.match(messages.badMonth, /^true:.*option month/);
  assert.match(messages.badDiscount, /^true:.*maxDiscount/);
  assert.equal(messages.stillWorks, 2, "the engine keeps working after errors");
});
