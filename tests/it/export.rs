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

/// A small shop's export with the tiny transformer, trained once for the model-section tests.
fn with_model() -> &'static Export {
    static EXPORT: std::sync::OnceLock<Export> = std::sync::OnceLock::new();
    EXPORT.get_or_init(|| common::trained_with_model(21, 250, 300, 1_500))
}

/// The export's sections with MODL's payload replaced.
fn with_modl(export: &Export, modl: Vec<u8>) -> Vec<u8> {
    let mut parts = parts_of(&export.to_bytes());
    parts.iter_mut().find(|p| p.0 == tags::MODEL).unwrap().2 = modl;
    write_sections(&parts)
}

/// MODL as version 5 wrote it (FORMAT.md): JSON config, then per tensor name, type, dims, bytes.
fn encode_model_v5(model: &cartwise::serve::model::ModelExport) -> Vec<u8> {
    let mut out = Vec::new();
    let u32 = |out: &mut Vec<u8>, v: usize| out.extend((v as u32).to_le_bytes());
    let json = serde_json::to_vec(&model.config).unwrap();
    u32(&mut out, json.len());
    out.extend(&json);
    u32(&mut out, model.tensors.len());
    for t in &model.tensors {
        for v in [1, 0, t.name.len()] {
            u32(&mut out, v);
        }
        out.extend(t.name.as_bytes());
        let code = match t.dtype.name() {
            "f32" => 0,
            "q5_1" => 7,
            "q8_0" => 8,
            other => panic!("no v5 code for {other}"),
        };
        u32(&mut out, code);
        u32(&mut out, t.dims.len());
        t.dims.iter().for_each(|&d| u32(&mut out, d));
        u32(&mut out, t.bytes.len());
        out.extend(t.bytes.iter());
    }
    out
}

#[test]
fn the_model_section_is_a_gguf_file_any_gguf_reader_opens() {
    use candle_core::quantized::gguf_file::{Content, Value};
    let export = with_model();
    let model = export.model.as_ref().unwrap();
    let modl = parts_of(&export.to_bytes())
        .into_iter()
        .find(|p| p.0 == tags::MODEL)
        .unwrap()
        .2;
    assert_eq!(&modl[..4], b"GGUF");
    let mut reader = std::io::Cursor::new(&modl);
    let content = Content::read(&mut reader).unwrap();
    let meta = |k: &str| content.metadata.get(k).map(|v| format!("{v:?}"));
    assert_eq!(
        meta("general.architecture"),
        Some(format!("{:?}", Value::String("cartwise".into())))
    );
    for (key, want) in [
        ("items", model.config.items),
        ("dim", model.config.dim),
        ("max_cart", model.config.max_cart),
    ] {
        assert_eq!(
            meta(&format!("cartwise.{key}")),
            Some(format!("{:?}", Value::U32(want as u32))),
            "{key}"
        );
    }
    assert_eq!(content.tensor_infos.len(), model.tensors.len());
    let mut quantized = 0;
    for t in &model.tensors {
        let q = content
            .tensor(&mut reader, &t.name, &candle_core::Device::Cpu)
            .unwrap();
        assert_eq!(q.shape().dims(), t.dims.as_slice(), "{}", t.name);
        assert_eq!(format!("{:?}", q.dtype()).to_lowercase(), t.dtype.name());
        assert_eq!(q.data().unwrap().as_ref(), t.bytes.as_slice(), "{}", t.name);
        quantized += usize::from(t.dtype.name() != "f32");
    }
    assert!(quantized >= 2, "only {quantized} quantized tensors");
}

#[test]
fn version_5_files_with_the_old_model_layout_still_read() {
    let export = with_model();
    let mut parts = parts_of(&export.to_bytes());
    parts.iter_mut().find(|p| p.0 == tags::MODEL).unwrap().2 =
        encode_model_v5(export.model.as_ref().unwrap());
    common::dense_rows(&mut parts, export);
    common::without_currency(&mut parts, export);
    let mut v5 = write_sections(&parts);
    common::set_version(&mut v5, 5);
    assert_eq!(
        Export::from_bytes(&v5).unwrap(),
        common::read_before_currency(export, 5)
    );
    // The same old layout in a version 6 file is not GGUF: an error, not a misread.
    let err = Export::from_bytes(&with_modl(
        export,
        encode_model_v5(export.model.as_ref().unwrap()),
    ))
    .unwrap_err();
    assert!(
        matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "MODL" && reason.contains("GGUF")),
        "{err}"
    );
}

