// Accessibility of the demo storefront and the element: axe-core finds no WCAG 2.2 A/AA
// violation in light and dark mode (nor in the second theme), and the widget works from the
// keyboard alone with focus kept where the shopper was.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch } from "./harness.mjs";

const AXE = readFileSync("node_modules/axe-core/axe.min.js", "utf8");
let env;
before(async () => { env = await launch(); });
after(async () => env?.close());

async function demoWithBundles() {
  const page = await env.browser.newPage();
  await page.goto(`${env.base}/www/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return page;
}

test("axe-core: no WCAG 2.2 AA violation on the demo, light and dark, both widget themes", async () => {
  const page = await demoWithBundles();
  await page.locator(".product").first().getByRole("button", { name: "Add to cart" }).click();
  await page.locator("cartwise-bundles .bundle").first().waitFor();
  await page.addScriptTag({ content: AXE });
  for (const theme of ["", "theme-warm"]) {
    await page.selectOption("#theme", theme);
    for (const colorScheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme });
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, {
          runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
        });
        return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
      });
      assert.deepEqual(violations, [], `${theme || "default"} theme, ${colorScheme}`);
    }
  }
  // The suggestions are announced politely, and each button says which bundle it adds.
  const status = await page.evaluate(() => {
    const root = document.querySelector("cartwise-bundles").shadowRoot;
    const live = root.querySelector("[aria-live=polite]");
    return { text: live.textContent, label: root.querySelector(".bundle button").getAttribute("aria-label") };
  });
  assert.match(status.text, /^\d+ bundles? suggested for your cart$/);
  assert.match(status.label, /^Add (bundle|to cart): .+ for \$\d+\.\d\d$/);
  await page.close();
});

test("keyboard only: Tab to a product and a bundle, Enter adds each, focus stays in the widget", async () => {
  const page = await demoWithBundles();
  // Where focus is, through the element's shadow root.
  const focus = () => page.evaluate(() => {
    const active = document.activeElement;
    const inner = active?.shadowRoot?.activeElement;
    return {
      widget: active?.tagName === "CARTWISE-BUNDLES",
      label: (inner ?? active)?.getAttribute?.("aria-label") ?? (inner ?? active)?.textContent ?? "",
      product: active?.closest?.(".product")?.dataset.id ?? null,
    };
  });
  const tabUntil = async (ok, limit = 80) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press("Tab");
      const f = await focus();
      if (ok(f)) return f;
    }
    throw new Error("Tab never reached the target");
  };
  const product = await tabUntil((f) => f.product !== null);
  await page.keyboard.press("Enter");
  await page.locator(`#cart li[data-id="${product.product}"]`).waitFor();
  await page.locator("cartwise-bundles .bundle").first().waitFor();
  const bundle = await tabUntil((f) => f.widget && f.label.startsWith("Add"));
  const linesBefore = await page.locator("#cart li").count();
  await page.keyboard.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#cart li").length > n, linesBefore);
  // The element re-renders for the new cart; focus stays on one of its buttons, not <body>.
  await page.waitForFunction(() => {
    const el = document.querySelector("cartwise-bundles");
    return el.bundles.every((b) => b.items.every((i) => !document.querySelector(`#cart li[data-id="${i.id}"]`)));
  });
  const after = await focus();
  assert.ok(after.widget && after.label.startsWith("Add"), `focus after adding ${bundle.label}: ${JSON.stringify(after)}`);
  await page.close();
});
