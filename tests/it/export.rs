//! Export format: round trip, and every kind of damage is a clear error, never a panic.

use crate::common;
use crate::common::{parts_of, refused};

use cartwise::serve::blend::Blend;
use cartwise::serve::export::{
    read_sections, tags, write_sections, Export, ExportError, FLAG_DEFLATE, FLAG_REQUIRED,
    HEADER_LEN, VERSION,
};
use proptest::prelude::*;

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
        (with_len(u64::MAX, &stream), "compression bomb"),
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
    common::dense_rows(&mut parts, &export);
    common::without_currency(&mut parts, &export);
    let mut v1 = write_sections(&parts);
    common::set_version(&mut v1, 1);
    let expected = Export {
        model: None,
        ease: None,
        blend: Blend::default(),
        blend_without_history: None,
        ..common::read_before_currency(&export, 1)
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
    // N, the item rows' count, bitmap and stored rows (8 bytes each), the neighbour count.
    let n = u32::from_le_bytes(asoc.2[4..8].try_into().unwrap()) as usize;
    let bitmap = &asoc.2[8..8 + n.div_ceil(8)];
    let stored: usize = bitmap.iter().map(|b| b.count_ones() as usize).sum();
    let first_item = 8 + n.div_ceil(8) + 8 * stored + 4;
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

#[test]
fn rebuy_factors_round_trip_and_are_checked() {
    use cartwise::serve::rebuy::RebuyIndex;
    let mut export = common::small_export();
    let n = export.catalog.len();
    export.rebuy = RebuyIndex {
        factors: (0..n).map(|i| (i * 7 % 256) as u8).collect(),
    };
    let bytes = export.to_bytes();
    assert!(parts_of(&bytes).iter().any(|p| p.0 == tags::REBUY));
    let back = Export::from_bytes(&bytes).unwrap();
    assert_eq!(back.rebuy, export.rebuy);
    assert_eq!(back.rebuy.factor(1), 7.0 / cartwise::serve::rebuy::SCALE);
    // A file without RBUY weighs every rebuy as the shop's average one.
    let mut parts = parts_of(&bytes);
    parts.retain(|p| p.0 != tags::REBUY);
    let without = Export::from_bytes(&write_sections(&parts)).unwrap();
    assert!(without.rebuy.factors.is_empty());
    assert_eq!(without.rebuy.factor(1), 1.0);
    // Factors for another catalog are an error naming the section.
    let mut short = export.clone();
    short.rebuy.factors.pop();
    let err = Export::from_bytes(&short.to_bytes()).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "RBUY" && reason.contains(&format!("catalog has {n}"))),
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
    assert_eq!(read.blend_without_history, None);
    assert_eq!(read.blend_for(&[]), &read.blend);

    // The blend for calls without a history: read, chosen for an empty history only, written back.
    let read = with(r#"{"assoc": 2.0, "history": 1.5, "withoutHistory": {"assoc": 3.0}}"#).unwrap();
    let without = read.blend_without_history.expect("withoutHistory read");
    assert_eq!((without.assoc, without.history), (3.0, 0.0));
    assert_eq!(read.blend_for(&[]), &without);
    assert_eq!(read.blend_for(&[0]), &read.blend);
    assert_eq!(read.blend.history, 1.5);
    assert_eq!(Export::from_bytes(&read.to_bytes()).unwrap(), read);
    for (json, says) in [
        (r#"{"model": 1.0, "modelCandidates": 100}"#, "basket model"),
        (
            r#"{"withoutHistory": {"model": 1.0}}"#,
            "withoutHistory weighs a basket model",
        ),
        (r#"{"withoutHistory": {"ease": 1e39}}"#, "out of range"),
        (r#"{"withoutHistory": {"ease": "x"}}"#, "invalid"),
        (r#"{"assoc": 1e39}"#, "assoc is inf, not a finite number"),
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

#[test]
fn a_signed_export_verifies_only_unaltered_and_only_with_its_key() {
    use cartwise::serve::export::signature::{
        parse_public_key, sign, signer, to_hex, verify, SignatureError,
    };
    use ed25519_dalek::SigningKey;
    let export = common::small_export();
    let unsigned = export.to_bytes();
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = parse_public_key(&to_hex(key.verifying_key().as_bytes())).unwrap();
    let signed = sign(&unsigned, &key).unwrap();
    assert_eq!(verify(&signed, &public), Ok(()));
    assert_eq!(signer(&signed).unwrap(), Some(to_hex(public.as_bytes())));
    // Readers that pin no key read it as before (SIGN is an optional section).
    assert_eq!(Export::from_bytes(&signed).unwrap(), export);
    assert_eq!(verify(&unsigned, &public), Err(SignatureError::Unsigned));
    let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert!(matches!(
        verify(&signed, &other),
        Err(SignatureError::OtherKey { .. })
    ));
    assert!(sign(&signed, &key).is_err(), "signing twice");
    // One price changed, every checksum fixed, the signature kept: refused.
    let mut tampered = export.clone();
    let mut products = tampered.catalog.products().to_vec();
    products[0].price = products[0].price.map(|p| p - 100);
    tampered.catalog = cartwise::serve::catalog::Catalog::new(products).unwrap();
    let mut parts = parts_of(&tampered.to_bytes());
    let sign_part = parts_of(&signed).pop().unwrap();
    assert_eq!(&sign_part.0, b"SIGN");
    parts.push(sign_part);
    let forged = write_sections(&parts);
    assert!(
        Export::from_bytes(&forged).is_ok(),
        "the container itself is sound"
    );
    assert_eq!(verify(&forged, &public), Err(SignatureError::Invalid));
    // Bad keys are named.
    assert!(matches!(
        parse_public_key("not hex"),
        Err(SignatureError::BadKey(_))
    ));
}

#[test]
fn product_links_round_trip_and_an_unsafe_one_is_refused() {
    use cartwise::serve::catalog::ProductLinks;
    let mut export = common::small_export();
    let n = export.catalog.len();
    let mut links = ProductLinks {
        image: vec![String::new(); n],
        url: vec![String::new(); n],
    };
    links.image[0] = "https://cdn.example/0.jpg".into();
    links.url[1] = "/products/1".into();
    export.links = links;
    let bytes = export.to_bytes();
    assert!(read_sections(&bytes)
        .unwrap()
        .iter()
        .any(|e| e.tag == tags::LINKS));
    assert_eq!(Export::from_bytes(&bytes).unwrap(), export);
    // A well-checksummed LINK section with a script URL is refused, naming the item.
    let mut bad = export.clone();
    bad.links.url[2] = "javascript:alert(1)".into();
    let err = Export::from_bytes(&bad.to_bytes()).unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "LINK" && reason.contains("item 2")),
        "{err}"
    );
}

#[test]
fn compression_bombs_are_refused_from_their_length_fields_before_inflating() {
    let export = common::small_export();
    let mut parts = parts_of(&export.to_bytes());
    // 64 MiB of zeros stored in about 64 KiB: a ratio of 1,000.
    let zeros = vec![0u8; 64 << 20];
    let mut bomb = (zeros.len() as u64).to_le_bytes().to_vec();
    bomb.extend(miniz_oxide::deflate::compress_to_vec(&zeros, 9));
    let catl = parts.iter_mut().find(|p| p.0 == tags::CATALOG).unwrap();
    (catl.1, catl.2) = (catl.1 | FLAG_DEFLATE, bomb);
    let reason = refused(&write_sections(&parts), "CATL");
    assert!(reason.contains("compression bomb"), "{reason}");

    // Each within the ratio, together over the total: refused on their length fields alone
    // (these streams would not even inflate).
    let mut parts = parts_of(&export.to_bytes());
    for k in 0..5u8 {
        let stored = 1usize << 20;
        let mut claim = ((stored as u64) * 60).to_le_bytes().to_vec();
        claim.resize(stored, k);
        parts.push(([b'Z', b'Z', b'Z', b'0' + k], FLAG_DEFLATE, claim));
    }
    let reason = refused(&write_sections(&parts), "ZZZ4");
    assert!(reason.contains("inflate to more than"), "{reason}");
}

#[test]
fn amounts_outside_the_documented_range_are_refused() {
    use cartwise::serve::catalog::Catalog;
    use cartwise::serve::export::sections::encode_catalog;
    use cartwise::serve::money::MAX_AMOUNT;
    let export = common::small_export();
    for (field, value) in [("price", -100), ("cost", -1), ("price", MAX_AMOUNT + 1)] {
        let mut products = export.catalog.products().to_vec();
        match field {
            "price" => products[3].price = Some(value),
            _ => products[3].cost = Some(value),
        }
        let catalog = Catalog::new(products).unwrap();
        let mut parts = parts_of(&export.to_bytes());
        parts.iter_mut().find(|p| p.0 == tags::CATALOG).unwrap().2 = encode_catalog(&catalog);
        let reason = refused(&write_sections(&parts), "CATL");
        assert!(
            reason.contains(&format!("{field} {value} is outside 0 to {MAX_AMOUNT}")),
            "{reason}"
        );
    }
    // Where amounts enter from text, the same bound.
    let usd = cartwise::serve::money::Currency::default();
    assert!(usd.parse("10000000000000.00").is_ok());
    assert!(usd.parse("10000000000000.01").is_err());
}
