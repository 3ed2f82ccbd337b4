//! The basket transformer: an encoder over the cart as a set, scoring every catalog item
//! against its output through the tied item table (id vector + mean of title-token vectors).
//!
//! One definition for both builds; training ([`fit`]) is native only.

#[cfg(feature = "cli")]
pub mod adamw;
#[cfg(feature = "cli")]
pub mod checkpoint;
#[cfg(feature = "cli")]
pub mod fit;
pub mod titles;

use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{
    embedding, layer_norm, linear, Embedding, LayerNorm, LayerNormConfig, Linear, VarBuilder,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Shape of the model; stored with its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    /// Catalog items; ids `items` and `items + 1` are the padding and query tokens.
    pub items: usize,
    /// Title-token vocabulary size.
    pub tokens: usize,
    pub dim: usize,
    pub heads: usize,
    pub layers: usize,
    /// Hidden width of each block's feed-forward layer.
    pub ff: usize,
    /// Most cart items the encoder sees.
    pub max_cart: usize,
    /// Most history tokens (items of the shopper's earlier orders) the encoder sees; 0 for a
    /// model trained without history, which has no segment vector and ignores any history.
    #[serde(default)]
    pub max_history: usize,
}

impl ModelConfig {
    /// The padding token id.
    pub fn pad(&self) -> u32 {
        self.items as u32
    }
    /// The query token id: the position whose output scores the catalog.
    pub fn query(&self) -> u32 {
        self.items as u32 + 1
    }
}

/// One pre-norm transformer block: self-attention over the cart, then a feed-forward layer.
struct Block {
    ln1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ln2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
    heads: usize,
}

impl Block {
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.dim;
        let ln = LayerNormConfig::default();
        Ok(Self {
            ln1: layer_norm(d, ln, vb.pp("ln1"))?,
            q: linear(d, d, vb.pp("q"))?,
            k: linear(d, d, vb.pp("k"))?,
            v: linear(d, d, vb.pp("v"))?,
            o: linear(d, d, vb.pp("o"))?,
            ln2: layer_norm(d, ln, vb.pp("ln2"))?,
            ff1: linear(d, cfg.ff, vb.pp("ff1"))?,
            ff2: linear(cfg.ff, d, vb.pp("ff2"))?,
            heads: cfg.heads,
        })
    }

    /// `x`: [B, T, d]; `mask`: [B, 1, 1, T] additive (−1e9 on padding).
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let dh = d / self.heads;
        let h = self.ln1.forward(x)?;
        let split = |y: Tensor| {
            y.reshape((b, t, self.heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(&h)?)?;
        let k = split(self.k.forward(&h)?)?;
        let v = split(self.v.forward(&h)?)?;
        let scores = (q.matmul(&k.t()?)? / (dh as f64).sqrt())?.broadcast_add(mask)?;
        let attn = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        let x = (x + self.o.forward(&out)?)?;
        let f = self
            .ff2
            .forward(&self.ff1.forward(&self.ln2.forward(&x)?)?.gelu()?)?;
        x + f
    }
}

/// The model with its title-token index (which tokens belong to which item).
pub struct BasketModel {
    pub config: ModelConfig,
    item_id: Embedding,
    token: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    title_ids: Tensor,
    title_owner: Tensor,
    title_counts: Tensor,
    has_titles: bool,
    /// Added to history tokens so attention can tell the shopper's past from the cart.
    segment: Option<Tensor>,
    /// The item table computed once for inference (see [`BasketModel::freeze`]).
    frozen: Option<Tensor>,
    /// The title tokenizer, for vectors of items the model has never seen (set on load).
    tokenizer: Option<tokenizers::Tokenizer>,
    /// While training with id dropout: 1 for items whose id vector this step keeps, 0 for
    /// those it drops, [items + 2, 1].
    id_keep: Option<Tensor>,
}

impl BasketModel {
    /// Builds the model from weights under `vb` and the flat title tokens of every item.
    pub fn new(
        config: ModelConfig,
        vb: VarBuilder,
        title_ids: &[u32],
        title_owner: &[u32],
    ) -> Result<Self> {
        let device = vb.device().clone();
        let rows = config.items + 2;
        let mut counts = vec![0f32; rows];
        for &o in title_owner {
            counts[o as usize] += 1.0;
        }
        counts.iter_mut().for_each(|c| *c = c.max(1.0));
        Ok(Self {
            item_id: embedding(rows, config.dim, vb.pp("item_id"))?,
            token: embedding(config.tokens, config.dim, vb.pp("token"))?,
            blocks: (0..config.layers)
                .map(|l| Block::new(&config, vb.pp(format!("block{l}"))))
                .collect::<Result<_>>()?,
            ln_f: layer_norm(config.dim, LayerNormConfig::default(), vb.pp("ln_f"))?,
            title_ids: Tensor::new(title_ids, &device)?,
            title_owner: Tensor::new(title_owner, &device)?,
            title_counts: Tensor::from_vec(counts, (rows, 1), &device)?,
            has_titles: !title_ids.is_empty(),
            segment: (config.max_history > 0)
                .then(|| vb.get((1, config.dim), "segment.weight"))
                .transpose()?,
            frozen: None,
            tokenizer: None,
            id_keep: None,
            config,
        })
    }

