//! Cold start: a cart item the export has never seen, passed with its title, is read by the
//! basket model from its title tokens, so it gets complements of its own.

use crate::common;

use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(common::trained_with_model(12, 300, 400, 6_000)).unwrap())
}

fn entry(id: &str, title: Option<&str>) -> CartEntry {
    CartEntry::Item {
        id: id.into(),
        qty: 1,
        title: title.map(Into::into),
    }
}

#[test]
fn an_unknown_item_with_a_title_gets_complements_like_its_twin() {
    let engine = engine();
    let catalog = &engine.export().catalog;
    let options = SuggestOptions {
        k: Some(10),
        month: Some(4),
        ..Default::default()
    };
    let empty = engine.suggest(&Cart::default(), &options, 4).unwrap();
    let (mut shared, mut by_popularity, mut carts) = (0usize, 0usize, 0usize);
    for item in (0..catalog.len() as u32).step_by(7) {
        let p = catalog.get(item);
        let cold = Cart {
            items: vec![entry("NEW-1", Some(&p.title))],
            ..Default::default()
        };
        let out = engine.suggest(&cold, &options, 4).unwrap();
        assert_eq!(out.cold_start, vec!["NEW-1".to_string()]);
        assert!(out.unknown.is_empty());
        assert_eq!(out.items.len(), 10);
        assert_ne!(
            out.items, empty.items,
            "a title-only cart is not an empty cart"
        );
        // Its twin, the same product under its known id.
        let known = Cart {
            items: vec![entry(&p.id, None)],
            ..Default::default()
        };
        let twin = engine.suggest(&known, &options, 4).unwrap();
        let twin_items: Vec<&String> = twin.items.iter().filter(|i| **i != p.id).collect();
        shared += out.items.iter().filter(|i| twin_items.contains(i)).count();
        by_popularity += empty
            .items
            .iter()
            .filter(|i| twin_items.contains(i))
            .count();
        carts += 1;
    }
    let mean = shared as f64 / carts as f64;
    let popular = by_popularity as f64 / carts as f64;
    eprintln!(
        "title-only carts share {mean:.2} of 10 suggestions with their known twin; \
         the bestsellers an empty cart gets share {popular:.2}"
    );
    assert!(
        mean >= 1.25 * popular.max(0.5),
        "title-only carts share {mean:.2} of 10 with their twin, bestsellers {popular:.2}"
    );
    // Without a title the id is unknown and ignored, as before.
    let bare = Cart {
        items: vec![entry("NEW-1", None)],
        ..Default::default()
    };
    let out = engine.suggest(&bare, &options, 4).unwrap();
    assert_eq!(out.unknown, vec!["NEW-1".to_string()]);
    assert!(out.cold_start.is_empty());
    assert_eq!(out.items, empty.items);
}
