// On-device shopper history: views, add-to-carts and purchases, kept in this browser's
// localStorage under one key and never sent anywhere. `ids()` turns it into the `history` the
// engine reads (`engine.suggest({items, history})`): the most relevant items first, each
// weighted by what the shopper did and how long ago.
//
// Default retention (all configurable): the newest 200 events, none older than 90 days; an
// event's weight halves every 14 days; at most 16 items go to the engine.

/** Retention and weighting defaults; see the module comment. */
export const HISTORY_DEFAULTS = Object.freeze({
  key: "cartwise:history",
  maxEvents: 200,
  maxAgeDays: 90,
  halfLifeDays: 14,
  maxItems: 16,
  weights: Object.freeze({ view: 1, cart: 3, purchase: 5 }),
});

const DAY_MS = 86_400_000;

/** The shopper's history on this device: record, read, clear, disable. */
export class CartwiseHistory {
  /**
   * @param {object} [options] `storage` (a Storage, default localStorage) and any of
   *   HISTORY_DEFAULTS to override.
   */
  constructor(options = {}) {
    const { storage = safeLocalStorage(), ...limits } = options;
    this.storage = guarded(storage);
    this.limits = { ...HISTORY_DEFAULTS, ...limits, weights: { ...HISTORY_DEFAULTS.weights, ...limits.weights } };
  }

  /** Whether events are recorded (a shopper or page may turn it off; the choice persists). */
  get enabled() {
    return this.storage.getItem(`${this.limits.key}:off`) === null;
  }

  /** Records that the shopper viewed, carted or bought an item; ignored while disabled. */
  record(kind, id, at = Date.now()) {
    if (!(kind in this.limits.weights)) {
      throw new Error(`cartwise history: kind must be one of ${Object.keys(this.limits.weights).join(", ")}, not ${JSON.stringify(kind)}`);
    }
    if (typeof id !== "string" || id === "") throw new Error("cartwise history: id must be a non-empty string");
    if (!this.enabled) return;
    const events = [{ id, kind, at }, ...this.events(at)].slice(0, this.limits.maxEvents);
    this.storage.setItem(this.limits.key, JSON.stringify(events));
  }

  /** The kept events, newest first: [{id, kind, at}] (at in ms since the epoch). */
  events(now = Date.now()) {
    let events;
    try {
      events = JSON.parse(this.storage.getItem(this.limits.key) ?? "[]");
    } catch {
      return []; // a corrupted entry is history lost, not an error on every page
    }
    if (!Array.isArray(events)) return [];
    const oldest = now - this.limits.maxAgeDays * DAY_MS;
    return events.filter((e) => e && typeof e.id === "string" && e.at >= oldest && e.kind in this.limits.weights);
  }

  /** Item ids for the engine, most relevant first: sum of weight(kind) × 0.5^(age / half-life). */
  ids(now = Date.now()) {
    const score = new Map();
    for (const e of this.events(now)) {
      const decay = 0.5 ** (Math.max(0, now - e.at) / (this.limits.halfLifeDays * DAY_MS));
      score.set(e.id, (score.get(e.id) ?? 0) + this.limits.weights[e.kind] * decay);
    }
    return [...score].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, this.limits.maxItems).map(([id]) => id);
  }

  /**
   * Records the cart's items that were not in the cart this device last recorded, so a page
   * that sets the same cart on every load records each add-to-cart once.
   */
  recordCart(ids, at = Date.now()) {
    const cartKey = `${this.limits.key}:cart`;
    let last = [];
    try {
      last = JSON.parse(this.storage.getItem(cartKey) ?? "[]");
    } catch {
      last = [];
    }
    const seen = new Set(Array.isArray(last) ? last : []);
    for (const id of ids) if (!seen.has(id)) this.record("cart", id, at);
    if (this.enabled) this.storage.setItem(cartKey, JSON.stringify(ids));
  }

  /** Forgets every event. */
  clear() {
    this.storage.removeItem(this.limits.key);
    this.storage.removeItem(`${this.limits.key}:cart`);
  }

  /** Forgets every event and records none until `enable()`. */
  disable() {
    this.clear();
    this.storage.setItem(`${this.limits.key}:off`, "1");
  }

  /** Records events again. */
  enable() {
    this.storage.removeItem(`${this.limits.key}:off`);
  }
}

/** localStorage where the page may use it; null where it is blocked (it throws on access). */
function safeLocalStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * A Storage whose failures (blocked storage, quota, private mode) never reach the page: reads
 * find nothing and writes are dropped, as if the shopper had no history.
 */
function guarded(storage) {
  const attempt = (f, fallback) => {
    try {
      return storage ? f() : fallback;
    } catch {
      return fallback;
    }
  };
  return {
    getItem: (key) => attempt(() => storage.getItem(key), null),
    setItem: (key, value) => attempt(() => storage.setItem(key, value), undefined),
    removeItem: (key) => attempt(() => storage.removeItem(key), undefined),
  };
}