    /// The vector of an item the model has never seen, from its title alone: the mean of its
    /// title-token vectors (a known item's vector adds its learned id vector to that). `None`
    /// when the model has no titles or tokenizer, or the title no token.
    pub fn title_vector(&self, title: &str) -> Result<Option<Tensor>> {
        let Some(tokenizer) = self.tokenizer.as_ref().filter(|_| self.has_titles) else {
            return Ok(None);
        };
        let encoding = tokenizer
            .encode(title, false)
            .map_err(|e| candle_core::Error::Msg(format!("tokenizing {title:?}: {e}")))?;
        let ids: Vec<u32> = encoding
            .get_ids()
            .iter()
            .copied()
            .filter(|&t| (t as usize) < self.config.tokens)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        let device = self.token.embeddings().device();
        Ok(Some(
            self.token
                .forward(&Tensor::new(ids.as_slice(), device)?)?
                .mean(0)?,
        ))
    }

    /// Computes the item table once for inference; training must not freeze (no gradients
    /// would reach the embeddings).
    pub fn freeze(&mut self) -> Result<()> {
        self.frozen = Some(self.item_table()?);
        Ok(())
    }

    /// Drops the id vectors of the items marked 0 in `keep` ([items + 2, 1]) from the item
    /// table until the next call, so those items are seen by their titles alone, as a new
    /// product will be (id dropout, for cold start); `None` keeps every id vector.
    pub fn set_id_keep(&mut self, keep: Option<Tensor>) {
        self.id_keep = keep;
    }

    /// Item vectors [items + 2, d]: learned id vector + mean of the item's title-token vectors.
    pub fn item_table(&self) -> Result<Tensor> {
        let ids = self.item_id.embeddings();
        if !self.has_titles {
            return Ok(ids.clone());
        }
        let ids = match &self.id_keep {
            Some(keep) => ids.broadcast_mul(keep)?,
            None => ids.clone(),
        };
        let tokens = self.token.forward(&self.title_ids)?;
        let sums = Tensor::zeros(ids.dims(), DType::F32, ids.device())?.index_add(
            &self.title_owner,
            &tokens,
            0,
        )?;
        ids + sums.broadcast_div(&self.title_counts)?
    }

    /// Every catalog item's title part of its vector, row-major [items, dim]: the mean of its
    /// title-token vectors (zeros without titles), comparable with [`BasketModel::title_vector`].
    pub fn title_vectors(&self) -> Result<Vec<f32>> {
        let d = self.config.dim;
        if !self.has_titles {
            return Ok(vec![0.0; self.config.items * d]);
        }
        let tokens = self.token.forward(&self.title_ids)?;
        let rows = self.config.items + 2;
        Tensor::zeros((rows, d), DType::F32, tokens.device())?
            .index_add(&self.title_owner, &tokens, 0)?
            .broadcast_div(&self.title_counts)?
            .narrow(0, 0, self.config.items)?
            .flatten_all()?
            .to_vec1()
    }

    /// The item table: the frozen one at inference, computed afresh while training.
    fn table(&self) -> Result<Tensor> {
        match &self.frozen {
            Some(t) => Ok(t.clone()),
            None => self.item_table(),
        }
    }

    /// The catalog's item vectors, row-major [items, dim]: the table the scoring kernels rank.
    pub fn item_vectors(&self) -> Result<Vec<f32>> {
        self.table()?
            .narrow(0, 0, self.config.items)?
            .flatten_all()?
            .to_vec1()
    }

    /// Catalog logits [B, items] for carts [B, L] of item ids padded with [`ModelConfig::pad`].
    pub fn forward(&self, carts: &Tensor) -> Result<Tensor> {
        self.forward_with_history(carts, None)
    }

    /// Catalog logits [B, items] for carts [B, L] and, for a model trained with history, the
    /// shoppers' history items [B, H] (both padded with [`ModelConfig::pad`]); a model without
    /// a segment vector ignores `history`. The history enters as one token, the mean of its
    /// item vectors plus the segment vector, so a long history cannot drown out the cart in
    /// attention; an empty history is masked like padding.
    pub fn forward_with_history(&self, carts: &Tensor, history: Option<&Tensor>) -> Result<Tensor> {
        let h = self.hidden_with_history(carts, history)?;
        h.matmul(&self.table()?.narrow(0, 0, self.config.items)?.t()?)
    }