#[test]
fn a_damaged_gguf_model_section_is_a_named_error() {
    use candle_core::quantized::gguf_file::{self, Value};
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};
    let export = with_model();
    let good = parts_of(&export.to_bytes())
        .into_iter()
        .find(|p| p.0 == tags::MODEL)
        .unwrap()
        .2;
    let reason_of = |modl: Vec<u8>| match Export::from_bytes(&with_modl(export, modl)) {
        Err(ExportError::Malformed { tag, reason }) if tag == "MODL" => reason,
        other => panic!("expected a malformed MODL, got {other:?}"),
    };
    // Cut short inside the tensor data, and inside the header.
    assert!(reason_of(good[..good.len() - 40].to_vec()).contains("tensor"));
    assert!(reason_of(good[..100].to_vec()).contains("GGUF"));

    // Well-formed GGUF files that are not a model this reader can rebuild.
    let config = &export.model.as_ref().unwrap().config;
    let gguf = |meta: &[(&str, Value)], dtype: GgmlDType| {
        let t = Tensor::zeros((2, 32), candle_core::DType::F32, &Device::Cpu).unwrap();
        let q = QTensor::quantize(&t, dtype).unwrap();
        let meta: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (*k, v)).collect();
        let mut out = std::io::Cursor::new(Vec::new());
        gguf_file::write(&mut out, &meta, &[("w", &q)]).unwrap();
        out.into_inner()
    };
    let keys = |skip: &str| -> Vec<(&'static str, Value)> {
        [
            ("cartwise.items", config.items),
            ("cartwise.tokens", config.tokens),
            ("cartwise.dim", config.dim),
            ("cartwise.heads", config.heads),
            ("cartwise.layers", config.layers),
            ("cartwise.ff", config.ff),
            ("cartwise.max_cart", config.max_cart),
        ]
        .into_iter()
        .filter(|(k, _)| *k != skip)
        .map(|(k, v)| (k, Value::U32(v as u32)))
        .collect()
    };
    let reason = reason_of(gguf(&keys("cartwise.heads"), GgmlDType::Q8_0));
    assert!(
        reason.contains("missing config key cartwise.heads"),
        "{reason}"
    );
    let mut wrong_type = keys("cartwise.heads");
    wrong_type.push(("cartwise.heads", Value::String("two".into())));
    let reason = reason_of(gguf(&wrong_type, GgmlDType::Q8_0));
    assert!(reason.contains("cartwise.heads: expected u32"), "{reason}");
    let reason = reason_of(gguf(&keys(""), GgmlDType::Q4_0));
    assert!(
        reason.contains("tensor w: unsupported storage type Q4_0"),
        "{reason}"
    );
    // A tensor with no values: candle would view its empty buffer's dangling pointer as
    // blocks (an unaligned slice: found by the export fuzz target).
    let empty = {
        let t = Tensor::zeros((0, 32), candle_core::DType::F32, &Device::Cpu).unwrap();
        let q = QTensor::quantize(&t, GgmlDType::F32).unwrap();
        let meta = keys("");
        let meta: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (*k, v)).collect();
        let mut out = std::io::Cursor::new(Vec::new());
        gguf_file::write(&mut out, &meta, &[("w", &q)]).unwrap();
        out.into_inner()
    };
    let reason = reason_of(empty);
    assert!(reason.contains("tensor w has no values"), "{reason}");
    // candle's reader divides by general.alignment; 0 must be an error, not a panic.
    let mut zero_align = keys("");
    zero_align.push(("general.alignment", Value::U32(0)));
    let reason = reason_of(gguf(&zero_align, GgmlDType::Q8_0));
    assert!(reason.contains("general.alignment"), "{reason}");
    // A GGUF model whose tensors do not match its config is caught when the model is rebuilt.
    let loaded = Export::from_bytes(&with_modl(export, gguf(&keys(""), GgmlDType::Q8_0)))
        .unwrap()
        .model
        .unwrap()
        .load(&export.catalog.titles(), None);
    assert!(loaded.is_err());
    // A config no forward can run (zero heads would divide by zero, zero width would chunk by
    // zero, huge sizes would overflow or exhaust memory) is refused as the file is read.
    for (key, value, expect) in [
        ("cartwise.heads", 0, "heads 0 is outside 1..=64"),
        ("cartwise.dim", 0, "dim 0 is outside 1..=1024"),
        ("cartwise.dim", u32::MAX, "dim 4294967295 is outside"),
        ("cartwise.ff", 1 << 30, "ff 1073741824 is outside"),
        ("cartwise.max_cart", 0, "max_cart 0 is outside"),
        ("cartwise.heads", 3, "3 heads do not divide"),
    ] {
        let mut crafted = keys(key);
        crafted.push((key, Value::U32(value)));
        let reason = reason_of(gguf(&crafted, GgmlDType::Q8_0));
        assert!(reason.contains(expect), "{key} = {value}: {reason}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn damaged_gguf_model_sections_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let export = with_model();
        let mut modl = parts_of(&export.to_bytes())
            .into_iter()
            .find(|p| p.0 == tags::MODEL)
            .unwrap()
            .2;
        // Damage concentrated in the header and tensor table, where the parser's decisions are.
        let head = modl.len().min(2_048);
        for (at, byte) in flips {
            modl[at.index(head)] = byte;
        }
        modl.truncate(modl.len() - cut.index(modl.len() / 4));
        if let Ok(back) = Export::from_bytes(&with_modl(export, modl)) {
            if let Ok(model) = back.model.unwrap().load(&export.catalog.titles(), None) {
                let cart = cartwise::serve::model::ModelInput { cart: &[0, 1], ..Default::default() };
                let _ = model.cart_logits(&cart);
            }
        }
    }
}

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
    use cartwise::train::assoc::publish::round_count;
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

