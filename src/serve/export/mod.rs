//! The export file (`.cwm`): one versioned, checksummed container of sections, written natively
//! and read by both builds. The byte layout is specified in `model-export/FORMAT.md`.
//!
//! The container and the [`Export`] it decodes to live here, the byte codec in [`codec`], each
//! section's encoding in [`sections`]. It depends on the layers it stores (catalog, rules,
//! association, EASE, seasonal, blend, pricing's acceptance curve, the model's stored form) and on
//! nothing above them: reading an export never needs suggest or training.

mod codec;
pub mod sections;
pub mod signature;

use self::codec::DecodeError;
use crate::serve::assoc::AssocTable;
use crate::serve::assoc::Itemset;
use crate::serve::blend::Blend;
use crate::serve::catalog::{Catalog, ProductLinks};
use crate::serve::ease::SparseEase;
use crate::serve::kernel::pq::PqRows;
use crate::serve::model::ModelExport;
use crate::serve::pricing::Acceptance;
use crate::serve::rebuy::RebuyIndex;
use crate::serve::rules::MerchantRules;
use crate::serve::seasonal::SeasonalIndex;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

/// First eight bytes of every export.
pub const MAGIC: [u8; 8] = *b"CARTWISE";
/// The format version this build writes and the newest it reads.
pub const VERSION: u32 = 9;
/// Bytes in the fixed header before the section table.
pub const HEADER_LEN: usize = 32;
/// Bytes per section table entry.
pub const ENTRY_LEN: usize = 32;
/// Section payloads start on multiples of this, padded with zeros.
pub const ALIGN: usize = 8;
/// Section flag: a reader that does not know this section must refuse the file.
pub const FLAG_REQUIRED: u32 = 1;
/// Section flag: the payload is `u64` raw length + a raw DEFLATE stream of the section.
pub const FLAG_DEFLATE: u32 = 2;
/// Most bytes all sections of one file may inflate to together (a crafted length must not
/// exhaust wasm memory); a 100,000-item export inflates to about 40 MiB.
pub const MAX_INFLATED: u64 = 256 << 20;
/// Most a section may inflate per stored byte: DEFLATE reaches 1,032:1 on zeros, exports
/// stay under 5:1, so a higher ratio is a bomb, refused before inflating.
pub const MAX_RATIO: u64 = 64;
/// Sections that inflate to at most this many bytes are not held to [`MAX_RATIO`].
const RATIO_FREE: u64 = 64 << 10;
/// A section is stored compressed only when DEFLATE saves at least this share of its bytes.
const MIN_SAVING: f64 = 0.1;
/// Upper bound on sections, so a corrupt count cannot make the reader allocate wildly.
const MAX_SECTIONS: usize = 1024;

/// A four-byte section tag such as `CATL`.
pub type Tag = [u8; 4];

/// Section tags (BLND is new in v2, EASE in v3, PRIC in v5, SIGN in v6, PQIT in v8).
pub mod tags {
    use super::Tag;
    pub const META: Tag = *b"META";
    pub const CATALOG: Tag = *b"CATL";
    pub const ASSOC: Tag = *b"ASOC";
    pub const ITEMSETS: Tag = *b"ISET";
    pub const SEASONAL: Tag = *b"SEAS";
    pub const RULES: Tag = *b"RULE";
    pub const MODEL: Tag = *b"MODL";
    pub const TOKENIZER: Tag = *b"TOKN";
    pub const BLEND: Tag = *b"BLND";
    pub const EASE: Tag = *b"EASE";
    pub const PRICING: Tag = *b"PRIC";
    /// Product images and pages (new in v6).
    pub const LINKS: Tag = *b"LINK";
    /// The model's item vectors, product-quantized (new in v8).
    pub const PQ: Tag = *b"PQIT";
    /// Per-item rebuy factors (new in v9, optional).
    pub const REBUY: Tag = *b"RBUY";
    /// The Ed25519 signature over the rest of the file (see `signature`).
    pub const SIGN: Tag = *b"SIGN";
    /// Every tag this reader understands.
    pub const KNOWN: [Tag; 15] = [
        META, CATALOG, ASSOC, ITEMSETS, SEASONAL, RULES, MODEL, TOKENIZER, BLEND, EASE, PRICING,
        LINKS, PQ, REBUY, SIGN,
    ];
}

