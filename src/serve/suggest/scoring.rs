//! The basket model's side of a call: the item table the catalog-scoring kernels rank
//! ([`ScoringTable`]) and the query vector a cart asks them with ([`ModelQuery`]).

use super::types::{Query, SuggestError};
use crate::serve::kernel::pq::PqRows;
use crate::serve::kernel::{cpu, gpu, Hit, Int8Rows, ItemTable};
use crate::serve::model::stored::CHUNK_ROWS;
use crate::serve::model::{BasketModel, ModelInput};

/// The basket model's item vectors as the scoring kernels rank them: int8 rows (one scale per
/// row) or product-quantization codes of the items a suggestion may offer, merchant exclusions
/// left out.
pub struct ScoringTable {
    /// The rows, in catalog order of the items they hold.
    pub table: ItemTable,
    /// Row → catalog index.
    pub(super) items: Vec<u32>,
    /// Catalog index → row, `u32::MAX` for an excluded item.
    pub(super) rows: Vec<u32>,
}

impl ScoringTable {
    /// The rows of the items not marked `excluded`: the export's product-quantization codes
    /// when it has them, else the model's item vectors as int8 rows, read from the model a
    /// chunk at a time so the f32 table is never whole in memory.
    pub fn new(
        model: &BasketModel,
        pq: Option<&PqRows>,
        excluded: &[bool],
    ) -> Result<Self, SuggestError> {
        let items: Vec<u32> = (0..model.config.items as u32)
            .filter(|&i| !excluded.get(i as usize).copied().unwrap_or(true))
            .collect();
        let mut rows = vec![u32::MAX; excluded.len()];
        for (row, &i) in items.iter().enumerate() {
            rows[i as usize] = row as u32;
        }
        let table = match pq {
            Some(pq) => {
                let codes = items
                    .iter()
                    .flat_map(|&i| pq.row(i as usize))
                    .copied()
                    .collect();
                ItemTable::pq(PqRows {
                    codebook: pq.codebook.clone(),
                    codes,
                })?
            }
            None => {
                let dim = model.config.dim;
                let mut table = Int8Rows::new(dim, items.len())?;
                for chunk in items.chunks(CHUNK_ROWS) {
                    let vectors = model.item_vectors_of(chunk)?;
                    vectors
                        .chunks_exact(dim)
                        .try_for_each(|row| table.push(row))?;
                }
                table.finish()
            }
        };
        Ok(Self { table, items, rows })
    }

    /// The catalog index of a row.
    pub fn item(&self, row: u32) -> u32 {
        self.items[row as usize]
    }
}

/// What a call asks of the catalog-scoring kernel: the basket model's query vector for the
/// cart and how many of the best rows of [`ScoringTable`] it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelQuery {
    pub vector: Vec<f32>,
    pub k: usize,
}

/// The kernel query a ranking needs: `None` when its blend does not consult the model, there
/// is no model, or the cart (known and unseen items) is empty.
pub fn model_query(
    model: Option<&BasketModel>,
    q: &Query,
) -> Result<Option<ModelQuery>, SuggestError> {
    let weighs_model = q.blend.model != 0.0 || q.blend.model_candidates > 0;
    let Some(model) = model.filter(|_| weighs_model && !(q.cart.is_empty() && q.unseen.is_empty()))
    else {
        return Ok(None);
    };
    let vector = model.query_vector(&ModelInput {
        cart: q.cart,
        history: q.history,
        unseen: q.unseen,
    })?;
    // Cart items may be among the best rows; ask for enough to drop them.
    let k = (q.blend.model_candidates as usize + q.cart.len()).min(gpu::MAX_K);
    Ok(Some(ModelQuery { vector, k }))
}

/// Runs a query on the CPU kernel: the reference every other backend must equal.
pub fn cpu_hits(table: &ScoringTable, query: &ModelQuery) -> Result<Vec<Hit>, SuggestError> {
    Ok(cpu::top_k(&table.table, &query.vector, query.k)?)
}
