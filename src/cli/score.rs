//! `cartwise score`: the basket model's own completions and logits, for parity checks.

use crate::output::{answer_carts, load};
use anyhow::Result;
use std::path::PathBuf;

/// Arguments of `cartwise score`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    /// JSONL of {"items": ["id", ...]}; "-" reads standard input.
    #[arg(long)]
    pub carts: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub k: u32,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args { model, carts, k } = args;
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
