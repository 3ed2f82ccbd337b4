//! The basket transformer: an encoder over the cart as a set, scoring every catalog item
//! against its output through the tied item table (id vector + mean of title-token vectors).
//!
//! One definition for both builds: the network and its forward ([`BasketModel`], one
//! [`Input`] per batch), its stored form in the export ([`format`]) and the title tokenizer's
//! use ([`titles`]). Training (`train::model`) builds the same network. Served from an export,
//! the layers' Q8_0 weights are expanded to f32 once at load: candle's quantized matmul
//! (which rounds activations to 8 bits) made native and wasm answers diverge and was slower
//! in wasm (BENCHMARKS.md, "Quantized layers"). The two tables with a row per item or token
//! stay in their stored form and a forward dequantizes the rows it reads ([`stored`]), giving
//! the training graph's vectors without holding them as f32. It depends on candle and
//! tokenizers only.

pub mod format;
pub mod stored;
pub mod titles;

pub use format::{
    LoadError, ModelExport, NamedTensor, WeightType, ITEM_ID_TABLE, ITEM_MARKERS, TOKEN_TABLE,
};
pub use stored::{ItemRows, LazyTitles, ServedItems, StoredRows, TitleIndex};

use candle_core::{DType, Device, Module, Result, Tensor, Var, D};
use candle_nn::{
    embedding, layer_norm, linear, Embedding, LayerNorm, LayerNormConfig, Linear, VarBuilder,
};
use serde::{Deserialize, Serialize};

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

/// Widest model a config may describe.
pub const MAX_DIM: usize = 1_024;
/// Most attention heads.
pub const MAX_HEADS: usize = 64;
/// Most transformer blocks.
pub const MAX_LAYERS: usize = 32;
/// Widest feed-forward layer.
pub const MAX_FF: usize = 8_192;
/// Most item or title-token rows.
pub const MAX_ROWS: usize = 2_000_000;
/// Most cart or history positions the encoder reads.
pub const MAX_SEQUENCE: usize = 1_024;

impl ModelConfig {
    /// Why a (possibly crafted) config cannot describe a model this code runs, if it cannot.
    pub fn problem(&self) -> Option<String> {
        // Each size within what a browser can hold, so no product of them overflows and a
        // crafted file cannot ask for gigabytes (MODEL_LIMITS in FORMAT.md).
        for (name, value, range) in [
            ("dim", self.dim, 1..=MAX_DIM),
            ("heads", self.heads, 1..=MAX_HEADS),
            ("layers", self.layers, 0..=MAX_LAYERS),
            ("ff", self.ff, 1..=MAX_FF),
            ("items", self.items, 0..=MAX_ROWS),
            ("tokens", self.tokens, 0..=MAX_ROWS),
            ("max_cart", self.max_cart, 1..=MAX_SEQUENCE),
            ("max_history", self.max_history, 0..=MAX_SEQUENCE),
        ] {
            if !range.contains(&value) {
                return Some(format!(
                    "{name} {value} is outside {}..={}",
                    range.start(),
                    range.end()
                ));
            }
        }
        (!self.dim.is_multiple_of(self.heads)).then(|| {
            format!(
                "{} heads do not divide the model width {}",
                self.heads, self.dim
            )
        })
    }

    /// The padding token id.
    pub fn pad(&self) -> u32 {
        self.items as u32
    }
    /// The query token id: the position whose output scores the catalog.
    pub fn query(&self) -> u32 {
        self.items as u32 + 1
    }
}

