//! The built-in synthetic shop: a seeded catalog and order log with planted structure that tests
//! can check is recovered.
//!
//! Planted structure (see also README "The synthetic shop"):
//! - **Complement groups**: 12 themed groups (espresso machine + beans + descaler + …) and 28
//!   generated ones (fewer in shops under ~1,000 items), 6 items each. A quarter of orders start from one member and add each
//!   partner with probability 0.45, so partners co-occur far above chance.
//! - **Seasonal items**: 30 items in 5 seasons (Christmas: Nov–Dec, summer: Jun–Aug, spring
//!   garden: Mar–May, back to school: Aug–Sep, Halloween: Oct), bought mostly in their months.
//! - **Tastes and popularity**: customers favour three categories; within a category item
//!   popularity is Zipf-like (weight 1 / rank^1.07).
//! - **Bulk orders**: about 1 in 2,000 orders is a 150-item bulk order, to exercise the cap.
//! - **Price sensitivity**: every item is on promotion in about one week in five, at 5–30% off
//!   (order lines carry the promoted `unit_price`); a planted partner is added with probability
//!   σ(logit 0.45 + β·d) at discount fraction d, β planted per category from 1 to 12.

use crate::serve::catalog::{Catalog, Product};
use crate::serve::money::Currency;
use crate::train::error::{At, FileError};
use crate::train::ingest::{Order, OrderLog};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

mod tables;
use tables::{
    BRANDS, CATEGORIES, GENERATED_GROUPS, PRICE_SENSITIVITY, SEASONS, STYLES, THEMED_GROUPS,
    VARIANTS,
};

/// Size and shape of the generated shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthConfig {
    pub seed: u64,
    pub items: usize,
    pub customers: usize,
    pub orders: usize,
}

/// Fewest items a shop can have: planted items plus six regular items per category.
pub const MIN_ITEMS: usize = 72 + 30 + 6 * 20;

impl SynthConfig {
    /// Checks the shop is large enough for its planted structure.
    pub fn validate(&self) -> Result<(), String> {
        if self.items < MIN_ITEMS {
            return Err(format!(
                "items: {} is fewer than the {MIN_ITEMS} the planted structure needs",
                self.items
            ));
        }
        if self.customers == 0 || self.orders == 0 {
            return Err("customers and orders must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            items: 2_000,
            customers: 6_000,
            orders: 50_000,
        }
    }
}

/// One generated order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthLine {
    pub item: u32,
    pub quantity: u32,
    /// Price paid per unit in minor units: the list price less that week's promotion.
    pub unit_price: i64,
    /// That week's promotion on the item, in percent off its list price (0: none).
    pub promotion: u8,
}

/// One generated order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOrder {
    pub id: String,
    pub customer: String,
    pub time: DateTime<Utc>,
    pub lines: Vec<SynthLine>,
}

/// A planted complement group: every member's planted partners are the other five.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantedGroup {
    pub name: String,
    pub items: Vec<String>,
}

/// A planted seasonal item and the months (1..=12) it peaks in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantedSeason {
    pub item: String,
    pub season: String,
    pub months: Vec<u8>,
}

/// The planted price response: how a promotion raises the odds a partner is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantedPricing {
    /// Chance a partner is added at list price.
    pub partner_probability: f64,
    /// Share of (item, week) pairs on promotion.
    pub promo_week_share: f64,
    /// Promotion depths, in percent off the list price.
    pub promo_percents: Vec<u32>,
    /// β per category: a partner at discount fraction d is added with odds × exp(β·d).
    pub sensitivity: std::collections::BTreeMap<String, f64>,
}

/// What was planted, written as `planted.json` beside the CSVs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planted {
    pub groups: Vec<PlantedGroup>,
    pub seasonal: Vec<PlantedSeason>,
    pub pricing: PlantedPricing,
}

impl PlantedPricing {
    /// The planted curve as an acceptance curve: what judges pricing policies on this shop.
    pub fn acceptance(&self) -> crate::serve::pricing::Acceptance {
        let mut truth = crate::serve::pricing::Acceptance::default();
        for (category, &sensitivity) in &self.sensitivity {
            truth.categories.insert(
                category.clone(),
                crate::serve::pricing::acceptance::CategoryCurve {
                    sensitivity,
                    discounted_trials: 0,
                },
            );
        }
        truth
    }
}

