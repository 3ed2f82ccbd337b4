//! The model as the export stores it: weight tensors by name, each f32 or in one of candle's
//! (GGML's) quantized block types, with the shape and the title tokenizer's JSON.

use super::stored::{ItemRows, LazyTitles, ServedItems, StoredRows};
use super::{titles, BasketModel, ModelConfig};
use crate::serve::kernel::pq::PqRows;
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Name of the item id table, the bulk of the model's bytes (one row per catalog item).
pub const ITEM_ID_TABLE: &str = "item_id.weight";
/// Name of the title-token table (one row per token of the title vocabulary).
pub const TOKEN_TABLE: &str = "token.weight";
/// Name of the padding and query tokens' vectors [2, dim]: what is left of the id table when
/// the export ships the item vectors as product-quantization codes (`PQIT`).
pub const ITEM_MARKERS: &str = "item_marker.weight";

/// How a weight tensor's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightType {
    /// Little-endian f32, row-major.
    F32,
    /// candle's (GGML's) Q8_0: blocks of 32 values, one f16 scale and 32 int8 each.
    Q8_0,
    /// candle's (GGML's) Q5_1: blocks of 32 values, an f16 scale and minimum and 32 5-bit
    /// values each.
    Q5_1,
}

impl WeightType {
    /// The type of a code in a version 5 export's MODL (GGML's numbering).
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(WeightType::F32),
            7 => Some(WeightType::Q5_1),
            8 => Some(WeightType::Q8_0),
            _ => None,
        }
    }

    /// GGML's lower-case name, e.g. "q8_0".
    pub fn name(self) -> &'static str {
        match self {
            WeightType::F32 => "f32",
            WeightType::Q8_0 => "q8_0",
            WeightType::Q5_1 => "q5_1",
        }
    }

    /// The type of one of candle's (GGML's) block types, if the export stores it.
    pub fn from_ggml(t: GgmlDType) -> Option<Self> {
        match t {
            GgmlDType::F32 => Some(WeightType::F32),
            GgmlDType::Q5_1 => Some(WeightType::Q5_1),
            GgmlDType::Q8_0 => Some(WeightType::Q8_0),
            _ => None,
        }
    }

    /// candle's (GGML's) block type of this storage type.
    pub fn ggml(self) -> GgmlDType {
        match self {
            WeightType::F32 => GgmlDType::F32,
            WeightType::Q8_0 => GgmlDType::Q8_0,
            WeightType::Q5_1 => GgmlDType::Q5_1,
        }
    }

    /// Bytes needed for `elements` values, or `None` if they do not fill whole blocks or
    /// would not fit in memory.
    pub fn bytes_for(self, elements: usize) -> Option<usize> {
        let t = self.ggml();
        elements
            .is_multiple_of(t.block_size())
            .then(|| (elements / t.block_size()).checked_mul(t.type_size()))
            .flatten()
    }
}

/// One weight tensor as stored in the export: name, shape, storage type and raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub dtype: WeightType,
    /// Shared with the served model's stored tables (see [`StoredRows`]), so loading an
    /// export does not copy its biggest section.
    pub bytes: Arc<Vec<u8>>,
}

