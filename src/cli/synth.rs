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
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        out,
        seed,
        items,
        orders,
        customers,
    } = args;
    let config = synth::SynthConfig {
        seed,
        items,
        customers,
        orders,
    };
    config.validate().map_err(anyhow::Error::msg)?;
    let spinner = spinner("generating synthetic shop");
    let shop = synth::generate(&config);
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
