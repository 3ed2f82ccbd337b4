//! Ingest: every rejected row names file:line and a reason; money is parsed exactly.

use cartwise::train::ingest::{read_orders, read_products, summarize};
use std::io::Write;
use std::path::PathBuf;

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

#[test]
fn products_parse_money_exactly_and_report_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "products.csv",
        "item_id,title,category,price,cost,ignored\n\
         A,Alpha,X,2.55,1.10,zzz\n\
         B,Beta,X,19.99,,\n\
         C,Gamma,Y,1.234,0.5,\n\
         ,NoId,Y,1,0.5,\n\
         A,Again,X,3,1,\n\
         D,,X,3,1,\n\
         E,Eps,Y,-1,0,\n\
         F,Phi,Y,,,\n",
    );
    let (catalog, rejects) = read_products(&p, None).unwrap();
    assert_eq!(catalog.len(), 3, "A, B and F are accepted");
    let a = catalog.get(catalog.lookup("A").unwrap());
    assert_eq!((a.price, a.cost), (Some(255), Some(110)));
    let b = catalog.get(catalog.lookup("B").unwrap());
    assert_eq!((b.price, b.cost), (Some(1999), None));
    let f = catalog.get(catalog.lookup("F").unwrap());
    assert_eq!((f.price, f.cost), (None, None));
    let lines: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
    assert_eq!(
        lines,
        vec![
            (4, "bad price"),
            (5, "missing item_id"),
            (6, "duplicate item_id"),
            (7, "missing title"),
            (8, "bad price")
        ]
    );
    let shown = rejects[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:4: bad price", p.display())),
        "{shown}"
    );
    assert!(shown.contains("more than 2 decimal places"), "{shown}");
    assert!(
        rejects[2].detail.contains("line 2"),
        "duplicate names the first line: {}",
        rejects[2].detail
    );
}

#[test]
fn orders_report_each_rejected_line_with_reason_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(&dir, "products.csv", "item_id,title\nA,Alpha\nB,Beta\n");
    let o = file(
        &dir,
        "orders.csv",
        "order_id,item_id,customer_id,timestamp,quantity,unit_price\n\
         1,A,c1,2024-03-05T10:00:00Z,1,2.55\n\
         1,B,c1,2024-03-05T10:00:00Z,2,1.00\n\
         2,Z,c2,2024-03-06,1,1.00\n\
         3,A,c3,yesterday,1,1.00\n\
         4,A,c4,2024-03-07,0,1.00\n\
         5,A,c5,2024-03-07,1.5,1.00\n\
         6,A,c6,2024-03-07,1,abc\n\
         ,A,c7,2024-03-07,1,1\n\
         8,,c8,2024-03-07,1,1\n\
         9,B,,2024-12-24 08:30:00,,\n\
         9,A,,,,\n",
    );
    let (catalog, _) = read_products(&p, None).unwrap();
    let (log, rejects) = read_orders(&o, &catalog).unwrap();
    let got: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
    assert_eq!(
        got,
        vec![
            (4, "unknown item"),
            (5, "bad timestamp"),
            (6, "non-positive quantity"),
            (7, "bad quantity"),
            (8, "bad unit_price"),
            (9, "missing order_id"),
            (10, "missing item_id"),
        ]
    );
    assert!(
        rejects[0].to_string().contains("\"Z\""),
        "names the item: {}",
        rejects[0]
    );
    assert_eq!(log.orders.len(), 2);
    assert_eq!(log.lines, 4);
    assert_eq!(log.orders[0].items.len(), 2);
    assert_eq!(log.orders[0].month(), Some(3));
    assert_eq!(
        log.orders[1].month(),
        Some(12),
        "a later line's missing timestamp keeps the first"
    );
    let summary = summarize(&rejects);
    assert_eq!(summary.len(), 7);
    assert!(summary.iter().all(|&(_, n)| n == 1));
}

#[test]
fn missing_required_column_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(&dir, "products.csv", "id,title\nA,Alpha\n");
    let err = read_products(&p, None).unwrap_err().to_string();
    assert!(
        err.contains("products.csv:1") && err.contains("item_id"),
        "{err}"
    );
}

