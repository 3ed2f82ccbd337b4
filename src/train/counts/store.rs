//! The counts on disk: the Parquet contract of `model-export/COUNTS.md`. A counts folder holds
//! one sub-folder per table, each any number of Parquet files (as Spark, or any engine,
//! writes them): `summary`, `items`, `pairs`, `triples`, `item_months`, `months` and `sample`
//! (order lines of [`super::sample`]'s shoppers). Items are named by their ids; pairs and
//! triples list their ids ascending in byte order, each set once.

use super::Counts;
use crate::serve::catalog::Catalog;
use crate::train::assoc::count::{pair_key, PairCounts};
use crate::train::error::{At, FileError};
use crate::train::ingest::parquet::{for_each_row, read_order_files};
use crate::train::ingest::{OrderLog, Place, Reject};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The contract's version, in `summary.contract_version`.
pub const CONTRACT_VERSION: i64 = 1;

/// The columns of `summary`'s one row.
const SUMMARY: [&str; 10] = [
    "contract_version",
    "orders",
    "lines",
    "baskets",
    "oversized_orders",
    "rejected_lines",
    "max_order_items",
    "min_itemset_count",
    "sample_threshold",
    "sample_orders",
];

/// What `summary` says about the sample beside the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    /// Buyers whose bucket is under this were kept ([`super::sample`]).
    pub threshold: u64,
    /// Orders in the sample.
    pub orders: u64,
}

/// Writes `counts` and the sample log into a new folder `dir` (an error if it exists and is
/// not empty, so no earlier counts are mixed in or lost).
pub fn write(
    dir: &Path,
    catalog: &Catalog,
    counts: &Counts,
    sample: &OrderLog,
    threshold: u64,
) -> Result<(), FileError> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(FileError::Invalid(format!(
            "{}: exists and is not empty; counts are written to a new folder",
            dir.display()
        )));
    }
    let id = |i: u32| catalog.get(i).id.as_str();
    let int = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let text = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let summary = [
        CONTRACT_VERSION,
        counts.orders as i64,
        counts.lines as i64,
        counts.pairs.orders as i64,
        counts.oversized as i64,
        counts.rejected_lines as i64,
        counts.max_order_items as i64,
        counts.min_itemset_count as i64,
        threshold as i64,
        sample.orders.len() as i64,
    ];
    write_table(
        dir,
        "summary",
        SUMMARY
            .iter()
            .zip(summary)
            .map(|(name, v)| (*name, int(vec![v])))
            .collect(),
    )?;
    let items: Vec<u32> = (0..catalog.len() as u32)
        .filter(|&i| counts.pairs.item_counts[i as usize] > 0)
        .collect();
    write_table(
        dir,
        "items",
        vec![
            ("item_id", text(items.iter().map(|&i| id(i)).collect())),
            (
                "orders",
                int(items
                    .iter()
                    .map(|&i| counts.pairs.item_counts[i as usize] as i64)
                    .collect()),
            ),
        ],
    )?;
    let pairs: Vec<(Vec<&str>, u32, u32)> = counts
        .pairs
        .pairs
        .iter()
        .zip(&counts.pair_buyers)
        .map(|(&(key, c), &b)| {
            let (x, y) = crate::train::assoc::count::unpack_pair(key);
            (ascending(vec![id(x), id(y)]), c, b)
        })
        .collect();
    let triples: Vec<(Vec<&str>, u32, u32)> = counts
        .triples
        .iter()
        .map(|&(t, c, b)| (ascending(t.iter().map(|&i| id(i)).collect()), c, b))
        .collect();
    for (name, sets, width) in [("pairs", &pairs, 2), ("triples", &triples, 3)] {
        let mut columns: Vec<(&str, ArrayRef)> = ["item_a", "item_b", "item_c"][..width]
            .iter()
            .enumerate()
            .map(|(k, column)| (*column, text(sets.iter().map(|s| s.0[k]).collect())))
            .collect();
        columns.push(("orders", int(sets.iter().map(|s| s.1 as i64).collect())));
        columns.push(("buyers", int(sets.iter().map(|s| s.2 as i64).collect())));
        write_table(dir, name, columns)?;
    }
    let item_months: Vec<(u32, usize, u32)> = (0..catalog.len() as u32)
        .flat_map(|i| {
            let row = counts.item_months[i as usize];
            (0..12)
                .filter(move |&m| row[m] > 0)
                .map(move |m| (i, m, row[m]))
        })
        .collect();
    write_table(
        dir,
        "item_months",
        vec![
            (
                "item_id",
                text(item_months.iter().map(|r| id(r.0)).collect()),
            ),
            (
                "month",
                int(item_months.iter().map(|r| r.1 as i64 + 1).collect()),
            ),
            (
                "orders",
                int(item_months.iter().map(|r| r.2 as i64).collect()),
            ),
        ],
    )?;
    let months: Vec<usize> = (0..12).filter(|&m| counts.months[m] > 0).collect();
    write_table(
        dir,
        "months",
        vec![
            ("month", int(months.iter().map(|&m| m as i64 + 1).collect())),
            (
                "orders",
                int(months.iter().map(|&m| counts.months[m] as i64).collect()),
            ),
        ],
    )?;
    write_sample(dir, catalog, sample)
}

