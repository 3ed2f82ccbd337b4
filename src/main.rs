//! The `cartwise` command line: synthesize a shop, train an export, suggest, evaluate, inspect.

use anyhow::{bail, Context, Result};
use cartwise::assoc::PairStats;
use cartwise::ease::{self, fit::Ease};
use cartwise::export::{read_sections, Export};
use cartwise::ingest::{self, Reject};
use cartwise::rules::fraction_to_bp;
use cartwise::suggest::{Cart, Engine, SuggestOptions};
use cartwise::train::TrainConfig;
use cartwise::{baselines, eval, synth, train};
use chrono::Datelike;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "cartwise",
    version,
    about = "Learn bundle suggestions from an order log; serve them in the browser"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once per run: the size of `Train`'s many flags costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Write the built-in synthetic shop (orders.csv, products.csv, planted.json) into a folder.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 2_000)]
        items: usize,
        #[arg(long, default_value_t = 50_000)]
        orders: usize,
        #[arg(long, default_value_t = 6_000)]
        customers: usize,
    },
    /// Split an orders CSV by time into train.csv and test.csv (the latest orders are the test).
    Split {
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Share of timed orders, latest first, that go to test.csv.
        #[arg(long, default_value_t = 0.1)]
        test_fraction: f64,
    },
    /// Ingest orders and products, mine association tables and write one export file.
    Train {
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        products: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Where rejected rows go (CSV); defaults to OUT with extension .rejects.csv.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Fail if any row is rejected.
        #[arg(long)]
        strict: bool,
        /// Orders with more distinct items are left out of all counts (bulk orders).
        #[arg(long, default_value_t = 100)]
        max_order_items: usize,
        /// Pairs seen in fewer orders are ignored.
        #[arg(long, default_value_t = 2)]
        min_pair_count: u32,
        /// Merchant rules as JSON, in the export's RULE form (model-export/FORMAT.md): discount
        /// form, price ending, pinned bundles, discount exclusions, …; the flags below override.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Merchant rule: largest bundle discount, as a fraction of the bundle's price
        /// [default: 0.15].
        #[arg(long)]
        max_discount: Option<f64>,
        /// Merchant rule: smallest margin over cost a bundle keeps, as a fraction of cost
        /// [default: 0.2].
        #[arg(long)]
        min_margin: Option<f64>,
        /// Price sensitivity β assumed where the orders' unit prices show no promotions: a
        /// discount of fraction d multiplies the odds a bundle is taken by exp(β·d).
        #[arg(long, default_value_t = cartwise::pricing::acceptance::PRIOR_SENSITIVITY)]
        acceptance_prior: f64,
        /// Fit price sensitivity on complements bought together at this lift or more (the pairs
        /// bundles are made of).
        #[arg(long, default_value_t = 10.0)]
        acceptance_min_lift: f64,
        /// Merchant rule: never suggest this item id (repeatable).
        #[arg(long = "exclude")]
        exclude: Vec<String>,
        /// Merchant rule: never suggest items of this category (repeatable).
        #[arg(long = "exclude-category")]
        exclude_category: Vec<String>,
        /// Also train the basket transformer (slower: about 20 s an epoch for 45k orders).
        #[arg(long)]
        transformer: bool,
        /// Transformer: most epochs (early stopping on validation HR@10 may end sooner).
        #[arg(long, default_value_t = 20)]
        epochs: usize,
        /// Transformer: embedding width.
        #[arg(long, default_value_t = 64)]
        dim: usize,
        /// Transformer: store weights as f32 instead of Q8_0.
        #[arg(long)]
        f32: bool,
        /// Transformer: decay the learning rate along a cosine to a tenth by the last epoch.
        #[arg(long)]
        cosine_lr: bool,
        /// Transformer: share of items whose id vector each step drops, so they are read by
        /// their titles alone; teaches the titles to stand in for new products (`newItems`).
        #[arg(long, default_value_t = cartwise::model::fit::ID_DROPOUT)]
        id_dropout: f64,
        /// Transformer: also read up to N items of the shopper's earlier orders (orders need a
        /// customer_id) as history tokens, for on-device personalization; 0 turns it off.
        #[arg(long, default_value_t = 0)]
        history: usize,
        /// Transformer: save every epoch to this folder, and resume from it when it holds a
        /// checkpoint of the same settings and data.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Transformer: after early stopping, retrain on all orders for the chosen number of
        /// epochs (about doubles training time; the checkpoint keeps it under DIR/refit).
        #[arg(long)]
        refit: bool,
        /// Fit sparse EASE item-to-item weights when the catalog has at most this many items
        /// (a dense solve: about a minute and 2 GB at 10,000 items); 0 turns it off.
        #[arg(long, default_value_t = cartwise::ease::fit::TRAIN_MAX_ITEMS)]
        ease_max_items: usize,
        /// Seed for the validation carts and the transformer's initialisation and sampling.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Suggest for carts in a JSONL file, one output line per input line.
    Suggest {
        #[arg(long)]
        model: PathBuf,
        /// JSONL of {"items": ["id", ...]}; "-" reads standard input.
        #[arg(long)]
        carts: PathBuf,
        #[arg(long, default_value_t = 5)]
        k: u32,
        /// Month 1..=12 for seasonal factors; defaults to the current UTC month.
        #[arg(long)]
        month: Option<u8>,
        #[arg(long)]
        max_discount: Option<f64>,
        #[arg(long)]
        min_margin: Option<f64>,
        /// Products the export has never seen, ranked with the catalog by their titles: a
        /// JSON array of {"id", "title", "category", "price"?, "cost"?} (money in minor units).
        #[arg(long)]
        new_items: Option<PathBuf>,
        /// Of the k places, how many at least go to the best new items [default: 1].
        #[arg(long)]
        new_item_slots: Option<u32>,
    },
    /// The basket model's own top-k completions and logits per cart (JSONL in, JSONL out): for
    /// checking that the browser computes the same model.
    Score {
        #[arg(long)]
        model: PathBuf,
        /// JSONL of {"items": ["id", ...]}; "-" reads standard input.
        #[arg(long)]
        carts: PathBuf,
        #[arg(long, default_value_t = 10)]
        k: u32,
    },
    /// HR@10, NDCG@10 and MRR on held-out orders, against popularity and co-occurrence (and
    /// item-kNN and EASE when the training orders are given).
    Eval {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        orders: PathBuf,
        /// The orders the model was trained on: fits item-kNN and EASE (λ tuned on their
        /// latest 10% by time) for comparison, and gives each test cart its shopper's history
        /// (earlier orders of the same customer_id) for cartwise to use.
        #[arg(long)]
        train_orders: Option<PathBuf>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Hide every item of each test order in turn instead of one seeded item: several
        /// times the carts, for tighter figures on small test sets.
        #[arg(long)]
        leave_one_out: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cold start: hold a share of the items out of training, train on the rest (with the
    /// basket transformer) and measure how well the held-out items are suggested as new items
    /// by their titles, against category popularity. Test orders: the latest 10% by time.
    ColdStart {
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        products: PathBuf,
        /// Share of items held out of training.
        #[arg(long, default_value_t = 0.1)]
        holdout: f64,
        /// Transformer: most epochs (early stopping on validation HR@10 may end sooner).
        #[arg(long, default_value_t = 20)]
        epochs: usize,
        /// Transformer: embedding width.
        #[arg(long, default_value_t = 64)]
        dim: usize,
        /// Transformer: share of id vectors dropped per step (see `train --id-dropout`).
        #[arg(long, default_value_t = cartwise::model::fit::ID_DROPOUT)]
        id_dropout: f64,
        /// Seeds the held-out items, the transformer and the test carts' hidden items.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also write the export trained without the held-out items here.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Expected margin per cart of the bundle-pricing optimiser against a fixed 10% discount
    /// and none, judged by the acceptance curve planted in a synthetic shop (planted.json).
    Pricing {
        #[arg(long)]
        model: PathBuf,
        /// Held-out orders: each gives a cart (one item hidden, seeded) whose top bundle is priced.
        #[arg(long)]
        orders: PathBuf,
        /// The synthetic shop's planted.json: its price sensitivities judge every policy.
        #[arg(long)]
        planted: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Describe an export: sections, sizes, counts, top pairs and itemsets.
    Inspect {
        model: PathBuf,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Synth {
            out,
            seed,
            items,
            orders,
            customers,
        } => {
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
        Command::Split {
            orders,
            out,
            test_fraction,
        } => split(&orders, &out, test_fraction),
        Command::Train {
            orders,
            products,
            out,
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
            transformer,
            epochs,
            dim,
            f32,
            cosine_lr,
            id_dropout,
            history,
            checkpoint,
            ease_max_items,
            refit,
            seed,
            json,
        } => {
            let mut config = TrainConfig {
                max_order_items,
                ease_max_items,
                refit,
                seed,
                ..TrainConfig::default()
            };
            config.assoc.min_pair_count = min_pair_count;
            if let Some(path) = &rules {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
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
            if !(0.0..=cartwise::pricing::acceptance::MAX_SENSITIVITY).contains(&acceptance_prior) {
                bail!(
                    "--acceptance-prior {acceptance_prior} is not between 0 and {}",
                    cartwise::pricing::acceptance::MAX_SENSITIVITY
                );
            }
            config.pricing.prior = acceptance_prior;
            config.pricing.min_lift = acceptance_min_lift;
            if transformer {
                config.transformer = Some(cartwise::model::fit::FitConfig {
                    epochs,
                    dim,
                    ff: 2 * dim,
                    quantize: !f32,
                    cosine_lr,
                    id_dropout: check_share("--id-dropout", id_dropout)?,
                    max_history: history,
                    seed,
                    ..Default::default()
                });
            }
            config.checkpoint = checkpoint;
            config.rules.validate()?;
            let rejects_path = rejects.unwrap_or_else(|| out.with_extension("rejects.csv"));
            train_cmd(
                &orders,
                &products,
                &out,
                &rejects_path,
                strict,
                &config,
                json,
            )
        }
        Command::Suggest {
            model,
            carts,
            k,
            month,
            max_discount,
            min_margin,
            new_items,
            new_item_slots,
        } => {
            let engine = load(&model)?;
            let new_items = match &new_items {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    serde_json::from_str(&text).with_context(|| {
                        format!("{}: not a JSON array of new items", path.display())
                    })?
                }
                None => Vec::new(),
            };
            let options = SuggestOptions {
                k: Some(k),
                month,
                max_discount,
                min_margin,
                new_items,
                new_item_slots,
                ..Default::default()
            };
            suggest_cmd(&engine, &carts, &options)
        }
        Command::Score { model, carts, k } => {
            let engine = load(&model)?;
            answer_carts(
                &carts,
                |cart| {
                    let s = engine.model_scores(cart, k).map_err(|e| e.to_string())?;
                    let unknown = s.unknown.clone();
                    Ok((
                        serde_json::to_value(&s).map_err(|e| e.to_string())?,
                        unknown,
                    ))
                },
                serde_json::json!({ "items": [], "scores": [] }),
            )
        }
        Command::Pricing {
            model,
            orders,
            planted,
            seed,
            json,
        } => {
            let engine = load(&model)?;
            let (log, rejects) = ingest::read_orders(&orders, &engine.export().catalog)?;
            report_rejects(&rejects);
            let carts = eval::test_carts(&log, seed);
            let text = std::fs::read_to_string(&planted)
                .with_context(|| format!("reading {}", planted.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", planted.display()))?;
            let sensitivity = value
                .pointer("/pricing/sensitivity")
                .and_then(|v| v.as_object())
                .with_context(|| format!("{}: no pricing.sensitivity", planted.display()))?;
            let mut truth = cartwise::pricing::Acceptance::default();
            for (category, beta) in sensitivity {
                let beta = beta.as_f64().with_context(|| {
                    format!(
                        "{}: pricing.sensitivity.{category} is not a number",
                        planted.display()
                    )
                })?;
                truth.categories.insert(
                    category.clone(),
                    cartwise::pricing::acceptance::CategoryCurve {
                        sensitivity: beta,
                        discounted_trials: 0,
                    },
                );
            }
            let report =
                cartwise::pricing::evaluate::compare(&engine, &carts, &truth, clock_month())
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
            for p in &report.policies {
                println!(
                    "{:<28} {:>9} ({:>4.2}x) {:>9.2}% {:>12.2}% {:>10.1}%",
                    p.policy,
                    cartwise::money::format_minor(p.margin_per_cart.round() as i64),
                    p.margin_per_cart / none,
                    p.acceptance * 100.0,
                    p.discount_share * 100.0,
                    p.discounted * 100.0
                );
            }
            Ok(())
        }
        Command::ColdStart {
            orders,
            products,
            holdout,
            epochs,
            dim,
            id_dropout,
            seed,
            out,
            json,
        } => cold_start_cmd(
            &orders,
            &products,
            holdout,
            cartwise::model::fit::FitConfig {
                epochs,
                dim,
                ff: 2 * dim,
                seed,
                id_dropout: check_share("--id-dropout", id_dropout)?,
                ..Default::default()
            },
            seed,
            out.as_deref(),
            json,
        ),
        Command::Eval {
            model,
            orders,
            train_orders,
            seed,
            leave_one_out,
            json,
        } => {
            let bytes =
                std::fs::read(&model).with_context(|| format!("reading {}", model.display()))?;
            let engine = Engine::new(
                Export::from_bytes(&bytes).with_context(|| model.display().to_string())?,
            )
            .with_context(|| model.display().to_string())?;
            let (log, rejects) = ingest::read_orders(&orders, &engine.export().catalog)?;
            report_rejects(&rejects);
            // With the training orders, each test cart carries its shopper's history, as the
            // page's store would hand it to the engine.
            let mut carts = match &train_orders {
                Some(path) => {
                    let (earlier, _) = ingest::read_orders(path, &engine.export().catalog)?;
                    eval::test_carts_with_history(&log, &earlier, seed)
                }
                None => eval::test_carts(&log, seed),
            };
            if leave_one_out {
                carts = eval::leave_one_out(&carts);
            }
            if carts.is_empty() {
                bail!(
                    "{}: no order has 2 or more items known to the export; nothing to evaluate",
                    orders.display()
                );
            }
            let fitted = match &train_orders {
                Some(path) => Some(fit_baselines(&engine, path, seed)?),
                None => None,
            };
            let export = engine.export();
            let transformer = engine.model().zip(export.model.as_ref());
            let mut methods = eval::export_methods(&engine, bytes.len() as u64, clock_month());
            if let Some((model, stored)) = transformer {
                methods.push(eval::Method {
                    name: format!("transformer ({})", stored.precision()),
                    size_bytes: stored.weight_bytes(),
                    rank: Box::new(|t| {
                        let mut ranked = cartwise::model::rank_catalog(model, &[t.cart.as_slice()])
                            .expect("a loaded model ranks any cart of known items");
                        ranked
                            .pop()
                            .unwrap_or_default()
                            .into_iter()
                            .take(eval::RANK_DEPTH)
                            .collect()
                    }),
                });
            }
            if let Some(sparse) = &export.ease {
                methods.push(eval::Method {
                    name: format!("sparse EASE (int8, {} per item)", ease::KEEP),
                    size_bytes: sparse.size_bytes(),
                    rank: Box::new(|t| sparse.rank(&t.cart)),
                });
            }
            if let Some((knn, ease)) = &fitted {
                methods.push(eval::Method {
                    name: "item-kNN".into(),
                    size_bytes: knn.size_bytes(),
                    rank: Box::new(|t| knn.rank(&t.cart)),
                });
                if let Some(ease) = ease {
                    methods.push(eval::Method {
                        name: "EASE".into(),
                        size_bytes: ease.size_bytes(),
                        rank: Box::new(|t| ease.rank(&t.cart)),
                    });
                }
            }
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
                println!(
                    "{:<w$} {:>8} {:>8} {:>8} {:>12}",
                    "method", "HR@10", "NDCG@10", "MRR", "size"
                );
                for m in &report.methods {
                    println!(
                        "{:<w$} {:>8.4} {:>8.4} {:>8.4} {:>12}",
                        m.method,
                        m.metrics.hr10,
                        m.metrics.ndcg10,
                        m.metrics.mrr,
                        human_bytes(m.size_bytes)
                    );
                }
            }
            Ok(())
        }
        Command::Inspect { model, top, json } => inspect(&model, top, json),
    }
}

/// Fits item-kNN and EASE on the training orders; EASE's λ is tuned on their latest 10%.
fn fit_baselines(
    engine: &Engine,
    path: &Path,
    seed: u64,
) -> Result<(baselines::ItemKnn, Option<Ease>)> {
    let export = engine.export();
    let (log, rejects) = ingest::read_orders(path, &export.catalog)?;
    report_rejects(&rejects);
    let n = export.catalog.len();
    let cap = export.meta.max_order_items.max(1) as usize;
    let all = baselines::baskets_of(&log.orders, cap);
    let bar = spinner("fitting item-kNN");
    let knn = baselines::ItemKnn::fit(&all, n);
    if n > ease::fit::EVAL_MAX_ITEMS {
        bar.finish_and_clear();
        eprintln!(
            "EASE skipped: {n} items is over its dense-solve limit of {}",
            ease::fit::EVAL_MAX_ITEMS
        );
        return Ok((knn, None));
    }
    let eval::Validation {
        baskets: fit_baskets,
        carts: validation,
        ..
    } = eval::validation_split(&log, cap, 0, seed);
    let validation = eval::tuning_carts(&validation);
    bar.set_message(format!(
        "tuning EASE λ on {} leave-one-out validation carts",
        validation.len()
    ));
    let (lambda, (), tried) = ease::fit::tune(&fit_baskets, n, |ease| {
        let hr = eval::measure(|t| ease.rank(&t.cart), &validation).hr10;
        (hr, ())
    });
    bar.set_message(format!("fitting EASE (λ = {lambda})"));
    let ease = Ease::fit(&all, n, lambda);
    bar.finish_and_clear();
    eprintln!(
        "EASE validation HR@10 ({}); chose λ = {lambda}",
        ease::fit::describe_tried(&tried)
    );
    Ok((knn, Some(ease)))
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn clock_month() -> u8 {
    chrono::Utc::now().month() as u8
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.2} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn load(path: &Path) -> Result<Engine> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let export = Export::from_bytes(&bytes).with_context(|| path.display().to_string())?;
    Engine::new(export).with_context(|| path.display().to_string())
}

/// Prints the first rejects and a summary by reason to stderr.
fn report_rejects(rejects: &[Reject]) {
    if rejects.is_empty() {
        return;
    }
    for r in rejects.iter().take(20) {
        eprintln!("rejected {r}");
    }
    if rejects.len() > 20 {
        eprintln!("... and {} more", rejects.len() - 20);
    }
    eprintln!("rejected {} rows:", rejects.len());
    for (reason, n) in ingest::summarize(rejects) {
        eprintln!("  {n:>8}  {reason}");
    }
}

/// A share flag's value, checked to lie in [0, 1).
fn check_share(flag: &str, value: f64) -> Result<f64> {
    if !(0.0..1.0).contains(&value) {
        bail!("{flag} {value} is not in [0, 1)");
    }
    Ok(value)
}

/// `cartwise cold-start`: hold items out, train without them, measure them as new items.
#[allow(clippy::too_many_arguments)]
fn cold_start_cmd(
    orders: &Path,
    products: &Path,
    fraction: f64,
    transformer: cartwise::model::fit::FitConfig,
    seed: u64,
    out: Option<&Path>,
    json: bool,
) -> Result<()> {
    if !(fraction > 0.0 && fraction < 1.0) {
        bail!("--holdout {fraction} is not between 0 and 1 (exclusive)");
    }
    let bar = spinner("reading products");
    let (full, mut rejects) = ingest::read_products(products)?;
    bar.set_message("reading orders");
    let (log, order_rejects) = ingest::read_orders(orders, &full)?;
    rejects.extend(order_rejects);
    bar.finish_and_clear();
    report_rejects(&rejects);
    let shop = cartwise::holdout::hold_out(&full, &log, fraction, seed);
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
    let export = train_with_progress(&shop.catalog, &shop.train, &config)?;
    if let Some(out) = out {
        std::fs::write(out, export.to_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
    }
    let engine = Engine::new(export)?;
    let bar = spinner("evaluating the held-out items");
    let report = cartwise::holdout::evaluate(&engine, &full, &shop, seed)?;
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

/// Trains under a spinner that shows each stage, keeping each epoch's record, EASE's λ and the
/// blend in the log above it.
fn train_with_progress(
    catalog: &cartwise::catalog::Catalog,
    log: &ingest::OrderLog,
    config: &TrainConfig,
) -> Result<Export> {
    let bar = spinner("training");
    let export = train::train(catalog, log, config, |stage| {
        let record = ["validation:", "transformer", "EASE: λ", "blend:"];
        if record.iter().any(|r| stage.starts_with(r)) {
            if bar.is_hidden() {
                eprintln!("{stage}");
            } else {
                bar.println(stage);
            }
        }
        bar.set_message(stage.to_string())
    })
    .map_err(|e| anyhow::anyhow!("training: {e}"))?;
    bar.finish_and_clear();
    Ok(export)
}

fn train_cmd(
    orders: &Path,
    products: &Path,
    out: &Path,
    rejects_path: &Path,
    strict: bool,
    config: &TrainConfig,
    json: bool,
) -> Result<()> {
    let started = Instant::now();
    let bar = spinner("reading products");
    let (catalog, mut rejects) = ingest::read_products(products)?;
    bar.set_message("reading orders");
    let (log, order_rejects) = ingest::read_orders(orders, &catalog)?;
    rejects.extend(order_rejects);
    bar.finish_and_clear();
    report_rejects(&rejects);
    // Always written, header only when clean, so a stale file never outlives a fixed input.
    ingest::write_rejects(rejects_path, &rejects)?;
    if !rejects.is_empty() {
        eprintln!("all rejected rows written to {}", rejects_path.display());
    }
    if strict && !rejects.is_empty() {
        bail!(
            "--strict: {} rows rejected (see {})",
            rejects.len(),
            rejects_path.display()
        );
    }
    if log.orders.is_empty() {
        bail!("{}: no usable order lines", orders.display());
    }
    let mut export = train_with_progress(&catalog, &log, config)?;
    export.meta.rejected_rows = rejects.len() as u64;
    let bytes = export.to_bytes();
    let tmp = out.with_extension("cwm.tmp");
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    let summary = serde_json::json!({
        "out": out.display().to_string(),
        "bytes": bytes.len(),
        "items": catalog.len(),
        "orders": log.orders.len(),
        "orderLines": log.lines,
        "rejectedRows": rejects.len(),
        "oversizedOrders": export.meta.oversized_orders,
        "countedOrders": export.assoc.orders,
        "neighbours": export.assoc.neighbors.len(),
        "itemsets": export.itemsets.len(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "wrote {} ({}): {} items, {} orders ({} lines), {} neighbours, {} itemsets; {} bulk orders over {} items left out; {} rows rejected; {:.1}s",
            out.display(),
            human_bytes(bytes.len() as u64),
            catalog.len(),
            log.orders.len(),
            log.lines,
            export.assoc.neighbors.len(),
            export.itemsets.len(),
            export.meta.oversized_orders,
            config.max_order_items,
            rejects.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn suggest_cmd(engine: &Engine, carts: &Path, options: &SuggestOptions) -> Result<()> {
    let month = clock_month();
    answer_carts(
        carts,
        |cart| {
            let s = engine
                .suggest(cart, options, month)
                .map_err(|e| e.to_string())?;
            let mut unknown = s.unknown;
            unknown.extend(
                s.unknown_history
                    .into_iter()
                    .map(|id| format!("{id} (history)")),
            );
            Ok((
                serde_json::json!({ "items": s.items, "bundles": s.bundles }),
                unknown,
            ))
        },
        serde_json::json!({ "items": [], "bundles": [] }),
    )
}

/// Answers a JSONL file of carts, one output line per input line, in order; a line that
/// cannot be answered gets `failed` plus its `"error"`, and the command fails at the end.
fn answer_carts(
    carts: &Path,
    answer: impl Fn(&Cart) -> std::result::Result<(serde_json::Value, Vec<String>), String>,
    failed_line: serde_json::Value,
) -> Result<()> {
    let input: Box<dyn BufRead> = if carts.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(carts).with_context(|| format!("opening {}", carts.display()))?,
        ))
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: reading", carts.display(), n + 1))?;
        let where_ = format!("{}:{}", carts.display(), n + 1);
        let result = if line.trim().is_empty() {
            Ok(Cart::default())
        } else {
            serde_json::from_str::<Cart>(&line)
                .map_err(|e| format!("not a cart {{\"items\": [\"id\", ...]}}: {e}"))
        }
        .and_then(|cart| answer(&cart));
        match result {
            Ok((value, unknown)) => {
                if !unknown.is_empty() {
                    eprintln!("{where_}: unknown item ids ignored: {}", unknown.join(", "));
                }
                serde_json::to_writer(&mut out, &value)?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{where_}: {e}");
                let mut value = failed_line.clone();
                value["error"] = e.into();
                serde_json::to_writer(&mut out, &value)?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} cart lines could not be answered (each got an \"error\" line)");
    }
    Ok(())
}

fn inspect(path: &Path, top: usize, json: bool) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let sections = read_sections(&bytes).with_context(|| path.display().to_string())?;
    let export = Export::from_bytes(&bytes).with_context(|| path.display().to_string())?;
    // The file's own version (read_sections checked the header is there).
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let (catalog, assoc) = (&export.catalog, &export.assoc);
    let mut pairs: Vec<(u32, u32, u32, PairStats)> = Vec::new();
    for i in 0..assoc.items() as u32 {
        for nb in assoc.row(i) {
            if i < nb.item {
                pairs.push((i, nb.item, nb.count, assoc.stats(i, nb)));
            }
        }
    }
    pairs.sort_by(|a, b| {
        b.3.shrunk_lift
            .total_cmp(&a.3.shrunk_lift)
            .then((a.0, a.1).cmp(&(b.0, b.1)))
    });
    let title = |i: u32| catalog.get(i).title.clone();
    let top_pairs: Vec<_> = pairs
        .iter()
        .take(top)
        .map(|&(a, b, c, s)| {
            serde_json::json!({
                "a": catalog.get(a).id, "b": catalog.get(b).id, "titles": [title(a), title(b)],
                "count": c, "lift": s.lift, "shrunkLift": s.shrunk_lift, "npmi": s.npmi,
                "confidenceAB": s.confidence,
            })
        })
        .collect();
    let top_sets: Vec<_> = export
        .itemsets
        .iter()
        .take(top)
        .map(|s| serde_json::json!({ "items": s.items.map(|i| catalog.get(i).id.clone()), "titles": s.items.map(title), "count": s.count }))
        .collect();
    let seasonal_items = (0..catalog.len() as u32)
        .filter(|&i| (1..=12).any(|m| export.seasonal.factor(i, m) >= 2.0))
        .count();
    let info = serde_json::json!({
        "file": path.display().to_string(),
        "bytes": bytes.len(),
        "version": version,
        "sections": sections,
        "meta": export.meta,
        "items": catalog.len(),
        "orders": assoc.orders,
        "neighbours": assoc.neighbors.len(),
        "itemsets": export.itemsets.len(),
        "seasonalItems": seasonal_items,
        "rules": export.rules,
        "acceptance": export.acceptance,
        "blend": export.blend,
        "ease": export.ease.as_ref().map(|e| serde_json::json!({
            "lambda": e.lambda,
            "weights": e.items.len(),
        })),
        "topPairs": top_pairs,
        "topItemsets": top_sets,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!(
        "{}: cartwise export v{version}, {}",
        path.display(),
        human_bytes(bytes.len() as u64)
    );
    println!("sections:");
    for s in &sections {
        println!(
            "  {}  offset {:>9}  {:>12}  crc32 {:08x}{}{}",
            cartwise::export::tag_name(&s.tag),
            s.offset,
            human_bytes(s.length),
            s.crc32,
            if s.flags & cartwise::export::FLAG_REQUIRED != 0 {
                "  required"
            } else {
                ""
            },
            if s.flags & cartwise::export::FLAG_DEFLATE != 0 {
                "  deflate"
            } else {
                ""
            }
        );
    }
    println!(
        "{} items, {} orders counted ({} bulk orders left out), {} neighbour entries, {} 3-itemsets, {} items with a seasonal peak ≥ 2x",
        catalog.len(),
        assoc.orders,
        export.meta.oversized_orders,
        assoc.neighbors.len(),
        export.itemsets.len(),
        seasonal_items
    );
    println!(
        "rules: max discount {:.1}%, min margin {:.1}%, {} excluded items, {} excluded categories",
        export.rules.max_discount_bp as f64 / 100.0,
        export.rules.min_margin_bp as f64 / 100.0,
        export.rules.excluded_items.len(),
        export.rules.excluded_categories.len()
    );
    let a = &export.acceptance;
    let per_category: Vec<String> = a
        .categories
        .iter()
        .map(|(c, v)| format!("{c} {:.1}", v.sensitivity))
        .collect();
    println!(
        "acceptance: {:?}, price sensitivity {:.2} by default (prior {:.2}){}{}",
        a.source,
        a.default,
        a.prior,
        if per_category.is_empty() { "" } else { "; " },
        per_category.join(", ")
    );
    let b = &export.blend;
    println!(
        "blend: assoc {} + ease {} + model {} + popularity {}, {} model candidates",
        b.assoc, b.ease, b.model, b.popularity, b.model_candidates
    );
    if let Some(e) = &export.ease {
        println!(
            "sparse EASE: λ = {}, {} weights (int8, at most {} per item)",
            e.lambda,
            e.items.len(),
            ease::KEEP
        );
    }
    println!("top pairs by shrunk lift:");
    for &(a, b, c, s) in pairs.iter().take(top) {
        println!(
            "  {:>6.1}x (shrunk {:>5.1}x, {c:>5} orders, NPMI {:.2})  {} + {}",
            s.lift,
            s.shrunk_lift,
            s.npmi,
            title(a),
            title(b)
        );
    }
    println!("top 3-itemsets:");
    for s in export.itemsets.iter().take(top) {
        println!(
            "  {:>5} orders  {}",
            s.count,
            s.items.map(title).join(" + ")
        );
    }
    Ok(())
}

/// Time-based split: the latest `fraction` of timed orders go to test.csv, the rest (and all
/// untimed orders) to train.csv; rows are copied verbatim with the header.
fn split(orders: &Path, out: &Path, fraction: f64) -> Result<()> {
    if !(0.0..1.0).contains(&fraction) {
        bail!("--test-fraction {fraction} is not in [0, 1)");
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(orders)
        .with_context(|| format!("opening {}", orders.display()))?;
    let header = reader.byte_headers()?.clone();
    let col = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let (Some(order_col), Some(time_col)) = (col("order_id"), col("timestamp")) else {
        bail!(
            "{}:1: split needs order_id and timestamp columns",
            orders.display()
        );
    };
    let rows: Vec<csv::ByteRecord> = reader
        .byte_records()
        .collect::<Result<_, _>>()
        .with_context(|| orders.display().to_string())?;
    let mut first_time: std::collections::HashMap<Vec<u8>, i64> = std::collections::HashMap::new();
    for row in &rows {
        let id = row.get(order_col).unwrap_or_default().to_vec();
        let t = std::str::from_utf8(row.get(time_col).unwrap_or_default())
            .ok()
            .and_then(ingest::parse_timestamp);
        if let Some(t) = t {
            let e = first_time.entry(id).or_insert(i64::MAX);
            *e = (*e).min(t.timestamp());
        }
    }
    let mut times: Vec<(i64, &Vec<u8>)> = first_time.iter().map(|(id, &t)| (t, id)).collect();
    times.sort();
    let cut = times.len() - (times.len() as f64 * fraction).round() as usize;
    let test: std::collections::HashSet<&Vec<u8>> =
        times[cut..].iter().map(|&(_, id)| id).collect();
    std::fs::create_dir_all(out)?;
    let mut train_w = csv::Writer::from_path(out.join("train.csv"))?;
    let mut test_w = csv::Writer::from_path(out.join("test.csv"))?;
    train_w.write_byte_record(&header)?;
    test_w.write_byte_record(&header)?;
    for row in &rows {
        let id = row.get(order_col).unwrap_or_default().to_vec();
        if test.contains(&id) {
            test_w.write_byte_record(row)?
        } else {
            train_w.write_byte_record(row)?
        }
    }
    train_w.flush()?;
    test_w.flush()?;
    eprintln!(
        "{} orders to test.csv, {} to train.csv in {}",
        test.len(),
        first_time.len() - test.len(),
        out.display()
    );
    Ok(())
}