#[test]
fn malformed_csv_rows_are_rejected_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("products.csv");
    let mut bytes = b"item_id,title\nA,Alpha\nB,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"\nC,Gamma\n");
    std::fs::write(&path, bytes).unwrap();
    let (catalog, rejects) = read_products(&path, None).unwrap();
    assert_eq!(catalog.len(), 2);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 3);
    assert_eq!(rejects[0].reason, "invalid UTF-8");
}

#[test]
fn product_links_keep_https_http_and_site_relative_ones_and_report_the_rest() {
    use cartwise::train::ingest::read_links;
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "products.csv",
        "item_id,title,image_url,url\n\
         a,Mug,https://cdn.shop.example/a.jpg,/products/a\n\
         b,Tea,,http://shop.example/b\n\
         c,Pot,javascript:alert(1),//evil.example/c\n\
         d,Cup,/img/d.png,\n",
    );
    let (catalog, rejects) = read_products(&path, None).unwrap();
    assert!(rejects.is_empty());
    let (links, rejects) = read_links(&path, &catalog).unwrap();
    let at = |id: &str| links.get(catalog.lookup(id).unwrap());
    assert_eq!(
        at("a"),
        (Some("https://cdn.shop.example/a.jpg"), Some("/products/a"))
    );
    assert_eq!(at("b"), (None, Some("http://shop.example/b")));
    assert_eq!(at("c"), (None, None), "unsafe links are left out");
    assert_eq!(at("d"), (Some("/img/d.png"), None));
    let text: Vec<String> = rejects
        .iter()
        .map(|r| format!("{}: {}", r.line, r.detail))
        .collect();
    assert_eq!(rejects.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with("4: item \"c\": image_url \"javascript:alert(1)\""),
        "{text:?}"
    );
    assert!(text[1].contains("url \"//evil.example/c\""), "{text:?}");
}

#[test]
fn amounts_follow_the_shops_currency() {
    use cartwise::train::currency::iso_4217;
    let dir = tempfile::tempdir().unwrap();
    // The first currency cell (line 3) decides, also for the row above it.
    let yen = file(
        &dir,
        "yen.csv",
        "item_id,title,price,cost,currency\n\
         a,Mug,1980,900,\n\
         b,Tea,480,200,jpy\n\
         c,Pot,19.80,9,JPY\n\
         d,Cup,3.50,1,USD\n",
    );
    let (catalog, rejects) = read_products(&yen, None).unwrap();
    assert_eq!(catalog.currency(), &iso_4217("JPY").unwrap());
    let a = catalog.get(catalog.lookup("a").unwrap());
    assert_eq!((a.price, a.cost), (Some(1980), Some(900)));
    let got: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
    assert_eq!(got, vec![(4, "bad price"), (5, "currency mismatch")]);
    assert!(
        rejects[0].detail.contains("more than 0 decimal places"),
        "{}",
        rejects[0]
    );
    assert!(
        rejects[1].detail.contains("prices are in JPY"),
        "{}",
        rejects[1]
    );

    // --currency wins over the file; three decimals in dinars, a short fraction right-padded.
    let fils = file(
        &dir,
        "kwd.csv",
        "item_id,title,price,cost\na,Mug,2.5,1.125\nb,Tea,0.990,0.4\n",
    );
    let kwd = iso_4217("kwd").unwrap();
    let (catalog, rejects) = read_products(&fils, Some(&kwd)).unwrap();
    assert!(rejects.is_empty(), "{rejects:?}");
    let a = catalog.get(catalog.lookup("a").unwrap());
    assert_eq!((a.price, a.cost), (Some(2500), Some(1125)));

    // Order lines are read in the catalog's currency; one naming another is rejected.
    let orders = file(
        &dir,
        "orders.csv",
        "order_id,item_id,unit_price,currency\n1,a,2.250,KWD\n1,b,0.99,\n2,a,2.5,EUR\n",
    );
    let (log, rejects) = read_orders(&orders, &catalog).unwrap();
    assert_eq!(log.orders[0].unit_prices, vec![Some(2250), Some(990)]);
    let got: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
    assert_eq!(got, vec![(4, "currency mismatch")]);

    // An unknown code in the file is an error naming file and line.
    let bad = file(
        &dir,
        "bad.csv",
        "item_id,title,price,currency\na,Mug,1,XYZ\n",
    );
    let err = read_products(&bad, None).unwrap_err().to_string();
    assert!(
        err.contains("bad.csv:2") && err.contains("\"XYZ\""),
        "{err}"
    );
}