/// Reads a synthetic shop's `planted.json`.
pub fn read_planted(path: &Path) -> Result<Planted, FileError> {
    let text = std::fs::read_to_string(path).at(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .at(|| format!("{}: not a synthetic shop's planted.json", path.display()))
}

/// The generated shop.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    pub products: Vec<Product>,
    pub orders: Vec<SynthOrder>,
    pub planted: Planted,
    /// The currency its amounts are in (US dollars as generated; see [`Shop::in_currency`]).
    pub currency: Currency,
}

const GROUP_ORDER_SHARE: f64 = 0.25;
const PARTNER_PROBABILITY: f64 = 0.45;
const SEASONAL_ORDER_SHARE: f64 = 0.12;
const BULK_ORDER_SHARE: f64 = 0.0005;
const BULK_ORDER_ITEMS: usize = 150;
const PROMO_WEEK_SHARE: f64 = 0.2;
const PROMO_PERCENTS: [u32; 6] = [5, 10, 15, 20, 25, 30];

/// The planted β of a category.
fn sensitivity(category: &str) -> f64 {
    PRICE_SENSITIVITY
        .iter()
        .find(|(c, _)| *c == category)
        .map_or(5.0, |&(_, b)| b)
}

/// The promotion on `item` in `week` (percent off, 0 for none): a hash of the seed, so the
/// calendar draws nothing from the order stream.
fn promo_percent(seed: u64, item: u32, week: i64) -> u32 {
    let mut h = seed ^ (u64::from(item) << 32) ^ (week as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64's finalizer
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    if (h % 10_000) as f64 >= PROMO_WEEK_SHARE * 10_000.0 {
        return 0;
    }
    PROMO_PERCENTS[((h >> 32) % PROMO_PERCENTS.len() as u64) as usize]
}

/// The logistic function.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Appends a product with the next SKU id and a cost of 45–75% of its price; returns its index.
fn add_product(
    products: &mut Vec<Product>,
    title: String,
    category: &str,
    price: u32,
    rng: &mut ChaCha8Rng,
) -> u32 {
    products.push(Product {
        id: format!("SKU{:05}", products.len() + 1),
        title,
        category: category.to_string(),
        price: Some(price as i64),
        cost: Some((price as f64 * rng.random_range(0.45..0.75)).round() as i64),
    });
    products.len() as u32 - 1
}

/// Generates the shop for a config; the same config always gives the same shop.
///
/// Panics if the config fails [`SynthConfig::validate`].
pub fn generate(config: &SynthConfig) -> Shop {
    if let Err(e) = config.validate() {
        panic!("synthetic shop config: {e}");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut products: Vec<Product> = Vec::with_capacity(config.items);
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    for (name, members) in THEMED_GROUPS {
        let items = members
            .iter()
            .map(|&(t, c, p)| add_product(&mut products, t.to_string(), c, p, &mut rng))
            .collect();
        groups.push((name.to_string(), items));
    }
    let mut seasonal: Vec<(u32, &str, &[u8])> = Vec::new();
    for &(season, months, members) in SEASONS {
        for &(t, c, p) in &members {
            seasonal.push((
                add_product(&mut products, t.to_string(), c, p, &mut rng),
                season,
                months,
            ));
        }
    }
    // Regular catalog: round-robin over categories so each has a Zipf ranking of its own.
    let mut by_category: Vec<Vec<u32>> = vec![Vec::new(); CATEGORIES.len()];
    let mut k = 0usize;
    while products.len() < config.items {
        let c = k % CATEGORIES.len();
        let (category, (lo, hi), nouns) = CATEGORIES[c];
        let title = format!(
            "{} {} {}{}",
            BRANDS.choose(&mut rng).expect("non-empty"),
            STYLES.choose(&mut rng).expect("non-empty"),
            nouns.choose(&mut rng).expect("non-empty"),
            VARIANTS.choose(&mut rng).expect("non-empty")
        );
        let price = rng.random_range(lo..=hi) * 100 + 99;
        let item = add_product(&mut products, title, category, price, &mut rng);
        by_category[c].push(item);
        k += 1;
    }
    // Generated complement groups: six regular items from three categories, taken out of the
    // Zipf tail so they are not bestsellers by accident.
    let mut tails: Vec<Vec<u32>> = by_category
        .iter()
        .map(|list| list[list.len() / 3..].to_vec())
        .collect();
    for g in 0..GENERATED_GROUPS {
        let cats: Vec<usize> = (0..3).map(|c| (g * 3 + c) % CATEGORIES.len()).collect();
        if cats.iter().any(|&c| tails[c].len() < 2) {
            break; // small shops get fewer generated groups
        }
        let mut items = Vec::new();
        for c in cats {
            let tail = &mut tails[c];
            for _ in 0..2 {
                items.push(tail.swap_remove(rng.random_range(0..tail.len())));
            }
        }
        groups.push((format!("generated {}", g + 1), items));
    }
    let zipf: Vec<WeightedIndex<f64>> = by_category
        .iter()
        .map(|list| {
            WeightedIndex::new((0..list.len()).map(|r| 1.0 / ((r + 1) as f64).powf(1.07)))
                .expect("weights")
        })
        .collect();
    let tastes: Vec<[usize; 3]> = (0..config.customers)
        .map(|_| {
            let mut t = [0usize; 3];
            for slot in 0..3 {
                t[slot] = loop {
                    let c = rng.random_range(0..CATEGORIES.len());
                    if !t[..slot].contains(&c) {
                        break c;
                    }
                };
            }
            t
        })
        .collect();
    let taste_weights = WeightedIndex::new([0.5, 0.3, 0.2]).expect("weights");
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let span_seconds = 731 * 24 * 3600;
    let mut orders = Vec::with_capacity(config.orders);
    for o in 0..config.orders {
        let customer = rng.random_range(0..config.customers);
        // Mild holiday peak in overall traffic: accept Nov/Dec draws more often.
        let time = loop {
            let t = start + Duration::seconds(rng.random_range(0..span_seconds));
            let weight = if t.month() >= 11 { 1.0 } else { 0.7 };
            if rng.random_bool(weight) {
                break t;
            }
        };
        let month = time.month() as u8;
        let week = (time - start).num_days() / 7;
        let mut items: Vec<u32> = Vec::new();
        if rng.random_bool(BULK_ORDER_SHARE) {
            while items.len() < BULK_ORDER_ITEMS {
                let pick = rng.random_range(0..products.len() as u32);
                if !items.contains(&pick) {
                    items.push(pick);
                }
            }
        } else {
            if rng.random_bool(GROUP_ORDER_SHARE) {
                let (_, members) = groups.choose(&mut rng).expect("groups");
                let anchor = *members.choose(&mut rng).expect("members");
                items.push(anchor);
                for &m in members {
                    let d = promo_percent(config.seed, m, week) as f64 / 100.0;
                    let base = (PARTNER_PROBABILITY / (1.0 - PARTNER_PROBABILITY)).ln();
                    let p = sigmoid(base + sensitivity(&products[m as usize].category) * d);
                    if m != anchor && rng.random_bool(p) {
                        items.push(m);
                    }
                }
            }
            if rng.random_bool(SEASONAL_ORDER_SHARE) {
                let in_season: Vec<u32> = seasonal
                    .iter()
                    .filter(|(_, _, months)| months.contains(&month))
                    .map(|&(i, _, _)| i)
                    .collect();
                if let Some(&pick) = in_season.choose(&mut rng) {
                    items.push(pick);
                }
            }
            let fill = 1 + (rng.random::<f64>().ln() / 0.5f64.ln()).floor().min(10.0) as usize;
            for _ in 0..fill {
                let c = if rng.random_bool(0.9) {
                    tastes[customer][taste_weights.sample(&mut rng)]
                } else {
                    rng.random_range(0..CATEGORIES.len())
                };
                let pick = by_category[c][zipf[c].sample(&mut rng)];
                if !items.contains(&pick) {
                    items.push(pick);
                }
            }
        }
        let lines = items
            .into_iter()
            .map(|item| {
                let list = products[item as usize]
                    .price
                    .expect("synthetic items are priced");
                let off = promo_percent(config.seed, item, week) as i64;
                SynthLine {
                    item,
                    quantity: *[1, 1, 1, 1, 1, 1, 1, 1, 2, 3].choose(&mut rng).expect("q"),
                    unit_price: promoted(list, off as u8),
                    promotion: off as u8,
                }
            })
            .collect();
        orders.push(SynthOrder {
            id: format!("O{:06}", o + 1),
            customer: format!("C{:05}", customer + 1),
            time,
            lines,
        });
    }
    orders.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
    let planted = Planted {
        groups: groups
            .iter()
            .map(|(name, items)| PlantedGroup {
                name: name.clone(),
                items: items
                    .iter()
                    .map(|&i| products[i as usize].id.clone())
                    .collect(),
            })
            .collect(),
        seasonal: seasonal
            .iter()
            .map(|&(i, season, months)| PlantedSeason {
                item: products[i as usize].id.clone(),
                season: season.to_string(),
                months: months.to_vec(),
            })
            .collect(),
        pricing: PlantedPricing {
            partner_probability: PARTNER_PROBABILITY,
            promo_week_share: PROMO_WEEK_SHARE,
            promo_percents: PROMO_PERCENTS.to_vec(),
            sensitivity: PRICE_SENSITIVITY
                .iter()
                .map(|&(c, b)| (c.to_string(), b))
                .collect(),
        },
    };
    Shop {
        products,
        orders,
        planted,
        currency: Currency::default(),
    }
}

/// A list price less a promotion of `percent`, rounded half up to the minor unit.
fn promoted(list: i64, percent: u8) -> i64 {
    (list * (100 - percent as i64) + 50) / 100
}

impl Shop {
    /// The same shop priced in another currency, at `rate` of its major units per US dollar
    /// (150 for JPY, 0.31 for KWD): every list price and cost converted and rounded to the
    /// currency's minor unit (at least 1), and every order line's price re-derived from its
    /// converted list price and that week's promotion, as the shop's till would.
    pub fn in_currency(&self, currency: Currency, rate: f64) -> Result<Shop, String> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!("rate {rate} is not a positive number"));
        }
        let from_cents = rate * currency.unit() as f64 / Currency::default().unit() as f64;
        let convert = |v: i64| ((v as f64 * from_cents).round() as i64).max(1);
        let products: Vec<Product> = self
            .products
            .iter()
            .map(|p| Product {
                price: p.price.map(convert),
                cost: p.cost.map(convert),
                ..p.clone()
            })
            .collect();
        let orders = self
            .orders
            .iter()
            .map(|o| SynthOrder {
                lines: o
                    .lines
                    .iter()
                    .map(|l| {
                        let list = products[l.item as usize]
                            .price
                            .expect("synthetic items are priced");
                        SynthLine {
                            unit_price: promoted(list, l.promotion),
                            ..l.clone()
                        }
                    })
                    .collect(),
                ..o.clone()
            })
            .collect();
        Ok(Shop {
            products,
            orders,
            planted: self.planted.clone(),
            currency,
        })
    }

    /// The shop as ingest would read it: catalog and order log, without a CSV round trip.
    pub fn to_log(&self) -> (Catalog, OrderLog) {
        let orders: Vec<Order> = self
            .orders
            .iter()
            .map(|o| Order {
                id: o.id.clone(),
                customer: Some(o.customer.clone()),
                time: Some(o.time.timestamp()),
                items: o.lines.iter().map(|l| l.item).collect(),
                unit_prices: o.lines.iter().map(|l| Some(l.unit_price)).collect(),
            })
            .collect();
        let lines = orders.iter().map(|o| o.items.len() as u64).sum();
        (
            Catalog::new(self.products.clone())
                .expect("generated ids are unique")
                .in_currency(self.currency.clone()),
            OrderLog { orders, lines },
        )
    }
}

