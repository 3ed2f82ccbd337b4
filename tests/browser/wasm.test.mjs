// The wasm Engine in real Chromium: same answers as the native CLI, errors as JS Errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, enginePage } from "./harness.mjs";
import { priceColumn, rawPayload, readSections, writeSections } from "./container.mjs";

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
  assert.equal(info.exportVersion, 10);
  assert.deepEqual(info.currency, { code: "USD", exponent: 2 }, "the synthetic shop prices in dollars");
  assert.equal(info.modelDims, 64, "the demo export carries the basket transformer");
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
  const native = runCli("suggest", carts, ["--k", "10", "--month", "11"]);
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
    assertSameBundles(wasm[c].bundles, native[c].bundles, `cart ${c}`);
    bundles += wasm[c].bundles.length;
  }
  assert.ok(bundles > carts.length, `bundles were produced (${bundles})`);
  const espresso = wasm[carts.length - 4];
  assert.ok(espresso.bundles[0].discount > 0, "the espresso machine's top bundle is discounted");
  assert.deepEqual(wasm[carts.length - 3].unknown, ["NOT-A-SKU"]);
});

/** Bundles equal field by field. Scores carry the transformer's score, whose float sums may
 * round differently in wasm (see the model parity test), so they agree to 1e-5 relative. */
function assertSameBundles(wasm, native, what) {
  const strip = ({ score, ...rest }) => rest;
  assert.deepEqual(wasm.map(strip), native.map(strip), `bundles for ${what}`);
  wasm.forEach((b, i) => {
    const n = native[i].score;
    assert.ok(Math.abs(b.score - n) <= 1e-5 * Math.max(1, Math.abs(n)), `${what}: bundle ${i} score ${b.score} vs ${n}`);
  });
}

/** Writes carts (id lists, or {items, history} objects) as JSONL and runs a CLI subcommand over
 * them; one parsed line per cart. */
