//! Export format: round trip, and every kind of damage is a clear error, never a panic.

use crate::common;

use cartwise::serve::blend::Blend;
use cartwise::serve::export::{
    read_sections, section_payload, tags, write_sections, Export, ExportError, Tag, FLAG_DEFLATE,
    FLAG_REQUIRED, HEADER_LEN, VERSION,
};
use proptest::prelude::*;

/// The (tag, flags, raw payload) of every section, inflated, to rebuild variants with
/// `write_sections` (which stores them uncompressed).
fn parts_of(bytes: &[u8]) -> Vec<(Tag, u32, Vec<u8>)> {
    read_sections(bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let raw = section_payload(bytes, e).unwrap().into_owned();
            (e.tag, e.flags & !FLAG_DEFLATE, raw)
        })
        .collect()
}

#[test]
fn compressed_sections_read_as_raw_ones_and_damage_is_named() {
    let export = common::small_export();
    let bytes = export.to_bytes();
    let deflated: Vec<String> = read_sections(&bytes)
        .unwrap()
        .iter()
        .filter(|e| e.flags & FLAG_DEFLATE != 0)
        .map(|e| cartwise::serve::export::tag_name(&e.tag))
        .collect();
    assert!(deflated.contains(&"CATL".to_string()), "{deflated:?}");
    let parts = parts_of(&bytes);
    let raw = write_sections(&parts);
    assert!(raw.len() > bytes.len(), "compression saved nothing");
    assert_eq!(Export::from_bytes(&raw).unwrap(), export);

    // A stored CATL that is not what its flag says, each with a valid checksum.
    let catl = parts
        .iter()
        .find(|p| p.0 == tags::CATALOG)
        .unwrap()
        .2
        .clone();
    let stream = miniz_oxide::deflate::compress_to_vec(&catl, 6);
    let with_len = |len: u64, stream: &[u8]| {
        let mut p = len.to_le_bytes().to_vec();
        p.extend_from_slice(stream);
        p
    };
    for (stored, says) in [
        (
            with_len(catl.len() as u64, b"not deflate at all"),
            "does not inflate",
        ),
        (with_len(catl.len() as u64 - 1, &stream), "does not inflate"),
        (
            with_len(catl.len() as u64 + 1, &stream),
            "length field says",
        ),
        (with_len(u64::MAX, &stream), "limit"),
        (vec![1, 2, 3], "shorter than its length field"),
    ] {
        let mut bad = parts.clone();
        let entry = bad.iter_mut().find(|p| p.0 == tags::CATALOG).unwrap();
        entry.1 |= FLAG_DEFLATE;
        entry.2 = stored;
        let err = Export::from_bytes(&write_sections(&bad)).unwrap_err();
        assert!(
            matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "CATL" && reason.contains(says)),
            "{says}: {err}"
        );
    }
}

#[test]
fn round_trip_is_exact() {
    let export = common::small_export();
    assert!(!export.itemsets.is_empty(), "fixture should have itemsets");
    assert!(!export.assoc.neighbors.is_empty());
    let bytes = export.to_bytes();
    let back = Export::from_bytes(&bytes).unwrap();
    assert_eq!(back, export);
    assert_eq!(back.to_bytes(), bytes, "encoding is deterministic");
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = common::small_export().to_bytes();
    let sections = read_sections(&bytes).unwrap();
    // Each section boundary, one byte either side, and every length in the header/table.
    let mut cuts: Vec<usize> = (0..HEADER_LEN + sections.len() * 32 + 1).collect();
    for s in &sections {
        for edge in [s.offset as usize, (s.offset + s.length) as usize] {
            cuts.extend([edge.saturating_sub(1), edge, edge + 1]);
        }
    }
    for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
        let err = Export::from_bytes(&bytes[..cut]).expect_err("truncated file accepted");
        assert!(
            matches!(err, ExportError::Truncated(_) | ExportError::BadMagic),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = common::small_export().to_bytes();
    let sections = read_sections(&bytes).unwrap();
    let mut positions: Vec<usize> = (0..HEADER_LEN + sections.len() * 32).collect();
    for s in &sections {
        // First, middle and last byte of every section.
        let (a, n) = (s.offset as usize, s.length as usize);
        positions.extend([a, a + n / 2, a + n - 1]);
    }
    for pos in positions {
        for mask in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[pos] ^= mask;
            assert!(
                Export::from_bytes(&bad).is_err(),
                "flip {mask:#x} at {pos} accepted"
            );
        }
    }
    // Exhaustively for one section: any single-bit damage in ASOC is caught by its checksum.
    let asoc = sections.iter().find(|s| s.tag == tags::ASSOC).unwrap();
    for pos in asoc.offset as usize..(asoc.offset + asoc.length) as usize {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x10;
        assert_eq!(
            Export::from_bytes(&bad).unwrap_err(),
            ExportError::SectionChecksum { tag: "ASOC".into() }
        );
    }
}

