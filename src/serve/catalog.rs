//! The product catalog: ids, titles, categories, prices and costs in minor units.

use std::collections::HashMap;

/// One product as ingested or generated; money in minor units, `None` where unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub category: String,
    pub price: Option<i64>,
    pub cost: Option<i64>,
}

/// The catalog in item-index order, with a lookup from item id to index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    products: Vec<Product>,
    index: HashMap<String, u32>,
}

/// A catalog could not be built because two products share an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate item_id {0:?} in catalog")]
pub struct DuplicateId(pub String);

impl Catalog {
    /// Builds the catalog; item indices follow the order of `products`.
    pub fn new(products: Vec<Product>) -> Result<Self, DuplicateId> {
        let mut index = HashMap::with_capacity(products.len());
        for (i, p) in products.iter().enumerate() {
            if index.insert(p.id.clone(), i as u32).is_some() {
                return Err(DuplicateId(p.id.clone()));
            }
        }
        Ok(Self { products, index })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether the catalog has no items.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// The item index of an id, if the catalog has it.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The product at an item index.
    pub fn get(&self, item: u32) -> &Product {
        &self.products[item as usize]
    }

    /// All products in item-index order.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Every product's title, in catalog order (what the title tokenizer reads).
    pub fn titles(&self) -> Vec<&str> {
        self.products.iter().map(|p| p.title.as_str()).collect()
    }
}
