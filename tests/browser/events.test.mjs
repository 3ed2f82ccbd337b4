// Measurement: impression -> click -> add events carry matching suggestion ids, bubble out of
// the shadow DOM, and a client-side holdout assigns shoppers stably and in the configured share.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./harness.mjs";
import { assignArm } from "../../www/lib/cartwise-bundles.js";

let env;
before(async () => { env = await launch(); });
after(async () => env?.close());

test("the holdout arm is a pure function of the id: about the configured share of 10,000 ids", () => {
  let control = 0;
  for (let i = 0; i < 10_000; i++) {
    const id = `shopper-${i}`;
    const arm = assignArm("bundles-v1:0.1", id);
    assert.equal(arm, assignArm("bundles-v1:0.1", id), "stable");
    control += arm === "control" ? 1 : 0;
  }
  // Binomial(10,000, 0.1): sd 30; 5 sd either way.
  assert.ok(Math.abs(control - 1000) <= 150, `${control} of 10,000 in control`);
  assert.equal(assignArm(null, "x"), null);
  assert.throws(() => assignArm("no-share", "x"), /name:share/);
  assert.throws(() => assignArm("x:1.5", "x"), /name:share/);
});

test("impression -> click -> add carry matching ids; dismiss hides one; events leave the shadow DOM", async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/www/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  await page.evaluate(() => {
    window.events = [];
    for (const type of ["cartwise-impression", "cartwise-click", "cartwise-add-bundle", "cartwise-dismiss"]) {
      document.addEventListener(type, (e) => window.events.push({ type, detail: e.detail, composed: e.composed }));
    }
  });
  const first = page.locator(".product").first();
  const firstId = await first.getAttribute("data-id");
  await first.getByRole("button", { name: "Add to cart" }).click();
  await page.waitForFunction((id) => document.getElementById("bundles").bundlesCart?.includes(id), firstId);
  const card = page.locator("cartwise-bundles .bundle").first();
  const dismissed = await card.getAttribute("data-items");
  await card.getByRole("button", { name: /^Not interested/ }).click();
  const next = page.locator("cartwise-bundles .bundle").first();
  assert.notEqual(await next.getAttribute("data-items"), dismissed, "the dismissed bundle is hidden");
  await next.getByRole("button", { name: /^Add/ }).click();
  const events = await page.evaluate(() => window.events);
  const of = (type) => events.filter((e) => e.type === type);
  const [click] = of("cartwise-click");
  // The set on screen when the shopper clicked: the last impression before the click.
  const impression = events.slice(0, events.indexOf(click)).filter((e) => e.type === "cartwise-impression").at(-1);
  const [add] = of("cartwise-add-bundle");
  const [dismiss] = of("cartwise-dismiss");
  assert.ok(impression && click && add && dismiss, JSON.stringify(events.map((e) => e.type)));
  assert.ok(events.every((e) => e.composed && /^sha256-/.test(e.detail.exportDigest)));
  assert.equal(dismiss.detail.items.join(","), dismissed);
  // The clicked and added suggestion is one of the impression's, same id and position.
  const shown = impression.detail.suggestions.find((s) => s.id === click.detail.id);
  assert.ok(shown, `click ${click.detail.id} not among the impression's ${impression.detail.suggestions.map((s) => s.id)}`);
  assert.equal(add.detail.id, click.detail.id);
  assert.equal(add.detail.position, shown.position);
  assert.deepEqual(add.detail.items.map((i) => i.id), shown.items);
  assert.equal(add.detail.bundlePrice, shown.bundlePrice);
  assert.equal(add.detail.arm, null, "no experiment, no arm");
  await page.close();
});

test("holdout: the control arm sees nothing but its would-be impressions are counted, stably across reloads", async () => {
  const context = await env.browser.newContext();
  const arms = [];
  for (let load = 0; load < 2; load++) {
    const page = await context.newPage();
    await page.goto(`${env.base}/www/demo/blank.html`);
    arms.push(await page.evaluate(async () => {
      const { assignArm } = await import("/www/lib/cartwise-bundles.js");
      // Find a share that puts this device's id in control, to test that arm's behaviour.
      const anon = localStorage.getItem("cartwise:anon");
      const el = document.createElement("cartwise-bundles");
      el.setAttribute("model", "/model-export/synth.cwm");
      el.setAttribute("backend", "cpu");
      el.setAttribute("experiment", "holdout:1");
      const impressions = [];
      el.addEventListener("cartwise-impression", (e) => impressions.push(e.detail));
      document.body.append(el);
      el.cart = { items: [{ id: "SKU00001", qty: 1 }] };
      await el.ready;
      const deadline = Date.now() + 20_000;
      while (!impressions.length && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      return {
        arm: el.arm,
        armWithTenth: assignArm("holdout:0.1", localStorage.getItem("cartwise:anon")),
        hidden: el.hidden,
        cards: el.shadowRoot.querySelectorAll(".bundle").length,
        impression: impressions[0] ?? null,
        anonBefore: anon,
        anonAfter: localStorage.getItem("cartwise:anon"),
      };
    }));
    await page.close();
  }
  const [a, b] = arms;
  assert.equal(a.arm, "control", "share 1 puts everyone in control");
  assert.ok(a.hidden && a.cards === 0, "control sees nothing");
  assert.ok(a.impression?.suggestions.length > 0 && a.impression.arm === "control", "would-be impressions counted");
  assert.equal(b.anonBefore, a.anonAfter, "the anonymous id persists across loads");
  assert.equal(a.armWithTenth, b.armWithTenth, "the arm is stable across loads");
  await context.close();
});
