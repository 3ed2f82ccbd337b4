//! The JS API of the wasm32 build: `Engine.fromBytes` / `Engine.load`, `suggest` /
//! `suggestAsync`, `info`, `products`, `modelScores`, `probeGpu`.
//!
//! Every export returns `Result<_, JsError>`, so a bad export, cart or option reaches JS as an
//! `Error` with a message. A panic (a bug, or memory running out) cannot be caught in wasm: it
//! traps the instance, and the panic hook leaves its message in `globalThis.cartwisePanic`; the
//! worker (`www/lib/cartwise-worker.js`) reports it as the call's error and its client starts a
//! fresh instance for the next call.

use crate::serve::export::{signature, Export};
use crate::serve::kernel::backend::{Backend, Mode, Status, CALIBRATION_QUERIES};
use crate::serve::kernel::probe::probe;
use crate::serve::suggest::verify::Claim;
use crate::serve::suggest::{self, Cart, SuggestOptions};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A cart entry: an item id, or an id with a quantity; `title` lets the basket model read an
 * item the export has never seen (cold start; it is then named in `coldStart`). */
export type CartEntry = string | { id: string; qty?: number; title?: string };
/** The shopper's cart; `history` is the shopper's on-device history (item ids, most relevant
 * first, e.g. from `CartwiseHistory.ids()`), read by a model trained with history. Budgets
 * (each exceeded one throws an Error naming the field): at most 500 items and 500 history ids,
 * ids of at most 256 bytes, titles of at most 1,000; nesting at most 32 deep, at most 250,000
 * values and strings of at most 4,096 characters in any input. */
export interface Cart { items: CartEntry[]; history?: string[] }
/** Per-call options; each falls back to the export's merchant rules, which an option may only
 * tighten (anything looser, or an unknown key, throws an Error naming the limit or key).
 * Budgets: at most 1,000 entries in each of `exclude`, `excludeCategories`, `noDiscount` and
 * `noDiscountCategories`, 100 `pinned`, 100,000 `stock` entries, 1,000 `newItems` (titles of at
 * most 1,000 bytes, prices 0 to 10^15 minor units). */
export interface SuggestOptions {
  /** Ranked items and bundles to return, 1..100 (default 5). */
  k?: number;
  /** Calendar month 1..12 for seasonal factors (default: the current UTC month). */
  month?: number;
  /** Largest bundle discount as a fraction of its price (0.15 = 15%), at most the export's. */
  maxDiscount?: number;
  /** Smallest margin over cost a discounted bundle keeps (0.2 = 20%), at least the export's. */
  minMargin?: number;
  /** Item ids / categories not to suggest in this call (added to the export's). */
  exclude?: string[];
  excludeCategories?: string[];
  /** Item ids / categories suggested but never discounted in this call. */
  noDiscount?: string[];
  noDiscountCategories?: string[];
  /** A discount's form: any amount, whole percents, or whole currency units (narrows "any"). */
  discountForm?: "any" | "percent" | "amount";
  /** A discounted bundle price's ending: any, x.99, or x.00 (narrows "any"). */
  priceEnding?: "any" | "99" | "whole";
  /** Bundles shown first when the cart holds any `when` id (always when empty), priced by the
   * export's rules (fixed prices come only from the export). */
  pinned?: { when?: string[]; items: string[] }[];
  /** Units in stock per item id: items at 0 are not suggested. */
  stock?: Record<string, number>;
  /** Products the export has never seen, ranked and bundled by their titles (price in minor
   * units); a bundle holding one is never discounted. */
  newItems?: { id: string; title: string; category: string; price?: number }[];
  /** Of the `k` places, how many at least go to the best new items (default 1). */
  newItemSlots?: number;
}
/** An item in a bundle; price in minor units. */
export interface BundleItem {
  id: string; title: string; price: number;
  /** The product's image and page, when the catalog has them (https, http or site-relative). */
  image?: string; url?: string;
}
/** A priced, explained bundle of add-ons; money in minor units. */
export interface Bundle {
  items: BundleItem[]; basePrice: number; discount: number; bundlePrice: number;
  score: number; reasons: string[];
  /** The smallest stock of its items, when `stock` gave every item's. */
  stock?: number;
}
/** The currency every amount is in: ISO 4217 code (null in exports before format 7, which
 * count hundredths of a currency they do not name) and its decimals (JPY 0, USD 2, KWD 3):
 * an amount of `m` minor units is `m / 10 ** exponent` of the currency. */