/// Why an export could not be read; never a panic, always one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("not a cartwise export: the file does not start with \"CARTWISE\"")]
    BadMagic,
    #[error("export is truncated: {0}")]
    Truncated(String),
    #[error("export format version {found} is newer than this reader (version {supported}); upgrade cartwise")]
    FutureVersion { found: u32, supported: u32 },
    #[error("export header or section table is corrupted (checksum mismatch)")]
    TableChecksum,
    #[error("export section {tag} is corrupted (checksum mismatch)")]
    SectionChecksum { tag: String },
    #[error("export section {tag} is malformed: {reason}")]
    Malformed { tag: String, reason: String },
    #[error("export lacks required section {0}")]
    Missing(String),
    #[error("export section {0} is required but unknown to this reader; upgrade cartwise")]
    UnknownRequired(String),
}

/// Printable form of a tag.
pub fn tag_name(tag: &Tag) -> String {
    tag.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// One entry of the section table, as found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionEntry {
    #[serde(serialize_with = "serialize_tag")]
    pub tag: Tag,
    pub flags: u32,
    pub offset: u64,
    pub length: u64,
    pub crc32: u32,
}

fn serialize_tag<S: serde::Serializer>(tag: &Tag, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&tag_name(tag))
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks the container (magic, version, length, checksums, layout) and lists its sections.
pub fn read_sections(bytes: &[u8]) -> Result<Vec<SectionEntry>, ExportError> {
    if bytes.len() < HEADER_LEN {
        if bytes.len() >= 8 && bytes[..8] != MAGIC {
            return Err(ExportError::BadMagic);
        }
        return Err(ExportError::Truncated(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    if bytes[..8] != MAGIC {
        return Err(ExportError::BadMagic);
    }
    let version = read_u32(bytes, 8);
    if version > VERSION {
        return Err(ExportError::FutureVersion {
            found: version,
            supported: VERSION,
        });
    }
    let declared_len = read_u64(bytes, 16);
    if declared_len != bytes.len() as u64 {
        return Err(ExportError::Truncated(format!(
            "{} bytes, header says {declared_len}",
            bytes.len()
        )));
    }
    let count = read_u32(bytes, 12) as usize;
    let table_end = HEADER_LEN + count.min(MAX_SECTIONS + 1) * ENTRY_LEN;
    if version == 0 || count > MAX_SECTIONS || table_end > bytes.len() {
        return Err(ExportError::TableChecksum);
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[..24]);
    crc.update(&bytes[HEADER_LEN..table_end]);
    if crc.finalize() != read_u32(bytes, 24) || read_u32(bytes, 28) != 0 {
        return Err(ExportError::TableChecksum);
    }
    let mut entries = Vec::with_capacity(count);
    let mut cursor = table_end;
    for k in 0..count {
        let e = HEADER_LEN + k * ENTRY_LEN;
        let entry = SectionEntry {
            tag: bytes[e..e + 4].try_into().expect("4 bytes"),
            flags: read_u32(bytes, e + 4),
            offset: read_u64(bytes, e + 8),
            length: read_u64(bytes, e + 16),
            crc32: read_u32(bytes, e + 24),
        };
        let name = tag_name(&entry.tag);
        let malformed = |reason: String| ExportError::Malformed {
            tag: name.clone(),
            reason,
        };
        let start =
            usize::try_from(entry.offset).map_err(|_| malformed("offset too large".into()))?;
        let len =
            usize::try_from(entry.length).map_err(|_| malformed("length too large".into()))?;
        let end = start
            .checked_add(len)
            .ok_or_else(|| malformed("length overflows".into()))?;
        if start < cursor || start % ALIGN != 0 || end > bytes.len() {
            return Err(malformed(format!(
                "bytes {start}..{end} overlap, are unaligned or lie outside the file"
            )));
        }
        if bytes[cursor..start].iter().any(|&b| b != 0) {
            return Err(malformed("padding before the section is not zero".into()));
        }
        if crc32fast::hash(&bytes[start..end]) != entry.crc32 {
            return Err(ExportError::SectionChecksum { tag: name });
        }
        if entry.flags & FLAG_REQUIRED != 0 && !tags::KNOWN.contains(&entry.tag) {
            return Err(ExportError::UnknownRequired(name));
        }
        cursor = end;
        entries.push(entry);
    }
    if cursor != bytes.len() {
        return Err(ExportError::Malformed {
            tag: "file".into(),
            reason: format!("{} bytes after the last section", bytes.len() - cursor),
        });
    }
    check_inflation(bytes, &entries)?;
    Ok(entries)
}

/// Refuses compression bombs from the length fields alone, before anything is inflated: a
/// section claiming more than [`MAX_RATIO`] times its stored size, or sections claiming more
/// than [`MAX_INFLATED`] together.
fn check_inflation(bytes: &[u8], entries: &[SectionEntry]) -> Result<(), ExportError> {
    let mut total = 0u64;
    for entry in entries.iter().filter(|e| e.flags & FLAG_DEFLATE != 0) {
        let at = entry.offset as usize;
        let Some(len) = bytes.get(at..at + 8).filter(|_| entry.length >= 8) else {
            continue; // too short: section_payload names it
        };
        let raw = u64::from_le_bytes(len.try_into().expect("eight bytes"));
        let malformed = |reason: String| ExportError::Malformed {
            tag: tag_name(&entry.tag),
            reason,
        };
        if raw > RATIO_FREE && raw / MAX_RATIO > entry.length {
            return Err(malformed(format!(
                "{} stored bytes claim to inflate to {raw}, over {MAX_RATIO} times their size \
                 (a compression bomb?)",
                entry.length
            )));
        }
        total = total.saturating_add(raw);
        if total > MAX_INFLATED {
            return Err(malformed(format!(
                "sections inflate to more than {MAX_INFLATED} bytes together"
            )));
        }
    }
    Ok(())
}

/// Lays out sections behind a header and section table; the inverse of [`read_sections`].
pub fn write_sections(sections: &[(Tag, u32, Vec<u8>)]) -> Vec<u8> {
    write_sections_as(VERSION, sections)
}

/// [`write_sections`] with the header's version set to `version` (how a file of that version
/// is laid out: what a signature over an older file covers).
pub fn write_sections_as(version: u32, sections: &[(Tag, u32, Vec<u8>)]) -> Vec<u8> {
    let table_end = HEADER_LEN + sections.len() * ENTRY_LEN;
    let mut offsets = Vec::with_capacity(sections.len());
    let mut cursor = table_end;
    for (_, _, payload) in sections {
        cursor = cursor.next_multiple_of(ALIGN);
        offsets.push(cursor);
        cursor += payload.len();
    }
    let mut out = vec![0u8; cursor];
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&version.to_le_bytes());
    out[12..16].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    out[16..24].copy_from_slice(&(cursor as u64).to_le_bytes());
    for (k, ((tag, flags, payload), &offset)) in sections.iter().zip(&offsets).enumerate() {
        let e = HEADER_LEN + k * ENTRY_LEN;
        out[e..e + 4].copy_from_slice(tag);
        out[e + 4..e + 8].copy_from_slice(&flags.to_le_bytes());
        out[e + 8..e + 16].copy_from_slice(&(offset as u64).to_le_bytes());
        out[e + 16..e + 24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        out[e + 24..e + 28].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        out[offset..offset + payload.len()].copy_from_slice(payload);
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out[..24]);
    crc.update(&out[HEADER_LEN..table_end]);
    let table_crc = crc.finalize();
    out[24..28].copy_from_slice(&table_crc.to_le_bytes());
    out
}

/// A section's payload as its decoder reads it: the stored bytes, inflated when the section is
/// flagged [`FLAG_DEFLATE`].
pub fn section_payload<'a>(
    bytes: &'a [u8],
    entry: &SectionEntry,
) -> Result<Cow<'a, [u8]>, ExportError> {
    let stored = &bytes[entry.offset as usize..(entry.offset + entry.length) as usize];
    if entry.flags & FLAG_DEFLATE == 0 {
        return Ok(Cow::Borrowed(stored));
    }
    let malformed = |reason: String| ExportError::Malformed {
        tag: tag_name(&entry.tag),
        reason,
    };
    let Some((len, stream)) = stored.split_first_chunk::<8>() else {
        return Err(malformed(
            "compressed payload shorter than its length field".into(),
        ));
    };
    let raw_len = u64::from_le_bytes(*len);
    if raw_len > MAX_INFLATED {
        return Err(malformed(format!(
            "compressed payload claims {raw_len} bytes, over the {MAX_INFLATED}-byte limit"
        )));
    }
    let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(stream, raw_len as usize)
        .map_err(|e| malformed(format!("compressed payload does not inflate: {e}")))?;
    if raw.len() as u64 != raw_len {
        return Err(malformed(format!(
            "compressed payload inflates to {} bytes, its length field says {raw_len}",
            raw.len()
        )));
    }
    Ok(Cow::Owned(raw))
}

/// Stores a section DEFLATE-compressed when that saves at least [`MIN_SAVING`] of its bytes.
fn deflate_if_smaller(tag: Tag, flags: u32, raw: Vec<u8>) -> (Tag, u32, Vec<u8>) {
    let stream = miniz_oxide::deflate::compress_to_vec(&raw, 9);
    if ((stream.len() + 8) as f64) > raw.len() as f64 * (1.0 - MIN_SAVING) {
        return (tag, flags, raw);
    }
    let mut packed = (raw.len() as u64).to_le_bytes().to_vec();
    packed.extend_from_slice(&stream);
    (tag, flags | FLAG_DEFLATE, packed)
}

/// Facts about how an export was made, shown by `inspect` and `engine.info()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    /// Program and version that wrote the file.
    pub generator: String,
    /// Orders read, before the oversized-order cap.
    pub orders_read: u64,
    /// Order lines accepted.
    pub order_lines: u64,
    /// Rows rejected at ingest, orders and products together.
    pub rejected_rows: u64,
    /// Orders left out of counting for having too many distinct items.
    pub oversized_orders: u64,
    /// The cap behind `oversized_orders`.
    pub max_order_items: u64,
}

