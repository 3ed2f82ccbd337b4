//! Shops of the shapes real order logs come in, small and seeded (`cartwise synth --shape`): no
//! timestamps or years of them, no customer ids or one customer, one product or a catalog mostly
//! never ordered, yen and fils, titles missing or long in other scripts, costs missing, bulk
//! orders, duplicated lines, orphan rows. Each is a valid input, so the pipeline's property
//! tests (`tests/it/shapes.rs`, `tests/node/shapes.test.mjs`) hold `train` to succeed with an
//! export every engine loads, or refuse with a named reason.

use crate::train::currency::iso_4217;
use crate::train::error::{At, FileError};
use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::Path;

/// A shape of shop; [`Shape::ALL`] lists them, [`Shape::name`] is how the CLI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    NoTimestamps,
    OneMonth,
    Years,
    NoCustomers,
    OneCustomer,
    SingleItemOrders,
    OneProduct,
    SparseCatalog,
    EqualPrices,
    Yen,
    Fils,
    NoTitles,
    LongTitles,
    NoCosts,
    Bulk,
    Duplicates,
    Orphans,
    /// The public grocery log an export once failed on: 50,000 products, 14,000 of them
    /// ordered, no timestamps (40,000 orders, whatever the scale). Not in [`Shape::ALL`]: too
    /// big for a sweep, tested on its own.
    Grocery,
}

impl Shape {
    /// Every shape the sweep runs (all but [`Shape::Grocery`]), in its order.
    pub const ALL: [Shape; 17] = [
        Shape::NoTimestamps,
        Shape::OneMonth,
        Shape::Years,
        Shape::NoCustomers,
        Shape::OneCustomer,
        Shape::SingleItemOrders,
        Shape::OneProduct,
        Shape::SparseCatalog,
        Shape::EqualPrices,
        Shape::Yen,
        Shape::Fils,
        Shape::NoTitles,
        Shape::LongTitles,
        Shape::NoCosts,
        Shape::Bulk,
        Shape::Duplicates,
        Shape::Orphans,
    ];

