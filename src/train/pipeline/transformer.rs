//! The transformer's stage of `train`: fitting it within the time budget (its share when a
//! refit follows), and shipping it as the export stores it (quantized, item vectors as codes).

use super::{TrainConfig, BUDGET_RESERVE};
use crate::serve::catalog::Catalog;
use crate::serve::kernel::pq::PqRows;
use crate::serve::model::{ModelExport, ITEM_ID_TABLE};
use crate::train::error::TrainError;
use crate::train::model::fit::{
    fit, negatives_for, pq_subspaces_for, FitConfig, FitProgress, Fitted, Stopped,
    FULL_SOFTMAX_MAX_ITEMS,
};
use crate::train::pq;
use crate::train::protocol::TestCart;
use crate::train::Progress;
use std::sync::Arc;
use std::time::Instant;

/// The fitted transformer as the export stores it: its weights (quantized when asked) and,
/// when `fit` (or the catalog's size) asks for product quantization, its item vectors as codes
/// in place of the id table, learned on the training graph's own f32 vectors.
pub(super) fn ship_model(
    catalog: &Catalog,
    fitted: &Fitted,
    fit: &FitConfig,
    seed: u64,
    stage: &mut impl FnMut(Progress),
) -> Result<(ModelExport, Option<Arc<PqRows>>), TrainError> {
    let export = fitted.to_export(fit.quantize)?;
    let dim = export.config.dim;
    let subspaces = fit
        .pq
        .unwrap_or_else(|| pq_subspaces_for(catalog.len(), dim));
    if subspaces == 0 {
        return Ok((export, None));
    }
    stage(Progress::Step(format!(
        "product-quantizing the item vectors ({subspaces} subspaces)"
    )));
    let rows = pq::quantize(&fitted.model.item_vectors()?, dim, subspaces, seed)?;
    let ids: usize = export
        .tensors
        .iter()
        .filter(|t| t.name == ITEM_ID_TABLE)
        .map(|t| t.bytes.len())
        .sum();
    stage(Progress::Record(format!(
        "item vectors: {subspaces}-byte product-quantization codes per item ({} KiB with the codebook) in place of the id table ({} KiB)",
        (rows.codes.len() + rows.codebook.centroids.len() * 4) / 1024,
        ids / 1024
    )));
    let export = export
        .with_coded_items()
        .map_err(crate::serve::suggest::SuggestError::from)?;
    Ok((export, Some(Arc::new(rows))))
}

/// Fits the transformer, telling `stage` each epoch's loss and, when there are validation
/// carts, its validation HR@10 (without them it is the refit on all orders); also returns the
/// slowest epoch's step seconds.
pub(super) fn fit_transformer(
    catalog: &Catalog,
    baskets: &[Vec<u32>],
    histories: &[Vec<u32>],
    validation: &[TestCart],
    fit_config: &FitConfig,
    checkpoint: Option<&std::path::Path>,
    stage: &mut impl FnMut(Progress),
) -> Result<(Fitted, f64), TrainError> {
    let items = catalog.len();
    stage(Progress::Record(
        match fit_config.negatives.unwrap_or_else(|| negatives_for(items)) {
            0 => format!("transformer: full softmax over the {items} items"),
            n => format!(
                "transformer: sampled softmax, the batch's targets and {n} items drawn by popularity per step{}",
                match fit_config.negatives {
                    None => format!(" (the catalog's {items} items are more than {FULL_SOFTMAX_MAX_ITEMS})"),
                    Some(_) => String::new(),
                }
            ),
        },
    ));
    // The slowest epoch's steps, without validation: what an epoch of a refit costs.
    let mut step_seconds: f64 = 0.0;
    let fitted = fit(
        catalog,
        baskets,
        histories,
        validation,
        fit_config,
        checkpoint,
        |p| {
            if let FitProgress::Epoch { train_seconds, .. } = p {
                step_seconds = step_seconds.max(train_seconds);
            }
            stage(match p {
                FitProgress::Resumed { epoch } => Progress::Record(format!(
                    "transformer: resuming after epoch {epoch} from the checkpoint"
                )),
                FitProgress::Steps { epoch, done, of } => Progress::Step(format!(
                    "transformer {}epoch {epoch}: {done} of {of} steps",
                    if validation.is_empty() { "refit " } else { "" }
                )),
                FitProgress::Epoch {
                    record: e,
                    examples_per_second: speed,
                    ..
                } if validation.is_empty() => Progress::Record(format!(
                    "transformer refit epoch {}: loss {:.4}, {speed:.0} examples/s",
                    e.epoch, e.loss
                )),
                FitProgress::Epoch {
                    record: e,
                    examples_per_second: speed,
                    ..
                } => Progress::Record(format!(
                    "transformer epoch {}: loss {:.4}, validation HR@10 {:.4}, {speed:.0} examples/s",
                    e.epoch, e.loss, e.val_hr10
                )),
            });
            std::ops::ControlFlow::Continue(())
        },
    )?;
    Ok((fitted, step_seconds))
}

