//! `cartwise synth`: writes the built-in synthetic shop.

use crate::output::spinner;
use anyhow::Result;
use cartwise::train::synth;
use std::path::PathBuf;

/// Arguments of `cartwise synth`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 2_000)]
    pub items: usize,
    #[arg(long, default_value_t = 50_000)]
    pub orders: usize,
    #[arg(long, default_value_t = 6_000)]
    pub customers: usize,
    /// Price the shop in this ISO 4217 currency (JPY, KWD, …) instead of US dollars.
    #[arg(long)]
    pub currency: Option<String>,
    /// With --currency: its major units per US dollar (150 for JPY, 0.31 for KWD).
    #[arg(long, default_value_t = 1.0, requires = "currency")]
    pub rate: f64,
    /// Instead of the synthetic shop, a small shop of one of the shapes real logs come in
    /// (no-timestamps, sparse-catalog, yen, long-titles, orphans, …; an unknown name lists
    /// them), for testing a pipeline against them. Writes shape.json beside the CSVs.
    #[arg(long, conflicts_with_all = ["items", "orders", "customers", "currency"])]
    pub shape: Option<String>,
    /// With --shape: its size, 1 (about 120 products, 600 orders; the sparse catalog 5,000
    /// products) to 100 (a sparse catalog of 500,000).
    #[arg(long, default_value_t = 1, requires = "shape", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub scale: u16,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        out,
        seed,
        items,
        orders,
        customers,
        currency,
        rate,
        shape,
        scale,
    } = args;
    if let Some(name) = shape {
        let shape = cartwise::train::shapes::Shape::from_name(&name)
            .map_err(|e| anyhow::anyhow!("--shape: {e}"))?;
        let written = cartwise::train::shapes::write(shape, seed, scale as usize, &out)?;
        eprintln!(
            "wrote a {} shop of {} products and {} orders ({}) to {}",
            written.shape,
            written.items,
            written.orders,
            written.currency,
            out.display()
        );
        return Ok(());
    }
    let config = synth::SynthConfig {
        seed,
        items,
        customers,
        orders,
    };
    config.validate().map_err(anyhow::Error::msg)?;
    let currency = currency
        .map(|code| cartwise::train::currency::iso_4217(&code))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--currency: {e}"))?;
    let spinner = spinner("generating synthetic shop");
    let mut shop = synth::generate(&config);
    if let Some(currency) = currency {
        shop = shop
            .in_currency(currency, rate)
            .map_err(|e| anyhow::anyhow!("--rate: {e}"))?;
    }
    synth::write(&shop, &out)?;
    spinner.finish_and_clear();
    eprintln!(
        "wrote {} products and {} orders to {} (planted: {} groups, {} seasonal items)",
        shop.products.len(),
        shop.orders.len(),
        out.display(),
        shop.planted.groups.len(),
        shop.planted.seasonal.len()
    );
    Ok(())
}
