// The element in a real shop's page: imported during server-side rendering, given a cart before
// it is defined, numeric ids, blocked storage, history only with consent and recorded once per
// cart change across page loads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./harness.mjs";

let env;
before(async () => { env = await launch(); });
after(async () => env?.close());

test("importing the element during server-side rendering defines nothing and throws nothing", async () => {
  assert.equal(typeof globalThis.HTMLElement, "undefined", "Node has no DOM");
  const mod = await import("../../www/lib/cartwise-bundles.js");
  assert.equal(typeof mod.CartwiseBundles, "function");
});

test("a cart set before the element is defined is kept; numeric ids are accepted", async () => {
  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${env.base}/www/demo/blank.html`);
  const got = await page.evaluate(async () => {
    const el = document.createElement("cartwise-bundles");
    el.setAttribute("model", "/model-export/synth.cwm");
    el.setAttribute("backend", "cpu");
    el.cart = { items: [{ id: "SKU00001", qty: 1 }] }; // before customElements.define
    document.body.append(el);
    await import("/www/lib/cartwise-bundles.js");
    await el.ready;
    const deadline = Date.now() + 20_000;
    while (!el.bundlesCart && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    const offeredFor = el.bundlesCart;
    el.cart = { items: [{ id: 42, qty: 1 }, 7] };
    return { offeredFor, items: el.cart.items, history: el.history, stored: localStorage.length };
  });
  assert.deepEqual(got.offeredFor, ["SKU00001"], "the early cart was adopted and suggested for");
  assert.deepEqual(got.items, [{ id: "42", qty: 1 }, "7"]);
  assert.equal(got.history, null, "history is off until the page turns it on");
  assert.equal(got.stored, 0, "nothing stored without consent");
  assert.deepEqual(errors, []);
  await page.close();
});

test("history: on with consent, each cart item recorded once across page loads, erased when turned off", async () => {
  const context = await env.browser.newContext();
  const load = async () => {
    const page = await context.newPage();
    await page.goto(`${env.base}/www/demo/blank.html`);
    await page.evaluate(async () => {
      await import("/www/lib/cartwise-bundles.js");
      const el = document.createElement("cartwise-bundles");
      el.setAttribute("model", "/model-export/synth.cwm");
      el.setAttribute("backend", "cpu");
      document.body.append(el);
      el.consent();
      el.cart = { items: [{ id: "SKU00001", qty: 1 }, { id: "SKU00002", qty: 1 }] };
      window.el = el;
    });
    return page;
  };
  const first = await load();
  const events = () => first.evaluate(() => window.el.history.events().map((e) => `${e.kind}:${e.id}`));
  assert.deepEqual((await events()).sort(), ["cart:SKU00001", "cart:SKU00002"]);
  const second = await load(); // the shop sets the same cart on the next page load
  assert.equal((await events()).length, 2, "not recorded again");
  await second.close();
  await first.evaluate(() => window.el.removeAttribute("history"));
  const after = await first.evaluate(() => ({ history: window.el.history, stored: localStorage.getItem("cartwise:history") }));
  assert.deepEqual(after, { history: null, stored: null }, "turning history off erased it");
  await context.close();
});

test("blocked storage never reaches the page", async () => {
  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${env.base}/www/demo/blank.html`);
  const got = await page.evaluate(async () => {
    Object.defineProperty(window, "localStorage", { get() { throw new DOMException("blocked", "SecurityError"); } });
    await import("/www/lib/cartwise-bundles.js");
    const el = document.createElement("cartwise-bundles");
    el.setAttribute("model", "/model-export/synth.cwm");
    el.setAttribute("backend", "cpu");
    el.setAttribute("history", "on");
    document.body.append(el);
    el.cart = { items: [{ id: "SKU00001", qty: 1 }] };
    el.history.record("view", "SKU00002");
    await el.ready;
    return { events: el.history.events().length, ids: el.history.ids() };
  });
  assert.deepEqual(got, { events: 0, ids: [] });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a trap (a panic) in the engine fails that call with its message, and the next call is answered", async () => {
  const { enginePage } = await import("./harness.mjs");
  const { page } = await enginePage(env.browser, env.base);
  const got = await page.evaluate(async () => {
    const el = await window.mountBundles("/model-export/synth.cwm", ["SKU00001"]);
    const errors = [];
    el.addEventListener("cartwise-error", (e) => errors.push(e.detail.message));
    let message = null;
    try {
      await el.client.call({ type: "__panicForTests", message: "forced by the test" });
    } catch (e) {
      message = e.message;
    }
    // The element's next cart change is answered by a fresh instance of the same export.
    el.cart = { items: [{ id: "SKU00040", qty: 1 }] };
    const deadline = Date.now() + 20_000;
    while (!el.bundlesCart?.includes("SKU00040") && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    const direct = await el.client.suggest({ items: ["SKU00002"] }, { k: 3, month: 6 });
    const out = { message, bundles: el.bundles.length, cart: el.bundlesCart, direct: direct.bundles.length, errors };
    // In the page itself (no worker): the trap is a RuntimeError, the hook keeps the message.
    let trap = null;
    try {
      window.cw.__panicForTests("page-level panic");
    } catch (e) {
      trap = { runtimeError: e instanceof WebAssembly.RuntimeError, panic: globalThis.cartwisePanic };
    }
    return { ...out, trap };
  });
  assert.match(got.message, /^cartwise panicked at src\/wasm\.rs:\d+: forced by the test$/);
  assert.deepEqual(got.cart, ["SKU00040"]);
  assert.ok(got.bundles > 0 && got.direct > 0, JSON.stringify(got));
  assert.deepEqual(got.errors, []);
  assert.equal(got.trap.runtimeError, true);
  assert.match(got.trap.panic, /page-level panic/);
  await page.close();
});

