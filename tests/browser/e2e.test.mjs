// End to end on the demo storefront: add an item, see a discounted bundle, add the bundle;
// no network request after the export has loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch } from "./harness.mjs";

let env;

/** Adds the demo's first product and waits for a discounted bundle suggested for that cart
 * (the element may show bestseller bundles for the empty cart first). */
async function addFirstProduct(page) {
  const first = page.locator(".product").first();
  const firstId = await first.getAttribute("data-id");
  await first.getByRole("button", { name: "Add to cart" }).click();
  await page.waitForFunction((id) => document.getElementById("bundles").bundlesCart?.includes(id), firstId);
  const discounted = page.locator("cartwise-bundles .bundle").filter({ has: page.locator(".discount") }).first();
  await discounted.waitFor({ timeout: 10_000 });
  return { firstId, discounted };
}

before(async () => { env = await launch(); });
after(async () => env?.close());

test("demo: item -> discounted bundle -> add bundle puts its items in the cart, offline after load", async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  let loaded = false;
  context.on("request", (r) => requests.push({ url: r.url(), afterLoad: loaded }));
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${env.base}/www/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  loaded = true;
  assert.ok(requests.some((r) => r.url.endsWith("/model-export/synth.cwm")), "the export was fetched");
  await assert.doesNotReject(page.locator("#status").filter({ hasText: "2000 products" }).waitFor());

  const { firstId, discounted } = await addFirstProduct(page);
  assert.match(await discounted.locator(".discount").innerText(), /^Save \$\d+\.\d\d$/);
  assert.ok((await discounted.locator(".reasons li").count()) > 0, "the bundle says why");
  const bundleIds = (await discounted.getAttribute("data-items")).split(",");
  assert.ok(!bundleIds.includes(firstId), "a bundle never offers what is already in the cart");

  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/demo.png", fullPage: false });

  await discounted.getByRole("button", { name: /^Add/ }).click();
  for (const id of [firstId, ...bundleIds]) {
    await page.locator(`#cart li[data-id="${id}"]`).waitFor({ timeout: 5_000 });
  }
  assert.equal(await page.locator("#cart li.discount").count(), 1, "the bundle discount is in the cart");
  // The element re-suggests for the new cart without offering what is now in it.
  await page.waitForFunction(
    (ids) => {
      const el = document.getElementById("bundles");
      return el.bundles.every((b) => b.items.every((i) => !ids.includes(i.id)));
    },
    [firstId, ...bundleIds],
  );
  // Removing a bundle item withdraws the bundle discount.
  await page.locator(`#cart li[data-id="${bundleIds[0]}"] button`).click();
  assert.equal(await page.locator("#cart li.discount").count(), 0, "discount withdrawn with its item");
  assert.deepEqual(requests.filter((r) => r.afterLoad), [], "no network request after the export loaded");
  assert.deepEqual(errors, []);
  await context.close();
});

test("demo checkout: the server confirms the bundle price it verifies, and refuses one the shopper lowered", async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/www/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  const { discounted } = await addFirstProduct(page);
  await discounted.getByRole("button", { name: /^Add/ }).click();
  await page.locator("#cart li.discount").waitFor();
  const claim = await page.evaluate(() => window.demoCart.discounts[0].claim);
  assert.match(claim.exportDigest, /^sha256-[A-Za-z0-9+/]{43}=$/);
  assert.ok(claim.cart.length >= 1 && claim.bundle.items.length >= 1, JSON.stringify(claim));

  const result = page.locator("#checkout-result");
  await page.getByRole("button", { name: "Check out" }).click();
  await result.filter({ hasText: "Confirmed" }).waitFor();
  const pageTotal = await page.locator("#total").innerText();
  assert.equal(await result.innerText(), `Confirmed by the shop: ${pageTotal}`);

  // From the devtools console: a cent off the bundle. The page shows it; the server does not.
  await page.evaluate(() => {
    const d = window.demoCart.discounts[0];
    d.claim.bundle.bundlePrice -= 1;
    d.amount += 1;
  });
  await page.getByRole("button", { name: "Check out" }).click();
  await result.filter({ hasText: "charges" }).waitFor();
  assert.equal(await result.getAttribute("data-ok"), "false");
  assert.match(await result.innerText(), /is below .*, the lowest price the shop's rules give/);
  await page.close();
});

test("the demo server serves the storefront's files only", async () => {
  for (const path of ["/www/..%2f.git%2fconfig", "/www/%2e%2e/Cargo.toml", "/pkg/../build.sh"]) {
    const response = await fetch(`${env.base}${path}`);
    assert.equal(response.status, 404, path);
  }
  // A malformed escape is a bad request, and the server goes on serving.
  assert.equal((await fetch(`${env.base}/www/%E0%A4%A`)).status, 400);
  assert.equal((await fetch(`${env.base}/www/demo/demo.js`)).status, 200);
});