/// Layer norm over the last dimension, built of differentiable ops: candle-nn's `LayerNorm`
/// (like its `softmax_last_dim`) runs a fused kernel on contiguous input that has no backward
/// pass, so the norms' weights and everything before them in attention got no gradient.
fn norm(ln: &LayerNorm, x: &Tensor) -> Result<Tensor> {
    let bias = ln
        .bias()
        .ok_or_else(|| candle_core::Error::Msg("layer norm without a bias".into()))?;
    candle_nn::ops::layer_norm_slow(x, ln.weight(), bias, ln.eps() as f32)
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
        let h = norm(&self.ln1, x)?;
        let split = |y: Tensor| {
            y.reshape((b, t, self.heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(&h)?)?;
        let k = split(self.k.forward(&h)?)?;
        let v = split(self.v.forward(&h)?)?;
        let scores = (q.matmul(&k.t()?)? / (dh as f64).sqrt())?.broadcast_add(mask)?;
        let attn = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let out = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        let x = (x + self.o.forward(&out)?)?;
        let f = self
            .ff2
            .forward(&self.ff1.forward(&norm(&self.ln2, &x)?)?.gelu()?)?;
        x + f
    }
}

/// One forward's input, padded with [`ModelConfig::pad`]: carts [B, L] of item ids, the
/// shoppers' history items [B, H] (for a model trained with history), and item vectors [B, E,
/// dim] of unseen items joining each cart.
pub struct Input {
    pub carts: Tensor,
    pub history: Option<Tensor>,
    pub unseen: Option<Tensor>,
}

/// One cart as the model reads it: known items (catalog indices, at most `max_cart` used), the
/// shopper's history (most recent first), and unseen items' [`BasketModel::title_vector`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelInput<'a> {
    pub cart: &'a [u32],
    pub history: &'a [u32],
    pub unseen: &'a [Tensor],
}

/// The model with its item side: learned tables while training, stored tables when served.
pub struct BasketModel {
    pub config: ModelConfig,
    items: ItemSide,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    /// Added to history tokens so attention can tell the shopper's past from the cart.
    segment: Option<Tensor>,
}

/// Where item vectors come from.
enum ItemSide {
    /// Training: the learned tables, the item table recomputed at every use so gradients reach
    /// both.
    Learned(Learned),
    /// Served from an export: the tables in their stored form, rows read as a forward needs
    /// them (see [`stored`]).
    Served(Box<ServedItems>),
}

/// The training side's item tables and title-token index.
struct Learned {
    item_id: Embedding,
    token: Embedding,
    /// Each item's title tokens.
    titles: TitleIndex,
    /// While training with id dropout: 1 for items whose id vector this step keeps, 0 for
    /// those it drops, [items + 2, 1].
    id_keep: Option<Tensor>,
    /// During a training step: the item-id and token rows it reads, as their own variables
    /// (see [`BasketModel::touch_rows`]); the whole tables otherwise.
    touched: Option<[StepRows; 2]>,
}

/// Rows of a big table that one training step reads, copied into their own variable so the
/// step's gradient and optimizer update cover those rows only (a sampled-softmax step at
/// 100,000 items reads a few thousand of them); the optimizer writes them back by `ids`.
#[derive(Clone)]
pub struct StepRows {
    /// The table's variable name ([`ITEM_ID_TABLE`] or [`TOKEN_TABLE`]).
    pub table: &'static str,
    /// The rows' indices in the table, ascending, [n] u32.
    pub ids: Tensor,
    /// The rows' values [n, dim], the leaf the step's gradient reaches.
    pub rows: Var,
    /// `ids` as a list, to map table indices to rows.
    sorted: Vec<u32>,
}

impl StepRows {
    /// Copies rows `ids` (ascending, distinct) of `table` into their own variable.
    pub fn new(table: &'static str, weights: &Tensor, ids: Vec<u32>) -> Result<Self> {
        let index = Tensor::new(ids.as_slice(), weights.device())?;
        Ok(Self {
            table,
            rows: Var::from_tensor(&weights.index_select(&index, 0)?.detach())?,
            ids: index,
            sorted: ids,
        })
    }

    /// The rows [n, dim] of table indices `of`, each of which the step touched.
    fn read(&self, of: &[u32]) -> Result<Tensor> {
        let local = of
            .iter()
            .map(|i| {
                self.sorted.binary_search(i).map(|k| k as u32).map_err(|_| {
                    candle_core::Error::Msg(format!(
                        "row {i} of {} read outside the step's touched rows",
                        self.table
                    ))
                })
            })
            .collect::<Result<Vec<u32>>>()?;
        self.rows
            .as_tensor()
            .index_select(&Tensor::new(local.as_slice(), self.rows.device())?, 0)
    }
}

impl Learned {
    /// Item vectors [items + 2, d]: learned id vector + mean of the item's title-token vectors.
    fn table(&self) -> Result<Tensor> {
        let rows = self.item_id.embeddings().dim(0)? as u32;
        self.rows(&Tensor::arange(0, rows, &Device::Cpu)?, true)
    }