export interface Currency { code: string | null; exponent: number }
/** Suggestions for a cart: item ranking (ids, best first) and bundles. */
export interface Suggestions {
  items: string[]; bundles: Bundle[]; unknown?: string[]; unknownHistory?: string[];
  /** Cart ids the export does not know that the basket model read by their titles. */
  coldStart?: string[];
  /** The currency the bundles' prices are in. */
  currency: Currency;
}
/** How `Engine.load` picks the catalog-scoring backend (default "auto": calibrate). */
export interface LoadOptions {
  backend?: "auto" | "webgpu" | "cpu";
  /** The shop's Ed25519 public key (64 hex digits, from `cartwise keygen`): the export must be
   * signed by it (`train --sign`), or loading throws. */
  publicKey?: string;
}
/** What the engine loaded and how it computes. `backend` is what `suggestAsync` scores the
 * catalog with; `suggest` (synchronous) always uses the CPU kernel, with identical results. */
export interface EngineInfo {
  catalogSize: number; orders: number; neighbours: number; itemsets: number;
  modelDims: number; backend: "webgpu" | "cpu"; exportVersion: number; exportBytes: number;
  /** History items the basket model reads (`cart.history`); 0 when it takes none. */
  modelHistory: number;
  /** Why this backend: forced, the calibration's figures, or the GPU error that ended it. */
  backendReason: string;
  /** The WebGPU adapter opened at load, if one was. */
  gpuAdapter: string | null;
  /** Calibration medians of one catalog scoring, in milliseconds, when one ran. */
  calibration: { cpuMs: number; gpuMs: number | null } | null;
  /** Calls the GPU failed and the CPU answered instead (the GPU is then dropped). */
  gpuFallbacks: number;
  /** The currency the export's prices are in. */
  currency: Currency;
}
/** Both catalog-scoring kernels on this export's item table (int8), one query per cart change. */
export interface GpuProbe {
  adapter: string | null; error: string | null; identical: boolean; queries: number;
  rows: number; tiles: number; cpuMs: number; gpuMs: number | null;
}
/** The basket model's top completions of a cart: ids best first, with their logits. */
export interface ModelScores { items: string[]; scores: number[]; unknown?: string[] }
/** A bundle offer as checkout sees it: the cart it was offered with (ids or `{id, qty}`) and the
 * bundle's add-on ids and price in minor units. */
export interface BundleClaim { cart: CartEntry[]; bundle: { items: string[]; bundlePrice: number } }
/** Whether a claimed bundle price stands; `allowedPrice` is the lowest price the export's rules
 * give these items with this cart (null when an item is not in the export). */
export interface Verdict { ok: boolean; allowedPrice: number | null; reason: string }
/** A catalog entry for listing products. */
export interface ProductInfo {
  id: string; title: string; category: string; price: number | null; orders: number;
  image?: string; url?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "Cart")]
    pub type JsCart;
    #[wasm_bindgen(typescript_type = "SuggestOptions | undefined")]
    pub type JsOptions;
    #[wasm_bindgen(typescript_type = "Suggestions")]
    pub type JsSuggestions;
    #[wasm_bindgen(typescript_type = "Promise<Suggestions>")]
    pub type JsSuggestionsPromise;
    #[wasm_bindgen(typescript_type = "LoadOptions | undefined")]
    pub type JsLoadOptions;
    #[wasm_bindgen(typescript_type = "EngineInfo")]
    pub type JsInfo;
    #[wasm_bindgen(typescript_type = "ProductInfo[]")]
    pub type JsProducts;
    #[wasm_bindgen(typescript_type = "ModelScores")]
    pub type JsModelScores;
    #[wasm_bindgen(typescript_type = "Promise<GpuProbe>")]
    pub type JsGpuProbe;
    #[wasm_bindgen(typescript_type = "BundleClaim")]
    pub type JsClaim;
    #[wasm_bindgen(typescript_type = "Verdict")]
    pub type JsVerdict;
}

/// The in-browser engine over one loaded export.
#[wasm_bindgen]
pub struct Engine {
    /// Shared with the futures of `suggestAsync`, which outlive the call that made them.
    inner: Rc<suggest::Engine>,
    backend: Rc<Backend>,
    export_bytes: usize,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, rename_all = "camelCase")]
