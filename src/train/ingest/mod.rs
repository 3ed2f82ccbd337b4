//! CSV ingest of the product catalog and the order log, per the CLI contract in DESIGN.md;
//! the order log also as Parquet ([`parquet`]), same columns, same checks.
//!
//! Columns are found by header name; extra columns are ignored. Every rejected row becomes a
//! [`Reject`] naming file, line (or row group and row) and reason; nothing is dropped without
//! one. A row must have as
//! many fields as the header (an unquoted `1,234.56` shifts every column after it), and a
//! quote left open is reported with the lines it swallowed. Rows that are read but look wrong
//! (a cost of 0 or above the price, an order whose lines disagree on its time or customer) are
//! reported as warnings: [`Reject`]s with `kept` set.

use crate::serve::catalog::{safe_link, Catalog, Product, ProductLinks};
use crate::serve::money::Currency;
use crate::train::currency::iso_4217;
use crate::train::error::{At, FileError};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

pub mod parquet;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// A row that was not accepted, or (`kept`) one that was but looks wrong, with where it was
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub file: String,
    /// The CSV line; for a Parquet file, the row within its row group (from 0).
    pub line: u64,
    /// The Parquet row group (from 0); `None` for a CSV file.
    pub row_group: Option<usize>,
    /// Short reason class, used for the summary ("unknown item", "bad quantity", ...).
    pub reason: &'static str,
    /// The specifics: offending value or field.
    pub detail: String,
    /// The row was read and kept: this is a warning (a field left out, a suspicious value).
    pub kept: bool,
}

impl Reject {
    /// A rejected row.
    fn row(file: &str, line: u64, reason: &'static str, detail: String) -> Self {
        Self::at(file, Place::Line(line), reason, detail)
    }

    /// A rejected row at `place`.
    fn at(file: &str, place: Place, reason: &'static str, detail: String) -> Self {
        let (row_group, line) = match place {
            Place::Line(line) => (None, line),
            Place::Row { group, row } => (Some(group), row),
        };
        Self {
            file: file.to_string(),
            line,
            row_group,
            reason,
            detail,
            kept: false,
        }
    }

    /// A warning about the row at `place`, which was kept.
    fn warning_at(file: &str, place: Place, reason: &'static str, detail: String) -> Self {
        Self {
            kept: true,
            ..Self::at(file, place, reason, detail)
        }
    }

    /// Where the row is.
    pub fn place(&self) -> Place {
        match self.row_group {
            None => Place::Line(self.line),
            Some(group) => Place::Row {
                group,
                row: self.line,
            },
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.place().in_file(&self.file),
            self.reason,
            self.detail
        )
    }
}

/// Where a row is in its file: a CSV line, or a Parquet row group and row within it (both
/// from 0, as Parquet tools count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    Line(u64),
    Row { group: usize, row: u64 },
}

