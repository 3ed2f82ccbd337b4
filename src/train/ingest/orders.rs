//! The order log: orders assembled line by line from either file format, each line's checks,
//! rejects and warnings, and the canonical order learning reads them in.

use super::{
    currency_cell, is_parquet, money_cell, parquet, parse_timestamp, Place, Reject, Table,
};
use crate::serve::catalog::Catalog;
use crate::train::error::FileError;
use chrono::{DateTime, Datelike, Utc};
use std::collections::HashMap;
use std::path::Path;

/// One order assembled from its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub customer: Option<String>,
    /// Seconds since the Unix epoch, UTC, from the first timed line.
    pub time: Option<i64>,
    /// Item index per accepted line (repeats kept; counting dedups).
    pub items: Vec<u32>,
    /// Unit price paid per line in minor units, beside `items`; `None` where not given.
    pub unit_prices: Vec<Option<i64>>,
}

impl Order {
    /// Calendar month 1..=12 of the order, if timed.
    pub fn month(&self) -> Option<u8> {
        self.time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .map(|t| t.month() as u8)
    }
}

/// Orders in first-seen order, plus accepted line count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderLog {
    pub orders: Vec<Order>,
    pub lines: u64,
}

impl OrderLog {
    /// Puts the orders in time order (untimed first, ties by order id) and each order's lines
    /// in item order (ties by unit price), so what is learned from a log does not depend on
    /// the order its rows were written in — a warehouse query or a Spark job returns rows in
    /// no particular order.
    pub fn canonicalize(&mut self) {
        self.orders
            .sort_unstable_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        for order in &mut self.orders {
            let mut lines: Vec<(u32, Option<i64>)> = order
                .items
                .iter()
                .copied()
                .zip(order.unit_prices.iter().copied())
                .collect();
            lines.sort_unstable();
            (order.items, order.unit_prices) = lines.into_iter().unzip();
        }
    }
}

/// Reads `order_id,item_id[,customer_id,timestamp,quantity,unit_price,currency]` against a
/// catalog; unit prices are in the catalog's currency, and a line naming another is rejected.
/// A path ending in `.parquet` is read as Parquet ([`parquet::read_orders`]), else as CSV.
pub fn read_orders(path: &Path, catalog: &Catalog) -> Result<(OrderLog, Vec<Reject>), FileError> {
    if is_parquet(path) {
        return parquet::read_orders(path, catalog);
    }
    let mut table = Table::open(path, &["order_id", "item_id"])?;
    let mut orders = OrderAssembler::new(&table.file, catalog);
    let mut rejects = Vec::new();
    table.rows(&mut rejects, |line, row| {
        orders.line(Place::Line(line), |name| row.get(name))
    });
    Ok(orders.finish(rejects))
}

/// Builds the order log line by line, whatever the file format: each line's checks, its
/// rejects and warnings, and the orders it joins.
pub(super) struct OrderAssembler<'a> {
    pub(super) file: String,
    catalog: &'a Catalog,
    log: OrderLog,
    rejects: Vec<Reject>,
    slot: HashMap<String, usize>,
    /// Per order, where its time and customer were taken from.
    origin: Vec<[Place; 2]>,
}

impl<'a> OrderAssembler<'a> {
    pub(super) fn new(file: &str, catalog: &'a Catalog) -> Self {
        Self {
            file: file.to_string(),
            catalog,
            log: OrderLog::default(),
            rejects: Vec::new(),
            slot: HashMap::new(),
            origin: Vec::new(),
        }
    }

