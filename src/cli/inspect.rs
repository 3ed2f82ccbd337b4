//! `cartwise inspect`: describes an export.

use crate::output::human_bytes;
use anyhow::{Context, Result};
use cartwise::serve::assoc::PairStats;
use cartwise::serve::ease;
use cartwise::serve::export::{read_sections, Export};
use std::path::{Path, PathBuf};

/// Arguments of `cartwise inspect`.
#[derive(clap::Args)]
pub struct Args {
    pub model: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let Args { model, top, json } = args;
    inspect(&model, top, json)
}

fn inspect(path: &Path, top: usize, json: bool) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let sections = read_sections(&bytes).with_context(|| path.display().to_string())?;
    let export = Export::from_bytes(&bytes).with_context(|| path.display().to_string())?;
    let version = export.version;
    let signer = cartwise::serve::export::signature::signer(&bytes)
        .with_context(|| path.display().to_string())?;
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
    // The items whose buyers come back for them most (ties by index).
    let mut staples: Vec<u32> = (0..export.rebuy.factors.len() as u32).collect();
    staples.sort_by(|&a, &b| export.rebuy.factor(b).total_cmp(&export.rebuy.factor(a)));
    staples.truncate(top);
    let info = serde_json::json!({
        "file": path.display().to_string(),
        "bytes": bytes.len(),
        "version": version,
        "signedBy": signer,
        "sections": sections,
        "meta": export.meta,
        "items": catalog.len(),
        "currency": {
            "code": catalog.currency().code(),
            "exponent": catalog.currency().exponent(),
        },
        "orders": assoc.orders,
        "neighbours": assoc.neighbors.len(),
        "itemsets": export.itemsets.len(),
        "seasonalItems": seasonal_items,
        "rules": export.rules,
        "acceptance": export.acceptance,
        "blend": export.blend,
        "blendWithoutHistory": export.blend_without_history,
        "ease": export.ease.as_ref().map(|e| serde_json::json!({
            "lambda": e.lambda,
            "weights": e.items.len(),
        })),
        "rebuy": (!export.rebuy.factors.is_empty()).then(|| serde_json::json!({
            "items": export.rebuy.factors.len(),
            "staples": staples.iter().map(|&i| serde_json::json!({
                "item": catalog.get(i).id,
                "title": title(i),
                "factor": export.rebuy.factor(i),
            })).collect::<Vec<_>>(),
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
    if let Some(key) = &signer {
        println!("signed by {key} (a page checks it by pinning that public key)");
    }
    println!("sections:");
    for s in &sections {
        println!(
            "  {}  offset {:>9}  {:>12}  crc32 {:08x}{}{}",
            cartwise::serve::export::tag_name(&s.tag),
            s.offset,
            human_bytes(s.length),
            s.crc32,
            if s.flags & cartwise::serve::export::FLAG_REQUIRED != 0 {
                "  required"
            } else {
                ""
            },
            if s.flags & cartwise::serve::export::FLAG_DEFLATE != 0 {
                "  deflate"
            } else {
                ""
            }
        );
    }
    let currency = catalog.currency();
    println!(
        "prices in {} ({} decimals)",
        currency
            .code()
            .unwrap_or("an unstated currency (written before format 7)"),
        currency.exponent()
    );
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
        "blend: assoc {} + ease {} + model {} + popularity {} + history {} + repeat {}, {} model candidates",
        b.assoc, b.ease, b.model, b.popularity, b.history, b.repeat, b.model_candidates
    );
    if let Some(b) = &export.blend_without_history {
        println!(
            "blend without a history: assoc {} + ease {} + model {} + popularity {}",
            b.assoc, b.ease, b.model, b.popularity
        );
    }
    if let Some(e) = &export.ease {
        println!(
            "sparse EASE: λ = {}, {} weights (int8, at most {} per item)",
            e.lambda,
            e.items.len(),
            ease::KEEP
        );
    }
    if !export.rebuy.factors.is_empty() {
        let listed: Vec<String> = staples
            .iter()
            .map(|&i| format!("{} {:.2}x", title(i), export.rebuy.factor(i)))
            .collect();
        println!(
            "rebuy factors over {} items (the shop's share of returning buyers = 1x); most rebought: {}",
            export.rebuy.factors.len(),
            listed.join(", ")
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
