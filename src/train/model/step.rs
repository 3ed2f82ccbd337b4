//! One training step and what feeds it: the epoch's batches cut by cart length, sampled-softmax
//! negatives, and a batch's gradients computed in shards across cores and summed.

use crate::serve::model::BasketModel;
use crate::train::error::TrainError;
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Draws sampled-softmax negatives: item `i` with probability ∝ (its training count + 1)^0.75
/// (popular items are the informative negatives; the power keeps the tail in play), and
/// log of that probability for the logQ correction.
pub(super) struct Negatives {
    draw: WeightedIndex<f64>,
    log_q: Vec<f32>,
}

impl Negatives {
    pub(super) fn new(
        baskets: &[(&Vec<u32>, &Vec<u32>)],
        items: usize,
    ) -> Result<Self, TrainError> {
        let mut counts = vec![0u64; items];
        for (basket, _) in baskets {
            basket.iter().for_each(|&i| counts[i as usize] += 1);
        }
        let weights: Vec<f64> = counts
            .iter()
            .map(|&c| (c as f64 + 1.0).powf(0.75))
            .collect();
        let total: f64 = weights.iter().sum();
        let draw = WeightedIndex::new(&weights)
            .map_err(|e| candle_core::Error::Msg(format!("negative sampler: {e}")))?;
        Ok(Self {
            draw,
            log_q: weights.iter().map(|w| (w / total).ln() as f32).collect(),
        })
    }

    /// The step's candidates (the targets and `n` drawn items, sorted, each once), each
    /// target's position among them, and the candidates' log probabilities [1, C].
    pub(super) fn candidates(
        &self,
        targets: &[u32],
        n: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let mut items: Vec<u32> = targets.to_vec();
        items.extend((0..n).map(|_| self.draw.sample(rng) as u32));
        items.sort_unstable();
        items.dedup();
        let labels: Vec<u32> = targets
            .iter()
            .map(|t| items.binary_search(t).expect("targets are candidates") as u32)
            .collect();
        let log_q: Vec<f32> = items.iter().map(|&i| self.log_q[i as usize]).collect();
        let c = items.len();
        Ok((
            Tensor::from_vec(items, c, device)?,
            Tensor::new(labels.as_slice(), device)?,
            Tensor::from_vec(log_q, (1, c), device)?,
        ))
    }
}

/// Batches of one epoch are cut from windows of this many batches' worth of shuffled examples,
/// each window sorted by cart length (see [`length_batches`]).
const LENGTH_WINDOW: usize = 64;

/// The epoch's batches: the shuffled examples `order` in windows of [`LENGTH_WINDOW`] batches,
/// each window sorted by `len` (the cart length an example trains on) and cut into batches of
/// `batch`, the batches then shuffled. A batch is padded to its longest cart, and real carts are
/// mostly short: batches of like lengths spare the encoder most of its work on padding, while
/// each batch still comes from a random window of the epoch.
pub(super) fn length_batches(
    order: Vec<usize>,
    len: impl Fn(usize) -> usize,
    batch: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let batch = batch.max(1);
    let mut out = Vec::with_capacity(order.len().div_ceil(batch));
    for window in order.chunks(batch * LENGTH_WINDOW) {
        let mut sorted = window.to_vec();
        sorted.sort_by_key(|&k| len(k));
        out.extend(sorted.chunks(batch).map(<[usize]>::to_vec));
    }
    out.shuffle(rng);
    out
}

/// A batch is split into this many shards whose gradients are computed in parallel and summed
/// (data parallelism across cores, each shard's candle ops on one thread). A fixed number, not
/// the machine's core count, so the sums and the trained weights are the same on any machine.
pub(super) const SHARDS: usize = 2;

/// One training step's batch: carts, their shoppers' histories and targets, and for a sampled
/// softmax the candidates, each target's place among them and their log probabilities.
pub(super) struct Step<'a> {
    pub(super) carts: &'a [&'a [u32]],
    pub(super) pasts: &'a [&'a [u32]],
    pub(super) targets: &'a [u32],
    pub(super) sampled: Option<&'a (Tensor, Tensor, Tensor)>,
}

impl Step<'_> {
    /// The batch's mean loss and its gradients with respect to `parameters`: [`SHARDS`] shards
    /// of the batch forward and backward in parallel, each loss weighted by its share of the
    /// batch, their gradients summed in shard order.
    pub(super) fn gradients(
        &self,
        model: &BasketModel,
        parameters: &[Tensor],
    ) -> candle_core::Result<(f64, GradStore)> {
        let n = self.carts.len();
        let size = n.div_ceil(SHARDS).max(1);
        let shards: Vec<(f64, GradStore)> = (0..n.div_ceil(size))
            .into_par_iter()
            .map(|s| self.shard(model, s * size..n.min((s + 1) * size)))
            .collect::<candle_core::Result<_>>()?;
        let mut total = GradStore::default();
        let mut loss = 0.0;
        for (shard_loss, grads) in shards {
            loss += shard_loss;
            for p in parameters {
                let Some(g) = grads.get(p) else { continue };
                let sum = match total.get(p) {
                    Some(t) => (t + g)?,
                    None => g.clone(),
                };
                total.insert(p, sum);
            }
        }
        Ok((loss, total))
    }

    /// Loss and gradients of the batch's examples `range`, the loss weighted by the range's share
    /// of the batch.
    fn shard(
        &self,
        model: &BasketModel,
        range: std::ops::Range<usize>,
    ) -> candle_core::Result<(f64, GradStore)> {
        let device = Device::Cpu;
        let share = range.len() as f64 / self.carts.len() as f64;
        let input = model.input(
            &self.carts[range.clone()],
            &self.pasts[range.clone()],
            &device,
        )?;
        let loss = match self.sampled {
            None => candle_nn::loss::cross_entropy(
                &model.forward(&input)?,
                &Tensor::new(&self.targets[range], &device)?,
            )?,
            // Sampled softmax: logits of the candidates only, less log Q so the popular items
            // drawn more often are not pushed down more than the full softmax would.
            Some((items, labels, log_q)) => {
                let logits = model
                    .candidate_logits(&input, items)?
                    .broadcast_sub(log_q)?;
                candle_nn::loss::cross_entropy(
                    &logits,
                    &labels.narrow(0, range.start, range.len())?,
                )?
            }
        };
        let loss = (loss * share)?;
        Ok((loss.to_scalar::<f32>()? as f64, loss.backward()?))
    }
}
