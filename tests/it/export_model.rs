//! The model's sections (`MODL`, `TOKN`, `PQIT`): a GGUF file any GGUF reader opens, the version 5
//! layout still read, product-quantized item codes, and every damage or non-finite weight a
//! named error, never a panic.

use crate::common;
use crate::common::{parts_of, refused};

use cartwise::serve::blend::Blend;
use cartwise::serve::export::{tags, write_sections, Export, ExportError};
use proptest::prelude::*;

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

/// Some of tokenizers' deserializers panic on malformed input (the fuzzer found a syntax error
/// inside `decoder` meeting an `expect`), so a title tokenizer is read only when it is JSON made
/// of the parts `train` writes; anything else is a named error, never a panic.
#[test]
fn a_title_tokenizer_of_other_parts_or_broken_json_is_a_named_error() {
    use cartwise::serve::suggest::Engine;
    let export = with_model();
    let good = &export.model.as_ref().unwrap().tokenizer_json;
    assert!(
        good.contains(r#""decoder":null"#),
        "the writer stores no decoder"
    );
    let cases = [
        // What the fuzzer found: the decoder's value cut short, the rest of the file after it.
        (
            good.replace(r#""decoder":null"#, r#""decoder":{"type":"#),
            "not JSON",
        ),
        (
            good.replace(r#""decoder":null"#, r#""decoder":{"type":"WordPiece"}"#),
            r#"decoder "WordPiece" is not one this reader accepts"#,
        ),
        (
            good.replace(
                r#""normalizer":{"type":"BertNormalizer""#,
                r#""normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA""#,
            ),
            r#"normalizer "Precompiled" is not one"#,
        ),
        (
            good.replace(r#""truncation":null"#, r#""truncation":{"max_length":3}"#),
            "truncation is set",
        ),
        (
            good.replace(r#""model":{"type":"WordPiece""#, r#""model":{"type":"BPE""#),
            r#"model "BPE" is not one"#,
        ),
    ];
    for (json, says) in cases {
        assert_ne!(&json, good, "the case changed nothing: {says}");
        let mut bad = export.clone();
        bad.model.as_mut().unwrap().tokenizer_json = json;
        let read = Export::from_bytes(&bad.to_bytes()).unwrap();
        let err = Engine::new(read).err().expect("refused").to_string();
        assert!(
            err.contains("tokenizer JSON") && err.contains(says),
            "{says}: {err}"
        );
    }
}