    /// The vectors of the items `ids` [n], [n, d]: the learned id vector (when `with_ids`; none
    /// for an item whose id this step drops) plus the mean of the item's title-token vectors.
    /// A forward that does not score the whole catalog reads only these, so its cost does not
    /// grow with the catalog.
    fn rows(&self, ids: &Tensor, with_ids: bool) -> Result<Tensor> {
        let device = ids.device();
        let items = ids.to_vec1::<u32>()?;
        let mut rows = match (with_ids, &self.touched) {
            (true, Some([touched, _])) => touched.read(&items)?,
            (true, None) => self.item_id.forward(ids)?,
            (false, _) => {
                Tensor::zeros((ids.dim(0)?, self.token.hidden_size()), DType::F32, device)?
            }
        };
        if self.titles.is_empty() {
            return Ok(rows);
        }
        if let Some(keep) = self.id_keep.as_ref().filter(|_| with_ids) {
            rows = rows.broadcast_mul(&keep.index_select(ids, 0)?)?;
        }
        let (mut tokens, mut owner, mut counts) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in items.iter().enumerate() {
            let title = self.titles.of(i);
            tokens.extend_from_slice(title);
            owner.extend(std::iter::repeat_n(k as u32, title.len()));
            counts.push(title.len().max(1) as f32);
        }
        if tokens.is_empty() {
            return Ok(rows);
        }
        let token_rows = match &self.touched {
            Some([_, touched]) => touched.read(&tokens)?,
            None => self
                .token
                .forward(&Tensor::new(tokens.as_slice(), device)?)?,
        };
        let sums = Tensor::zeros(rows.dims(), DType::F32, device)?.index_add(
            &Tensor::new(owner.as_slice(), device)?,
            &token_rows,
            0,
        )?;
        rows + sums.broadcast_div(&Tensor::from_vec(counts, (items.len(), 1), device)?)?
    }
}

/// The item rows one forward reads: the learned tables (training) or the stored ones.
enum Lookup<'a> {
    Learned(&'a Learned),
    Served(&'a ServedItems),
}

impl Lookup<'_> {
    /// Rows [n, d] of the item ids in `ids` (any shape), in order.
    fn rows(&self, ids: &Tensor) -> Result<Tensor> {
        let ids = ids.flatten_all()?;
        match self {
            Lookup::Learned(learned) => learned.rows(&ids, true),
            Lookup::Served(served) => served.rows(&ids.to_vec1::<u32>()?),
        }
    }
}

impl BasketModel {
    /// Builds the model for training from weights under `vb` and the flat title tokens of
    /// every item.
    pub fn new(
        config: ModelConfig,
        vb: VarBuilder,
        title_ids: &[u32],
        title_owner: &[u32],
    ) -> Result<Self> {
        let items = ItemSide::Learned(Learned {
            item_id: embedding(config.items + 2, config.dim, vb.pp("item_id"))?,
            token: embedding(config.tokens, config.dim, vb.pp("token"))?,
            titles: TitleIndex::new(title_ids, title_owner, config.items),
            id_keep: None,
            touched: None,
        });
        Self::with_items(config, vb, items)
    }

    /// Builds the served model: layers from `vb`, the item side as stored.
    pub fn served(config: ModelConfig, vb: VarBuilder, items: ServedItems) -> Result<Self> {
        Self::with_items(config, vb, ItemSide::Served(Box::new(items)))
    }

    fn with_items(config: ModelConfig, vb: VarBuilder, items: ItemSide) -> Result<Self> {
        Ok(Self {
            items,
            blocks: (0..config.layers)
                .map(|l| Block::new(&config, vb.pp(format!("block{l}"))))
                .collect::<Result<_>>()?,
            ln_f: layer_norm(config.dim, LayerNormConfig::default(), vb.pp("ln_f"))?,
            segment: (config.max_history > 0)
                .then(|| vb.get((1, config.dim), "segment.weight"))
                .transpose()?,
            config,
        })
    }

    /// Whether the catalog's titles gave the model any token.
    fn has_titles(&self) -> bool {
        match &self.items {
            ItemSide::Learned(l) => !l.titles.is_empty(),
            ItemSide::Served(s) => s.titles.any(),
        }
    }

    /// The vector of an item the model has never seen, from its title alone: the mean of its
    /// title-token vectors (a known item's vector adds its learned id vector to that). `None`
    /// when the model has no titles or tokenizer (a model in training has none), or the title
    /// no token.
    pub fn title_vector(&self, title: &str) -> Result<Option<Tensor>> {
        let ItemSide::Served(s) = &self.items else {
            return Ok(None);
        };
        if !s.titles.any() {
            return Ok(None);
        }
        let encoding = s
            .titles
            .tokenizer()
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
        let rows = Tensor::from_vec(s.tokens.gather(&ids)?, (ids.len(), s.dim), &Device::Cpu)?;
        Ok(Some(rows.mean(0)?))
    }

