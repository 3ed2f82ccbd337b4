//! `cartwise counts`: counts an order log into the Parquet counts contract (what the Spark job
//! in spark/ writes for logs larger than one machine), for `train --counts`.

use crate::output::{report_rejects, spinner};
use anyhow::{bail, Result};
use cartwise::train::counts::{sample, store, Counts};
use cartwise::train::ingest;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `cartwise counts`.
#[derive(clap::Args)]
pub struct Args {
    /// The order log (CSV, or Parquet by the `.parquet` extension).
    #[arg(long)]
    pub orders: PathBuf,
    #[arg(long)]
    pub products: PathBuf,
    /// A new folder for the counts (model-export/COUNTS.md).
    #[arg(long)]
    pub out: PathBuf,
    /// The shop's ISO 4217 currency, as for `train`.
    #[arg(long)]
    pub currency: Option<String>,
    /// Orders with more distinct items are left out of all counts (as `train`'s flag).
    #[arg(long, default_value_t = 100)]
    pub max_order_items: usize,
    /// 3-itemsets bought in fewer orders are not listed (`train` keeps those at its own
    /// threshold, which may not be lower).
    #[arg(long, default_value_t = 10)]
    pub min_itemset_count: u32,
    /// About how many orders the sample keeps (whole shoppers); all of them when the log has
    /// no more.
    #[arg(long, default_value_t = sample::DEFAULT_SAMPLE_ORDERS)]
    pub sample_orders: u64,
    /// Fail if any row is rejected.
    #[arg(long)]
    pub strict: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let currency = args
        .currency
        .map(|code| cartwise::train::currency::iso_4217(&code))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--currency: {e}"))?;
    let bar = spinner("reading products");
    let (catalog, mut rejects) = ingest::read_products(&args.products, currency.as_ref())?;
    bar.set_message("reading orders");
    let (mut log, order_rejects) = ingest::read_orders(&args.orders, &catalog)?;
    let rejected_lines = order_rejects.iter().filter(|r| !r.kept).count() as u64;
    rejects.extend(order_rejects);
    bar.finish_and_clear();
    report_rejects(&rejects);
    let rejected = rejects.iter().filter(|r| !r.kept).count();
    if args.strict && rejected > 0 {
        bail!("--strict: {rejected} rows rejected");
    }
    if log.orders.is_empty() {
        bail!("{}: no usable order lines", args.orders.display());
    }
    log.canonicalize();
    let read = started.elapsed().as_secs_f64();
    let bar = spinner("counting items, pairs, 3-itemsets and months");
    let counts = Counts {
        // The lines the reader left out, as the Spark job's summary counts its own.
        rejected_lines,
        ..Counts::of(
            &log,
            catalog.len(),
            args.max_order_items,
            args.min_itemset_count,
            cartwise::train::assoc::count::DEFAULT_CHUNK_PAIRS,
        )
    };
    let threshold = sample::threshold(counts.orders, args.sample_orders);
    let sampled = sample::sample(&log, threshold);
    let counted = started.elapsed().as_secs_f64() - read;
    bar.set_message("writing Parquet");
    store::write(&args.out, &catalog, &counts, &sampled, threshold)?;
    // What `train --counts` will read: the same counts and sample, or an error now.
    bar.set_message("reading the counts back");
    let (back, info) = store::read(&args.out, &catalog)?;
    let (sample_back, _) = store::read_sample(&args.out, &catalog)?;
    if back != counts
        || info.orders != sampled.orders.len() as u64
        || sample_back.orders.len() != sampled.orders.len()
    {
        bail!(
            "{}: the counts do not read back as written (a writer bug); the folder is not usable",
            args.out.display()
        );
    }
    bar.finish_and_clear();
    eprintln!(
        "wrote {}: {} orders ({} lines), {} baskets, {} items, {} pairs, {} triples; sample {} orders ({} lines); {} rows rejected; {:.1}s (reading {:.1}s, {:.0} lines/s; counting {:.1}s)",
        args.out.display(),
        counts.orders,
        counts.lines,
        counts.pairs.orders,
        counts.pairs.item_counts.iter().filter(|&&c| c > 0).count(),
        counts.pairs.pairs.len(),
        counts.triples.len(),
        sampled.orders.len(),
        sampled.lines,
        rejected,
        started.elapsed().as_secs_f64(),
        read,
        counts.lines as f64 / read,
        counted
    );
    Ok(())
}