#[test]
fn shifted_columns_and_open_quotes_are_rejected_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "products.csv",
        "item_id,title,price,cost\n\
         a,Mug,1,234.56,100\n\
         b,Tea,2.00,1.00\n\
         c,Pot,3.00\n\
         d,\"Jug,4.00,1.00\n\
         e,Cup,3.00,1.00\n\
         f,Lid,1.00,0.50\n",
    );
    let (catalog, rejects) = read_products(&p, None).unwrap();
    assert_eq!(catalog.len(), 1, "only b is whole: {rejects:?}");
    let got: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
    assert_eq!(
        got,
        vec![
            (2, "wrong field count"),
            (4, "wrong field count"),
            (5, "wrong field count")
        ]
    );
    assert!(
        rejects[0]
            .detail
            .contains("5 fields where the header has 4"),
        "{}",
        rejects[0]
    );
    assert!(
        rejects[0].detail.contains("1,234.56"),
        "names the likely cause: {}",
        rejects[0]
    );
    // The open quote swallowed e and f: the reject says which lines it ran over.
    assert!(
        rejects[2]
            .detail
            .contains("opened on line 5 runs to line 7"),
        "{}",
        rejects[2]
    );
    assert!(rejects.iter().all(|r| !r.kept));
}

#[test]
fn suspicious_costs_and_conflicting_order_lines_are_warnings_on_kept_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "products.csv",
        "item_id,title,price,cost\na,Mug,10.00,0\nb,Tea,5.00,6.00\nc,Pot,8.00,3.00\n",
    );
    let (catalog, warnings) = read_products(&p, None).unwrap();
    assert_eq!(catalog.len(), 3);
    let got: Vec<(u64, &str, bool)> = warnings
        .iter()
        .map(|r| (r.line, r.reason, r.kept))
        .collect();
    assert_eq!(
        got,
        vec![(2, "suspicious cost", true), (3, "suspicious cost", true)]
    );
    assert!(warnings[0].detail.contains("cost 0"), "{}", warnings[0]);
    assert!(
        warnings[1].detail.contains("not below the price"),
        "{}",
        warnings[1]
    );

    // Shopify and WooCommerce timestamps parse; lines of one order that disagree are reported.
    let o = file(
        &dir,
        "orders.csv",
        "order_id,item_id,customer_id,timestamp\n\
         1,a,c1,2024-03-01 10:15:00 -0500\n\
         1,b,c1,2024-03-01T15:15:00Z\n\
         2,a,c2,2024-03-02 09:00:00\n\
         2,c,c3,2024-03-02 09:30:00\n\
         3,c,,2024-03-03T08:00:00+0100\n",
    );
    let (log, warnings) = read_orders(&o, &catalog).unwrap();
    assert_eq!(log.lines, 5, "every line is kept");
    // -0500 is five hours behind UTC; +0100 one ahead.
    assert_eq!(log.orders[0].time, Some(1_709_306_100));
    assert_eq!(log.orders[2].time, Some(1_709_449_200));
    let got: Vec<(u64, &str, bool)> = warnings
        .iter()
        .map(|r| (r.line, r.reason, r.kept))
        .collect();
    assert_eq!(
        got,
        vec![(5, "order conflict", true), (5, "order conflict", true)]
    );
    assert!(
        warnings[0].detail.contains("differs from line 4"),
        "{}",
        warnings[0]
    );
    assert_eq!(
        log.orders[1].customer.as_deref(),
        Some("c2"),
        "the first is kept"
    );
}