struct LoadOptions {
    backend: Mode,
    /// The shop's Ed25519 public key (64 hex digits): the export must be signed by it.
    public_key: Option<String>,
}

/// Load options from JS (`undefined` and `null` are the defaults).
fn load_options(options: JsValue) -> Result<LoadOptions, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(LoadOptions::default());
    }
    from_js(options).map_err(|e| JsError::new(&format!("cartwise: load options: {e}")))
}

/// Where one calibration query comes from: the catalog's most popular items, each as a
/// one-item cart, so the calibration times the queries shoppers' carts make.
fn calibration_queries(engine: &suggest::Engine) -> Result<Option<(Vec<f32>, usize)>, JsError> {
    // One-item carts without a history, ranked as such a call would be.
    let blend = engine.export().blend_for(&[]);
    let mut vectors = Vec::new();
    let mut k = 0;
    for item in engine
        .export()
        .assoc
        .by_popularity()
        .into_iter()
        .take(CALIBRATION_QUERIES)
    {
        match engine
            .model_query(&suggest::Query::new(&[item], 1, blend))
            .map_err(js_error)?
        {
            Some(q) => {
                k = q.k;
                vectors.extend(q.vector);
            }
            None => return Ok(None),
        }
    }
    Ok((!vectors.is_empty()).then_some((vectors, k)))
}

/// The largest table `probeGpu` builds: 4 million rows of 64 int8 values are 256 MiB.
const MAX_PROBE_ROWS: u32 = 4_000_000;

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("cartwise: {e}"))
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cartwise: could not build the result: {e}")))
}

/// `performance.now()` of the page or worker, in milliseconds.
fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| {
            let now = js_sys::Reflect::get(&p, &"now".into()).ok()?;
            now.dyn_into::<js_sys::Function>()
                .ok()?
                .call0(&p)
                .ok()?
                .as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

fn options_from_js(options: JsOptions) -> Result<SuggestOptions, JsError> {
    let options: JsValue = options.into();
    if options.is_undefined() || options.is_null() {
        return Ok(SuggestOptions::default());
    }
    check_lengths(&options, &crate::serve::suggest::budget::OPTION_LISTS)?;
    from_js(options).map_err(|e| JsError::new(&format!("cartwise: options: {e}")))
}

/// Refuses a list over its budget by its length alone, before any of it is copied.
fn check_lengths(
    value: &JsValue,
    lists: &[crate::serve::suggest::budget::ListBudget],
) -> Result<(), JsError> {
    for budget in lists {
        let list = js_sys::Reflect::get(value, &budget.key.into()).unwrap_or(JsValue::UNDEFINED);
        if js_sys::Array::is_array(&list) {
            let len = list.unchecked_ref::<js_sys::Array>().length() as usize;
            crate::serve::suggest::budget::within(budget.field, len, budget.max, "entries")
                .map_err(js_error)?;
        }
    }
    Ok(())
}

/// Deepest nesting a call's input may have (a cart is 3 deep, options 4).
const MAX_DEPTH: usize = 32;
/// Most values (arrays, objects, strings, numbers) in one input.
const MAX_VALUES: usize = 250_000;
/// Longest string in an input, in UTF-16 units (field budgets are tighter).
const MAX_STRING: u32 = 4_096;

/// Bounds an input's shape before anything is copied out of it: nesting depth, value count
/// and string length, walked without recursion, so a 100,000-deep array or a megabyte title is
/// an error at once rather than a stack overflow or a gigabyte copy.
fn check_shape(value: &JsValue) -> Result<(), String> {
    let mut stack = vec![(value.clone(), 0usize)];
    let mut seen = 0usize;
    while let Some((v, depth)) = stack.pop() {
        seen += 1;
        if seen > MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} values"));
        }
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if v.is_string() {
            let len = js_sys::JsString::from(v).length();
            if len > MAX_STRING {
                return Err(format!(
                    "a string of {len} characters (at most {MAX_STRING})"
                ));
            }
        } else if js_sys::Array::is_array(&v) {
            stack.extend(
                v.unchecked_ref::<js_sys::Array>()
                    .iter()
                    .map(|x| (x, depth + 1)),
            );
        } else if v.is_object() {
            let object: &js_sys::Object = v.unchecked_ref();
            stack.extend(
                js_sys::Object::values(object)
                    .iter()
                    .map(|x| (x, depth + 1)),
            );
        }
    }
    Ok(())
}

