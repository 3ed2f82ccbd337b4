// The wasm engine over the shapes real shops have (`cartwise synth --shape`, every shape the CLI
// lists): what `train` writes loads in the wasm package, and for carts that hold nothing, whole
// itemsets, single items or the whole catalog every bundle has an add-on, keeps the export's
// discount rules and passes `verifyBundle`; a shape `train` refuses is refused with a reason.
// tests/it/shapes.rs holds the native engine to the same.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initSync, Engine } from "../../pkg/cartwise.js";

const CLI = process.env.CARTWISE_CLI ?? `${process.env.HOME}/.cache/cartwise/target/release/cartwise`;
const dir = mkdtempSync(join(tmpdir(), "cartwise-shapes-"));
/** The shapes `train` may refuse, and what its error then says. */
const REFUSED = { "no-titles": /no usable order lines/ };
/** The most entries a cart may hold (`MAX_CART_ITEMS`). */
const MAX_CART = 500;

before(() => initSync({ module: readFileSync(new URL("../../pkg/cartwise_bg.wasm", import.meta.url)) }));

function cli(...args) {
  const run = spawnSync(CLI, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.ok(!/panicked/.test(run.stderr), run.stderr);
  return run;
}

/** The shapes the CLI lists in its error for an unknown one (so this sweep never drifts). */
function shapes() {
  const run = cli("synth", "--shape", "?", "--out", join(dir, "none"));
  const names = /one of ([a-z0-9, -]+)/.exec(run.stderr);
  assert.ok(names, run.stderr);
  return names[1].split(", ").filter((s) => s !== "grocery");
}

/** Generates and trains a shape; returns the export's path, or null when `train` refused. */
function trained(shape, ...extra) {
  const out = join(dir, shape);
  assert.equal(cli("synth", "--shape", shape, "--seed", "2", "--out", out).status, 0);
  const model = join(out, "m.cwm");
  const run = cli("train", "--orders", join(out, "orders.csv"), "--products", join(out, "products.csv"),
    "--out", model, ...extra);
  if (REFUSED[shape]) {
    assert.notEqual(run.status, 0, `${shape} trained`);
    assert.match(run.stderr, REFUSED[shape]);
    assert.ok(!existsSync(model), "a refused train left a file");
    return null;
  }
  assert.equal(run.status, 0, `${shape}: ${run.stderr}`);
  return model;
}

/** Loads an export in wasm and checks every bundle for the carts; returns the bundles checked. */
function serveAndVerify(shape, model) {
  const bytes = readFileSync(model);
  const engine = Engine.fromBytes(bytes);
  const { catalogSize } = engine.info();
  const ids = engine.products(0, catalogSize).map((p) => p.id);
  const info = JSON.parse(cli("inspect", model, "--json", "--top", "20").stdout);
  const carts = [[], ...info.topItemsets.map((s) => s.items), ids.slice(0, MAX_CART)];
  for (let i = 0; i < Math.min(ids.length, 400); i += 7) carts.push([ids[i]], [ids[i], ids[(i + 1) % ids.length]]);
  const { rules } = info;
  let checked = 0;
  carts.forEach((cart, c) => {
    const out = engine.suggest({ items: cart.map((id) => ({ id, qty: 1 })) }, { k: 5, month: 1 + (c % 12) });
    for (const b of out.bundles) {
      const what = `${shape}: cart ${cart.slice(0, 4)}: ${JSON.stringify(b)}`;
      assert.ok(b.items.length > 0, `an empty bundle: ${what}`);
      assert.ok(b.items.every((i) => !cart.includes(i.id)), what);
      assert.equal(b.bundlePrice, b.basePrice - b.discount, what);
      assert.ok(b.discount >= 0 && b.discount * 10_000 <= b.basePrice * rules.maxDiscountBp, what);
      const verdict = engine.verifyBundle({ cart, bundle: { items: b.items.map((i) => i.id), bundlePrice: b.bundlePrice } });
      assert.ok(verdict.ok, `${what}: ${verdict.reason}`);
      assert.equal(verdict.allowedPrice, b.bundlePrice, what);
      checked += 1;
    }
  });
  engine.free();
  return checked;
}

test("every shape of shop trains an export the wasm engine loads, serves and verifies", () => {
  const names = shapes();
  assert.ok(names.length >= 15 && names.includes("no-timestamps") && names.includes("sparse-catalog"), `${names}`);
  const seen = [];
  for (const shape of names) {
    const model = trained(shape, "--fast");
    if (model === null) {
      seen.push(`${shape} refused`);
      continue;
    }
    const checked = serveAndVerify(shape, model);
    assert.ok(checked > 0 || shape === "one-product", `${shape}: no bundle at all`);
    seen.push(`${shape} ${checked}`);
  }
  console.log(`shapes in wasm, bundles checked: ${seen.join(", ")}`);
});

test("a 50,000-product catalog with 14,000 ordered and no timestamps loads in wasm", () => {
  // The grocery log whose all-neutral seasonal index the version 9 reader refused as a bomb.
  const model = trained("grocery", "--fast", "--ease-max-items", "0");
  const engine = Engine.fromBytes(readFileSync(model));
  assert.equal(engine.info().catalogSize, 50_000);
  engine.free();
  assert.ok(serveAndVerify("grocery", model) > 100);
});
