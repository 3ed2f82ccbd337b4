//! How the engine reads products it has never seen: their title vectors (cached across calls),
//! the cart's affinity for each category, each new item's score for the cart, and the known
//! item whose title reads most like a new one's.

use super::new_items::{new_item_logit, CategoryLift, Fresh, NewItem, PriorCounts, MAX_NEW_ITEMS};
use super::scoring::{ModelQuery, ScoringTable};
use super::types::{Evidence, SuggestError};
use crate::serve::blend::Features;
use crate::serve::export::Export;
use crate::serve::kernel::{cpu, Int8Rows, ItemTable};
use crate::serve::model::stored::row_chunks;
use crate::serve::model::BasketModel;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Most titles [`TitleReader`] keeps the vectors of before it starts afresh.
const TITLE_CACHE: usize = 4 * MAX_NEW_ITEMS;

/// What the engine keeps for new items: the export's priors and category lifts, computed at
/// load, and the basket model's title vectors, computed on first need.
pub struct TitleReader {
    /// How popular a new item of a category is assumed to be.
    priors: PriorCounts,
    /// How well a new item's category goes with a cart's.
    pub category_lift: CategoryLift,
    /// Known items' title vectors at unit length, as int8 rows (a quarter of f32): computed when
    /// a new item first needs its look-alike.
    title_rows: OnceLock<ItemTable>,
    /// New items' title vectors by title: a page passes the same new products on every call.
    title_cache: Mutex<HashMap<String, Option<Vec<f32>>>>,
}

impl TitleReader {
    /// The priors and category lifts of an export.
    pub fn new(export: &Export) -> Self {
        Self {
            priors: PriorCounts::new(&export.catalog, &export.assoc.item_counts),
            category_lift: CategoryLift::new(&export.catalog, &export.assoc),
            title_rows: OnceLock::new(),
            title_cache: Mutex::new(HashMap::new()),
        }
    }

    /// The basket model's vector of a title it has never seen (see
    /// [`BasketModel::title_vector`]), remembered by title across calls; `None` without a model
    /// or when no token of the title is known.
    pub fn read(
        &self,
        model: Option<&BasketModel>,
        title: &str,
    ) -> Result<Option<Vec<f32>>, SuggestError> {
        let Some(model) = model else {
            return Ok(None);
        };
        // A poisoned lock only means another call panicked mid-insert; the map is whole.
        let mut cache = self.title_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(title) {
            return Ok(v.clone());
        }
        let vector = model
            .title_vector(title)
            .and_then(|v| v.map(|v| v.to_vec1::<f32>()).transpose())?;
        if cache.len() >= TITLE_CACHE {
            cache.clear();
        }
        cache.insert(title.to_string(), vector.clone());
        Ok(vector)
    }

    /// The call's new items, checked, with their title vectors and assumed popularity.
    pub fn fresh(
        &self,
        model: Option<&BasketModel>,
        export: &Export,
        items: &[NewItem],
    ) -> Result<Fresh, SuggestError> {
        let mut fresh = Fresh::check(items, &export.catalog)?;
        fresh.vectors = fresh
            .products
            .iter()
            .map(|p| self.read(model, &p.title))
            .collect::<Result<_, _>>()?;
        fresh.prior_counts = fresh
            .products
            .iter()
            .map(|p| self.priors.of(&p.category))
            .collect();
        Ok(fresh)
    }

    /// For each new item among `items` the model read, the known item whose title vector is
    /// closest (cosine), for the "similar title" reason.
    pub fn look_alikes(
        &self,
        model: Option<&BasketModel>,
        export: &Export,
        fresh: &Fresh,
        items: &[u32],
    ) -> Result<HashMap<u32, (u32, f32)>, SuggestError> {
        let catalog = &export.catalog;
        let wanted: Vec<(u32, &[f32])> = items
            .iter()
            .filter(|&&i| fresh.is_new(catalog, i))
            .filter_map(|&i| fresh.vector(catalog, i).map(|v| (i, v)))
            .collect();
        let Some(model) = model.filter(|_| !wanted.is_empty()) else {
            return Ok(HashMap::new());
        };
        let titles = match self.title_rows.get() {
            Some(rows) => rows,
            None => {
                let rows = unit_title_rows(model)?;
                self.title_rows.get_or_init(|| rows)
            }
        };
        let mut found = HashMap::new();
        for (i, v) in wanted {
            let nv = norm(v);
            if nv == 0.0 {
                continue;
            }
            // The best dot product with unit rows is the best cosine; ties go to the lower index.
            if let Some(best) = cpu::top_k(titles, v, 1)?.first() {
                found.insert(i, (best.item, best.score / nv));
            }
        }
        Ok(found)
    }

