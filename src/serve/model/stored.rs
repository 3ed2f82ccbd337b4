//! The served model's two big tables (item ids, title tokens) kept in the form the export
//! stores them, rows dequantized only when a forward reads them.
//!
//! A forward reads a handful of item rows (the cart, the history, the query token) and the
//! title tokens of a few unseen products; holding whole f32 copies of both tables (5.3× the
//! Q5_1 id table) for that is what made loading an export cost several times its size in
//! memory. [`ServedItems`] computes an item's vector (id row + mean of its title-token rows)
//! from the stored rows with the same float operations, in the same order, as the training
//! graph's item table, so both give the same vectors. A big catalog's export ships the item
//! vectors as product-quantization codes instead of the id table ([`ItemRows::Codes`]); an
//! item's vector is then its decoded codes.

use super::format::{NamedTensor, WeightType};
use crate::serve::kernel::pq::PqRows;
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::{Device, Error, Result, Tensor};
use std::sync::{Arc, OnceLock};

/// A [rows, dim] weight table in its stored form: f32 or GGML blocks, one row after another.
#[derive(Debug, Clone)]
pub struct StoredRows {
    dtype: WeightType,
    rows: usize,
    dim: usize,
    /// Bytes of one row.
    row_bytes: usize,
    /// The export's own bytes of the tensor, shared.
    bytes: Arc<Vec<u8>>,
}

/// Rows dequantized at a time where a whole table is walked (load checks, the int8 scoring
/// table, full-catalog logits): 256 KiB of f32 at width 64.
pub const CHUNK_ROWS: usize = 1_024;
/// Indices `0..rows` in runs of [`CHUNK_ROWS`]: how a whole table is walked.
pub fn row_chunks(rows: usize) -> impl Iterator<Item = Vec<u32>> {
    (0..rows)
        .step_by(CHUNK_ROWS)
        .map(move |start| (start as u32..rows.min(start + CHUNK_ROWS) as u32).collect())
}

/// Items whose vectors are computed together (their title tokens are dequantized together).
const VECTOR_CHUNK: usize = 256;

impl StoredRows {
    /// Takes a stored tensor that must be `rows` × `dim`, refusing any other shape, a byte
    /// length that does not match it, and NaN or infinite values.
    pub fn new(tensor: &NamedTensor, rows: usize, dim: usize) -> Result<Self> {
        let name = &tensor.name;
        if tensor.dims != [rows, dim] {
            return Err(Error::Msg(format!(
                "tensor {name} is {:?}, the config needs [{rows}, {dim}]",
                tensor.dims
            )));
        }
        let row_bytes = tensor.dtype.bytes_for(dim).ok_or_else(|| {
            Error::Msg(format!(
                "tensor {name}: rows of {dim} values do not fill whole {} blocks",
                tensor.dtype.name()
            ))
        })?;
        if Some(tensor.bytes.len()) != row_bytes.checked_mul(rows) {
            return Err(Error::Msg(format!(
                "tensor {name}: {} bytes, {rows} rows of {dim} {} values take {}",
                tensor.bytes.len(),
                tensor.dtype.name(),
                row_bytes.saturating_mul(rows)
            )));
        }
        let table = Self {
            dtype: tensor.dtype,
            rows,
            dim,
            row_bytes,
            bytes: Arc::clone(&tensor.bytes),
        };
        // A NaN or infinite weight (a crafted file, or a broken f16 scale) would turn every
        // score it touches into NaN: refused here, walking the table a chunk at a time.
        for ids in row_chunks(rows) {
            if let Some(at) = table.gather(&ids)?.iter().position(|v| !v.is_finite()) {
                return Err(Error::Msg(format!(
                    "tensor {name} holds a NaN or infinite value (row {})",
                    ids[at / dim]
                )));
            }
        }
        Ok(table)
    }

    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes held: the stored form, nothing more.
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The rows `ids` as f32, row-major [ids.len(), dim]; an error names an id out of range.
    pub fn gather(&self, ids: &[u32]) -> Result<Vec<f32>> {
        if let Some(&bad) = ids.iter().find(|&&i| i as usize >= self.rows) {
            return Err(Error::Msg(format!(
                "row {bad} asked of a table of {} rows",
                self.rows
            )));
        }
        let row = |i: u32| &self.bytes[i as usize * self.row_bytes..][..self.row_bytes];
        match self.dtype {
            WeightType::F32 => Ok(ids
                .iter()
                .flat_map(|&i| row(i).chunks_exact(4))
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()),
            WeightType::Q8_0 | WeightType::Q5_1 => {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut blocks = Vec::with_capacity(ids.len() * self.row_bytes);
                ids.iter().for_each(|&i| blocks.extend_from_slice(row(i)));
                qtensor_from_ggml(
                    self.dtype.ggml(),
                    &blocks,
                    vec![ids.len(), self.dim],
                    &Device::Cpu,
                )?
                .dequantize(&Device::Cpu)?
                .flatten_all()?
                .to_vec1()
            }
        }
    }
}