    /// The query vectors [B, dim] of [`BasketModel::forward_with_history`], before they are
    /// scored against the item table: what the catalog-scoring kernels take.
    pub fn hidden_with_history(&self, carts: &Tensor, history: Option<&Tensor>) -> Result<Tensor> {
        self.hidden_with(carts, history, None)
    }

    /// [`BasketModel::hidden_with_history`] with `extra` [B, E, dim] item vectors joining each
    /// cart: items the model has never seen, by their [`BasketModel::title_vector`].
    pub fn hidden_with(
        &self,
        carts: &Tensor,
        history: Option<&Tensor>,
        extra: Option<&Tensor>,
    ) -> Result<Tensor> {
        let table = self.table()?;
        let (b, l) = carts.dims2()?;
        let d = self.config.dim;
        let device = carts.device();
        let query = Tensor::full(self.config.query(), (b, 1), device)?;
        let ids = Tensor::cat(&[&query, carts], 1)?;
        let mut x = table
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, l + 1, d))?;
        let mut padding = ids.eq(self.config.pad())?.to_dtype(DType::F32)?;
        if let Some(extra) = extra {
            x = Tensor::cat(&[&x, extra], 1)?;
            let shown = Tensor::zeros((b, extra.dim(1)?), DType::F32, device)?;
            padding = Tensor::cat(&[&padding, &shown], 1)?;
        }
        if let Some((h, segment)) = history.zip(self.segment.as_ref()) {
            let kept = h.ne(self.config.pad())?.to_dtype(DType::F32)?;
            let count = kept.sum_keepdim(1)?;
            let sum = table
                .index_select(&h.flatten_all()?, 0)?
                .reshape((b, h.dim(1)?, d))?
                .broadcast_mul(&kept.unsqueeze(2)?)?
                .sum(1)?;
            let token = sum
                .broadcast_div(&count.clamp(1f32, f32::MAX)?)?
                .broadcast_add(segment)?
                .unsqueeze(1)?;
            x = Tensor::cat(&[&x, &token], 1)?;
            padding = Tensor::cat(&[&padding, &count.eq(0f32)?.to_dtype(DType::F32)?], 1)?;
        }
        let n = x.dim(1)?;
        let mask = (padding * -1e9)?.reshape((b, 1, 1, n))?;
        for block in &self.blocks {
            x = block.forward(&x, &mask)?;
        }
        self.ln_f.forward(&x.narrow(1, 0, 1)?.squeeze(1)?)
    }

    /// Catalog logits for one cart of item indices (at most `max_cart` used).
    pub fn cart_logits(&self, cart: &[u32]) -> Result<Vec<f32>> {
        let device = Device::Cpu;
        self.forward(&self.batch(&[cart], &device)?)?
            .squeeze(0)?
            .to_vec1::<f32>()
    }

    /// The query vector of one cart of item indices (at most `max_cart` used) and the shopper's
    /// history (most recent first; ignored by a model trained without history): its logits are
    /// this vector's dot products with [`BasketModel::item_vectors`].
    pub fn query_vector(&self, cart: &[u32], history: &[u32]) -> Result<Vec<f32>> {
        self.query_vector_with(cart, history, &[])
    }

    /// [`BasketModel::query_vector`] with items the model has never seen joining the cart, as
    /// [`BasketModel::title_vector`]s.
    pub fn query_vector_with(
        &self,
        cart: &[u32],
        history: &[u32],
        unseen: &[Tensor],
    ) -> Result<Vec<f32>> {
        let device = Device::Cpu;
        let past = self.history_batch(&[history], &device)?;
        let extra = match unseen {
            [] => None,
            _ => Some(Tensor::stack(unseen, 0)?.unsqueeze(0)?),
        };
        self.hidden_with(
            &self.batch(&[cart], &device)?,
            past.as_ref(),
            extra.as_ref(),
        )?
        .squeeze(0)?
        .to_vec1::<f32>()
    }

    /// Whether the model reads a history token (trained with `--history`).
    pub fn takes_history(&self) -> bool {
        self.segment.is_some()
    }

    /// Pads carts (item indices, at most `max_cart` kept) into a [B, L] tensor.
    pub fn batch(&self, carts: &[&[u32]], device: &Device) -> Result<Tensor> {
        self.pad_rows(carts, self.config.max_cart, device)
    }

    /// Pads histories (most recent first, at most `max_history` kept) into a [B, H] tensor, or
    /// `None` when none has an item or the model takes no history.
    pub fn history_batch(&self, histories: &[&[u32]], device: &Device) -> Result<Option<Tensor>> {
        if self.segment.is_none() || histories.iter().all(|h| h.is_empty()) {
            return Ok(None);
        }
        self.pad_rows(histories, self.config.max_history, device)
            .map(Some)
    }

    fn pad_rows(&self, rows: &[&[u32]], max: usize, device: &Device) -> Result<Tensor> {
        let l = rows
            .iter()
            .map(|c| c.len().min(max))
            .max()
            .unwrap_or(0)
            .max(1);
        let mut flat = Vec::with_capacity(rows.len() * l);
        for c in rows {
            let kept = &c[..c.len().min(l)];
            flat.extend_from_slice(kept);
            flat.extend(std::iter::repeat_n(self.config.pad(), l - kept.len()));
        }
        Tensor::from_vec(flat, (rows.len(), l), device)
    }
}