impl Place {
    /// The file and this place, as an error names them: `file:line` for a CSV line, `file: row
    /// group G, row R` for a Parquet row.
    pub fn in_file(&self, file: &str) -> String {
        match self {
            Place::Line(line) => format!("{file}:{line}"),
            place => format!("{file}: {place}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(line) => write!(f, "line {line}"),
            Place::Row { group, row } => write!(f, "row group {group}, row {row}"),
        }
    }
}

/// Counts rejects per reason, most frequent first (ties alphabetical).
pub fn summarize(rejects: &[Reject]) -> Vec<(&'static str, usize)> {
    let mut by: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in rejects {
        *by.entry(r.reason).or_default() += 1;
    }
    let mut out: Vec<_> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out
}

/// Writes rejects and warnings as CSV (`file,line,reason,detail,row,row_group`, row
/// `rejected` or `kept`; for a Parquet file `line` is the row within row group `row_group`).
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<(), FileError> {
    let mut w = csv::Writer::from_path(path).at(|| format!("creating {}", path.display()))?;
    let writing = || format!("writing {}", path.display());
    w.write_record(["file", "line", "reason", "detail", "row", "row_group"])
        .at(writing)?;
    for r in rejects {
        let row = if r.kept { "kept" } else { "rejected" };
        w.write_record([
            r.file.as_str(),
            &r.line.to_string(),
            r.reason,
            &r.detail,
            row,
            &r.row_group.map_or(String::new(), |g| g.to_string()),
        ])
        .at(writing)?;
    }
    w.flush().at(writing)?;
    Ok(())
}

/// Parses an ISO 8601 timestamp (date, local date-time taken as UTC, or with offset), also
/// as shop exports write them: Shopify's `2024-03-01 10:15:00 -0500`, WooCommerce's
/// `2024-03-01 10:15:00` and offsets without a colon (`+0100`).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A CSV file opened with its header mapped to column positions.
struct Table {
    file: String,
    /// Fields every row must have.
    header_len: usize,
    reader: csv::Reader<std::fs::File>,
    columns: HashMap<String, usize>,
}

impl Table {
    fn open(path: &Path, required: &[&str]) -> Result<Self, FileError> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_path(path)
            .at(|| format!("opening {file}"))?;
        let header = reader
            .byte_headers()
            .at(|| format!("{file}:1: reading header"))?;
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    String::from_utf8_lossy(h)
                        .trim()
                        .trim_start_matches('\u{feff}')
                        .to_string(),
                    i,
                )
            })
            .collect();
        for col in required {
            if !columns.contains_key(*col) {
                return Err(FileError::Invalid(format!(
                    "{file}:1: header lacks required column {col:?}"
                )));
            }
        }
        Ok(Self {
            file,
            header_len: header.len(),
            reader,
            columns,
        })
    }

    /// Visits each data row with its line number and a field accessor. Rows with another
    /// field count than the header (a quote left open swallows the lines after it into one
    /// such row) and CSV-level errors (invalid UTF-8) become rejects.
    fn rows(&mut self, rejects: &mut Vec<Reject>, mut visit: impl FnMut(u64, &Row)) {
        let mut record = csv::ByteRecord::new();
        let fields = self.header_len;
        loop {
            let line = self.reader.position().line();
            match self.reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(line, |p| p.line());
                    // The reader stands at the next row: a row ending further on spans lines.
                    let last = self.reader.position().line().saturating_sub(1).max(line);
                    if record.len() != fields {
                        let detail = if last > line {
                            format!(
                                "a quoted field opened on line {line} runs to line {last} \
                                 (an unterminated quote?): {} fields where the header has {fields}",
                                record.len()
                            )
                        } else {
                            format!(
                                "{} fields where the header has {fields} (an unquoted comma \
                                 in a value, like 1,234.56?)",
                                record.len()
                            )
                        };
                        rejects.push(Reject::row(&self.file, line, "wrong field count", detail));
                        continue;
                    }
                    match std::str::from_utf8(record.as_slice()) {
                        Ok(_) => visit(
                            line,
                            &Row {
                                record: &record,
                                columns: &self.columns,
                            },
                        ),
                        Err(_) => rejects.push(Reject::row(
                            &self.file,
                            line,
                            "invalid UTF-8",
                            "row is not valid UTF-8".into(),
                        )),
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(line, |p| p.line());
                    rejects.push(Reject::row(
                        &self.file,
                        line,
                        "malformed CSV",
                        e.to_string(),
                    ));
                    if !matches!(
                        e.kind(),
                        csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                    ) {
                        break;
                    }
                }
            }
        }
    }
}

/// One data row with fields by column name; absent columns read as empty.
struct Row<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a HashMap<String, usize>,
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        self.columns
            .get(name)
            .and_then(|&i| self.record.get(i))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// Parses an optional non-negative money cell in `currency`; `Err` holds the reject reason and