/// Ids ascending (byte order), as the contract lists a set's.
fn ascending(mut set: Vec<&str>) -> Vec<&str> {
    set.sort_unstable();
    set
}

/// The sample's order lines, in the order-log contract's columns (times in UTC ISO 8601,
/// unit prices in major units of the catalog's currency), written [`SAMPLE_BATCH_ORDERS`]
/// orders at a time so a large sample never sits in memory twice.
fn write_sample(dir: &Path, catalog: &Catalog, sample: &OrderLog) -> Result<(), FileError> {
    let time = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0))
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let batch = |orders: &[crate::train::ingest::Order]| {
        let lines = || {
            orders
                .iter()
                .flat_map(|o| o.items.iter().zip(&o.unit_prices).map(move |l| (o, l)))
        };
        let strings = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
        let times: Vec<Option<String>> = lines().map(|(o, _)| time(o.time)).collect();
        let prices: Vec<Option<String>> = lines()
            .map(|(_, (_, p))| p.map(|p| catalog.currency().format(p)))
            .collect();
        vec![
            (
                "order_id",
                strings(lines().map(|(o, _)| Some(o.id.as_str())).collect()),
            ),
            (
                "item_id",
                strings(
                    lines()
                        .map(|(_, (&i, _))| Some(catalog.get(i).id.as_str()))
                        .collect(),
                ),
            ),
            (
                "customer_id",
                strings(lines().map(|(o, _)| o.customer.as_deref()).collect()),
            ),
            (
                "timestamp",
                strings(times.iter().map(Option::as_deref).collect()),
            ),
            (
                "unit_price",
                strings(prices.iter().map(Option::as_deref).collect()),
            ),
        ]
    };
    write_batches(
        dir,
        "sample",
        sample.orders.chunks(SAMPLE_BATCH_ORDERS).map(batch),
    )
}

/// Orders per record batch of the written sample.
const SAMPLE_BATCH_ORDERS: usize = 1 << 16;

/// Writes one table of one record batch as `dir/name/part-00000.parquet`.
fn write_table(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) -> Result<(), FileError> {
    write_batches(dir, name, [columns])
}

/// Writes one table as `dir/name/part-00000.parquet`, one record batch after another (the
/// first gives the schema; none at all writes nothing).
fn write_batches<'a>(
    dir: &Path,
    name: &str,
    batches: impl IntoIterator<Item = Vec<(&'a str, ArrayRef)>>,
) -> Result<(), FileError> {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).at(|| format!("creating {}", folder.display()))?;
    let path = folder.join("part-00000.parquet");
    let context = || format!("writing {}", path.display());
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    for columns in batches {
        let batch = RecordBatch::try_from_iter(columns)
            .map_err(|e| FileError::Invalid(format!("{}: {e}", context())))?;
        let writer = match &mut writer {
            Some(w) => w,
            None => {
                let file = std::fs::File::create(&path).at(context)?;
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                writer.insert(
                    ArrowWriter::try_new(file, batch.schema(), Some(properties)).at(context)?,
                )
            }
        };
        writer.write(&batch).at(context)?;
    }
    if let Some(writer) = writer {
        writer.close().at(context)?;
    }
    Ok(())
}

