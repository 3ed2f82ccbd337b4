//! Training checkpoints: after every epoch, the weights, optimizer moments, best weights so far
//! and the training history go to a folder, so an interrupted `train` resumes where it stopped
//! and ends with exactly the weights an uninterrupted run would have.
//!
//! Layout: `state.json` names the tensor file of the last finished epoch
//! (`epoch-N.safetensors`); both are written to a temporary name and renamed, state last, so
//! a crash mid-write leaves the previous checkpoint intact.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where training stood after an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Settings and data shape the checkpoint belongs to; resuming under others is refused.
    pub fingerprint: String,
    /// Last finished epoch.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: usize,
    pub history: Vec<Epoch>,
    /// Best validation HR@10 and its epoch (its weights are saved under `best/`).
    pub best: Option<(f64, usize)>,
    /// Early stopping ended training; resuming only restores the best weights.
    pub finished: bool,
    /// The tensor file of this state, inside the checkpoint folder.
    pub tensors: String,
}

/// A checkpoint folder.
pub struct Checkpoint {
    dir: PathBuf,
}

use crate::train::error::{At, FileError, TrainError};

/// One epoch's record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epoch {
    pub epoch: usize,
    pub loss: f64,
    pub val_hr10: f64,
}

type Error = TrainError;

/// Tensors by name, as a checkpoint stores them.
pub type Tensors = HashMap<String, Tensor>;

/// The saved tensor `key`, or an error naming it.
pub fn saved<'a>(tensors: &'a Tensors, key: &str) -> candle_core::Result<&'a Tensor> {
    tensors
        .get(key)
        .ok_or_else(|| candle_core::Error::Msg(format!("checkpoint lacks tensor {key}")))
}

impl Checkpoint {
    /// A checkpoint in `dir` (created on the first save).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The saved state and tensors, `None` when the folder holds no checkpoint yet; a
    /// checkpoint of other settings is an error naming both fingerprints.
    pub fn load(&self, fingerprint: &str) -> Result<Option<(State, Tensors)>, Error> {
        let path = self.state_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Err(e).at(|| path.display().to_string())?),
        };
        let state: State = serde_json::from_str(&text)
            .at(|| format!("{}: not a cartwise checkpoint", path.display()))?;
        if state.fingerprint != fingerprint {
            return Err(FileError::Invalid(format!(
                "{}: checkpoint was made with other settings or data ({}); this run is ({}). \
                 Remove the folder or choose another --checkpoint",
                self.dir.display(),
                state.fingerprint,
                fingerprint
            ))
            .into());
        }
        let tensors_path = self.dir.join(&state.tensors);
        let tensors =
            candle_core::safetensors::load(&tensors_path, &Device::Cpu).map_err(|source| {
                TrainError::Tensors {
                    path: tensors_path.display().to_string(),
                    source,
                }
            })?;
        Ok(Some((state, tensors)))
    }

    /// Saves a state with its tensors, then removes older tensor files.
    pub fn save(&self, state: &State, tensors: &Tensors) -> Result<(), Error> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir).at(|| dir.display().to_string())?;
        let final_path = dir.join(&state.tensors);
        let tmp = dir.join(format!("{}.tmp", state.tensors));
        candle_core::safetensors::save(tensors, &tmp).map_err(|source| TrainError::Tensors {
            path: tmp.display().to_string(),
            source,
        })?;
        std::fs::rename(&tmp, &final_path).at(|| final_path.display().to_string())?;
        let state_tmp = dir.join("state.json.tmp");
        let json = serde_json::to_vec_pretty(state).at(|| state_tmp.display().to_string())?;
        std::fs::write(&state_tmp, json).at(|| state_tmp.display().to_string())?;
        std::fs::rename(&state_tmp, self.state_path()).at(|| dir.display().to_string())?;
        for entry in std::fs::read_dir(dir)
            .at(|| dir.display().to_string())?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("epoch-") && name.ends_with(".safetensors") && name != state.tensors
            {
                std::fs::remove_file(entry.path()).at(|| entry.path().display().to_string())?;
            }
        }
        Ok(())
    }
}
