// <cartwise-bundles model="URL" k="3" backend="auto" history="on"
//   public-key="HEX" integrity="sha256-…">: renders bundle suggestions for a cart, priced in
//   the export's currency (`currency="EUR"` checks the page agrees: another is an error).
// `public-key` (from `cartwise keygen`) makes the engine refuse an export the shop did not sign
// (`train --sign`), across retrains; `integrity` pins one file's hash through fetch.
// `worker-url` and `wasm-url` say where the worker script and `cartwise_bg.wasm` are served
// when a bundler or a CDN moved them (see CartwiseClient). `backend` ("auto", "webgpu" or "cpu") says how the engine scores the
// catalog. `history="off"` keeps the shopper's on-device history out of it (neither read nor
// recorded); otherwise `element.history` (a CartwiseHistory over localStorage) records every
// item added to the cart, the page may record views and purchases with
// `element.history.record("view" | "purchase", id)`, and suggestions read it. It never leaves
// the browser.
//
// Set `element.cart = {items: [{id, qty}]}` on every cart change. The element fetches the export
// once (the only request it makes), runs the engine in a Web Worker, and fires:
//   "cartwise-ready"      detail: engine info
//   "cartwise-impression" detail: {suggestions: [{id, position, items, basePrice, bundlePrice}]}
//                           once per distinct set shown (in a holdout's control arm: would have shown)
//   "cartwise-click"       detail: {id, position, items, basePrice, bundlePrice} (the add button)
//   "cartwise-dismiss"     detail: as click ("Not interested": hidden for the rest of the page)
//   "cartwise-add-bundle" detail: {items: [{id, title, price}], discount, bundlePrice, claim,
//                           id, position, basePrice}
//   every one of these also carries {exportDigest, experiment, arm, anonId} and is composed.
//   `experiment="name:0.1"` holds 10% of shoppers out (arm "control": nothing shown), by a hash
//   of an anonymous id kept on the device, so the arm is stable across page loads.
//     `claim` is what the shop's server verifies at checkout (`engine.verifyBundle` in Node,
//     `cartwise verify`): {cart: [ids the bundle was offered for], bundle: {items: [ids],
//     bundlePrice}, exportDigest: "sha256-…" of the export the offer came from}
//   "cartwise-error"      detail: {message}
// `element.client` exposes the worker as promises: suggest(cart, options), info(), products(offset, limit).

import { CartwiseHistory } from "./cartwise-history.js";
import { MESSAGES, catalogFor, formatters } from "./cartwise-messages.js";

/**
 * A promise-based handle on the engine worker. By default the worker is this package's
 * `cartwise-worker.js`, written as `new Worker(new URL(…, import.meta.url))` so bundlers that
 * follow that pattern (Vite, webpack) ship it; `workerUrl` points elsewhere (a bundler's output,
 * or a CDN: a cross-origin worker starts through a same-origin blob that imports it), and
 * `wasmUrl` tells the worker where `cartwise_bg.wasm` is when it is not beside the glue code.
 */
export class CartwiseClient {
  constructor({ workerUrl = null, wasmUrl = null } = {}) {
    this.workerUrl = workerUrl;
    this.wasmUrl = wasmUrl ? new URL(wasmUrl, document.baseURI).href : null;
    this.pending = new Map();
    this.nextId = 1;
    this.#spawn();
  }

