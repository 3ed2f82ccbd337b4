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
    } = args;
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
