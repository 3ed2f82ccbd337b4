// A second browser: the demo's element end to end in Firefox ESR (Debian's firefox-esr), driven
// through WebDriver BiDi by puppeteer-core: load, suggest, add a discounted bundle.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { startServer } from "../../www/demo/serve.mjs";

let server, browser, base;
before(async () => {
  server = await startServer(0);
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
    headless: true,
  });
});
after(async () => {
  await browser?.close();
  await new Promise((ok) => server?.close(ok));
});

test("Firefox ESR: item -> discounted bundle -> add bundle, with the wasm engine in a worker", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/www/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
  assert.match(await page.$eval("#status", (el) => el.textContent), /2000 products/);
  const firstId = await page.$eval(".product", (el) => el.dataset.id);
  await page.click(".product button");
  await page.waitForFunction(
    (id) => document.getElementById("bundles").bundlesCart?.includes(id),
    { timeout: 30_000 }, firstId);
  const added = await page.evaluate(() => {
    const el = document.getElementById("bundles");
    const card = [...el.shadowRoot.querySelectorAll(".bundle")].find((c) => c.querySelector(".discount"));
    if (!card) return null;
    card.querySelector("button").click();
    return card.dataset.items.split(",");
  });
  assert.ok(added, "a discounted bundle was suggested");
  assert.ok(!added.includes(firstId), "a bundle never offers what is in the cart");
  await page.waitForFunction(
    (ids) => ids.every((id) => document.querySelector(`#cart li[data-id="${id}"]`)),
    { timeout: 10_000 }, added);
  assert.equal(await page.$$eval("#cart li.discount", (els) => els.length), 1);
  assert.deepEqual(errors, []);
  await page.close();
});