/// The same order lines as a Parquet file, in row groups of 3, with the types warehouses
/// write: string ids, an integer customer id, a millisecond UTC timestamp, an int32 quantity
/// and a decimal unit price (nulls where the CSV has empty cells).
fn parquet_orders(path: &std::path::Path, rows: &[[&str; 6]]) {
    use arrow_array::{
        ArrayRef, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
        TimestampMillisecondArray,
    };
    use std::sync::Arc;
    let text = |k: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| Some(r[k]).filter(|s| !s.is_empty()))
                .collect::<Vec<_>>(),
        ))
    };
    let parse = |k: usize| rows.iter().map(move |r| r[k].parse::<i64>().ok());
    let stamps = rows
        .iter()
        .map(|r| cartwise::train::ingest::parse_timestamp(r[3]).map(|t| t.timestamp_millis()));
    let prices = rows.iter().map(|r| {
        r[5].parse::<f64>()
            .ok()
            .map(|p| (p * 100.0).round() as i128)
    });
    let batch = RecordBatch::try_from_iter([
        ("order_id", text(0)),
        ("item_id", text(1)),
        (
            "customer_id",
            Arc::new(Int64Array::from_iter(parse(2))) as ArrayRef,
        ),
        (
            "timestamp",
            Arc::new(TimestampMillisecondArray::from_iter(stamps).with_timezone("UTC")),
        ),
        (
            "quantity",
            Arc::new(Int32Array::from_iter(parse(4).map(|q| q.map(|q| q as i32)))),
        ),
        (
            "unit_price",
            Arc::new(
                Decimal128Array::from_iter(prices)
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
    ])
    .unwrap();
    write_parquet(path, &batch, 3);
}

/// Writes one record batch as a Parquet file in row groups of `group_rows`.
fn write_parquet(path: &std::path::Path, batch: &arrow_array::RecordBatch, group_rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// Each reject's row group, row (or line) and reason.
fn places(rejects: &[cartwise::train::ingest::Reject]) -> Vec<(Option<usize>, u64, &str)> {
    rejects
        .iter()
        .map(|r| (r.row_group, r.line, r.reason))
        .collect()
}

#[test]
fn parquet_orders_read_as_the_same_csv_and_rejects_name_row_group_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let products = file(
        &dir,
        "products.csv",
        "item_id,title,category,price\nA,Alpha,X,2.50\nB,Beta,X,4.00\nC,Gamma,Y,1.00\n",
    );
    let (catalog, _) = read_products(&products, None).unwrap();
    // order, item, customer, timestamp, quantity, unit price
    let rows: [[&str; 6]; 8] = [
        ["o1", "A", "7", "2024-03-01T10:00:00Z", "1", "2.50"],
        ["o1", "B", "7", "2024-03-01T10:00:00Z", "2", ""],
        ["o2", "Z", "8", "2024-03-02T09:30:00Z", "1", ""],
        ["o2", "C", "8", "2024-03-02T09:30:00Z", "1", "0.99"],
        ["o3", "A", "", "", "0", ""],
        ["o3", "B", "", "", "", ""],
        ["", "C", "", "", "1", ""],
        ["o1", "C", "9", "2024-03-01T10:00:00Z", "1", "1.00"],
    ];
    let csv: String =
        std::iter::once("order_id,item_id,customer_id,timestamp,quantity,unit_price\n".to_string())
            .chain(rows.iter().map(|r| r.join(",") + "\n"))
            .collect();
    let (from_csv, csv_rejects) = read_orders(&file(&dir, "orders.csv", &csv), &catalog).unwrap();
    let path = dir.path().join("orders.parquet");
    parquet_orders(&path, &rows);
    let (from_parquet, rejects) = read_orders(&path, &catalog).unwrap();
    assert_eq!(
        from_parquet, from_csv,
        "the same orders, items, times and prices"
    );
    assert_eq!(from_parquet.orders.len(), 3);
    let reasons = |r: &[cartwise::train::ingest::Reject]| -> Vec<(&str, bool)> {
        r.iter().map(|r| (r.reason, r.kept)).collect()
    };
    assert_eq!(reasons(&rejects), reasons(&csv_rejects));
    // Rows 2, 4 and 6 of the file: row group 0 row 2, row group 1 rows 1 and 0 of group 2;
    // the last row's customer conflicts with the first row's (kept, with a warning).
    assert_eq!(
        places(&rejects),
        vec![
            (Some(0), 2, "unknown item"),
            (Some(1), 1, "non-positive quantity"),
            (Some(2), 0, "missing order_id"),
            (Some(2), 1, "order conflict"),
        ]
    );
    let shown = rejects[1].to_string();
    assert!(
        shown.starts_with(&format!(
            "{}: row group 1, row 1: non-positive quantity",
            path.display()
        )),
        "{shown}"
    );
    assert!(
        rejects[3].detail.contains("row group 0, row 0"),
        "the conflict names where the first customer came from: {}",
        rejects[3].detail
    );
    // The rejects file says which row group.
    let out = dir.path().join("rejects.csv");
    cartwise::train::ingest::write_rejects(&out, &rejects).unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("file,line,reason,detail,row,row_group\n"),
        "{written}"
    );
    assert!(
        written.lines().nth(1).unwrap().ends_with(",rejected,0"),
        "{written}"
    );
}

