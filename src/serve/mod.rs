//! The serving core: everything both builds compile to answer a cart from an export.
//!
//! The export ([`export`]) holds the catalog ([`catalog`]), the merchant's rules ([`rules`]),
//! the association table ([`assoc`]), sparse EASE weights ([`ease`]), seasonal indices
//! ([`seasonal`]), rebuy factors ([`rebuy`]), the basket transformer ([`model`]) with its item table for the scoring kernels
//! ([`kernel`], int8 rows or product-quantization codes) and the blend weights ([`blend`]);
//! [`suggest`] ranks candidates through the scoring kernels ([`kernel`]), builds bundles, prices
//! them ([`pricing`]) and explains them. Nothing here imports training code, reads a clock or
//! touches the network; `cargo build --no-default-features` builds this core alone, which is how
//! the test suite checks that the dependencies point one way.
//!
//! Layers, lowest first (a module may use only those before it): [`money`], [`rank`], [`quant`],
//! [`catalog`], [`rules`], [`seasonal`], [`rebuy`], [`assoc`], [`ease`], [`blend`], [`pricing`],
//! [`model`], [`kernel`], [`export`], [`suggest`].

pub mod assoc;
pub mod blend;
pub mod catalog;
pub mod ease;
pub mod export;
pub mod kernel;
pub mod model;
pub mod money;
pub mod pricing;
pub mod quant;
pub mod rank;
pub mod rebuy;
pub mod rules;
pub mod seasonal;
pub mod suggest;
