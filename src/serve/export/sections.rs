//! Payload encodings of the binary sections (catalog, association CSR, itemsets, seasonal,
//! model, sparse EASE) and of the JSON ones.

use super::codec::{ByteReader, ByteWriter, DecodeError};
use crate::serve::assoc::Itemset;
use crate::serve::assoc::{AssocTable, Neighbor};
use crate::serve::catalog::{safe_link, Catalog, Product, ProductLinks};
use crate::serve::ease::SparseEase;
use crate::serve::kernel::pq::{Codebook, PqRows, CENTROIDS};
use crate::serve::model::{ModelConfig, NamedTensor, WeightType};
use crate::serve::money::{self, Currency};
use crate::serve::rebuy::{RebuyIndex, SCALE as REBUY_SCALE};
use crate::serve::seasonal::{SeasonalIndex, SCALE as SEASON_SCALE};
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::QTensor;
use candle_core::Device;
use serde::{de::DeserializeOwned, Serialize};

/// Stored in a money column where the amount is unknown.
const NO_AMOUNT: i64 = i64::MIN;

/// A JSON section (META, RULE).
pub fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain structs serialize")
}

/// Decodes a JSON section.
pub fn decode_json<T: DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(payload).map_err(|e| format!("invalid JSON: {e}"))
}

/// CATL: ids, titles, category names, category index per item, price and cost per item.
pub fn encode_catalog(catalog: &Catalog) -> Vec<u8> {
    let products = catalog.products();
    let mut categories: Vec<&str> = products.iter().map(|p| p.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let mut w = ByteWriter::default();
    w.strings(products.iter().map(|p| p.id.as_str()));
    w.strings(products.iter().map(|p| p.title.as_str()));
    w.strings(categories.iter().copied());
    for p in products {
        let c = categories
            .binary_search(&p.category.as_str())
            .expect("listed above");
        w.u32(c as u32);
    }
    for p in products {
        w.i64(p.price.unwrap_or(NO_AMOUNT));
    }
    for p in products {
        w.i64(p.cost.unwrap_or(NO_AMOUNT));
    }
    let currency = catalog.currency();
    w.strings(std::iter::once(currency.code().unwrap_or("")));
    w.u32(currency.exponent() as u32);
    w.0
}

/// Decodes CATL, checking every index and that ids are unique; files before version 7 state
/// no currency (amounts in hundredths).
pub fn decode_catalog(payload: &[u8], version: u32) -> Result<Catalog, DecodeError> {
    let mut r = ByteReader::new(payload);
    let ids = r.strings("item ids")?;
    let titles = r.strings("titles")?;
    let categories = r.strings("categories")?;
    let n = ids.len();
    if titles.len() != n {
        return Err(format!("{} titles for {n} items", titles.len()));
    }
    let category_of = r.u32s(n, "category index")?;
    let prices = r.i64s(n, "prices")?;
    let costs = r.i64s(n, "costs")?;
    let currency = if version >= 7 {
        let code = r.strings("currency")?;
        let exponent = r.u32("currency exponent")?;
        match (code.as_slice(), u8::try_from(exponent)) {
            // A file first written before version 7 and rewritten since.
            ([code], Ok(2)) if code.is_empty() => Currency::unstated(),
            ([code], Ok(exponent)) => Currency::new(code, exponent).map_err(|e| e.to_string())?,
            _ => return Err(format!("currency {code:?} with exponent {exponent}")),
        }
    } else {
        Currency::unstated()
    };
    r.finish("catalog")?;
    let amount = |v: i64| (v != NO_AMOUNT).then_some(v);
    for (i, (&price, &cost)) in prices.iter().zip(&costs).enumerate() {
        for (what, v) in [("price", price), ("cost", cost)] {
            if v != NO_AMOUNT && !money::in_range(v) {
                return Err(format!(
                    "item {:?}: {what} {v} is outside 0 to {} minor units",
                    ids[i],
                    money::MAX_AMOUNT
                ));
            }
        }
    }
    let products = ids
        .into_iter()
        .zip(titles)
        .enumerate()
        .map(|(i, (id, title))| {
            let category = categories
                .get(category_of[i] as usize)
                .ok_or_else(|| {
                    format!(
                        "item {id:?} has category index {} of {}",
                        category_of[i],
                        categories.len()
                    )
                })?
                .clone();
            Ok(Product {
                id,
                title,
                category,
                price: amount(prices[i]),
                cost: amount(costs[i]),
            })
        })
        .collect::<Result<Vec<_>, DecodeError>>()?;
    Catalog::new(products)
        .map(|c| c.in_currency(currency))
        .map_err(|e| e.to_string())
}

/// LINK: product image URLs then product page URLs, two string tables of one entry per item
/// (empty: none).
pub fn encode_links(links: &ProductLinks) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.strings(links.image.iter().map(String::as_str));
    w.strings(links.url.iter().map(String::as_str));
    w.0
}

