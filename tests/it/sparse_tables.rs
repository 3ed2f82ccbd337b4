//! The sparse tables of version 10 (`ASOC`'s item rows, `SEAS`, `RBUY`): a writer stores only
//! the rows that differ from the default, and a reader holds a forged table to the catalog.

use crate::common;
use cartwise::serve::export::{
    read_sections, section_payload, tags, write_sections, Export, ExportError, Tag,
};

/// The small export's sections, inflated, with `SEAS` replaced by `seas`.
fn with_seasonal(export: &Export, seas: Vec<u8>) -> Vec<u8> {
    let bytes = export.to_bytes();
    let parts: Vec<(Tag, u32, Vec<u8>)> = read_sections(&bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let raw = section_payload(&bytes, e).unwrap().into_owned();
            let raw = if e.tag == tags::SEASONAL {
                seas.clone()
            } else {
                raw
            };
            (e.tag, e.flags & !cartwise::serve::export::FLAG_DEFLATE, raw)
        })
        .collect();
    write_sections(&parts)
}

/// A SEAS payload of `n` rows whose bitmap marks `stored`, followed by `rows` bytes.
fn seasonal(n: u32, stored: &[usize], rows: usize) -> Vec<u8> {
    let mut out = n.to_le_bytes().to_vec();
    let mut bitmap = vec![0u8; (n as usize).div_ceil(8)];
    for &i in stored {
        bitmap[i / 8] |= 1 << (i % 8);
    }
    out.extend(bitmap);
    out.extend(std::iter::repeat_n(64u8, rows));
    out
}

fn refused(bytes: &[u8]) -> String {
    match Export::from_bytes(bytes) {
        Err(ExportError::Malformed { tag, reason }) if tag == "SEAS" => reason,
        other => panic!("expected a malformed SEAS, got {other:?}"),
    }
}

#[test]
fn sparse_tables_store_only_what_differs_and_forged_ones_are_named_errors() {
    let mut export = common::small_export();
    let n = export.catalog.len() as u32;
    assert_eq!(n % 8, 2, "the fixture's last bitmap byte has unused bits");
    // Two items with a season: read back as written, the rest neutral.
    export.seasonal.factors = vec![[32; 12]; n as usize];
    export.seasonal.factors[3] = [64; 12];
    export.seasonal.factors[n as usize - 1] = [64; 12];
    let back = Export::from_bytes(&with_seasonal(
        &export,
        seasonal(n, &[3, n as usize - 1], 24),
    ))
    .unwrap();
    assert_eq!(back.seasonal, export.seasonal);
    let (bytes, read) = export.to_checked_bytes().unwrap();
    assert_eq!(read, export);
    assert_eq!(Export::from_bytes(&bytes).unwrap(), export);
    // What the writer stores: 4 bytes of count, the bitmap, two rows.
    let bytes = export.to_bytes();
    let entry = read_sections(&bytes)
        .unwrap()
        .into_iter()
        .find(|e| e.tag == tags::SEASONAL)
        .unwrap();
    let payload = section_payload(&bytes, &entry).unwrap();
    assert_eq!(payload.len(), 4 + (n as usize).div_ceil(8) + 24);

    let reason = refused(&with_seasonal(&export, seasonal(n + 1, &[], 0)));
    assert!(reason.contains("the catalog has"), "{reason}");
    let reason = refused(&with_seasonal(&export, seasonal(u32::MAX, &[], 0)));
    assert!(reason.contains("the catalog has"), "{reason}");
    let mut past = seasonal(n, &[3], 12);
    past[4 + n as usize / 8] |= 1 << 7; // a bit past the last row
    let reason = refused(&with_seasonal(&export, past));
    assert!(reason.contains("past the last"), "{reason}");
    let reason = refused(&with_seasonal(&export, seasonal(n, &[3, 9], 12)));
    assert!(reason.contains("needs 12 bytes"), "{reason}");
    let reason = refused(&with_seasonal(&export, seasonal(n, &[3], 13)));
    assert!(reason.contains("trailing"), "{reason}");
    let reason = refused(&with_seasonal(&export, seasonal(n - 8, &[3], 12)));
    assert!(reason.contains("catalog has"), "{reason}");
}