/// The Parquet files of table `name` under `dir`, by name.
fn table_files(dir: &Path, name: &str) -> Result<Vec<PathBuf>, FileError> {
    let folder = dir.join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .at(|| {
            format!(
                "{}: no table {name:?} (a counts folder has summary, items, pairs, triples, item_months, months and sample)",
                folder.display()
            )
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .at(|| format!("listing {}", folder.display()))?;
    files.retain(|p| p.extension().is_some_and(|e| e == "parquet"));
    files.sort();
    Ok(files)
}

/// Reads every row of table `name`: its file, the row's place and its cells by `columns`
/// (all required).
fn read_table(
    dir: &Path,
    name: &str,
    columns: &[&str],
    mut visit: impl FnMut(&Row) -> Result<(), FileError>,
) -> Result<(), FileError> {
    for file in table_files(dir, name)? {
        let file_name = file.display().to_string();
        for_each_row(&file, columns, columns.len(), |place, cells| {
            visit(&Row {
                file: &file_name,
                place,
                columns,
                cells,
            })
        })?;
    }
    Ok(())
}

/// A row of a counts table, for reading its cells with errors that say where.
struct Row<'a> {
    file: &'a str,
    place: Place,
    columns: &'a [&'a str],
    cells: &'a [String],
}

impl Row<'_> {
    /// An error at this row.
    fn error(&self, detail: String) -> FileError {
        FileError::Invalid(format!("{}: {detail}", self.place.in_file(self.file)))
    }

    /// Cell `k` as a count: a whole number from 0 to `max`.
    fn count(&self, k: usize, max: u64) -> Result<u64, FileError> {
        let cell = &self.cells[k];
        cell.parse::<u64>()
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| {
                self.error(format!(
                    "{} {cell:?} is not a whole number from 0 to {max}",
                    self.columns[k]
                ))
            })
    }

    /// Cell `k` as an item of `catalog`.
    fn item(&self, k: usize, catalog: &Catalog) -> Result<u32, FileError> {
        let id = &self.cells[k];
        catalog.lookup(id).ok_or_else(|| {
            self.error(format!(
                "{} {id:?} is not in the products file",
                self.columns[k]
            ))
        })
    }

    /// Cells from `k` on as a set of `N` distinct items, listed ascending by id.
    fn set<const N: usize>(&self, k: usize, catalog: &Catalog) -> Result<[u32; N], FileError> {
        let ids = &self.cells[k..k + N];
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(self.error(format!(
                "item ids {ids:?} are not distinct and ascending (each set is listed once, ids in byte order)"
            )));
        }
        let mut items = [0u32; N];
        for (n, item) in items.iter_mut().enumerate() {
            *item = self.item(k + n, catalog)?;
        }
        items.sort_unstable();
        Ok(items)
    }
}

