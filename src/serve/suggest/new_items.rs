//! Products the export has never seen, passed per call with their title, category and price
//! (cold start): the call's input type ([`NewItem`], checked into [`Fresh`]) and what the export
//! says about their kind ([`CategoryLift`], [`PriorCounts`]).
//!
//! A call's new items take the item indices after the catalog's, so every step downstream
//! (ranking, bundles, prices, reasons) handles them by index like any other item; [`Shelf`]
//! answers for both. How the basket model reads them lives in [`super::cold_start`].

use crate::serve::assoc::AssocTable;
use crate::serve::catalog::{Catalog, Product};
use crate::serve::money::MAX_AMOUNT;
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
    /// Refused when given: a bundle holding a new item is never discounted, since the export
    /// vouches for no cost of it and the shop's server could not re-derive the price.
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
    pub(super) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
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
            if let Some(v) = item.price.filter(|&v| v < 0) {
                return Err(NewItemError::new(
                    field("price"),
                    format!("{v} is negative"),
                ));
            }
            if let Some(v) = item.price.filter(|&v| v > MAX_AMOUNT) {
                return Err(NewItemError::new(
                    field("price"),
                    format!("{v} is over the largest amount, {MAX_AMOUNT} minor units"),
                ));
            }
            if item.cost.is_some() {
                return Err(NewItemError::new(
                    field("cost"),
                    "new items are never discounted (the export vouches for no cost of theirs, \
                     so the shop's server could not verify a discount); leave cost out",
                ));
            }
            products.push(Product {
                id: item.id.clone(),
                title: item.title.clone(),
                category: item.category.clone(),
                price: item.price,
                cost: None,
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
    pub fn new(catalog: &Catalog, assoc: &AssocTable) -> Self {
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
            cost: None,
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
            price: Some(-1),
            ..item("n")
        };
        assert!(err(&[negative]).contains("newItems[0].price: -1 is negative"));
        // A caller-stated cost would let page script set the margin floor: refused.
        let costed = NewItem {
            cost: Some(0),
            ..item("n")
        };
        assert!(err(&[costed]).contains("newItems[0].cost: new items are never discounted"));
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
}
