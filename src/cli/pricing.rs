//! `cartwise pricing`: expected margin per cart of pricing policies, judged by a planted curve.

use crate::output::{clock_month, load, report_rejects};
use anyhow::Result;
use cartwise::train::{ingest, protocol, synth};
use std::path::PathBuf;

/// Arguments of `cartwise pricing`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    /// Held-out orders: each gives a cart (one item hidden, seeded) whose top bundle is priced.
    #[arg(long)]
    pub orders: PathBuf,
    /// The synthetic shop's planted.json: its price sensitivities judge every policy.
    #[arg(long)]
    pub planted: PathBuf,
    /// The products CSV the export was trained on: margins are judged by its exact costs (the
    /// export states costs only by margin band), and the optimiser is also run on them.
    #[arg(long)]
    pub products: Option<PathBuf>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        orders,
        planted,
        products,
        seed,
        json,
    } = args;
    let engine = load(&model)?;
    let (log, rejects) = ingest::read_orders(&orders, &engine.export().catalog)?;
    report_rejects(&rejects);
    let carts = protocol::test_carts(&log, seed);
    let truth = synth::read_planted(&planted)?.pricing.acceptance();
    let exact = match &products {
        Some(path) => {
            let export_currency = engine.export().catalog.currency();
            let (catalog, rejects) = ingest::read_products(path, Some(export_currency))?;
            report_rejects(&rejects);
            Some(catalog)
        }
        None => None,
    };
    let report = cartwise::train::pricing::evaluate::compare(
        &engine,
        &carts,
        &truth,
        exact.as_ref(),
        clock_month(),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} carts with a priced top bundle; expected margin judged by {}'s planted curve",
        report.carts,
        planted.display()
    );
    println!(
        "{:<28} {:>16} {:>10} {:>13} {:>11}",
        "policy", "margin per cart", "take-up", "mean discount", "discounted"
    );
    let none = report.policies[2].margin_per_cart;
    let currency = engine.export().catalog.currency();
    for p in &report.policies {
        println!(
            "{:<28} {:>9} ({:>4.2}x) {:>9.2}% {:>12.2}% {:>10.1}%",
            p.policy,
            currency.format(p.margin_per_cart.round() as i64),
            p.margin_per_cart / none,
            p.acceptance * 100.0,
            p.discount_share * 100.0,
            p.discounted * 100.0
        );
    }
    Ok(())
}
