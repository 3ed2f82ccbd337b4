//! Native training of the basket transformer: masked-item prediction with a full softmax over
//! the catalog (or, past [`FULL_SOFTMAX_MAX_ITEMS`], a sampled softmax with the logQ
//! correction), AdamW, seeded, early stopping on a time-ordered validation slice, and an
//! optional checkpoint folder to resume from.

use super::adamw::AdamW;
use super::checkpoint::{saved, Checkpoint, Epoch, State, Tensors};
use super::rank_catalog;
use super::step::{length_batches, Negatives, Step};
use super::tokenizer::train_tokenizer;
use crate::serve::catalog::Catalog;
use crate::serve::model::titles::title_tokens;
use crate::serve::model::{
    BasketModel, ModelConfig, ModelExport, NamedTensor, WeightType, ITEM_ID_TABLE,
};
use crate::train::protocol::{hit_rate, TestCart, HIT_DEPTH};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::ControlFlow;
use std::path::Path;
use tokenizers::Tokenizer;

/// Default share of id vectors dropped per training step (see [`FitConfig::id_dropout`]):
/// none. It is a trade: on the synthetic shop with a tenth of the items held out, 0.25 lifted
/// HR@10 of the held-out items among themselves from 0.196 to 0.245 (known items: 0.326 →
/// 0.335), but on a 300-item shop trained 6 epochs it cut the model's own validation HR@10
/// from 0.289 to 0.200. Shops that add many products should measure it with `cold-start`.
pub const ID_DROPOUT: f64 = 0.0;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    pub dim: usize,
    pub heads: usize,
    pub layers: usize,
    pub ff: usize,
    pub max_cart: usize,
    /// Most history tokens (the shopper's earlier items, see `crate::train::history`) per training
    /// cart; 0 trains without history and without a segment vector.
    pub max_history: usize,
    /// Most whole words in the title vocabulary (characters are always in it).
    pub vocab: usize,
    pub epochs: usize,
    pub batch: usize,
    /// Learning rate (the peak one with `cosine_lr`).
    pub lr: f64,
    /// Decay the learning rate along a cosine to a tenth of `lr` by the last planned epoch
    /// (off by default: on the small test shop it cost validation HR@10 in 6 epochs).
    pub cosine_lr: bool,
    pub weight_decay: f64,
    /// Epochs without a validation HR@10 gain before stopping.
    pub patience: usize,
    pub seed: u64,
    /// Store 2-D weights as Q8_0 in the export (f32 otherwise).
    pub quantize: bool,
    /// Share of items whose id vector each training step drops, so they are read by their
    /// titles alone: what teaches the title tokens to stand in for products the model has
    /// never seen (cold start). 0 turns it off.
    pub id_dropout: f64,
    /// Sampled softmax: each step scores the batch's targets and this many items drawn by
    /// popularity, with the logQ correction, instead of the whole catalog; 0 trains with the
    /// full softmax; `None` chooses by catalog size ([`negatives_for`]).
    pub negatives: Option<usize>,
    /// Ship the item vectors as product-quantization codes of this many subspaces (a byte each
    /// per item, `crate::train::pq`) in place of the id table: the served model reads them and
    /// the engine ranks by them; 0 ships the id table (the engine ranks int8 rows of the
    /// vectors); `None` chooses by catalog size ([`pq_subspaces_for`]).
    pub pq: Option<usize>,
    /// Train only until this instant (a time budget): the last epoch stops taking steps in
    /// time for its validation pass to end by then (one that would be under a quarter of an
    /// epoch is not begun), and when the first epoch's first steps and a slice of its
    /// validation show that it, its validation and the reserve's passes cannot end by then,
    /// `fit` answers [`TrainError::OverBudget`](crate::train::error::TrainError::OverBudget).
    /// With `cosine_lr` the decay spans the epochs that fit. Not part of the checkpoint's
    /// fingerprint: a run resumed under another budget continues after the last epoch saved,
    /// cut short or not.
    pub deadline: Option<std::time::Instant>,
    /// Under a deadline, time kept before it for what follows training, in validation passes
    /// (the last epoch's): the blend scores every leave-one-out validation cart with the model,
    /// many more carts than an epoch validates on. Not part of the fingerprint either.
    pub reserve_validations: f64,
}