    /// The shape's name on the command line (`no-timestamps`, `yen`, …).
    pub fn name(self) -> &'static str {
        match self {
            Shape::NoTimestamps => "no-timestamps",
            Shape::OneMonth => "one-month",
            Shape::Years => "years",
            Shape::NoCustomers => "no-customers",
            Shape::OneCustomer => "one-customer",
            Shape::SingleItemOrders => "single-item-orders",
            Shape::OneProduct => "one-product",
            Shape::SparseCatalog => "sparse-catalog",
            Shape::EqualPrices => "equal-prices",
            Shape::Yen => "yen",
            Shape::Fils => "fils",
            Shape::NoTitles => "no-titles",
            Shape::LongTitles => "long-titles",
            Shape::NoCosts => "no-costs",
            Shape::Bulk => "bulk",
            Shape::Duplicates => "duplicates",
            Shape::Orphans => "orphans",
            Shape::Grocery => "grocery",
        }
    }

    /// The shape of a name, or an error listing the names.
    pub fn from_name(name: &str) -> Result<Shape, String> {
        Shape::ALL
            .into_iter()
            .chain([Shape::Grocery])
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Shape::ALL
                    .iter()
                    .chain(&[Shape::Grocery])
                    .map(|s| s.name())
                    .collect();
                format!("unknown shape {name:?}; one of {}", names.join(", "))
            })
    }

    /// The knobs this shape turns, at `scale` (1 for the test suite, 20 for `build.sh fuzz`).
    fn knobs(self, scale: usize) -> Knobs {
        let base = Knobs {
            items: 120 * scale,
            ordered: 120 * scale,
            orders: 600 * scale,
            customers: Some(60 * scale),
            span: Span::Year,
            max_lines: 4,
            equal_prices: false,
            currency: "USD",
            titles: Titles::Plain,
            costs: true,
            bulk: false,
            duplicates: false,
            orphans: false,
        };
        match self {
            Shape::NoTimestamps => Knobs {
                span: Span::None,
                ..base
            },
            Shape::OneMonth => Knobs {
                span: Span::OneMonth,
                ..base
            },
            Shape::Years => Knobs {
                span: Span::Years,
                ..base
            },
            Shape::NoCustomers => Knobs {
                customers: None,
                ..base
            },
            Shape::OneCustomer => Knobs {
                customers: Some(1),
                ..base
            },
            Shape::SingleItemOrders => Knobs {
                max_lines: 1,
                ..base
            },
            Shape::OneProduct => Knobs {
                items: 1,
                ordered: 1,
                ..base
            },
            // The grocery log at 1/10 (and at scale 20, 100,000 products, 1% ordered).
            Shape::SparseCatalog => Knobs {
                items: 5_000 * scale,
                ordered: 50 * scale,
                span: Span::None,
                ..base
            },
            Shape::EqualPrices => Knobs {
                equal_prices: true,
                ..base
            },
            Shape::Yen => Knobs {
                currency: "JPY",
                ..base
            },
            Shape::Fils => Knobs {
                currency: "KWD",
                ..base
            },
            Shape::NoTitles => Knobs {
                titles: Titles::Missing,
                ..base
            },
            Shape::LongTitles => Knobs {
                titles: Titles::Long,
                ..base
            },
            Shape::NoCosts => Knobs {
                costs: false,
                ..base
            },
            Shape::Bulk => Knobs {
                items: 240 * scale,
                ordered: 240 * scale,
                bulk: true,
                ..base
            },
            Shape::Duplicates => Knobs {
                duplicates: true,
                ..base
            },
            Shape::Orphans => Knobs {
                ordered: 100 * scale,
                orphans: true,
                ..base
            },
            Shape::Grocery => Knobs {
                items: 50_000,
                ordered: 14_000,
                orders: 40_000,
                customers: Some(3_000),
                span: Span::None,
                ..base
            },
        }
    }
}

/// When orders happen.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// No timestamp column.
    None,
    OneMonth,
    Year,
    Years,
}

/// What the catalog's titles look like.
#[derive(Debug, Clone, Copy)]
enum Titles {
    Plain,
    /// Every title cell empty.
    Missing,
    /// CJK, Arabic and emoji, a few hundred bytes each.
    Long,
}

/// The generator's settings for one shape.
#[derive(Debug, Clone, Copy)]
struct Knobs {
    items: usize,
    /// The first this many items are ordered; the rest only listed.
    ordered: usize,
    orders: usize,
    /// `None`: no customer column.
    customers: Option<usize>,
    span: Span,
    max_lines: usize,
    equal_prices: bool,
    /// ISO 4217 code.
    currency: &'static str,
    titles: Titles,
    costs: bool,
    bulk: bool,
    duplicates: bool,
    orphans: bool,
}

/// What `write` made, also saved as `shape.json` beside the CSVs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    pub shape: &'static str,
    pub seed: u64,
    pub items: usize,
    pub orders: usize,
    pub currency: &'static str,
}

const CATEGORIES: [&str; 4] = ["Kitchen", "Pantry", "Garden", "Café & Tea"];
const LONG_TITLE: &str = "有機栽培の緑茶ティーバッグ 🍵 شاي أخضر عضوي 유기농 녹차 👨‍👩‍👧‍👦 ";

