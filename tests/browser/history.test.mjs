// On-device history: the store's retention and weighting (a plain module, run in Node with an
// in-memory Storage), and in Chromium on the demo storefront: the element records what the
// shopper adds, the page records views and purchases, suggestions read it, read / clear /
// disable work, and no request carries or follows from any of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartwiseHistory, HISTORY_DEFAULTS } from "../../www/lib/cartwise-history.js";
import { launch, enginePage } from "./harness.mjs";

/** An in-memory Storage (the subset CartwiseHistory uses). */
function memoryStorage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
    map,
  };
}

const DAY = 86_400_000;

test("history keeps the newest events within age, weights them by kind and decays them", () => {
  const storage = memoryStorage();
  const h = new CartwiseHistory({ storage, maxEvents: 4, maxItems: 3 });
  const now = Date.UTC(2026, 10, 26);
  h.record("view", "A", now - 100 * DAY); // beyond the 90-day retention: gone at the next record
  h.record("view", "B", now - 1 * DAY); // the oldest record once the cap of 4 bites
  h.record("purchase", "C", now - 28 * DAY); // 5 × 0.25 = 1.25 after two half-lives
  h.record("cart", "D", now - 14 * DAY); // 3 × 0.5 = 1.5
  h.record("view", "E", now); // 1
  h.record("view", "B", now); // 1, ties with E: by id
  const events = h.events(now);
  assert.deepEqual(events.map((e) => e.id), ["B", "E", "D", "C"], "newest record first, at most maxEvents");
  assert.deepEqual(events[0], { id: "B", kind: "view", at: now });
  assert.deepEqual(h.ids(now), ["D", "C", "B"], "by decayed weight, at most maxItems");
  assert.deepEqual(h.ids(now + 60 * DAY), ["D", "C", "B"], "decay keeps the order of equally old events");
  assert.deepEqual(h.events(now + 80 * DAY).map((e) => e.id), ["B", "E"], "events older than 90 days are gone");
  assert.throws(() => h.record("like", "X"), /kind must be one of view, cart, purchase/);
  assert.throws(() => h.record("view", ""), /non-empty string/);
  h.disable();
  assert.equal(h.enabled, false);
  assert.equal(storage.getItem(HISTORY_DEFAULTS.key), null, "disabling forgets");
  h.record("purchase", "Z", now);
  assert.deepEqual(h.events(now), [], "nothing is recorded while disabled");
  h.enable();
  h.record("purchase", "Z", now);
  assert.deepEqual(h.ids(now), ["Z"]);
  h.clear();
  assert.deepEqual(h.events(now), []);
  storage.setItem(HISTORY_DEFAULTS.key, "{not json");
  assert.deepEqual(h.events(now), [], "a corrupted entry reads as empty");
});

test("demo: history shapes suggestions, stays on the device, and can be read, cleared and disabled", async () => {
  const env = await launch();
  try {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const requests = [];
    let loaded = false;
    context.on("request", (r) => requests.push({ url: r.url(), body: r.postData(), afterLoad: loaded }));
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${env.base}/www/demo/`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    loaded = true;

    const info = await page.evaluate(() => document.getElementById("bundles").ready);
    assert.ok(info.modelHistory > 0, `the demo model reads history (modelHistory ${info.modelHistory})`);
    const ids = await page.locator(".product").evaluateAll((els) => els.map((e) => e.dataset.id));
    const viewed = ids.slice(10, 16);
    // The shopper viewed six products and bought one; then adds the first product.
    await page.evaluate((viewed) => {
      const h = document.getElementById("bundles").history;
      h.clear();
      for (const id of viewed) h.record("view", id);
      h.record("purchase", viewed[0]);
    }, viewed);
    await page.locator(".product").first().getByRole("button", { name: "Add to cart" }).click();
    await page.waitForFunction(() => document.getElementById("bundles").bundles.length > 0);
    const read = await page.evaluate(() => {
      const h = document.getElementById("bundles").history;
      return { events: h.events(), ids: h.ids(), stored: localStorage.getItem("cartwise:history") !== null };
    });
    assert.equal(read.events.length, 8, "six views, a purchase and the add-to-cart");
    assert.deepEqual(read.events[0].kind, "cart", "the element recorded the add-to-cart, newest first");
    assert.equal(read.events[0].id, ids[0]);
    assert.equal(read.ids[0], viewed[0], "the purchased item ranks first");
    assert.ok(read.stored, "kept in localStorage");

    await page.evaluate(() => {
      const h = document.getElementById("bundles").history;
      h.disable();
      h.record("view", "SKU00001");
    });
    const off = await page.evaluate(() => {
      const h = document.getElementById("bundles").history;
      return { enabled: h.enabled, events: h.events().length, stored: localStorage.getItem("cartwise:history") };
    });
    assert.deepEqual(off, { enabled: false, events: 0, stored: null }, "disable forgets and stops recording");

    // Recording, reading, suggesting with history and disabling made no request at all, and
    // no request before carried a history id.
    assert.deepEqual(requests.filter((r) => r.afterLoad), [], "no request after the export loaded");
    for (const r of requests) {
      for (const id of [...viewed, ids[0]]) {
        assert.ok(!r.url.includes(id) && !(r.body ?? "").includes(id), `request ${r.url} carries history id ${id}`);
      }
    }

    // The same carts with and without that history, on an engine in another page: the
    // model's query differs, and so do some rankings.
    const { page: other } = await enginePage(env.browser, env.base);
    const differs = await other.evaluate((history) => {
      const ids = window.engine.products(0, 2000).map((p) => p.id);
      let changed = 0;
      for (let i = 0; i < 20; i++) {
        const items = [{ id: ids[i * 3], qty: 1 }];
        const a = window.engine.suggest({ items, history }, { k: 10, month: 6 });
        const b = window.engine.suggest({ items }, { k: 10, month: 6 });
        if (JSON.stringify(a.items) !== JSON.stringify(b.items)) changed++;
      }
      return changed;
    }, read.ids);
    assert.ok(differs > 0, "history changed the ranking of some of 20 carts");
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await env.close();
  }
});