/// Decodes LINK, checking the item count and that every link is one a page may show.
pub fn decode_links(payload: &[u8], items: usize) -> Result<ProductLinks, DecodeError> {
    let mut r = ByteReader::new(payload);
    let image = r.strings("image URLs")?;
    let url = r.strings("page URLs")?;
    r.finish("links")?;
    for (what, list) in [("image URLs", &image), ("page URLs", &url)] {
        if list.len() != items {
            return Err(format!("{} {what} for {items} items", list.len()));
        }
        if let Some((i, bad)) = list
            .iter()
            .enumerate()
            .find(|(_, l)| !l.is_empty() && !safe_link(l))
        {
            return Err(format!(
                "item {i}: {what} entry {bad:?} is not an https, http or site-relative link"
            ));
        }
    }
    Ok(ProductLinks { image, url })
}

/// ASOC: N; per item its order count and row length as a sparse table (most items of a large
/// catalog are never ordered); then neighbour items, counts and scores as columns.
pub fn encode_assoc(t: &AssocTable) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.u32(t.orders);
    let rows: Vec<[u8; 8]> = (0..t.item_counts.len())
        .map(|i| {
            let mut row = [0u8; 8];
            row[..4].copy_from_slice(&t.item_counts[i].to_le_bytes());
            row[4..].copy_from_slice(&(t.offsets[i + 1] - t.offsets[i]).to_le_bytes());
            row
        })
        .collect();
    w.sparse_rows(&rows, [0; 8]);
    w.u32(t.neighbors.len() as u32);
    t.neighbors.iter().for_each(|nb| w.u32(nb.item));
    t.neighbors.iter().for_each(|nb| w.u32(nb.count));
    t.neighbors.iter().for_each(|nb| w.f32(nb.score));
    w.0
}

/// Decodes ASOC of a file of `version` for a catalog of `items` (before version 10 the item
/// counts and CSR offsets are dense columns) and validates the CSR structure.
pub fn decode_assoc(payload: &[u8], version: u32, items: usize) -> Result<AssocTable, DecodeError> {
    let mut r = ByteReader::new(payload);
    let orders = r.u32("order count")?;
    let (item_counts, offsets) = if version >= SPARSE_SINCE {
        let rows = r.sparse_rows::<8>(items, [0; 8], "item rows")?;
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0u32);
        let mut end = 0u32;
        for row in &rows {
            let len = u32::from_le_bytes(row[4..].try_into().expect("4 bytes"));
            end = end
                .checked_add(len)
                .ok_or("item rows: row lengths overflow")?;
            offsets.push(end);
        }
        let counts = rows
            .iter()
            .map(|row| u32::from_le_bytes(row[..4].try_into().expect("4 bytes")))
            .collect();
        (counts, offsets)
    } else {
        let n = r.count(8, "item count")?;
        (r.u32s(n, "item counts")?, r.u32s(n + 1, "row offsets")?)
    };
    let m = r.count(12, "neighbour count")?;
    let items = r.u32s(m, "neighbour items")?;
    let counts = r.u32s(m, "neighbour counts")?;
    let scores = r.f32s(m, "neighbour scores")?;
    r.finish("association table")?;
    let neighbors = items
        .into_iter()
        .zip(counts)
        .zip(scores)
        .map(|((item, count), score)| Neighbor { item, count, score })
        .collect();
    let table = AssocTable {
        orders,
        item_counts,
        offsets,
        neighbors,
    };
    table.validate()?;
    Ok(table)
}

/// ISET: count, then (a, b, c, count) per itemset.
pub fn encode_itemsets(sets: &[Itemset]) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.u32(sets.len() as u32);
    for s in sets {
        s.items.iter().for_each(|&i| w.u32(i));
        w.u32(s.count);
    }
    w.0
}

