//! The order log as a Parquet file: the CSV contract's columns by name (`order_id`, `item_id`,
//! optional `customer_id`, `timestamp`, `quantity`, `unit_price`, `currency`), read a row
//! group at a time as Arrow record batches, each cell given to the same line checks as a CSV
//! line ([`super::OrderAssembler`]), so both formats accept and reject alike. A reject names
//! the row group and the row within it (from 0).
//!
//! Cells are read as the text a CSV would hold: strings as they are, integers and decimals in
//! decimal notation, timestamps (any unit; the instant, as UTC) and dates in ISO 8601, nulls
//! as empty, dictionary-encoded columns through their values. A column of another type is an
//! error naming it.

use super::{OrderAssembler, OrderLog, Place, Reject};
use crate::serve::catalog::Catalog;
use crate::train::error::{At, FileError};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use chrono::DateTime;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use std::fmt::Write;
use std::path::Path;

/// The columns an order line is read from, in this order; the first two are required.
const COLUMNS: [&str; 7] = [
    "order_id",
    "item_id",
    "customer_id",
    "timestamp",
    "quantity",
    "unit_price",
    "currency",
];

/// Reads an order log from a Parquet file (see the module docs) against a catalog.
pub fn read_orders(path: &Path, catalog: &Catalog) -> Result<(OrderLog, Vec<Reject>), FileError> {
    read_order_files(&[path.to_path_buf()], catalog)
}

/// Reads one order log from several Parquet files (the parts a query engine writes), an
/// order's lines possibly in more than one; rejects name their file.
pub fn read_order_files(
    paths: &[std::path::PathBuf],
    catalog: &Catalog,
) -> Result<(OrderLog, Vec<Reject>), FileError> {
    let mut orders = OrderAssembler::new("", catalog);
    for path in paths {
        orders.file = path.display().to_string();
        for_each_row(path, &COLUMNS, 2, |place, cells| {
            orders.line(place, |name| {
                COLUMNS
                    .iter()
                    .position(|c| *c == name)
                    .map_or("", |k| cells[k].as_str())
            });
            Ok(())
        })?;
    }
    Ok(orders.finish(Vec::new()))
}

/// Reads `columns` of every row of a Parquet file, a row group at a time, each cell as the
/// text a CSV would hold (empty where null or where the file lacks an optional column), and
/// gives them to `visit` with the row's place. The first `required` columns must exist; a
/// column of a type cartwise does not read is an error naming it, as is `visit`'s error.
pub fn for_each_row(
    path: &Path,
    columns: &[&str],
    required: usize,
    mut visit: impl FnMut(Place, &[String]) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let file_name = path.display().to_string();
    let file = std::fs::File::open(path).at(|| format!("opening {file_name}"))?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .at(|| format!("{file_name}: reading the Parquet footer"))?;
    let schema = metadata.schema().clone();
    // Each wanted column's position among the file's top-level columns, where present.
    let positions: Vec<Option<usize>> = columns
        .iter()
        .map(|name| schema.index_of(name).ok())
        .collect();
    for (name, at) in columns.iter().zip(&positions).take(required) {
        if at.is_none() {
            let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(FileError::Invalid(format!(
                "{file_name}: no column {name:?} (columns: {})",
                have.join(", ")
            )));
        }
    }
    for (name, at) in columns.iter().zip(&positions) {
        if let Some(i) = at {
            let data_type = schema.field(*i).data_type();
            if !readable(data_type) {
                return Err(FileError::Invalid(format!(
                    "{file_name}: column {name:?} is {data_type}, which cartwise does not read \
                     (strings, integers, decimals, timestamps and dates are read)"
                )));
            }
        }
    }
    let roots: Vec<usize> = positions.iter().flatten().copied().collect();
    let groups = metadata.metadata().num_row_groups();
    let mut cells: Vec<String> = vec![String::new(); columns.len()];
    for group in 0..groups {
        let mask = ProjectionMask::roots(
            metadata.metadata().file_metadata().schema_descr(),
            roots.clone(),
        );
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            file.try_clone().at(|| format!("reading {file_name}"))?,
            metadata.clone(),
        )
        .with_row_groups(vec![group])
        .with_projection(mask)
        .build()
        .at(|| format!("{file_name}: row group {group}"))?;
        let mut row = 0u64;
        for batch in reader {
            let batch = batch
                .map_err(parquet::errors::ParquetError::from)
                .at(|| format!("{file_name}: row group {group}, reading from row {row}"))?;
            let arrays: Vec<Option<std::sync::Arc<dyn Array>>> = columns
                .iter()
                .map(|name| batch.column_by_name(name).cloned())
                .collect();
            for i in 0..batch.num_rows() {
                for (cell, array) in cells.iter_mut().zip(&arrays) {
                    cell.clear();
                    if let Some(array) = array {
                        text(array.as_ref(), i, cell);
                    }
                }
                visit(Place::Row { group, row }, &cells)?;
                row += 1;
            }
        }
    }
    Ok(())
}

