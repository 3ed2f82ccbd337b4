//! The product catalog: ids, titles, categories, prices and costs in minor units of the shop's
//! currency, and the margin bands an export states costs in (a public file must not reveal exact margins).

use crate::serve::money::Currency;
use std::collections::HashMap;

/// Default width of the margin bands an export states costs in: 5 percentage points.
pub const DEFAULT_MARGIN_BAND_BP: u32 = 500;

/// The cost an export states for a product: the highest cost its margin band allows. The
/// margin (price − cost) / price, in basis points rounded down, is banded down to a multiple of
/// `width_bp`, and the stated cost is ceil(price × (1 − band edge)): never below the true cost,
/// so a margin floor kept against it holds for the true cost, and from price and stated cost a
/// reader learns the margin only to within the band. A product without a positive price and
/// margin states no cost (`None`: a bundle holding it is never discounted), as understating
/// it would let a bundle's other items pay for a discount below its floor.
pub fn banded_cost(price: Option<i64>, cost: Option<i64>, width_bp: u32) -> Option<i64> {
    let (price, cost) = (price? as i128, cost? as i128);
    if price <= 0 || cost >= price {
        return None;
    }
    let margin_bp = ((price - cost.max(0)) * 10_000 / price).min(10_000);
    let edge = margin_bp - margin_bp % width_bp.max(1) as i128;
    Some((price - price * edge / 10_000) as i64)
}

/// Product images and pages, parallel to the catalog (empty where a product has none), so a
/// bundle can look like the shop's own product cards. Only `https://`, `http://` and
/// site-relative (`/…`) links are kept: anything else could run script in the shop's page.
#[derive(Debug, Clone, Default, Eq)]
pub struct ProductLinks {
    pub image: Vec<String>,
    pub url: Vec<String>,
}

/// Links are equal when they give every item the same image and page: a catalog without any
/// link is one value, however many empty entries it holds (the export stores none of them).
impl PartialEq for ProductLinks {
    fn eq(&self, other: &Self) -> bool {
        (self.is_empty() && other.is_empty())
            || (self.image == other.image && self.url == other.url)
    }
}

impl ProductLinks {
    /// Whether no product has a link.
    pub fn is_empty(&self) -> bool {
        self.image.iter().chain(&self.url).all(String::is_empty)
    }

    /// An item's image and page, where it has them.
    pub fn get(&self, item: u32) -> (Option<&str>, Option<&str>) {
        fn at(v: &[String], item: u32) -> Option<&str> {
            v.get(item as usize)
                .map(String::as_str)
                .filter(|s| !s.is_empty())
        }
        (at(&self.image, item), at(&self.url, item))
    }
}

/// Whether a link may be shown in the shop's page: `https://`, `http://` or site-relative.
pub fn safe_link(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || link.starts_with('/'))
        && !link.starts_with("//")
        && !link.chars().any(|c| c.is_control() || c == ' ')
}

/// One product as ingested or generated; money in minor units, `None` where unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub category: String,
    pub price: Option<i64>,
    pub cost: Option<i64>,
}

/// The catalog in item-index order, with a lookup from item id to index, and the currency its
/// amounts are in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    products: Vec<Product>,
    index: HashMap<String, u32>,
    currency: Currency,
}

/// A catalog could not be built because two products share an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate item_id {0:?} in catalog")]
pub struct DuplicateId(pub String);

impl Catalog {
    /// Builds the catalog, priced in US dollars until [`Catalog::in_currency`] says otherwise;
    /// item indices follow the order of `products`.
    pub fn new(products: Vec<Product>) -> Result<Self, DuplicateId> {
        let mut index = HashMap::with_capacity(products.len());
        for (i, p) in products.iter().enumerate() {
            if index.insert(p.id.clone(), i as u32).is_some() {
                return Err(DuplicateId(p.id.clone()));
            }
        }
        Ok(Self {
            products,
            index,
            currency: Currency::default(),
        })
    }

    /// This catalog with its amounts read as minor units of `currency`.
    pub fn in_currency(self, currency: Currency) -> Self {
        Self { currency, ..self }
    }

    /// The currency every price and cost is in.
    pub fn currency(&self) -> &Currency {
        &self.currency
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

    /// This catalog with every cost replaced by its margin band's [`banded_cost`]: what an
    /// export stores.
    pub fn with_banded_costs(&self, width_bp: u32) -> Self {
        let products = self
            .products
            .iter()
            .map(|p| Product {
                cost: banded_cost(p.price, p.cost, width_bp),
                ..p.clone()
            })
            .collect();
        Self {
            products,
            index: self.index.clone(),
            currency: self.currency.clone(),
        }
    }

    /// Every product's title, in catalog order (what the title tokenizer reads).
    pub fn titles(&self) -> Vec<&str> {
        self.products.iter().map(|p| p.title.as_str()).collect()
    }
}
