//! The JS API of the wasm32 build: `Engine.fromBytes`, `suggest`, `info`, `products`,
//! `modelScores`.
//!
//! Every export returns `Result<_, JsError>`, so a bad export, cart or option reaches JS as an
//! `Error` with a message, never as a panic.

use crate::export::{Export, VERSION};
use crate::kernel::probe::probe;
use crate::kernel::ItemTable;
use crate::suggest::{self, Cart, SuggestOptions};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A cart entry: an item id, or an id with a quantity. */
export type CartEntry = string | { id: string; qty?: number };
/** The shopper's cart. */
export interface Cart { items: CartEntry[] }
/** Per-call options; each falls back to the export's merchant rules. */
export interface SuggestOptions {
  /** Ranked items and bundles to return, 1..100 (default 5). */
  k?: number;
  /** Calendar month 1..12 for seasonal factors (default: the current UTC month). */
  month?: number;
  /** Largest bundle discount as a fraction of its price (0.15 = 15%). */
  maxDiscount?: number;
  /** Smallest margin over cost a discounted bundle keeps (0.2 = 20%). */
  minMargin?: number;
}
/** An item in a bundle; price in minor units. */
export interface BundleItem { id: string; title: string; price: number }
/** A priced, explained bundle of add-ons; money in minor units. */
export interface Bundle {
  items: BundleItem[]; basePrice: number; discount: number; bundlePrice: number;
  score: number; reasons: string[];
}
/** Suggestions for a cart: item ranking (ids, best first) and bundles. */
export interface Suggestions { items: string[]; bundles: Bundle[]; unknown?: string[] }
/** What the engine loaded and how it computes. */
export interface EngineInfo {
  catalogSize: number; orders: number; neighbours: number; itemsets: number;
  modelDims: number; backend: "webgpu" | "cpu"; exportVersion: number; exportBytes: number;
}
/** Both catalog-scoring kernels on this export's item table (int8), one query per cart change. */
export interface GpuProbe {
  adapter: string | null; error: string | null; identical: boolean; queries: number;
  rows: number; tiles: number; cpuMs: number; gpuMs: number | null;
}
/** The basket model's top completions of a cart: ids best first, with their logits. */
export interface ModelScores { items: string[]; scores: number[]; unknown?: string[] }
/** A catalog entry for listing products. */
export interface ProductInfo { id: string; title: string; category: string; price: number | null; orders: number }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "Cart")]
    pub type JsCart;
    #[wasm_bindgen(typescript_type = "SuggestOptions | undefined")]
    pub type JsOptions;
    #[wasm_bindgen(typescript_type = "Suggestions")]
    pub type JsSuggestions;
    #[wasm_bindgen(typescript_type = "EngineInfo")]
    pub type JsInfo;
    #[wasm_bindgen(typescript_type = "ProductInfo[]")]
    pub type JsProducts;
    #[wasm_bindgen(typescript_type = "ModelScores")]
    pub type JsModelScores;
    #[wasm_bindgen(typescript_type = "Promise<GpuProbe>")]
    pub type JsGpuProbe;
}