/// The reason a hostile file is refused with, when it names `tag`.
fn refused(bytes: &[u8], tag: &str) -> String {
    match Export::from_bytes(bytes) {
        Err(ExportError::Malformed { tag: t, reason }) if t == tag => reason,
        other => panic!("expected a malformed {tag}, got {other:?}"),
    }
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

#[test]
fn a_nan_weight_or_scale_is_refused() {
    use cartwise::serve::model::WeightType;
    use cartwise::serve::suggest::Engine;
    // An f32 weight set to NaN, with valid checksums: the engine refuses to build.
    let mut export = with_model().clone();
    let model = export.model.as_mut().unwrap();
    let tensor = model
        .tensors
        .iter_mut()
        .find(|t| t.dtype == WeightType::F32)
        .unwrap();
    std::sync::Arc::make_mut(&mut tensor.bytes)[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    let name = tensor.name.clone();
    let read = Export::from_bytes(&export.to_bytes()).unwrap();
    let err = Engine::new(read)
        .err()
        .expect("a NaN weight is refused")
        .to_string();
    assert!(err.contains(&format!("tensor {name} holds a NaN")), "{err}");
    // A NaN EASE row scale.
    let mut export = common::small_export();
    export
        .ease
        .as_mut()
        .expect("the small shop has EASE")
        .scales[7] = f32::NAN;
    let reason = refused(&export.to_bytes(), "EASE");
    assert!(reason.contains("row 7's scale NaN"), "{reason}");
}

#[test]
fn product_quantized_item_codes_round_trip_rank_the_catalog_and_are_checked() {
    use cartwise::serve::kernel::Rows;
    use cartwise::serve::suggest::Engine;
    use cartwise::train::pq::quantize;
    let plain = with_model().clone();
    let served = plain
        .model
        .as_ref()
        .unwrap()
        .load(&plain.catalog.titles(), None)
        .unwrap();
    let vectors = served.item_vectors().unwrap();
    let mut export = plain.clone();
    export.pq = Some(std::sync::Arc::new(quantize(&vectors, 16, 4, 3).unwrap()));
    let back = Export::from_bytes(&export.to_bytes()).unwrap();
    assert_eq!(back, export);
    // The engine ranks the catalog with the codes, and mostly as with int8 rows.
    let (pq, int8) = (
        Engine::new(back).unwrap(),
        Engine::new(plain.clone()).unwrap(),
    );
    assert!(matches!(
        pq.scoring_table().unwrap().table.data,
        Rows::Pq(_)
    ));
    assert!(matches!(
        int8.scoring_table().unwrap().table.data,
        Rows::Int8 { .. }
    ));
    let (shared, total) = best_rows_shared(&pq, &int8, &plain.blend);
    assert!(
        shared * 10 >= total * 7,
        "{shared} of {total} top-20 rows shared"
    );
    // Codes for another catalog, codes without the model, a NaN centroid: refused.
    let refused = |e: &Export, says: &str| {
        let err = Export::from_bytes(&e.to_bytes()).unwrap_err();
        assert!(
            matches!(err, ExportError::Malformed { ref tag, ref reason } if tag == "PQIT" && reason.contains(says)),
            "{err}"
        );
    };
    let mut short = export.clone();
    std::sync::Arc::make_mut(short.pq.as_mut().unwrap())
        .codes
        .truncate(249 * 4);
    refused(&short, "covers 249 items, catalog has 250");
    let mut alone = export.clone();
    (alone.model, alone.blend, alone.blend_without_history) = (None, Blend::default(), None);
    refused(&alone, "without the model");
    let mut nan = export.clone();
    std::sync::Arc::make_mut(nan.pq.as_mut().unwrap())
        .codebook
        .centroids[5] = f32::NAN;
    refused(&nan, "not finite");
}

/// Of the model's top-20 catalog items for a few carts by engine `b`, how many engine `a` also
/// ranks in its top 20, and how many there were.
fn best_rows_shared(
    a: &cartwise::serve::suggest::Engine,
    b: &cartwise::serve::suggest::Engine,
    blend: &Blend,
) -> (usize, usize) {
    use cartwise::serve::suggest::{Engine, Query};
    let (mut shared, mut total) = (0, 0);
    for cart in [[0u32, 1], [5, 9], [17, 40], [100, 101]] {
        let top = |e: &Engine| {
            let q = e
                .model_query(&Query::new(&cart, 6, blend))
                .unwrap()
                .expect("the blend consults the model");
            let table = &e.scoring_table().unwrap().table;
            cartwise::serve::kernel::cpu::top_k(table, &q.vector, 20)
                .unwrap()
                .into_iter()
                .map(|h| h.item)
                .collect::<Vec<_>>()
        };
        let (from_a, from_b) = (top(a), top(b));
        total += from_b.len();
        shared += from_b.iter().filter(|i| from_a.contains(i)).count();
    }
    (shared, total)
}

/// An export whose model reads its item vectors from the codes: MODL loses the id table (its
/// padding and query rows stay), the served model's item vectors are the decoded codes, and a
/// model without either is refused with a reason.
#[test]
fn a_model_without_its_id_table_reads_item_vectors_from_the_codes() {
    use cartwise::serve::model::{ITEM_ID_TABLE, ITEM_MARKERS};
    use cartwise::serve::suggest::Engine;
    use cartwise::train::pq::quantize;
    let plain = with_model().clone();
    let stored = plain.model.as_ref().unwrap();
    let titles = plain.catalog.titles();
    let exact = stored.load(&titles, None).unwrap();
    let codes = std::sync::Arc::new(quantize(&exact.item_vectors().unwrap(), 16, 8, 3).unwrap());
    let mut coded = plain.clone();
    coded.model = Some(stored.clone().with_coded_items().unwrap());
    coded.pq = Some(codes.clone());
    let model = coded.model.as_ref().unwrap();
    assert!(model.codes_items());
    assert!(model.tensors.iter().all(|t| t.name != ITEM_ID_TABLE));
    let markers = model
        .tensors
        .iter()
        .find(|t| t.name == ITEM_MARKERS)
        .unwrap();
    assert_eq!(markers.dims, [2, 16]);
    assert!(model.weight_bytes() < stored.weight_bytes());
    let back = Export::from_bytes(&coded.to_bytes()).unwrap();
    assert_eq!(back, coded);
    // Item vectors are the decoded codes; the padding and query rows are the id table's.
    let served = back
        .model
        .as_ref()
        .unwrap()
        .load(&titles, back.pq.as_ref())
        .unwrap();
    let n = plain.catalog.len();
    let decoded: Vec<f32> = (0..n).flat_map(|i| codes.decoded(i)).collect();
    assert_eq!(served.item_vectors().unwrap(), decoded);
    let ends = [n as u32, n as u32 + 1];
    assert_eq!(
        served.item_vectors_of(&ends).unwrap(),
        exact.item_vectors_of(&ends).unwrap()
    );
    // The engine ranks with it, and its model's best items mostly agree with the exact one's.
    let (coded_engine, exact_engine) = (
        Engine::new(back).unwrap(),
        Engine::new(plain.clone()).unwrap(),
    );
    let (shared, total) = best_rows_shared(&coded_engine, &exact_engine, &plain.blend);
    assert!(
        total > 0 && shared * 10 >= total * 6,
        "{shared} of {total} best items shared"
    );
    // Without the codes the model has no item vectors: refused, naming what is missing.
    let err = model.load(&titles, None).err().expect("no item vectors");
    assert!(err.to_string().contains("no item codes"), "{err}");
    let mut without = coded.clone();
    without.pq = None;
    let err = Engine::new(without).err().expect("refused");
    assert!(err.to_string().contains(ITEM_ID_TABLE), "{err}");
}
