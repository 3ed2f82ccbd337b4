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

test("tarball -> fresh project -> esbuild bundle -> the element suggests in Chromium", async () => {
  // The shop's page imports the element by package name; esbuild bundles it and, as a second
  // entry, the worker (with the wasm glue), and the wasm file is copied beside them.
  const out = join(app, "public");
  mkdirSync(out);
  writeFileSync(join(app, "page.js"), [
    'import "cartwise/element";',
    'const el = document.querySelector("cartwise-bundles");',
    'el.addEventListener("cartwise-ready", () => { el.cart = { items: [{ id: "SKU00001", qty: 1 }] }; });',
    'el.addEventListener("cartwise-error", (e) => { document.body.dataset.error = e.detail.message; });',
  ].join("\n"));
  execFileSync(join(ROOT, "node_modules/.bin/esbuild"), [
    "page.js", "node_modules/cartwise/www/lib/cartwise-worker.js",
    "--bundle", "--format=esm", "--outdir=public", "--entry-names=[name]", "--log-level=warning",
  ], { cwd: app });
  copyFileSync(join(app, "node_modules/cartwise/pkg/cartwise_bg.wasm"), join(out, "cartwise_bg.wasm"));
  copyFileSync(MODEL, join(out, "shop.cwm"));
  writeFileSync(join(out, "index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head><body>
<cartwise-bundles model="shop.cwm" k="3" backend="cpu" worker-url="cartwise-worker.js" wasm-url="cartwise_bg.wasm"></cartwise-bundles>
<script type="module" src="page.js"></script></body></html>`);
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const file = join(out, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(out)) return res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const requests = [];
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.querySelector("cartwise-bundles").bundles?.length > 0 || document.body.dataset.error, null, { timeout: 30_000 });
    const got = await page.evaluate(() => ({
      error: document.body.dataset.error ?? null,
      bundles: document.querySelector("cartwise-bundles").bundles.length,
      cards: document.querySelector("cartwise-bundles").shadowRoot.querySelectorAll(".bundle").length,
    }));
    assert.equal(got.error, null);
    assert.ok(got.bundles > 0 && got.cards === got.bundles, JSON.stringify(got));
    assert.ok(requests.includes("/cartwise-worker.js") && requests.includes("/cartwise_bg.wasm"), requests.join(" "));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
  }
});