  /** Starts a worker and routes its answers to the pending calls. */
  #spawn() {
    const { workerUrl } = this;
    if (!workerUrl) {
      this.worker = new Worker(new URL("./cartwise-worker.js", import.meta.url), { type: "module" });
    } else {
      const url = new URL(workerUrl, document.baseURI);
      const sameOrigin = url.origin === location.origin;
      const source = sameOrigin
        ? url
        : URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" }));
      this.worker = new Worker(source, { type: "module" });
    }
    this.worker.onmessage = (event) => {
      const { id, ok, result, error, trapped } = event.data;
      // A trap fails every call in flight, this one included.
      if (trapped) return this.#recover(new Error(error));
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (!waiter) return;
      ok ? waiter.resolve(result) : waiter.reject(new Error(error));
    };
    this.worker.onerror = (event) => {
      this.#failPending(new Error(`cartwise worker failed: ${event.message ?? "unknown error"}`));
    };
  }

  #failPending(err) {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** The engine's instance trapped (a panic): every call in flight fails with its message, and
   * a fresh worker loads the same export again, so the next call is answered. */
  #recover(err) {
    this.#failPending(err);
    this.worker.terminate();
    this.#spawn();
    if (this.lastLoad) {
      const { bytes, backend, publicKey } = this.lastLoad;
      this.reloading = this.load(bytes.slice(0), backend, publicKey);
      this.reloading.catch(() => {}); // reported by the calls that wait for it
    }
  }

  call(message, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Loads export bytes (an ArrayBuffer, transferred to the worker; a copy is kept to reload
   * after a trap); `backend` as Engine.load. */
  load(bytes, backend = "auto", publicKey = null) {
    this.lastLoad = { bytes: bytes.slice(0), backend, publicKey };
    this.reloading = null;
    return this.call({ type: "load", bytes, backend, publicKey, wasmUrl: this.wasmUrl }, [bytes]);
  }

  /** A call on the loaded engine, after any reload a trap started. */
  async #engineCall(message) {
    await this.reloading;
    return this.call(message);
  }

  suggest(cart, options) { return this.#engineCall({ type: "suggest", cart, options }); }
  info() { return this.#engineCall({ type: "info" }); }
  products(offset = 0, limit = 24) { return this.#engineCall({ type: "products", offset, limit }); }
  terminate() { this.worker.terminate(); }
}

const entryId = (entry) => (typeof entry === "string" ? entry : entry.id);

/** Whether a link from the export may go into the page (the export checks this too). */
function safeLink(link) {
  return /^(https?:\/\/|\/(?!\/))/i.test(link) && !/[\s\u0000-\u001f]/.test(link);
}

/** FNV-1a 32-bit hash of a string: stable ids and experiment buckets, the same in every browser. */
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The arm of a client-side holdout: `experiment` is "name:share" (share of shoppers in the
 * control arm, 0 to 1); the arm is a pure function of the name and the shopper's anonymous id,
 * so it is the same on every page load. Returns null without an experiment.
 */
export function assignArm(experiment, anonId) {
  if (!experiment) return null;
  const at = experiment.lastIndexOf(":");
  const name = experiment.slice(0, at);
  const share = Number(experiment.slice(at + 1));
  if (at <= 0 || !(share >= 0 && share <= 1)) {
    throw new Error(`cartwise-bundles: experiment must be "name:share" with share in [0, 1], not ${JSON.stringify(experiment)}`);
  }
  return fnv1a(`${name}:${anonId}`) / 2 ** 32 < share ? "control" : "treatment";
}

/** This device's anonymous id for experiments (random, kept in localStorage when it may be). */
function anonymousId() {
  const key = "cartwise:anon";
  try {
    const kept = localStorage.getItem(key);
    if (kept) return kept;
    const fresh = crypto.randomUUID();
    localStorage.setItem(key, fresh);
    return fresh;
  } catch {
    return crypto.randomUUID(); // storage blocked: an id for this page only
  }
}

// Theming: every colour, the radius and the spacing are custom properties on the host (light
// and dark defaults, both WCAG AA); the font is the host page's; every piece is a ::part.
const STYLE = `
:host {
  display: block; font: inherit; color: var(--cartwise-fg);
  --cartwise-fg: #1d2433; --cartwise-muted: #4d566b; --cartwise-bg: #fff;
  --cartwise-border: #c9d0de; --cartwise-accent: #1f5eff; --cartwise-accent-fg: #fff;
  --cartwise-saving: #0a6e34; --cartwise-radius: 10px; --cartwise-gap: 10px;
}
@media (prefers-color-scheme: dark) {
  :host {
    --cartwise-fg: #e8ecf4; --cartwise-muted: #b4bccc; --cartwise-bg: #1b2030;
    --cartwise-border: #3a4256; --cartwise-accent: #8fb0ff; --cartwise-accent-fg: #0d1222;
    --cartwise-saving: #6fdc9a;
  }
}
h3 { margin: 0 0 8px; font-size: 1.05em; }
.bundles { display: grid; gap: var(--cartwise-gap); }
.bundle { border: 1px solid var(--cartwise-border); border-radius: var(--cartwise-radius);
  padding: var(--cartwise-gap) calc(var(--cartwise-gap) + 2px); background: var(--cartwise-bg); }
.items { margin: 0; padding: 0; list-style: none; }
.items li { display: flex; justify-content: space-between; align-items: center; gap: 12px; }
.items li img { border-radius: calc(var(--cartwise-radius) / 2); object-fit: cover; }
.items li a { color: inherit; }
.price-row { display: flex; align-items: baseline; gap: 8px; margin: 6px 0; }
.base { color: var(--cartwise-muted); }
.bundle-price { font-weight: 700; font-size: 1.1em; }
.discount { color: var(--cartwise-saving); font-weight: 600; }
.reasons { margin: 4px 0 8px; padding-inline-start: 18px; color: var(--cartwise-muted); font-size: .875em; }
button { background: var(--cartwise-accent); color: var(--cartwise-accent-fg); border: 0;
  border-radius: calc(var(--cartwise-radius) - 4px); padding: 6px 12px; cursor: pointer; font: inherit; }
button:focus-visible { outline: 3px solid var(--cartwise-accent); outline-offset: 2px; }
.empty { color: var(--cartwise-muted); }
.skeleton { min-height: var(--cartwise-skeleton-height, 180px); }
.actions { display: flex; gap: 8px; align-items: center; }
button.dismiss { background: transparent; color: var(--cartwise-muted); text-decoration: underline; padding: 6px 4px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;

/** Minor units as an exact decimal string ("1980", "19.80", "-0.005"): `Intl.NumberFormat`
 * formats such strings without a detour through binary floating point. */
function decimal(minor, exponent) {
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const sign = minor < 0 ? "-" : "";
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** The widget's stylesheet, shared by every element on the page (made on first render). */
let sheet;

// Importing this module during server-side rendering defines nothing and throws nothing.
const Base = globalThis.HTMLElement ?? class {};

export class CartwiseBundles extends Base {
  static observedAttributes = ["model", "k", "public-key", "integrity", "currency", "history", "experiment", "locale"];

  /** The locale prices and reasons are shown in: `locale`, else the page's `lang`, else the browser's. */
  get locale() {
    return this.getAttribute("locale") || document.documentElement.lang || navigator.language || "en";
  }

  /** A piece of the widget's own text in its locale (`ui_*` codes; English where missing). */
  #t(code, params = {}) {
    const { catalog, f } = this.#catalog();
    const say = catalog?.[code];
    return say ? say(params, f) : MESSAGES.en[code](params, formatters("en"));
  }

  /** The message catalog for this element's locale: the shipped ones with `messages` merged
   * over them, recomputed only when the locale or `messages` change. */
  #catalog() {
    const locale = this.locale;
    if (this._catalogFor?.locale !== locale || this._catalogFor?.messages !== this.messages) {
      const merged = {};
      for (const source of [MESSAGES, this.messages ?? {}]) {
        for (const [tag, catalog] of Object.entries(source)) merged[tag] = { ...merged[tag], ...catalog };
      }
      this._catalogFor = { locale, messages: this.messages, catalog: catalogFor(merged, locale), f: formatters(locale) };
    }
    return this._catalogFor;
  }

  /** A reason in this element's locale, or the engine's English text where no catalog says it. */
  #reason(code, english) {
    const { catalog, f } = this.#catalog();
    const say = catalog?.[code?.code];
    if (!say) return english;
    try {
      return say(code.params ?? {}, f);
    } catch {
      return english;
    }
  }


  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.client = null;
    this._cart = { items: [] };
    this._ready = null;
    this._seq = 0;
    this.bundles = [];
    this._options = {};
    this._history = undefined;
    this._shownSets = new Set();
    /** Reason catalogs merged over the shipped ones (see cartwise-messages.js), by locale. */
    this.messages = {};
    this._dismissed = new Set();
  }

  /** This shopper's arm of the `experiment` attribute's holdout ("control" sees nothing), or null. */
  get arm() {
    const experiment = this.getAttribute("experiment");
    if (!experiment) return null;
    this._anonId ??= anonymousId();
    return assignArm(experiment, this._anonId);
  }

  /** Fires a measurement event: bubbles out of the shadow DOM, tagged with export and arm. */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, {
      detail: {
        ...detail,
        exportDigest: this.exportDigest,
        experiment: this.getAttribute("experiment"),
        arm: this.arm,
        anonId: this.getAttribute("experiment") ? this._anonId : undefined,
      },
      bubbles: true,
      composed: true,
    }));
  }

  /** A suggestion's stable id: the export, the cart it was made for, its items and price. */
  #suggestionId(bundle) {
    const key = [this.exportDigest, ...(this.bundlesCart ?? []), "|", ...bundle.items.map((i) => i.id), bundle.bundlePrice].join(",");
    return fnv1a(key).toString(16).padStart(8, "0");
  }

  /** Per-call options merged into every suggestion (merchant rules, which they may only
   * tighten, stock levels, new products); setting them re-suggests. */
  get options() { return this._options; }
  set options(value) {
    this._options = value ?? {};
    if (this._ready) this.#refresh();
  }

  /** The shopper's on-device history: null until the page turns it on (`history="on"` or
   * `consent()`); turning it off erases what was stored. */
  get history() {
    if (this.getAttribute("history") !== "on") return null;
    this._history ??= new CartwiseHistory();
    return this._history;
  }

  /** The shopper agreed to on-device history: same as `history="on"`. */
  consent() { this.setAttribute("history", "on"); }

  connectedCallback() {
    // A cart or options set before the element was defined live on the instance: adopt them.
    for (const prop of ["cart", "options"]) {
      if (Object.prototype.hasOwnProperty.call(this, prop)) {
        const value = this[prop];
        delete this[prop];
        this[prop] = value;
      }
    }
    this.#skeleton();
    this.#ensureLoaded();
  }
  disconnectedCallback() { this.client?.terminate(); this.client = null; this._ready = null; }
  attributeChangedCallback(name, oldValue, newValue) {
    const reloads = ["model", "public-key", "integrity"].includes(name);
    if (reloads && oldValue !== null && oldValue !== newValue && this.client) {
      this._ready = null;
      this.#ensureLoaded();
    } else if (name === "history" && oldValue === "on" && newValue !== "on") {
      new CartwiseHistory().disable(); // forgets what was stored, records nothing more
      new CartwiseHistory().enable(); // …until the page turns it on again
      this._history = undefined;
    } else if (name === "experiment" && this._ready) {
      this.hidden = false;
      this.#render();
    } else if (name === "locale" && this._ready) {
      if (this._headingSlot) this._headingSlot.textContent = this.#t("ui_heading");
      this.#render();
    } else if ((name === "k" || name === "currency") && this._ready) {
      this.#refresh();
    }
  }

  /** Resolves with engine info once the export is loaded. */
  get ready() { return this.#ensureLoaded(); }

  get cart() { return this._cart; }
  set cart(value) {
    // Numeric ids are accepted and passed on as strings.
    const items = (value?.items ?? []).map((e) =>
      typeof e === "object" && e !== null ? { ...e, id: String(e.id) } : String(e));
    this._cart = { ...value, items };
    this.history?.recordCart(items.map(entryId));
    if (this.isConnected) this.#refresh();
  }

  #ensureLoaded() {
    if (this._ready) return this._ready;
    const url = this.getAttribute("model");
    if (!url) return Promise.reject(new Error("cartwise-bundles: missing model attribute"));
    this.client ??= new CartwiseClient({
      workerUrl: this.getAttribute("worker-url"),
      wasmUrl: this.getAttribute("wasm-url"),
    });
    this._ready = (async () => {
      // `integrity` (Subresource Integrity, "sha256-…") pins one file; `public-key` pins the
      // shop's signing key across retrains (the engine refuses an export it did not sign).
      const integrity = this.getAttribute("integrity");
      const get = () => fetch(url, integrity ? { integrity } : {});
      // One retry for a transient failure; the second error is reported (cartwise-error).
      let response = await get().catch(() => null);
      if (!response?.ok) response = await get();
      if (!response.ok) throw new Error(`cartwise-bundles: ${url}: HTTP ${response.status}`);
      const backend = this.getAttribute("backend") ?? "auto";
      const bytes = await response.arrayBuffer();
      // Checkout matches offers to the export they came from (the bytes go to the worker next).
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      this.exportDigest = `sha256-${btoa(String.fromCharCode(...digest))}`;
      const info = await this.client.load(bytes, backend, this.getAttribute("public-key"));
      this.dispatchEvent(new CustomEvent("cartwise-ready", { detail: info, bubbles: true }));
      this.#refresh();
      return info;
    })();
    this._ready.catch((err) => this.#fail(err));
    return this._ready;
  }

  async #refresh() {
    const seq = ++this._seq;
    try {
      await this.#ensureLoaded();
      const k = Number(this.getAttribute("k") ?? 3);
      const cart = { items: this._cart.items, history: this.history?.ids() ?? [] };
      const out = await this.client.suggest(cart, { ...this.options, k });
      if (seq !== this._seq) return; // a newer cart superseded this answer
      this.priceCurrency = out.currency;
      const asked = this.getAttribute("currency");
      if (asked && out.currency.code && asked.toUpperCase() !== out.currency.code) {
        // Prices shown in the wrong currency are worse than none.
        this.bundles = [];
        this.#render();
        throw new Error(`cartwise-bundles: the export prices in ${out.currency.code}, the page's currency attribute says ${asked}`);
      }
      this.bundles = out.bundles;
      this.bundlesCart = cart.items.map(entryId);
      this.#render();
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err) {
    this.dispatchEvent(new CustomEvent("cartwise-error", { detail: { message: err.message }, bubbles: true }));
  }

  /** An amount in minor units in the export's currency (exports before format 7 name none:
   * the `currency` attribute, else USD, in hundredths), with exactly its decimals. */
  #money(minor) {
    const { code, exponent } = this.priceCurrency ?? { code: null, exponent: 2 };
    const currency = code ?? this.getAttribute("currency") ?? "USD";
    const digits = { minimumFractionDigits: exponent, maximumFractionDigits: exponent };
    return new Intl.NumberFormat(this.locale, { style: "currency", currency, ...digits })
      .format(decimal(minor, exponent));
  }

  /** A placeholder of the list's height while the export loads, so nothing shifts. */
  #skeleton() {
    if (this._frame) return;
    const { body } = this.#frame();
    const wait = document.createElement("p");
    wait.className = "empty skeleton";
    wait.setAttribute("part", "empty");
    wait.textContent = this.#t("ui_loading");
    body.replaceChildren(wait);
  }

  /** The parts that persist across renders: the heading, the live status and the list. */
  #frame() {
    const root = this.shadowRoot;
    if (this._frame) return this._frame;
    // A constructed stylesheet, not a <style> element: pages whose Content-Security-Policy
    // forbids inline styles (no 'unsafe-inline' in style-src) still style the widget.
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    root.adoptedStyleSheets = [sheet];
    const heading = document.createElement("h3");
    heading.setAttribute("part", "heading");
    heading.id = "cartwise-heading";
    const headingSlot = document.createElement("slot");
    headingSlot.name = "heading";
    headingSlot.textContent = this.#t("ui_heading");
    this._headingSlot = headingSlot;
    heading.append(headingSlot);
    // Announces each new set of suggestions politely; present before content changes.
    const status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    const body = document.createElement("div");
    body.setAttribute("role", "region");
    body.setAttribute("aria-labelledby", "cartwise-heading");
    root.replaceChildren(heading, status, body);
    this._frame = { status, body };
    return this._frame;
  }

  #render() {
    const offeredFor = this.bundlesCart;
    const { status, body } = this.#frame();
    const shown = this.bundles
      .filter((b) => !this._dismissed.has(this.#suggestionId(b)))
      .map((bundle, position) => ({ bundle, position, id: this.#suggestionId(bundle) }));
    const setKey = shown.map((s) => s.id).join(",");
    if (shown.length && !this._shownSets.has(setKey)) {
      // Once per distinct set; in the control arm these are what would have been shown.
      this._shownSets.add(setKey);
      this.#emit("cartwise-impression", {
        suggestions: shown.map(({ bundle, position, id }) => ({
          id, position, items: bundle.items.map((i) => i.id), basePrice: bundle.basePrice, bundlePrice: bundle.bundlePrice,
        })),
      });
    }
    if (this.arm === "control") {
      body.replaceChildren();
      status.textContent = "";
      this.hidden = true;
      return;
    }
    // Focus stays on the same bundle's button across re-renders (or on the first one).
    const focused = this.shadowRoot.activeElement?.closest?.(".bundle")?.dataset.items ?? null;
    body.replaceChildren();
    if (!shown.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.setAttribute("part", "empty");
      const slot = document.createElement("slot");
      slot.name = "empty";
      slot.textContent = this.#t(this._cart.items.length ? "ui_no_bundles" : "ui_empty_cart");
      empty.append(slot);
      body.append(empty);
      status.textContent = this._cart.items.length ? this.#t("ui_no_bundles") : "";
      return;
    }
    const list = document.createElement("div");
    list.className = "bundles";
    list.setAttribute("part", "bundles");
    let refocus = null;
    for (const { bundle, position, id } of shown) {
      const card = document.createElement("div");
      card.className = "bundle";
      card.setAttribute("part", "bundle");
      card.dataset.items = bundle.items.map((i) => i.id).join(",");
      const items = document.createElement("ul");
      items.className = "items";
      items.setAttribute("part", "items");
      for (const item of bundle.items) {
        const li = document.createElement("li");
        li.setAttribute("part", "item");
        const name = document.createElement(item.url && safeLink(item.url) ? "a" : "span");
        name.textContent = item.title;
        if (name.tagName === "A") {
          name.href = item.url;
          name.setAttribute("part", "item-link");
        }
        if (item.image && safeLink(item.image)) {
          const img = document.createElement("img");
          img.src = item.image;
          img.alt = ""; // the title beside it names the product
          img.loading = "lazy";
          img.width = img.height = 40;
          img.setAttribute("part", "item-image");
          li.append(img);
        }
        const price = document.createElement("span");
        price.textContent = this.#money(item.price);
        li.append(name, price);
        items.append(li);
      }
      const prices = document.createElement("div");
      prices.className = "price-row";
      prices.setAttribute("part", "price");
      const hidden = (text) => {
        const span = document.createElement("span");
        span.className = "visually-hidden";
        span.textContent = text;
        return span;
      };
      const final = document.createElement("strong");
      final.className = "bundle-price";
      final.setAttribute("part", "bundle-price");
      final.textContent = this.#money(bundle.bundlePrice);
      if (bundle.discount > 0) {
        // Was/now for assistive technology; the struck-through price reads as "was".
        const base = document.createElement("del");
        base.className = "base";
        base.setAttribute("part", "base-price");
        base.textContent = this.#money(bundle.basePrice);
        const save = document.createElement("span");
        save.className = "discount";
        save.setAttribute("part", "discount");
        save.textContent = this.#t("ui_save", { amount: this.#money(bundle.discount) });
        prices.append(hidden(this.#t("ui_now")), final, hidden(this.#t("ui_was")), base, save);
      } else {
        prices.append(final);
      }
      const reasons = document.createElement("ul");
      reasons.className = "reasons";
      reasons.setAttribute("part", "reasons");
      bundle.reasons.forEach((english, k) => {
        const li = document.createElement("li");
        li.setAttribute("part", "reason");
        li.textContent = this.#reason(bundle.reasonCodes?.[k], english);
        reasons.append(li);
      });
      const add = document.createElement("button");
      add.type = "button";
      add.setAttribute("part", "add-button");
      add.textContent = this.#t(bundle.items.length > 1 ? "ui_add_bundle" : "ui_add_item");
      const names = bundle.items.map((i) => i.title);
      add.setAttribute("aria-label", this.#t("ui_add_label", {
        action: add.textContent, names, price: this.#money(bundle.bundlePrice),
      }));
      const about = {
        id, position, items: bundle.items.map((i) => i.id), basePrice: bundle.basePrice, bundlePrice: bundle.bundlePrice,
      };
      add.addEventListener("click", () => {
        const claim = {
          cart: offeredFor,
          bundle: { items: bundle.items.map((i) => i.id), bundlePrice: bundle.bundlePrice },
          exportDigest: this.exportDigest,
        };
        this.#emit("cartwise-click", about);
        this.#emit("cartwise-add-bundle", {
          ...about, items: bundle.items, discount: bundle.discount, claim,
        });
      });
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "dismiss";
      dismiss.setAttribute("part", "dismiss-button");
      dismiss.textContent = this.#t("ui_dismiss");
      dismiss.setAttribute("aria-label", `${dismiss.textContent}: ${names.join(", ")}`);
      dismiss.addEventListener("click", () => {
        this._dismissed.add(id);
        this.#emit("cartwise-dismiss", about);
        this.#render();
      });
      if (focused !== null && card.dataset.items === focused) refocus = add;
      const actions = document.createElement("div");
      actions.className = "actions";
      actions.append(add, dismiss);
      card.append(items, prices, reasons, actions);
      list.append(card);
    }
    body.append(list);
    const n = shown.length;
    status.textContent = this.#t("ui_suggested", { n });
    if (focused !== null) (refocus ?? list.querySelector("button"))?.focus();
  }
}

if (globalThis.customElements && !customElements.get("cartwise-bundles")) {
  customElements.define("cartwise-bundles", CartwiseBundles);
}