/// A JS value as `T`, through JSON so `deny_unknown_fields` sees every key: serde-wasm-bindgen
/// reads a struct's known fields only and would pass a misspelt option over in silence.
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, String> {
    check_shape(&value)?;
    let json: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// Where the panic hook leaves a panic's message: `globalThis.cartwisePanic`.
const PANIC_GLOBAL: &str = "cartwisePanic";

/// Runs when the module is instantiated: installs the panic hook. A panic (a bug, or memory
/// running out) aborts the instance with a bare "unreachable" trap; the hook first leaves its
/// message where the caller can read it (`globalThis.cartwisePanic`, which the worker turns
/// into the failed call's error before it replaces the dead instance) and on the console.
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let message = format!("cartwise panicked{at}: {what}");
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &PANIC_GLOBAL.into(),
            &message.as_str().into(),
        );
        web_sys::console::error_1(&message.into());
    }));
}

/// Test hook, never called by the package: panics with `message`, so tests can show that a
/// trapped instance's message reaches the caller and that the worker replaces the instance.
#[wasm_bindgen(js_name = __panicForTests)]
pub fn panic_for_tests(message: &str) {
    panic!("{message}");
}

/// The caller's calendar month, for seasonal factors when the options name none.
fn clock_month() -> u8 {
    js_sys::Date::new_0().get_utc_month() as u8 + 1
}

fn cart_from_js(cart: JsCart) -> Result<Cart, JsError> {
    use crate::serve::suggest::budget::CART_LISTS;
    let cart: JsValue = cart.into();
    if cart.is_object() {
        check_lengths(&cart, &CART_LISTS)?;
    }
    from_js(cart).map_err(|e| {
        JsError::new(&format!(
            "cartwise: cart must be {{items: [{{id, qty}}]}}: {e}"
        ))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    catalog_size: usize,
    orders: u32,
    neighbours: usize,
    itemsets: usize,
    model_dims: u32,
    model_history: usize,
    backend: &'static str,
    export_version: u32,
    export_bytes: usize,
    backend_reason: String,
    gpu_adapter: Option<String>,
    calibration: Option<Calibration>,
    gpu_fallbacks: u32,
    currency: CurrencyInfo<'a>,
}

/// The currency of the export's amounts, as JS reads it.
#[derive(Serialize)]
struct CurrencyInfo<'a> {
    code: Option<&'a str>,
    exponent: u8,
}

impl<'a> CurrencyInfo<'a> {
    fn of(engine: &'a suggest::Engine) -> Self {
        let currency = engine.export().catalog.currency();
        Self {
            code: currency.code(),
            exponent: currency.exponent(),
        }
    }
}

/// A suggestion answer with the currency its prices are in.
#[derive(Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    suggestions: &'a suggest::Suggestions,
    currency: CurrencyInfo<'a>,
}

