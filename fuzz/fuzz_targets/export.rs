//! The export reader and `Engine` construction, structure-aware: the input damages one section
//! of a valid export (the seed) and the checksums are recomputed, so the decoders are reached
//! rather than stopped at the CRC. What loads is then asked for suggestions.
#![no_main]

use cartwise::serve::export::{
    read_sections, section_payload, write_sections, Export, Tag, FLAG_DEFLATE,
};
use cartwise::serve::suggest::{Cart, CartEntry, Engine, SuggestOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A 222-item synthetic export with every section (basket model with history, EASE).
static SEED: &[u8] = include_bytes!("../seeds/small.cwm");

/// The seed's sections with raw (inflated) payloads.
fn sections() -> &'static Vec<(Tag, u32, Vec<u8>)> {
    static PARTS: OnceLock<Vec<(Tag, u32, Vec<u8>)>> = OnceLock::new();
    PARTS.get_or_init(|| {
        read_sections(SEED)
            .expect("the seed reads")
            .iter()
            .map(|e| {
                let raw = section_payload(SEED, e)
                    .expect("the seed inflates")
                    .into_owned();
                (e.tag, e.flags & !FLAG_DEFLATE, raw)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    // data[0]: which section; data[1]: how; data[2..4]: where; the rest: the new bytes.
    let [which, how, lo, hi, bytes @ ..] = data else {
        return;
    };
    let mut parts = sections().clone();
    let k = *which as usize % parts.len();
    let payload = &mut parts[k].2;
    let at = u16::from_le_bytes([*lo, *hi]) as usize % (payload.len() + 1);
    match how % 4 {
        0 => {
            for (i, &b) in bytes.iter().enumerate() {
                if let Some(slot) = payload.get_mut(at + i) {
                    *slot = b;
                }
            }
        }
        1 => {
            payload.splice(at..at, bytes.iter().copied());
        }
        2 => payload.truncate(at),
        _ => *payload = bytes.to_vec(),
    }
    let file = write_sections(&parts);
    let Ok(export) = Export::from_bytes(&file) else {
        return;
    };
    let Some(first) = export.catalog.products().first().map(|p| p.id.clone()) else {
        return;
    };
    let Ok(engine) = Engine::new(export) else {
        return;
    };
    let cart = Cart {
        items: vec![CartEntry::Id(first)],
        ..Default::default()
    };
    let _ = engine.suggest(&cart, &SuggestOptions::default(), 6);
});