/// The in-browser engine over one loaded export.
#[wasm_bindgen]
pub struct Engine {
    inner: suggest::Engine,
    export_bytes: usize,
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

fn cart_from_js(cart: JsCart) -> Result<Cart, JsError> {
    serde_wasm_bindgen::from_value(cart.into()).map_err(|e| {
        JsError::new(&format!(
            "cartwise: cart must be {{items: [{{id, qty}}]}}: {e}"
        ))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    catalog_size: usize,
    orders: u32,
    neighbours: usize,
    itemsets: usize,
    model_dims: u32,
    backend: &'static str,
    export_version: u32,
    export_bytes: usize,
}

#[derive(Serialize)]
struct ProductInfo<'a> {
    id: &'a str,
    title: &'a str,
    category: &'a str,
    price: Option<i64>,
    orders: u32,
}

#[wasm_bindgen]
impl Engine {
    /// Loads an export file's bytes; a truncated, corrupted or newer file is an `Error`.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, JsError> {
        let export =
            Export::from_bytes(bytes).map_err(|e| JsError::new(&format!("cartwise: {e}")))?;
        Ok(Engine {
            inner: suggest::Engine::new(export)
                .map_err(|e| JsError::new(&format!("cartwise: {e}")))?,
            export_bytes: bytes.len(),
        })
    }

    /// Suggests add-ons and priced bundles for a cart.
    pub fn suggest(&self, cart: JsCart, options: JsOptions) -> Result<JsSuggestions, JsError> {
        let cart = cart_from_js(cart)?;
        let options: JsValue = options.into();
        let options: SuggestOptions = if options.is_undefined() || options.is_null() {
            SuggestOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsError::new(&format!("cartwise: options: {e}")))?
        };
        let month = js_sys::Date::new_0().get_utc_month() as u8 + 1;
        let out = self
            .inner
            .suggest(&cart, &options, month)
            .map_err(|e| JsError::new(&format!("cartwise: {e}")))?;
        Ok(to_js(&out)?.unchecked_into())
    }

    /// The basket model's own top `k` completions of a cart with their logits; an `Error` when
    /// the export has no model. The same numbers as `cartwise score` natively.
    #[wasm_bindgen(js_name = modelScores)]
    pub fn model_scores(&self, cart: JsCart, k: u32) -> Result<JsModelScores, JsError> {
        let cart = cart_from_js(cart)?;
        let out = self
            .inner
            .model_scores(&cart, k)
            .map_err(|e| JsError::new(&format!("cartwise: {e}")))?;
        Ok(to_js(&out)?.unchecked_into())
    }

    /// Runs the catalog-scoring kernels on WebGPU and on the CPU over this export's item table
    /// (int8), with the vectors of the `queries` most popular items as queries: the adapter,
    /// whether both rank identically, and the median time of one query on each. Resolves with
    /// `adapter: null` and the reason where WebGPU cannot run; an `Error` without a model.
    #[wasm_bindgen(js_name = probeGpu)]
    pub fn probe_gpu(&self, queries: u32) -> Result<JsGpuProbe, JsError> {
        let model = self.inner.model().ok_or_else(|| {
            JsError::new("cartwise: this export has no basket model to score with")
        })?;
        let dim = model.config.dim;
        let vectors = model
            .item_vectors()
            .map_err(|e| JsError::new(&format!("cartwise: model item table: {e}")))?;
        let table =
            ItemTable::int8(&vectors, dim).map_err(|e| JsError::new(&format!("cartwise: {e}")))?;
        let popular = self.inner.export().assoc.by_popularity();
        let picked: Vec<f32> = popular
            .iter()
            .take(queries.clamp(1, 1_000) as usize)
            .flat_map(|&i| vectors[i as usize * dim..][..dim].to_vec())
            .collect();
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            let found = probe(&table, &picked, 10, now_ms).await;
            to_js(&found).map_err(JsValue::from)
        });
        Ok(promise.unchecked_into())
    }

    /// Catalog size, counts, model dimensions, compute backend and export version.
    pub fn info(&self) -> Result<JsInfo, JsError> {
        let export = self.inner.export();
        let info = Info {
            catalog_size: export.catalog.len(),
            orders: export.assoc.orders,
            neighbours: export.assoc.neighbors.len(),
            itemsets: export.itemsets.len(),
            model_dims: export.model.as_ref().map_or(0, |m| m.config.dim as u32),
            backend: "cpu",
            export_version: VERSION,
            export_bytes: self.export_bytes,
        };
        Ok(to_js(&info)?.unchecked_into())
    }

    /// Products by popularity (most ordered first), `limit` of them from `offset`: for listings.
    pub fn products(&self, offset: u32, limit: u32) -> Result<JsProducts, JsError> {
        let export = self.inner.export();
        let counts = &export.assoc.item_counts;
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
                }
            })
            .collect();
        Ok(to_js(&list)?.unchecked_into())
    }
}