impl<'a> Answer<'a> {
    fn new(engine: &'a suggest::Engine, suggestions: &'a suggest::Suggestions) -> Self {
        Self {
            suggestions,
            currency: CurrencyInfo::of(engine),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Calibration {
    cpu_ms: f64,
    gpu_ms: Option<f64>,
}

#[derive(Serialize)]
struct ProductInfo<'a> {
    id: &'a str,
    title: &'a str,
    category: &'a str,
    price: Option<i64>,
    orders: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[wasm_bindgen]
impl Engine {
    /// Loads an export file's bytes; a truncated, corrupted or newer file is an `Error`, and
    /// so is one not signed by `options.publicKey` when given. Catalog scoring runs on the CPU
    /// kernel; `Engine.load` may choose WebGPU.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], options: JsLoadOptions) -> Result<Engine, JsError> {
        let options = load_options(options.into())?;
        let inner = Self::engine(bytes, options.public_key.as_deref())?;
        Ok(Engine {
            inner: Rc::new(inner),
            backend: Rc::new(Backend::cpu(
                "Engine.fromBytes scores on the CPU; Engine.load chooses WebGPU where it pays",
            )),
            export_bytes: bytes.len(),
        })
    }

    /// Loads an export file's bytes and chooses the catalog-scoring backend for `suggestAsync`:
    /// `backend: "auto"` (default) times both kernels on the real catalog and keeps WebGPU only
    /// where it is faster, `"webgpu"` uses WebGPU whenever it runs and ranks as the CPU does,
    /// `"cpu"` opens no GPU. The choice and why are in `info()`.
    pub async fn load(bytes: Vec<u8>, options: JsLoadOptions) -> Result<Engine, JsError> {
        let options = load_options(options.into())?;
        let inner = Self::engine(&bytes, options.public_key.as_deref())?;
        let backend = match (options.backend, calibration_queries(&inner)?) {
            (Mode::Cpu, _) => Backend::cpu("forced by the caller"),
            (_, None) => {
                Backend::cpu("this export's blend does not score the catalog with a model")
            }
            (mode, Some((queries, k))) => {
                let table = &inner.scoring_table().expect("a model query").table;
                Backend::choose(table, mode, &queries, k, now_ms).await
            }
        };
        Ok(Engine {
            inner: Rc::new(inner),
            backend: Rc::new(backend),
            export_bytes: bytes.len(),
        })
    }

    fn engine(bytes: &[u8], public_key: Option<&str>) -> Result<suggest::Engine, JsError> {
        if let Some(key) = public_key {
            let key = signature::parse_public_key(key).map_err(js_error)?;
            signature::verify(bytes, &key).map_err(js_error)?;
        }
        let export = Export::from_bytes(bytes).map_err(js_error)?;
        suggest::Engine::new(export).map_err(js_error)
    }

    /// Suggests add-ons and priced bundles for a cart, scoring the catalog on the CPU kernel.
    pub fn suggest(&self, cart: JsCart, options: JsOptions) -> Result<JsSuggestions, JsError> {
        let cart = cart_from_js(cart)?;
        let options = options_from_js(options)?;
        let out = self
            .inner
            .suggest(&cart, &options, clock_month())
            .map_err(js_error)?;
        Ok(to_js(&Answer::new(&self.inner, &out))?.unchecked_into())
    }

    /// `suggest` with the catalog scored on the backend `Engine.load` chose; resolves with the
    /// same answer `suggest` gives. A GPU error or lost device moves this call and every later
    /// one to the CPU (see `info().gpuFallbacks`); bad input rejects with an `Error`.
    #[wasm_bindgen(js_name = suggestAsync)]
    pub fn suggest_async(&self, cart: JsCart, options: JsOptions) -> JsSuggestionsPromise {
        let begun = cart_from_js(cart).and_then(|cart| {
            let options = options_from_js(options)?;
            self.inner
                .begin(&cart, &options, clock_month())
                .map_err(js_error)
        });
        let pending = match begun {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&e.into()).unchecked_into(),
        };
        let (inner, backend) = (self.inner.clone(), self.backend.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let hits = match (pending.query(), inner.scoring_table()) {
                (Some(q), Some(t)) => Some(
                    backend
                        .top_k(&t.table, &q.vector, q.k)
                        .await
                        .map_err(|e| JsValue::from(js_error(e)))?,
                ),
                _ => None,
            };
            let out = inner
                .finish(pending, hits)
                .map_err(|e| JsValue::from(js_error(e)))?;
            to_js(&Answer::new(&inner, &out)).map_err(JsValue::from)
        })
        .unchecked_into()
    }

    /// Checkout verification, for the shop's server (this package runs in Node too): whether
    /// a bundle offered with a cart keeps the export's rules and is priced at least as the
    /// engine prices it from the export, the cart's and the bundle's ids alone. The same
    /// verdict as `cartwise verify` natively; an `Error` only when the claim is malformed.
    #[wasm_bindgen(js_name = verifyBundle)]
    pub fn verify_bundle(&self, claim: JsClaim) -> Result<JsVerdict, JsError> {
        let claim: Claim = from_js(claim.into()).map_err(|e| {
            JsError::new(&format!(
                "cartwise: claim must be {{cart: [ids], bundle: {{items: [ids], bundlePrice}}}}: {e}"
            ))
        })?;
        Ok(to_js(&self.inner.verify(&claim))?.unchecked_into())
    }

