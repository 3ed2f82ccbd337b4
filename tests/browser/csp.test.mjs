// The demo storefront under a strict Content-Security-Policy, as README's "Add Cartwise to your
// shop" states it: no inline scripts or styles, wasm allowed by 'wasm-unsafe-eval' alone. The
// widget styles itself through a constructed stylesheet, so it renders styled; without
// 'wasm-unsafe-eval' the engine cannot start and the element says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./harness.mjs";

const STRICT = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "object-src 'none'",
  "base-uri 'none'",
].join("; ");

/** Opens the demo under `policy`; returns the page, its CSP violations and console errors. */
async function demoUnder(policy) {
  const env = await launch({ headers: { "Content-Security-Policy": policy } });
  const page = await env.browser.newPage();
  const violations = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(`${env.base}/www/demo/`);
  return { env, page, violations };
}

test("under a strict CSP the widget loads, suggests and is styled, with no violation", async () => {
  const { env, page, violations } = await demoUnder(STRICT);
  try {
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    await page.locator(".product").first().getByRole("button", { name: "Add to cart" }).click();
    const bundle = page.locator("cartwise-bundles .bundle").first();
    await bundle.waitFor({ timeout: 10_000 });
    // Values only the widget's own stylesheet sets: it was applied, not blocked.
    const style = await bundle.evaluate((b) => {
      const s = getComputedStyle(b);
      return { radius: s.borderTopLeftRadius, border: s.borderTopStyle };
    });
    assert.deepEqual(style, { radius: "10px", border: "solid" });
    assert.deepEqual(violations, []);
  } finally {
    await env.close();
  }
});

test("without 'wasm-unsafe-eval' the engine cannot start and the element reports it", async () => {
  const { env, page } = await demoUnder(STRICT.replace(" 'wasm-unsafe-eval'", ""));
  try {
    const status = page.locator("#status").filter({ hasText: "Error:" });
    await status.waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /WebAssembly|wasm|Content Security Policy/i);
  } finally {
    await env.close();
  }
});
