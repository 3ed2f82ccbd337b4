//! Dependencies point one way: the serving core names no training, CLI or wasm code, and inside
//! the core a module uses only the layers below it (the order `src/serve/mod.rs` documents).
//! `./build.sh lint` also builds the core alone (`--no-default-features`), which fails to
//! compile if the core reaches for the training side; this test names the offending line. And
//! the rooms stay small: no source file in src, www/lib or tests is over 700 lines. The training
//! side is layered the same way, its own list, lowest first.

use std::fs;
use std::path::{Path, PathBuf};

/// The serving core's modules, lowest first: a module may use itself and those before it.
const LAYERS: [&str; 15] = [
    "money", "rank", "quant", "catalog", "rules", "seasonal", "rebuy", "assoc", "ease", "blend",
    "pricing", "kernel", "model", "export", "suggest",
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top-level core module a file under `src/serve/` belongs to.
fn layer_of(serve: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(serve).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::…` path named in the code (comments and doc links skipped), with its line.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((n + 1, path));
            rest = tail;
        }
    }
    out
}

#[test]
fn the_serving_core_names_no_training_cli_or_wasm_code_and_layers_point_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let serve = root.join("src/serve");
    let mut problems = Vec::new();
    let files = rust_files(&serve);
    assert!(files.len() > 20, "found only {} core files", files.len());
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let layer = layer_of(&serve, file);
        let own = LAYERS.iter().position(|l| *l == layer);
        if !text.is_empty() && own.is_none() && layer != "mod" {
            problems.push(format!(
                "{}: module {layer:?} is not in LAYERS",
                file.display()
            ));
        }
        for (line, path) in crate_paths(&text) {
            let mut parts = path.split("::");
            let top = parts.next().unwrap_or("");
            let at = format!("{}:{line}", file.display());
            if top != "serve" {
                problems.push(format!("{at}: the core names crate::{path}"));
                continue;
            }
            let target = parts.next().unwrap_or("");
            match (own, LAYERS.iter().position(|l| *l == target)) {
                (Some(own), Some(t)) if t > own => problems.push(format!(
                    "{at}: {layer} (layer {own}) uses {target} (layer {t}) above it"
                )),
                (_, None) => problems.push(format!("{at}: crate::{path} is no core layer")),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The training side's modules, lowest first: a module may use itself, those before it and the
/// serving core, never one after it (so `src/train` has no cycle: the counts build on the
/// association counting, what is published builds on the counts).
const TRAIN_LAYERS: [&str; 22] = [
    "error",
    "currency",
    "seasonal",
    "pq",
    "ingest",
    "history",
    "rebuy",
    "synth",
    "shapes",
    "assoc",
    "counts",
    "publish",
    "local_ease",
    "protocol",
    "ease",
    "blend",
    "model",
    "pricing",
    "holdout",
    "baselines",
    "eval",
    "pipeline",
];

/// What breaks the training side's layering in `files` (under `train`): a `crate::train::x`
/// that is no layer or lies above the file's own, or a name outside the core and training.
fn train_problems(train: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(file).unwrap();
        let layer = layer_of(train, file);
        let own = TRAIN_LAYERS.iter().position(|l| *l == layer);
        if own.is_none() && layer != "mod" {
            problems.push(format!(
                "{}: module {layer:?} is not in TRAIN_LAYERS",
                file.display()
            ));
        }
        for (line, path) in crate_paths(&text) {
            let mut parts = path.split("::");
            let at = format!("{}:{line}", file.display());
            match (parts.next().unwrap_or(""), parts.next().unwrap_or("")) {
                ("serve", _) => {}
                // The items of `train/mod.rs` itself (`Progress`), which every layer may use.
                ("train", t) if t.starts_with(char::is_uppercase) => {}
                ("train", t) => match (own, TRAIN_LAYERS.iter().position(|l| *l == t)) {
                    (Some(own), Some(at_t)) if at_t > own => problems.push(format!(
                        "{at}: {layer} (layer {own}) uses {t} (layer {at_t}) above it"
                    )),
                    (_, None) => problems.push(format!("{at}: crate::{path} is no training layer")),
                    _ => {}
                },
                _ => problems.push(format!("{at}: training names crate::{path}")),
            }
        }
    }
    problems
}

#[test]
fn training_names_no_cli_and_its_layers_point_down() {
    let train = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/train");
    let files = rust_files(&train);
    assert!(
        files.len() > 30,
        "found only {} training files",
        files.len()
    );
    let problems = train_problems(&train, &files);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The files of `suggest`, lowest first: each uses only those before it; `mod.rs` (the engine)
/// runs them all and nothing below it names the engine.
const SUGGEST_LAYERS: [&str; 10] = [
    "new_items",
    "types",
    "budget",
    "scoring",
    "cold_start",
    "candidates",
    "reasons",
    "bundles",
    "verify",
    "mod",
];

/// The sibling modules a file under `suggest/` names (`super::x` or `crate::serve::suggest::x`).
fn suggest_siblings(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for prefix in ["super::", "crate::serve::suggest::"] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let tail = &rest[at + prefix.len()..];
                let name: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
                    .collect();
                // `use super::*` in a file's own test module names the file itself.
                if !name.is_empty() {
                    out.push((n + 1, name));
                }
                rest = tail;
            }
        }
    }
    out
}

#[test]
fn inside_suggest_no_step_names_the_engine_or_a_later_step() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/serve/suggest");
    let mut problems = Vec::new();
    for file in rust_files(&dir) {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let Some(own) = SUGGEST_LAYERS.iter().position(|l| *l == stem) else {
            problems.push(format!("{}: not in SUGGEST_LAYERS", file.display()));
            continue;
        };
        let text = fs::read_to_string(&file).unwrap();
        for (line, name) in suggest_siblings(&text) {
            // `super::` from mod.rs would leave `suggest`, which the core check covers.
            if stem == "mod" {
                continue;
            }
            let at = format!("{}:{line}", file.display());
            match SUGGEST_LAYERS.iter().position(|l| *l == name) {
                Some(t) if t < own => {}
                Some(t) => problems.push(format!("{at}: {stem} uses {name} (layer {t}) above it")),
                // A name re-exported by mod.rs (the engine's own items or `{..}` lists) is a
                // reach upward: steps import from the sibling that defines it.
                None => problems.push(format!("{at}: {stem} names suggest::{name}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Most lines a source file may have: past it, a file is split along its seams.
const MAX_LINES: usize = 700;

/// The source files under `dirs` (Rust and JavaScript) longer than `max` lines, with their
/// lengths.
fn long_files(dirs: &[PathBuf], max: usize) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "js" || e == "mjs")
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    dirs.iter().for_each(|d| walk(d, &mut files));
    files.sort();
    files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(f).unwrap().lines().count();
            (lines > max).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect()
}

#[test]
fn no_source_file_is_over_700_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = ["src", "www/lib", "tests"].map(|d| root.join(d));
    let long = long_files(&dirs, MAX_LINES);
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split each along its seams):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_check_sees_a_violation() {
    let paths = crate_paths("use crate::train::ingest::Order; // crate::ignored\n");
    assert_eq!(paths, vec![(1, "train::ingest::Order".to_string())]);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("lib")).unwrap();
    fs::write(dir.path().join("lib/short.js"), "x\n".repeat(MAX_LINES)).unwrap();
    fs::write(dir.path().join("long.rs"), "x\n".repeat(MAX_LINES + 1)).unwrap();
    fs::write(dir.path().join("notes.md"), "x\n".repeat(2 * MAX_LINES)).unwrap();
    let long = long_files(&[dir.path().to_path_buf()], MAX_LINES);
    assert_eq!(long.len(), 1, "{long:?}");
    assert!(long[0].ends_with("long.rs: 701 lines"), "{long:?}");
    // A planted back-edge in training: the association counting naming the pipeline.
    let train = dir.path().join("train");
    fs::create_dir_all(train.join("assoc")).unwrap();
    let planted = train.join("assoc/count.rs");
    fs::write(
        &planted,
        "use crate::train::pipeline::TrainConfig;\nuse crate::train::ingest::Order;\n",
    )
    .unwrap();
    let problems = train_problems(&train, &[planted]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("assoc (layer 9) uses pipeline (layer 21) above it"));
    let names = suggest_siblings("use super::{Engine, Evidence};\nuse super::types::Query;\n");
    assert_eq!(
        names,
        vec![(1, "{Engine".to_string()), (2, "types".to_string())]
    );
}
