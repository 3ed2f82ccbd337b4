//! Builds the monthly seasonal index from timed orders.

use crate::serve::seasonal::{SeasonalIndex, SCALE};

/// Pseudo-orders that pull a sparse item's index toward 1.0.
pub const SHRINK_ORDERS: f64 = 20.0;

/// Builds the index from baskets and their months (1..=12; `None` where untimed).
pub fn build(baskets: &[Vec<u32>], months: &[Option<u8>], n_items: usize) -> SeasonalIndex {
    let (per_item, per_month) = monthly_counts(baskets, months, n_items);
    from_counts(&per_item, &per_month)
}

/// Orders per item and month, and timed orders per month: what the index is built from.
pub fn monthly_counts(
    baskets: &[Vec<u32>],
    months: &[Option<u8>],
    n_items: usize,
) -> (Vec<[u32; 12]>, [u64; 12]) {
    let mut per_item = vec![[0u32; 12]; n_items];
    let mut per_month = [0u64; 12];
    for (basket, month) in baskets.iter().zip(months) {
        let Some(m) = month.filter(|m| (1..=12).contains(m)) else {
            continue;
        };
        let m = m as usize - 1;
        per_month[m] += 1;
        for &i in basket {
            per_item[i as usize][m] += 1;
        }
    }
    (per_item, per_month)
}

/// Builds the index from monthly counts ([`monthly_counts`]).
///
/// index(i, m) = share of item i's orders in month m ÷ share of all orders in month m, with
/// [`SHRINK_ORDERS`] pseudo-orders spread like the whole shop so rare items stay near 1.0.
pub fn from_counts(per_item: &[[u32; 12]], per_month: &[u64; 12]) -> SeasonalIndex {
    let total: u64 = per_month.iter().sum();
    let factors = per_item
        .iter()
        .map(|counts| {
            let item_total: u64 = counts.iter().map(|&c| c as u64).sum();
            let mut row = [SCALE as u8; 12];
            if total == 0 {
                return row;
            }
            for m in 0..12 {
                let p_month = per_month[m] as f64 / total as f64;
                if p_month == 0.0 {
                    continue;
                }
                let share = (counts[m] as f64 + SHRINK_ORDERS * p_month)
                    / (item_total as f64 + SHRINK_ORDERS);
                let index = share / p_month;
                row[m] = (index * SCALE as f64).round().clamp(1.0, 255.0) as u8;
            }
            row
        })
        .collect();
    SeasonalIndex { factors }
}
