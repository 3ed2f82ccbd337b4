// The npm package as a storefront team meets it: `npm pack`, install the tarball into a fresh
// project, bundle a page with esbuild, and run the element from the bundle in Chromium. Also a
// publint-style check: every entry point, type file and relative import ships in the tarball.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "./harness.mjs";

const ROOT = resolve(".");
const MODEL = process.env.CARTWISE_MODEL ?? "model-export/synth.cwm";
const work = mkdtempSync(join(tmpdir(), "cartwise-package-"));
let tarball, shipped, app;

before(() => {
  // pkg/ is already built by the test run; `prepack` (./build.sh wasm) is what builds it for a
  // real `npm publish`.
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work]).toString();
  const [info] = JSON.parse(out);
  tarball = join(work, info.filename);
  shipped = new Set(info.files.map((f) => f.path));
  app = join(work, "shop");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "shop", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], { cwd: app });
});

test("the tarball ships every entry point, type file and relative import, and licenses", () => {
  const pkg = JSON.parse(readFileSync("package.json"));
  const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e)));
  for (const target of [...targets, pkg.main, pkg.types]) {
    assert.ok(shipped.has(target.replace(/^\.\//, "")), `${target} is not in the tarball`);
  }
  for (const file of shipped) {
    if (![".js", ".ts"].includes(extname(file))) continue;
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const [, spec] of text.matchAll(/(?:import|from)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = join(dirname(file), spec).replace(/\.js$/, extname(file) === ".ts" ? ".d.ts" : ".js");
      const alt = join(dirname(file), spec);
      assert.ok(shipped.has(target) || shipped.has(alt), `${file} imports ${spec}, which is not shipped`);
    }
  }
  for (const f of ["LICENSE-MIT", "LICENSE-APACHE", "www/lib/cartwise-worker.js", "www/lib/cartwise-history.js"]) {
    assert.ok(shipped.has(f), `${f} missing`);
  }
  assert.deepEqual(pkg.sideEffects, ["./www/lib/cartwise-bundles.js"]);
  assert.equal(pkg.scripts.prepack, "./build.sh wasm");
  assert.ok(![...shipped].some((f) => f.startsWith("src/") || f.startsWith("tests/") || f.endsWith(".cwm")));
});

/** A static server for `dir` on a loopback port, with `headers` on every response. */
async function staticServer(dir, headers = {}) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const file = join(dir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(dir)) return res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { ...headers, "Content-Type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

/** Serves `dir` (its index.html with "CDN" replaced by the base of a second origin serving
 * `cdn`, when given), opens it in Chromium and waits until the element has bundles or an
 * error; returns what the page shows and requested. */
async function runShop(dir, { cdn } = {}) {
  const servers = [];
  if (cdn) {
    const other = await staticServer(cdn, { "Access-Control-Allow-Origin": "*" });
    servers.push(other.server);
    const index = join(dir, "index.html");
    writeFileSync(index, readFileSync(index, "utf8").replaceAll("CDN", other.base));
  }
  const shop = await staticServer(dir);
  servers.push(shop.server);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const requests = [];
    page.on("request", (r) => requests.push(r.url().replace(shop.base, "")));
    await page.goto(`${shop.base}/`);
    await page.waitForFunction(() => document.querySelector("cartwise-bundles").bundles?.length > 0 || document.body.dataset.error, null, { timeout: 30_000 });
    const got = await page.evaluate(() => ({
      error: document.body.dataset.error ?? null,
      bundles: document.querySelector("cartwise-bundles").bundles.length,
      cards: document.querySelector("cartwise-bundles").shadowRoot.querySelectorAll(".bundle").length,
    }));
    return { ...got, errors, requests };
  } finally {
    await browser.close();
    for (const server of servers) await new Promise((ok) => server.close(ok));
  }
}

/** Gives the element a cart once the export is loaded, and records a load error. */
const CART_JS = [
  'const el = document.querySelector("cartwise-bundles");',
  'el.addEventListener("cartwise-ready", () => { el.cart = { items: [{ id: "SKU00001", qty: 1 }] }; });',
  'el.addEventListener("cartwise-error", (e) => { document.body.dataset.error = e.detail.message; });',
].join("\n");

/** The shop's page script: imports the element by package name and gives it a cart. */
const PAGE_JS = `import "cartwise/element";\n${CART_JS}`;

test("tarball -> fresh project -> esbuild bundle -> the element suggests in Chromium", async () => {
  // esbuild bundles the page and, as a second entry, the worker (with the wasm glue), and the
  // wasm file is copied beside them.
  const out = join(app, "public");
  mkdirSync(out);
  writeFileSync(join(app, "page.js"), PAGE_JS);
  execFileSync(join(ROOT, "node_modules/.bin/esbuild"), [
    "page.js", "node_modules/cartwise/www/lib/cartwise-worker.js",
    "--bundle", "--format=esm", "--outdir=public", "--entry-names=[name]", "--log-level=warning",
  ], { cwd: app });
  copyFileSync(join(app, "node_modules/cartwise/pkg/cartwise_bg.wasm"), join(out, "cartwise_bg.wasm"));
  copyFileSync(MODEL, join(out, "shop.cwm"));
  writeFileSync(join(out, "index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head><body>
<cartwise-bundles model="shop.cwm" k="3" backend="cpu" worker-url="cartwise-worker.js" wasm-url="cartwise_bg.wasm"></cartwise-bundles>
<script type="module" src="page.js"></script></body></html>`);
  const got = await runShop(out);
  assert.equal(got.error, null);
  assert.ok(got.bundles > 0 && got.cards === got.bundles, JSON.stringify(got));
  assert.ok(got.requests.includes("/cartwise-worker.js") && got.requests.includes("/cartwise_bg.wasm"), got.requests.join(" "));
  assert.deepEqual(got.errors, []);
});

test("tarball -> fresh project -> Vite build -> the element suggests, worker and wasm found by Vite", async () => {
  // No worker-url or wasm-url: Vite follows `new Worker(new URL(…, import.meta.url))` in the
  // element and `new URL("cartwise_bg.wasm", import.meta.url)` in the glue, and emits both.
  const site = join(app, "vite-site");
  mkdirSync(join(site, "public"), { recursive: true });
  writeFileSync(join(site, "page.js"), PAGE_JS);
  copyFileSync(MODEL, join(site, "public", "shop.cwm"));
  writeFileSync(join(site, "index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head><body>
<cartwise-bundles model="/shop.cwm" k="3" backend="cpu"></cartwise-bundles>
<script type="module" src="/page.js"></script></body></html>`);
  writeFileSync(join(site, "vite.config.js"), 'export default { worker: { format: "es" }, logLevel: "warn" };');
  execFileSync(join(ROOT, "node_modules/.bin/vite"), ["build", "--outDir", "dist"], { cwd: site });
  const got = await runShop(join(site, "dist"));
  assert.equal(got.error, null);
  assert.ok(got.bundles > 0 && got.cards === got.bundles, JSON.stringify(got));
  assert.ok(got.requests.some((r) => /\/assets\/cartwise-worker[-.\w]*\.js$/.test(r)), got.requests.join(" "));
  assert.ok(got.requests.some((r) => /\/assets\/cartwise_bg[-.\w]*\.wasm$/.test(r)), got.requests.join(" "));
  assert.deepEqual(got.errors, []);
});

test("the element served from another origin (a CDN) starts its worker through a blob and runs", async () => {
  // Only the page and the export are on the shop's origin; the package's files come from a
  // second origin, as from a CDN. A worker cannot be started from another origin directly.
  const site = join(app, "cdn-site");
  mkdirSync(site);
  writeFileSync(join(site, "cart.js"), CART_JS);
  copyFileSync(MODEL, join(site, "shop.cwm"));
  writeFileSync(join(site, "index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head><body>
<cartwise-bundles model="shop.cwm" k="3" backend="cpu" worker-url="CDN/www/lib/cartwise-worker.js" wasm-url="CDN/pkg/cartwise_bg.wasm"></cartwise-bundles>
<script type="module" src="CDN/www/lib/cartwise-bundles.js"></script>
<script type="module" src="cart.js"></script></body></html>`);
  const got = await runShop(site, { cdn: join(app, "node_modules/cartwise") });
  assert.equal(got.error, null);
  assert.ok(got.bundles > 0 && got.cards === got.bundles, JSON.stringify(got));
  assert.ok(got.requests.some((r) => r.startsWith("blob:")), got.requests.join(" "));
  assert.ok(got.requests.some((r) => /^http:.*\/pkg\/cartwise_bg\.wasm$/.test(r)), got.requests.join(" "));
  assert.deepEqual(got.errors, []);
});
