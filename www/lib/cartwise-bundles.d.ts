import type { CartwiseHistory } from "./cartwise-history.js";
import type { Bundle, Cart, Currency, EngineInfo, ProductInfo, Suggestions, SuggestOptions } from "../../pkg/cartwise.js";

/** Where the worker and the wasm are served, when a bundler or a CDN moved them. */
export interface ClientOptions { workerUrl?: string | URL | null; wasmUrl?: string | URL | null }

/** A promise-based handle on the engine worker. */
export declare class CartwiseClient {
  constructor(options?: ClientOptions);
  load(bytes: ArrayBuffer, backend?: "auto" | "webgpu" | "cpu", publicKey?: string | null): Promise<EngineInfo>;
  suggest(cart: Cart, options?: SuggestOptions): Promise<Suggestions>;
  info(): Promise<EngineInfo>;
  products(offset?: number, limit?: number): Promise<ProductInfo[]>;
  terminate(): void;
}

/** What checkout verifies (`engine.verifyBundle`): the offer as the shopper took it. */
export interface BundleClaim {
  cart: string[];
  bundle: { items: string[]; bundlePrice: number };
  /** "sha256-…" of the export the offer came from. */
  exportDigest: string;
}

/** `cartwise-add-bundle` event detail. */
export interface AddBundleDetail {
  items: { id: string; title: string; price: number }[];
  discount: number;
  bundlePrice: number;
  claim: BundleClaim;
}

/** `<cartwise-bundles model="URL" k="3" currency="USD" backend="auto" history="on"
 * public-key="HEX" integrity="sha256-…" worker-url="URL" wasm-url="URL">`. Prices are shown
 * in the export's currency with its decimals; a `currency` attribute that names another is an
 * error (`cartwise-error`, nothing shown), and names the currency of exports before format 7. */
export declare class CartwiseBundles extends HTMLElement {
  /** Set on every cart change. */
  cart: Cart;
  /** Merged into every suggestion's options (may only tighten the export's rules). */
  options: SuggestOptions;
  /** The suggestions shown. */
  bundles: Bundle[];
  /** The currency of the prices shown (from the last answer). */
  priceCurrency?: Currency;
  /** "sha256-…" of the loaded export. */
  exportDigest?: string;
  readonly history: CartwiseHistory | null;
  /** Resolves with engine info once the export is loaded. */
  readonly ready: Promise<EngineInfo>;
  client: CartwiseClient | null;
}

declare global {
  interface HTMLElementTagNameMap { "cartwise-bundles": CartwiseBundles }
  interface HTMLElementEventMap {
    "cartwise-ready": CustomEvent<EngineInfo>;
    "cartwise-add-bundle": CustomEvent<AddBundleDetail>;
    "cartwise-error": CustomEvent<{ message: string }>;
  }
}
