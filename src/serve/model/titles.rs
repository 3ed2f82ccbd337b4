//! Title tokens: a WordPiece tokenizer built from the catalog's titles, and each item's token ids.

use tokenizers::Tokenizer;

/// Unknown-token string of the title tokenizer.
pub const UNK: &str = "[UNK]";

/// A tokenizer step that failed, with what it was doing (e.g. `tokenizing "Blue Mug"`).
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct TitleError {
    pub context: String,
    #[source]
    pub source: tokenizers::Error,
}

impl TitleError {
    /// Wraps a tokenizers error with what was being done.
    pub fn new(context: impl Into<String>) -> impl FnOnce(tokenizers::Error) -> Self {
        let context = context.into();
        move |source| Self { context, source }
    }
}

/// Loads a tokenizer from its JSON (as stored in the export), after checking that it is JSON and
/// holds only the components `train` writes ([`check_components`]).
pub fn tokenizer_from_json(json: &str) -> Result<Tokenizer, TitleError> {
    let refused = |e: String| TitleError::new("tokenizer JSON")(e.into());
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| refused(format!("not JSON: {e}")))?;
    check_components(&value).map_err(refused)?;
    serde_json::from_value(value).map_err(|e| refused(e.to_string()))
}

/// The export is a public file, and some of tokenizers' deserializers panic on malformed input
/// rather than fail (a syntax error inside `decoder` meets an `expect`; a bad `Precompiled`
/// normalizer too), which in the browser traps the engine. So a title tokenizer is read (from
/// the JSON parsed once) only when its parts are those `train` writes: a WordPiece model, the BERT
/// normalizer and pre-tokenizer or none, no post-processor, decoder, truncation or padding.
pub fn check_components(value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let object = value.as_object().ok_or("not a JSON object")?;
    let kind = |key: &str| match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(part) => match part.get("type").and_then(Value::as_str) {
            Some(kind) => Ok(Some(kind)),
            None => Err(format!("{key} names no type")),
        },
    };
    let allowed: [(&str, &[Option<&str>]); 5] = [
        ("model", &[Some("WordPiece")]),
        ("normalizer", &[None, Some("BertNormalizer")]),
        ("pre_tokenizer", &[None, Some("BertPreTokenizer")]),
        ("post_processor", &[None]),
        ("decoder", &[None]),
    ];
    for (key, kinds) in allowed {
        let found = kind(key)?;
        if !kinds.contains(&found) {
            return Err(format!(
                "{key} {} is not one this reader accepts",
                found.map_or("(none)".to_string(), |k| format!("{k:?}"))
            ));
        }
    }
    for key in ["truncation", "padding"] {
        if object.get(key).is_some_and(|v| !v.is_null()) {
            return Err(format!("{key} is set; this reader accepts none"));
        }
    }
    match object.get("added_tokens") {
        None | Some(Value::Array(_)) => Ok(()),
        Some(_) => Err("added_tokens is not a list".into()),
    }
}

/// Token ids of every title as flat arrays: `(token ids, owning item)`; titles with no token
/// contribute nothing (the item then has only its id vector).
pub fn title_tokens(
    tokenizer: &Tokenizer,
    titles: &[&str],
) -> Result<(Vec<u32>, Vec<u32>), TitleError> {
    let mut ids = Vec::new();
    let mut owner = Vec::new();
    for (item, title) in titles.iter().enumerate() {
        let enc = tokenizer
            .encode(*title, false)
            .map_err(TitleError::new(format!("tokenizing {title:?}")))?;
        for &t in enc.get_ids() {
            ids.push(t);
            owner.push(item as u32);
        }
    }
    Ok((ids, owner))
}
