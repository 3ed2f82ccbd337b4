//! `cartwise eval`: HR@10, NDCG@10 and MRR on held-out orders against baselines.

use crate::output::{clock_month, human_bytes, report_rejects, show, spinner};
use anyhow::{bail, Context, Result};
use cartwise::serve::export::Export;
use cartwise::serve::suggest::Engine;
use cartwise::train::{baselines, eval, ingest, protocol};
use std::path::PathBuf;

/// Arguments of `cartwise eval`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub orders: PathBuf,
    /// The orders the model was trained on: fits item-kNN and EASE (λ tuned on their
    /// latest 10% by time) for comparison, and gives each test cart its shopper's history
    /// (earlier orders of the same customer_id) for cartwise to use.
    #[arg(long)]
    pub train_orders: Option<PathBuf>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Hide every item of each test order in turn instead of one seeded item: several
    /// times the carts, for tighter figures on small test sets.
    #[arg(long)]
    pub leave_one_out: bool,
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        orders,
        train_orders,
        seed,
        leave_one_out,
        json,
    } = args;
    let bytes = std::fs::read(&model).with_context(|| format!("reading {}", model.display()))?;
    let engine =
        Engine::new(Export::from_bytes(&bytes).with_context(|| model.display().to_string())?)
            .with_context(|| model.display().to_string())?;
    let (log, rejects) = ingest::read_orders(&orders, &engine.export().catalog)?;
    report_rejects(&rejects);
    // With the training orders, each test cart carries its shopper's history, as the
    // page's store would hand it to the engine.
    let mut carts = match &train_orders {
        Some(path) => {
            let (earlier, _) = ingest::read_orders(path, &engine.export().catalog)?;
            protocol::test_carts_with_history(&log, &earlier, seed)
        }
        None => protocol::test_carts(&log, seed),
    };
    if leave_one_out {
        carts = protocol::leave_one_out(&carts);
    }
    if carts.is_empty() {
        bail!(
            "{}: no order has 2 or more items known to the export; nothing to evaluate",
            orders.display()
        );
    }
    let fitted = match &train_orders {
        Some(path) => {
            let (log, rejects) = ingest::read_orders(path, &engine.export().catalog)?;
            report_rejects(&rejects);
            let bar = spinner("fitting baselines");
            let fitted = baselines::fit(engine.export(), &log, seed, |p| show(&bar, p));
            bar.finish_and_clear();
            Some(fitted)
        }
        None => None,
    };
    let methods = eval::methods(&engine, bytes.len() as u64, clock_month(), fitted.as_ref());
    let bar = spinner("evaluating");
    let report = eval::evaluate(&methods, &carts, seed, leave_one_out);
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let hidden = if leave_one_out {
            "every item of each order hidden in turn".to_string()
        } else {
            format!("one hidden item each, seed {seed}")
        };
        println!(
            "{} held-out carts from {} ({hidden})",
            report.carts,
            orders.display()
        );
        let w = report
            .methods
            .iter()
            .map(|m| m.method.chars().count())
            .max()
            .unwrap_or(0);
        let history = report.carts_with_history > 0;
        println!(
            "{:<w$} {:>8} {:>8} {:>8} {:>12}{}",
            "method",
            "HR@10",
            "NDCG@10",
            "MRR",
            "size",
            if history {
                format!(
                    "   HR@10 on the {} carts with a history",
                    report.carts_with_history
                )
            } else {
                String::new()
            }
        );
        for m in &report.methods {
            println!(
                "{:<w$} {:>8.4} {:>8.4} {:>8.4} {:>12}{}",
                m.method,
                m.metrics.hr10,
                m.metrics.ndcg10,
                m.metrics.mrr,
                human_bytes(m.size_bytes),
                m.with_history
                    .map(|h| format!("   {:.4}", h.hr10))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
