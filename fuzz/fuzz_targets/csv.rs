//! CSV ingest: the input is a products file and an orders file (split at the first 0x00), read
//! as `train` reads them; every outcome must be a catalog, rejects or an error, never a panic.
#![no_main]

use cartwise::train::ingest::{read_links, read_orders, read_products};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A scratch folder of this process (ingest reads paths).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cartwise-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let (products, orders) = match data.iter().position(|&b| b == 0) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => (data, &[][..]),
    };
    let (p, o) = (scratch().join("products.csv"), scratch().join("orders.csv"));
    std::fs::write(&p, products).expect("write products");
    std::fs::write(&o, orders).expect("write orders");
    let Ok((catalog, _)) = read_products(&p, None) else {
        return;
    };
    let _ = read_links(&p, &catalog);
    let _ = read_orders(&o, &catalog);
});
