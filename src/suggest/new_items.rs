//! Products the export has never seen, passed per call with their title, category and price
//! (cold start): the basket model reads their titles, so they can be suggested next to the
//! catalog the export was trained on.
//!
//! A call's new items take the item indices after the catalog's, so every step downstream
//! (ranking, bundles, prices, reasons) handles them by index like any other item; [`Shelf`]
//! answers for both. Here too: how the engine scores them (title and category affinity), the
//! known item each one's title reads like, and the places of the `k` held for them.

use super::blend::Features;
use super::{Candidate, Engine, Evidence, ModelQuery, SuggestError};
use crate::catalog::{Catalog, Product};
use crate::kernel::cpu;
use serde::Deserialize;
use std::collections::HashMap;

/// Most new items one call may pass (each is scored on every call).
pub const MAX_NEW_ITEMS: usize = 10_000;

/// A product added to the shop after the export was trained, as the page passes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub id: String,
    pub title: String,
    pub category: String,
    /// Unit price in minor units; an unpriced item is ranked but never bundled.
    #[serde(default)]
    pub price: Option<i64>,
    /// Unit cost in minor units; without it a bundle holding the item is never discounted.
    #[serde(default)]
    pub cost: Option<i64>,
}

/// A new item the engine cannot take, named by its field (`newItems[3].id`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("option {field}: {reason}")]
pub struct NewItemError {
    pub field: String,
    pub reason: String,
}

impl NewItemError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A call's new items, checked, with what the engine knows of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fresh {
    /// The new products; the k-th has item index `catalog.len() + k`.
    pub products: Vec<Product>,
    /// The basket model's vector of each title, when the model could read it.
    pub vectors: Vec<Option<Vec<f32>>>,
    /// Orders a new item is assumed to be in: the median of its category's known items (of
    /// all items when the category is new), so it ranks like a typical item of its kind.
    pub prior_counts: Vec<u32>,
    /// The known item whose title reads most like each suggested new item's, with the cosine
    /// of their title vectors (filled for the items a call may bundle).
    pub look_alike: HashMap<u32, (u32, f32)>,
    /// Position in `products` of each new item's id.
    index: HashMap<String, usize>,
}

impl Fresh {
    /// Checks the page's new items against the catalog: each needs an id the export does not
    /// have (and no other new item has), a title, and non-negative money. Title vectors and
    /// priors are left for the engine to fill.
    pub fn check(items: &[NewItem], catalog: &Catalog) -> Result<Self, NewItemError> {
        if items.len() > MAX_NEW_ITEMS {
            return Err(NewItemError::new(
                "newItems",
                format!("{} items; at most {MAX_NEW_ITEMS} per call", items.len()),
            ));
        }
        let mut index: HashMap<String, usize> = HashMap::with_capacity(items.len());
        let mut products = Vec::with_capacity(items.len());
        for (n, item) in items.iter().enumerate() {
            let field = |name: &str| format!("newItems[{n}].{name}");
            if item.id.is_empty() {
                return Err(NewItemError::new(field("id"), "is empty"));
            }
            if catalog.lookup(&item.id).is_some() {
                return Err(NewItemError::new(
                    field("id"),
                    format!("item {:?} is already in the export's catalog", item.id),
                ));
            }
            if let Some(first) = index.insert(item.id.clone(), n) {
                return Err(NewItemError::new(
                    field("id"),
                    format!("item {:?} is also newItems[{first}]", item.id),
                ));
            }
            if item.title.trim().is_empty() {
                return Err(NewItemError::new(field("title"), "is empty"));
            }
            for (name, value) in [("price", item.price), ("cost", item.cost)] {
                if let Some(v) = value.filter(|&v| v < 0) {
                    return Err(NewItemError::new(field(name), format!("{v} is negative")));
                }
            }
            products.push(Product {
                id: item.id.clone(),
                title: item.title.clone(),
                category: item.category.clone(),
                price: item.price,
                cost: item.cost,
            });
        }
        Ok(Self {
            products,
            index,
            ..Self::default()
        })
    }

    /// The new item with this id, if the call passed one.
    pub fn lookup(&self, id: &str) -> Option<&Product> {
        self.index.get(id).map(|&k| &self.products[k])
    }

    /// Whether an item index is one of the call's new items.
    pub fn is_new(&self, catalog: &Catalog, item: u32) -> bool {
        item as usize >= catalog.len()
    }

