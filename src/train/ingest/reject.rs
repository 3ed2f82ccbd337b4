//! Rejected rows and warnings: where each was (file and line, or row group and row) and why,
//! summarized by reason and written to the rejects CSV beside the export.

use crate::train::error::{At, FileError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A row that was not accepted, or (`kept`) one that was but looks wrong, with where it was
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub file: String,
    /// The CSV line; for a Parquet file, the row within its row group (from 0).
    pub line: u64,
    /// The Parquet row group (from 0); `None` for a CSV file.
    pub row_group: Option<usize>,
    /// Short reason class, used for the summary ("unknown item", "bad quantity", ...).
    pub reason: &'static str,
    /// The specifics: offending value or field.
    pub detail: String,
    /// The row was read and kept: this is a warning (a field left out, a suspicious value).
    pub kept: bool,
}

impl Reject {
    /// A rejected row.
    pub(super) fn row(file: &str, line: u64, reason: &'static str, detail: String) -> Self {
        Self::at(file, Place::Line(line), reason, detail)
    }

    /// A rejected row at `place`.
    pub(super) fn at(file: &str, place: Place, reason: &'static str, detail: String) -> Self {
        let (row_group, line) = match place {
            Place::Line(line) => (None, line),
            Place::Row { group, row } => (Some(group), row),
        };
        Self {
            file: file.to_string(),
            line,
            row_group,
            reason,
            detail,
            kept: false,
        }
    }

    /// A warning about the row at `place`, which was kept.
    pub(super) fn warning_at(
        file: &str,
        place: Place,
        reason: &'static str,
        detail: String,
    ) -> Self {
        Self {
            kept: true,
            ..Self::at(file, place, reason, detail)
        }
    }

    /// Where the row is.
    pub fn place(&self) -> Place {
        match self.row_group {
            None => Place::Line(self.line),
            Some(group) => Place::Row {
                group,
                row: self.line,
            },
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.place().in_file(&self.file),
            self.reason,
            self.detail
        )
    }
}

/// Where a row is in its file: a CSV line, or a Parquet row group and row within it (both
/// from 0, as Parquet tools count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    Line(u64),
    Row { group: usize, row: u64 },
}

impl Place {
    /// The file and this place, as an error names them: `file:line` for a CSV line, `file: row
    /// group G, row R` for a Parquet row.
    pub fn in_file(&self, file: &str) -> String {
        match self {
            Place::Line(line) => format!("{file}:{line}"),
            place => format!("{file}: {place}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(line) => write!(f, "line {line}"),
            Place::Row { group, row } => write!(f, "row group {group}, row {row}"),
        }
    }
}

/// Counts rejects per reason, most frequent first (ties alphabetical).
pub fn summarize(rejects: &[Reject]) -> Vec<(&'static str, usize)> {
    let mut by: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in rejects {
        *by.entry(r.reason).or_default() += 1;
    }
    let mut out: Vec<_> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out
}

/// Writes rejects and warnings as CSV (`file,line,reason,detail,row,row_group`, row
/// `rejected` or `kept`; for a Parquet file `line` is the row within row group `row_group`).
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<(), FileError> {
    let mut w = csv::Writer::from_path(path).at(|| format!("creating {}", path.display()))?;
    let writing = || format!("writing {}", path.display());
    w.write_record(["file", "line", "reason", "detail", "row", "row_group"])
        .at(writing)?;
    for r in rejects {
        let row = if r.kept { "kept" } else { "rejected" };
        w.write_record([
            r.file.as_str(),
            &r.line.to_string(),
            r.reason,
            &r.detail,
            row,
            &r.row_group.map_or(String::new(), |g| g.to_string()),
        ])
        .at(writing)?;
    }
    w.flush().at(writing)?;
    Ok(())
}