#[test]
fn parquet_files_without_the_columns_or_with_unreadable_types_are_refused_by_name() {
    use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let products = file(&dir, "products.csv", "item_id,title,price\nA,Alpha,2.50\n");
    let (catalog, _) = read_products(&products, None).unwrap();
    let write = |name: &str, columns: Vec<(&str, ArrayRef)>| {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let path = dir.path().join(name);
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        path
    };
    let ids = || Arc::new(StringArray::from(vec!["o1"])) as ArrayRef;
    let no_item = write("no_item.parquet", vec![("order_id", ids())]);
    let err = read_orders(&no_item, &catalog).unwrap_err().to_string();
    assert!(err.contains("no column \"item_id\""), "{err}");
    assert!(err.contains("columns: order_id"), "{err}");
    let boolean = write(
        "bool.parquet",
        vec![
            ("order_id", ids()),
            (
                "item_id",
                Arc::new(StringArray::from(vec!["A"])) as ArrayRef,
            ),
            (
                "quantity",
                Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
            ),
        ],
    );
    let err = read_orders(&boolean, &catalog).unwrap_err().to_string();
    assert!(err.contains("column \"quantity\" is Boolean"), "{err}");
    let damaged = dir.path().join("damaged.parquet");
    std::fs::write(&damaged, b"PAR1 not really").unwrap();
    let err = read_orders(&damaged, &catalog).unwrap_err().to_string();
    assert!(
        err.contains("damaged.parquet: reading the Parquet footer"),
        "{err}"
    );
}

#[test]
fn parquet_products_read_as_the_same_csv_with_links_and_rejects_by_row() {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    // item, title, category, price, cost, url
    let rows: [[&str; 6]; 5] = [
        ["A", "Alpha", "X", "2.50", "1.00", "https://shop.example/a"],
        ["B", "Beta", "X", "4.00", "0", "/b"],
        ["A", "Again", "Y", "1.00", "", ""],
        ["C", "", "Y", "1.00", "", ""],
        ["D", "Delta", "Y", "2.5x", "", "javascript:alert(1)"],
    ];
    let csv: String = std::iter::once("item_id,title,category,price,cost,url\n".to_string())
        .chain(rows.iter().map(|r| r.join(",") + "\n"))
        .collect();
    let csv_path = file(&dir, "products.csv", &csv);
    let column = |k: usize| {
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| Some(r[k]).filter(|c| !c.is_empty())),
        )) as ArrayRef
    };
    let batch = RecordBatch::try_from_iter(
        ["item_id", "title", "category", "price", "cost", "url"]
            .iter()
            .enumerate()
            .map(|(k, name)| (*name, column(k))),
    )
    .unwrap();
    let path = dir.path().join("products.parquet");
    write_parquet(&path, &batch, 2);
    let (from_csv, csv_rejects) = read_products(&csv_path, None).unwrap();
    let (from_parquet, rejects) = read_products(&path, None).unwrap();
    assert_eq!(from_parquet.products(), from_csv.products());
    assert_eq!(from_parquet.len(), 2, "A and B");
    assert_eq!(
        places(&rejects),
        vec![
            (Some(0), 1, "suspicious cost"),
            (Some(1), 0, "duplicate item_id"),
            (Some(1), 1, "missing title"),
            (Some(2), 0, "bad price"),
        ]
    );
    assert_eq!(
        csv_rejects.iter().map(|r| r.reason).collect::<Vec<_>>(),
        rejects.iter().map(|r| r.reason).collect::<Vec<_>>()
    );
    assert!(
        rejects[1]
            .detail
            .contains("already defined on row group 0, row 0"),
        "{}",
        rejects[1]
    );
    let (links, link_rejects) = cartwise::train::ingest::read_links(&path, &from_parquet).unwrap();
    assert_eq!(
        links.url,
        vec!["https://shop.example/a".to_string(), "/b".to_string()]
    );
    assert!(
        link_rejects.is_empty(),
        "D was rejected as a product, so its link is not read"
    );
}