/// Decodes ISET.
pub fn decode_itemsets(payload: &[u8]) -> Result<Vec<Itemset>, DecodeError> {
    let mut r = ByteReader::new(payload);
    let n = r.count(16, "itemset count")?;
    let raw = r.u32s(n * 4, "itemsets")?;
    r.finish("itemsets")?;
    Ok(raw
        .chunks_exact(4)
        .map(|c| Itemset {
            items: [c[0], c[1], c[2]],
            count: c[3],
        })
        .collect())
}

/// The seasonal row of an item without a signal: 1.0× in every month.
const NEUTRAL_SEASON: [u8; 12] = [SEASON_SCALE as u8; 12];

/// The rebuy factor of an item without data: 1.0×.
const NEUTRAL_REBUY: [u8; 1] = [REBUY_SCALE as u8];

/// First version whose SEAS and RBUY store only the items that differ from neutral.
const SPARSE_SINCE: u32 = 10;

/// SEAS: the item count, then only the items with a seasonal signal, as (index, 12 factors).
pub fn encode_seasonal(s: &SeasonalIndex) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.sparse_rows(&s.factors, NEUTRAL_SEASON);
    w.0
}

/// Decodes SEAS of a file of `version` for a catalog of `items` (before version 10 every item's
/// row is stored).
pub fn decode_seasonal(
    payload: &[u8],
    version: u32,
    items: usize,
) -> Result<SeasonalIndex, DecodeError> {
    let mut r = ByteReader::new(payload);
    let factors = if version >= SPARSE_SINCE {
        r.sparse_rows(items, NEUTRAL_SEASON, "factors")?
    } else {
        let n = r.count(12, "item count")?;
        r.take(n * 12, "factors")?
            .chunks_exact(12)
            .map(|c| c.try_into().expect("12 bytes"))
            .collect()
    };
    r.finish("seasonal index")?;
    Ok(SeasonalIndex { factors })
}

/// RBUY: the item count, then only the items whose factor is not 1.0×, as (index, factor).
pub fn encode_rebuy(r: &RebuyIndex) -> Vec<u8> {
    let rows: Vec<[u8; 1]> = r.factors.iter().map(|&f| [f]).collect();
    let mut w = ByteWriter::default();
    w.sparse_rows(&rows, NEUTRAL_REBUY);
    w.0
}

/// Decodes RBUY of a file of `version` for a catalog of `items` (version 9 stores one byte per
/// item).
pub fn decode_rebuy(payload: &[u8], version: u32, items: usize) -> Result<RebuyIndex, DecodeError> {
    let mut r = ByteReader::new(payload);
    let factors = if version >= SPARSE_SINCE {
        let rows = r.sparse_rows(items, NEUTRAL_REBUY, "factors")?;
        rows.into_iter().map(|[f]| f).collect()
    } else {
        let n = r.count(1, "item count")?;
        r.take(n, "factors")?.to_vec()
    };
    r.finish("rebuy index")?;
    Ok(RebuyIndex { factors })
}

/// Prefix of the model's GGUF metadata keys (GGUF's `general.architecture`).
const GGUF_ARCH: &str = "cartwise";

/// MODL (version 6): a GGUF file written by candle's `gguf_file::write`: the config as `u32`
/// metadata `cartwise.<field>`, the tensors sorted by name in their stored types.
pub fn encode_model(config: &ModelConfig, tensors: &[NamedTensor]) -> Vec<u8> {
    let arch = Value::String(GGUF_ARCH.to_string());
    let fields: Vec<(String, Value)> = [
        ("items", config.items),
        ("tokens", config.tokens),
        ("dim", config.dim),
        ("heads", config.heads),
        ("layers", config.layers),
        ("ff", config.ff),
        ("max_cart", config.max_cart),
        ("max_history", config.max_history),
    ]
    .iter()
    .map(|&(k, v)| (format!("{GGUF_ARCH}.{k}"), Value::U32(v as u32)))
    .collect();
    let mut metadata = vec![("general.architecture", &arch)];
    metadata.extend(fields.iter().map(|(k, v)| (k.as_str(), v)));
    let qtensors: Vec<(&str, QTensor)> = tensors
        .iter()
        .map(|t| {
            let q = qtensor_from_ggml(t.dtype.ggml(), &t.bytes, t.dims.clone(), &Device::Cpu)
                .unwrap_or_else(|e| panic!("tensor {}: bytes do not fit its shape: {e}", t.name));
            (t.name.as_str(), q)
        })
        .collect();
    let refs: Vec<(&str, &QTensor)> = qtensors.iter().map(|(n, q)| (*n, q)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &refs).expect("writing to memory cannot fail");
    out.into_inner()
}

