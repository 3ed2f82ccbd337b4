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