/// Catalogs of more items ship product-quantized item vectors by default.
pub const PQ_MIN_ITEMS: usize = 20_000;

/// The default [`FitConfig::pq`] for a catalog of `items` and vectors of `dim`: a subspace
/// per 2 dimensions (32 bytes per item at width 64) past [`PQ_MIN_ITEMS`], none below. On the
/// 100,000-item synthetic shop the transformer's own HR@10 ranked by decoded codes was 0.2690
/// at 2 dimensions per subspace and 0.2016 at 4, against 0.2736 with its exact vectors.
pub fn pq_subspaces_for(items: usize, dim: usize) -> usize {
    if items > PQ_MIN_ITEMS && dim.is_multiple_of(8) {
        dim / 2
    } else {
        0
    }
}

/// Catalogs up to this many items train with the full softmax by default.
pub const FULL_SOFTMAX_MAX_ITEMS: usize = 20_000;
/// Items drawn per step by the sampled softmax when a catalog is past
/// [`FULL_SOFTMAX_MAX_ITEMS`].
pub const DEFAULT_NEGATIVES: usize = 2_048;

/// The default [`FitConfig::negatives`] for a catalog of `items`: the full softmax while its
/// cost per step (a logit per item) stays small, a sampled one past that.
pub fn negatives_for(items: usize) -> usize {
    if items > FULL_SOFTMAX_MAX_ITEMS {
        DEFAULT_NEGATIVES
    } else {
        0
    }
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            dim: 64,
            heads: 4,
            layers: 2,
            ff: 128,
            max_cart: 15,
            max_history: 0,
            vocab: 4_000,
            epochs: 20,
            batch: 256,
            lr: 3e-3,
            cosine_lr: false,
            weight_decay: 0.01,
            patience: 3,
            seed: 42,
            quantize: true,
            id_dropout: ID_DROPOUT,
            negatives: None,
            pq: None,
            deadline: None,
            reserve_validations: 0.0,
        }
    }
}

/// A trained model with its tokenizer and training history; weights are the best epoch's
/// (the last one's when trained without validation carts).
pub struct Fitted {
    pub model: BasketModel,
    pub weights: VarMap,
    pub tokenizer: Tokenizer,
    pub history: Vec<Epoch>,
    /// The epoch whose weights were kept, as early stopping chose it (0 without validation
    /// carts, when the last epoch's weights stand).
    pub best_epoch: usize,
    /// Why training ended.
    pub stopped: Stopped,
}

/// Why [`fit`] stopped training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It trained every epoch asked for.
    Epochs,
    /// Validation HR@10 stopped improving for `patience` epochs (early stopping).
    Converged,
    /// [`FitConfig::deadline`] came: the last epoch was cut short to validate in time, or the
    /// next would not have ended in time.
    Deadline,
    /// The progress callback asked it to.
    Caller,
}

/// Under a deadline, the first epoch is timed over its first 1/`FIRST_EPOCH_PROBE` of steps,
/// and a validation pass over as many of the carts, before deciding whether it can end in time.
const FIRST_EPOCH_PROBE: usize = 20;
/// Under a deadline, the last epoch may be cut short, but one shorter than this share of the
/// last full one is not begun.
const LAST_EPOCH_SHARE: f64 = 0.25;

