//! Input budgets: the most one call may pass, so a flood from page script is refused at once
//! with an error naming the field, before any work grows with it. The same budgets hold in
//! both builds; the wasm boundary also bounds nesting and string length before it
//! deserializes anything (`src/wasm.rs`).

pub use super::types::BudgetError;
use super::types::{Cart, CartEntry, SuggestOptions};

/// Most entries in a cart.
pub const MAX_CART_ITEMS: usize = 500;
/// Most ids in a cart's on-device history.
pub const MAX_HISTORY: usize = 500;
/// Most new items passed with one call.
pub const MAX_NEW_ITEMS: usize = 1_000;
/// Longest title (cart entry or new item), in bytes of UTF-8.
pub const MAX_TITLE_BYTES: usize = 1_000;
/// Longest item id or category, in bytes of UTF-8.
pub const MAX_ID_BYTES: usize = 256;
/// Most ids or categories in each per-call rule list (`exclude`, `noDiscount`, …).
pub const MAX_RULE_LIST: usize = 1_000;
/// Most per-call pinned bundles.
pub const MAX_PINNED: usize = 100;
/// Most entries in the per-call `stock` map.
pub const MAX_STOCK: usize = 100_000;

/// One list's budget: its key in the JS input, the name errors give it, most entries. The
/// wasm boundary checks these lengths on the JS value before copying it; the typed checks
/// below check the same after.
#[derive(Debug, Clone, Copy)]
pub struct ListBudget {
    pub key: &'static str,
    pub field: &'static str,
    pub max: usize,
}

const fn list(key: &'static str, field: &'static str, max: usize) -> ListBudget {
    ListBudget { key, field, max }
}

/// A cart's lists: its entries and its history.
pub const CART_LISTS: [ListBudget; 2] = [
    list("items", "cart.items", MAX_CART_ITEMS),
    list("history", "cart.history", MAX_HISTORY),
];

/// A call's option lists: four rule lists of ids or categories, pinned bundles, new items.
pub const OPTION_LISTS: [ListBudget; 6] = [
    list("exclude", "option exclude", MAX_RULE_LIST),
    list(
        "excludeCategories",
        "option excludeCategories",
        MAX_RULE_LIST,
    ),
    list("noDiscount", "option noDiscount", MAX_RULE_LIST),
    list(
        "noDiscountCategories",
        "option noDiscountCategories",
        MAX_RULE_LIST,
    ),
    list("pinned", "option pinned", MAX_PINNED),
    list("newItems", "option newItems", MAX_NEW_ITEMS),
];

/// `Err` when `got` exceeds `max`.
pub fn within(
    field: impl Into<String>,
    got: usize,
    max: usize,
    unit: &'static str,
) -> Result<(), BudgetError> {
    if got > max {
        return Err(BudgetError {
            field: field.into(),
            got,
            max,
            unit,
        });
    }
    Ok(())
}

/// Every string of a list within `max` bytes.
fn strings<'a>(
    field: &str,
    items: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Result<(), BudgetError> {
    for (k, s) in items.into_iter().enumerate() {
        within(format!("{field}[{k}]"), s.len(), max, "bytes")?;
    }
    Ok(())
}

/// Checks a cart's entries (`field`: where they came from): count, id and title lengths.
pub fn check_entries(field: &str, entries: &[CartEntry]) -> Result<(), BudgetError> {
    within(field, entries.len(), MAX_CART_ITEMS, "entries")?;
    strings(field, entries.iter().map(|e| e.id()), MAX_ID_BYTES)?;
    for (k, entry) in entries.iter().enumerate() {
        if let Some(title) = entry.title() {
            within(
                format!("{field}[{k}].title"),
                title.len(),
                MAX_TITLE_BYTES,
                "bytes",
            )?;
        }
    }
    Ok(())
}

/// Checks a cart: its entries and its history.
pub fn check_cart(cart: &Cart) -> Result<(), BudgetError> {
    let [items, history] = CART_LISTS;
    check_entries(items.field, &cart.items)?;
    within(history.field, cart.history.len(), history.max, "entries")?;
    strings(
        history.field,
        cart.history.iter().map(String::as_str),
        MAX_ID_BYTES,
    )
}

/// Checks a call's options: list lengths and the lengths of their strings.
pub fn check_options(options: &SuggestOptions) -> Result<(), BudgetError> {
    let rule_lists = [
        &options.exclude,
        &options.exclude_categories,
        &options.no_discount,
        &options.no_discount_categories,
    ];
    for (budget, list) in OPTION_LISTS.iter().zip(rule_lists) {
        within(budget.field, list.len(), budget.max, "entries")?;
        strings(budget.field, list.iter().map(String::as_str), MAX_ID_BYTES)?;
    }
    let [.., pinned, new_items] = OPTION_LISTS;
    within(pinned.field, options.pinned.len(), pinned.max, "entries")?;
    within("option stock", options.stock.len(), MAX_STOCK, "entries")?;
    within(
        new_items.field,
        options.new_items.len(),
        new_items.max,
        "entries",
    )?;
    for (k, item) in options.new_items.iter().enumerate() {
        let field = |name: &str| format!("{}[{k}].{name}", new_items.field);
        within(field("id"), item.id.len(), MAX_ID_BYTES, "bytes")?;
        within(
            field("category"),
            item.category.len(),
            MAX_ID_BYTES,
            "bytes",
        )?;
        within(field("title"), item.title.len(), MAX_TITLE_BYTES, "bytes")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_are_named_by_field() {
        let cart = Cart {
            items: vec![CartEntry::Id("a".into()); MAX_CART_ITEMS + 1],
            ..Default::default()
        };
        let err = check_cart(&cart).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.got),
            ("cart.items", MAX_CART_ITEMS + 1)
        );
        let titled = Cart {
            items: vec![CartEntry::Item {
                id: "n".into(),
                qty: 1,
                title: Some("x".repeat(MAX_TITLE_BYTES + 1)),
            }],
            ..Default::default()
        };
        assert_eq!(
            check_cart(&titled).unwrap_err().field,
            "cart.items[0].title"
        );
        let options = SuggestOptions {
            no_discount: vec!["a".into(); MAX_RULE_LIST + 1],
            ..Default::default()
        };
        assert!(check_options(&options)
            .unwrap_err()
            .to_string()
            .starts_with("option noDiscount: 1001 entries is over the budget of 1000"));
        assert!(check_cart(&Cart::default()).is_ok());
        assert!(check_options(&SuggestOptions::default()).is_ok());
    }
}