/// Everything an export holds, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The format version of the file it was read from ([`VERSION`] for one built in memory,
    /// which [`Export::to_bytes`] always writes).
    pub version: u32,
    pub meta: Meta,
    pub catalog: Catalog,
    pub assoc: AssocTable,
    pub itemsets: Vec<Itemset>,
    pub seasonal: SeasonalIndex,
    /// What a shopper's earlier purchase of each item is worth as a rebuy (every factor 1.0 in
    /// files without RBUY).
    pub rebuy: RebuyIndex,
    pub rules: MerchantRules,
    /// The basket transformer, when the export was trained with one.
    pub model: Option<ModelExport>,
    /// The pruned EASE item-to-item weights, when the export was trained with them.
    pub ease: Option<SparseEase>,
    /// How suggest weighs its evidence (association only in files without BLND); for a call
    /// without a shopper history, [`Export::blend_without_history`] when there is one.
    pub blend: Blend,
    /// How suggest weighs its evidence for a call without a shopper history, when training
    /// fitted it apart (BLND's `withoutHistory`): the validation carts of a shop with customer
    /// ids nearly all carry a history, so `blend` is fitted for shoppers who have one.
    pub blend_without_history: Option<Blend>,
    /// How shoppers respond to bundle discounts (the prior in files without PRIC).
    pub acceptance: Acceptance,
    /// Product images and pages (none in files without LINK).
    pub links: ProductLinks,
    /// The model's item vectors as product-quantization codes, one row per catalog item: what
    /// the engine ranks the catalog with instead of int8 rows, when present (needs `model`),
    /// and, for a model stored without its id table, the item vectors it reads.
    pub pq: Option<Arc<PqRows>>,
}