type Error = crate::train::error::TrainError;

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
            let a = if ["item_id", "token", "segment"]
                .iter()
                .any(|p| name.starts_with(p))
            {
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

/// Most validation carts an epoch's HR@10 is measured on (evenly spaced among them): each
/// ranks the whole catalog, which at 100,000 items and a tenth of a big shop's orders would
/// cost more than the epoch.
pub const MAX_EPOCH_VALIDATION: usize = 10_000;

/// At most `max` carts, evenly spaced: all of them when there are no more.
fn spaced(carts: &[TestCart], max: usize) -> Vec<TestCart> {
    let step = carts.len().div_ceil(max.max(1)).max(1);
    carts.iter().step_by(step).cloned().collect()
}

fn hr10(model: &BasketModel, carts: &[TestCart]) -> candle_core::Result<f64> {
    let views: Vec<&[u32]> = carts.iter().map(|t| t.cart.as_slice()).collect();
    let histories: Vec<&[u32]> = carts.iter().map(|t| t.history.as_slice()).collect();
    Ok(hit_rate(
        &rank_catalog(model, &views, &histories, HIT_DEPTH)?,
        carts,
    ))
}

/// The weights of every variable, copied (a snapshot that later steps do not change), named
/// `prefix` + variable name.
fn snapshot(weights: &VarMap, prefix: &str) -> candle_core::Result<Tensors> {
    weights
        .data()
        .lock()
        .expect("weights lock")
        .iter()
        .map(|(k, v)| Ok((format!("{prefix}{k}"), v.as_tensor().copy()?)))
        .collect()
}

/// Sets every variable from `tensors[prefix + name]`.
fn restore(weights: &VarMap, tensors: &Tensors, prefix: &str) -> candle_core::Result<()> {
    let data = weights.data().lock().expect("weights lock");
    for (name, var) in data.iter() {
        var.set(saved(tensors, &format!("{prefix}{name}"))?)?;
    }
    Ok(())
}

/// What [`fit`] reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum FitProgress<'a> {
    /// Training resumes from a checkpoint after this many epochs.
    Resumed { epoch: usize },
    /// `done` of the epoch's `of` steps are taken (reported every hundredth of an epoch and at
    /// its last step).
    Steps {
        epoch: usize,
        done: usize,
        of: usize,
    },
    /// An epoch ended, validated; `examples_per_second` is its training speed (the steps alone,
    /// without validation).
    Epoch {
        record: &'a Epoch,
        examples_per_second: f64,
        /// The seconds its steps took (without validation).
        train_seconds: f64,
    },
}

