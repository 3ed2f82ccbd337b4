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
    check_entries("cart.items", &cart.items)?;
    within("cart.history", cart.history.len(), MAX_HISTORY, "entries")?;
    strings(
        "cart.history",
        cart.history.iter().map(String::as_str),
        MAX_ID_BYTES,
    )
}

/// Checks a call's options: list lengths and the lengths of their strings.
pub fn check_options(options: &SuggestOptions) -> Result<(), BudgetError> {
    for (field, list) in [
        ("option exclude", &options.exclude),
        ("option excludeCategories", &options.exclude_categories),
        ("option noDiscount", &options.no_discount),
        (
            "option noDiscountCategories",
            &options.no_discount_categories,
        ),
    ] {
        within(field, list.len(), MAX_RULE_LIST, "entries")?;
        strings(field, list.iter().map(String::as_str), MAX_ID_BYTES)?;
    }
    within("option pinned", options.pinned.len(), MAX_PINNED, "entries")?;
    within("option stock", options.stock.len(), MAX_STOCK, "entries")?;
    within(
        "option newItems",
        options.new_items.len(),
        MAX_NEW_ITEMS,
        "entries",
    )?;
    for (k, item) in options.new_items.iter().enumerate() {
        let field = |name: &str| format!("option newItems[{k}].{name}");
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
