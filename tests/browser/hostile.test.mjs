// Crafted exports in Chromium: each is taken apart, altered and put back with valid checksums
// (as a forger would), and `Engine.fromBytes` must refuse it with an Error naming the section
// and the bound, while the same page goes on loading a good export. Covers model-export/FORMAT.md,
// "Errors and bounds".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { deflateRawSync } from "node:zlib";
import { launch, enginePage } from "./harness.mjs";
import { priceColumn, rawPayload, readSections, writeSections } from "./container.mjs";

const MODEL = process.env.CARTWISE_MODEL ?? "model-export/synth.cwm";
let env, page;
before(async () => {
  env = await launch();
  ({ page } = await enginePage(env.browser, env.base));
});
after(async () => env?.close());

const good = new Uint8Array(readFileSync(MODEL));
const version = new DataView(good.buffer, good.byteOffset).getUint32(8, true);

// The fuzz seed: a small export with every section, EASE included.
const small = new Uint8Array(readFileSync("fuzz/seeds/small.cwm"));

/** The demo export (or `from`) with section `tag`'s raw payload changed by `alter` (stored raw). */
function craft(tag, alter, from = good) {
  const sections = readSections(from);
  const section = sections.find((s) => s.tag === tag);
  section.payload = alter(rawPayload(section).slice());
  section.flags &= ~2;
  return writeSections(sections, version);
}

/** MODL with the GGUF metadata value of `key` (a u32) set to `value`. */
function modelWith(key, value) {
  return craft("MODL", (gguf) => {
    // A GGUF key is a u64 length and its bytes, then a u32 value type (4 = u32) and the value.
    const name = new TextEncoder().encode(key);
    const at = gguf.findIndex((_, i) => name.every((b, k) => gguf[i + k] === b) && gguf[i - 8] === name.length);
    assert.ok(at > 0, `${key} is in the GGUF metadata`);
    const view = new DataView(gguf.buffer, gguf.byteOffset);
    assert.equal(view.getUint32(at + name.length, true), 4, `${key} is a u32`);
    view.setUint32(at + name.length + 4, value, true);
    return gguf;
  });
}

/** What loading each crafted file in the page gives: the Error's message, or "loaded". */
async function loadAll(files) {
  return page.evaluate(async (files) => {
    const out = {};
    for (const [name, bytes] of Object.entries(files)) {
      try {
        window.cw.Engine.fromBytes(new Uint8Array(bytes));
        out[name] = "loaded";
      } catch (e) {
        out[name] = `${e instanceof Error}:${e.message}`;
      }
    }
    out.afterwards = window.cw.Engine.fromBytes(window.exportBytes)
      .suggest({ items: ["SKU00001"] }, { month: 6, k: 3 }).bundles.length;
    return out;
  }, Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Array.from(v)])));
}

test("crafted exports are Errors at load, and the page loads a good one after", async () => {
  const negativePrice = craft("CATL", (raw) => {
    new DataView(raw.buffer, raw.byteOffset).setBigInt64(priceColumn(raw).at, -100n, true);
    return raw;
  });
  // 64 MiB of zeros stored in about 64 KiB, flagged DEFLATE.
  const sections = readSections(good);
  const catl = sections.find((s) => s.tag === "CATL");
  const zeros = Buffer.alloc(64 << 20);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(zeros.length), true);
  catl.payload = new Uint8Array([...length, ...deflateRawSync(zeros, { level: 9 })]);
  catl.flags |= 2;
  const bomb = writeSections(sections, version);
  const got = await loadAll({
    negativePrice,
    bomb,
    dim0: modelWith("cartwise.dim", 0),
    heads0: modelWith("cartwise.heads", 0),
    hugeDim: modelWith("cartwise.dim", 0x7fffffff),
    hugeCart: modelWith("cartwise.max_cart", 1 << 30),
    // EASE: u32 lambda, u32 n, u32 offsets[n + 1], then f32 row scales: the first set to NaN.
    nanScale: craft("EASE", (raw) => {
      const view = new DataView(raw.buffer, raw.byteOffset);
      view.setFloat32(8 + 4 * (view.getUint32(4, true) + 1), NaN, true);
      return raw;
    }, small),
  });
  assert.match(got.negativePrice, /^true:.*CATL.*price -100 is outside 0 to 1000000000000000/);
  assert.match(got.bomb, /^true:.*CATL.*compression bomb/);
  assert.match(got.dim0, /^true:.*MODL.*dim 0 is outside 1..=1024/);
  assert.match(got.heads0, /^true:.*MODL.*heads 0 is outside 1..=64/);
  assert.match(got.hugeDim, /^true:.*MODL.*dim 2147483647 is outside/);
  assert.match(got.hugeCart, /^true:.*MODL.*max_cart 1073741824 is outside/);
  assert.match(got.nanScale, /^true:.*EASE.*row 0's scale NaN is not a finite/);
  assert.ok(got.afterwards > 0, "a good export still loads and answers");
});
