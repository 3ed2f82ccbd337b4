// Shared browser-test harness: the demo server on a free loopback port and Debian's Chromium
// driven by playwright-core.
import { chromium } from "playwright-core";
import { startServer } from "../../www/demo/serve.mjs";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Starts the static server (with `headers` on every response) and a browser; returns
 * {base, browser, close}. */
export async function launch({ webgpu = false, headers = {} } = {}) {
  const server = await startServer(0, { headers });
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: webgpu ? [...CHROMIUM_ARGS, "--enable-unsafe-webgpu"] : CHROMIUM_ARGS,
  });
  return {
    base,
    browser,
    async close() {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** Opens a blank page on the server's origin with the wasm package initialised as `window.cw`. */
export async function enginePage(browser, base) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(`${base}/www/demo/blank.html`);
  await page.evaluate(async () => {
    const mod = await import("/pkg/cartwise.js");
    await mod.default();
    window.cw = mod;
    const bytes = new Uint8Array(await (await fetch("/model-export/synth.cwm")).arrayBuffer());
    window.exportBytes = bytes;
    window.engine = mod.Engine.fromBytes(bytes);
    // Mounts a <cartwise-bundles> on the CPU backend with `attributes` (and `properties`),
    // gives it `items`, and resolves once it has answered for that cart.
    window.mountBundles = async (model, items, attributes = {}, properties = {}) => {
      await import("/www/lib/cartwise-bundles.js");
      const el = document.createElement("cartwise-bundles");
      for (const [name, value] of Object.entries({ model, backend: "cpu", ...attributes })) el.setAttribute(name, value);
      Object.assign(el, properties);
      document.body.append(el);
      el.cart = { items: items.map((id) => ({ id, qty: 1 })) };
      await el.ready;
      const deadline = Date.now() + 20_000;
      while (!el.bundlesCart && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      return el;
    };
  });
  return { page, errors };
}
