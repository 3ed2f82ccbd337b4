//! `cartwise train`: ingests orders and products and writes one export.

use crate::output::{
    human_bytes, report_rejects, spinner, train_with_progress, write_export, ModelShape,
};
use anyhow::{bail, Context, Result};
use cartwise::serve::rules::fraction_to_bp;
use cartwise::train::ingest;
use cartwise::train::model::fit::FitConfig;
use cartwise::train::pipeline::TrainConfig;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `train` spends when neither --transformer, --time-budget nor --fast says otherwise:
/// a shop of ~20k orders and ~4k items gets its transformer trained to convergence or nearly
/// on 2 cores.
pub const DEFAULT_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(300);

/// History tokens the transformer reads by default: the 16 most recent earlier items, the
/// window the rebuy data of Complete Journey supports (BENCHMARKS.md).
pub const DEFAULT_HISTORY: usize = 16;

/// Arguments of `cartwise train`.
#[derive(clap::Args)]
pub struct Args {
    /// The order log (CSV, or Parquet by the `.parquet` extension).
    #[arg(long, required_unless_present = "counts", conflicts_with = "counts")]
    pub orders: Option<PathBuf>,
    /// Build from a counts folder instead of an order log (`cartwise counts`, or the Spark
    /// job in spark/; model-export/COUNTS.md): the counted tables from its counts, what learns
    /// from whole baskets from its sample of orders.
    #[arg(long)]
    pub counts: Option<PathBuf>,
    #[arg(long)]
    pub products: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// The shop's ISO 4217 currency (USD, EUR, JPY, KWD, …): amounts are read with its number
    /// of decimals and the export records it [default: the products file's `currency`
    /// column, else USD].
    #[arg(long)]
    pub currency: Option<String>,
    /// Where rejected rows go (CSV); defaults to OUT with extension .rejects.csv.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Fail if any row is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Orders with more distinct items are left out of all counts (bulk orders).
    #[arg(long, default_value_t = 100)]
    pub max_order_items: usize,
    /// Pairs seen in fewer orders are ignored.
    #[arg(long, default_value_t = 2)]
    pub min_pair_count: u32,
    /// Merchant rules as JSON, in the export's RULE form (model-export/FORMAT.md): discount
    /// form, price ending, pinned bundles, discount exclusions, …; the flags below override.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Merchant rule: largest bundle discount, as a fraction of the bundle's price
    /// [default: 0.15].
    #[arg(long)]
    pub max_discount: Option<f64>,
    /// Merchant rule: smallest margin over cost a bundle keeps, as a fraction of cost
    /// [default: 0.2].
    #[arg(long)]
    pub min_margin: Option<f64>,
    /// Price sensitivity β assumed where the orders' unit prices show no promotions: a
    /// discount of fraction d multiplies the odds a bundle is taken by exp(β·d).
    #[arg(long, default_value_t = cartwise::serve::pricing::acceptance::PRIOR_SENSITIVITY)]
    pub acceptance_prior: f64,
    /// Fit price sensitivity on complements bought together at this lift or more (the pairs
    /// bundles are made of).
    #[arg(long, default_value_t = 10.0)]
    pub acceptance_min_lift: f64,
    /// Merchant rule: never suggest this item id (repeatable).
    #[arg(long = "exclude")]
    pub exclude: Vec<String>,
    /// Merchant rule: never suggest items of this category (repeatable).
    #[arg(long = "exclude-category")]
    pub exclude_category: Vec<String>,
    /// Wall-clock budget for the whole run ("5m", "90s", "1h"): association tables and EASE
    /// are always fitted, the basket transformer for as many epochs as end within it (none
    /// when its first would not), a --refit only when it fits too. Epochs then depend on the
    /// machine's speed; --transformer with --epochs trains a reproducible count
    /// [default: 5m, unless --transformer or --fast].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub time_budget: Option<std::time::Duration>,
    /// Association tables and EASE only, no transformer: the quickest export (seconds to a
    /// few minutes), reproducible on any machine.
    #[arg(long, conflicts_with_all = ["transformer", "time_budget", "refit", "checkpoint"])]
    pub fast: bool,
    /// Train the basket transformer whatever the time, for --epochs (early stopping aside);
    /// with --time-budget only for the epochs that fit.
    #[arg(long)]
    pub transformer: bool,
    #[command(flatten)]
    pub shape: ModelShape,
    /// Transformer: store weights as f32 instead of Q8_0.
    #[arg(long)]
    pub f32: bool,
    /// Transformer: decay the learning rate along a cosine to a tenth by the last epoch.
    #[arg(long)]
    pub cosine_lr: bool,
    /// Transformer: also read up to N items of the shopper's earlier orders (orders need a
    /// customer_id) as history tokens, for on-device personalization; 0 turns it off.
    #[arg(long, default_value_t = DEFAULT_HISTORY)]
    pub history: usize,
    /// Transformer: save every epoch to this folder, and resume from it when it holds a
    /// checkpoint of the same settings and data.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Transformer: after early stopping, retrain on all orders for the chosen number of
    /// epochs (about doubles training time; the checkpoint keeps it under DIR/refit).
    #[arg(long)]
    pub refit: bool,
    /// EASE item-to-item weights by the dense solve when at most this many items have orders
    /// (about a minute and 2 GB at 10,000), past that each item's weights over its 256 most
    /// co-purchased items (neighbourhood EASE); 0 turns EASE off.
    #[arg(long, default_value_t = cartwise::train::ease::TRAIN_MAX_ITEMS)]
    pub ease_max_items: usize,
    /// The export states each item's cost only by its margin band, this wide (a fraction of
    /// the price, 0.05 = bands of 5 percentage points): the upper end of the band's costs, so a
    /// public export never reveals exact margins and the margin floor still holds.
    #[arg(long, default_value_t = 0.05)]
    pub margin_band: f64,
    /// A pair or 3-itemset enters the export only when at least this many distinct customers
    /// bought it (orders, where the orders have no customer_id), so no pair in the public
    /// file speaks for one or two shoppers. Counts are published rounded.
    #[arg(long, default_value_t = cartwise::train::publish::DEFAULT_MIN_BUYERS)]
    pub min_customers: u32,
    /// Sign the export with this secret key (from `cartwise keygen`): pages that pin the
    /// public key refuse a file altered after signing.
    #[arg(long)]
    pub sign: Option<PathBuf>,
    /// Seed for the validation carts and the transformer's initialisation and sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    // The budget counts from here: reading the files is part of the run.
    let started = Instant::now();
    let Args {
        orders,
        counts,
        products,
        out,
        currency,
        rejects,
        strict,
        max_order_items,
        min_pair_count,
        rules,
        max_discount,
        min_margin,
        acceptance_prior,
        acceptance_min_lift,
        exclude,
        exclude_category,
        time_budget,
        fast,
        transformer,
        shape,
        f32,
        cosine_lr,
        history,
        checkpoint,
        ease_max_items,
        refit,
        margin_band,
        min_customers,
        sign,
        seed,
        json,
    } = args;
    let currency = currency
        .map(|code| cartwise::train::currency::iso_4217(&code))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--currency: {e}"))?;
    // Read before hours of training, so a wrong path fails at once.
    let signing_key = sign.as_deref().map(crate::keygen::read_key).transpose()?;
    if !(margin_band > 0.0 && margin_band <= 1.0) {
        bail!("--margin-band {margin_band} is not a fraction above 0 and at most 1");
    }
    let mut config = TrainConfig {
        max_order_items,
        ease_max_items,
        refit,
        seed,
        margin_band_bp: fraction_to_bp("margin-band", margin_band, 1.0)?.max(1),
        min_buyers: min_customers,
        ..TrainConfig::default()
    };
    config.assoc.min_pair_count = min_pair_count;
    if let Some(path) = &rules {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.rules = serde_json::from_str(&text)
            .with_context(|| format!("{}: not merchant rules", path.display()))?;
    }
    if let Some(v) = max_discount {
        config.rules.max_discount_bp = fraction_to_bp("max-discount", v, 1.0)?;
    }
    if let Some(v) = min_margin {
        config.rules.min_margin_bp = fraction_to_bp("min-margin", v, 10.0)?;
    }
    config.rules.excluded_items.extend(exclude);
    config.rules.excluded_categories.extend(exclude_category);
    if !(0.0..=cartwise::serve::pricing::acceptance::MAX_SENSITIVITY).contains(&acceptance_prior) {
        bail!(
            "--acceptance-prior {acceptance_prior} is not between 0 and {}",
            cartwise::serve::pricing::acceptance::MAX_SENSITIVITY
        );
    }
    config.pricing.prior = acceptance_prior;
    config.pricing.min_lift = acceptance_min_lift;
    let budget = match (fast, transformer, time_budget) {
        (true, ..) | (false, true, None) => None,
        (false, _, Some(budget)) => Some(budget),
        (false, false, None) => Some(DEFAULT_TIME_BUDGET),
    };
    if let Some(budget) = budget {
        eprintln!(
            "time budget {}{}: association tables and EASE, then the basket transformer for the epochs that fit{}",
            humantime::format_duration(budget),
            if time_budget.is_some() { "" } else { " (the default; --time-budget to change it, --fast for no transformer, --transformer --epochs N for a fixed count)" },
            if refit { ", then its refit on all orders if that fits too" } else { "" }
        );
        config.deadline = Some(started + budget);
    }
    if !fast {
        config.transformer = Some(FitConfig {
            quantize: !f32,
            cosine_lr,
            max_history: history,
            ..shape.fit_config(seed)?
        });
    }
    config.checkpoint = checkpoint;
    config.rules.validate()?;
    let rejects_path = rejects.unwrap_or_else(|| out.with_extension("rejects.csv"));
    let output = Output {
        out: &out,
        rejects_path: &rejects_path,
        signing_key: signing_key.as_ref(),
        json,
        started,
        budget,
    };
    let source = match (orders, counts) {
        (_, Some(dir)) => Source::Counts(dir),
        (Some(orders), None) => Source::Orders(orders),
        (None, None) => bail!("--orders or --counts is needed"),
    };
    train_cmd(
        &source,
        &products,
        currency.as_ref(),
        strict,
        &config,
        &output,
    )
}

