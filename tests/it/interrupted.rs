//! Crash safety of `cartwise train`: killed at any point (SIGKILL mid-epoch, SIGINT), it leaves
//! the previous export at `--out`, or none, never a part of one; run again with the same
//! `--checkpoint`, it resumes after the last epoch saved and writes an export that loads.

use crate::common;
use cartwise::serve::export::Export;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The last epoch the checkpoint in `dir` saved (0 when none yet).
fn saved_epoch(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["epoch"].as_u64())
        .unwrap_or(0) as usize
}

/// Starts `cartwise train` on the shop in `shop` with the transformer, saving every epoch to
/// `checkpoint`.
fn start(shop: &Path, out: &Path, checkpoint: &Path) -> Child {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    Command::new(env!("CARGO_BIN_EXE_cartwise"))
        .args(["train", "--orders", &s(&shop.join("orders.csv"))])
        .args(["--products", &s(&shop.join("products.csv"))])
        .args(["--out", &s(out), "--checkpoint", &s(checkpoint)])
        .args([
            "--transformer",
            "--epochs",
            "8",
            "--dim",
            "16",
            "--history",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cartwise starts")
}

/// Waits until the checkpoint holds `epoch` epochs (the run is then inside the next one), or
/// panics after two minutes or when the run ends first.
fn wait_for_epoch(child: &mut Child, checkpoint: &Path, epoch: usize) {
    let started = Instant::now();
    while saved_epoch(checkpoint) < epoch {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("train ended ({status}) before epoch {epoch} was saved");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no epoch saved"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_train_leaves_the_previous_export_or_none_and_resumes_from_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let (shop, dir) = (tmp.path().join("shop"), tmp.path());
    let s = |p: &Path| p.to_str().unwrap().to_string();
    common::ok(&[
        "synth",
        "--out",
        &s(&shop),
        "--seed",
        "9",
        "--items",
        "300",
        "--orders",
        "8000",
        "--customers",
        "600",
    ]);
    let out = dir.join("m.cwm");
    let checkpoint = dir.join("ckpt");

    // No previous export: SIGINT mid-epoch leaves none.
    let mut run = start(&shop, &out, &checkpoint);
    wait_for_epoch(&mut run, &checkpoint, 1);
    let pid = run.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        !run.wait().unwrap().success(),
        "an interrupted train reports failure"
    );
    assert!(!out.exists(), "an interrupted train left a file at --out");

    // A previous export: SIGKILL mid-epoch leaves it byte for byte.
    common::ok(&[
        "train",
        "--fast",
        "--orders",
        &s(&shop.join("orders.csv")),
        "--products",
        &s(&shop.join("products.csv")),
        "--out",
        &s(&out),
    ]);
    let previous = std::fs::read(&out).unwrap();
    let mut run = start(&shop, &out, &checkpoint);
    let before = saved_epoch(&checkpoint);
    wait_for_epoch(&mut run, &checkpoint, before + 1);
    run.kill().unwrap();
    run.wait().unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        previous,
        "SIGKILL changed --out"
    );
    let saved = saved_epoch(&checkpoint);
    assert!((2..8).contains(&saved), "{saved} epochs saved");

    // The same command resumes after the saved epochs and finishes.
    let run = start(&shop, &out, &checkpoint).wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{log}");
    assert!(
        log.contains(&format!("resuming after epoch {saved}")),
        "{log}"
    );
    for epoch in 1..=saved {
        assert!(
            !log.contains(&format!("transformer epoch {epoch}:")),
            "epoch {epoch} again: {log}"
        );
    }
    let next = format!("transformer epoch {}:", saved + 1);
    assert!(log.contains(&next), "{log}");
    let export = Export::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
    assert!(
        export.model.is_some(),
        "the resumed run's export has its model"
    );
    // Nothing but the export is left beside it (no temporary file).
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("cwm"))
        .collect();
    assert_eq!(left, ["m.cwm"]);
}