/// Trains on baskets (distinct item indices per order) and their shopper histories
/// (`histories`, parallel to `baskets`, or empty), validating on `validation` after every
/// epoch. `progress` sees the steps of each epoch and each epoch as it ends, and may stop
/// training at an epoch's end (the best weights so far are kept; its answer to steps is
/// ignored). With `checkpoint`, every epoch is saved there, and a checkpoint of the
/// same settings and data found there is resumed.
pub fn fit(
    catalog: &Catalog,
    baskets: &[Vec<u32>],
    histories: &[Vec<u32>],
    validation: &[TestCart],
    config: &FitConfig,
    checkpoint: Option<&Path>,
    mut progress: impl FnMut(FitProgress) -> ControlFlow<()>,
) -> Result<Fitted, Error> {
    let device = Device::Cpu;
    let titles = catalog.titles();
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
        max_history: config.max_history,
    };
    let weights = VarMap::new();
    let vb = VarBuilder::from_varmap(&weights, DType::F32, &device);
    let mut model = BasketModel::new(model_config, vb, &title_ids, &title_owner)?;
    initialise(&weights, config.seed)?;
    let mut opt = AdamW::new(
        &weights.data().lock().expect("weights lock"),
        config.lr,
        config.weight_decay,
    )?;
    let no_history = Vec::new();
    let usable: Vec<(&Vec<u32>, &Vec<u32>)> = baskets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.len() >= 2)
        .map(|(i, b)| (b, histories.get(i).unwrap_or(&no_history)))
        .collect();
    let validation = &spaced(validation, MAX_EPOCH_VALIDATION);
    let draws = config
        .negatives
        .unwrap_or_else(|| negatives_for(catalog.len()));
    let negatives = (draws > 0)
        .then(|| Negatives::new(&usable, catalog.len()))
        .transpose()?;
    let fingerprint = format!(
        "{:?}, {} items, {} training baskets, {} validation carts",
        FitConfig {
            deadline: None,
            reserve_validations: 0.0,
            ..*config
        },
        catalog.len(),
        usable.len(),
        validation.len()
    );
    let checkpoint = checkpoint.map(Checkpoint::new);
    let mut state = State {
        fingerprint: fingerprint.clone(),
        epoch: 0,
        step: 0,
        history: Vec::new(),
        best: None,
        finished: false,
        tensors: String::new(),
    };
    // The best epoch's weights, named as the checkpoint stores them (`best/<name>`).
    let mut best_weights: Option<Tensors> = None;
    if let Some((saved, tensors)) = match &checkpoint {
        Some(c) => c.load(&fingerprint)?,
        None => None,
    } {
        restore(&weights, &tensors, "w/")?;
        opt.restore_moments(&tensors)?;
        opt.step = saved.step;
        best_weights = saved.best.map(|_| {
            tensors
                .into_iter()
                .filter(|(k, _)| k.starts_with("best/"))
                .collect()
        });
        state = saved;
        let _ = progress(FitProgress::Resumed { epoch: state.epoch });
    }
    // The epochs the decay spans: all asked for, or those that fit before the deadline once an
    // epoch has been timed.
    let mut planned = config.epochs;
    // The last epoch's time, training and validation, and its validation's; none until this
    // run has timed one.
    let mut timed: Option<(f64, f64)> = None;
    // When training must end: the deadline less the reserve, in validation passes.
    let reserved = |deadline: std::time::Instant, validating: f64| {
        deadline
            .checked_sub(std::time::Duration::from_secs_f64(
                validating * config.reserve_validations,
            ))
            .unwrap_or(deadline)
    };
    let mut stopped = if state.finished {
        Stopped::Converged
    } else {
        Stopped::Epochs
    };
    while !state.finished && state.epoch < config.epochs {
        let epoch = state.epoch + 1;
        if let (Some(deadline), Some((seconds, validating))) = (config.deadline, timed) {
            let left = reserved(deadline, validating)
                .saturating_duration_since(std::time::Instant::now())
                .as_secs_f64();
            // Less than a quarter epoch left is not worth its validation pass.
            if left < seconds * LAST_EPOCH_SHARE {
                stopped = Stopped::Deadline;
                break;
            }
            planned = planned.min(state.epoch + (left / seconds).ceil() as usize);
        }
        if config.cosine_lr {
            let done = (epoch - 1) as f64 / planned.max(2).saturating_sub(1) as f64;
            opt.lr = config.lr
                * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * done.min(1.0)).cos()));
        }
        // Each epoch's sampling has its own seed, so a resumed run draws what a whole run would.
        let mut rng = ChaCha8Rng::seed_from_u64(
            config.seed ^ 0x5eed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let mut order: Vec<usize> = (0..usable.len()).collect();
        order.shuffle(&mut rng);
        let batches_of_epoch = length_batches(
            order,
            |k| (usable[k].0.len() - 1).min(config.max_cart),
            config.batch,
            &mut rng,
        );
        let (mut loss_sum, mut batches) = (0.0, 0usize);
        let steps = batches_of_epoch.len();
        let started = std::time::Instant::now();
        for chunk in &batches_of_epoch {
            let mut contexts: Vec<Vec<u32>> = Vec::with_capacity(chunk.len());
            let mut targets: Vec<u32> = Vec::with_capacity(chunk.len());
            let mut pasts: Vec<&[u32]> = Vec::with_capacity(chunk.len());
            for &k in chunk {
                let (basket, past) = usable[k];
                pasts.push(past);
                let mut items = basket.clone();
                items.shuffle(&mut rng);
                targets.push(items.pop().expect("baskets have 2+ items"));
                items.truncate(config.max_cart);
                contexts.push(items);
            }
            if config.id_dropout > 0.0 {
                let rows = model.config.items + 2;
                let keep: Vec<f32> = (0..rows)
                    .map(|_| f32::from(!rng.random_bool(config.id_dropout)))
                    .collect();
                model.set_id_keep(Some(Tensor::from_vec(keep, (rows, 1), &device)?));
            }
            let views: Vec<&[u32]> = contexts.iter().map(Vec::as_slice).collect();
            let sampled = negatives
                .as_ref()
                .map(|sampler| sampler.candidates(&targets, draws, &mut rng, &device))
                .transpose()?;
            // The id rows this step reads: every one under the full softmax, else the inputs'
            // and the candidates' (with the padding and query tokens).
            let rows = model.config.items as u32 + 2;
            let touched: Vec<u32> = match &sampled {
                None => (0..rows).collect(),
                Some((items, _, _)) => {
                    let mut ids: Vec<u32> = views.iter().flat_map(|c| c.iter().copied()).collect();
                    if model.takes_history() {
                        ids.extend(pasts.iter().flat_map(|h| {
                            h[..h.len().min(model.config.max_history)].iter().copied()
                        }));
                    }
                    ids.extend(items.to_vec1::<u32>()?);
                    ids.extend([model.config.pad(), model.config.query()]);
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                }
            };
            let touched = model.touch_rows(touched)?;
            let step = Step {
                carts: &views,
                pasts: &pasts,
                targets: &targets,
                sampled: sampled.as_ref(),
            };
            let (loss, grads) = step.gradients(&model, &opt.parameters(&touched))?;
            opt.step_with(&grads, &touched)?;
            model.release_rows();
            loss_sum += loss;
            batches += 1;
            match (config.deadline, timed) {
                (Some(deadline), None) if batches == steps.div_ceil(FIRST_EPOCH_PROBE) => {
                    let projected = started.elapsed().mul_f64(steps as f64 / batches as f64);
                    // Its validation pass and the reserve's passes after training must fit too:
                    // on a 68k-item catalog the blend's passes outlast an epoch. Timed on a
                    // slice of the carts as the steps were.
                    let slice = spaced(validation, validation.len().div_ceil(FIRST_EPOCH_PROBE));
                    model.set_id_keep(None);
                    let timing = std::time::Instant::now();
                    hr10(&model, &slice)?;
                    let validating = timing
                        .elapsed()
                        .mul_f64(validation.len() as f64 / slice.len().max(1) as f64);
                    let needed = projected + validating.mul_f64(1.0 + config.reserve_validations);
                    let left = deadline.saturating_duration_since(started);
                    if needed > left {
                        return Err(Error::OverBudget { needed, left });
                    }
                }
                // The last epoch ends early, leaving its validation pass time to end in time.
                (Some(deadline), Some((_, validating)))
                    if std::time::Instant::now()
                        + std::time::Duration::from_secs_f64(validating)
                        >= reserved(deadline, validating) =>
                {
                    stopped = Stopped::Deadline;
                    break;
                }
                _ => {}
            }
            if batches % steps.div_ceil(100) == 0 || batches == steps {
                let _ = progress(FitProgress::Steps {
                    epoch,
                    done: batches,
                    of: steps,
                });
            }
        }
        let train_seconds = started.elapsed().as_secs_f64();
        model.set_id_keep(None);
        let record = Epoch {
            epoch,
            loss: loss_sum / batches.max(1) as f64,
            val_hr10: hr10(&model, validation)?,
        };
        let epoch_seconds = started.elapsed().as_secs_f64();
        timed = Some((epoch_seconds, epoch_seconds - train_seconds));
        state.epoch = epoch;
        state.step = opt.step;
        state.history.push(record);
        if validation.is_empty() {
            // Nothing to select on (a refit on all orders): the last epoch's weights stand.
        } else if state.best.is_none_or(|(hr, _)| record.val_hr10 > hr) {
            best_weights = Some(snapshot(&weights, "best/")?);
            state.best = Some((record.val_hr10, epoch));
        } else if state
            .best
            .is_some_and(|(_, at)| epoch - at >= config.patience)
        {
            state.finished = true;
        }
        if state.finished {
            stopped = Stopped::Converged;
        }
        let stop = progress(FitProgress::Epoch {
            record: &record,
            examples_per_second: (batches_of_epoch[..batches]
                .iter()
                .map(Vec::len)
                .sum::<usize>()) as f64
                / train_seconds.max(1e-9),
            train_seconds,
        })
        .is_break();
        if stop {
            stopped = Stopped::Caller;
        }
        if let Some(c) = &checkpoint {
            let mut tensors = snapshot(&weights, "w/")?;
            tensors.extend(opt.moments()?);
            if let Some(best) = &best_weights {
                tensors.extend(best.iter().map(|(k, t)| (k.clone(), t.clone())));
            }
            state.tensors = format!("epoch-{epoch}.safetensors");
            c.save(&state, &tensors)?;
        }
        if stop || stopped == Stopped::Deadline {
            break;
        }
    }
    if let Some(best) = &best_weights {
        restore(&weights, best, "best/")?;
    }
    Ok(Fitted {
        model,
        weights,
        tokenizer,
        history: state.history,
        best_epoch: state.best.map_or(0, |(_, epoch)| epoch),
        stopped,
    })
}

