//! `cartwise verify`: checkout verification of bundle offers, as the shop's server runs it.

use crate::output::{answer_lines, load};
use anyhow::Result;
use cartwise::serve::suggest::verify::Claim;
use std::path::PathBuf;

/// Arguments of `cartwise verify`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    /// JSONL of {"cart": ["id", ...], "bundle": {"items": ["id", ...], "bundlePrice": minor
    /// units}}; "-" reads standard input.
    #[arg(long)]
    pub offers: PathBuf,
}

/// Runs the command: one verdict {"ok", "allowedPrice", "reason"} per offer line, in order. A
/// refused offer is a verdict, not a failure; a line that is not an offer fails the command.
pub fn run(args: Args) -> Result<()> {
    let engine = load(&args.model)?;
    answer_lines(
        &args.offers,
        |line| {
            serde_json::from_str::<Claim>(line).map_err(|e| {
                format!("not an offer {{\"cart\": [ids], \"bundle\": {{\"items\": [ids], \"bundlePrice\": n}}}}: {e}")
            })
        },
        |claim| {
            let verdict = engine.verify(claim);
            Ok((
                serde_json::to_value(&verdict).map_err(|e| e.to_string())?,
                Vec::new(),
            ))
        },
        serde_json::json!({ "ok": false, "allowedPrice": null, "reason": "not an offer" }),
    )
}
