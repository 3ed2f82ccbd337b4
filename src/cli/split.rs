//! `cartwise split`: splits an orders CSV by time into train.csv and test.csv.

use anyhow::Result;
use cartwise::train::protocol;
use std::path::PathBuf;

/// Arguments of `cartwise split`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub orders: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Share of timed orders, latest first, that go to test.csv.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        orders,
        out,
        test_fraction,
    } = args;
    let counts = protocol::split_file(&orders, &out, test_fraction)?;
    eprintln!(
        "{} orders to test.csv, {} to train.csv in {}",
        counts.test,
        counts.train,
        out.display()
    );
    Ok(())
}