    /// Checks one line (its cells by column name, empty when absent) and adds it to its order,
    /// or rejects it.
    pub(super) fn line<'r>(&mut self, place: Place, get: impl Fn(&str) -> &'r str) {
        // The fields apart, so a line borrows the file name instead of copying it.
        let Self {
            file,
            catalog,
            log,
            rejects,
            slot,
            origin,
        } = self;
        let catalog = *catalog;
        let mut reject = |reason: &'static str, detail: String| {
            rejects.push(Reject::at(file, place, reason, detail))
        };
        let order_id = get("order_id");
        let item_id = get("item_id");
        if order_id.is_empty() {
            return reject("missing order_id", "order_id is empty".into());
        }
        if item_id.is_empty() {
            return reject(
                "missing item_id",
                format!("order {order_id:?}: item_id is empty"),
            );
        }
        let Some(item) = catalog.lookup(item_id) else {
            return reject(
                "unknown item",
                format!("order {order_id:?}: item {item_id:?} is not in the products file"),
            );
        };
        let quantity = get("quantity");
        if !quantity.is_empty() {
            match quantity.parse::<i64>() {
                Ok(q) if q <= 0 => {
                    return reject("non-positive quantity", format!("order {order_id:?} item {item_id:?}: quantity {q}"))
                }
                Ok(_) => {}
                Err(_) => {
                    return reject("bad quantity", format!("order {order_id:?} item {item_id:?}: quantity {quantity:?} is not a whole number"))
                }
            }
        }
        if let Err(detail) = currency_cell(get("currency"), catalog.currency()) {
            return reject(
                "currency mismatch",
                format!("order {order_id:?} item {item_id:?}: {detail}"),
            );
        }
        let unit_price = match money_cell(
            get("unit_price"),
            "unit_price",
            "bad unit_price",
            catalog.currency(),
        ) {
            Ok(v) => v,
            Err((reason, detail)) => {
                return reject(
                    reason,
                    format!("order {order_id:?} item {item_id:?}: {detail}"),
                )
            }
        };
        let stamp = get("timestamp");
        let time = if stamp.is_empty() {
            None
        } else {
            match parse_timestamp(stamp) {
                Some(t) => Some(t.timestamp()),
                None => {
                    return reject(
                        "bad timestamp",
                        format!("order {order_id:?}: timestamp {stamp:?} is not ISO 8601"),
                    )
                }
            }
        };
        let customer = Some(get("customer_id"))
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let k = *slot.entry(order_id.to_string()).or_insert_with(|| {
            log.orders.push(Order {
                id: order_id.to_string(),
                customer: None,
                time: None,
                items: Vec::new(),
                unit_prices: Vec::new(),
            });
            origin.push([place; 2]);
            log.orders.len() - 1
        });
        let order = &mut log.orders[k];
        order.items.push(item);
        order.unit_prices.push(unit_price);
        // One order has one time and one customer: the first given is kept, a different later
        // one is reported.
        match (order.time, time) {
            (None, Some(_)) => (order.time, origin[k][0]) = (time, place),
            (Some(first), Some(t)) if first != t => rejects.push(Reject::warning_at(
                file,
                place,
                "order conflict",
                format!(
                    "order {order_id:?}: timestamp {stamp:?} differs from {}'s; the first is kept",
                    origin[k][0]
                ),
            )),
            _ => {}
        }
        match (&order.customer, customer) {
            (None, Some(c)) => (order.customer, origin[k][1]) = (Some(c), place),
            (Some(first), Some(c)) if *first != c => rejects.push(Reject::warning_at(file, place, "order conflict",
                format!("order {order_id:?}: customer {c:?} differs from {}'s {first:?}; the first is kept", origin[k][1]))),
            _ => {}
        }
        log.lines += 1;
    }

    /// The log, and every reject (`file_rejects`, the file-level ones, first) in file order.
    pub(super) fn finish(self, mut file_rejects: Vec<Reject>) -> (OrderLog, Vec<Reject>) {
        // The line rejects are in reading order already (file by file, for several files).
        if file_rejects.is_empty() {
            return (self.log, self.rejects);
        }
        file_rejects.extend(self.rejects);
        file_rejects.sort_by_key(|r| r.place());
        (self.log, file_rejects)
    }
}