/// Decodes MODL: GGUF from version 6 on, the private layout before (see `decode_model_v5`).
pub fn decode_model(
    payload: &[u8],
    version: u32,
) -> Result<(ModelConfig, Vec<NamedTensor>), DecodeError> {
    if version >= 6 {
        decode_model_gguf(payload)
    } else {
        decode_model_v5(payload)
    }
}

/// Decodes a GGUF MODL with candle's reader, checking the config keys (`max_history` may be
/// absent: 0) and each tensor's shape and type before its bytes are read.
fn decode_model_gguf(payload: &[u8]) -> Result<(ModelConfig, Vec<NamedTensor>), DecodeError> {
    // candle divides by `general.alignment` unchecked (0 would panic); the writer never sets it,
    // so a payload naming it is refused before candle parses it.
    if payload
        .windows(b"general.alignment".len())
        .any(|w| w == b"general.alignment")
    {
        return Err("GGUF general.alignment is not supported (the writer uses 32)".into());
    }
    let mut reader = std::io::Cursor::new(payload);
    let content = gguf_file::Content::read(&mut reader).map_err(|e| format!("GGUF: {e}"))?;
    let field = |key: &str, optional: bool| -> Result<usize, DecodeError> {
        let full = format!("{GGUF_ARCH}.{key}");
        match content.metadata.get(&full) {
            Some(Value::U32(v)) => Ok(*v as usize),
            Some(other) => Err(format!(
                "GGUF {full}: expected u32, found {:?}",
                other.value_type()
            )),
            None if optional => Ok(0),
            None => Err(format!("GGUF: missing config key {full}")),
        }
    };
    let config = ModelConfig {
        items: field("items", false)?,
        tokens: field("tokens", false)?,
        dim: field("dim", false)?,
        heads: field("heads", false)?,
        layers: field("layers", false)?,
        ff: field("ff", false)?,
        max_cart: field("max_cart", false)?,
        max_history: field("max_history", true)?,
    };
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let info = &content.tensor_infos[name];
        let dtype = WeightType::from_ggml(info.ggml_dtype).ok_or(format!(
            "tensor {name}: unsupported storage type {:?}",
            info.ggml_dtype
        ))?;
        let dims = info.shape.dims().to_vec();
        let elements = dims
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or(format!("tensor {name}: shape overflows"))?;
        // candle views the bytes as blocks through a raw pointer; the dangling pointer of an
        // empty buffer is not aligned for them (found by fuzzing). A model has no empty tensor.
        if elements == 0 {
            return Err(format!("tensor {name} has no values"));
        }
        let size = dtype.bytes_for(elements).ok_or(format!(
            "tensor {name}: {elements} values do not fill {dtype:?} blocks"
        ))?;
        // Checked before candle allocates for it: a damaged shape must not ask for gigabytes.
        if size > payload.len() {
            return Err(format!(
                "tensor {name}: {elements} {dtype:?} values need {size} bytes, the section has {}",
                payload.len()
            ));
        }
        let bytes = content
            .tensor(&mut reader, name, &Device::Cpu)
            .and_then(|q| q.data().map(|d| d.into_owned()))
            .map_err(|e| format!("tensor {name}: {e}"))?;
        tensors.push(NamedTensor {
            name: name.clone(),
            dims,
            dtype,
            bytes: bytes.into(),
        });
    }
    Ok((config, tensors))
}

