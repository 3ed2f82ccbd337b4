// Static server for the demo storefront: serves the repository root on 127.0.0.1 only.
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

export function startServer(port = 0) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    if (path === "/" || path === "/www/") {
      res.writeHead(302, { Location: "/www/demo/" });
      return res.end();
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!allowed.some((prefix) => path.startsWith(prefix)) || !file.startsWith(root)) {
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