    /// The new item at an index past the catalog's.
    fn new_index(&self, catalog: &Catalog, item: u32) -> usize {
        item as usize - catalog.len()
    }

    /// The model's title vector of a new item, if it read one.
    pub fn vector(&self, catalog: &Catalog, item: u32) -> Option<&[f32]> {
        self.vectors[self.new_index(catalog, item)].as_deref()
    }

    /// Orders a new item is assumed to be in (see [`Fresh::prior_counts`]).
    pub fn prior_count(&self, catalog: &Catalog, item: u32) -> u32 {
        self.prior_counts[self.new_index(catalog, item)]
    }

    /// The catalog and the call's new items as one list.
    pub fn shelf<'a>(&'a self, catalog: &'a Catalog) -> Shelf<'a> {
        Shelf {
            catalog,
            fresh: self,
        }
    }
}

/// The products one call can name: the export's catalog, then the call's new items.
#[derive(Clone, Copy)]
pub struct Shelf<'a> {
    catalog: &'a Catalog,
    fresh: &'a Fresh,
}

impl<'a> Shelf<'a> {
    /// The product at an item index.
    pub fn get(&self, item: u32) -> &'a Product {
        let n = self.catalog.len();
        match (item as usize).checked_sub(n) {
            Some(k) => &self.fresh.products[k],
            None => self.catalog.get(item),
        }
    }

    /// The item index of an id, catalog first.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.catalog.lookup(id).or_else(|| {
            self.fresh
                .index
                .get(id)
                .map(|&k| (self.catalog.len() + k) as u32)
        })
    }

    /// Number of products, new ones included.
    pub fn len(&self) -> usize {
        self.catalog.len() + self.fresh.products.len()
    }

    /// Whether there are no products at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most titles [`Engine`] keeps the vectors of before it starts afresh.
const TITLE_CACHE: usize = 4 * MAX_NEW_ITEMS;

impl Engine {
    /// How much the cart's query wants each category: the log of the mean of exp(logit) over
    /// the category's scorable items, i.e. the logit of a typical item of it.
    pub fn category_affinity(
        &self,
        query: &ModelQuery,
    ) -> Result<HashMap<&str, f32>, SuggestError> {
        let Some(table) = &self.scoring else {
            return Ok(HashMap::new());
        };
        let rows: Vec<u32> = (0..table.items.len() as u32).collect();
        let scores = cpu::scores_of(&table.table, &query.vector, &rows)
            .map_err(|e| SuggestError::Model(e.to_string()))?;
        let top = scores.iter().copied().fold(f32::MIN, f32::max);
        // Σ exp(s − top) and the count per category, so no exp overflows.
        let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
        for (row, s) in scores.iter().enumerate() {
            let category = &self.export.catalog.get(table.item(row as u32)).category;
            let e = sums.entry(category.as_str()).or_default();
            e.0 += ((s - top) as f64).exp();
            e.1 += 1.0;
        }
        Ok(sums
            .into_iter()
            .map(|(c, (sum, n))| (c, top + (sum / n).ln() as f32))
            .collect())
    }

