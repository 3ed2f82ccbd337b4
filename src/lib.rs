//! Cartwise: bundle suggestions and bundle discounts learned natively from a shop's order log
//! and served inside the shopper's browser by the same code compiled to WebAssembly.
//!
//! The crate follows the data path, and dependencies point one way:
//! - [`serve`], the serving core both builds compile: the export reader, catalog and rules,
//!   association and EASE lookups, the basket model's forward, the scoring kernels, suggest,
//!   pricing and reasons. It names nothing outside itself.
//! - `train` (feature `train`, native only): ingest, counting, fits, the synthetic shop, the
//!   validation protocol and evaluation; it builds what [`serve`] reads.
//! - `wasm` (wasm32 only): the JS `Engine` over [`serve`].
//! - The `cartwise` binary (`src/cli/`, feature `cli`): one file per subcommand over `train`.

pub mod serve;

#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
