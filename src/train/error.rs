//! Errors of the training side's files: each names the file (and line, where there is one) and
//! what was being done, and keeps the underlying error as its source.

/// An error reading or writing one of training's files.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Csv {
        context: String,
        #[source]
        source: csv::Error,
    },
    #[error("{context}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{context}")]
    Parquet {
        context: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// The file is readable but its content is not what was expected; the text says where.
    #[error("{0}")]
    Invalid(String),
}

/// Attaches "what was being done, to which file" to an I/O, CSV, Parquet or JSON error.
pub trait At<T> {
    /// The error with `context` (e.g. "opening orders.csv") in front of its source.
    fn at(self, context: impl FnOnce() -> String) -> Result<T, FileError>;
}

impl<T> At<T> for Result<T, std::io::Error> {
    fn at(self, context: impl FnOnce() -> String) -> Result<T, FileError> {
        self.map_err(|source| FileError::Io {
            context: context(),
            source,
        })
    }
}

impl<T> At<T> for Result<T, csv::Error> {
    fn at(self, context: impl FnOnce() -> String) -> Result<T, FileError> {
        self.map_err(|source| FileError::Csv {
            context: context(),
            source,
        })
    }
}

impl<T> At<T> for Result<T, parquet::errors::ParquetError> {
    fn at(self, context: impl FnOnce() -> String) -> Result<T, FileError> {
        self.map_err(|source| FileError::Parquet {
            context: context(),
            source,
        })
    }
}

impl<T> At<T> for Result<T, serde_json::Error> {
    fn at(self, context: impl FnOnce() -> String) -> Result<T, FileError> {
        self.map_err(|source| FileError::Json {
            context: context(),
            source,
        })
    }
}

/// Why training stopped: a file, a candle step, the title tokenizer, the merchant's rules, or
/// the engine the blend is fitted with.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{0}")]
    Model(#[from] candle_core::Error),
    /// Saving or loading a checkpoint's tensors.
    #[error("{path}: {source}")]
    Tensors {
        path: String,
        #[source]
        source: candle_core::Error,
    },
    #[error("{0}")]
    Titles(#[from] crate::serve::model::titles::TitleError),
    #[error("{0}")]
    Rules(#[from] crate::serve::rules::RuleError),
    #[error("{0}")]
    Suggest(#[from] crate::serve::suggest::SuggestError),
    #[error("{0}")]
    Table(#[from] crate::serve::kernel::TableError),
    /// The transformer's first epoch with its validation and the reserve's passes after it,
    /// timed over its first steps and a slice of the carts, would not end by the time budget's
    /// deadline.
    #[error("its first epoch and the validation passes after it need about {:.0} s and the time budget leaves {:.0} s", needed.as_secs_f64(), left.as_secs_f64())]
    OverBudget {
        needed: std::time::Duration,
        left: std::time::Duration,
    },
}