    /// Drops the id vectors of the items marked 0 in `keep` ([items + 2, 1]) from the item
    /// table until the next call, so those items are seen by their titles alone, as a new
    /// product will be (id dropout, for cold start); `None` keeps every id vector. Training
    /// only: a served model has no learned table to drop from.
    pub fn set_id_keep(&mut self, keep: Option<Tensor>) {
        if let ItemSide::Learned(l) = &mut self.items {
            l.id_keep = keep;
        }
    }

    /// Training: until [`BasketModel::release_rows`], reads the item-id rows `items`
    /// (ascending, distinct; every id the step's forward reads, the padding and query tokens
    /// included) and their titles' token rows through copies of those rows, returned for the
    /// optimizer. A served model has nothing to train and returns none.
    pub fn touch_rows(&mut self, items: Vec<u32>) -> Result<Vec<StepRows>> {
        let ItemSide::Learned(l) = &mut self.items else {
            return Ok(Vec::new());
        };
        let mut tokens: Vec<u32> = items
            .iter()
            .flat_map(|&i| l.titles.of(i).iter().copied())
            .collect();
        tokens.sort_unstable();
        tokens.dedup();
        let touched = l.touched.insert([
            StepRows::new(ITEM_ID_TABLE, l.item_id.embeddings(), items)?,
            StepRows::new(TOKEN_TABLE, l.token.embeddings(), tokens)?,
        ]);
        Ok(touched.to_vec())
    }

    /// Training: reads the whole tables again after [`BasketModel::touch_rows`].
    pub fn release_rows(&mut self) {
        if let ItemSide::Learned(l) = &mut self.items {
            l.touched = None;
        }
    }

    /// The title part of catalog items' vectors, row-major [items.len(), dim]: the mean of
    /// each one's title-token vectors (zeros without titles), comparable with
    /// [`BasketModel::title_vector`].
    pub fn title_vectors_of(&self, items: &[u32]) -> Result<Vec<f32>> {
        match &self.items {
            _ if !self.has_titles() => Ok(vec![0.0; items.len() * self.config.dim]),
            ItemSide::Learned(l) => l
                .rows(&Tensor::new(items, &Device::Cpu)?, false)?
                .flatten_all()?
                .to_vec1(),
            ItemSide::Served(s) => s.vectors(items, false),
        }
    }

    /// [`BasketModel::title_vectors_of`] the whole catalog (for tests).
    pub fn title_vectors(&self) -> Result<Vec<f32>> {
        self.title_vectors_of(&(0..self.config.items as u32).collect::<Vec<_>>())
    }

