//! AdamW with decoupled weight decay (candle-nn's update rule), keeping its moment estimates
//! by parameter name so a checkpoint can save and restore them exactly.
//!
//! Big tables are updated lazily (as TensorFlow's LazyAdam and PyTorch's SparseAdam do): a
//! step that read only some rows through [`StepRows`] updates those rows' weights and
//! moments and leaves the rest as they are, so a step's cost follows the rows it touched,
//! not the catalog. A step that touched every row is exactly the dense update.

use super::checkpoint::{saved, Tensors};
use crate::serve::model::StepRows;
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use std::collections::HashMap;

/// One named parameter with its first and second moment estimates.
struct Slot {
    name: String,
    var: Var,
    m: Var,
    v: Var,
}

/// The optimizer: parameters sorted by name, step count and learning rate.
pub struct AdamW {
    slots: Vec<Slot>,
    /// Optimizer steps taken (bias correction depends on it).
    pub step: usize,
    pub lr: f64,
    pub weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl AdamW {
    /// Optimizes every named variable, with candle-nn's default betas and epsilon.
    pub fn new(vars: &HashMap<String, Var>, lr: f64, weight_decay: f64) -> Result<Self> {
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        let slots = names
            .into_iter()
            .map(|name| {
                let var = vars[name].clone();
                Ok(Slot {
                    name: name.clone(),
                    m: Var::zeros(var.shape(), var.dtype(), var.device())?,
                    v: Var::zeros(var.shape(), var.dtype(), var.device())?,
                    var,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            slots,
            step: 0,
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    /// The tensors whose gradients a step reads: each parameter, or for a big table the step
    /// read through `touched`, those rows' variable.
    pub fn parameters(&self, touched: &[StepRows]) -> Vec<Tensor> {
        self.slots
            .iter()
            .map(|s| match touched.iter().find(|t| t.table == s.name) {
                Some(t) => t.rows.as_tensor().clone(),
                None => s.var.as_tensor().clone(),
            })
            .collect()
    }

    /// Applies one update from gradients already computed (e.g. summed over shards of the
    /// batch), keyed as [`AdamW::parameters`] names them; `touched` are the big tables' rows the
    /// step read through their own variables, whose rows alone are updated.
    pub fn step_with(&mut self, grads: &GradStore, touched: &[StepRows]) -> Result<()> {
        self.step += 1;
        for s in &self.slots {
            match touched.iter().find(|t| t.table == s.name) {
                Some(t) => {
                    let Some(g) = grads.get(&t.rows) else {
                        continue;
                    };
                    let old = |var: &Var| var.as_tensor().index_select(&t.ids, 0);
                    let [theta, m, v] = self.update(g, &old(&s.var)?, &old(&s.m)?, &old(&s.v)?)?;
                    let at = t.ids.unsqueeze(1)?.broadcast_as(g.shape())?.contiguous()?;
                    s.var.scatter_set(&at, &theta, 0)?;
                    s.m.scatter_set(&at, &m, 0)?;
                    s.v.scatter_set(&at, &v, 0)?;
                }
                None => {
                    let Some(g) = grads.get(&s.var) else { continue };
                    let [theta, m, v] = self.update(g, &s.var, &s.m, &s.v)?;
                    s.var.set(&theta)?;
                    s.m.set(&m)?;
                    s.v.set(&v)?;
                }
            }
        }
        Ok(())
    }

    /// One AdamW update of weights `theta` with moments `m`, `v` by gradient `g`: the new
    /// weights and moments.
    fn update(&self, g: &Tensor, theta: &Tensor, m: &Tensor, v: &Tensor) -> Result<[Tensor; 3]> {
        let (b1, b2) = (self.beta1, self.beta2);
        let scale_m = 1.0 / (1.0 - b1.powi(self.step as i32));
        let scale_v = 1.0 / (1.0 - b2.powi(self.step as i32));
        let m = ((m * b1)? + (g * (1.0 - b1))?)?;
        let v = ((v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
        let update = ((&m * scale_m)? / ((&v * scale_v)?.sqrt()? + self.eps)?)?;
        let theta = (theta * (1.0 - self.lr * self.weight_decay))?;
        Ok([(theta - (update * self.lr)?)?, m, v])
    }

    /// The moment estimates as `m/<name>` and `v/<name>` tensors, for a checkpoint.
    pub fn moments(&self) -> Result<Tensors> {
        let mut out = HashMap::new();
        for s in &self.slots {
            out.insert(format!("m/{}", s.name), s.m.as_tensor().copy()?);
            out.insert(format!("v/{}", s.name), s.v.as_tensor().copy()?);
        }
        Ok(out)
    }

    /// Restores moment estimates saved by [`AdamW::moments`].
    pub fn restore_moments(&mut self, tensors: &Tensors) -> Result<()> {
        for s in &self.slots {
            for (prefix, var) in [("m", &s.m), ("v", &s.v)] {
                var.set(saved(tensors, &format!("{prefix}/{}", s.name))?)?;
            }
        }
        Ok(())
    }
}
