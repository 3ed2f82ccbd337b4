//! Training the basket transformer: the fit loop ([`fit`]) with AdamW ([`adamw`]), resumable
//! checkpoints ([`checkpoint`]), the title tokenizer's vocabulary ([`tokenizer`]), and ranking
//! the whole catalog for evaluation.
//! It trains the serving core's network (`serve::model`) and scores it with the validation
//! protocol's carts; nothing in the core depends on it.

pub mod adamw;
pub mod checkpoint;
pub mod fit;
mod step;
pub mod tokenizer;

use crate::serve::model::BasketModel;
use crate::serve::rank::top_items;
use candle_core::{Device, Result, Tensor};

/// Ranks the whole catalog against carts' query vectors: the catalog's item vectors are read
/// once, not at every forward (at 100,000 items rebuilding them per batch of carts was most of
/// the validation's time and memory).
pub struct CatalogRanker<'a> {
    model: &'a BasketModel,
    /// The item vectors, transposed: [dim, items].
    table: Tensor,
}

/// Carts scored together: their logits are this many × the catalog.
const RANK_BATCH: usize = 128;

impl<'a> CatalogRanker<'a> {
    /// Reads the model's item vectors.
    pub fn new(model: &'a BasketModel) -> Result<Self> {
        let (items, dim) = (model.config.items, model.config.dim);
        let table = Tensor::from_vec(model.item_vectors()?, (items, dim), &Device::Cpu)?.t()?;
        Ok(Self { model, table })
    }

    /// The best `depth` catalog items for each cart (best first), cart items left out;
    /// `histories` is parallel to `carts` or empty. Only the head is kept: the whole ranking of
    /// a 100,000-item catalog for 10,000 validation carts would be 4 GB.
    pub fn rank(
        &self,
        carts: &[&[u32]],
        histories: &[&[u32]],
        depth: usize,
    ) -> Result<Vec<Vec<u32>>> {
        let mut out = Vec::with_capacity(carts.len());
        for (n, chunk) in carts.chunks(RANK_BATCH).enumerate() {
            let past = histories
                .get(n * RANK_BATCH..n * RANK_BATCH + chunk.len())
                .unwrap_or(&[]);
            let input = self.model.input(chunk, past, &Device::Cpu)?;
            let logits = self
                .model
                .hidden(&input)?
                .matmul(&self.table)?
                .to_vec2::<f32>()?;
            for (row, cart) in logits.iter().zip(chunk) {
                out.push(top_items(row, depth, |i| !cart.contains(&i)));
            }
        }
        Ok(out)
    }
}

/// [`CatalogRanker::rank`] with a ranker made for the call.
pub fn rank_catalog(
    model: &BasketModel,
    carts: &[&[u32]],
    histories: &[&[u32]],
    depth: usize,
) -> Result<Vec<Vec<u32>>> {
    CatalogRanker::new(model)?.rank(carts, histories, depth)
}
