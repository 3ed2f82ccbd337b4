//! The export file (`.cwm`): one versioned, checksummed container of sections, written natively
//! and read by both builds. The byte layout is specified in `model-export/FORMAT.md`.
//!
//! The container and the [`Export`] it decodes to live here, the byte codec in [`codec`], each
//! section's encoding in [`sections`]. It depends on the layers it stores (catalog, rules,
//! association, EASE, seasonal, blend, pricing's acceptance curve, the model's stored form) and on
//! nothing above them: reading an export never needs suggest or training.

mod codec;
mod container;
pub mod sections;
pub mod signature;

use self::codec::DecodeError;
pub use self::container::*;
use self::container::{read_u32, store};
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
        let assoc = sections::decode_assoc(&payload(tags::ASSOC)?, version, catalog.len())
            .map_err(malformed(tags::ASSOC))?;
        let itemsets = sections::decode_itemsets(&payload(tags::ITEMSETS)?)
            .map_err(malformed(tags::ITEMSETS))?;
        let seasonal = sections::decode_seasonal(&payload(tags::SEASONAL)?, version, catalog.len())
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
            .binary(
                tags::REBUY,
                "index",
                |p| sections::decode_rebuy(p, version, n),
                |r| r.factors.len(),
            )?
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

    /// Encodes the export and reads it back with the reader every engine uses, so a writer
    /// never saves a file an engine refuses or reads as something else; the error names the
    /// section. Returns the bytes and what was read from them (for the writer's own engine).
    pub fn to_checked_bytes(&self) -> Result<(Vec<u8>, Export), ExportError> {
        let bytes = self.to_bytes();
        let read = Self::from_bytes(&bytes)?;
        let sections = [
            (tags::META, read.meta == self.meta),
            (tags::CATALOG, read.catalog == self.catalog),
            (tags::ASSOC, read.assoc == self.assoc),
            (tags::ITEMSETS, read.itemsets == self.itemsets),
            (tags::SEASONAL, read.seasonal == self.seasonal),
            (tags::REBUY, read.rebuy == self.rebuy),
            (tags::RULES, read.rules == self.rules),
            (tags::MODEL, read.model == self.model),
            (tags::EASE, read.ease == self.ease),
            (
                tags::BLEND,
                read.blend == self.blend
                    && read.blend_without_history == self.blend_without_history,
            ),
            (tags::PRICING, read.acceptance == self.acceptance),
            (tags::LINKS, read.links == self.links),
            (tags::PQ, read.pq == self.pq),
        ];
        match sections.iter().find(|(_, same)| !same) {
            Some((tag, _)) => Err(malformed_in(*tag)(
                "reads back other than it was written (a writer bug)".into(),
            )),
            None => Ok((bytes, read)),
        }
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
            .map(|(tag, flags, raw)| store(tag, flags, raw))
            .collect();
        write_sections(&parts)
    }
}
