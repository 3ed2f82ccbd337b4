//! What the public export reveals: costs only by margin band, counts only rounded, and pairs
//! and itemsets only of enough customers.

use crate::common;
use crate::common::parts_of;

/// The export is a public file: it states each cost only by its margin band (never below the
/// true cost), and no exact cost from the products file appears anywhere in its bytes.
#[test]
fn no_exact_cost_is_in_the_export() {
    use cartwise::serve::catalog::{banded_cost, DEFAULT_MARGIN_BAND_BP};
    let (catalog, _) = common::small_shop().to_log();
    let export = common::small_export();
    let bytes = export.to_bytes();
    let sections: Vec<u8> = parts_of(&bytes).into_iter().flat_map(|p| p.2).collect();
    let stated = &export.catalog;
    let public: std::collections::HashSet<i64> = stated
        .products()
        .iter()
        .flat_map(|p| [p.price, p.cost])
        .flatten()
        .collect();
    let mut hidden = 0;
    for (i, p) in catalog.products().iter().enumerate() {
        let s = stated.get(i as u32);
        assert_eq!(
            s.cost,
            banded_cost(p.price, p.cost, DEFAULT_MARGIN_BAND_BP),
            "{}",
            p.id
        );
        let (Some(true_cost), Some(stated_cost)) = (p.cost, s.cost) else {
            continue;
        };
        assert!(stated_cost >= true_cost, "{}: the floor must hold", p.id);
        // Within one band of the true margin (and a basis point and a minor unit of rounding).
        let price = p.price.unwrap();
        assert!(
            (stated_cost - true_cost - 1) * 10_000 <= price * (DEFAULT_MARGIN_BAND_BP as i64 + 1),
            "{}: stated {stated_cost}, true {true_cost}, price {price}",
            p.id
        );
        if public.contains(&true_cost) {
            continue; // the same amount is some item's price or stated cost
        }
        hidden += 1;
        let needle = true_cost.to_le_bytes();
        assert!(
            !sections.windows(8).any(|w| w == needle),
            "{}: exact cost {true_cost} found in the export",
            p.id
        );
        let text = format!("{true_cost}");
        assert!(
            !String::from_utf8_lossy(&sections).contains(&format!("\"{text}\"")),
            "{}: exact cost as text",
            p.id
        );
    }
    assert!(
        hidden * 10 > catalog.len() * 9,
        "only {hidden} costs checked"
    );
}

/// No raw count from the order log is in the export: item and pair counts, itemset counts and
/// the order total are published to two significant figures, and only pairs and itemsets of 5
/// or more distinct customers are published at all.
#[test]
fn no_raw_order_count_is_in_the_export() {
    use cartwise::train::assoc::count::{count_pairs, prepare_baskets};
    use cartwise::train::publish::round_count;
    let (_, log) = common::small_shop().to_log();
    let export = common::small_export();
    let baskets = prepare_baskets(log.orders.iter().map(|o| o.items.as_slice()), 100);
    let raw = count_pairs(&baskets.baskets, export.catalog.len(), 1 << 20);
    let assoc = &export.assoc;
    assert_eq!(assoc.orders, round_count(raw.orders));
    assert_ne!(
        assoc.orders, raw.orders,
        "the fixture's order total needs rounding"
    );
    let rounded = raw
        .item_counts
        .iter()
        .zip(&assoc.item_counts)
        .filter(|(&r, &p)| {
            assert_eq!(p, round_count(r));
            r != p
        })
        .count();
    assert!(rounded > 0, "no item count needed rounding");
    let raw_pairs: std::collections::HashMap<(u32, u32), u32> = raw
        .pairs
        .iter()
        .map(|&(key, c)| (cartwise::train::assoc::count::unpack_pair(key), c))
        .collect();
    for i in 0..assoc.items() as u32 {
        for nb in assoc.row(i) {
            let c = raw_pairs[&(i.min(nb.item), i.max(nb.item))];
            assert_eq!(nb.count, round_count(c), "pair {i}-{}", nb.item);
        }
    }
    // The meta section's figures are rounded too.
    assert_eq!(
        export.meta.orders_read,
        round_count(log.orders.len() as u32) as u64
    );
    // The meta section (JSON) does not carry the raw order total either.
    let parts = parts_of(&export.to_bytes());
    let meta =
        String::from_utf8(parts.iter().find(|p| p.0 == *b"META").unwrap().2.clone()).unwrap();
    assert_ne!(
        log.lines, export.meta.order_lines,
        "the fixture's line total needs rounding"
    );
    assert!(!meta.contains(&log.lines.to_string()), "{meta}");
}