function runCli(command, carts, extra) {
  const dir = mkdtempSync(join(tmpdir(), "cartwise-parity-"));
  const file = join(dir, "carts.jsonl");
  const line = (c) => JSON.stringify(Array.isArray(c) ? { items: c } : c);
  writeFileSync(file, carts.map(line).join("\n") + "\n");
  const out = execFileSync(CLI, [command, "--model", MODEL, "--carts", file, ...extra], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.trimEnd().split("\n").map((line) => JSON.parse(line));
}

test("wasm suggest with an on-device history equals native `cartwise suggest` with it", async () => {
  const ids = await page.evaluate(() => window.engine.products(0, 2000).map((p) => p.id));
  const carts = [];
  for (let i = 0; i < 40; i++) {
    const history = Array.from({ length: 1 + (i % 12) }, (_, j) => ids[(i * 53 + j * 29) % ids.length]);
    carts.push({ items: [ids[i * 11]], history });
  }
  carts.push({ items: [ids[0]], history: ["NOT-A-SKU", ids[5]] });
  const native = runCli("suggest", carts, ["--k", "10", "--month", "4"]);
  const wasm = await page.evaluate(
    (carts) => carts.map(({ items, history }) => window.engine.suggest({ items: items.map((id) => ({ id, qty: 1 })), history }, { k: 10, month: 4 })),
    carts,
  );
  let personal = 0;
  for (let c = 0; c < carts.length; c++) {
    assert.deepEqual(wasm[c].items, native[c].items, `ranking for ${JSON.stringify(carts[c])}`);
    assertSameBundles(wasm[c].bundles, native[c].bundles, JSON.stringify(carts[c]));
  }
  const plain = await page.evaluate(
    (carts) => carts.map(({ items }) => window.engine.suggest({ items: items.map((id) => ({ id, qty: 1 })) }, { k: 10, month: 4 }).items),
    carts,
  );
  for (let c = 0; c < carts.length; c++) personal += JSON.stringify(plain[c]) !== JSON.stringify(wasm[c].items);
  assert.ok(personal > 0, `history changed some of ${carts.length} rankings (${personal})`);
  assert.deepEqual(wasm[carts.length - 1].unknownHistory, ["NOT-A-SKU"]);
});

test("cold start: unknown items with a title are read by the model, in wasm as natively", async () => {
  const products = await page.evaluate(() => window.engine.products(0, 2000));
  const carts = [];
  for (let i = 0; i < 20; i++) {
    const twin = products[(i * 97) % products.length];
    const items = [{ id: `NEW-${i}`, qty: 1, title: twin.title }];
    if (i % 2) items.push({ id: products[(i * 31 + 7) % products.length].id, qty: 1 });
    carts.push({ items });
  }
  const native = runCli("suggest", carts, ["--k", "10", "--month", "4"]);
  const wasm = await page.evaluate(
    (carts) => carts.map((cart) => window.engine.suggest(cart, { k: 10, month: 4 })),
    carts,
  );
  for (let c = 0; c < carts.length; c++) {
    assert.deepEqual(wasm[c].coldStart, [`NEW-${c}`], "the title was read");
    assert.equal(wasm[c].unknown, undefined);
    assert.deepEqual(wasm[c].items, native[c].items, `ranking for ${JSON.stringify(carts[c])}`);
    assertSameBundles(wasm[c].bundles, native[c].bundles, JSON.stringify(carts[c]));
  }
  const empty = await page.evaluate(() => window.engine.suggest({ items: [] }, { k: 10, month: 4 }).items);
  assert.ok(wasm.some((w, c) => c % 2 === 0 && JSON.stringify(w.items) !== JSON.stringify(empty)),
    "a title-only cart is answered from its title, not as an empty cart");
});

test("new products passed as newItems are ranked, bundled and explained, in wasm as natively", async () => {
  const products = await page.evaluate(() => window.engine.products(0, 2000));
  // Twenty products the export has never seen, titled like real ones but under new ids.
  const newItems = Array.from({ length: 20 }, (_, i) => {
    const like = products[(i * 89 + 13) % products.length];
    return { id: `NEW-${i}`, title: `${like.title} Mk${i}`, category: like.category, price: like.price };
  });
  const carts = [];
  for (let i = 0; i < 30; i++) carts.push([products[(i * 61) % products.length].id]);
  const dir = mkdtempSync(join(tmpdir(), "cartwise-new-"));
  const file = join(dir, "new-items.json");
  writeFileSync(file, JSON.stringify(newItems));
  const native = runCli("suggest", carts, ["--k", "10", "--month", "4", "--new-items", file]);
  const wasm = await page.evaluate(
    ({ carts, newItems }) => carts.map((items) => window.engine.suggest(
      { items: items.map((id) => ({ id, qty: 1 })) }, { k: 10, month: 4, newItems })),
    { carts, newItems },
  );
  const isNew = (id) => id.startsWith("NEW-");
  let explained = 0;
  for (let c = 0; c < carts.length; c++) {
    assert.deepEqual(wasm[c].items, native[c].items, `ranking for ${carts[c]}`);
    assertSameBundles(wasm[c].bundles, native[c].bundles, `cart ${carts[c]}`);
    assert.ok(wasm[c].items.some(isNew), `a place of the 10 holds a new item (${wasm[c].items})`);
    for (const b of wasm[c].bundles) {
      for (const item of b.items.filter((i) => isNew(i.id))) {
        const given = newItems.find((n) => n.id === item.id);
        assert.equal(item.title, given.title);
        assert.equal(item.price, given.price);
        assert.ok(b.reasons.some((r) => r.startsWith(`${given.title} is new here: its title reads like`)), JSON.stringify(b.reasons));
        explained += 1;
      }
    }
  }
  assert.ok(explained > 0, "some bundles hold a new item");
  const error = await page.evaluate(({ known }) => {
    try {
      window.engine.suggest({ items: [] }, { newItems: [{ id: known, title: "Again", category: "x" }] });
      return "no error";
    } catch (e) {
      return `${e instanceof Error}:${e.message}`;
    }
  }, { known: products[0].id });
  assert.match(error, /^true:.*newItems\[0\]\.id: item ".*" is already in the export's catalog/);
});

test("wasm transformer forward equals the native forward: logits within tolerance, same top-10", async () => {
  const ids = (await page.evaluate(() => window.engine.products(0, 2000))).map((p) => p.id);
  const carts = [];
  for (let i = 0; i < 40; i++) carts.push([ids[i * 7]]);
  for (let i = 0; i < 40; i++) carts.push([ids[i], ids[1999 - i], ids[1000 + i]]);
  // Longer than the model's window (15 items): both builds must cut it the same way.
  carts.push(ids.slice(100, 120), []);
  const native = runCli("score", carts, ["--k", "10"]);
  assert.equal(native.length, carts.length, "one output line per cart");
  const wasm = await page.evaluate(
    (carts) => carts.map((items) => window.engine.modelScores({ items }, 10)),
    carts,
  );
  let worst = 0;
  for (let c = 0; c < carts.length; c++) {
    assert.equal(wasm[c].items.length, 10);
    assert.deepEqual(wasm[c].items, native[c].items, `model top-10 for cart ${c}`);
    for (let r = 0; r < 10; r++) worst = Math.max(worst, Math.abs(wasm[c].scores[r] - native[c].scores[r]));
    assert.ok(wasm[c].items.every((id) => !carts[c].includes(id)), "never an item already in the cart");
  }
  // Both builds dequantize the same Q8_0 weights and run candle's f32 forward; only the
  // order of float additions may differ.
  assert.ok(worst < 1e-3, `largest logit difference ${worst}`);
  console.log(`model parity: ${carts.length} carts, identical top-10, largest logit difference ${worst.toExponential(2)}`);
});

test("merchant rules and stock passed from JS hold in wasm suggest", async () => {
  const got = await page.evaluate(() => {
    const cart = { items: [{ id: "SKU00001", qty: 1 }] };
    const plain = window.engine.suggest(cart, { k: 5, month: 6 });
    const [first, second] = plain.bundles.map((b) => b.items[0].id);
    const pinnedItem = window.engine.products(0, 2000).map((p) => p.id).find(
      (id) => id !== "SKU00001" && id !== first && id !== second && !plain.items.includes(id));
    const stock = Object.fromEntries(plain.items.map((id, n) => [id, n + 3]));
    stock[first] = 0;
    stock[pinnedItem] = 7;
    const ruled = window.engine.suggest(cart, {
      k: 5, month: 6, exclude: [second], stock, priceEnding: "99",
      pinned: [{ when: ["SKU00001"], items: [pinnedItem] }],
    });
    const percent = window.engine.suggest(cart, { k: 5, month: 6, discountForm: "percent" });
    let error = "no error";
    try {
      window.engine.suggest(cart, { pinned: [{ items: [pinnedItem], price: 99999999 }] });
    } catch (e) {
      error = `${e instanceof Error}:${e.message}`;
    }
    return { first, second, pinnedItem, stock, ruled, percent, error };
  });
  const { first, second, pinnedItem, stock, ruled, percent, error } = got;
  const ids = ruled.bundles.flatMap((b) => b.items.map((i) => i.id));
  assert.ok(!ids.includes(first), `out-of-stock ${first} suggested`);
  assert.ok(!ids.includes(second) && !ruled.items.includes(second), `excluded ${second} suggested`);
  assert.deepEqual(ruled.bundles[0].items.map((i) => i.id), [pinnedItem], "the pinned bundle comes first");
  assert.equal(ruled.bundles[0].reasons[0], "Picked by the shop");
  assert.equal(ruled.bundles[0].stock, 7);
  let discounted = 0;
  for (const b of ruled.bundles) {
    assert.equal(b.bundlePrice, b.basePrice - b.discount);
    if (b.items.every((i) => i.id in stock)) {
      assert.equal(b.stock, Math.min(...b.items.map((i) => stock[i.id])));
    }
    if (b.discount > 0) {
      discounted += 1;
      assert.equal(b.bundlePrice % 100, 99, `price ending of ${JSON.stringify(b)}`);
    }
  }
  for (const b of percent.bundles.filter((b) => b.discount > 0)) {
    discounted += 1;
    const percents = Array.from({ length: 100 }, (_, p) => Math.floor((b.basePrice * (p + 1) + 50) / 100));
    assert.ok(percents.includes(b.discount), `discount form of ${JSON.stringify(b)}`);
  }
  assert.ok(discounted > 1, "bundles should be discounted under these rules");
  assert.match(error, /^true:.*pinned\[0\]\.price.*priced by the export's rules/);
});

test("page script may only tighten the export's rules: every loosening is an Error naming the limit", async () => {
  // An export whose rules are not the defaults: 10% at most, 25% margin, whole percents, x.99.
  const rules = {
    maxDiscountBp: 1000, minMarginBp: 2500, discountForm: "percent", priceEnding: "99",
    noDiscountCategories: ["Coffee"],
  };
  const rulesFile = join(mkdtempSync(join(tmpdir(), "cartwise-rules-")), "rules.json");
  writeFileSync(rulesFile, JSON.stringify(rules));
  execFileSync(CLI, ["train", "--fast", "--orders", ".shop/orders.csv", "--products", ".shop/products.csv",
    "--rules", rulesFile, "--ease-max-items", "0", "--out", "model-export/ruled-test.cwm"]);
  const got = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch("/model-export/ruled-test.cwm")).arrayBuffer());
    const engine = window.cw.Engine.fromBytes(bytes);
    const cart = { items: [{ id: "SKU00001", qty: 1 }] };
    const grab = (options, c = cart) => {
      try {
        engine.suggest(c, { month: 6, ...options });
        return "no error";
      } catch (e) {
        return `${e instanceof Error}:${e.message}`;
      }
    };
    const id = engine.products(0, 3).map((p) => p.id)[2];
    return {
      maxDiscount: grab({ maxDiscount: 1 }),
      minMargin: grab({ minMargin: 0 }),
      pinned: grab({ pinned: [{ items: [id], price: 1 }] }),
      newItemCost: grab({ newItems: [{ id: "NEW-1", title: "Free Mug", category: "Home", price: 900, cost: 0 }] }),
      discountForm: grab({ discountForm: "any" }),
      otherForm: grab({ discountForm: "amount" }),
      priceEnding: grab({ priceEnding: "whole" }),
      typo: grab({ maxDiscout: 0.05 }),
      cartTypo: grab({}, { items: [{ id: "SKU00001", quantity: 2 }] }),
      // Tightening is fine, and what the export allows at most still holds.
      tight: engine.suggest(cart, { month: 6, maxDiscount: 0.05, minMargin: 0.5, k: 10 }),
      // Whole-percent discounts landing on x.99 are rare: look at many carts.
      plain: engine.products(0, 60).flatMap((p) =>
        engine.suggest({ items: [{ id: p.id, qty: 1 }] }, { month: 6, k: 10 }).bundles),
    };
  });
  assert.match(got.maxDiscount, /^true:.*maxDiscount: 1 \(100%\) is above the export's maximum discount 10%/);
  assert.match(got.minMargin, /^true:.*minMargin: 0 \(0%\) is below the export's minimum margin 25%/);
  assert.match(got.pinned, /^true:.*pinned\[0\]\.price: .*priced by the export's rules/);
  assert.match(got.newItemCost, /^true:.*newItems\[0\]\.cost: new items are never discounted/);
  assert.match(got.discountForm, /^true:.*discountForm: "any" would loosen the export's discount form "percent"/);
  assert.match(got.otherForm, /^true:.*discountForm: "amount" would loosen the export's discount form "percent"/);
  assert.match(got.priceEnding, /^true:.*priceEnding: "whole" would loosen the export's price ending "99"/);
  assert.match(got.typo, /^true:.*unknown field `maxDiscout`/);
  assert.match(got.cartTypo, /^true:.*unknown field `quantity`/);
  let discounted = 0;
  for (const b of got.plain) {
    assert.ok(b.discount * 10000 <= b.basePrice * 1000, `over 10%: ${JSON.stringify(b)}`);
    if (b.discount > 0) {
      discounted += 1;
      assert.equal(b.bundlePrice % 100, 99, `price ending of ${JSON.stringify(b)}`);
    }
  }
  assert.ok(discounted > 0, "the ruled export still discounts");
  for (const b of got.tight.bundles) {
    assert.ok(b.discount * 10000 <= b.basePrice * 500, `over the tightened 5%: ${JSON.stringify(b)}`);
  }
});

test("a page that pins the shop's public key refuses an export not signed by it, or altered after", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cartwise-sign-"));
  const key = join(dir, "shop.key");
  const publicKey = execFileSync(CLI, ["keygen", "--out", key]).toString().trim();
  assert.match(publicKey, /^[0-9a-f]{64}$/);
  const otherKey = execFileSync(CLI, ["keygen", "--out", join(dir, "other.key")]).toString().trim();
  const train = (out, sign) => execFileSync(CLI, ["train", "--fast", "--orders", ".shop/orders.csv", "--products",
    ".shop/products.csv", "--ease-max-items", "0", "--out", out, ...(sign ? ["--sign", key] : [])]);
  train("model-export/signed-test.cwm", true);
  train("model-export/unsigned-test.cwm", false);
  // One price changed in the catalog, every checksum fixed, the signature kept.
  const signed = new Uint8Array(readFileSync("model-export/signed-test.cwm"));
  const sections = readSections(signed);
  assert.equal(sections.at(-1).tag, "SIGN");
  const catl = sections.find((s) => s.tag === "CATL");
  const raw = rawPayload(catl).slice();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { at } = priceColumn(raw);
  const price = view.getBigInt64(at, true);
  view.setBigInt64(at, price - 100n, true);
  catl.payload = raw;
  catl.flags &= ~2;
  writeFileSync("model-export/tampered-test.cwm", writeSections(sections, new DataView(signed.buffer).getUint32(8, true)));

  const got = await page.evaluate(async ({ publicKey, otherKey }) => {
    const fetchBytes = async (name) => new Uint8Array(await (await fetch(`/model-export/${name}`)).arrayBuffer());
    const grab = (f) => {
      try {
        f();
        return "loaded";
      } catch (e) {
        return `${e instanceof Error}:${e.message}`;
      }
    };
    const [signed, unsigned, tampered] = await Promise.all(
      ["signed-test.cwm", "unsigned-test.cwm", "tampered-test.cwm"].map(fetchBytes));
    const E = window.cw.Engine;
    // The element refuses it too, and says so in a cartwise-error event.
    await import("/www/lib/cartwise-bundles.js");
    const el = document.createElement("cartwise-bundles");
    el.setAttribute("model", "/model-export/tampered-test.cwm");
    el.setAttribute("public-key", publicKey);
    const elementError = new Promise((ok) => el.addEventListener("cartwise-error", (e) => ok(e.detail.message)));
    document.body.append(el);
    return {
      signed: grab(() => E.fromBytes(signed, { publicKey })),
      otherKey: grab(() => E.fromBytes(signed, { publicKey: otherKey })),
      unsigned: grab(() => E.fromBytes(unsigned, { publicKey })),
      tampered: grab(() => E.fromBytes(tampered, { publicKey })),
      tamperedUnpinned: grab(() => E.fromBytes(tampered)),
      badKey: grab(() => E.fromBytes(signed, { publicKey: "abc" })),
      loadTampered: await E.load(tampered, { backend: "cpu", publicKey }).then(() => "loaded", (e) => `${e instanceof Error}:${e.message}`),
      element: await elementError,
    };
  }, { publicKey, otherKey });
  assert.equal(got.signed, "loaded");
  assert.match(got.otherKey, /^true:.*not by the pinned key/);
  assert.match(got.unsigned, /^true:.*not signed/);
  assert.match(got.tampered, /^true:.*does not verify: the file was altered after signing/);
  assert.equal(got.tamperedUnpinned, "loaded", "only a pinned key catches a well-formed forgery");
  assert.match(got.badKey, /^true:.*public key must be 64 hex digits/);
  assert.match(got.loadTampered, /^true:.*does not verify/);
  assert.match(got.element, /does not verify/);
});

test("product images and pages from products.csv reach the bundles and the element; script links never do", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cartwise-links-"));
  const [header, ...rows] = readFileSync(".shop/products.csv", "utf8").trim().split("\n");
  const linked = rows.map((row, i) => {
    const id = row.split(",")[0];
    // One product carries a script URL: train leaves it out and reports it.
    const url = i === 1 ? "javascript:alert(1)" : `/products/${id}`;
    return `${row},/img/${id}.jpg,${url}`;
  });
  const products = join(dir, "products.csv");
  writeFileSync(products, [`${header},image_url,url`, ...linked].join("\n") + "\n");
  execFileSync(CLI, ["train", "--fast", "--orders", ".shop/orders.csv", "--products", products,
    "--ease-max-items", "0", "--out", "model-export/links-test.cwm", "--rejects", join(dir, "rejects.csv")]);
  const rejects = readFileSync(join(dir, "rejects.csv"), "utf8");
  assert.match(rejects, /bad link.*javascript:alert\(1\)/);
  const got = await page.evaluate(async () => {
    const el = await window.mountBundles("/model-export/links-test.cwm", ["SKU00001"]);
    const root = el.shadowRoot;
    const result = {
      items: el.bundles.flatMap((b) => b.items),
      links: [...root.querySelectorAll("a[part=item-link]")].map((a) => a.getAttribute("href")),
      images: [...root.querySelectorAll("img[part=item-image]")].map((i) => i.getAttribute("src")),
      scripts: [...root.querySelectorAll("a")].filter((a) => /^javascript:/i.test(a.getAttribute("href"))).length,
    };
    el.remove();
    return result;
  });
  assert.ok(got.items.length > 0);
  for (const item of got.items) {
    assert.equal(item.image, `/img/${item.id}.jpg`);
    assert.ok(item.url === undefined || item.url === `/products/${item.id}`, JSON.stringify(item));
  }
  assert.equal(got.links.length, got.items.filter((i) => i.url).length);
  assert.equal(got.images.length, got.items.length);
  assert.equal(got.scripts, 0);
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
    // One version past the file's own (the demo export is written in the newest one).
    const future = bytes.slice();
    future[8] = bytes[8] + 1;
    return {
      garbage: grab(() => window.cw.Engine.fromBytes(new Uint8Array([1, 2, 3]))),
      truncated: grab(() => window.cw.Engine.fromBytes(bytes.slice(0, bytes.length - 100))),
      flipped: grab(() => window.cw.Engine.fromBytes(flipped)),
      future: grab(() => window.cw.Engine.fromBytes(future)),
      badCart: grab(() => window.engine.suggest({ items: 5 }, {})),
      badK: grab(() => window.engine.suggest({ items: [] }, { k: 0 })),
      badMonth: grab(() => window.engine.suggest({ items: [] }, { month: 13 })),
      badDiscount: grab(() => window.engine.suggest({ items: [] }, { maxDiscount: 2 })),
      noModel: grab(() => window.engine.modelScores({ items: [] }, 0)),
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
  assert.match(messages.noModel, /^true:.*option k/);
  assert.equal(messages.stillWorks, 2, "the engine keeps working after errors");
});