/// An optional JSON section, decoded and validated; the type's default when the file has none.
/// The BLND section: the blend's weights at top level (as every version wrote them) and, when
/// fitted apart, the blend for calls without a history under `withoutHistory` (an engine that
/// predates it ignores the key and ranks every call by the top-level blend).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlendSection {
    #[serde(flatten)]
    blend: Blend,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    without_history: Option<Blend>,
}

impl BlendSection {
    fn validate(&self) -> Result<(), String> {
        self.blend.validate()?;
        match &self.without_history {
            Some(b) => b.validate().map_err(|e| format!("withoutHistory: {e}")),
            None => Ok(()),
        }
    }
}

/// How to report a section that does not decode or does not fit: an error naming its tag.
fn malformed_in(tag: Tag) -> impl Fn(String) -> ExportError {
    move |reason| ExportError::Malformed {
        tag: tag_name(&tag),
        reason,
    }
}

/// A file's sections, for reading the optional ones: absent is a default, present must decode
/// and fit the catalog's `items`.
struct Optional<'a> {
    bytes: &'a [u8],
    entries: &'a [SectionEntry],
    items: usize,
}

impl Optional<'_> {
    /// The section's payload when the file has it.
    fn payload(&self, tag: Tag) -> Result<Option<Cow<'_, [u8]>>, ExportError> {
        self.entries
            .iter()
            .find(|e| e.tag == tag)
            .map(|entry| section_payload(self.bytes, entry))
            .transpose()
    }

    /// A binary section (`None` when absent), checked to cover the catalog: `rows` counts what it
    /// covers, `what` names it in the error.
    fn binary<T>(
        &self,
        tag: Tag,
        what: &str,
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
        rows: impl FnOnce(&T) -> usize,
    ) -> Result<Option<T>, ExportError> {
        let Some(payload) = self.payload(tag)? else {
            return Ok(None);
        };
        let malformed = malformed_in(tag);
        let value = decode(&payload).map_err(&malformed)?;
        match (rows(&value), self.items) {
            (got, n) if got == n => Ok(Some(value)),
            (got, n) => Err(malformed(format!(
                "{what} covers {got} items, catalog has {n}"
            ))),
        }
    }

    /// A JSON section (its default when absent), checked by `validate`.
    fn json<T: serde::de::DeserializeOwned + Default>(
        &self,
        tag: Tag,
        validate: impl Fn(&T) -> Result<(), String>,
    ) -> Result<T, ExportError> {
        let Some(payload) = self.payload(tag)? else {
            return Ok(T::default());
        };
        let malformed = malformed_in(tag);
        let value: T = sections::decode_json(&payload).map_err(&malformed)?;
        validate(&value).map_err(malformed)?;
        Ok(value)
    }
}