/// detail.
fn money_cell(
    text: &str,
    column: &'static str,
    bad: &'static str,
    currency: &Currency,
) -> Result<Option<i64>, (&'static str, String)> {
    if text.is_empty() {
        return Ok(None);
    }
    match currency.parse(text) {
        Ok(v) if v < 0 => Err((bad, format!("{column} {text:?} is negative"))),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err((bad, format!("{column}: {e}"))),
    }
}

/// Whether a row's optional `currency` cell disagrees with the shop's currency; `Err` holds
/// the reject detail. An export without a stated currency checks nothing.
fn currency_cell(cell: &str, currency: &Currency) -> Result<(), String> {
    match currency.code() {
        Some(code) if !cell.is_empty() && !cell.eq_ignore_ascii_case(code) => Err(format!(
            "currency {cell:?}, but the shop's prices are in {code}"
        )),
        _ => Ok(()),
    }
}

/// A file's rows as read by [`read_rows`]: its name, each row's place and cells, and the rows
/// that could not be read.
type Rows = (String, Vec<(Place, Vec<String>)>, Vec<Reject>);

/// Every row of a CSV or (by the `.parquet` extension) Parquet file as its `columns`' cells
/// (empty where absent), with its place; the first `required` columns must exist. Returns the
/// file's name, the rows and the rows that could not be read (a CSV's malformed rows).
fn read_rows(path: &Path, columns: &[&str], required: usize) -> Result<Rows, FileError> {
    let mut rows = Vec::new();
    let mut rejects = Vec::new();
    if is_parquet(path) {
        parquet::for_each_row(path, columns, required, |place, cells| {
            rows.push((place, cells.to_vec()));
            Ok(())
        })?;
        return Ok((path.display().to_string(), rows, rejects));
    }
    let mut table = Table::open(path, &columns[..required])?;
    table.rows(&mut rejects, |line, row| {
        rows.push((
            Place::Line(line),
            columns.iter().map(|c| row.get(c).to_string()).collect(),
        ));
    });
    Ok((table.file, rows, rejects))
}

/// Whether a path names a Parquet file (by its extension, any case).
fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Reads `item_id,title[,category,price,cost,currency]` from a CSV or Parquet file (by
/// the `.parquet` extension); duplicates after the first are rejected. Amounts are read in `currency` when given (`train --currency`), else in the
/// currency the file's first `currency` cell names, else in US dollars; a row naming another
/// currency is rejected, as its amounts would be misread.
pub fn read_products(
    path: &Path,
    currency: Option<&Currency>,
) -> Result<(Catalog, Vec<Reject>), FileError> {
    // Rows are kept as text until the currency is known: the first `currency` cell may come
    // after rows whose amounts it governs.
    let (file, rows, mut rejects) = read_rows(
        path,
        &["item_id", "title", "category", "price", "cost", "currency"],
        2,
    )?;
    let currency = match currency {
        Some(c) => c.clone(),
        None => match rows.iter().find(|(_, r)| !r[5].is_empty()) {
            Some((place, r)) => iso_4217(&r[5])
                .map_err(|e| FileError::Invalid(format!("{}: {e}", place.in_file(&file))))?,
            None => Currency::default(),
        },
    };
    let mut products: Vec<Product> = Vec::new();
    let mut seen: HashMap<String, Place> = HashMap::new();
    for (line, cells) in rows {
        let [id, title, category, price, cost, row_currency]: [String; 6] =
            cells.try_into().expect("six columns asked for");
        let mut reject = |reason: &'static str, detail: String| {
            rejects.push(Reject::at(&file, line, reason, detail))
        };
        if id.is_empty() {
            reject("missing item_id", "item_id is empty".into());
            continue;
        }
        if title.is_empty() {
            reject("missing title", format!("item {id:?} has no title"));
            continue;
        }
        if let Some(first) = seen.get(&id) {
            reject(
                "duplicate item_id",
                format!("item {id:?} already defined on {first}"),
            );
            continue;
        }
        if let Err(detail) = currency_cell(&row_currency, &currency) {
            reject("currency mismatch", format!("item {id:?}: {detail}"));
            continue;
        }
        match (
            money_cell(&price, "price", "bad price", &currency),
            money_cell(&cost, "cost", "bad cost", &currency),
        ) {
            (Err((reason, detail)), _) | (_, Err((reason, detail))) => {
                reject(reason, format!("item {id:?}: {detail}"))
            }
            (Ok(price), Ok(cost)) => {
                seen.insert(id.clone(), line);
                if let Some(detail) = suspicious_cost(price, cost) {
                    rejects.push(Reject::warning_at(
                        &file,
                        line,
                        "suspicious cost",
                        format!("item {id:?}: {detail}"),
                    ));
                }
                products.push(Product {
                    id,
                    title,
                    category,
                    price,
                    cost,
                });
            }
        }
    }
    rejects.sort_by_key(|r| r.place());
    let catalog = Catalog::new(products)
        .expect("duplicates rejected above")
        .in_currency(currency);
    Ok((catalog, rejects))
}