#[test]
fn future_versions_and_unknown_sections() {
    let export = common::small_export();
    let mut bytes = export.to_bytes();
    bytes[8] = VERSION as u8 + 1;
    let err = Export::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        err,
        ExportError::FutureVersion {
            found: VERSION + 1,
            supported: VERSION
        }
    );
    assert!(err.to_string().contains("newer"), "{err}");

    // A version 1 file (no BLND: association-only blend) still reads.
    // Version 1 had none of the learned sections.
    let mut parts = parts_of(&export.to_bytes());
    parts.retain(|p| ![tags::BLEND, tags::EASE, tags::MODEL, tags::TOKENIZER].contains(&p.0));
    let mut v1 = write_sections(&parts);
    common::set_version(&mut v1, 1);
    let expected = Export {
        version: 1,
        model: None,
        ease: None,
        blend: Blend::default(),
        ..export.clone()
    };
    assert_eq!(
        Export::from_bytes(&v1).unwrap(),
        expected,
        "v1 files still read"
    );

    let good = export.to_bytes();
    let mut parts = parts_of(&good);
    parts.push((*b"ZZZZ", 0, b"from the future".to_vec()));
    assert_eq!(
        Export::from_bytes(&write_sections(&parts)).unwrap(),
        export,
        "optional unknown section skipped"
    );
    parts.last_mut().unwrap().1 = FLAG_REQUIRED;
    assert_eq!(
        Export::from_bytes(&write_sections(&parts)).unwrap_err(),
        ExportError::UnknownRequired("ZZZZ".into())
    );
    parts.pop();
    parts.retain(|p| p.0 != tags::ASSOC);
    assert_eq!(
        Export::from_bytes(&write_sections(&parts)).unwrap_err(),
        ExportError::Missing("ASOC".into())
    );
}

#[test]
fn well_checksummed_but_inconsistent_payloads_are_errors() {
    let good = common::small_export().to_bytes();
    let parts = parts_of(&good);
    // Point the first neighbour at an item that does not exist, with a valid checksum.
    let mut bad = parts.clone();
    let asoc = bad.iter_mut().find(|p| p.0 == tags::ASSOC).unwrap();
    let n = u32::from_le_bytes(asoc.2[4..8].try_into().unwrap()) as usize;
    let first_item = 8 + 4 * n + 4 * (n + 1) + 4;
    asoc.2[first_item..first_item + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Export::from_bytes(&write_sections(&bad)).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, .. } if tag == "ASOC"),
        "{err}"
    );
    // Cut a section short, with a valid checksum.
    let mut bad = parts.clone();
    let catl = bad.iter_mut().find(|p| p.0 == tags::CATALOG).unwrap();
    catl.2.truncate(catl.2.len() - 3);
    let err = Export::from_bytes(&write_sections(&bad)).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, .. } if tag == "CATL"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Export::from_bytes(&bytes);
        let mut with_magic = b"CARTWISE".to_vec();
        with_magic.extend(bytes);
        prop_assert!(Export::from_bytes(&with_magic).is_err());
    }
}

#[test]
fn blend_section_is_checked() {
    let export = common::small_export();
    let mut parts = parts_of(&export.to_bytes());
    parts.retain(|p| p.0 != tags::BLEND);
    let with = |json: &str| {
        let mut p = parts.clone();
        p.push((tags::BLEND, 0, json.as_bytes().to_vec()));
        Export::from_bytes(&write_sections(&p))
    };
    let read = with(r#"{"assoc": 2.0, "popularity": 0.5}"#).unwrap();
    assert_eq!(read.blend.assoc, 2.0);
    assert_eq!(read.blend.popularity, 0.5);
    for (json, says) in [
        (r#"{"model": 1.0, "modelCandidates": 100}"#, "basket model"),
        (r#"{"assoc": 1e39}"#, "out of range"),
        (r#"{"modelCandidates": 99999}"#, "modelCandidates"),
        ("not json", "invalid JSON"),
    ] {
        let err = with(json).unwrap_err();
        assert!(
            matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "BLND" && reason.contains(says)),
            "{json}: {err}"
        );
    }
}