    /// The blend's evidence for the call's new items (`cart`: the known cart items): the
    /// model's estimate of each one's logit for the cart (see [`new_item_logit`]) and its
    /// category's typical popularity; nothing else is known of them.
    pub(super) fn new_item_features(
        &self,
        cart: &[u32],
        fresh: &Fresh,
        query: Option<&ModelQuery>,
    ) -> Result<Vec<(Features, Evidence)>, SuggestError> {
        let catalog = &self.export.catalog;
        let assoc = &self.export.assoc;
        let n = self.export.catalog.len();
        let affinity = match query.filter(|_| !fresh.products.is_empty()) {
            Some(q) => self.category_affinity(q)?,
            None => HashMap::new(),
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
                };
                (f, Evidence::New { read })
            })
            .collect())
    }

    /// The export's category-to-category lifts.
    pub fn category_lifts(&self) -> &CategoryLift {
        &self.category_lift
    }

    /// The call's new items, checked, with their title vectors and assumed popularity.
    pub(super) fn fresh(&self, items: &[NewItem]) -> Result<Fresh, SuggestError> {
        let mut fresh = Fresh::check(items, &self.export.catalog)?;
        fresh.vectors = fresh
            .products
            .iter()
            .map(|p| self.read_title(&p.title))
            .collect::<Result<_, _>>()?;
        fresh.prior_counts = fresh
            .products
            .iter()
            .map(|p| self.priors.of(&p.category))
            .collect();
        Ok(fresh)
    }

    /// The basket model's vector of a title it has never seen (see
    /// [`crate::model::BasketModel::title_vector`]), remembered by title across calls; `None`
    /// without a model or when no token of the title is known.
    pub(super) fn read_title(&self, title: &str) -> Result<Option<Vec<f32>>, SuggestError> {
        let Some(model) = &self.model else {
            return Ok(None);
        };
        // A poisoned lock only means another call panicked mid-insert; the map is whole.
        let mut cache = self.title_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(title) {
            return Ok(v.clone());
        }
        let vector = model
            .title_vector(title)
            .and_then(|v| v.map(|v| v.to_vec1::<f32>()).transpose())
            .map_err(|e| SuggestError::Model(e.to_string()))?;
        if cache.len() >= TITLE_CACHE {
            cache.clear();
        }
        cache.insert(title.to_string(), vector.clone());
        Ok(vector)
    }

    /// For each new item among `items` the model read, the known item whose title vector is
    /// closest (cosine), for the "similar title" reason.
    pub(super) fn look_alikes(
        &self,
        fresh: &Fresh,
        items: &[u32],
    ) -> Result<HashMap<u32, (u32, f32)>, SuggestError> {
        let catalog = &self.export.catalog;
        let wanted: Vec<(u32, &[f32])> = items
            .iter()
            .filter(|&&i| fresh.is_new(catalog, i))
            .filter_map(|&i| fresh.vector(catalog, i).map(|v| (i, v)))
            .collect();
        let Some(model) = self.model.as_ref().filter(|_| !wanted.is_empty()) else {
            return Ok(HashMap::new());
        };
        let dim = model.config.dim;
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let titles = match self.title_rows.get() {
            Some(rows) => rows,
            None => {
                let mut rows = model
                    .title_vectors()
                    .map_err(|e| SuggestError::Model(e.to_string()))?;
                for row in rows.chunks_exact_mut(dim) {
                    let n = norm(row);
                    if n > 0.0 {
                        row.iter_mut().for_each(|x| *x /= n);
                    }
                }
                self.title_rows.get_or_init(|| rows)
            }
        };
        Ok(wanted
            .into_iter()
            .filter_map(|(i, v)| {
                let nv = norm(v);
                (nv > 0.0).then_some(())?;
                titles
                    .chunks_exact(dim)
                    .enumerate()
                    .map(|(j, row)| {
                        let dot: f32 = row.iter().zip(v).map(|(a, b)| a * b).sum();
                        (j as u32, dot / nv)
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                    .map(|best| (i, best))
            })
            .collect())
    }
}

/// The basket model's estimate of a new item's logit for a cart: the mean of its title
/// vector's score and its category's affinity (the logit of a typical item of the category),
/// whichever exist, plus the log of its category's lift with the cart's categories when known
/// (the co-purchase evidence the model's view of a new item lacks). On held-out items of the
/// synthetic shop the lift term lifted HR@10 by 27% and 98% on two holdout seeds (BENCHMARKS.md,
/// cold start).
pub fn new_item_logit(title: Option<f32>, category: Option<f32>, lift: Option<f64>) -> Option<f32> {
    let model = match (title, category) {
        (Some(t), Some(c)) => Some(0.5 * (t + c)),
        (one, other) => one.or(other),
    }?;
    Some(model + lift.map_or(0.0, |l| l.ln() as f32))
}

/// How much more often than chance each category is bought with each other one, from the
/// export's kept pairs: what a new item's category says about its fit with a cart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryLift {
    /// Item occurrences (orders × items) per category.
    occurrences: HashMap<String, f64>,
    /// Kept pair counts from items of one category to items of another.
    pairs: HashMap<String, HashMap<String, f64>>,
    orders: f64,
}

impl CategoryLift {
    /// Sums the association table's counts by category.
    pub fn new(catalog: &Catalog, assoc: &crate::assoc::AssocTable) -> Self {
        let mut out = Self {
            orders: assoc.orders.max(1) as f64,
            ..Self::default()
        };
        for i in 0..assoc.items().min(catalog.len()) as u32 {
            let a = &catalog.get(i).category;
            *out.occurrences.entry(a.clone()).or_default() += assoc.item_counts[i as usize] as f64;
            let row = out.pairs.entry(a.clone()).or_default();
            for nb in assoc.row(i) {
                *row.entry(catalog.get(nb.item).category.clone())
                    .or_default() += nb.count as f64;
            }
        }
        out
    }

