//! Native training of the basket transformer: masked-item prediction with a full softmax over
//! the catalog, AdamW, seeded, early stopping on a time-ordered validation slice.

use super::titles::{title_tokens, train_tokenizer};
use super::{rank_catalog, BasketModel, ModelConfig, ModelExport, NamedTensor};
use crate::catalog::Catalog;
use crate::eval::TestCart;
use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use tokenizers::Tokenizer;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    pub dim: usize,
    pub heads: usize,
    pub layers: usize,
    pub ff: usize,
    pub max_cart: usize,
    /// Most whole words in the title vocabulary (characters are always in it).
    pub vocab: usize,
    pub epochs: usize,
    pub batch: usize,
    /// Peak learning rate; decays along a cosine to a tenth of it by the last epoch.
    pub lr: f64,
    pub weight_decay: f64,
    /// Epochs without a validation HR@10 gain before stopping.
    pub patience: usize,
    pub seed: u64,
    /// Store 2-D weights as Q8_0 in the export (f32 otherwise).
    pub quantize: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            dim: 64,
            heads: 4,
            layers: 2,
            ff: 128,
            max_cart: 15,
            vocab: 4_000,
            epochs: 20,
            batch: 256,
            lr: 3e-3,
            weight_decay: 0.01,
            patience: 3,
            seed: 42,
            quantize: true,
        }
    }
}

/// One epoch's record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    pub epoch: usize,
    pub loss: f64,
    pub val_hr10: f64,
}

/// A trained model with its tokenizer and training history; weights are the best epoch's.
pub struct Fitted {
    pub model: BasketModel,
    pub weights: VarMap,
    pub tokenizer: Tokenizer,
    pub history: Vec<Epoch>,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Seeded initialisation: layer norms at identity, biases zero, embeddings uniform with
/// variance 1/dim, linear layers Xavier-uniform.
fn initialise(weights: &VarMap, seed: u64) -> candle_core::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = weights.data().lock().expect("weights lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let n = var.elem_count();
        let fill = |v: f32| vec![v; n];
        let values = if name.contains("ln") && name.ends_with("weight") {
            fill(1.0)
        } else if name.ends_with("bias") {
            fill(0.0)
        } else {
            // Embeddings with variance 1/dim so catalog logits start informative; linear
            // layers Xavier-uniform so attention mixes the cart from the first step.
            let dims = var.dims();
            let a = if name.starts_with("item_id") || name.starts_with("token") {
                (3.0 / dims[1] as f32).sqrt()
            } else {
                (6.0 / (dims[0] + dims[dims.len() - 1]) as f32).sqrt()
            };
            (0..n).map(|_| rng.random_range(-a..a)).collect()
        };
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
    }
    Ok(())
}

fn hr10(model: &BasketModel, carts: &[TestCart]) -> candle_core::Result<f64> {
    let views: Vec<&[u32]> = carts.iter().map(|t| t.cart.as_slice()).collect();
    let ranked = rank_catalog(model, &views)?;
    let hits = ranked
        .iter()
        .zip(carts)
        .filter(|(r, t)| r.iter().take(10).any(|&i| i == t.hidden))
        .count();
    Ok(hits as f64 / carts.len().max(1) as f64)
}

/// Trains on baskets (distinct item indices per order), validating on `validation` after every
/// epoch; `progress` sees each epoch as it ends.
pub fn fit(
    catalog: &Catalog,
    baskets: &[Vec<u32>],
    validation: &[TestCart],
    config: &FitConfig,
    mut progress: impl FnMut(&Epoch),
) -> Result<Fitted, Error> {
    let device = Device::Cpu;
    let titles: Vec<&str> = catalog
        .products()
        .iter()
        .map(|p| p.title.as_str())
        .collect();
    let tokenizer = train_tokenizer(titles.iter().copied(), config.vocab)?;
    let (title_ids, title_owner) = title_tokens(&tokenizer, &titles)?;
    let model_config = ModelConfig {
        items: catalog.len(),
        tokens: tokenizer.get_vocab_size(true),
        dim: config.dim,
        heads: config.heads,
        layers: config.layers,
        ff: config.ff,
        max_cart: config.max_cart,
    };
    let weights = VarMap::new();
    let vb = VarBuilder::from_varmap(&weights, DType::F32, &device);
    let model = BasketModel::new(model_config, vb, &title_ids, &title_owner)?;
    initialise(&weights, config.seed)?;
    let mut opt = AdamW::new(
        weights.all_vars(),
        ParamsAdamW {
            lr: config.lr,
            weight_decay: config.weight_decay,
            ..Default::default()
        },
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed);
    let usable: Vec<&Vec<u32>> = baskets.iter().filter(|b| b.len() >= 2).collect();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, HashMap<String, Tensor>)> = None;
    for epoch in 1..=config.epochs {
        // Cosine decay from lr to lr/10 over the planned epochs.
        let done = (epoch - 1) as f64 / config.epochs.max(2).saturating_sub(1) as f64;
        opt.set_learning_rate(
            config.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * done).cos())),
        );
        let mut order: Vec<usize> = (0..usable.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut batches) = (0.0, 0usize);
        for chunk in order.chunks(config.batch) {
            let mut contexts: Vec<Vec<u32>> = Vec::with_capacity(chunk.len());
            let mut targets: Vec<u32> = Vec::with_capacity(chunk.len());
            for &k in chunk {
                let mut items = usable[k].clone();
                items.shuffle(&mut rng);
                targets.push(items.pop().expect("baskets have 2+ items"));
                items.truncate(config.max_cart);
                contexts.push(items);
            }
            let views: Vec<&[u32]> = contexts.iter().map(Vec::as_slice).collect();
            let logits = model.forward(&model.batch(&views, &device)?)?;
            let loss = candle_nn::loss::cross_entropy(
                &logits,
                &Tensor::new(targets.as_slice(), &device)?,
            )?;
            opt.backward_step(&loss)?;
            loss_sum += loss.to_scalar::<f32>()? as f64;
            batches += 1;
        }
        let record = Epoch {
            epoch,
            loss: loss_sum / batches.max(1) as f64,
            val_hr10: hr10(&model, validation)?,
        };
        progress(&record);
        history.push(record);
        if best.as_ref().is_none_or(|(hr, _, _)| record.val_hr10 > *hr) {
            let snapshot = weights
                .data()
                .lock()
                .expect("weights lock")
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
                .collect::<candle_core::Result<_>>()?;
            best = Some((record.val_hr10, epoch, snapshot));
        } else if best
            .as_ref()
            .is_some_and(|(_, at, _)| epoch - at >= config.patience)
        {
            break;
        }
    }
    if let Some((_, _, snapshot)) = best {
        let data = weights.data().lock().expect("weights lock");
        for (name, tensor) in snapshot {
            data[&name].set(&tensor)?;
        }
    }
    Ok(Fitted {
        model,
        weights,
        tokenizer,
        history,
    })
}

impl Fitted {
    /// The weights and tokenizer as the export stores them; 2-D weights as Q8_0 when `quantize`.
    pub fn to_export(&self, quantize: bool) -> Result<ModelExport, Error> {
        let data = self.weights.data().lock().expect("weights lock");
        let mut tensors = data
            .iter()
            .map(|(name, var)| NamedTensor::store(name, var.as_tensor(), quantize))
            .collect::<candle_core::Result<Vec<_>>>()?;
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ModelExport {
            config: self.model.config,
            tensors,
            tokenizer_json: self.tokenizer.to_string(false)?,
        })
    }
}