/// Why a product's cost looks wrong, if it does: 0 (a 100% margin, usually a missing cost) or
/// at least the price (such an item is never discounted).
fn suspicious_cost(price: Option<i64>, cost: Option<i64>) -> Option<String> {
    match (price, cost) {
        (Some(p), Some(0)) if p > 0 => {
            Some("cost 0 (a 100% margin: is the cost missing?)".to_string())
        }
        (Some(p), Some(c)) if c >= p => Some(format!(
            "cost {c} is not below the price {p} (minor units): bundles with it are never \
             discounted"
        )),
        _ => None,
    }
}

/// Reads the optional `image_url` and `url` columns of a products file (CSV or Parquet) for the catalog it was
/// read into (empty where a product has none). A link that is not `https://`, `http://` or
/// site-relative is left out and reported as a rejected field, naming the item.
pub fn read_links(
    path: &Path,
    catalog: &Catalog,
) -> Result<(ProductLinks, Vec<Reject>), FileError> {
    let (file, rows, _) = read_rows(path, &["item_id", "image_url", "url"], 1)?;
    let mut links = ProductLinks {
        image: vec![String::new(); catalog.len()],
        url: vec![String::new(); catalog.len()],
    };
    let mut row_rejects = Vec::new();
    for (line, cells) in rows {
        let Some(item) = catalog.lookup(&cells[0]) else {
            continue; // a row read_products rejected, reported there
        };
        for (k, column, list) in [
            (1, "image_url", &mut links.image),
            (2, "url", &mut links.url),
        ] {
            let link = cells[k].trim();
            if link.is_empty() {
                continue;
            }
            if safe_link(link) {
                list[item as usize] = link.to_string();
            } else {
                row_rejects.push(Reject::warning_at(
                    &file,
                    line,
                    "bad link",
                    format!(
                        "item {:?}: {column} {link:?} is not an https, http or site-relative link (left out)",
                        cells[0]
                    ),
                ));
            }
        }
    }
    // Malformed rows were already reported by read_products.
    Ok((links, row_rejects))
}

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
struct OrderAssembler<'a> {
    file: String,
    catalog: &'a Catalog,
    log: OrderLog,
    rejects: Vec<Reject>,
    slot: HashMap<String, usize>,
    /// Per order, where its time and customer were taken from.
    origin: Vec<[Place; 2]>,
}

impl<'a> OrderAssembler<'a> {
    fn new(file: &str, catalog: &'a Catalog) -> Self {
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
    fn line<'r>(&mut self, place: Place, get: impl Fn(&str) -> &'r str) {
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
    fn finish(self, mut file_rejects: Vec<Reject>) -> (OrderLog, Vec<Reject>) {
        // The line rejects are in reading order already (file by file, for several files).
        if file_rejects.is_empty() {
            return (self.log, self.rejects);
        }
        file_rejects.extend(self.rejects);
        file_rejects.sort_by_key(|r| r.place());
        (self.log, file_rejects)
    }
}