impl Fitted {
    /// The weights and tokenizer as the export stores them. When `quantize`, the item id table
    /// is Q5_1 (at Q8_0 it is a third of a 10k-item export; Q4 cost the transformer 3% of HR@10
    /// on the test shop, Q5_1 1%) and the other 2-D weights Q8_0.
    pub fn to_export(&self, quantize: bool) -> Result<ModelExport, Error> {
        let data = self.weights.data().lock().expect("weights lock");
        let dtype = |name: &str| match (quantize, name == ITEM_ID_TABLE) {
            (false, _) => WeightType::F32,
            (true, true) => WeightType::Q5_1,
            (true, false) => WeightType::Q8_0,
        };
        let mut tensors = data
            .iter()
            .map(|(name, var)| NamedTensor::store(name, var.as_tensor(), dtype(name)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ModelExport {
            config: self.model.config,
            tensors,
            tokenizer_json: self.tokenizer.to_string(false).map_err(
                crate::serve::model::titles::TitleError::new("writing the title tokenizer"),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_batches_cover_every_example_once_and_group_like_lengths() {
        let lens: Vec<usize> = (0..1_000).map(|k| (k * 7_919) % 15).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut order: Vec<usize> = (0..1_000).collect();
        order.shuffle(&mut rng);
        let batches = length_batches(order, |k| lens[k], 8, &mut rng);
        let mut seen = batches.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..1_000).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 8));
        // A window of 512 examples over 15 lengths: a batch spans at most one length boundary.
        let spans = |b: &Vec<usize>| {
            let l: Vec<usize> = b.iter().map(|&k| lens[k]).collect();
            l.iter().max().unwrap() - l.iter().min().unwrap()
        };
        assert!(batches.iter().all(|b| spans(b) <= 1), "{batches:?}");
    }

    #[test]
    fn sharded_gradients_are_the_whole_batch_gradient() {
        let config = ModelConfig {
            items: 30,
            tokens: 4,
            dim: 8,
            heads: 2,
            layers: 1,
            ff: 16,
            max_cart: 6,
            max_history: 4,
        };
        let weights = VarMap::new();
        let vb = VarBuilder::from_varmap(&weights, DType::F32, &Device::Cpu);
        let model = BasketModel::new(config, vb, &[], &[]).unwrap();
        initialise(&weights, 7).unwrap();
        let carts: Vec<Vec<u32>> = (0..9u32).map(|k| (k..k + 1 + k % 4).collect()).collect();
        let pasts: Vec<Vec<u32>> = (0..9u32).map(|k| (20..20 + k % 3).collect()).collect();
        let views: Vec<&[u32]> = carts.iter().map(Vec::as_slice).collect();
        let past_views: Vec<&[u32]> = pasts.iter().map(Vec::as_slice).collect();
        let targets: Vec<u32> = (0..9u32).map(|k| 29 - k).collect();
        let parameters: Vec<Tensor> = {
            let data = weights.data().lock().unwrap();
            let mut names: Vec<&String> = data.keys().collect();
            names.sort();
            names.iter().map(|n| data[*n].as_tensor().clone()).collect()
        };
        let step = Step {
            carts: &views,
            pasts: &past_views,
            targets: &targets,
            sampled: None,
        };
        let (loss, sharded) = step.gradients(&model, &parameters).unwrap();
        let input = model.input(&views, &past_views, &Device::Cpu).unwrap();
        let whole_loss = candle_nn::loss::cross_entropy(
            &model.forward(&input).unwrap(),
            &Tensor::new(targets.as_slice(), &Device::Cpu).unwrap(),
        )
        .unwrap();
        let whole = whole_loss.backward().unwrap();
        let whole_loss = whole_loss.to_scalar::<f32>().unwrap() as f64;
        assert!((loss - whole_loss).abs() < 1e-5, "{loss} vs {whole_loss}");
        let mut compared = 0;
        for p in &parameters {
            // The token table is not read without titles: no gradient either way.
            assert_eq!(sharded.get(p).is_some(), whole.get(p).is_some());
            let Some(a) = sharded.get(p) else { continue };
            compared += 1;
            let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let b = whole
                .get(p)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let worst = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-5, "gradient differs by {worst}");
        }
        // Every other weight learns: attention's queries and keys and the layer norms too
        // (candle-nn's fused softmax and layer norm have no backward pass and froze them).
        assert_eq!(compared + 1, parameters.len());
    }
}
