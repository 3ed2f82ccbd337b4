// Server for the demo storefront, on 127.0.0.1 only: static files from the repository root, and
// POST /checkout, which verifies every bundle in the posted order against the export before it
// confirms a total (examples/checkout.mjs), as a shop's checkout would.
// Usage: node www/demo/serve.mjs [--port 8080]   (--port 0 picks a free port)
// Prints "serving http://127.0.0.1:PORT/www/demo/" once listening; "/" and "/www/" lead there.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".cwm": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ts": "text/plain; charset=utf-8",
};
// Only what the storefront needs is served; nothing else in the checkout is exposed.
const allowed = ["/www/", "/pkg/", "/model-export/"];

const model = join(root, "model-export/synth.cwm");
let shop = null;

/** The checkout over the current export, reloaded when the export is retrained. */
async function checkout(order) {
  const { mtimeMs } = await stat(model);
  if (shop?.mtimeMs !== mtimeMs) {
    const { checkoutFor } = await import("../../examples/checkout.mjs");
    shop = { mtimeMs, ...checkoutFor(model) };
  }
  return shop.checkout(order);
}

/** Starts the server; `headers` go on every response (a test's Content-Security-Policy). */
export function startServer(port = 0, { headers = {} } = {}) {
  const server = createServer(async (req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (req.method === "POST" && req.url === "/checkout") {
      const { handleCheckout } = await import("../../examples/checkout.mjs");
      return handleCheckout(req, res, checkout);
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      res.writeHead(400).end("bad request"); // a malformed %-escape
      return;
    }
    if (path === "/" || path === "/www/") {
      res.writeHead(302, { Location: "/www/demo/" });
      return res.end();
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    // Checked on the resolved file, so "/www/..%2f.git/config" cannot climb out of /www/.
    if (!allowed.some((prefix) => file.startsWith(join(root, prefix)))) {
      res.writeHead(404).end("not found");
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-cache" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--port");
  const server = await startServer(at > 0 ? Number(process.argv[at + 1]) : 8080);
  console.log(`serving http://127.0.0.1:${server.address().port}/www/demo/`);
}
