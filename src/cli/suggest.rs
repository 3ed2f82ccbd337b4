//! `cartwise suggest`: bundles and the completion ranking for carts in a JSONL file.

use crate::output::{answer_carts, clock_month, load};
use anyhow::{Context, Result};
use cartwise::serve::suggest::{Engine, SuggestOptions};
use std::path::{Path, PathBuf};

/// Arguments of `cartwise suggest`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    /// JSONL of {"items": ["id", ...]}; "-" reads standard input.
    #[arg(long)]
    pub carts: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub k: u32,
    /// Month 1..=12 for seasonal factors; defaults to the current UTC month.
    #[arg(long)]
    pub month: Option<u8>,
    #[arg(long)]
    pub max_discount: Option<f64>,
    #[arg(long)]
    pub min_margin: Option<f64>,
    /// Products the export has never seen, ranked with the catalog by their titles: a
    /// JSON array of {"id", "title", "category", "price"?} (money in minor units; never
    /// discounted).
    #[arg(long)]
    pub new_items: Option<PathBuf>,
    /// Of the k places, how many at least go to the best new items [default: 1].
    #[arg(long)]
    pub new_item_slots: Option<u32>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        carts,
        k,
        month,
        max_discount,
        min_margin,
        new_items,
        new_item_slots,
    } = args;
    let engine = load(&model)?;
    let new_items = match &new_items {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a JSON array of new items", path.display()))?
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