    /// Lift of `to` given an item of `from`: kept co-purchases of a `to` item per `from` item
    /// over `to` items per order (half a count added to each, so unseen pairs stay finite).
    pub fn lift(&self, from: &str, to: &str) -> f64 {
        let pair = self.pairs.get(from).and_then(|r| r.get(to)).copied();
        let from_n = self.occurrences.get(from).copied().unwrap_or(0.0);
        let to_n = self.occurrences.get(to).copied().unwrap_or(0.0);
        ((pair.unwrap_or(0.0) + 0.5) / (from_n + 1.0)) / ((to_n + 0.5) / self.orders)
    }

    /// The strongest lift of `category` from the cart items' categories, with the category it
    /// comes from; `None` for an empty cart.
    pub fn best<'c>(
        &self,
        catalog: &'c Catalog,
        cart: &[u32],
        category: &str,
    ) -> Option<(f64, &'c str)> {
        cart.iter()
            .map(|&i| catalog.get(i).category.as_str())
            .map(|from| (self.lift(from, category), from))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
    }
}

/// Makes sure at least `places` of the first `k` candidates are `wanted` (when that many are):
/// the best wanted ones from further down replace the weakest unwanted ones of the top `k`,
/// at its end, each taking the displaced one's score (or less, to keep the order) so bundles
/// built from the list keep them too.
pub(super) fn hold_places(
    candidates: &mut Vec<Candidate>,
    k: usize,
    places: usize,
    wanted: impl Fn(&Candidate) -> bool,
) {
    let k = k.min(candidates.len());
    let have = candidates[..k].iter().filter(|c| wanted(c)).count();
    let movers: Vec<usize> = (k..candidates.len())
        .filter(|&i| wanted(&candidates[i]))
        .take(places.saturating_sub(have))
        .collect();
    if movers.is_empty() {
        return;
    }
    let mut out_of_top: Vec<usize> = (0..k).filter(|&i| !wanted(&candidates[i])).collect();
    let displaced = out_of_top.split_off(out_of_top.len().saturating_sub(movers.len()));
    let mut top: Vec<Candidate> = (0..k)
        .filter(|i| !displaced.contains(i))
        .map(|i| candidates[i])
        .collect();
    for (&from, &to) in movers.iter().zip(&displaced) {
        let mut moved = candidates[from];
        let floor = top.last().map_or(f32::INFINITY, |c| c.score);
        moved.score = candidates[to].score.min(floor);
        top.push(moved);
    }
    let rest = displaced
        .iter()
        .chain(
            (k..candidates.len())
                .filter(|i| !movers.contains(i))
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|&i| candidates[i])
        .collect::<Vec<_>>();
    top.extend(rest);
    *candidates = top;
}

/// Median orders per known item, by category and over the whole catalog: the prior a new
/// item's popularity takes (see [`Fresh::prior_counts`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriorCounts {
    by_category: HashMap<String, u32>,
    overall: u32,
}

impl PriorCounts {
    /// Medians of `item_counts` (orders per item, catalog order).
    pub fn new(catalog: &Catalog, item_counts: &[u32]) -> Self {
        let mut groups: HashMap<&str, Vec<u32>> = HashMap::new();
        for (p, &c) in catalog.products().iter().zip(item_counts) {
            groups.entry(p.category.as_str()).or_default().push(c);
        }
        let mut all = item_counts.to_vec();
        Self {
            by_category: groups
                .into_iter()
                .map(|(c, mut counts)| (c.to_string(), median(&mut counts)))
                .collect(),
            overall: median(&mut all),
        }
    }

    /// The prior for an item of `category`.
    pub fn of(&self, category: &str) -> u32 {
        self.by_category
            .get(category)
            .copied()
            .unwrap_or(self.overall)
    }
}

