//! Pricing on the order log: the acceptance curve's fit on promotions ([`fit`]) and the
//! comparison of pricing policies on held-out carts ([`evaluate`]).
//! It fits and judges the serving core's curve and optimiser (`serve::pricing`) on orders
//! read by `ingest` and carts from the validation protocol.

pub mod evaluate;
pub mod fit;
