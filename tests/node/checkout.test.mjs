// Checkout on the shop's server, in Node with the same wasm package: the README's example
// accepts the engine's own bundles and refuses every cheaper, ineligible or forged one, and
// the native `cartwise verify` agrees with wasm `verifyBundle` on every allowed price.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkoutFor, checkoutServer, MAX_BODY } from "../../examples/checkout.mjs";

const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
const dir = mkdtempSync(join(tmpdir(), "cartwise-checkout-"));
// The synthetic shop with rules a checkout must enforce: an excluded item and category, a
// pinned bundle at a fixed price, 12% at most.
const MODEL = join(dir, "shop.cwm");
let shop, engine, ids, excluded, priceOf;

/** A small deterministic generator, so failures reproduce. */
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

before(() => {
  const rules = {
    maxDiscountBp: 1200, minMarginBp: 2500, excludedItems: ["SKU00007"], excludedCategories: ["Pets"],
    pinned: [{ when: ["SKU00001"], items: ["SKU00002", "SKU00003"] }],
  };
  writeFileSync(join(dir, "rules.json"), JSON.stringify(rules));
  execFileSync(CLI, ["train", "--fast", "--orders", ".shop/orders.csv", "--products", ".shop/products.csv",
    "--rules", join(dir, "rules.json"), "--ease-max-items", "0", "--out", MODEL]);
  shop = checkoutFor(MODEL);
  engine = shop.engine;
  const products = engine.products(0, engine.info().catalogSize);
  priceOf = new Map(products.map((p) => [p.id, p.price]));
  ids = products.filter((p) => p.price !== null && p.category !== "Pets" && p.id !== "SKU00007").map((p) => p.id);
  excluded = "SKU00007";
});

/** An order for a cart plus one bundle the engine proposed for it, with the event's claim. */
function order(cart, bundle, price = bundle.bundlePrice, items = bundle.items.map((i) => i.id)) {
  return {
    items: [...cart, ...items].map((id) => ({ id, qty: 1 })),
    bundles: [{ cart, bundle: { items, bundlePrice: price }, exportDigest: shop.digest }],
  };
}

test("the checkout example accepts the engine's own bundles for 1,000 carts and refuses cheaper, excluded and forged ones", () => {
  const next = rng(7);
  let accepted = 0;
  let discounted = 0;
  for (let c = 0; c < 1000; c++) {
    const cart = Array.from({ length: 1 + (c % 3) }, () => ids[Math.floor(next() * ids.length)])
      .filter((id, i, all) => all.indexOf(id) === i);
    const out = engine.suggest({ items: cart.map((id) => ({ id, qty: 1 })) }, { k: 3, month: 1 + (c % 12) });
    for (const b of out.bundles) {
      const good = shop.checkout(order(cart, b));
      assert.ok(good.ok, `cart ${cart}: ${JSON.stringify(good)}`);
      assert.equal(good.bundles[0].allowedPrice, b.bundlePrice);
      const cartTotal = cart.reduce((s, id) => s + priceOf.get(id), 0);
      assert.equal(good.total, cartTotal + b.bundlePrice, "the order pays the bundle's price");
      accepted += 1;
      if (b.discount > 0) {
        discounted += 1;
        const cheaper = shop.checkout(order(cart, b, b.bundlePrice - 1));
        assert.ok(!cheaper.ok && /is below/.test(cheaper.bundles[0].reason), JSON.stringify(cheaper));
        assert.equal(cheaper.total, good.total + b.discount, "a refused bundle is charged at list price");
      }
      // One add-on swapped for an item the rules exclude, at the same price.
      const swapped = [excluded, ...b.items.slice(1).map((i) => i.id)];
      const bad = shop.checkout(order(cart, b, b.bundlePrice, swapped));
      assert.ok(!bad.ok && /excluded/.test(bad.bundles[0].reason), JSON.stringify(bad));
      // A forged list: one more add-on than the engine offered, at the offered price.
      const extra = ids.find((id) => !cart.includes(id) && !b.items.some((i) => i.id === id));
      const forged = shop.checkout(order(cart, b, b.bundlePrice, [...b.items.map((i) => i.id), extra]));
      assert.ok(!forged.ok, JSON.stringify(forged));
    }
  }
  assert.ok(accepted > 1500 && discounted > 500, `${accepted} bundles, ${discounted} discounted`);
  // An offer made with another export, or for items the order does not hold, is refused.
  const [b] = engine.suggest({ items: [{ id: ids[0], qty: 1 }] }, { k: 1, month: 5 }).bundles;
  const other = order([ids[0]], b);
  other.bundles[0].exportDigest = "sha256-AAAA";
  assert.ok(!shop.checkout(other).ok);
  const missing = order([ids[0]], b);
  missing.items = missing.items.slice(0, 1);
  assert.ok(!shop.checkout(missing).ok);
});

