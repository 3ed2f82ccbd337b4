//! The container: header, section table, checksums, alignment and DEFLATE, independent of what
//! the sections hold. The writer only lays out what the reader accepts (see [`store`]).

use serde::Serialize;
use std::borrow::Cow;

/// First eight bytes of every export.
pub const MAGIC: [u8; 8] = *b"CARTWISE";
/// The format version this build writes and the newest it reads.
pub const VERSION: u32 = 10;
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

pub(super) fn read_u32(b: &[u8], at: usize) -> u32 {
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
        if !within_ratio(raw, entry.length) {
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

/// Whether a section of `raw` bytes stored in `stored` bytes is within the bomb rule: at most
/// [`MAX_RATIO`] times its stored size, or small enough not to matter ([`RATIO_FREE`]).
fn within_ratio(raw: u64, stored: u64) -> bool {
    raw <= RATIO_FREE || raw / MAX_RATIO <= stored
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

/// How a writer stores a section: DEFLATE-compressed when that saves at least [`MIN_SAVING`]
/// of its bytes and stays within the ratio [`check_inflation`] allows, else as it is. So the
/// writer never produces a section the reader refuses as a bomb, whatever the data.
pub(super) fn store(tag: Tag, flags: u32, raw: Vec<u8>) -> (Tag, u32, Vec<u8>) {
    let stream = miniz_oxide::deflate::compress_to_vec(&raw, 9);
    let stored = (stream.len() + 8) as u64;
    let worth_it = stored as f64 <= raw.len() as f64 * (1.0 - MIN_SAVING);
    if !worth_it || !within_ratio(raw.len() as u64, stored) {
        return (tag, flags, raw);
    }
    let mut packed = (raw.len() as u64).to_le_bytes().to_vec();
    packed.extend_from_slice(&stream);
    (tag, flags | FLAG_DEFLATE, packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's side of the bomb rule: whatever the bytes, what `store` lays out is what
    /// the reader accepts, compressed where that keeps within the ratio.
    #[test]
    fn store_never_lays_out_a_section_the_reader_refuses_as_a_bomb() {
        let zeros = vec![0u8; 1 << 20]; // deflates ~1,000:1
        let mut state = 0x2545_f491_u32;
        let text: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                b"abcdefghij"[state as usize % 10]
            })
            .collect(); // ten letters at random: deflates under 2:1
        let small = vec![7u8; 1000]; // under the size the ratio applies to
        let parts: Vec<_> = [zeros.clone(), text.clone(), small.clone()]
            .into_iter()
            .map(|raw| store(*b"TEST", 0, raw))
            .collect();
        let flags: Vec<bool> = parts.iter().map(|p| p.1 & FLAG_DEFLATE != 0).collect();
        assert_eq!(flags, [false, true, true], "zeros stored as they are");
        let file = write_sections(&parts);
        let entries = read_sections(&file).expect("the reader accepts every section");
        for (entry, raw) in entries.iter().zip([zeros, text, small]) {
            assert_eq!(
                section_payload(&file, entry).unwrap().as_ref(),
                raw.as_slice()
            );
        }
    }
}
