//! Products the export has never seen, passed per call with their title, category and price
//! (cold start): the basket model reads their titles, so they can be suggested next to the
//! catalog the export was trained on.
//!
//! A call's new items take the item indices after the catalog's, so every step downstream
//! (ranking, bundles, prices, reasons) handles them by index like any other item; [`Shelf`]
//! answers for both.

use crate::catalog::{Catalog, Product};
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
}

impl Fresh {
    /// Checks the page's new items against the catalog: each needs an id the export does not
    /// have (and no other new item has), a title, and non-negative money.
    pub fn check(items: &[NewItem], catalog: &Catalog) -> Result<Vec<Product>, NewItemError> {
        if items.len() > MAX_NEW_ITEMS {
            return Err(NewItemError::new(
                "newItems",
                format!("{} items; at most {MAX_NEW_ITEMS} per call", items.len()),
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
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
            if let Some(first) = seen.insert(&item.id, n) {
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
            out.push(Product {
                id: item.id.clone(),
                title: item.title.clone(),
                category: item.category.clone(),
                price: item.price,
                cost: item.cost,
            });
        }
        Ok(out)
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
            fresh: &self.products,
        }
    }
}

/// The products one call can name: the export's catalog, then the call's new items.
#[derive(Clone, Copy)]
pub struct Shelf<'a> {
    catalog: &'a Catalog,
    fresh: &'a [Product],
}

impl<'a> Shelf<'a> {
    /// The product at an item index.
    pub fn get(&self, item: u32) -> &'a Product {
        let n = self.catalog.len();
        match (item as usize).checked_sub(n) {
            Some(k) => &self.fresh[k],
            None => self.catalog.get(item),
        }
    }

    /// The item index of an id, catalog first.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.catalog.lookup(id).or_else(|| {
            self.fresh
                .iter()
                .position(|p| p.id == id)
                .map(|k| (self.catalog.len() + k) as u32)
        })
    }

    /// Number of products, new ones included.
    pub fn len(&self) -> usize {
        self.catalog.len() + self.fresh.len()
    }

    /// Whether there are no products at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn the_shelf_puts_new_items_after_the_catalog() {
        let catalog = catalog();
        let fresh = Fresh {
            products: Fresh::check(&[item("n")], &catalog).unwrap(),
            ..Fresh::default()
        };
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