    /// The blend's evidence for the call's new items (`cart`: the known cart items): the
    /// model's estimate of each one's logit for the cart (see [`new_item_logit`]) and its
    /// category's typical popularity; nothing else is known of them.
    pub fn features(
        &self,
        export: &Export,
        table: Option<&ScoringTable>,
        cart: &[u32],
        fresh: &Fresh,
        query: Option<&ModelQuery>,
    ) -> Result<Vec<(Features, Evidence)>, SuggestError> {
        let catalog = &export.catalog;
        let assoc = &export.assoc;
        let n = catalog.len();
        let affinity = match (query, table) {
            (Some(q), Some(table)) if !fresh.products.is_empty() => {
                category_affinity(export, table, q)?
            }
            _ => HashMap::new(),
        };
        Ok((0..fresh.products.len())
            .map(|k| {
                let read = query.is_some() && fresh.vectors[k].is_some();
                let model = query.and_then(|q| {
                    let title = fresh.vectors[k]
                        .as_deref()
                        .map(|v| q.vector.iter().zip(v).map(|(a, b)| a * b).sum::<f32>());
                    let category = fresh.products[k].category.as_str();
                    let lift = self
                        .category_lift
                        .best(catalog, cart, category)
                        .map(|(lift, _)| lift);
                    new_item_logit(title, affinity.get(category).copied(), lift)
                });
                let count = fresh.prior_counts[k] as f32;
                let f = Features {
                    item: (n + k) as u32,
                    assoc: 0.0,
                    ease: 0.0,
                    model: model.unwrap_or(0.0),
                    popularity: ((count + 1.0) / (assoc.orders as f32 + 1.0)).ln(),
                    history: 0.0,
                    repeat: 0.0,
                };
                (f, Evidence::New { read })
            })
            .collect())
    }
}

/// How much the cart's query wants each category: the log of the mean of exp(logit) over the
/// category's scorable items, i.e. the logit of a typical item of it.
pub fn category_affinity<'e>(
    export: &'e Export,
    table: &ScoringTable,
    query: &ModelQuery,
) -> Result<HashMap<&'e str, f32>, SuggestError> {
    let rows: Vec<u32> = (0..table.items.len() as u32).collect();
    let scores = cpu::scores_of(&table.table, &query.vector, &rows)?;
    let top = scores.iter().copied().fold(f32::MIN, f32::max);
    // Σ exp(s − top) and the count per category, so no exp overflows.
    let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
    for (row, s) in scores.iter().enumerate() {
        let category = &export.catalog.get(table.item(row as u32)).category;
        let e = sums.entry(category.as_str()).or_default();
        e.0 += ((s - top) as f64).exp();
        e.1 += 1.0;
    }
    Ok(sums
        .into_iter()
        .map(|(c, (sum, n))| (c, top + (sum / n).ln() as f32))
        .collect())
}

/// Euclidean length of a vector.
fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// Every catalog item's title vector scaled to unit length (zero rows stay zero), as int8 rows
/// the CPU kernel ranks, built a chunk of items at a time.
fn unit_title_rows(model: &BasketModel) -> Result<ItemTable, SuggestError> {
    let (items, dim) = (model.config.items as u32, model.config.dim);
    let mut rows = Int8Rows::new(dim, items as usize)?;
    for chunk in row_chunks(items as usize) {
        let mut vectors = model.title_vectors_of(&chunk)?;
        for row in vectors.chunks_exact_mut(dim) {
            let n = norm(row);
            if n > 0.0 {
                row.iter_mut().for_each(|x| *x /= n);
            }
            rows.push(row)?;
        }
    }
    Ok(rows.finish())
}
