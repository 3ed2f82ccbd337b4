// The holdout report recovers a known uplift from a simulated event log, with an interval that
// covers it and excludes zero, and names malformed events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { report } from "../../scripts/report-events.mjs";
import { assignArm } from "../../www/lib/cartwise-bundles.js";

test("a simulated holdout of 10,000 shoppers: the report recovers the planted uplift", () => {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const events = [];
  for (let i = 0; i < 10_000; i++) {
    const anonId = `shopper-${i}`;
    const arm = assignArm("bundles:0.5", anonId);
    events.push({ type: "cartwise-impression", detail: { arm, anonId } });
    // Control buys with p 0.20, treatment with 0.24 (+0.04 × 5000 = +200 per shopper).
    if (rand() < (arm === "treatment" ? 0.24 : 0.2)) {
      if (arm === "treatment") events.push({ type: "cartwise-add-bundle", detail: { arm, anonId } });
      events.push({ type: "order", detail: { arm, anonId, value: 5000 } });
    }
  }
  const r = report(events);
  assert.equal(r.arms.control.shoppers + r.arms.treatment.shoppers, 10_000);
  const [lo, hi] = r.uplift.ci95;
  assert.ok(lo <= 200 && 200 <= hi, `CI ${lo.toFixed(1)}..${hi.toFixed(1)} misses the planted 200`);
  assert.ok(lo > 0, "the uplift is significant at this size");
  assert.throws(() => report([{ type: "order", detail: { arm: "x", anonId: "a" } }]), /event 1: needs detail.arm/);
});
