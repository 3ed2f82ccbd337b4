//! Training the basket transformer: the fit loop ([`fit`]) with AdamW ([`adamw`]), resumable
//! checkpoints ([`checkpoint`]), the title tokenizer's vocabulary ([`tokenizer`]), and ranking
//! the whole catalog for evaluation.
//! It trains the serving core's network (`serve::model`) and scores it with the validation
//! protocol's carts; nothing in the core depends on it.

pub mod adamw;
pub mod checkpoint;
pub mod fit;
pub mod tokenizer;

use crate::serve::model::BasketModel;
use crate::serve::rank::top_items;
use candle_core::{Device, Result};

/// Ranks the whole catalog for each cart (best first), cart items left out; `histories` is
/// parallel to `carts` or empty.
pub fn rank_catalog(
    model: &BasketModel,
    carts: &[&[u32]],
    histories: &[&[u32]],
) -> Result<Vec<Vec<u32>>> {
    let device = Device::Cpu;
    let mut out = Vec::with_capacity(carts.len());
    for (n, chunk) in carts.chunks(512).enumerate() {
        let past = histories.get(n * 512..n * 512 + chunk.len()).unwrap_or(&[]);
        let logits = model
            .forward(&model.input(chunk, past, &device)?)?
            .to_vec2::<f32>()?;
        for (row, cart) in logits.iter().zip(chunk) {
            out.push(top_items(row, row.len(), |i| !cart.contains(&i)));
        }
    }
    Ok(out)
}
