//! What every subcommand shares: progress spinners, reject reports, loading an export, answering
//! JSONL carts line by line, training under a spinner.

use anyhow::{bail, Context, Result};
use cartwise::serve::catalog::Catalog;
use cartwise::serve::export::{signature, Export};
use cartwise::serve::suggest::{Cart, Engine};
use cartwise::train::counts::Counts;
use cartwise::train::ingest::{self, OrderLog, Reject};
use cartwise::train::model::fit::{FitConfig, ID_DROPOUT};
use cartwise::train::pipeline::{self, TrainConfig};
use cartwise::train::Progress;
use chrono::Datelike;
use ed25519_dalek::SigningKey;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub fn clock_month() -> u8 {
    chrono::Utc::now().month() as u8
}

pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.2} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

pub fn load(path: &Path) -> Result<Engine> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let export = Export::from_bytes(&bytes).with_context(|| path.display().to_string())?;
    Engine::new(export).with_context(|| path.display().to_string())
}

/// Writes an export to `out` as every engine will load it: encoded, signed with `key` if given,
/// read back and built into an engine (the checks `Engine.fromBytes` makes), then written to a
/// temporary file, synced and renamed over `out`, so an interrupted or failed write leaves the
/// previous file (or none) there, never a part. Returns the bytes written and that engine.
pub fn write_export(
    out: &Path,
    export: &Export,
    key: Option<&SigningKey>,
) -> Result<(Vec<u8>, Engine)> {
    let (mut bytes, read) = export
        .to_checked_bytes()
        .context("the export does not read back as written; nothing was saved")?;
    if let Some(key) = key {
        // The signature adds a section every reader without a pinned key skips.
        bytes = signature::sign(&bytes, key)?;
        signature::verify(&bytes, &key.verifying_key())
            .context("the signed export does not verify; nothing was saved")?;
    }
    let engine = Engine::new(read).context("an engine refuses the export; nothing was saved")?;
    let name = out
        .file_name()
        .with_context(|| format!("{}: not a file name", out.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = out.with_file_name(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, out)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", out.display()));
    }
    Ok((bytes, engine))
}

/// Prints the first rejects and warnings and a summary by reason to stderr.
pub fn report_rejects(rejects: &[Reject]) {
    if rejects.is_empty() {
        return;
    }
    for r in rejects.iter().take(20) {
        eprintln!("{} {r}", if r.kept { "warning" } else { "rejected" });
    }
    if rejects.len() > 20 {
        eprintln!("... and {} more", rejects.len() - 20);
    }
    for (kept, what) in [(false, "rows rejected"), (true, "warnings (rows kept)")] {
        let these: Vec<Reject> = rejects.iter().filter(|r| r.kept == kept).cloned().collect();
        if these.is_empty() {
            continue;
        }
        eprintln!("{} {what}:", these.len());
        for (reason, n) in ingest::summarize(&these) {
            eprintln!("  {n:>8}  {reason}");
        }
    }
}

/// A share flag's value, checked to lie in [0, 1).
pub fn check_share(flag: &str, value: f64) -> Result<f64> {
    if !(0.0..1.0).contains(&value) {
        bail!("{flag} {value} is not in [0, 1)");
    }
    Ok(value)
}

/// Trains under a spinner that shows each stage, keeping each epoch's record, EASE's λ and the
/// blend in the log above it: from the log alone, or from `counts` and `log` as their sample.
pub fn train_with_progress(
    catalog: &Catalog,
    log: &OrderLog,
    counts: Option<&Counts>,
    config: &TrainConfig,
) -> Result<Export> {
    let bar = spinner("training");
    let progress = |p| show(&bar, p);
    let export = match counts {
        Some(counts) => pipeline::train_counted(catalog, counts, log, config, progress),
        None => pipeline::train(catalog, log, config, progress),
    }
    .map_err(|e| anyhow::anyhow!("training: {e}"))?;
    bar.finish_and_clear();
    Ok(export)
}

/// Answers a JSONL file of carts, one output line per input line, in order (an empty line is
/// an empty cart); see [`answer_lines`].
pub fn answer_carts(
    carts: &Path,
    answer: impl Fn(&Cart) -> std::result::Result<(serde_json::Value, Vec<String>), String>,
    failed_line: serde_json::Value,
) -> Result<()> {
    let parse = |line: &str| {
        if line.trim().is_empty() {
            Ok(Cart::default())
        } else {
            serde_json::from_str::<Cart>(line)
                .map_err(|e| format!("not a cart {{\"items\": [\"id\", ...]}}: {e}"))
        }
    };
    answer_lines(carts, parse, answer, failed_line)
}

/// Answers a JSONL file (`-`: standard input, each answer written as soon as its line is
/// read), one output line per input line, in order; the
/// answer's unknown ids are named on stderr with the line. A line that cannot be parsed or
/// answered gets `failed_line` plus its `"error"`, and the command fails at the end.
pub fn answer_lines<T>(
    path: &Path,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
    answer: impl Fn(&T) -> std::result::Result<(serde_json::Value, Vec<String>), String>,
    failed_line: serde_json::Value,
) -> Result<()> {
    // So a server can keep one process and ask it a line at a time.
    let streaming = path.as_os_str() == "-";
    let input: Box<dyn BufRead> = if streaming {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: reading", path.display(), n + 1))?;
        let where_ = format!("{}:{}", path.display(), n + 1);
        match parse(&line).and_then(|value| answer(&value)) {
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
        if streaming {
            out.flush()?;
        }
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} lines could not be answered (each got an \"error\" line)");
    }
    Ok(())
}

/// Shows training's progress under a spinner: each step as its message, each record kept in
/// the log above it.
pub fn show(bar: &ProgressBar, progress: Progress) {
    if let Progress::Record(line) = &progress {
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    }
    bar.set_message(progress.message().to_string())
}

/// The transformer flags `train` and `cold-start` share.
#[derive(clap::Args)]
pub struct ModelShape {
    /// Transformer: most epochs (early stopping on validation HR@10 may end sooner).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Transformer: embedding width.
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    /// Transformer: share of items whose id vector each step drops, so they are read by
    /// their titles alone; teaches the titles to stand in for new products (`newItems`).
    #[arg(long, default_value_t = ID_DROPOUT)]
    pub id_dropout: f64,
    /// Transformer: train with a sampled softmax over the batch's targets and N items drawn
    /// by popularity (logQ-corrected) instead of the whole catalog; 0 for the full softmax
    /// [default: full up to 20,000 items, 2,048 past that].
    #[arg(long)]
    pub negatives: Option<usize>,
    /// Transformer: ship the item vectors as product-quantization codes of N subspaces (N
    /// bytes per item, N a multiple of 4 dividing --dim) in place of the id table: the model
    /// reads them and the engine ranks by them; 0 ships the id table (ranked as int8 rows)
    /// [default: dim/2 past 20,000 items, else 0].
    #[arg(long)]
    pub pq: Option<usize>,
}

impl ModelShape {
    /// The fit's settings for these flags (feed-forward width twice the embedding's).
    pub fn fit_config(&self, seed: u64) -> Result<FitConfig> {
        Ok(FitConfig {
            epochs: self.epochs,
            dim: self.dim,
            ff: 2 * self.dim,
            id_dropout: check_share("--id-dropout", self.id_dropout)?,
            negatives: self.negatives,
            pq: self.pq,
            seed,
            ..Default::default()
        })
    }
}