    /// The basket model's own top `k` completions of a cart with their logits; an `Error` when
    /// the export has no model. The same numbers as `cartwise score` natively.
    #[wasm_bindgen(js_name = modelScores)]
    pub fn model_scores(&self, cart: JsCart, k: u32) -> Result<JsModelScores, JsError> {
        let cart = cart_from_js(cart)?;
        let out = self.inner.model_scores(&cart, k).map_err(js_error)?;
        Ok(to_js(&out)?.unchecked_into())
    }

    /// Runs the catalog-scoring kernels on WebGPU and on the CPU over this export's item table
    /// (int8), with the vectors of the `queries` most popular items as queries: the adapter,
    /// whether both rank identically, and the median time of one query on each. `rows` repeats
    /// the table's rows to that many (measuring a larger catalog on this device) and `k` is the
    /// list length (default 10). Resolves with `adapter: null` and the reason where WebGPU
    /// cannot run; an `Error` without a model.
    #[wasm_bindgen(js_name = probeGpu)]
    pub fn probe_gpu(
        &self,
        queries: u32,
        rows: Option<u32>,
        k: Option<u32>,
    ) -> Result<JsGpuProbe, JsError> {
        let mut table = self
            .inner
            .scoring_table()
            .ok_or_else(|| JsError::new("cartwise: this export has no basket model to score with"))?
            .table
            .clone();
        if let Some(rows) = rows {
            if !(1..=MAX_PROBE_ROWS).contains(&rows) {
                return Err(js_error(format!(
                    "probeGpu rows: {rows} is not between 1 and {MAX_PROBE_ROWS}"
                )));
            }
            table = table.cycled(rows as usize);
        }
        let k = k.unwrap_or(10) as usize;
        if !(1..=crate::serve::kernel::gpu::MAX_K).contains(&k) {
            return Err(js_error(format!(
                "probeGpu k: {k} is not between 1 and {}",
                crate::serve::kernel::gpu::MAX_K
            )));
        }
        let popular = self.inner.export().assoc.by_popularity();
        let popular = &popular[..popular.len().min(queries.clamp(1, 1_000) as usize)];
        let picked = self
            .inner
            .model()
            .ok_or_else(|| JsError::new("cartwise: this export has no basket model"))?
            .item_vectors_of(popular)
            .map_err(|e| JsError::new(&format!("cartwise: model item table: {e}")))?;
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            let found = probe(&table, &picked, k, now_ms).await;
            to_js(&found).map_err(JsValue::from)
        });
        Ok(promise.unchecked_into())
    }

    /// Catalog size, counts, model dimensions, compute backend and export version.
    pub fn info(&self) -> Result<JsInfo, JsError> {
        let export = self.inner.export();
        let Status {
            backend,
            reason,
            adapter,
            cpu_ms,
            gpu_ms,
            fallbacks,
        } = self.backend.status();
        let info = Info {
            catalog_size: export.catalog.len(),
            orders: export.assoc.orders,
            neighbours: export.assoc.neighbors.len(),
            itemsets: export.itemsets.len(),
            model_dims: export.model.as_ref().map_or(0, |m| m.config.dim as u32),
            model_history: export.model.as_ref().map_or(0, |m| m.config.max_history),
            backend,
            export_version: export.version,
            export_bytes: self.export_bytes,
            backend_reason: reason,
            gpu_adapter: adapter,
            calibration: cpu_ms.map(|cpu_ms| Calibration { cpu_ms, gpu_ms }),
            gpu_fallbacks: fallbacks,
            currency: CurrencyInfo::of(&self.inner),
        };
        Ok(to_js(&info)?.unchecked_into())
    }

    /// Products by popularity (most ordered first), `limit` of them from `offset`: for listings.
    pub fn products(&self, offset: u32, limit: u32) -> Result<JsProducts, JsError> {
        let export = self.inner.export();
        let (counts, links) = (&export.assoc.item_counts, &export.links);
        let list: Vec<ProductInfo> = export
            .assoc
            .by_popularity()
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|i| {
                let p = export.catalog.get(i);
                ProductInfo {
                    id: &p.id,
                    title: &p.title,
                    category: &p.category,
                    price: p.price,
                    orders: counts[i as usize],
                    image: links.get(i).0,
                    url: links.get(i).1,
                }
            })
            .collect();
        Ok(to_js(&list)?.unchecked_into())
    }
}
