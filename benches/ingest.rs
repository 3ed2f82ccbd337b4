//! Order-log ingest throughput, CSV against Parquet: the same synthetic order lines written both
//! ways (Parquet as Spark writes it: string columns, snappy, row groups of 1M rows), each read
//! by `read_orders` against the catalog. `CARTWISE_INGEST_LINES` sets the size (about 1M
//! lines by default); the figure to read is criterion's throughput in lines/s.

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use cartwise::train::ingest::{read_orders, read_products};
use cartwise::train::synth::{generate, write, SynthConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::sync::Arc;

/// Writes the orders CSV at `csv` as Parquet at `out`, every column a string.
fn to_parquet(csv: &Path, out: &Path) {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1_000_000))
        .build();
    let mut writer: Option<parquet::arrow::ArrowWriter<std::fs::File>> = None;
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); header.len()];
    let flush = |columns: &mut Vec<Vec<String>>, writer: &mut Option<_>| {
        let batch = RecordBatch::try_from_iter(header.iter().zip(columns.iter_mut()).map(
            |(name, values)| {
                let array: ArrayRef = Arc::new(StringArray::from(std::mem::take(values)));
                (name.clone(), array)
            },
        ))
        .unwrap();
        let w = writer.get_or_insert_with(|| {
            parquet::arrow::ArrowWriter::try_new(
                std::fs::File::create(out).unwrap(),
                batch.schema(),
                Some(props.clone()),
            )
            .unwrap()
        });
        w.write(&batch).unwrap();
    };
    for record in reader.records() {
        let record = record.unwrap();
        for (column, value) in columns.iter_mut().zip(record.iter()) {
            column.push(value.to_string());
        }
        if columns[0].len() == 100_000 {
            flush(&mut columns, &mut writer);
        }
    }
    if !columns[0].is_empty() {
        flush(&mut columns, &mut writer);
    }
    writer.unwrap().close().unwrap();
}

fn bench(c: &mut Criterion) {
    let lines: usize = std::env::var("CARTWISE_INGEST_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    // About 3 lines per order in the synthetic shop.
    let shop = generate(&SynthConfig {
        items: 10_000,
        orders: lines / 3,
        customers: (lines / 25).max(1_000),
        seed: 1,
    });
    write(&shop, dir.path()).unwrap();
    let (csv, parquet) = (
        dir.path().join("orders.csv"),
        dir.path().join("orders.parquet"),
    );
    to_parquet(&csv, &parquet);
    let (catalog, _) = read_products(&dir.path().join("products.csv"), None).unwrap();
    let (log, _) = read_orders(&csv, &catalog).unwrap();
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    eprintln!(
        "{} order lines: CSV {} bytes, Parquet {} bytes",
        log.lines,
        size(&csv),
        size(&parquet)
    );
    let mut group = c.benchmark_group("order ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(log.lines));
    for (name, path) in [("CSV", &csv), ("Parquet", &parquet)] {
        group.bench_function(format!("{name}, {} lines", log.lines), |b| {
            b.iter(|| {
                let (read, rejects) = read_orders(path, &catalog).unwrap();
                assert!(rejects.is_empty() && read.lines == log.lines);
                read
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