/// The lower median (0 for none).
fn median(values: &mut [u32]) -> u32 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let p = |id: &str, category: &str| Product {
            id: id.into(),
            title: format!("{id} title"),
            category: category.into(),
            price: Some(100),
            cost: Some(50),
        };
        Catalog::new(vec![p("a", "mugs"), p("b", "mugs"), p("c", "tea")]).unwrap()
    }

    fn item(id: &str) -> NewItem {
        NewItem {
            id: id.into(),
            title: "Blue Mug".into(),
            category: "mugs".into(),
            price: Some(500),
            cost: Some(200),
        }
    }

    #[test]
    fn new_items_are_checked_field_by_field() {
        let catalog = catalog();
        let err = |items: &[NewItem]| Fresh::check(items, &catalog).unwrap_err().to_string();
        assert!(err(&[item("a")]).contains("newItems[0].id"));
        assert!(err(&[item("n"), item("n")]).contains("newItems[1].id"));
        assert!(err(&[item("n"), item("")]).contains("newItems[1].id: is empty"));
        let untitled = NewItem {
            title: " ".into(),
            ..item("n")
        };
        assert!(err(&[untitled]).contains("newItems[0].title"));
        let negative = NewItem {
            cost: Some(-1),
            ..item("n")
        };
        assert!(err(&[negative]).contains("newItems[0].cost: -1 is negative"));
        let ok = Fresh::check(&[item("n"), item("m")], &catalog).unwrap();
        assert_eq!(ok.products.len(), 2);
        assert_eq!(ok.lookup("m").map(|p| p.id.as_str()), Some("m"));
    }

    #[test]
    fn the_shelf_puts_new_items_after_the_catalog() {
        let catalog = catalog();
        let fresh = Fresh::check(&[item("n")], &catalog).unwrap();
        let shelf = fresh.shelf(&catalog);
        assert_eq!(shelf.len(), 4);
        assert_eq!(shelf.lookup("n"), Some(3));
        assert_eq!(shelf.get(3).id, "n");
        assert_eq!(shelf.get(1).id, "b");
        assert!(fresh.is_new(&catalog, 3) && !fresh.is_new(&catalog, 2));
    }

    #[test]
    fn a_new_item_is_assumed_as_popular_as_its_categorys_median() {
        let catalog = catalog();
        let prior = PriorCounts::new(&catalog, &[10, 30, 7]);
        assert_eq!(prior.of("mugs"), 10);
        assert_eq!(prior.of("tea"), 7);
        assert_eq!(prior.of("lamps"), 10);
    }

    fn list(wanted: &[u32]) -> Vec<Candidate> {
        (0..10)
            .map(|i| Candidate {
                item: i,
                score: 10.0 - i as f32,
                evidence: if wanted.contains(&i) {
                    Evidence::New { read: true }
                } else {
                    Evidence::Popular
                },
            })
            .collect()
    }

    fn held(wanted: &[u32], k: usize, places: usize) -> Vec<(u32, f32)> {
        let mut c = list(wanted);
        hold_places(&mut c, k, places, |c| {
            matches!(c.evidence, Evidence::New { .. })
        });
        c.iter().map(|c| (c.item, c.score)).collect()
    }

    #[test]
    fn held_places_go_to_the_best_wanted_candidates_from_below() {
        // Two places in the top 4: items 6 and 8 take places 3 and 4 from items 2 and 3.
        let out = held(&[6, 8, 9], 4, 2);
        let ids: Vec<u32> = out.iter().map(|c| c.0).collect();
        assert_eq!(ids, [0, 1, 6, 8, 2, 3, 4, 5, 7, 9]);
        assert_eq!(out[2].1, 8.0);
        assert_eq!(out[3].1, 7.0);
        // A wanted item in the top stays; the one moving up never outscores it.
        let out = held(&[3, 7], 4, 2);
        let ids: Vec<u32> = out.iter().map(|c| c.0).collect();
        assert_eq!(&ids[..5], &[0, 1, 3, 7, 2]);
        assert_eq!(out[3].1, 7.0);
        // Already there: nothing moves.
        assert_eq!(held(&[1, 2], 4, 2), held(&[1, 2], 4, 0));
        // One there, one more needed.
        let ids: Vec<u32> = held(&[1, 7], 4, 2).iter().map(|c| c.0).collect();
        assert_eq!(&ids[..5], &[0, 1, 2, 7, 3]);
        // No places held: nothing moves.
        assert_eq!(
            held(&[6], 4, 0),
            list(&[6])
                .iter()
                .map(|c| (c.item, c.score))
                .collect::<Vec<_>>()
        );
    }
}