/// The instant a time budget ending at `end` leaves for training from now: all but
/// [`BUDGET_RESERVE`] of what is left.
pub(super) fn budget_end(end: Instant) -> Instant {
    let now = Instant::now();
    now + end
        .saturating_duration_since(now)
        .mul_f64(1.0 - BUDGET_RESERVE)
}

/// The transformer as trained on the validation split, and the seconds its slowest epoch's
/// steps took (without validation; a refit validates nothing).
pub(super) struct Trained {
    pub(super) fitted: Fitted,
    pub(super) step_seconds: f64,
}

/// Fits the transformer on the training baskets, within the time budget when there is one (its
/// share, by baskets, when a refit is to follow), saying why it stopped; `None` when the budget leaves too
/// little for its first epoch and the validation passes after it, or nothing at all.
pub(super) fn fit_within_budget(
    catalog: &Catalog,
    baskets: &[Vec<u32>],
    histories: &[Vec<u32>],
    validation: &[TestCart],
    fit_config: &FitConfig,
    config: &TrainConfig,
    stage: &mut impl FnMut(Progress),
) -> Result<Option<Trained>, TrainError> {
    let now = Instant::now();
    let deadline = match config.deadline {
        // A large catalog's association tables and EASE can take the whole budget; even
        // probing an epoch would only add to the overrun.
        Some(end) if end <= now => {
            let over = now.saturating_duration_since(end).as_secs_f64();
            stage(Progress::Record(format!(
                "transformer: left out, the association tables and EASE used the whole time budget (over by {over:.0} s; a larger --time-budget trains it; --fast skips it)"
            )));
            return Ok(None);
        }
        Some(end) => {
            let train_end = budget_end(end);
            // A refit trains as many epochs on all orders, a ninth more baskets than the fit's.
            let refit_share = 1.0 / (1.0 - crate::train::protocol::VALIDATION_SHARE);
            let share = train_end
                .saturating_duration_since(now)
                .div_f64(if config.refit { 1.0 + refit_share } else { 1.0 });
            stage(Progress::Record(format!(
                "time budget: {:.0} s left; the transformer trains for the epochs that end within {:.0} s less {:.1} validation passes' time for the blend{}",
                end.saturating_duration_since(now).as_secs_f64(),
                share.as_secs_f64(),
                fit_config.reserve_validations,
                if config.refit {
                    " (its share: the refit on all orders gets the rest)"
                } else {
                    ""
                }
            )));
            Some(now + share)
        }
        None => None,
    };
    let (fitted, step_seconds) = match fit_transformer(
        catalog,
        baskets,
        histories,
        validation,
        &FitConfig {
            deadline,
            ..*fit_config
        },
        config.checkpoint.as_deref(),
        stage,
    ) {
        Err(e @ TrainError::OverBudget { .. }) => {
            stage(Progress::Record(format!(
                "transformer: left out, {e} (a larger --time-budget trains it; --fast skips it)"
            )));
            return Ok(None);
        }
        fitted => fitted?,
    };
    let trained = fitted.history.len();
    let best = fitted.best_epoch;
    stage(Progress::Record(match fitted.stopped {
        Stopped::Deadline => format!(
            "transformer: stopped by the time budget after {trained} epochs (the last one cut short or not begun to end in time); best epoch {best}"
        ),
        Stopped::Converged => format!(
            "transformer: converged after {trained} epochs (no validation gain in {}); best epoch {best}",
            fit_config.patience
        ),
        Stopped::Epochs | Stopped::Caller => {
            format!("transformer: trained {trained} epochs; best epoch {best}")
        }
    }));
    Ok(Some(Trained {
        step_seconds,
        fitted,
    }))
}
