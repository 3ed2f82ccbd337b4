//! Bundle pricing: the shopper's acceptance curve, its fit on the order log, and the discount
//! that maximises expected margin within the merchant's rules.
//!
//! A bundle offered at discount fraction `d` is taken with probability
//! `σ(logit p₀ + β·d)`: `p₀` is its chance at list price (from the association evidence),
//! `β` the price sensitivity of its items' categories ([`acceptance`]). The price chosen
//! maximises `P(accept) × (base price − discount − cost)` over the discounts the rules allow
//! ([`optimize`]); `train` fits `β` from promotions visible in the orders' unit prices
//! (`train::pricing`), or keeps a configurable prior when the orders show none. Pinned bundles'
//! fixed prices are checked against the same limits ([`pinned`]). It depends on the catalog and
//! the rules only.

pub mod acceptance;
pub mod optimize;
pub mod pinned;

pub use acceptance::{Acceptance, CurveSource};
pub use optimize::{margin_floor, quote, quote_within, Limits, Offer, Policy, Quote};
pub use pinned::check_catalog;
