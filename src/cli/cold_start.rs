//! `cartwise cold-start`: holds items out of training and measures them as new items.

use crate::output::{report_rejects, spinner, train_with_progress, write_export, ModelShape};
use anyhow::{bail, Result};
use cartwise::serve::suggest::Engine;
use cartwise::train::ingest;
use cartwise::train::pipeline::TrainConfig;
use std::path::{Path, PathBuf};

/// Arguments of `cartwise cold-start`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub orders: PathBuf,
    #[arg(long)]
    pub products: PathBuf,
    /// Share of items held out of training.
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f64,
    #[command(flatten)]
    pub shape: ModelShape,
    /// Seeds the held-out items, the transformer and the test carts' hidden items.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the export trained without the held-out items here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        orders,
        products,
        holdout,
        shape,
        seed,
        out,
        json,
    } = args;
    cold_start_cmd(
        &orders,
        &products,
        holdout,
        shape.fit_config(seed)?,
        seed,
        out.as_deref(),
        json,
    )
}

/// `cartwise cold-start`: hold items out, train without them, measure them as new items.
#[allow(clippy::too_many_arguments)]
fn cold_start_cmd(
    orders: &Path,
    products: &Path,
    fraction: f64,
    transformer: cartwise::train::model::fit::FitConfig,
    seed: u64,
    out: Option<&Path>,
    json: bool,
) -> Result<()> {
    if !(fraction > 0.0 && fraction < 1.0) {
        bail!("--holdout {fraction} is not between 0 and 1 (exclusive)");
    }
    let bar = spinner("reading products");
    let (full, mut rejects) = ingest::read_products(products, None)?;
    bar.set_message("reading orders");
    let (log, order_rejects) = ingest::read_orders(orders, &full)?;
    rejects.extend(order_rejects);
    bar.finish_and_clear();
    report_rejects(&rejects);
    let shop = cartwise::train::holdout::hold_out(&full, &log, fraction, seed);
    eprintln!(
        "held out {} of {} items; {} training orders ({} left empty and dropped), {} test orders",
        shop.new_items.len(),
        full.len(),
        shop.train.orders.len(),
        shop.emptied_orders,
        shop.test.orders.len()
    );
    let config = TrainConfig {
        transformer: Some(transformer),
        seed,
        ..TrainConfig::default()
    };
    let export = train_with_progress(&shop.catalog, &shop.train, None, &config)?;
    let engine = match out {
        Some(out) => write_export(out, &export, None)?.1,
        None => Engine::new(export)?,
    };
    let bar = spinner("evaluating the held-out items");
    let report = cartwise::train::holdout::evaluate(&engine, &full, &shop, seed)?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} test carts whose hidden item is one of the {} held-out items; the engine showed a new \
         item in the top 10 of {}",
        report.carts, report.held_out, report.carts_showing_new
    );
    println!("{:<40} {:<36} {:>7}", "method", "ranks among", "HR@10");
    for r in &report.rows {
        println!("{:<40} {:<36} {:>7.4}", r.method, r.among, r.hr10);
    }
    Ok(())
}