/// Name of the item id table, the bulk of the model's bytes (one row per catalog item).
pub const ITEM_ID_TABLE: &str = "item_id.weight";

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
    /// Code stored in the export (GGML's numbering).
    pub fn code(self) -> u32 {
        match self {
            WeightType::F32 => 0,
            WeightType::Q5_1 => 7,
            WeightType::Q8_0 => 8,
        }
    }

    /// The type of a stored code.
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

    fn ggml(self) -> GgmlDType {
        match self {
            WeightType::F32 => GgmlDType::F32,
            WeightType::Q8_0 => GgmlDType::Q8_0,
            WeightType::Q5_1 => GgmlDType::Q5_1,
        }
    }

    /// Bytes needed for `elements` values, or `None` if they do not fill whole blocks.
    pub fn bytes_for(self, elements: usize) -> Option<usize> {
        let t = self.ggml();
        elements
            .is_multiple_of(t.block_size())
            .then(|| elements / t.block_size() * t.type_size())
    }
}

/// One weight tensor as stored in the export: name, shape, storage type and raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub dtype: WeightType,
    pub bytes: Vec<u8>,
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
            bytes,
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

    /// The storage types of the weights, e.g. "q8_0, item ids q4_0", for reports.
    pub fn precision(&self) -> String {
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

    /// Rebuilds the model over a catalog's titles (the catalog the export was trained on).
    pub fn load(&self, titles: &[&str]) -> std::result::Result<BasketModel, String> {
        let device = Device::Cpu;
        let tokenizer = titles::tokenizer_from_json(&self.tokenizer_json)?;
        let (ids, owner) = titles::title_tokens(&tokenizer, titles)?;
        let tensors = self
            .tensors
            .iter()
            .map(|t| Ok((t.name.clone(), t.to_tensor(&device)?)))
            .collect::<Result<HashMap<String, Tensor>>>()
            .map_err(|e| e.to_string())?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let mut model = BasketModel::new(self.config, vb, &ids, &owner)
            .map_err(|e| format!("model weights: {e}"))?;
        model
            .freeze()
            .map_err(|e| format!("model item table: {e}"))?;
        model.tokenizer = Some(tokenizer);
        Ok(model)
    }
}

/// The `k` best items by score among those `keep` admits: best first, ties by item index.
/// One selection for every ranking over a dense score vector (model, baselines, suggest).
pub fn top_items(scores: &[f32], k: usize, keep: impl Fn(u32) -> bool) -> Vec<u32> {
    let mut items: Vec<u32> = (0..scores.len() as u32).filter(|&i| keep(i)).collect();
    let by = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if k < items.len() {
        items.select_nth_unstable_by(k, by);
        items.truncate(k);
    }
    items.sort_by(by);
    items
}

/// Ranks the whole catalog for each cart (best first), cart items left out.
pub fn rank_catalog(model: &BasketModel, carts: &[&[u32]]) -> Result<Vec<Vec<u32>>> {
    rank_catalog_with_history(model, carts, &[])
}

/// [`rank_catalog`] with each cart's shopper history (parallel to `carts`, or empty).
pub fn rank_catalog_with_history(
    model: &BasketModel,
    carts: &[&[u32]],
    histories: &[&[u32]],
) -> Result<Vec<Vec<u32>>> {
    let device = Device::Cpu;
    let mut out = Vec::with_capacity(carts.len());
    for (n, chunk) in carts.chunks(512).enumerate() {
        let past = match histories.get(n * 512..n * 512 + chunk.len()) {
            Some(h) => model.history_batch(h, &device)?,
            None => None,
        };
        let logits = model
            .forward_with_history(&model.batch(chunk, &device)?, past.as_ref())?
            .to_vec2::<f32>()?;
        for (row, cart) in logits.iter().zip(chunk) {
            out.push(top_items(row, row.len(), |i| !cart.contains(&i)));
        }
    }
    Ok(out)
}
