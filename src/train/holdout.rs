//! Cold-start evaluation: hold a share of the catalog out of training, then ask how well the
//! engine suggests those items as products it has never seen (`newItems`), by their titles,
//! against what a shop could do without titles (its categories' popularity).
//!
//! Protocol: the latest tenth of orders by time is the test set; a seeded tenth of the items
//! is held out, their lines removed from the training orders and their rows from the catalog
//! the export is trained on. A test cart is a test order with one item hidden, kept when the
//! hidden item is held out; the cart's other held-out items go in as cold cart items (with
//! their titles), the rest by id.

use crate::serve::catalog::{Catalog, Product};
use crate::serve::model::ModelInput;
use crate::serve::suggest::cold_start::category_affinity;
use crate::serve::suggest::new_items::{new_item_logit, NewItem};
use crate::serve::suggest::{Cart, CartEntry, Engine, ModelQuery, SuggestError, SuggestOptions};
use crate::train::ingest::{Order, OrderLog};
use crate::train::protocol::{expected_hit, test_carts, time_cut, TestCart};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Share of orders, latest first, that are test orders.
pub const TEST_SHARE: f64 = 0.1;

/// A shop with some items held out of training.
pub struct HeldOut {
    /// The catalog without the held-out items (what the export is trained on).
    pub catalog: Catalog,
    /// Training orders over `catalog`, held-out lines removed (orders left empty dropped).
    pub train: OrderLog,
    /// Test orders over the full catalog.
    pub test: OrderLog,
    /// The held-out items as a page would pass them.
    pub new_items: Vec<NewItem>,
    /// Full-catalog index of each held-out item.
    pub held: HashSet<u32>,
    /// Training orders dropped because every line of them was held out.
    pub emptied_orders: usize,
}

/// Splits `log` (over `catalog`) by time and holds out a seeded `fraction` of the items.
pub fn hold_out(catalog: &Catalog, log: &OrderLog, fraction: f64, seed: u64) -> HeldOut {
    let mut order: Vec<u32> = (0..catalog.len() as u32).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held: HashSet<u32> = order
        .into_iter()
        .take((catalog.len() as f64 * fraction).round() as usize)
        .collect();
    // Full index → index in the reduced catalog.
    let mut kept = vec![None; catalog.len()];
    let mut products = Vec::new();
    let mut new_items = Vec::new();
    for (i, p) in catalog.products().iter().enumerate() {
        if held.contains(&(i as u32)) {
            new_items.push(new_item(p));
        } else {
            kept[i] = Some(products.len() as u32);
            products.push(p.clone());
        }
    }
    let mut orders: Vec<&Order> = log.orders.iter().collect();
    orders.sort_by_key(|o| o.time);
    let cut = time_cut(orders.len(), TEST_SHARE);
    let mut train = OrderLog::default();
    let mut emptied_orders = 0;
    for o in &orders[..cut] {
        let (items, unit_prices): (Vec<u32>, Vec<Option<i64>>) = o
            .items
            .iter()
            .zip(&o.unit_prices)
            .filter_map(|(&i, &p)| kept[i as usize].map(|k| (k, p)))
            .unzip();
        if items.is_empty() {
            emptied_orders += 1;
            continue;
        }
        train.lines += items.len() as u64;
        train.orders.push(Order {
            items,
            unit_prices,
            ..(*o).clone()
        });
    }
    let test = OrderLog {
        lines: orders[cut..].iter().map(|o| o.items.len() as u64).sum(),
        orders: orders[cut..].iter().map(|&o| o.clone()).collect(),
    };
    HeldOut {
        catalog: Catalog::new(products)
            .expect("ids were unique in the full catalog")
            .in_currency(catalog.currency().clone()),
        train,
        test,
        new_items,
        held,
        emptied_orders,
    }
}

/// A catalog product as the page would pass it when new.
fn new_item(p: &Product) -> NewItem {
    NewItem {
        id: p.id.clone(),
        title: p.title.clone(),
        category: p.category.clone(),
        price: p.price,
        cost: None,
    }
}