test("native `cartwise verify` and wasm verifyBundle agree on 10,000 random offers", () => {
  const next = rng(11);
  const pick = () => ids[Math.floor(next() * ids.length)];
  const all = engine.products(0, engine.info().catalogSize).map((p) => p.id);
  const offers = [];
  for (let n = 0; n < 10000; n++) {
    const cart = Array.from({ length: 1 + Math.floor(next() * 3) }, pick);
    // Mostly the engine's own bundles (where prices are discounted), the rest random items
    // (excluded and unpriced ones included) at random prices.
    let bundle;
    const own = n % 2 === 0 && engine.suggest({ items: cart }, { k: 3, month: 6 }).bundles[n % 3];
    if (own) {
      bundle = { items: own.items.map((i) => i.id), bundlePrice: own.bundlePrice - (n % 4 === 0 ? 1 : 0) };
    } else {
      const items = Array.from({ length: 1 + Math.floor(next() * 3) }, () => all[Math.floor(next() * all.length)]);
      bundle = { items, bundlePrice: Math.floor(next() * 20000) };
    }
    offers.push({ cart, bundle });
  }
  const file = join(dir, "offers.jsonl");
  writeFileSync(file, offers.map((o) => JSON.stringify(o)).join("\n") + "\n");
  const native = execFileSync(CLI, ["verify", "--model", MODEL, "--offers", file], { maxBuffer: 1 << 28 })
    .toString().trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(native.length, offers.length);
  let ok = 0;
  let priced = 0;
  for (let n = 0; n < offers.length; n++) {
    const wasm = engine.verifyBundle(offers[n]);
    assert.deepEqual(wasm, native[n], `offer ${n}: ${JSON.stringify(offers[n])}`);
    ok += wasm.ok ? 1 : 0;
    priced += wasm.allowedPrice !== null ? 1 : 0;
  }
  assert.ok(ok > 2000 && ok < 9000 && priced > 8000, `${ok} accepted, ${priced} priced`);
  console.log(`verify agreement: ${offers.length} offers, ${ok} accepted, ${priced} with an allowed price, native = wasm on every one`);
});

test("the checkout server answers a hostile mix with verdicts, 200 concurrent orders at once, and refuses oversized bodies", async () => {
  const server = checkoutServer(shop.checkout);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/checkout`;
  const post = async (body) => {
    const res = await fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
    return { status: res.status, answer: await res.json() };
  };
  try {
    const cart = ids.slice(0, 2);
    const [b] = engine.suggest({ items: cart.map((id) => ({ id, qty: 1 })) }, { k: 1, month: 3 }).bundles;
    const good = order(cart, b);
    const { status, answer } = await post(good);
    assert.equal(status, 200, JSON.stringify(answer));
    const bigCart = Array.from({ length: 501 }, (_, k) => ids[k % ids.length]);
    const hostile = [
      [{ ...good, bundles: [{ ...good.bundles[0], bundle: { items: ["NO-SUCH-ITEM"], bundlePrice: 1 } }] }, 409, /not in the export|not in this order/],
      [{ items: [...good.items, ...bigCart.map((id) => ({ id, qty: 1 }))], bundles: [{ cart: bigCart, bundle: good.bundles[0].bundle }] }, 409, /cart/],
      [order(cart, b, b.bundlePrice - 1), 409, /is below/],
      [order(cart, b, 0), 409, /is below/],
      [{ ...good, bundles: [{ ...good.bundles[0], exportDigest: "sha256-forged" }] }, 409, /another export/],
      [{ ...good, bundles: [{ cart, bundle: { items: b.items.map((i) => i.id), bundlePrice: "free" } }] }, 409, /./],
      [{ ...good, bundles: [{ cart, bundle: { items: b.items.map((i) => i.id) } }] }, 409, /bundlePrice/],
      [{ items: 7 }, 400, /./],
      [null, 400, /./],
      ["{not json", 400, /not JSON/],
    ];
    for (const [body, want, reason] of hostile) {
      const { status, answer } = await post(body);
      assert.equal(status, want, `${JSON.stringify(body).slice(0, 200)} → ${JSON.stringify(answer)}`);
      assert.equal(answer.ok, want === 200);
      const said = answer.error ?? answer.bundles?.map((v) => v.reason).join("; ") ?? "";
      assert.match(said, reason, JSON.stringify(answer));
    }
    // Concurrent orders: every one answered, and the same as one at a time.
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(good)));
    assert.ok(answers.every((a) => a.status === 200 && a.answer.total === answer.total));
    // A body over the limit is refused before it is read whole, by its declared length or as it
    // streams in without one; either way the connection is closed.
    const oversized = (declared) => new Promise((resolve, reject) => {
      const body = "[" + " ".repeat(MAX_BODY);
      const headers = declared ? { "Content-Length": Buffer.byteLength(body) } : {};
      const req = http.request(url, { method: "POST", headers }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", (e) => (["ECONNRESET", "EPIPE"].includes(e.code) ? resolve("reset") : reject(e)));
      req.end(body);
    });
    for (const declared of [true, false]) {
      const got = await oversized(declared);
      assert.ok(got === 413 || got === "reset", `oversized body (length declared: ${declared}): ${got}`);
    }
    // The server still answers after all of it.
    assert.equal((await post(good)).status, 200);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});