impl NamedTensor {
    /// Stores a tensor as `dtype`, or as f32 where its rows do not fill whole blocks (biases,
    /// layer norms).
    pub fn store(name: &str, tensor: &Tensor, dtype: WeightType) -> Result<Self> {
        let dims = tensor.dims().to_vec();
        let rows_fit = dims.len() == 2 && dims[1].is_multiple_of(dtype.ggml().block_size());
        let (dtype, bytes) = if dtype != WeightType::F32 && rows_fit {
            (
                dtype,
                QTensor::quantize(tensor, dtype.ggml())?
                    .data()?
                    .into_owned(),
            )
        } else {
            let values = tensor.flatten_all()?.to_vec1::<f32>()?;
            (
                WeightType::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        };
        Ok(Self {
            name: name.to_string(),
            dims,
            dtype,
            bytes: Arc::new(bytes),
        })
    }

    /// The tensor's values as f32 (dequantized where stored quantized).
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor> {
        match self.dtype {
            WeightType::F32 => {
                let values: Vec<f32> = self
                    .bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                Tensor::from_vec(values, self.dims.as_slice(), device)
            }
            WeightType::Q8_0 | WeightType::Q5_1 => {
                qtensor_from_ggml(self.dtype.ggml(), &self.bytes, self.dims.clone(), device)?
                    .dequantize(device)
            }
        }
    }
}

/// Why the export's model could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("model config: {0}")]
    Config(String),
    #[error("{0}")]
    Titles(#[from] titles::TitleError),
    #[error("{0}")]
    Decode(#[source] candle_core::Error),
    #[error("model weights: {0}")]
    Weights(#[source] candle_core::Error),
}

/// Everything the export holds about the model: shape, weights, title tokenizer (JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelExport {
    pub config: ModelConfig,
    /// Sorted by name.
    pub tensors: Vec<NamedTensor>,
    pub tokenizer_json: String,
}

impl ModelExport {
    /// Bytes of all weights as stored.
    pub fn weight_bytes(&self) -> u64 {
        self.tensors.iter().map(|t| t.bytes.len() as u64).sum()
    }

    /// Whether the item vectors are read from product-quantization codes (the id table left
    /// out, see [`ITEM_MARKERS`]).
    pub fn codes_items(&self) -> bool {
        !self.tensors.iter().any(|t| t.name == ITEM_ID_TABLE)
    }

    /// The export that reads item vectors from product-quantization codes: the id table
    /// (the bulk of the model's bytes) replaced by its padding and query rows, as f32.
    pub fn with_coded_items(mut self) -> std::result::Result<Self, LoadError> {
        let items = self.config.items;
        let Some(at) = self.tensors.iter().position(|t| t.name == ITEM_ID_TABLE) else {
            return Ok(self);
        };
        let markers = StoredRows::new(&self.tensors[at], items + 2, self.config.dim)
            .and_then(|t| t.gather(&[items as u32, items as u32 + 1]))
            .and_then(|rows| Tensor::from_vec(rows, (2, self.config.dim), &Device::Cpu))
            .and_then(|t| NamedTensor::store(ITEM_MARKERS, &t, WeightType::F32))
            .map_err(LoadError::Weights)?;
        self.tensors.remove(at);
        self.tensors.push(markers);
        self.tensors.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(self)
    }

    /// The storage types of the weights, e.g. "q8_0, item ids q4_0", for reports.
    pub fn precision(&self) -> String {
        if self.codes_items() {
            let layers = self
                .tensors
                .iter()
                .find(|t| t.dims.len() == 2 && t.name != ITEM_MARKERS);
            return format!(
                "{}, item vectors as PQ codes",
                layers.map_or("f32", |t| t.dtype.name())
            );
        }
        let of = |ids: bool| {
            self.tensors
                .iter()
                .filter(|t| (t.name == ITEM_ID_TABLE) == ids && t.dims.len() == 2)
                .map(|t| t.dtype.name())
                .next()
                .unwrap_or("f32")
        };
        match (of(false), of(true)) {
            (layers, ids) if layers == ids => layers.to_string(),
            (layers, ids) => format!("{layers}, item ids {ids}"),
        }
    }

    /// Rebuilds the model over a catalog's titles (the catalog the export was trained on) and
    /// the export's product-quantization codes, if any: the layers expanded to f32, the item
    /// id and title-token tables kept as stored (their bytes shared with this export, not
    /// copied) and read a row at a time. Without an id table the item vectors are the codes'.
    pub fn load(
        &self,
        titles: &[&str],
        codes: Option<&Arc<PqRows>>,
    ) -> std::result::Result<BasketModel, LoadError> {
        let config = self.config;
        if let Some(problem) = config.problem() {
            return Err(LoadError::Config(problem));
        }
        let device = Device::Cpu;
        let tokenizer = titles::tokenizer_from_json(&self.tokenizer_json)?;
        let table = |name: &str, rows: usize| {
            let tensor = self
                .tensors
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| LoadError::Config(format!("no tensor {name}")))?;
            StoredRows::new(tensor, rows, config.dim).map_err(LoadError::Weights)
        };
        let ids = match codes {
            _ if !self.codes_items() => ItemRows::Ids(table(ITEM_ID_TABLE, config.items + 2)?),
            Some(codes) => {
                let rows = codes.rows();
                if codes.codebook.dim != config.dim || rows != config.items {
                    return Err(LoadError::Config(format!(
                        "item codes of {rows} items × {} dimensions for a model of {} × {}",
                        codes.codebook.dim, config.items, config.dim
                    )));
                }
                ItemRows::Codes {
                    codes: Arc::clone(codes),
                    markers: table(ITEM_MARKERS, 2)?,
                }
            }
            None => {
                return Err(LoadError::Config(format!(
                    "no tensor {ITEM_ID_TABLE}, and no item codes (PQIT) to read item vectors from"
                )))
            }
        };
        let items = ServedItems {
            ids,
            tokens: table(TOKEN_TABLE, config.tokens)?,
            titles: LazyTitles::new(tokenizer, titles, config.tokens),
            dim: config.dim,
        };
        let layers = self
            .tensors
            .iter()
            .filter(|t| ![ITEM_ID_TABLE, TOKEN_TABLE, ITEM_MARKERS].contains(&t.name.as_str()))
            .map(|t| Ok((t.name.clone(), t.to_tensor(&device)?)))
            .collect::<Result<HashMap<String, Tensor>>>()
            .map_err(LoadError::Decode)?;
        // A NaN or infinite weight (a crafted file, or a broken f16 scale) would turn every
        // score into NaN: refused here (the stored tables check theirs as they are taken). The
        // sum of a finite tensor of model weights is finite.
        for (name, t) in &layers {
            let sum = t
                .sum_all()
                .and_then(|s| s.to_scalar::<f32>())
                .map_err(LoadError::Decode)?;
            if !sum.is_finite() {
                return Err(LoadError::Config(format!(
                    "tensor {name} holds a NaN or infinite value"
                )));
            }
        }
        let vb = VarBuilder::from_tensors(layers, DType::F32, &device);
        BasketModel::served(config, vb, items).map_err(LoadError::Weights)
    }
}
