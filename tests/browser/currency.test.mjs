// Shops in currencies without cents: a yen shop (no decimals) and a dinar shop (three), made by
// the CLI (`synth --currency`, `train`), priced by the engine in their own minor units and shown
// by the element with exactly the currency's decimals, in English and German.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, enginePage } from "./harness.mjs";

const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
let env, page;

/** A small synthetic shop in `currency` at `rate` per dollar, trained under `rules` into
 * model-export/NAME.cwm (served by the test server). */
function shop(name, currency, rate, rules) {
  const dir = mkdtempSync(join(tmpdir(), `cartwise-${name}-`));
  execFileSync(CLI, ["synth", "--out", dir, "--items", "300", "--orders", "4000", "--customers", "400",
    "--currency", currency, "--rate", String(rate)]);
  const rulesFile = join(dir, "rules.json");
  writeFileSync(rulesFile, JSON.stringify(rules));
  execFileSync(CLI, ["train", "--fast", "--orders", join(dir, "orders.csv"), "--products", join(dir, "products.csv"),
    "--rules", rulesFile, "--ease-max-items", "0", "--out", `model-export/${name}.cwm`]);
  return `/model-export/${name}.cwm`;
}

let yen, dinar;
before(async () => {
  yen = shop("jpy-test", "JPY", 150, { maxDiscountBp: 2000, minMarginBp: 1000 });
  dinar = shop("kwd-test", "KWD", 0.31, { maxDiscountBp: 2000, minMarginBp: 1000, priceEnding: "99" });
  env = await launch();
  ({ page } = await enginePage(env.browser, env.base));
});
after(async () => env?.close());

/** What the engine and the element give for a few carts of `model` in `locale`. */
function shown(model, locale, attributes = {}) {
  return page.evaluate(async ({ model, locale, attributes }) => {
    const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
    const engine = window.cw.Engine.fromBytes(bytes);
    const ids = engine.products(0, 8).map((p) => p.id);
    const direct = engine.suggest({ items: [ids[0]] }, { month: 6, k: 5 });
    const out = { info: engine.info().currency, answer: direct.currency, shown: [], prices: [] };
    for (const id of ids) {
      const el = await window.mountBundles(model, [id], { locale, ...attributes });
      const root = el.shadowRoot;
      for (const b of el.bundles) out.prices.push({ base: b.basePrice, price: b.bundlePrice, discount: b.discount });
      out.shown.push(...[...root.querySelectorAll("[part=bundle-price]")].map((p) => p.textContent));
      out.names = [...root.querySelectorAll("button[part=add-button]")].map((b) => b.getAttribute("aria-label"));
      el.remove();
    }
    // What Intl makes of the engine's figures with the currency's own decimals.
    const { code, exponent } = out.answer;
    const format = new Intl.NumberFormat(locale, {
      style: "currency", currency: code, minimumFractionDigits: exponent, maximumFractionDigits: exponent,
    });
    out.expected = out.prices.map((p) => format.format(p.price / 10 ** exponent));
    return out;
  }, { model, locale, attributes });
}

test("a yen shop prices and shows whole yen", async () => {
  const got = await shown(yen, "en");
  assert.deepEqual(got.info, { code: "JPY", exponent: 0 });
  assert.deepEqual(got.answer, got.info);
  assert.ok(got.prices.length >= 8, `${got.prices.length} bundles`);
  // Synthetic list prices are $x.99 × 150: hundreds to tens of thousands of yen.
  assert.ok(got.prices.every((p) => Number.isInteger(p.price) && p.price >= 100), JSON.stringify(got.prices));
  assert.ok(got.prices.some((p) => p.discount > 0), "some bundle is discounted");
  assert.deepEqual(got.shown, got.expected);
  assert.ok(got.shown.every((t) => /^¥[\d,]+$/.test(t)), got.shown.join(" "));
});

test("a dinar shop prices in fils, ends discounted prices in .990 and shows three decimals", async () => {
  for (const locale of ["en", "de-DE"]) {
    const got = await shown(dinar, locale);
    assert.deepEqual(got.info, { code: "KWD", exponent: 3 });
    const discounted = got.prices.filter((p) => p.discount > 0);
    assert.ok(discounted.length > 0, "some bundle is discounted");
    assert.ok(discounted.every((p) => p.price % 1000 === 990), JSON.stringify(discounted));
    assert.deepEqual(got.shown, got.expected);
    const pattern = locale === "en" ? /^KWD\s[\d,]+\.\d{3}$/ : /^[\d.]+,\d{3}\sKWD$/;
    assert.ok(got.shown.every((t) => pattern.test(t)), got.shown.join(" | "));
  }
});

test("a currency attribute that disagrees with the export shows nothing and says why", async () => {
  const got = await page.evaluate(async (model) => {
    await import("/www/lib/cartwise-bundles.js");
    const el = document.createElement("cartwise-bundles");
    el.setAttribute("model", model);
    el.setAttribute("backend", "cpu");
    el.setAttribute("currency", "USD");
    const error = new Promise((ok) => el.addEventListener("cartwise-error", (e) => ok(e.detail.message)));
    document.body.append(el);
    el.cart = { items: ["SKU00001"] };
    const message = await error;
    const cards = el.shadowRoot.querySelectorAll("[part=bundle]").length;
    el.remove();
    return { message, cards };
  }, yen);
  assert.match(got.message, /export prices in JPY.*says USD/);
  assert.equal(got.cards, 0);
});
