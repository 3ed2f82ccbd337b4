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
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

mod orders;
pub mod parquet;
mod reject;
use orders::OrderAssembler;
pub use orders::{read_orders, Order, OrderLog};
pub use reject::{summarize, write_rejects, Place, Reject};
use std::collections::HashMap;
use std::path::Path;

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