/// Each catalog item's title-token ids, item after item (compressed rows): the training
/// side's index, built from every title at once (the served model reads [`LazyTitles`]).
#[derive(Debug, Clone, Default)]
pub struct TitleIndex {
    /// `starts[i]..starts[i + 1]` are item `i`'s tokens in `tokens`.
    starts: Vec<u32>,
    tokens: Vec<u32>,
}

impl TitleIndex {
    /// Groups flat `(token ids, owning item)` arrays (owners ascending, as
    /// [`super::titles::title_tokens`] gives them) for `items` items.
    pub fn new(ids: &[u32], owner: &[u32], items: usize) -> Self {
        let mut starts = vec![0u32; items + 1];
        for &o in owner {
            starts[o as usize + 1] += 1;
        }
        for i in 0..items {
            starts[i + 1] += starts[i];
        }
        Self {
            starts,
            tokens: ids.to_vec(),
        }
    }

    /// Item `item`'s title tokens (none for an item past the catalog: padding, query).
    pub fn of(&self, item: u32) -> &[u32] {
        let i = item as usize;
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.tokens[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Whether any item has a title token.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Each catalog item's title tokens, read by the tokenizer the first time a forward needs them
/// and kept: tokenizing a 100,000-item catalog's titles at load took most of its 1.6 s.
pub struct LazyTitles {
    tokenizer: tokenizers::Tokenizer,
    titles: Vec<String>,
    /// Token rows of the model: an id at or past it is an error, not a read out of bounds.
    vocabulary: usize,
    tokens: Vec<OnceLock<Box<[u32]>>>,
}

impl LazyTitles {
    /// The titles of the catalog the model was trained on, tokenized on demand.
    pub fn new(tokenizer: tokenizers::Tokenizer, titles: &[&str], vocabulary: usize) -> Self {
        Self {
            tokenizer,
            titles: titles.iter().map(|t| t.to_string()).collect(),
            vocabulary,
            tokens: titles.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// Item `item`'s title tokens (none for an item past the catalog: padding, query).
    pub fn of(&self, item: u32) -> Result<&[u32]> {
        let Some(slot) = self.tokens.get(item as usize) else {
            return Ok(&[]);
        };
        if let Some(tokens) = slot.get() {
            return Ok(tokens);
        }
        let title = &self.titles[item as usize];
        let encoding = self
            .tokenizer
            .encode(title.as_str(), false)
            .map_err(|e| Error::Msg(format!("tokenizing {title:?}: {e}")))?;
        if let Some(&t) = encoding
            .get_ids()
            .iter()
            .find(|&&t| t as usize >= self.vocabulary)
        {
            return Err(Error::Msg(format!(
                "title {title:?} has token {t}, the model has {} tokens",
                self.vocabulary
            )));
        }
        Ok(slot.get_or_init(|| encoding.get_ids().into()))
    }

    /// The title tokenizer, also for titles of products the model has never seen.
    pub fn tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.tokenizer
    }

    /// Whether any catalog item has a title.
    pub fn any(&self) -> bool {
        self.titles.iter().any(|t| !t.is_empty())
    }
}

/// Where the served model reads the id part of item vectors.
pub enum ItemRows {
    /// The learned id rows [items + 2, dim]: an item's vector is its row plus its title mean.
    Ids(StoredRows),
    /// The catalog's whole item vectors as product-quantization codes (the export's `PQIT`,
    /// shared with it) and the padding and query rows [2, dim]: how a big catalog's export
    /// ships them, a code byte per two dimensions instead of an id row.
    Codes {
        codes: Arc<PqRows>,
        markers: StoredRows,
    },
}

/// The served model's item side: stored id and token tables and which tokens each title has.
pub struct ServedItems {
    pub ids: ItemRows,
    pub tokens: StoredRows,
    pub titles: LazyTitles,
    pub dim: usize,
}

impl ServedItems {
    /// Item vectors of `items`, row-major [items.len(), dim]: the id row (when `with_ids`)
    /// plus the mean of the item's title-token rows, summed in title order then divided by
    /// their count, as the training graph's `index_add` and division compute them.
    /// With item codes, an item's vector is its decoded codes (they hold the title part).
    pub fn vectors(&self, items: &[u32], with_ids: bool) -> Result<Vec<f32>> {
        let d = self.dim;
        if let (true, ItemRows::Codes { codes, markers }) = (with_ids, &self.ids) {
            let mut out = Vec::with_capacity(items.len() * d);
            for &i in items {
                match (i as usize).checked_sub(codes.rows()) {
                    None => out.extend(codes.decoded(i as usize)),
                    Some(k) => out.extend(markers.gather(&[k as u32])?),
                }
            }
            return Ok(out);
        }
        let mut out = Vec::with_capacity(items.len() * d);
        // A few hundred items at a time: their title tokens dequantized together stay small.
        for chunk in items.chunks(VECTOR_CHUNK) {
            let start = out.len();
            match (with_ids, &self.ids) {
                (true, ItemRows::Ids(ids)) => out.extend(ids.gather(chunk)?),
                _ => out.resize(start + chunk.len() * d, 0.0),
            }
            let mut tokens = Vec::new();
            for &i in chunk {
                tokens.extend_from_slice(self.titles.of(i)?);
            }
            let rows = self.tokens.gather(&tokens)?;
            let mut rows = rows.chunks_exact(d);
            let mut sum = vec![0f32; d];
            for (&item, v) in chunk.iter().zip(out[start..].chunks_exact_mut(d)) {
                let n = self.titles.of(item)?.len();
                if n == 0 {
                    continue;
                }
                sum.iter_mut().for_each(|s| *s = 0.0);
                for row in rows.by_ref().take(n) {
                    sum.iter_mut().zip(row).for_each(|(s, x)| *s += x);
                }
                v.iter_mut().zip(&sum).for_each(|(x, s)| *x += s / n as f32);
            }
        }
        Ok(out)
    }

    /// [`ServedItems::vectors`] of `items` with their id rows, as a [items.len(), dim] tensor.
    pub fn rows(&self, items: &[u32]) -> Result<Tensor> {
        Tensor::from_vec(
            self.vectors(items, true)?,
            (items.len(), self.dim),
            &Device::Cpu,
        )
    }

    /// Bytes the two tables hold as stored (codes and codebook for coded items).
    pub fn bytes(&self) -> usize {
        let ids = match &self.ids {
            ItemRows::Ids(ids) => ids.bytes(),
            ItemRows::Codes { codes, markers } => {
                codes.codes.len() + codes.codebook.centroids.len() * 4 + markers.bytes()
            }
        };
        ids + self.tokens.bytes()
    }
}
