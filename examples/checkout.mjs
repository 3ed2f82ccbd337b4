// Checkout for bundles Cartwise proposed in the browser: the browser proposes, the server
// disposes. The server re-derives every bundle's price from the export it serves (the same wasm
// package, in Node), the order's item ids and the bundle's item ids, and prices the order from
// its own catalog, never from numbers the page sent.
//
//   node examples/checkout.mjs model-export/synth.cwm [--port 8787]
//   curl -d '{"items":[{"id":"SKU00001","qty":1},{"id":"SKU00002","qty":1}],
//             "bundles":[{"cart":["SKU00001"],"bundle":{"items":["SKU00002"],"bundlePrice":1999}}]}' \
//        http://127.0.0.1:8787/checkout
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { initSync, Engine } from "../pkg/cartwise.js";

/** Loads an export and returns `checkout(order)` over it, the export's digest, the engine and
 * the wasm instance's memory. */
export function checkoutFor(exportPath) {
  const { memory } = initSync({ module: readFileSync(new URL("../pkg/cartwise_bg.wasm", import.meta.url)) });
  const bytes = readFileSync(exportPath);
  const engine = Engine.fromBytes(bytes);
  const digest = `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
  // The shop's own prices: here the export's catalog; a real shop reads its database.
  const price = new Map(engine.products(0, engine.info().catalogSize).map((p) => [p.id, p.price]));

  /**
   * `order`: {items: [{id, qty}], bundles: [claim]}, each claim as the `cartwise-add-bundle`
   * event carries it: {cart: [ids], bundle: {items: [ids], bundlePrice}, exportDigest?}.
   * Returns {ok, total, bundles: [{ok, allowedPrice, reason}]}: the total charges list prices,
   * less the discount of each bundle that verifies; `ok` is false when any bundle did not.
   */
  function checkout(order) {
    const units = new Map();
    let total = 0;
    for (const { id, qty } of order.items ?? []) {
      if (!price.has(id) || price.get(id) === null || !(Number.isInteger(qty) && qty > 0)) {
        return { ok: false, total: null, error: `item ${JSON.stringify(id)} cannot be sold (qty ${qty})` };
      }
      units.set(id, (units.get(id) ?? 0) + qty);
      total += price.get(id) * qty;
    }
    const bundles = (order.bundles ?? []).map(({ exportDigest, ...claim }) => {
      if (exportDigest !== undefined && exportDigest !== digest) {
        return { ok: false, allowedPrice: null, reason: "the offer was made with another export" };
      }
      const ids = claim.bundle?.items ?? [];
      const bought = new Set(units.keys());
      if (!ids.every((id) => units.get(id) > 0) || !(claim.cart ?? []).every((id) => bought.has(id))) {
        return { ok: false, allowedPrice: null, reason: "the bundle's or its cart's items are not in this order" };
      }
      let verdict;
      try {
        verdict = engine.verifyBundle(claim);
      } catch (e) {
        // A claim of the wrong shape (a field missing, a price that is not a number) is refused.
        return { ok: false, allowedPrice: null, reason: String(e?.message ?? e) };
      }
      if (verdict.ok) {
        for (const id of ids) units.set(id, units.get(id) - 1); // one unit of each per bundle
        total -= ids.reduce((sum, id) => sum + price.get(id), 0) - claim.bundle.bundlePrice;
      }
      return verdict;
    });
    return { ok: bundles.every((b) => b.ok), total, bundles };
  }
  return { checkout, digest, engine, memory };
}

/** Most bytes a checkout request body may hold: an order of a few hundred lines fits. */
export const MAX_BODY = 256 * 1024;

/**
 * Answers one POST /checkout: the order as JSON in, `checkout(order)` (sync or async) out, 200
 * when every bundle stands, 409 when one does not, 400 for a body that is not JSON, 413 (and a
 * closed connection) past `maxBody` bytes, without reading the rest.
 */
export async function handleCheckout(req, res, checkout, { maxBody = MAX_BODY } = {}) {
  const reply = (status, answer, headers = {}) =>
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(answer));
  const body = await new Promise((resolve) => {
    const tooLarge = () => {
      reply(413, { ok: false, total: null, error: `the order is over ${maxBody} bytes` }, { Connection: "close" });
      res.on("finish", () => req.destroy());
      resolve(null);
    };
    if (Number(req.headers["content-length"] ?? 0) > maxBody) return tooLarge();
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= maxBody) chunks.push(chunk);
      else if (!res.headersSent) tooLarge();
    });
    req.on("end", () => resolve(res.headersSent ? null : Buffer.concat(chunks)));
    req.on("error", () => resolve(null));
  });
  if (body === null) return;
  let order;
  try {
    order = JSON.parse(body.toString("utf8"));
  } catch (e) {
    return reply(400, { ok: false, total: null, error: `the order is not JSON: ${e.message}` });
  }
  let answer;
  try {
    answer = await checkout(order);
  } catch (e) {
    return reply(400, { ok: false, total: null, error: String(e?.message ?? e) });
  }
  reply(answer.ok ? 200 : 409, answer);
}

/** A server of POST /checkout alone, over `checkout` (see `handleCheckout`). */
export function checkoutServer(checkout, options) {
  return createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/checkout") {
      return res.writeHead(404, { "Content-Type": "application/json" })
        .end(JSON.stringify({ ok: false, error: "POST an order to /checkout" }));
    }
    handleCheckout(req, res, checkout, options);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { checkout } = checkoutFor(process.argv[2] ?? "model-export/synth.cwm");
  const at = process.argv.indexOf("--port");
  const server = checkoutServer(checkout);
  server.listen(at > 0 ? Number(process.argv[at + 1]) : 8787, "127.0.0.1", () =>
    console.log(`checkout on http://127.0.0.1:${server.address().port}/checkout`));
}
