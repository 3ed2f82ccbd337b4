//! Catalog scoring kernels: every item vector against a query vector, fused with top-k.
//!
//! Scoring the whole catalog per cart change is the step that grows with the shop, so it has one
//! table layout and one ranking rule shared by every backend: [`cpu`] (the reference and the
//! fallback) and [`gpu`] (WGSL through wgpu). Rankings are best score first, ties broken by the
//! lower item index; on an int8 or product-quantized ([`pq`]) table both backends compute every
//! score bit for bit alike, so their top-k lists are identical.
//!
//! The item table lives here, the backend choice and fallback in [`backend`], the in-browser
//! timing probe in [`probe`]. The kernels depend only on [`crate::serve::quant`] (the int8/int16
//! quantizer), so any caller can rank any table with them.

pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod pq;
pub mod probe;

use pq::PqRows;

use crate::serve::quant::quantize;

/// One ranked item: its catalog index and score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub item: u32,
    pub score: f32,
}

impl Hit {
    /// Whether `self` ranks before `other`: higher score, then lower item index.
    pub fn before(&self, other: &Hit) -> bool {
        self.score > other.score || (self.score == other.score && self.item < other.item)
    }
}

/// How item rows are stored for scoring.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// f32 values, row-major.
    F32(Vec<f32>),
    /// int8 values, row-major, with one scale per row: value = q × scale.
    Int8 { values: Vec<i8>, scales: Vec<f32> },
    /// Product-quantization codes: a byte per subspace per row (see [`pq`]).
    Pq(PqRows),
}

/// The item table the kernels score: `rows` vectors of `dim` values, `dim` a multiple of 4.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemTable {
    pub rows: usize,
    pub dim: usize,
    pub data: Rows,
}

/// A table that cannot be scored as given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("item table: dimension {0} is not a positive multiple of 4")]
    Dim(usize),
    #[error("item table: int8 rows of {0} values are wider than {MAX_INT8_DIM}")]
    Int8Dim(usize),
    #[error("item table: {values} values do not make {rows} rows of {dim}")]
    Shape {
        values: usize,
        rows: usize,
        dim: usize,
    },
    #[error("item table: row {row} has a value that is not finite")]
    NotFinite { row: usize },
    #[error("query: {got} values, the table's rows have {dim}")]
    Query { got: usize, dim: usize },
    #[error("item table: row {row} asked of a table of {rows} rows")]
    Row { row: usize, rows: usize },
    #[error("query: value {0} is not finite")]
    QueryNotFinite(usize),
    #[error(
        "product quantization: {subspaces} subspaces must be a positive multiple of 4 dividing the dimension {dim}"
    )]
    Subspaces { dim: usize, subspaces: usize },
}

