//! Authenticity: an Ed25519 signature over the whole export, so a page that pins the shop's
//! public key refuses a file swapped or altered on a CDN or in a cache (CRC-32 catches
//! accidents, not tampering). A shop that retrains nightly signs each export with the same key.
//!
//! The `SIGN` section (optional, last) holds the signer's public key and the signature over
//! the export without that section: the same header, table and payloads laid out by
//! [`write_sections_as`] with the file's own version.

use super::{read_sections, tags, write_sections_as, ExportError};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// Bytes of a `SIGN` payload: public key then signature.
pub const SIGN_LEN: usize = 32 + 64;

/// Why a signed export could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("public key must be 64 hex digits (32 bytes): {0}")]
    BadKey(String),
    #[error("export is not signed, but a public key was given: refusing it")]
    Unsigned,
    #[error("export is signed by key {found}, not by the pinned key {pinned}")]
    OtherKey { found: String, pinned: String },
    #[error("export signature does not verify: the file was altered after signing")]
    Invalid,
    #[error("export SIGN section: {0}")]
    Malformed(String),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// A public key from its 64 hex digits.
pub fn parse_public_key(hex: &str) -> Result<VerifyingKey, SignatureError> {
    let bytes = from_hex(hex.trim()).ok_or_else(|| SignatureError::BadKey(hex.to_string()))?;
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| SignatureError::BadKey(hex.to_string()))?;
    VerifyingKey::from_bytes(&array).map_err(|e| SignatureError::BadKey(format!("{hex}: {e}")))
}

/// Lower-case hex of bytes (keys are written and pinned this way).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The export's bytes as they were signed (without the `SIGN` section) and its `SIGN` payload,
/// if it has one.
fn split(bytes: &[u8]) -> Result<(Vec<u8>, Option<[u8; SIGN_LEN]>), SignatureError> {
    let entries = read_sections(bytes)?;
    let mut parts = Vec::with_capacity(entries.len());
    let mut sign = None;
    for (k, e) in entries.iter().enumerate() {
        let stored = &bytes[e.offset as usize..(e.offset + e.length) as usize];
        if e.tag == tags::SIGN {
            if k + 1 != entries.len() || sign.is_some() {
                return Err(SignatureError::Malformed(
                    "must be the one last section".into(),
                ));
            }
            let payload: [u8; SIGN_LEN] = stored.try_into().map_err(|_| {
                SignatureError::Malformed(format!("{} bytes, expected {SIGN_LEN}", stored.len()))
            })?;
            sign = Some(payload);
        } else {
            parts.push((e.tag, e.flags, stored.to_vec()));
        }
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("header checked"));
    Ok((write_sections_as(version, &parts), sign))
}

/// Checks that an export is signed by `key`: its `SIGN` section names that key and the
/// signature verifies over the rest of the file.
pub fn verify(bytes: &[u8], key: &VerifyingKey) -> Result<(), SignatureError> {
    let (signed, sign) = split(bytes)?;
    let sign = sign.ok_or(SignatureError::Unsigned)?;
    let (found, signature) = sign.split_at(32);
    if found != key.as_bytes() {
        return Err(SignatureError::OtherKey {
            found: to_hex(found),
            pinned: to_hex(key.as_bytes()),
        });
    }
    let signature =
        Signature::from_slice(signature).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    key.verify(&signed, &signature)
        .map_err(|_| SignatureError::Invalid)
}

/// The public key an export says it is signed by (unchecked: only a pinned key proves it).
pub fn signer(bytes: &[u8]) -> Result<Option<String>, SignatureError> {
    Ok(split(bytes)?.1.map(|s| to_hex(&s[..32])))
}

/// Signs an unsigned export: the same file with a `SIGN` section appended.
pub fn sign(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>, SignatureError> {
    let (signed, existing) = split(bytes)?;
    if existing.is_some() {
        return Err(SignatureError::Malformed(
            "the export is already signed".into(),
        ));
    }
    let signature = key.sign(&signed);
    let mut payload = key.verifying_key().as_bytes().to_vec();
    payload.extend_from_slice(&signature.to_bytes());
    let mut parts: Vec<_> = read_sections(&signed)?
        .iter()
        .map(|e| {
            let stored = &signed[e.offset as usize..(e.offset + e.length) as usize];
            (e.tag, e.flags, stored.to_vec())
        })
        .collect();
    parts.push((tags::SIGN, 0, payload));
    let version = u32::from_le_bytes(signed[8..12].try_into().expect("header checked"));
    Ok(write_sections_as(version, &parts))
}
