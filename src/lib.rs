//! Cartwise: bundle suggestions and bundle discounts learned natively from a shop's order log
//! and served inside the shopper's browser by the same code compiled to WebAssembly.
//!
//! Both builds share the export reader ([`export`]), the catalog, the association tables, the
//! sparse EASE table ([`ease`]), the basket model ([`model`]) and the suggestion logic
//! ([`suggest`]); the `cli` feature adds what only training needs (CSV ingest, counting, model
//! fitting, the synthetic shop, evaluation); the wasm32 build adds the JS API ([`wasm`]).

pub mod assoc;
pub mod catalog;
pub mod ease;
pub mod export;
pub mod kernel;
pub mod model;
pub mod money;
pub mod pricing;
pub mod rules;
pub mod seasonal;
pub mod suggest;

#[cfg(feature = "cli")]
pub mod baselines;
#[cfg(feature = "cli")]
pub mod eval;
#[cfg(feature = "cli")]
pub mod history;
#[cfg(feature = "cli")]
pub mod holdout;
#[cfg(feature = "cli")]
pub mod ingest;
#[cfg(feature = "cli")]
pub mod synth;
#[cfg(feature = "cli")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