/// Writes `dir/orders.csv`, `dir/products.csv` and `dir/shape.json` for a shape at `scale`.
pub fn write(shape: Shape, seed: u64, scale: usize, dir: &Path) -> Result<Written, FileError> {
    let k = shape.knobs(scale.max(1));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    std::fs::create_dir_all(dir).at(|| format!("creating {}", dir.display()))?;
    let currency = iso_4217(k.currency).map_err(FileError::Invalid)?;
    let unit = currency.unit();
    let path = dir.join("products.csv");
    let writing = || format!("writing {}", path.display());
    let mut w = csv::Writer::from_path(&path).at(writing)?;
    w.write_record(["item_id", "title", "category", "price", "cost", "currency"])
        .at(writing)?;
    let mut prices = Vec::with_capacity(k.items);
    for i in 0..k.items {
        let price = if k.equal_prices {
            5 * unit
        } else {
            rng.random_range(unit..80 * unit)
        };
        prices.push(price);
        let cost = match k.costs {
            true => currency.format(price * rng.random_range(40..80) / 100),
            false => String::new(),
        };
        let category = CATEGORIES[i % CATEGORIES.len()];
        let title = match k.titles {
            Titles::Plain => format!("{category} item {i}"),
            Titles::Missing => String::new(),
            Titles::Long => format!("{} #{i}", LONG_TITLE.repeat(1 + i % 5)),
        };
        let id = format!("P{i:06}");
        let price = currency.format(price);
        w.write_record([&id, &title, category, &price, &cost, k.currency])
            .at(writing)?;
    }
    w.flush().at(writing)?;
    let start = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
    let days = match k.span {
        Span::None | Span::OneMonth => 30,
        Span::Year => 365,
        Span::Years => 3 * 365,
    };
    let timed = !matches!(k.span, Span::None);
    let path = dir.join("orders.csv");
    let writing = || format!("writing {}", path.display());
    let mut w = csv::Writer::from_path(&path).at(writing)?;
    let mut header = vec!["order_id"];
    header.extend(k.customers.map(|_| "customer_id"));
    header.extend(timed.then_some("timestamp"));
    header.extend(["item_id", "quantity", "unit_price"]);
    w.write_record(&header).at(writing)?;
    // Complements: each group of three ordered items is bought together more than by chance.
    let groups = k.ordered.div_ceil(3);
    for o in 0..k.orders {
        let mut lines: Vec<usize> = Vec::new();
        let g = rng.random_range(0..groups);
        for m in 0..3 {
            let item = (3 * g + m) % k.ordered;
            if lines.len() < k.max_lines && (m == 0 || rng.random_bool(0.6)) {
                lines.push(item);
            }
        }
        while lines.len() < k.max_lines && rng.random_bool(0.3) {
            lines.push(rng.random_range(0..k.ordered));
        }
        if k.bulk && o % 97 == 0 {
            lines = (0..k.ordered.min(150)).collect();
        }
        lines.sort_unstable();
        lines.dedup();
        // The order's cells before the line's own: id, then customer and time where it has them.
        let mut order = vec![format!("O{o:06}")];
        order.extend(
            k.customers
                .map(|customers| format!("C{:04}", rng.random_range(0..customers))),
        );
        if timed {
            let at = start
                + Duration::days(rng.random_range(0..days))
                + Duration::minutes(rng.random_range(0..600));
            order.push(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        let mut line = |item: String, quantity: u32, price: i64| {
            let mut record = order.clone();
            record.extend([item, quantity.to_string(), currency.format(price)]);
            w.write_record(&record).at(writing)
        };
        for &item in &lines {
            let quantity = match k.bulk && rng.random_bool(0.2) {
                true => rng.random_range(50..500),
                false => 1,
            };
            let copies = 1 + usize::from(k.duplicates && rng.random_bool(0.1));
            for _ in 0..copies {
                line(format!("P{item:06}"), quantity, prices[item])?;
            }
        }
        if k.orphans && o % 10 == 0 {
            line(format!("GHOST{o}"), 1, unit)?;
        }
    }
    w.flush().at(writing)?;
    let written = Written {
        shape: shape.name(),
        seed,
        items: k.items,
        orders: k.orders,
        currency: k.currency,
    };
    let path = dir.join("shape.json");
    let json = serde_json::to_string_pretty(&written).expect("plain struct");
    std::fs::write(&path, json).at(|| format!("writing {}", path.display()))?;
    Ok(written)
}