/// Writes `products.csv` (with the shop's `currency` on every row), `orders.csv` and
/// `planted.json` into `dir`.
pub fn write(shop: &Shop, dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).at(|| format!("creating {}", dir.display()))?;
    let currency = &shop.currency;
    let code = currency.code().unwrap_or_default();
    let money = |v: Option<i64>| v.map(|m| currency.format(m)).unwrap_or_default();
    let products = dir.join("products.csv");
    let writing = || format!("writing {}", products.display());
    let mut w = csv::Writer::from_path(&products).at(writing)?;
    w.write_record(["item_id", "title", "category", "price", "cost", "currency"])
        .at(writing)?;
    for p in &shop.products {
        w.write_record([
            p.id.as_str(),
            &p.title,
            &p.category,
            &money(p.price),
            &money(p.cost),
            code,
        ])
        .at(writing)?;
    }
    w.flush().at(writing)?;
    let orders = dir.join("orders.csv");
    let writing = || format!("writing {}", orders.display());
    let mut w = csv::Writer::from_path(&orders).at(writing)?;
    w.write_record([
        "order_id",
        "customer_id",
        "timestamp",
        "item_id",
        "quantity",
        "unit_price",
    ])
    .at(writing)?;
    for o in &shop.orders {
        let stamp = o.time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        for line in &o.lines {
            let p = &shop.products[line.item as usize];
            w.write_record([
                o.id.as_str(),
                &o.customer,
                &stamp,
                &p.id,
                &line.quantity.to_string(),
                &money(Some(line.unit_price)),
            ])
            .at(writing)?;
        }
    }
    w.flush().at(writing)?;
    let planted = dir.join("planted.json");
    let json = serde_json::to_vec_pretty(&shop.planted).at(|| "encoding planted.json".into())?;
    std::fs::write(&planted, json).at(|| format!("writing {}", planted.display()))?;
    Ok(())
}