impl Export {
    /// The blend a call ranks by: [`Export::blend_without_history`] when the shopper's history
    /// (its known items) is empty and the export has one, else [`Export::blend`].
    pub fn blend_for(&self, history: &[u32]) -> &Blend {
        match (&self.blend_without_history, history.is_empty()) {
            (Some(without), true) => without,
            _ => &self.blend,
        }
    }

    /// Reads and validates a whole export; unknown optional sections are skipped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ExportError> {
        let entries = read_sections(bytes)?;
        // read_sections checked the header and that the version is one this build reads.
        let version = read_u32(bytes, 8);
        let payload = |tag: Tag| -> Result<Cow<[u8]>, ExportError> {
            let entry = entries
                .iter()
                .find(|e| e.tag == tag)
                .ok_or_else(|| ExportError::Missing(tag_name(&tag)))?;
            section_payload(bytes, entry)
        };
        let malformed = malformed_in;
        let meta = sections::decode_json(&payload(tags::META)?).map_err(malformed(tags::META))?;
        let catalog = sections::decode_catalog(&payload(tags::CATALOG)?, version)
            .map_err(malformed(tags::CATALOG))?;
        let assoc =
            sections::decode_assoc(&payload(tags::ASSOC)?).map_err(malformed(tags::ASSOC))?;
        let itemsets = sections::decode_itemsets(&payload(tags::ITEMSETS)?)
            .map_err(malformed(tags::ITEMSETS))?;
        let seasonal = sections::decode_seasonal(&payload(tags::SEASONAL)?)
            .map_err(malformed(tags::SEASONAL))?;
        let rules: MerchantRules =
            sections::decode_json(&payload(tags::RULES)?).map_err(malformed(tags::RULES))?;
        rules
            .validate()
            .and_then(|_| crate::serve::pricing::check_catalog(&rules, &catalog))
            .map_err(|e| malformed(tags::RULES)(e.to_string()))?;
        let n = catalog.len();
        let mismatch =
            |what: &str, got: usize| format!("{what} covers {got} items, catalog has {n}");
        if assoc.items() != n {
            return Err(malformed(tags::ASSOC)(mismatch("table", assoc.items())));
        }
        if seasonal.factors.len() != n {
            return Err(malformed(tags::SEASONAL)(mismatch(
                "index",
                seasonal.factors.len(),
            )));
        }
        if let Some(set) = itemsets
            .iter()
            .find(|s| s.items.iter().any(|&i| i as usize >= n))
        {
            return Err(malformed(tags::ITEMSETS)(format!(
                "itemset {:?} names an item out of range",
                set.items
            )));
        }
        let model = match (
            entries.iter().any(|e| e.tag == tags::MODEL),
            entries.iter().any(|e| e.tag == tags::TOKENIZER),
        ) {
            (false, false) => None,
            (true, true) => {
                let (config, tensors) = sections::decode_model(&payload(tags::MODEL)?, version)
                    .map_err(malformed(tags::MODEL))?;
                let tokenizer_json = String::from_utf8(payload(tags::TOKENIZER)?.into_owned())
                    .map_err(|e| malformed(tags::TOKENIZER)(format!("invalid UTF-8: {e}")))?;
                if let Some(problem) = config.problem() {
                    return Err(malformed(tags::MODEL)(problem));
                }
                if config.items != n {
                    return Err(malformed(tags::MODEL)(mismatch("model", config.items)));
                }
                Some(ModelExport {
                    config,
                    tensors,
                    tokenizer_json,
                })
            }
            (true, false) => return Err(ExportError::Missing(tag_name(&tags::TOKENIZER))),
            (false, true) => return Err(ExportError::Missing(tag_name(&tags::MODEL))),
        };
        let optional = Optional {
            bytes,
            entries: &entries,
            items: n,
        };
        let ease = optional.binary(
            tags::EASE,
            "table",
            |p| sections::decode_ease(p, version),
            SparseEase::items,
        )?;
        let BlendSection {
            blend,
            without_history: blend_without_history,
        } = optional.json(tags::BLEND, BlendSection::validate)?;
        let acceptance: Acceptance = optional.json(tags::PRICING, Acceptance::validate)?;
        for (b, which) in std::iter::once((&blend, "")).chain(
            blend_without_history
                .as_ref()
                .map(|b| (b, "withoutHistory ")),
        ) {
            if b.model != 0.0 && model.is_none() {
                return Err(malformed(tags::BLEND)(format!(
                    "{which}weighs a basket model the export does not have"
                )));
            }
            if b.ease != 0.0 && ease.is_none() {
                return Err(malformed(tags::BLEND)(format!(
                    "{which}weighs sparse EASE weights the export does not have"
                )));
            }
        }
        // decode_links checks its count itself (two tables of one entry per item).
        let links = optional
            .binary(
                tags::LINKS,
                "links",
                |p| sections::decode_links(p, n),
                |_| n,
            )?
            .unwrap_or_default();
        let rebuy = optional
            .binary(tags::REBUY, "index", sections::decode_rebuy, |r| {
                r.factors.len()
            })?
            .unwrap_or_default();
        let pq = optional.binary(tags::PQ, "table", sections::decode_pq, PqRows::rows)?;
        if let Some(pq) = &pq {
            match &model {
                Some(m) if m.config.dim == pq.codebook.dim => {}
                Some(m) => {
                    return Err(malformed(tags::PQ)(format!(
                        "codes of {} dimensions for a model of {}",
                        pq.codebook.dim, m.config.dim
                    )))
                }
                None => {
                    return Err(malformed(tags::PQ)(
                        "item codes without the model they rank for".into(),
                    ))
                }
            }
        }
        let pq = pq.map(Arc::new);
        Ok(Self {
            version,
            meta,
            catalog,
            assoc,
            itemsets,
            seasonal,
            rebuy,
            rules,
            model,
            ease,
            blend,
            blend_without_history,
            acceptance,
            links,
            pq,
        })
    }

    /// Encodes the export in the current format version.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut parts = vec![
            (tags::META, 0, sections::encode_json(&self.meta)),
            (
                tags::CATALOG,
                FLAG_REQUIRED,
                sections::encode_catalog(&self.catalog),
            ),
            (
                tags::ASSOC,
                FLAG_REQUIRED,
                sections::encode_assoc(&self.assoc),
            ),
            (tags::ITEMSETS, 0, sections::encode_itemsets(&self.itemsets)),
            (tags::SEASONAL, 0, sections::encode_seasonal(&self.seasonal)),
            (
                tags::RULES,
                FLAG_REQUIRED,
                sections::encode_json(&self.rules),
            ),
        ];
        if let Some(m) = &self.model {
            parts.push((
                tags::MODEL,
                0,
                sections::encode_model(&m.config, &m.tensors),
            ));
            parts.push((tags::TOKENIZER, 0, m.tokenizer_json.as_bytes().to_vec()));
        }
        if let Some(e) = &self.ease {
            // Required: a reader that skipped it would rank without weights the blend counts on.
            parts.push((tags::EASE, FLAG_REQUIRED, sections::encode_ease(e)));
        }
        if self.blend != Blend::default() || self.blend_without_history.is_some() {
            let section = BlendSection {
                blend: self.blend,
                without_history: self.blend_without_history,
            };
            parts.push((tags::BLEND, 0, sections::encode_json(&section)));
        }
        if self.acceptance != Acceptance::default() {
            parts.push((tags::PRICING, 0, sections::encode_json(&self.acceptance)));
        }
        if !self.rebuy.factors.is_empty() {
            // Optional: a reader that skips it weighs every rebuy as the shop's average one.
            parts.push((tags::REBUY, 0, sections::encode_rebuy(&self.rebuy)));
        }
        if !self.links.is_empty() {
            parts.push((tags::LINKS, 0, sections::encode_links(&self.links)));
        }
        if let Some(pq) = &self.pq {
            // Required: a reader that skipped it would rank the catalog with other scores.
            parts.push((tags::PQ, FLAG_REQUIRED, sections::encode_pq(pq)));
        }
        let parts: Vec<_> = parts
            .into_iter()
            .map(|(tag, flags, raw)| deflate_if_smaller(tag, flags, raw))
            .collect();
        write_sections(&parts)
    }
}