/// Reads a counts folder against the catalog: the counts and what `summary` says of the
/// sample. Every table is checked as it is read: item ids in the catalog, each item, pair,
/// triple and month once, counts that fit, months 1–12, a pair or triple never in more
/// baskets than its items; an error names the file, row and column.
pub fn read(dir: &Path, catalog: &Catalog) -> Result<(Counts, SampleInfo), FileError> {
    let n = catalog.len();
    let u32_max = u32::MAX as u64;
    let mut summary: Option<[u64; 10]> = None;
    read_table(dir, "summary", &SUMMARY, |row| {
        if summary.is_some() {
            return Err(row.error("summary has more than one row".into()));
        }
        let mut values = [0u64; 10];
        for (k, v) in values.iter_mut().enumerate() {
            *v = row.count(k, i64::MAX as u64)?;
        }
        if values[0] != CONTRACT_VERSION as u64 {
            return Err(row.error(format!(
                "contract_version {} is not {CONTRACT_VERSION}, the version this cartwise reads",
                values[0]
            )));
        }
        summary = Some(values);
        Ok(())
    })?;
    let Some(
        [_, orders, lines, baskets, oversized, rejected_lines, max_order_items, min_itemset_count, threshold, sample_orders],
    ) = summary
    else {
        return Err(FileError::Invalid(format!(
            "{}: summary has no row",
            dir.join("summary").display()
        )));
    };
    let mut counts = Counts {
        orders,
        lines,
        oversized,
        rejected_lines,
        max_order_items: max_order_items as usize,
        min_itemset_count: min_itemset_count.min(u32_max) as u32,
        pairs: PairCounts {
            orders: baskets.min(u32_max) as u32,
            item_counts: vec![0; n],
            pairs: Vec::new(),
        },
        item_months: vec![[0; 12]; n],
        ..Counts::default()
    };
    let at_most = |row: &Row, what: &str, count: u64, cap: u64, of: &str| {
        if count > cap {
            Err(row.error(format!("{what} has {count} orders, more than {of}'s {cap}")))
        } else {
            Ok(())
        }
    };
    read_table(dir, "items", &["item_id", "orders"], |row| {
        let item = row.item(0, catalog)?;
        let c = row.count(1, baskets)?;
        let slot = &mut counts.pairs.item_counts[item as usize];
        if *slot != 0 {
            return Err(row.error(format!("item {:?} is listed twice", row.cells[0])));
        }
        *slot = c as u32;
        Ok(())
    })?;
    let item_counts = counts.pairs.item_counts.clone();
    let mut pairs: Vec<(u64, u32, u32)> = Vec::new();
    read_table(
        dir,
        "pairs",
        &["item_a", "item_b", "orders", "buyers"],
        |row| {
            let [a, b] = row.set::<2>(0, catalog)?;
            let c = row.count(2, u32_max)?;
            let cap = item_counts[a as usize].min(item_counts[b as usize]) as u64;
            at_most(row, "the pair", c, cap, "an item")?;
            pairs.push((pair_key(a, b), c as u32, row.count(3, c)? as u32));
            Ok(())
        },
    )?;
    pairs.sort_unstable_by_key(|p| p.0);
    if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
        let (a, b) = crate::train::assoc::count::unpack_pair(w[0].0);
        return Err(FileError::Invalid(format!(
            "{}: the pair {:?}, {:?} is listed twice",
            dir.join("pairs").display(),
            catalog.get(a).id,
            catalog.get(b).id
        )));
    }
    (counts.pairs.pairs, counts.pair_buyers) =
        pairs.into_iter().map(|(k, c, b)| ((k, c), b)).unzip();
    let mut triples: Vec<([u32; 3], u32, u32)> = Vec::new();
    read_table(
        dir,
        "triples",
        &["item_a", "item_b", "item_c", "orders", "buyers"],
        |row| {
            let t = row.set::<3>(0, catalog)?;
            let c = row.count(3, u32_max)?;
            let cap = t
                .iter()
                .map(|&i| item_counts[i as usize])
                .min()
                .unwrap_or(0) as u64;
            at_most(row, "the triple", c, cap, "an item")?;
            if c < min_itemset_count {
                return Err(row.error(format!(
                    "the triple has {c} orders, under summary's min_itemset_count {min_itemset_count}"
                )));
            }
            triples.push((t, c as u32, row.count(4, c)? as u32));
            Ok(())
        },
    )?;
    triples.sort_unstable();
    if let Some(w) = triples.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(FileError::Invalid(format!(
            "{}: the triple {:?} is listed twice",
            dir.join("triples").display(),
            w[0].0.map(|i| catalog.get(i).id.clone())
        )));
    }
    counts.triples = triples;
    read_table(dir, "item_months", &["item_id", "month", "orders"], |row| {
        let item = row.item(0, catalog)?;
        let m = month(row, 1)?;
        let c = row.count(2, u32_max)?;
        at_most(
            row,
            "the item's month",
            c,
            item_counts[item as usize] as u64,
            "the item",
        )?;
        let slot = &mut counts.item_months[item as usize][m];
        if *slot != 0 {
            return Err(row.error("the item's month is listed twice".into()));
        }
        *slot = c as u32;
        Ok(())
    })?;
    read_table(dir, "months", &["month", "orders"], |row| {
        let m = month(row, 0)?;
        let slot = &mut counts.months[m];
        if *slot != 0 {
            return Err(row.error("the month is listed twice".into()));
        }
        *slot = row.count(1, baskets)?;
        Ok(())
    })?;
    Ok((
        counts,
        SampleInfo {
            threshold,
            orders: sample_orders,
        },
    ))
}

/// Cell `k` as a calendar month, 0-based.
fn month(row: &Row, k: usize) -> Result<usize, FileError> {
    let m = row.count(k, 12)?;
    if m == 0 {
        return Err(row.error("month 0 is not a calendar month (1-12)".into()));
    }
    Ok(m as usize - 1)
}

/// Reads the sample's order lines against the catalog, with the rejects the order-log reader
/// gives any log.
pub fn read_sample(dir: &Path, catalog: &Catalog) -> Result<(OrderLog, Vec<Reject>), FileError> {
    read_order_files(&table_files(dir, "sample")?, catalog)
}
