//! The native test suite, one binary: each module tests one part of the crate against real
//! files, real wgpu adapters (lavapipe) and the real CLI. One binary links candle, wgpu and
//! tokenizers once instead of once per file.

mod adamw;
mod assoc;
mod backend;
mod baselines;
mod cli;
mod cold_start;
mod common;
mod counts;
mod currency;
mod ease;
mod eval;
mod export;
mod export_model;
mod export_privacy;
mod history;
mod history_blend;
mod ingest;
mod interrupted;
mod kernel;
mod layering;
mod model;
mod new_items;
mod pricing;
mod shapes;
mod sparse_tables;
mod suggest;
mod synth_recovery;
mod verify;
