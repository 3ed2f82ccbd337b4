//! The optimizer's lazy row updates: a step that read some rows of a big table through
//! `StepRows` updates exactly those rows as the dense update would, and no other.

use candle_core::{Device, Tensor, Var};
use cartwise::serve::model::StepRows;
use cartwise::train::model::adamw::AdamW;
use std::collections::HashMap;

const TABLE: &str = "item_id.weight";

/// A [6, 4] table and a [4] vector with fixed, distinct values.
fn weights() -> HashMap<String, Var> {
    let table: Vec<f32> = (0..24)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0)
        .collect();
    let vector: Vec<f32> = vec![0.3, -0.2, 0.5, 0.1];
    HashMap::from([
        (
            TABLE.to_string(),
            Var::from_tensor(&Tensor::from_vec(table, (6, 4), &Device::Cpu).unwrap()).unwrap(),
        ),
        (
            "w".to_string(),
            Var::from_tensor(&Tensor::new(vector.as_slice(), &Device::Cpu).unwrap()).unwrap(),
        ),
    ])
}

/// The loss of rows `rows` [n, 4] read for table rows `ids`: a function of the rows and `w`.
fn loss(rows: &Tensor, w: &Var) -> Tensor {
    rows.broadcast_mul(w.as_tensor())
        .unwrap()
        .sum(1)
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
}

fn values(vars: &HashMap<String, Var>, name: &str) -> Vec<f32> {
    vars[name]
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// A run: its weights and optimizer.
type Run = (HashMap<String, Var>, AdamW);

/// Two steps of each kind; returns the dense run and the lazy run.
fn both(ids: &[u32]) -> (Run, Run) {
    let (dense, lazy) = (weights(), weights());
    let mut dense_opt = AdamW::new(&dense, 0.05, 0.1).unwrap();
    let mut lazy_opt = AdamW::new(&lazy, 0.05, 0.1).unwrap();
    let index = Tensor::new(ids, &Device::Cpu).unwrap();
    for _ in 0..2 {
        let rows = dense[TABLE].as_tensor().index_select(&index, 0).unwrap();
        let grads = loss(&rows, &dense["w"]).backward().unwrap();
        dense_opt.step_with(&grads, &[]).unwrap();
        let touched = StepRows::new(TABLE, lazy[TABLE].as_tensor(), ids.to_vec()).unwrap();
        let l = loss(touched.rows.as_tensor(), &lazy["w"]);
        lazy_opt
            .step_with(&l.backward().unwrap(), &[touched])
            .unwrap();
    }
    ((dense, dense_opt), (lazy, lazy_opt))
}

#[test]
fn a_step_updates_the_rows_it_read_as_the_dense_update_does_and_leaves_the_others() {
    let before = values(&weights(), TABLE);
    let ((dense, _), (lazy, _)) = both(&[1, 4]);
    let (d, l) = (values(&dense, TABLE), values(&lazy, TABLE));
    for row in 0..6 {
        let r = row * 4..row * 4 + 4;
        if [1, 4].contains(&row) {
            assert_eq!(d[r.clone()], l[r.clone()], "read row {row}");
            assert_ne!(l[r.clone()], before[r], "read row {row} moved");
        } else {
            // The dense update decays an unread row; the lazy one leaves it untouched.
            assert_eq!(l[r.clone()], before[r.clone()], "unread row {row}");
            assert_ne!(d[r.clone()], before[r], "dense decays row {row}");
        }
    }
    assert_eq!(values(&dense, "w"), values(&lazy, "w"));
}

#[test]
fn a_step_that_read_every_row_is_the_dense_update() {
    let ((dense, dense_opt), (lazy, lazy_opt)) = both(&[0, 1, 2, 3, 4, 5]);
    assert_eq!(values(&dense, TABLE), values(&lazy, TABLE));
    assert_eq!(values(&dense, "w"), values(&lazy, "w"));
    // The moments too, so a checkpoint of either run resumes the same.
    let (md, ml) = (dense_opt.moments().unwrap(), lazy_opt.moments().unwrap());
    assert_eq!(md.len(), 4);
    for (name, m) in &md {
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(m), flat(&ml[name]), "{name}");
    }
}
