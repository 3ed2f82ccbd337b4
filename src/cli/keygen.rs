//! `cartwise keygen`: an Ed25519 key pair for signing exports (`train --sign`).

use anyhow::{bail, Context, Result};
use cartwise::serve::export::signature::to_hex;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `cartwise keygen`.
#[derive(clap::Args)]
pub struct Args {
    /// Where the secret key goes (hex, readable by its owner only); the public key is written
    /// beside it as OUT.pub and printed. An existing file is never overwritten.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let public_path = args.out.with_extension("pub");
    for path in [&args.out, &public_path] {
        if path.exists() {
            bail!("{} exists; keygen never overwrites a key", path.display());
        }
    }
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    writeln!(file, "{}", to_hex(&seed))?;
    let public = to_hex(key.verifying_key().as_bytes());
    std::fs::write(&public_path, format!("{public}\n"))
        .with_context(|| format!("writing {}", public_path.display()))?;
    eprintln!(
        "secret key in {} (keep it off the web server); public key in {}:",
        args.out.display(),
        public_path.display()
    );
    println!("{public}");
    Ok(())
}

/// Reads a secret key written by `keygen`.
pub fn read_key(path: &std::path::Path) -> Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let text = text.trim();
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let seed: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).with_context(|| {
        format!(
            "{}: not a key written by cartwise keygen (64 hex digits)",
            path.display()
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}
