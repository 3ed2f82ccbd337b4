// Uplift of the widget from a client-side holdout (`<cartwise-bundles experiment="name:share">`).
// Input: JSONL, one event per line as the shop forwarded it: the element's events
// ({"type": "cartwise-impression" | "cartwise-click" | "cartwise-add-bundle" | ..., "detail":
// {arm, anonId, ...}}) plus the shop's own orders ({"type": "order", "detail": {arm, anonId,
// value}}, value in minor units). Output: per arm the shoppers exposed (an impression, shown or
// would-have-shown), their orders and revenue per shopper, and the treatment's uplift in revenue
// per shopper with a 95% confidence interval (Welch, normal approximation).
//
//   node scripts/report-events.mjs events.jsonl [--json]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The report over parsed events. */
export function report(events) {
  const exposed = { control: new Set(), treatment: new Set() };
  const revenue = new Map();
  const orders = { control: 0, treatment: 0 };
  const adds = { control: 0, treatment: 0 };
  for (const [n, e] of events.entries()) {
    const { arm, anonId } = e.detail ?? {};
    if (!(arm in exposed) || typeof anonId !== "string") {
      throw new Error(`event ${n + 1}: needs detail.arm ("control" or "treatment") and detail.anonId`);
    }
    if (e.type === "cartwise-impression") exposed[arm].add(anonId);
    if (e.type === "cartwise-add-bundle") adds[arm] += 1;
    if (e.type === "order") {
      if (!Number.isFinite(e.detail.value)) throw new Error(`event ${n + 1}: an order needs detail.value`);
      orders[arm] += 1;
      revenue.set(anonId, (revenue.get(anonId) ?? 0) + e.detail.value);
    }
  }
  const arms = {};
  for (const arm of ["control", "treatment"]) {
    const values = [...exposed[arm]].map((id) => revenue.get(id) ?? 0);
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(n - 1, 1);
    arms[arm] = { shoppers: n, orders: orders[arm], bundlesAdded: adds[arm], revenuePerShopper: mean, variance };
  }
  const { control: c, treatment: t } = arms;
  const uplift = t.revenuePerShopper - c.revenuePerShopper;
  const se = Math.sqrt(t.variance / Math.max(t.shoppers, 1) + c.variance / Math.max(c.shoppers, 1));
  return {
    arms,
    uplift: {
      revenuePerShopper: uplift,
      ci95: [uplift - 1.96 * se, uplift + 1.96 * se],
      relative: c.revenuePerShopper > 0 ? uplift / c.revenuePerShopper : null,
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: node scripts/report-events.mjs events.jsonl [--json]");
    process.exit(2);
  }
  const lines = readFileSync(path, "utf8").split("\n");
  const events = lines.flatMap((line, n) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line)];
    } catch (e) {
      console.error(`${path}:${n + 1}: not JSON: ${e.message}`);
      process.exit(1);
    }
  });
  const r = report(events);
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(r, null, 2));
  } else {
    for (const [arm, a] of Object.entries(r.arms)) {
      console.log(`${arm.padEnd(9)} ${a.shoppers} shoppers, ${a.orders} orders, ${a.bundlesAdded} bundles added, revenue per shopper ${(a.revenuePerShopper / 100).toFixed(2)}`);
    }
    const [lo, hi] = r.uplift.ci95.map((v) => (v / 100).toFixed(2));
    console.log(`uplift    ${(r.uplift.revenuePerShopper / 100).toFixed(2)} per shopper (95% CI ${lo} to ${hi})`);
  }
}
