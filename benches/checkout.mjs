// Checkout verification as a shop's server sees it (`./build.sh bench`), on one export:
//   1. `verifyBundle` in Node, one core: verifications per second and latency percentiles over
//      1,000,000 calls of a mix of the engine's own bundles and hostile claims (unknown ids,
//      500- and 501-item carts, forged prices, claims of the wrong shape), with process and wasm
//      memory sampled every 100,000 calls;
//   2. `examples/checkout.mjs` over HTTP in its own process: 32 concurrent keep-alive clients,
//      orders per second and latency percentiles;
//   3. `cartwise verify` on a JSONL file of the same claims: offers per second, whole command;
//      and kept running on standard input, asked one offer at a time: latency percentiles.
//
//   node --expose-gc benches/checkout.mjs [model.cwm]   (CARTWISE_CLI names the CLI; VERIFICATIONS=N)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request, Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkoutFor } from "../examples/checkout.mjs";

const MODEL = process.argv[2] ?? process.env.CARTWISE_MODEL ?? "model-export/synth.cwm";
const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
const CALLS = Number(process.env.VERIFICATIONS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "cartwise-checkout-bench-"));
const shop = checkoutFor(MODEL);
const { engine } = shop;

/** A small deterministic generator, so runs compare. */
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const next = rng(5);
const ids = engine.products(0, engine.info().catalogSize).filter((p) => p.price !== null).map((p) => p.id);
const pick = () => ids[Math.floor(next() * ids.length)];

/** 2,000 claims, `hostile` marked: about 70% the engine's own bundles at their price, the rest
 * unknown ids, 500-item carts, 501-item carts (over the budget), a price one unit too low and
 * a price that is not a number, in turn. */
function claims() {
  const out = [];
  for (let it = 0; out.length < 2000; it++) {
    const cart = Array.from({ length: 1 + Math.floor(next() * 3) }, pick);
    const own = engine.suggest({ items: cart }, { k: 3, month: 1 + (it % 12) }).bundles;
    for (const b of own) out.push({ hostile: false, claim: { cart, bundle: { items: b.items.map((i) => i.id), bundlePrice: b.bundlePrice } } });
    const items = own[0]?.items.map((i) => i.id) ?? [pick()];
    const price = own[0]?.bundlePrice ?? 100;
    const hostile = [
      { cart, bundle: { items: ["NO-SUCH-ITEM", ...items], bundlePrice: 100 } },
      { cart: Array.from({ length: 500 }, pick), bundle: { items, bundlePrice: 1 } },
      { cart: Array.from({ length: 501 }, pick), bundle: { items, bundlePrice: 1 } },
      { cart, bundle: { items, bundlePrice: price - 1 } },
      { cart, bundle: { items, bundlePrice: "free" } },
    ][it % 5];
    out.push({ hostile: true, claim: hostile });
  }
  return out;
}

const median = (xs) => percentile(xs, 0.5);
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Verifies `calls` claims from `pool` in turn; prints throughput, latency by kind of claim and
 * (with `memory`) memory every 100,000 calls. Latencies go to arrays allocated up front, so
 * the loop allocates nothing of its own. */
function inProcess(label, pool, calls, memory = false) {
  const sample = () => {
    // With --expose-gc, memory is sampled after a collection: what stays, not what awaits one.
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed, wasm: shop.memory.buffer.byteLength };
  };
  const samples = [];
  // Written through once, so their pages are resident before the first memory sample.
  const lat = new Float64Array(calls).fill(1);
  const hostile = new Uint8Array(calls).fill(1);
  let ok = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < calls; n++) {
    if (memory && n % 100_000 === 0) samples.push(sample());
    const entry = pool[n % pool.length];
    const t = process.hrtime.bigint();
    try {
      ok += engine.verifyBundle(entry.claim).ok ? 1 : 0;
    } catch {
      // a claim of the wrong shape: refused
    }
    lat[n] = Number(process.hrtime.bigint() - t) / 1e3;
    hostile[n] = entry.hostile ? 1 : 0;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (memory) samples.push(sample());
  console.log(`verifyBundle in Node, ${label}: ${calls} verifications (${ok} accepted) in ${seconds.toFixed(2)} s: ` +
    `${Math.round(calls / seconds)} per second on one core`);
  for (const kind of [0, 1]) {
    const xs = lat.filter((_, n) => hostile[n] === kind).sort();
    if (xs.length === 0) continue;
    console.log(`  latency of ${kind ? "hostile claims" : "the engine's own bundles"} (${xs.length}): ` +
      `p50 ${median(xs).toFixed(1)} µs, p99 ${percentile(xs, 0.99).toFixed(1)} µs, max ${xs[xs.length - 1].toFixed(0)} µs`);
  }
  if (memory) {
    const mb = (key) => samples.map((s) => (s[key] / 2 ** 20).toFixed(1)).join(" ");
    console.log(`  memory every 100,000 calls${globalThis.gc ? " after a GC" : ""}, MiB: rss ${mb("rss")}; ` +
      `JS heap ${mb("heapUsed")}; wasm ${mb("wasm")}`);
  }
}

