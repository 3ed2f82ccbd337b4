//! The `cartwise` command line: synthesize a shop, train an export, suggest, evaluate, inspect.
//!
//! One file per subcommand, each an `Args` struct and a `run`; [`output`] holds what they share.
//! The binary is thin: the work lives in the library's `train` and `serve` modules.

mod cold_start;
mod counts;
mod eval;
mod inspect;
mod keygen;
mod output;
mod pricing;
mod score;
mod split;
mod suggest;
mod synth;
mod train;
mod verify;

use clap::{Parser, Subcommand};

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
// Parsed once per run: the size of `train`'s many flags costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Write the built-in synthetic shop (orders.csv, products.csv, planted.json) into a folder.
    Synth(synth::Args),
    /// Split an orders CSV by time into train.csv and test.csv (the latest orders are the test).
    Split(split::Args),
    /// Count an order log into the Parquet counts contract `train --counts` reads (what the
    /// Spark job in spark/ computes for logs larger than one machine).
    Counts(counts::Args),
    /// Ingest orders and products (or counts), mine association tables and write one export.
    Train(train::Args),
    /// Suggest for carts in a JSONL file, one output line per input line.
    Suggest(suggest::Args),
    /// The basket model's own top-k completions and logits per cart (JSONL in, JSONL out): for
    /// checking that the browser computes the same model.
    Score(score::Args),
    /// HR@10, NDCG@10 and MRR on held-out orders, against popularity and co-occurrence (and
    /// item-kNN and EASE when the training orders are given).
    Eval(eval::Args),
    /// Cold start: hold a share of the items out of training, train on the rest (with the
    /// basket transformer) and measure how well the held-out items are suggested as new items
    /// by their titles, against category popularity. Test orders: the latest 10% by time.
    ColdStart(cold_start::Args),
    /// Expected margin per cart of the bundle-pricing optimiser against a fixed 10% discount
    /// and none, judged by the acceptance curve planted in a synthetic shop (planted.json).
    Pricing(pricing::Args),
    /// Describe an export: sections, sizes, counts, top pairs and itemsets.
    Inspect(inspect::Args),
    /// An Ed25519 key pair for signing exports (train --sign), so pages can pin the public key.
    Keygen(keygen::Args),
    /// Checkout: whether each bundle offer in a JSONL file keeps the export's rules and price
    /// (one verdict per line), as the shop's server checks what the browser proposed.
    Verify(verify::Args),
}

fn main() {
    threads_for_candle();
    let result = match Cli::parse().command {
        Command::Synth(args) => synth::run(args),
        Command::Split(args) => split::run(args),
        Command::Counts(args) => counts::run(args),
        Command::Train(args) => train::run(args),
        Command::Suggest(args) => suggest::run(args),
        Command::Score(args) => score::run(args),
        Command::Eval(args) => eval::run(args),
        Command::ColdStart(args) => cold_start::run(args),
        Command::Pricing(args) => pricing::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keygen(args) => keygen::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", report(&e));
        std::process::exit(1);
    }
}

/// Sets candle's CPU threading before any thread starts (candle reads it from the environment
/// only; a value the user set wins). Each candle op otherwise fans out over a pool that spin-waits
/// for its workers, and on 2 cores most of a training step was that spinning; training runs
/// shards of a batch on rayon's threads instead (`train::model::fit`), each op on one thread.
/// `RAYON_NUM_THREADS` is set too because candle sizes every matmul's threads from it, and
/// without it re-reads /proc/cpuinfo at each one.
fn threads_for_candle() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", cores.to_string());
    }
}

/// The error and its causes, joined by ": ". A library error that already prints its source
/// (so the wasm build's one-line message is whole) is not repeated by the cause after it.
fn report(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out = format!("{out}: {text}");
        }
    }
    out
}