/// Where and how `train` writes its results.
struct Output<'a> {
    out: &'a Path,
    rejects_path: &'a Path,
    signing_key: Option<&'a ed25519_dalek::SigningKey>,
    json: bool,
    /// When the command started (a time budget counts from it).
    started: Instant,
    budget: Option<std::time::Duration>,
}

/// What `train` learns from.
enum Source {
    /// An order log file.
    Orders(PathBuf),
    /// A counts folder and its sample.
    Counts(PathBuf),
}

fn train_cmd(
    source: &Source,
    products: &Path,
    currency: Option<&cartwise::serve::money::Currency>,
    strict: bool,
    config: &TrainConfig,
    output: &Output,
) -> Result<()> {
    let &Output {
        out,
        rejects_path,
        signing_key,
        json,
        started,
        budget,
    } = output;
    let bar = spinner("reading products");
    let (catalog, mut rejects) = ingest::read_products(products, currency)?;
    bar.set_message("reading orders");
    let (links, link_rejects) = ingest::read_links(products, &catalog)?;
    rejects.extend(link_rejects);
    let (mut log, counts, counted_rejects, orders) = match source {
        Source::Orders(path) => {
            let (log, order_rejects) = ingest::read_orders(path, &catalog)?;
            rejects.extend(order_rejects);
            (log, None, 0, path)
        }
        Source::Counts(dir) => {
            bar.set_message("reading counts");
            let (counts, sample) = cartwise::train::counts::store::read(dir, &catalog)?;
            bar.set_message("reading the counts' sample of orders");
            let (log, sample_rejects) = cartwise::train::counts::store::read_sample(dir, &catalog)?;
            rejects.extend(sample_rejects);
            if log.orders.len() as u64 != sample.orders {
                bail!(
                    "{}: the sample has {} orders, its summary says {}",
                    dir.display(),
                    log.orders.len(),
                    sample.orders
                );
            }
            eprintln!(
                "counts: {} orders ({} lines, {} baskets, {} pairs, {} triples); their sample: {} orders of whole shoppers",
                counts.orders,
                counts.lines,
                counts.pairs.orders,
                counts.pairs.pairs.len(),
                counts.triples.len(),
                log.orders.len()
            );
            let rejected = counts.rejected_lines;
            (log, Some(counts), rejected, dir)
        }
    };
    // What is learned must not depend on the order rows were written in.
    log.canonicalize();
    bar.finish_and_clear();
    report_rejects(&rejects);
    // Always written, header only when clean, so a stale file never outlives a fixed input.
    ingest::write_rejects(rejects_path, &rejects)?;
    if !rejects.is_empty() {
        eprintln!(
            "all rejected rows and warnings written to {}",
            rejects_path.display()
        );
    }
    let rejected = rejects.iter().filter(|r| !r.kept).count() + counted_rejects as usize;
    if strict && rejected > 0 {
        bail!(
            "--strict: {rejected} rows rejected (see {})",
            rejects_path.display()
        );
    }
    if log.orders.is_empty() {
        bail!("{}: no usable order lines", orders.display());
    }
    let mut export = train_with_progress(&catalog, &log, counts.as_ref(), config)?;
    export.meta.rejected_rows = rejected as u64;
    export.links = links;
    let (bytes, _) = write_export(out, &export, signing_key)?;
    // The merchant's own figures (the export publishes them rounded).
    let (orders_read, lines_read, oversized) = match &counts {
        Some(c) => (c.orders, c.lines, c.oversized),
        None => {
            let oversized = log
                .orders
                .iter()
                .filter(|o| {
                    let mut items = o.items.clone();
                    items.sort_unstable();
                    items.dedup();
                    items.len() > config.max_order_items
                })
                .count();
            (log.orders.len() as u64, log.lines, oversized as u64)
        }
    };
    let warnings = rejects.iter().filter(|r| r.kept).count();
    let summary = serde_json::json!({
        "out": out.display().to_string(),
        "bytes": bytes.len(),
        "items": catalog.len(),
        "orders": orders_read,
        "orderLines": lines_read,
        "sampleOrders": counts.as_ref().map(|_| log.orders.len()),
        "rejectedRows": rejected,
        "warnings": warnings,
        "oversizedOrders": oversized,
        "countedOrders": export.assoc.orders,
        "neighbours": export.assoc.neighbors.len(),
        "itemsets": export.itemsets.len(),
        "transformer": export.model.is_some(),
        "timeBudgetSeconds": budget.map(|b| b.as_secs_f64()),
        "seconds": started.elapsed().as_secs_f64(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "wrote {} ({}): {} items, {} orders ({} lines), {} neighbours, {} itemsets; {} bulk orders over {} items left out; {} rows rejected, {} warnings; {:.1}s",
            out.display(),
            human_bytes(bytes.len() as u64),
            catalog.len(),
            orders_read,
            lines_read,
            export.assoc.neighbors.len(),
            export.itemsets.len(),
            oversized,
            config.max_order_items,
            rejected,
            warnings,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
