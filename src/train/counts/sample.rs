//! The sample of the order log that travels with the counts, for what learns from whole
//! baskets (the transformer, the blend, EASE's λ, the acceptance curve). It keeps whole
//! buyers, so each kept shopper's history is complete: a buyer (a customer id, or the order
//! where it has none) is kept when XXH64 of its key, seed 42, taken modulo 1,000,000 (always
//! non-negative), falls under a threshold. That is Spark SQL's
//! `pmod(xxhash64(key), 1000000) < threshold`, so the native counter and the Spark job keep the
//! same shoppers.

use crate::train::ingest::{Order, OrderLog};
use twox_hash::XxHash64;

/// Spark SQL's `xxhash64` seed.
const SEED: u64 = 42;
/// Buckets a buyer's hash falls into.
pub const BUCKETS: u64 = 1_000_000;
/// Default number of orders the sample aims at (`cartwise counts --sample-orders`).
pub const DEFAULT_SAMPLE_ORDERS: u64 = 200_000;

/// The bucket threshold that keeps about `target` of `orders` orders: every bucket when the
/// log has no more than `target`, else ⌈target · BUCKETS / orders⌉.
pub fn threshold(orders: u64, target: u64) -> u64 {
    if orders <= target {
        return BUCKETS;
    }
    (target as u128 * BUCKETS as u128).div_ceil(orders as u128) as u64
}

/// The key an order's buyer is hashed by: `c:` and the customer id, or `o:` and the order id
/// for an order without one.
pub fn buyer_key(order: &Order) -> String {
    match &order.customer {
        Some(c) => format!("c:{c}"),
        None => format!("o:{}", order.id),
    }
}

/// A buyer key's bucket: Spark's `pmod(xxhash64(key), 1000000)`.
pub fn bucket(key: &str) -> u64 {
    (XxHash64::oneshot(SEED, key.as_bytes()) as i64).rem_euclid(BUCKETS as i64) as u64
}

/// The orders of the buyers whose bucket is under `threshold`, in the log's order.
pub fn sample(log: &OrderLog, threshold: u64) -> OrderLog {
    let orders: Vec<Order> = log
        .orders
        .iter()
        .filter(|o| bucket(&buyer_key(o)) < threshold)
        .cloned()
        .collect();
    OrderLog {
        lines: orders.iter().map(|o| o.items.len() as u64).sum(),
        orders,
    }
}