test("floods from page script are JS Errors naming the budget, and the engine answers after", async () => {
  const { enginePage } = await import("./harness.mjs");
  const { page } = await enginePage(env.browser, env.base);
  const got = await page.evaluate(() => {
    const engine = window.engine;
    const attempt = (cart, options = {}) => {
      const start = performance.now();
      try {
        engine.suggest(cart, { month: 6, ...options });
        return { error: null };
      } catch (e) {
        return { error: `${e instanceof Error}:${e.message}`, ms: performance.now() - start };
      }
    };
    const ids = Array.from({ length: 100_000 }, (_, i) => `SKU${String(i % 2000 + 1).padStart(5, "0")}`);
    let deep = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const megabyte = "x".repeat(1 << 20);
    const out = {
      cart: attempt({ items: ids }),
      history: attempt({ items: ["SKU00001"], history: ids }),
      newItems: attempt({ items: ["SKU00001"] }, {
        newItems: Array.from({ length: 10_000 }, (_, i) => ({ id: `NEW-${i}`, title: megabyte, category: "Home" })),
      }),
      megabyteTitle: attempt({ items: ["SKU00001"] }, {
        newItems: Array.from({ length: 10 }, (_, i) => ({ id: `NEW-${i}`, title: megabyte, category: "Home" })),
      }),
      nested: attempt({ items: deep }),
      bigPrice: attempt({ items: ["SKU00001"] }, {
        newItems: [{ id: "NEW-1", title: "Mug", category: "Home", price: 2n ** 63n - 1n }],
      }),
      exclude: attempt({ items: ["SKU00001"] }, { exclude: ids }),
      title: attempt({ items: [{ id: "NEW-1", qty: 1, title: "y".repeat(2_000) }] }),
    };
    out.after = engine.suggest({ items: ["SKU00001"] }, { month: 6, k: 3 }).bundles.length;
    return out;
  });
  assert.match(got.cart.error, /^true:.*cart\.items: 100000 entries is over the budget of 500/);
  assert.match(got.history.error, /^true:.*cart\.history: 100000 entries is over the budget of 500/);
  assert.match(got.newItems.error, /^true:.*option newItems: 10000 entries is over the budget of 1000/);
  assert.match(got.megabyteTitle.error, /^true:.*a string of 1048576 characters/);
  assert.match(got.nested.error, /^true:.*nested deeper than 32 levels/);
  assert.match(got.bigPrice.error, /^true:.*newItems\[0\]\.price: 9223372036854775807 is over the largest amount/);
  assert.match(got.exclude.error, /^true:.*option exclude: 100000 entries is over the budget of 1000/);
  assert.match(got.title.error, /^true:.*cart\.items\[0\]\.title: 2000 bytes is over the budget of 1000/);
  assert.ok(got.after > 0, "the same engine answers a normal cart");
  const ms = Object.entries(got).filter(([, v]) => v?.ms !== undefined).map(([k, v]) => `${k} ${v.ms.toFixed(1)} ms`);
  console.log(`# flood refusals: ${ms.join(", ")}`);
  await page.close();
});