    /// The item rows a forward reads.
    fn lookup(&self) -> Lookup<'_> {
        match &self.items {
            ItemSide::Learned(l) => Lookup::Learned(l),
            ItemSide::Served(s) => Lookup::Served(s),
        }
    }

    /// The vectors of catalog items `items`, row-major [items.len(), dim]: what the scoring
    /// kernels rank (read a chunk at a time, never the whole f32 table at once when served).
    pub fn item_vectors_of(&self, items: &[u32]) -> Result<Vec<f32>> {
        let ids = Tensor::new(items, &Device::Cpu)?;
        self.lookup().rows(&ids)?.flatten_all()?.to_vec1()
    }

    /// The whole catalog's item vectors, row-major [items, dim], computed a chunk of items at a
    /// time: a whole catalog's title-token rows at once were gigabytes at 100,000 items.
    pub fn item_vectors(&self) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(self.config.items * self.config.dim);
        for ids in stored::row_chunks(self.config.items) {
            out.extend(self.item_vectors_of(&ids)?);
        }
        Ok(out)
    }

    /// Catalog logits [B, items]: the query vectors of [`BasketModel::hidden`] scored against
    /// the item table.
    pub fn forward(&self, input: &Input) -> Result<Tensor> {
        let h = self.hidden(input)?;
        let items = self.config.items;
        match self.lookup() {
            Lookup::Learned(learned) => h.matmul(&learned.table()?.narrow(0, 0, items)?.t()?),
            // A chunk of the catalog at a time, so the f32 table is never whole in memory.
            Lookup::Served(served) => {
                let mut parts = Vec::new();
                for ids in stored::row_chunks(items) {
                    parts.push(h.matmul(&served.rows(&ids)?.t()?)?);
                }
                match parts.len() {
                    0 => Tensor::zeros((h.dim(0)?, 0), DType::F32, &Device::Cpu),
                    _ => Tensor::cat(&parts, 1),
                }
            }
        }
    }

    /// Logits [B, C] of a batch against the candidate items `candidates` [C] alone: what a
    /// sampled softmax trains on, reading C item rows instead of the whole catalog.
    pub fn candidate_logits(&self, input: &Input, candidates: &Tensor) -> Result<Tensor> {
        let h = self.hidden(input)?;
        h.matmul(&self.lookup().rows(candidates)?.t()?)
    }

    /// The query vectors [B, dim] of a batch, before they are scored against the item table:
    /// what the catalog-scoring kernels take.
    ///
    /// The encoder reads the query token, the cart's items, any unseen items (by their
    /// [`BasketModel::title_vector`]) and, for a model trained with history, one history token:
    /// the mean of the history's item vectors plus the segment vector, so a long history
    /// cannot drown out the cart in attention (an empty history is masked like padding; a
    /// model without a segment vector ignores history).
    pub fn hidden(&self, input: &Input) -> Result<Tensor> {
        let table = self.lookup();
        let carts = &input.carts;
        let (b, l) = carts.dims2()?;
        let d = self.config.dim;
        let device = carts.device();
        let query = Tensor::full(self.config.query(), (b, 1), device)?;
        let ids = Tensor::cat(&[&query, carts], 1)?;
        let mut x = table.rows(&ids)?.reshape((b, l + 1, d))?;
        let mut padding = ids.eq(self.config.pad())?.to_dtype(DType::F32)?;
        if let Some(unseen) = &input.unseen {
            x = Tensor::cat(&[&x, unseen], 1)?;
            let shown = Tensor::zeros((b, unseen.dim(1)?), DType::F32, device)?;
            padding = Tensor::cat(&[&padding, &shown], 1)?;
        }
        if let Some((h, segment)) = input.history.as_ref().zip(self.segment.as_ref()) {
            let kept = h.ne(self.config.pad())?.to_dtype(DType::F32)?;
            let count = kept.sum_keepdim(1)?;
            let sum = table
                .rows(h)?
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
        norm(&self.ln_f, &x.narrow(1, 0, 1)?.squeeze(1)?)
    }

    /// The input for carts of item indices (at most `max_cart` kept) and, parallel to them or
    /// empty, their shoppers' histories (most recent first, at most `max_history` kept).
    pub fn input(&self, carts: &[&[u32]], histories: &[&[u32]], device: &Device) -> Result<Input> {
        let history = if self.segment.is_none() || histories.iter().all(|h| h.is_empty()) {
            None
        } else {
            Some(self.pad_rows(histories, self.config.max_history, device)?)
        };
        Ok(Input {
            carts: self.pad_rows(carts, self.config.max_cart, device)?,
            history,
            unseen: None,
        })
    }

    /// The input of one cart: its known items, history and unseen items' vectors.
    pub fn cart_input(&self, cart: &ModelInput) -> Result<Input> {
        let mut input = self.input(&[cart.cart], &[cart.history], &Device::Cpu)?;
        if !cart.unseen.is_empty() {
            input.unseen = Some(Tensor::stack(cart.unseen, 0)?.unsqueeze(0)?);
        }
        Ok(input)
    }

    /// The query vector of one cart (see [`BasketModel::hidden`]): its logits are this vector's
    /// dot products with [`BasketModel::item_vectors`].
    pub fn query_vector(&self, cart: &ModelInput) -> Result<Vec<f32>> {
        self.hidden(&self.cart_input(cart)?)?
            .squeeze(0)?
            .to_vec1::<f32>()
    }

    /// Catalog logits of one cart.
    pub fn cart_logits(&self, cart: &ModelInput) -> Result<Vec<f32>> {
        self.forward(&self.cart_input(cart)?)?
            .squeeze(0)?
            .to_vec1::<f32>()
    }

    /// Whether the model reads a history token (trained with `--history`).
    pub fn takes_history(&self) -> bool {
        self.segment.is_some()
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