/// Decodes a version 5 (or older) MODL: JSON model config (length-prefixed), tensor count, then
/// per tensor (sorted by name): name (string table of one), storage type code, rank, dims, byte
/// length, bytes; each tensor's size is checked against its shape.
fn decode_model_v5(payload: &[u8]) -> Result<(ModelConfig, Vec<NamedTensor>), DecodeError> {
    let mut r = ByteReader::new(payload);
    let n = r.count(1, "config length")?;
    let config: ModelConfig = decode_json(r.take(n, "config")?)?;
    let count = r.count(12, "tensor count")?;
    let mut tensors = Vec::with_capacity(count);
    for _ in 0..count {
        let name = r
            .strings("tensor name")?
            .pop()
            .ok_or("tensor without a name")?;
        let code = r.u32("tensor type")?;
        let dtype = WeightType::from_code(code)
            .ok_or(format!("tensor {name}: unknown storage type {code}"))?;
        let rank = r.count(4, "tensor rank")?;
        let dims: Vec<usize> = r
            .u32s(rank, "tensor dims")?
            .into_iter()
            .map(|d| d as usize)
            .collect();
        let elements = dims
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or(format!("tensor {name}: shape overflows"))?;
        // candle views the bytes as blocks through a raw pointer; the dangling pointer of an
        // empty buffer is not aligned for them (found by fuzzing). A model has no empty tensor.
        if elements == 0 {
            return Err(format!("tensor {name} has no values"));
        }
        let expected = dtype.bytes_for(elements).ok_or(format!(
            "tensor {name}: {elements} values do not fill {dtype:?} blocks"
        ))?;
        let len = r.count(1, "tensor byte length")?;
        if len != expected {
            return Err(format!(
                "tensor {name}: {len} bytes for {elements} {dtype:?} values, expected {expected}"
            ));
        }
        let bytes = r.take(len, &format!("tensor {name}"))?.to_vec();
        tensors.push(NamedTensor {
            name,
            dims,
            dtype,
            bytes: bytes.into(),
        });
    }
    r.finish("model")?;
    Ok((config, tensors))
}

/// EASE: λ, item count, CSR offsets, per-row scales, then kept items (byte planes) and int8
/// weights.
pub fn encode_ease(e: &SparseEase) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.f32(e.lambda);
    w.u32(e.items() as u32);
    e.offsets.iter().for_each(|&o| w.u32(o));
    e.scales.iter().for_each(|&s| w.f32(s));
    w.u32(e.items.len() as u32);
    w.u32_planes(&e.items);
    w.bytes(&e.weights.iter().map(|&q| q as u8).collect::<Vec<u8>>());
    w.0
}

/// Decodes EASE and validates its structure; version 3 files stored the items interleaved.
pub fn decode_ease(payload: &[u8], version: u32) -> Result<SparseEase, DecodeError> {
    let mut r = ByteReader::new(payload);
    let lambda = f32::from_bits(r.u32("lambda")?);
    let n = r.count(8, "item count")?;
    let offsets = r.u32s(n + 1, "row offsets")?;
    let scales = r.f32s(n, "row scales")?;
    let m = r.count(5, "weight count")?;
    let items = if version >= 4 {
        r.u32_planes(m, "weight items")?
    } else {
        r.u32s(m, "weight items")?
    };
    let weights = r.take(m, "weights")?.iter().map(|&b| b as i8).collect();
    r.finish("sparse EASE")?;
    if !lambda.is_finite() || lambda < 0.0 {
        return Err(format!(
            "lambda {lambda} is not a finite non-negative number"
        ));
    }
    if let Some(i) = scales.iter().position(|s| !s.is_finite() || *s < 0.0) {
        return Err(format!(
            "row {i}'s scale {} is not a finite non-negative number",
            scales[i]
        ));
    }
    let table = SparseEase {
        lambda,
        offsets,
        items,
        weights,
        scales,
    };
    table.validate(n)?;
    Ok(table)
}

/// Encodes PQIT: dim, subspaces, the centroids, the code count and each item's codes.
pub fn encode_pq(pq: &PqRows) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.u32(pq.codebook.dim as u32);
    w.u32(pq.codebook.subspaces as u32);
    pq.codebook.centroids.iter().for_each(|&c| w.f32(c));
    w.u32(pq.rows() as u32);
    w.bytes(&pq.codes);
    w.0
}

/// Decodes PQIT, checking its shape and that every centroid is finite.
pub fn decode_pq(payload: &[u8]) -> Result<PqRows, DecodeError> {
    let mut r = ByteReader::new(payload);
    let dim = r.count(1, "dim")?;
    let subspaces = r.count(1, "subspaces")?;
    if dim == 0 || dim > crate::serve::model::MAX_DIM {
        return Err(format!(
            "dim {dim} is outside 1..={}",
            crate::serve::model::MAX_DIM
        ));
    }
    let centroids = r.f32s(dim * CENTROIDS, "centroids")?;
    let codebook = Codebook::new(dim, subspaces, centroids).map_err(|e| e.to_string())?;
    let rows = r.count(subspaces, "rows")?;
    let codes = r.take(rows * subspaces, "codes")?.to_vec();
    r.finish("product-quantized item table")?;
    Ok(PqRows { codebook, codes })
}