/// Whether [`text`] reads cells of this type.
fn readable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => readable(values),
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Timestamp(_, _)
        | DataType::Date32
        | DataType::Null => true,
        _ => false,
    }
}

/// Writes cell `i` of `array` as the CSV contract's text into `out` (nothing for a null).
fn text(array: &dyn Array, i: usize, out: &mut String) {
    if array.is_null(i) {
        return;
    }
    // Writing to a String cannot fail.
    let _ = match array.data_type() {
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let key = dictionary.normalized_keys()[i];
            text(dictionary.values().as_ref(), key, out);
            Ok(())
        }
        DataType::Utf8 => {
            out.push_str(array.as_string::<i32>().value(i));
            Ok(())
        }
        DataType::LargeUtf8 => {
            out.push_str(array.as_string::<i64>().value(i));
            Ok(())
        }
        DataType::Utf8View => {
            out.push_str(array.as_string_view().value(i));
            Ok(())
        }
        DataType::Int8 => write!(out, "{}", array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => write!(out, "{}", array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => write!(out, "{}", array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => write!(out, "{}", array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => write!(out, "{}", array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => write!(out, "{}", array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => write!(out, "{}", array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => write!(out, "{}", array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => write!(out, "{}", array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => write!(out, "{}", array.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(_, scale) => {
            let value = array.as_primitive::<Decimal128Type>().value(i);
            decimal(value, *scale, out);
            Ok(())
        }
        DataType::Timestamp(unit, _) => {
            let (per_second, value) = match unit {
                TimeUnit::Second => (1, array.as_primitive::<TimestampSecondType>().value(i)),
                TimeUnit::Millisecond => (
                    1_000,
                    array.as_primitive::<TimestampMillisecondType>().value(i),
                ),
                TimeUnit::Microsecond => (
                    1_000_000,
                    array.as_primitive::<TimestampMicrosecondType>().value(i),
                ),
                TimeUnit::Nanosecond => (
                    1_000_000_000,
                    array.as_primitive::<TimestampNanosecondType>().value(i),
                ),
            };
            match DateTime::from_timestamp(value.div_euclid(per_second), 0) {
                Some(t) => write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
                // Out of chrono's range: left as a number, which the line checks reject.
                None => write!(out, "{value}"),
            }
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i);
            match DateTime::from_timestamp(i64::from(days) * 86_400, 0) {
                Some(t) => write!(out, "{}", t.format("%Y-%m-%d")),
                None => write!(out, "{days}"),
            }
        }
        _ => Ok(()),
    };
}

/// A Decimal128 value of `scale` fractional digits in decimal notation (`1234`, 2 → `12.34`).
fn decimal(value: i128, scale: i8, out: &mut String) {
    if scale <= 0 {
        let _ = write!(out, "{value}");
        out.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        return;
    }
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    if value < 0 {
        out.push('-');
    }
    let _ = write!(out, "{whole}.{fraction}");
}
