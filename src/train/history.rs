//! Shopper history: for each order, the items its customer bought in earlier orders, most
//! recent first. The transformer reads them as history tokens, so it learns what a shopper's
//! past says about the next add-on.

use crate::train::ingest::Order;
use std::collections::HashMap;

/// History items a validation cart carries, as many as the page's store hands the engine
/// (`CartwiseHistory` keeps 16 ids by default): the blend's history term is fitted on them.
pub const CART_HISTORY: usize = 16;

/// Each order's history (indexed like `orders`): the distinct items of the same customer's
/// earlier orders by time (ties by position), most recent first, at most `max`. Orders without
/// a customer, and every order when `max` is 0, get none.
pub fn customer_histories(orders: &[&Order], max: usize) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); orders.len()];
    if max == 0 {
        return out;
    }
    let mut by_time: Vec<usize> = (0..orders.len()).collect();
    by_time.sort_by_key(|&i| (orders[i].time, i));
    let mut recent: HashMap<&str, Vec<u32>> = HashMap::new();
    for i in by_time {
        let Some(customer) = orders[i].customer.as_deref() else {
            continue;
        };
        let past = recent.entry(customer).or_default();
        out[i] = past.clone();
        let mut next: Vec<u32> = Vec::with_capacity(max);
        for &item in orders[i].items.iter().chain(past.iter()) {
            if next.len() == max {
                break;
            }
            if !next.contains(&item) {
                next.push(item);
            }
        }
        *past = next;
    }
    out
}