impl ItemTable {
    /// An f32 table from row-major values.
    pub fn f32(values: Vec<f32>, dim: usize) -> Result<Self, TableError> {
        let rows = check_shape(values.len(), dim)?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(TableError::NotFinite { row: i / dim });
        }
        Ok(Self {
            rows,
            dim,
            data: Rows::F32(values),
        })
    }

    /// An int8 table from row-major f32 values: each row scaled by its largest |value| / 127.
    pub fn int8(values: &[f32], dim: usize) -> Result<Self, TableError> {
        let rows = check_shape(values.len(), dim)?;
        let mut table = Int8Rows::new(dim, rows)?;
        values.chunks_exact(dim).try_for_each(|r| table.push(r))?;
        Ok(table.finish())
    }

    /// A product-quantized table: `codes` holds `codebook.subspaces` bytes per row.
    pub fn pq(rows: PqRows) -> Result<Self, TableError> {
        Ok(Self {
            rows: check_shape(rows.codes.len(), rows.codebook.subspaces)?,
            dim: rows.codebook.dim,
            data: Rows::Pq(rows),
        })
    }

    /// Row `r`'s values as the table holds them (int8 codes times the row's scale, a
    /// product-quantized row's centroids); `None` past the last row.
    pub fn row(&self, r: usize) -> Option<Vec<f32>> {
        let dim = self.dim;
        (r < self.rows).then(|| match &self.data {
            Rows::F32(v) => v[r * dim..][..dim].to_vec(),
            Rows::Int8 { values, scales } => values[r * dim..][..dim]
                .iter()
                .map(|&v| f32::from(v) * scales[r])
                .collect(),
            Rows::Pq(pq) => pq.decoded(r),
        })
    }

    /// The table's rows repeated cyclically to `rows` rows (none if it has none): real values
    /// at a catalog size the export does not have, for measuring the kernels there.
    pub fn cycled(&self, rows: usize) -> ItemTable {
        fn cycle<T: Copy>(v: &[T], width: usize, rows: usize) -> Vec<T> {
            v.chunks_exact(width)
                .cycle()
                .take(rows)
                .flatten()
                .copied()
                .collect()
        }
        let data = match &self.data {
            Rows::F32(v) => Rows::F32(cycle(v, self.dim, rows)),
            Rows::Int8 { values, scales } => Rows::Int8 {
                values: cycle(values, self.dim, rows),
                scales: cycle(scales, 1, rows),
            },
            Rows::Pq(pq) => Rows::Pq(PqRows {
                codebook: pq.codebook.clone(),
                codes: cycle(&pq.codes, pq.codebook.subspaces, rows),
            }),
        };
        ItemTable {
            rows: if self.rows == 0 { 0 } else { rows },
            dim: self.dim,
            data,
        }
    }

    pub(crate) fn check_query(&self, query: &[f32]) -> Result<(), TableError> {
        check_query(query, self.dim)
    }
}

/// A query must have `dim` values, all finite: one check for every backend.
pub(crate) fn check_query(query: &[f32], dim: usize) -> Result<(), TableError> {
    if query.len() != dim {
        return Err(TableError::Query {
            got: query.len(),
            dim,
        });
    }
    match query.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(TableError::QueryNotFinite(i)),
        None => Ok(()),
    }
}

fn check_shape(values: usize, dim: usize) -> Result<usize, TableError> {
    if dim == 0 || !dim.is_multiple_of(4) {
        return Err(TableError::Dim(dim));
    }
    if !values.is_multiple_of(dim) {
        return Err(TableError::Shape {
            values,
            rows: values / dim,
            dim,
        });
    }
    Ok(values / dim)
}

/// An int8 [`ItemTable`] built a row at a time, so a caller never holds its rows as f32 all
/// at once.
pub struct Int8Rows {
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl Int8Rows {
    /// An empty table of `dim`-wide rows, with room for `capacity` rows.
    pub fn new(dim: usize, capacity: usize) -> Result<Self, TableError> {
        check_shape(0, dim)?;
        if dim > MAX_INT8_DIM {
            return Err(TableError::Int8Dim(dim));
        }
        Ok(Self {
            dim,
            values: Vec::with_capacity(capacity.saturating_mul(dim)),
            scales: Vec::with_capacity(capacity),
        })
    }

    /// Adds one row, scaled by its largest |value| / 127.
    pub fn push(&mut self, row: &[f32]) -> Result<(), TableError> {
        let at = self.scales.len();
        if row.len() != self.dim {
            return Err(TableError::Shape {
                values: row.len(),
                rows: 1,
                dim: self.dim,
            });
        }
        let (scale, codes) = quantize(row).ok_or(TableError::NotFinite { row: at })?;
        self.scales.push(scale);
        self.values.extend(codes);
        Ok(())
    }

    /// The table of the rows pushed.
    pub fn finish(self) -> ItemTable {
        ItemTable {
            rows: self.scales.len(),
            dim: self.dim,
            data: Rows::Int8 {
                values: self.values,
                scales: self.scales,
            },
        }
    }
}

/// The score of an int8 row against an int16 query, as both backends compute it: the exact
/// integer dot product (|sum| < 2^31 for rows of at most [`MAX_INT8_DIM`] values), then one
/// rounding by the product of the two scales.
pub fn int8_score(dot: i32, row_scale: f32, query_scale: f32) -> f32 {
    dot as f32 * (row_scale * query_scale)
}

/// The widest int8 row whose dot product with an int16 query cannot overflow i32
/// (512 × 127 × 32767 < 2^31).
pub const MAX_INT8_DIM: usize = 512;