/** Orders for the HTTP run: each the cart's items, the bundle's items and the claim. */
function orders(pool) {
  return pool.map((c) => c.claim).filter((c) => c.cart.length < 10).map((claim) => ({
    items: [...new Set([...claim.cart, ...claim.bundle.items])].map((id) => ({ id, qty: 1 })),
    bundles: [{ ...claim, exportDigest: shop.digest }],
  }));
}

async function overHttp(pool) {
  const server = spawn(process.execPath, ["examples/checkout.mjs", MODEL, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) => server.stdout.on("data", (d) => {
    const m = /127\.0\.0\.1:(\d+)/.exec(String(d));
    if (m) resolve(Number(m[1]));
  }));
  const bodies = orders(pool).map((o) => JSON.stringify(o));
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const post = (body) => new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request({ port, host: "127.0.0.1", path: "/checkout", method: "POST", agent,
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve([res.statusCode, Number(process.hrtime.bigint() - t) / 1e6]));
    });
    req.on("error", reject);
    req.end(body);
  });
  const total = 20_000;
  const lat = [];
  const status = {};
  let sent = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (sent < total) {
      const [code, ms] = await post(bodies[sent++ % bodies.length]);
      status[code] = (status[code] ?? 0) + 1;
      lat.push(ms);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  lat.sort((a, b) => a - b);
  console.log(`checkout.mjs over HTTP, 32 concurrent keep-alive clients: ${lat.length} orders in ${seconds.toFixed(2)} s: ` +
    `${Math.round(lat.length / seconds)} per second; latency p50 ${median(lat).toFixed(2)} ms, p99 ${percentile(lat, 0.99).toFixed(2)} ms; ` +
    `answers ${JSON.stringify(status)}`);
  agent.destroy();
  server.kill();
}

function cli(pool) {
  const file = join(dir, "offers.jsonl");
  // `cartwise verify` reads typed offers: a line of the wrong shape fails the command, so the
  // file holds the well-formed ones (hostile ids, carts and prices included).
  const lines = pool.map((c) => c.claim).filter((c) => typeof c.bundle.bundlePrice === "number").map((c) => JSON.stringify(c));
  const copies = Math.ceil(200_000 / lines.length);
  writeFileSync(file, Array.from({ length: copies }, () => lines.join("\n")).join("\n") + "\n");
  const n = copies * lines.length;
  const runs = [];
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    const out = execFileSync(CLI, ["verify", "--model", MODEL, "--offers", file], { maxBuffer: 1 << 30 });
    runs.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (out.toString().split("\n").length - 1 !== n) throw new Error("cartwise verify answered another number of lines");
  }
  runs.sort((a, b) => a - b);
  console.log(`cartwise verify: ${n} offers, median of 3 runs ${runs[1].toFixed(2)} s (export load included): ` +
    `${Math.round(n / runs[1])} offers per second`);
}

/** `cartwise verify --offers -` kept running as a checkout server's co-process: one offer
 * written, its verdict awaited, the next; latency per offer, pipe round trip included. */
async function coProcess(pool) {
  const lines = pool.map((c) => c.claim).filter((c) => typeof c.bundle.bundlePrice === "number").map((c) => JSON.stringify(c));
  const child = spawn(CLI, ["verify", "--model", MODEL, "--offers", "-"], { stdio: ["pipe", "pipe", "ignore"] });
  let buffered = "";
  let waiting = null;
  child.stdout.on("data", (d) => {
    buffered += d;
    const at = buffered.indexOf("\n");
    if (at >= 0 && waiting) {
      buffered = buffered.slice(at + 1);
      const done = waiting;
      waiting = null;
      done();
    }
  });
  const ask = (line) => new Promise((resolve) => {
    waiting = resolve;
    child.stdin.write(line + "\n");
  });
  await ask(lines[0]); // the export loads before the first answer
  const n = 20_000;
  const lat = new Float64Array(n);
  const started = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const t = process.hrtime.bigint();
    await ask(lines[k % lines.length]);
    lat[k] = Number(process.hrtime.bigint() - t) / 1e3;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.stdin.end();
  lat.sort();
  console.log(`cartwise verify --offers - as a co-process, one offer at a time: ${n} offers in ${seconds.toFixed(2)} s: ` +
    `${Math.round(n / seconds)} per second; latency p50 ${median(lat).toFixed(1)} µs, p99 ${percentile(lat, 0.99).toFixed(1)} µs`);
}

const pool = claims();
inProcess("the engine's own bundles", pool.filter((c) => !c.hostile), 200_000);
inProcess("a mix with 25% hostile claims", pool, CALLS, true);
await overHttp(pool);
cli(pool);
await coProcess(pool);
console.log(`export ${MODEL}: ${readFileSync(MODEL).length} bytes; ${pool.length} distinct claims`);
