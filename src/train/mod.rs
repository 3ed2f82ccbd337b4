//! The training side (feature `train`, native only): from an order log to an export.
//!
//! [`ingest`] reads and checks the CSVs; [`assoc`], [`seasonal`], [`ease`] (and [`local_ease`] past its dense limit), [`model`],
//! [`blend`] and [`pricing`] fit what the serving core reads, [`pq`] learns product-quantization
//! codebooks; [`counts`] holds what the counted tables are built from (natively or from a
//! Spark job's Parquet); [`pipeline`] runs them in order
//! and writes the export. [`protocol`] is the one validation protocol (time split, held-out
//! carts, HR@k/NDCG/MRR with one tie rule) that fitting, [`eval`] and [`holdout`] share;
//! [`baselines`] and [`history`] serve evaluation; [`synth`] generates the built-in synthetic
//! shop. This side may use [`crate::serve`]; the serving core never uses this side.

pub mod assoc;
pub mod baselines;
pub mod blend;
pub mod counts;
pub mod currency;
pub mod ease;
pub mod error;
pub mod eval;
pub mod history;
pub mod holdout;
pub mod ingest;
pub mod local_ease;
pub mod model;
pub mod pipeline;
pub mod pq;
pub mod pricing;
pub mod protocol;
pub mod publish;
pub mod rebuy;
pub mod seasonal;
pub mod shapes;
pub mod synth;

/// What training tells its caller as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A step starting: worth showing until the next one.
    Step(String),
    /// A result worth keeping in the log: the validation split, an epoch, EASE's λ, the blend.
    Record(String),
}

impl Progress {
    /// The message, whichever kind.
    pub fn message(&self) -> &str {
        match self {
            Progress::Step(m) | Progress::Record(m) => m,
        }
    }
}
