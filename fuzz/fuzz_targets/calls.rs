//! What page script sends the engine, against a valid export: the input is JSON read as a
//! cart, as suggest options and as a checkout claim (the wasm boundary turns JS values into
//! JSON first, so this is the same path), and each that parses is answered.
#![no_main]

use cartwise::serve::export::Export;
use cartwise::serve::suggest::verify::Claim;
use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static SEED: &[u8] = include_bytes!("../seeds/small.cwm");

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(Export::from_bytes(SEED).expect("the seed reads")).expect("the seed loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = engine();
    if let Ok(cart) = serde_json::from_str::<Cart>(text) {
        let _ = engine.suggest(&cart, &SuggestOptions::default(), 6);
        let _ = engine.model_scores(&cart, 5);
    }
    if let Ok(options) = serde_json::from_str::<SuggestOptions>(text) {
        let first = engine.export().catalog.get(0).id.clone();
        let cart = Cart {
            items: vec![CartEntry::Id(first)],
            ..Default::default()
        };
        let _ = engine.suggest(&cart, &options, 6);
    }
    if let Ok(claim) = serde_json::from_str::<Claim>(text) {
        let _ = engine.verify(&claim);
    }
});
