// <cartwise-bundles model="URL" k="3" currency="USD" backend="auto" history="on"
//   public-key="HEX" integrity="sha256-…">: renders bundle suggestions for a cart.
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
//   "cartwise-add-bundle" detail: {items: [{id, title, price}], discount, bundlePrice, claim}
//     `claim` is what the shop's server verifies at checkout (`engine.verifyBundle` in Node,
//     `cartwise verify`): {cart: [ids the bundle was offered for], bundle: {items: [ids],
//     bundlePrice}, exportDigest: "sha256-…" of the export the offer came from}
//   "cartwise-error"      detail: {message}
// `element.client` exposes the worker as promises: suggest(cart, options), info(), products(offset, limit).

import { CartwiseHistory } from "./cartwise-history.js";

/**
 * A promise-based handle on the engine worker. By default the worker is this package's
 * `cartwise-worker.js`, written as `new Worker(new URL(…, import.meta.url))` so bundlers that
 * follow that pattern (Vite, webpack) ship it; `workerUrl` points elsewhere (a bundler's output,
 * or a CDN: a cross-origin worker starts through a same-origin blob that imports it), and
 * `wasmUrl` tells the worker where `cartwise_bg.wasm` is when it is not beside the glue code.
 */
export class CartwiseClient {
  constructor({ workerUrl = null, wasmUrl = null } = {}) {
    this.wasmUrl = wasmUrl ? new URL(wasmUrl, document.baseURI).href : null;
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
    this.pending = new Map();
    this.nextId = 1;
    this.worker.onmessage = (event) => {
      const { id, ok, result, error } = event.data;
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      ok ? waiter.resolve(result) : waiter.reject(new Error(error));
    };
    this.worker.onerror = (event) => {
      const err = new Error(`cartwise worker failed: ${event.message ?? "unknown error"}`);
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
  }
  call(message, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
  /** Loads export bytes (an ArrayBuffer, transferred to the worker); `backend` as Engine.load. */
  load(bytes, backend = "auto", publicKey = null) {
    return this.call({ type: "load", bytes, backend, publicKey, wasmUrl: this.wasmUrl }, [bytes]);
  }
  suggest(cart, options) { return this.call({ type: "suggest", cart, options }); }
  info() { return this.call({ type: "info" }); }
  products(offset = 0, limit = 24) { return this.call({ type: "products", offset, limit }); }
  terminate() { this.worker.terminate(); }
}

const entryId = (entry) => (typeof entry === "string" ? entry : entry.id);

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; }
h3 { margin: 0 0 8px; font-size: 15px; }
.bundles { display: grid; gap: 10px; }
.bundle { border: 1px solid #d8dde8; border-radius: 10px; padding: 10px 12px; background: #fff; }
.items { margin: 0; padding: 0; list-style: none; }
.items li { display: flex; justify-content: space-between; gap: 12px; }
.price-row { display: flex; align-items: baseline; gap: 8px; margin: 6px 0; }
.base { text-decoration: line-through; color: #7a8294; }
.bundle-price { font-weight: 700; font-size: 16px; }
.discount { color: #0a7d3b; font-weight: 600; }
.reasons { margin: 4px 0 8px; padding-left: 18px; color: #4a5266; font-size: 12px; }
button { background: #1f5eff; color: #fff; border: 0; border-radius: 6px; padding: 6px 12px; cursor: pointer; }
.empty { color: #7a8294; }
`;

export class CartwiseBundles extends HTMLElement {
  static observedAttributes = ["model", "k", "public-key", "integrity"];

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.client = null;
    this._cart = { items: [] };
    this._ready = null;
    this._seq = 0;
    this.bundles = [];
    /** Per-call options merged into every suggestion: merchant rules, stock levels, new products (`newItems`). */
    this.options = {};
    this._history = undefined;
  }

  /** The shopper's on-device history, or null with `history="off"`. */
  get history() {
    if (this.getAttribute("history") === "off") return null;
    this._history ??= new CartwiseHistory();
    return this._history;
  }

  connectedCallback() { this.#ensureLoaded(); }
  disconnectedCallback() { this.client?.terminate(); this.client = null; this._ready = null; }
  attributeChangedCallback(name, oldValue, newValue) {
    const reloads = ["model", "public-key", "integrity"].includes(name);
    if (reloads && oldValue !== null && oldValue !== newValue && this.client) {
      this._ready = null;
      this.#ensureLoaded();
    } else if (name === "k" && this._ready) {
      this.#refresh();
    }
  }

  /** Resolves with engine info once the export is loaded. */
  get ready() { return this.#ensureLoaded(); }

  get cart() { return this._cart; }
  set cart(value) {
    const before = new Set(this._cart.items.map(entryId));
    this._cart = value ?? { items: [] };
    for (const id of this._cart.items.map(entryId)) {
      if (!before.has(id)) this.history?.record("cart", id);
    }
    this.#refresh();
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
      const response = await fetch(url, integrity ? { integrity } : {});
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

  #money(minor) {
    const currency = this.getAttribute("currency") ?? "USD";
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
  }

  #render() {
    const offeredFor = this.bundlesCart;
    const root = this.shadowRoot;
    root.replaceChildren();
    const style = document.createElement("style");
    style.textContent = STYLE;
    const title = document.createElement("h3");
    title.textContent = "Complete your cart";
    root.append(style, title);
    if (!this._cart.items.length || !this.bundles.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = this._cart.items.length ? "No bundles for this cart." : "Add an item to see bundles.";
      root.append(empty);
      return;
    }
    const list = document.createElement("div");
    list.className = "bundles";
    for (const bundle of this.bundles) {
      const card = document.createElement("div");
      card.className = "bundle";
      card.dataset.items = bundle.items.map((i) => i.id).join(",");
      const items = document.createElement("ul");
      items.className = "items";
      for (const item of bundle.items) {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = item.title;
        const price = document.createElement("span");
        price.textContent = this.#money(item.price);
        li.append(name, price);
        items.append(li);
      }
      const prices = document.createElement("div");
      prices.className = "price-row";
      const final = document.createElement("span");
      final.className = "bundle-price";
      final.textContent = this.#money(bundle.bundlePrice);
      prices.append(final);
      if (bundle.discount > 0) {
        const base = document.createElement("span");
        base.className = "base";
        base.textContent = this.#money(bundle.basePrice);
        const save = document.createElement("span");
        save.className = "discount";
        save.textContent = `Save ${this.#money(bundle.discount)}`;
        prices.append(base, save);
      }
      const reasons = document.createElement("ul");
      reasons.className = "reasons";
      for (const reason of bundle.reasons) {
        const li = document.createElement("li");
        li.textContent = reason;
        reasons.append(li);
      }
      const add = document.createElement("button");
      add.type = "button";
      add.textContent = bundle.items.length > 1 ? "Add bundle" : "Add to cart";
      add.addEventListener("click", () => {
        const claim = {
          cart: offeredFor,
          bundle: { items: bundle.items.map((i) => i.id), bundlePrice: bundle.bundlePrice },
          exportDigest: this.exportDigest,
        };
        this.dispatchEvent(new CustomEvent("cartwise-add-bundle", {
          detail: { items: bundle.items, discount: bundle.discount, bundlePrice: bundle.bundlePrice, claim },
          bubbles: true,
        }));
      });
      card.append(items, prices, reasons, add);
      list.append(card);
    }
    root.append(list);
  }
}

if (!customElements.get("cartwise-bundles")) customElements.define("cartwise-bundles", CartwiseBundles);