/// One ranking method's hit rate over the cold test carts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColdRow {
    pub method: String,
    /// What it ranks the hidden item among.
    pub among: String,
    /// Test carts it was measured on.
    pub carts: usize,
    /// Share of carts whose hidden item is in the top 10 (ties shared out evenly).
    #[serde(rename = "hr@10")]
    pub hr10: f64,
}

/// The cold-start evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColdReport {
    /// Items held out of training.
    pub held_out: usize,
    /// Test carts whose hidden item is held out.
    pub carts: usize,
    /// Carts in which the engine showed at least one new item in its top 10.
    pub carts_showing_new: usize,
    pub rows: Vec<ColdRow>,
}

/// Measures the engine (trained on `shop.train` over `shop.catalog`) on the cold test carts:
/// among the held-out items, its title scores against category popularity, category
/// co-purchase with the cart and chance; in the full ranking, the engine's own list.
pub fn evaluate(
    engine: &Engine,
    full: &Catalog,
    shop: &HeldOut,
    seed: u64,
) -> Result<ColdReport, SuggestError> {
    let (carts, known_carts): (Vec<TestCart>, Vec<TestCart>) = test_carts(&shop.test, seed)
        .into_iter()
        .partition(|t| shop.held.contains(&t.hidden));
    let category = |i: u32| full.get(i).category.as_str();
    // Category statistics of the training orders: orders holding each category, and each pair.
    let known = &shop.catalog;
    let mut holding: HashMap<&str, f64> = HashMap::new();
    let mut both: HashMap<(&str, &str), f64> = HashMap::new();
    for o in &shop.train.orders {
        let mut cats: Vec<&str> = o
            .items
            .iter()
            .map(|&i| known.get(i).category.as_str())
            .collect();
        cats.sort_unstable();
        cats.dedup();
        for &a in &cats {
            *holding.entry(a).or_default() += 1.0;
            for &b in &cats {
                *both.entry((a, b)).or_default() += 1.0;
            }
        }
    }
    let popularity = |c: &str| holding.get(c).copied().unwrap_or(0.0);
    let co_purchase = |cart: &[u32], c: &str| {
        cart.iter()
            .map(|&i| {
                let a = category(i);
                both.get(&(a, c)).copied().unwrap_or(0.0) / popularity(a).max(1.0)
            })
            .fold(0.0, f64::max)
    };
    let model = engine.model().ok_or(SuggestError::NoModel)?;
    let title_vector = |i: u32| -> Result<Option<Vec<f32>>, SuggestError> {
        model
            .title_vector(&full.get(i).title)
            .and_then(|v| v.map(|v| v.to_vec1::<f32>()).transpose())
            .map_err(SuggestError::from)
    };
    let held: Vec<u32> = {
        let mut h: Vec<u32> = shop.held.iter().copied().collect();
        h.sort_unstable();
        h
    };
    let vectors: HashMap<u32, Option<Vec<f32>>> = held
        .iter()
        .map(|&i| Ok((i, title_vector(i)?)))
        .collect::<Result<_, SuggestError>>()?;
    let options = SuggestOptions {
        k: Some(10),
        new_items: shop.new_items.clone(),
        ..SuggestOptions::default()
    };
    let new_ids: HashSet<&str> = shop.new_items.iter().map(|n| n.id.as_str()).collect();
    let (mut title, mut by_affinity, mut combined) = (0.0, 0.0, 0.0);
    let (mut by_category, mut by_co_purchase, mut chance, mut full_list) = (0.0, 0.0, 0.0, 0.0);
    let mut showing_new = 0;
    // The engine's answer to a test cart as the page would send it: held-out items with
    // their titles, every held-out item among `newItems`.
    let suggested = |t: &TestCart| {
        let items = t
            .cart
            .iter()
            .map(|&i| {
                let p = full.get(i);
                match shop.held.contains(&i) {
                    true => CartEntry::Item {
                        id: p.id.clone(),
                        qty: 1,
                        title: Some(p.title.clone()),
                    },
                    false => CartEntry::Id(p.id.clone()),
                }
            })
            .collect();
        let month = t.month.unwrap_or(1);
        let options = SuggestOptions {
            month: Some(month),
            ..options.clone()
        };
        engine.suggest(
            &Cart {
                items,
                history: Vec::new(),
            },
            &options,
            month,
        )
    };
    for t in &carts {
        let known_cart: Vec<u32> = t
            .cart
            .iter()
            .filter_map(|&i| known.lookup(&full.get(i).id))
            .collect();
        let unseen: Vec<candle_core::Tensor> = t
            .cart
            .iter()
            .filter(|i| shop.held.contains(i))
            .filter_map(|&i| vectors[&i].as_ref())
            .map(|v| candle_core::Tensor::new(v.as_slice(), &candle_core::Device::Cpu))
            .collect::<Result<_, _>>()?;
        let query = model.query_vector(&ModelInput {
            cart: &known_cart,
            history: &[],
            unseen: &unseen,
        })?;
        let title_score = |i: u32| {
            vectors[&i].as_ref().map_or(f64::NEG_INFINITY, |v| {
                v.iter().zip(&query).map(|(a, b)| (a * b) as f64).sum()
            })
        };
        let others: Vec<u32> = held
            .iter()
            .copied()
            .filter(|&i| i != t.hidden && !t.cart.contains(&i))
            .collect();
        let rate = |score: &dyn Fn(u32) -> f64| {
            expected_hit(score(t.hidden), others.iter().map(|&i| score(i)))
        };
        title += rate(&title_score);
        let affinity = match engine.scoring_table() {
            Some(table) => category_affinity(
                engine.export(),
                table,
                &ModelQuery {
                    vector: query.clone(),
                    k: 0,
                },
            )?,
            None => HashMap::new(),
        };
        let category_score = |i: u32| {
            affinity
                .get(category(i))
                .map_or(f64::NEG_INFINITY, |&a| a as f64)
        };
        by_affinity += rate(&category_score);
        combined += rate(&|i| {
            let title = vectors[&i]
                .as_ref()
                .map(|v| v.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>());
            let lift = engine
                .titles()
                .category_lift
                .best(known, &known_cart, category(i))
                .map(|(lift, _)| lift);
            new_item_logit(title, affinity.get(category(i)).copied(), lift)
                .map_or(f64::NEG_INFINITY, f64::from)
        });
        by_category += rate(&|i| popularity(category(i)));
        by_co_purchase += rate(&|i| co_purchase(&t.cart, category(i)));
        chance += (10.0 / (others.len() + 1) as f64).min(1.0);
        let out = suggested(t)?;
        let hidden_id = &full.get(t.hidden).id;
        if out.items.contains(hidden_id) {
            full_list += 1.0;
        }
        if out.items.iter().any(|id| new_ids.contains(id.as_str())) {
            showing_new += 1;
        }
    }
    // What new items and the held places cost the carts whose hidden item is a known one.
    let mut known_hits = 0.0;
    for t in &known_carts {
        if suggested(t)?.items.contains(&full.get(t.hidden).id) {
            known_hits += 1.0;
        }
    }
    let among = format!("{} held-out items", held.len());
    let everything = format!("{} items (catalog + held-out)", full.len());
    let row = |method: &str, among: &str, hits: f64| ColdRow {
        method: method.into(),
        among: among.into(),
        carts: carts.len(),
        hr10: hits / carts.len().max(1) as f64,
    };
    Ok(ColdReport {
        held_out: held.len(),
        carts: carts.len(),
        carts_showing_new: showing_new,
        rows: vec![
            row("title vectors (basket model)", &among, title),
            row("category affinity (basket model)", &among, by_affinity),
            row(
                "cartwise: title + category affinity + category lift",
                &among,
                combined,
            ),
            row("category popularity", &among, by_category),
            row("category co-purchase with the cart", &among, by_co_purchase),
            row("chance", &among, chance),
            row("cartwise suggest (newItems)", &everything, full_list),
            ColdRow {
                method: "cartwise suggest, hidden item known".into(),
                among: everything.clone(),
                carts: known_carts.len(),
                hr10: known_hits / known_carts.len().max(1) as f64,
            },
        ],
    })
}
